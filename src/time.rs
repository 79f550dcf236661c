//! Unix seconds to the RFC 3339 form used in JSON and listings.

/// `2026-11-23T05:26:00Z`; times outside X.509's range print as the raw number.
pub fn rfc3339(unix: i64) -> String {
    // Written digit by digit: a verification report prints half a dozen times, and going
    // through der's `DateTime` and `fmt` cost a microsecond each (issue 16).
    if !(0..=LAST_X509_SECOND).contains(&unix) {
        return unix.to_string();
    }
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let second_of_day = unix.rem_euclid(86_400);
    let mut out = String::with_capacity(20);
    let mut push = |n: i64, digits: u32, then: Option<char>| {
        for place in (0..digits).rev() {
            let digit = n / 10_i64.pow(place) % 10;
            out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
        out.extend(then);
    };
    push(year, 4, Some('-'));
    push(month, 2, Some('-'));
    push(day, 2, Some('T'));
    push(second_of_day / 3600, 2, Some(':'));
    push(second_of_day / 60 % 60, 2, Some(':'));
    push(second_of_day % 60, 2, Some('Z'));
    out
}

/// 9999-12-31T23:59:59Z, the last second X.509 (and der's `DateTime`) can write.
const LAST_X509_SECOND: i64 = 253_402_300_799;

/// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since the epoch as i64 (saturating).
pub fn unix(since_epoch: &std::time::Duration) -> i64 {
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| unix(&d))
        .unwrap_or(0)
}

/// Parses an RFC 3339 time (`2021-06-01T12:00:00Z`, `…+05:00`, fractional seconds ignored) or a
/// date (`2021-06-01`, midnight UTC) into unix seconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not an RFC 3339 time such as 2021-06-01T12:00:00Z");
    let t = text.trim();
    // RFC 3339 is ASCII. Refusing anything else up front also keeps the byte offsets below
    // (split_at(10), split_at(8), z[3..4]) on char boundaries: a multi-byte character there made
    // them panic (found by fuzz/json_bodies: "at": "2026-11-23T08:00:w\u{1FA00}dP" in a
    // POST /v1/verify body; `issued_on` in a document payload reaches here too).
    if !t.is_ascii() {
        return Err(bad());
    }
    let (date, rest) = t.split_at(t.len().min(10));
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let (year, month, day) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    let (mut hour, mut minute, mut second, mut offset) = (0, 0, 0, 0i64);
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
        if rest.len() < 8 {
            return Err(bad());
        }
        let (clock, zone) = rest.split_at(8);
        let hms: Vec<&str> = clock.split(':').collect();
        if hms.len() != 3 {
            return Err(bad());
        }
        (hour, minute, second) = (num(hms[0])?, num(hms[1])?, num(hms[2])?);
        let zone = zone.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        offset = match zone {
            "Z" | "z" => 0,
            z if (z.starts_with('+') || z.starts_with('-')) && z.len() == 6 && &z[3..4] == ":" => {
                let sign = if z.starts_with('-') { -1 } else { 1 };
                sign * (i64::from(num(&z[1..3])?) * 3600 + i64::from(num(&z[4..6])?) * 60)
            }
            _ => return Err(bad()),
        };
    }
    let narrow = |v: u32| u8::try_from(v).map_err(|_| bad());
    let dt = der::DateTime::new(
        u16::try_from(year).map_err(|_| bad())?,
        narrow(month)?,
        narrow(day)?,
        narrow(hour)?,
        narrow(minute)?,
        narrow(second)?,
    )
    .map_err(|_| bad())?;
    Ok(unix(&dt.unix_duration()) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text der's `DateTime` writes, across its whole range and at its edges.
    #[test]
    fn rfc3339_prints_what_der_prints() {
        let der = |unix: i64| {
            u64::try_from(unix)
                .ok()
                .and_then(|s| {
                    der::DateTime::from_unix_duration(std::time::Duration::from_secs(s)).ok()
                })
                .map(|t| t.to_string())
                .unwrap_or_else(|| unix.to_string())
        };
        let edges = [
            i64::MIN,
            -86_400,
            -1,
            0,
            59,
            86_399,
            951_782_400,   // 2000-02-29
            4_107_542_400, // 2100-03-01
            LAST_X509_SECOND,
            LAST_X509_SECOND + 1,
            i64::MAX,
        ];
        let spread = (0..=LAST_X509_SECOND).step_by(7_777_777);
        for unix in edges.into_iter().chain(spread) {
            assert_eq!(rfc3339(unix), der(unix), "{unix}");
        }
        assert_eq!(rfc3339(1_622_505_600), "2021-06-01T00:00:00Z");
    }

    #[test]
    fn rfc3339_times_and_dates_parse_and_print_back() {
        assert_eq!(parse_rfc3339("2021-06-01T00:00:00Z"), Ok(1_622_505_600));
        assert_eq!(parse_rfc3339("2021-06-01"), Ok(1_622_505_600));
        assert_eq!(
            parse_rfc3339("2021-06-01T05:00:00+05:00"),
            Ok(1_622_505_600)
        );
        assert_eq!(parse_rfc3339("2021-06-01T00:00:00.250Z"), Ok(1_622_505_600));
        assert_eq!(rfc3339(1_622_505_600), "2021-06-01T00:00:00Z");
        for bad in [
            "",
            "yesterday",
            "2021-13-01",
            "2021-02-30T00:00:00Z",
            "2021-06-01T25:00:00Z",
            "2021-06-01T00:00:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_ascii_is_refused_not_a_panic() {
        // Regression (fuzz/json_bodies crash-82b58ede…): a multi-byte character across one of
        // the byte offsets the parser slices at panicked instead of giving an error.
        for bad in [
            "2026-11-23T08:00:w\u{1FA00}dP",
            "2021-06-0\u{451}T00:00:00Z",
            "\u{451}\u{451}\u{451}\u{451}\u{451}",
            "2021-06-01T00:00:00+0\u{451}00",
            "2021-06-01T00:00:0\u{451}Z",
            "\u{ff12}\u{ff10}21-06-01",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
        // Unicode whitespace around an ASCII time is still trimmed as before.
        assert_eq!(parse_rfc3339("\u{3000}2021-06-01\u{a0}"), Ok(1_622_505_600));
    }
}
