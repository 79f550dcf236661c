//! Kazakhstan's individual (ИИН/IIN) and business (БИН/BIN) identification numbers.
//!
//! Both are 12 ASCII digits whose last digit is a check digit. Algorithm (from the IIN/BIN
//! programme of Decree of the Government of RK No. 565 of 11 June 2003; summary and sources at
//! <https://yvision.kz/post/114938>): `a = Σ d_i·w_i mod 11` over the first 11 digits with
//! weights 1..=11; if `a == 10`, redo it with weights 3,4,...,11,1,2; if that is again 10 the
//! 11 digits have no valid check digit (such numbers are not issued). Weight 11 is 0 mod 11,
//! so a typo in the 11th digit is caught only when the second weighting is in play.
//!
//! Parsing ([`Iin::parse`], [`Bin::parse`]) only checks the shape, on purpose: the NCA RK test
//! certificates carry numbers such as `123456789011` whose check digit is wrong, and we must be
//! able to represent and report them. [`Iin::parse_strict`] / [`Bin::parse_strict`] also check
//! the check digit and the structure.

use std::fmt;
use std::str::FromStr;

/// Longest piece of user input echoed back in an error message.
const ECHO_LIMIT: usize = 32;

/// Which of the two numbers an error or a guess is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKind {
    /// Individual identification number (ИИН).
    Iin,
    /// Business identification number (БИН).
    Bin,
}

impl fmt::Display for NumberKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberKind::Iin => "IIN",
            NumberKind::Bin => "BIN",
        })
    }
}

/// Why an IIN or BIN was rejected. Messages are meant to be shown to end users.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum IdentityError {
    /// Not exactly 12 ASCII digits; `reason` says what was wrong (input echoed truncated).
    #[error("{kind} {reason}")]
    Malformed { kind: NumberKind, reason: String },
    /// 12 digits, but the check digit is wrong or no valid check digit exists for them.
    #[error("{kind} {number} {}", check_digit_problem(.number))]
    CheckDigit { kind: NumberKind, number: String },
    /// Right check digit, impossible content (e.g. birth date, BIN month or type digit).
    /// `number` is empty when no number exists yet (a failed `generate`).
    #[error("{}", structure_message(*.kind, .number, .reason))]
    Structure {
        kind: NumberKind,
        number: String,
        reason: String,
    },
}

/// Tail of the `CheckDigit` message: the expected digit when there is one.
fn check_digit_problem(number: &str) -> String {
    let all_digits = number.len() == 12 && number.bytes().all(|b| b.is_ascii_digit());
    match (all_digits, check_digit(&first11(&digits_of(number)))) {
        (true, Some(c)) => format!("has a wrong check digit (expected {c})"),
        (true, None) => "is invalid: no valid check digit exists for its first 11 digits".into(),
        (false, _) => "has a wrong check digit".into(),
    }
}

fn structure_message(kind: NumberKind, number: &str, reason: &str) -> String {
    if number.is_empty() {
        format!("{kind}: {reason}")
    } else {
        format!("{kind} {number}: {reason}")
    }
}

/// Sex of a person, from the 7th digit of the IIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// Kind of entity, from the 5th digit of the BIN (the discriminant is that digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinEntityType {
    /// Resident legal entity.
    LegalEntity = 4,
    /// Non-resident legal entity.
    NonResident = 5,
    /// Individual entrepreneur in joint venture (ИП совместного предпринимательства).
    JointEntrepreneur = 6,
}

/// Kind of unit, from the 6th digit of the BIN (the discriminant is that digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinUnit {
    /// Head organisation.
    Head = 0,
    Branch = 1,
    /// Representative office.
    Representative = 2,
    /// Peasant (farm) household.
    PeasantFarm = 3,
}

/// Compute the check digit of the first 11 digits (each 0..=9); `None` when no valid check
/// digit exists (both weightings give 10). Values above 9 are not digits and also give `None`.
pub fn check_digit(first11: &[u8; 11]) -> Option<u8> {
    if first11.iter().any(|&d| d > 9) {
        return None;
    }
    let weighted = |offset: u32| -> u32 {
        let sum: u32 = (0u32..)
            .zip(first11)
            .map(|(i, &d)| u32::from(d) * ((i + offset) % 11 + 1))
            .sum();
        sum % 11
    };
    [weighted(0), weighted(2)]
        .into_iter()
        .find(|&a| a != 10)
        .and_then(|a| u8::try_from(a).ok())
}

/// Checks that `s` is exactly 12 ASCII digits. No trimming: a stray space usually means the
/// value came from the wrong place, and silently fixing it would hide that.
fn check_shape(kind: NumberKind, s: &str) -> Result<(), IdentityError> {
    let malformed = |reason: String| Err(IdentityError::Malformed { kind, reason });
    if let Some((pos, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        // Name the code point: Cyrillic "З"/"О" or full-width digits look like 3/0.
        let (code, pos, text) = (u32::from(c), pos + 1, echo(s));
        return malformed(format!(
            "must contain only digits 0-9, found {c:?} (U+{code:04X}) at position {pos} in {text}"
        ));
    }
    // All ASCII from here on, so bytes are characters.
    match s.len() {
        12 => Ok(()),
        0 => malformed("must be exactly 12 digits, got an empty string".into()),
        1 => malformed(format!(
            "must be exactly 12 digits, got 1 character: {}",
            echo(s)
        )),
        n => malformed(format!(
            "must be exactly 12 digits, got {n} characters: {}",
            echo(s)
        )),
    }
}

/// Quotes user input for an error message, cut to [`ECHO_LIMIT`] characters.
fn echo(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(ECHO_LIMIT).collect();
    let more = if chars.next().is_some() { "…" } else { "" };
    format!("{head:?}{more}")
}

/// Digit values of the first 12 bytes; non-digits become values above 9, never a panic.
fn digits_of(s: &str) -> [u8; 12] {
    let mut out = [0u8; 12];
    for (slot, b) in out.iter_mut().zip(s.bytes()) {
        *slot = b.wrapping_sub(b'0');
    }
    out
}

fn first11(d: &[u8; 12]) -> [u8; 11] {
    let mut out = [0u8; 11];
    out.copy_from_slice(&d[..11]);
    out
}

fn two(d: &[u8; 12], i: usize) -> u8 {
    d[i].wrapping_mul(10).wrapping_add(d[i + 1])
}

/// The 12 digits for `prefix` + the smallest serial in `from..=max` (`width` digits) whose 11
/// digits have a check digit; about 1 in 121 prefixes has none, so a few serials may be skipped.
fn with_serial(
    kind: NumberKind,
    prefix: &str,
    width: usize,
    from: u32,
    max: u32,
) -> Result<String, IdentityError> {
    (from..=max)
        .find_map(|serial| {
            let digits = format!("{prefix}{serial:0width$}");
            check_digit(&first11(&digits_of(&digits))).map(|c| format!("{digits}{c}"))
        })
        .ok_or_else(|| {
            cannot_generate(
                kind,
                format!("no serial from {from} to {max} has a valid check digit"),
            )
        })
}

fn cannot_generate(kind: NumberKind, reason: String) -> IdentityError {
    IdentityError::Structure {
        kind,
        number: String::new(),
        reason: format!("cannot generate: {reason}"),
    }
}

/// Why (year, month, day) is not a real date, if it is not.
fn date_problem(year: i32, month: u8, day: u8) -> Option<String> {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Some(format!("birth month {month:02} is not 01-12")),
    };
    (day == 0 || day > days)
        .then(|| format!("birth date {year:04}-{month:02}-{day:02} is not a real calendar date"))
}

/// What `Iin` and `Bin` share: parsing, the check digit, validation order, Display/FromStr.
macro_rules! common_impl {
    ($ty:ident, $kind:expr) => {
        impl $ty {
            /// Exactly 12 ASCII digits (no trimming), else `Malformed`. Checks neither the check
            /// digit nor the structure, so NCA RK test certificates' numbers can be represented.
            pub fn parse(s: &str) -> Result<$ty, IdentityError> {
                check_shape($kind, s).map(|()| $ty(s.to_string()))
            }

            /// `parse`, then `validate`.
            pub fn parse_strict(s: &str) -> Result<$ty, IdentityError> {
                let number = $ty::parse(s)?;
                number.validate()?;
                Ok(number)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn check_digit_valid(&self) -> bool {
                let d = digits_of(&self.0);
                check_digit(&first11(&d)) == Some(d[11])
            }

            /// Check digit first (a typo is the likelier fault), then the structure.
            pub fn validate(&self) -> Result<(), IdentityError> {
                let (kind, number) = ($kind, self.0.clone());
                if !self.check_digit_valid() {
                    return Err(IdentityError::CheckDigit { kind, number });
                }
                match self.structure_problem() {
                    None => Ok(()),
                    Some(reason) => Err(IdentityError::Structure {
                        kind,
                        number,
                        reason,
                    }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $ty {
            type Err = IdentityError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }
    };
}

/// Kazakhstan individual identification number (ИИН): always 12 ASCII digits, but the check
/// digit and structure are only guaranteed after `validate`/`parse_strict`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iin(String);

common_impl!(Iin, NumberKind::Iin);

impl Iin {
    fn structure_problem(&self) -> Option<String> {
        let d = digits_of(&self.0);
        match self.century_base() {
            None if d[6] == 0 => None, // some foreign citizens: century and sex unknown
            None => Some(format!("century/sex digit (7th) {} is not 0-6", d[6])),
            Some(base) => date_problem(base + i32::from(two(&d, 0)), two(&d, 2), two(&d, 4)),
        }
    }

    /// First year of the birth century from the 7th digit, when it is 1-6.
    fn century_base(&self) -> Option<i32> {
        match digits_of(&self.0)[6] {
            1 | 2 => Some(1800),
            3 | 4 => Some(1900),
            5 | 6 => Some(2000),
            _ => None,
        }
    }

    /// (year, month, day) of birth, if the century digit is 1-6 and the date is real.
    pub fn birth_date(&self) -> Option<(i32, u8, u8)> {
        let d = digits_of(&self.0);
        let year = self.century_base()? + i32::from(two(&d, 0));
        let (month, day) = (two(&d, 2), two(&d, 4));
        date_problem(year, month, day)
            .is_none()
            .then_some((year, month, day))
    }

    /// Sex from the 7th digit (odd = male, even = female), if it is 1-6.
    pub fn sex(&self) -> Option<Sex> {
        self.century_base()?;
        let male = digits_of(&self.0)[6] % 2 == 1;
        Some(if male { Sex::Male } else { Sex::Female })
    }

    /// Valid IIN for a person born on the given date: picks the century digit from the year and
    /// sex, and the smallest serial >= `serial` (0..=9999) that has a valid check digit. Error
    /// (`Structure`, empty `number`) if the date is not real or the year is outside
    /// 1800..=2099, or no serial works.
    pub fn generate(
        year: i32,
        month: u8,
        day: u8,
        sex: Sex,
        serial: u16,
    ) -> Result<Iin, IdentityError> {
        let fail = |reason| Err(cannot_generate(NumberKind::Iin, reason));
        let century = match year {
            1800..=1899 => 1,
            1900..=1999 => 3,
            2000..=2099 => 5,
            _ => return fail(format!("birth year {year} is outside 1800-2099")),
        } + u8::from(sex == Sex::Female);
        if let Some(reason) = date_problem(year, month, day) {
            return fail(reason);
        }
        if serial > 9999 {
            return fail(format!("serial {serial} is not 0-9999"));
        }
        let prefix = format!("{:02}{month:02}{day:02}{century}", year.rem_euclid(100));
        with_serial(NumberKind::Iin, &prefix, 4, u32::from(serial), 9999).map(Iin)
    }

    /// From a certificate subject serialNumber attribute, e.g. `"IIN123456789011"`: exactly the
    /// prefix `IIN` and 12 digits, else `None`. Not strict, so NCA test certificates work.
    pub fn from_subject_serial(value: &str) -> Option<Iin> {
        value.strip_prefix("IIN").and_then(|s| Iin::parse(s).ok())
    }

    /// `"IIN"` + the digits, as NCA RK writes the subject serialNumber.
    pub fn to_subject_serial(&self) -> String {
        format!("IIN{}", self.0)
    }
}

/// Kazakhstan business identification number (БИН): always 12 ASCII digits, but the check
/// digit and structure are only guaranteed after `validate`/`parse_strict`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bin(String);

common_impl!(Bin, NumberKind::Bin);

impl Bin {
    fn structure_problem(&self) -> Option<String> {
        let d = digits_of(&self.0);
        if self.registration().is_none() {
            Some(format!("registration month {:02} is not 01-12", two(&d, 2)))
        } else if self.entity_type().is_none() {
            Some(format!("entity type digit (5th) {} is not 4, 5 or 6", d[4]))
        } else if self.unit().is_none() {
            Some(format!("unit digit (6th) {} is not 0-3", d[5]))
        } else {
            None
        }
    }

    /// (yy, mm) of registration, if the month is 01-12.
    pub fn registration(&self) -> Option<(u8, u8)> {
        let d = digits_of(&self.0);
        let month = two(&d, 2);
        (1..=12).contains(&month).then_some((two(&d, 0), month))
    }

    pub fn entity_type(&self) -> Option<BinEntityType> {
        match digits_of(&self.0)[4] {
            4 => Some(BinEntityType::LegalEntity),
            5 => Some(BinEntityType::NonResident),
            6 => Some(BinEntityType::JointEntrepreneur),
            _ => None,
        }
    }

    pub fn unit(&self) -> Option<BinUnit> {
        match digits_of(&self.0)[5] {
            0 => Some(BinUnit::Head),
            1 => Some(BinUnit::Branch),
            2 => Some(BinUnit::Representative),
            3 => Some(BinUnit::PeasantFarm),
            _ => None,
        }
    }

    /// Valid BIN: registered YY/MM, entity type and unit, smallest serial >= `serial`
    /// (0..=99999) with a valid check digit. Error (`Structure`, empty `number`) if `year2` is
    /// over 99, the month not 1-12, the serial over 99999, or no serial works.
    pub fn generate(
        year2: u8,
        month: u8,
        entity: BinEntityType,
        unit: BinUnit,
        serial: u32,
    ) -> Result<Bin, IdentityError> {
        let fail = |reason| Err(cannot_generate(NumberKind::Bin, reason));
        if year2 > 99 {
            return fail(format!("registration year {year2} is not 00-99"));
        }
        if !(1..=12).contains(&month) {
            return fail(format!("registration month {month} is not 01-12"));
        }
        if serial > 99_999 {
            return fail(format!("serial {serial} is not 0-99999"));
        }
        let (e, u) = (entity as u8, unit as u8);
        let prefix = format!("{year2:02}{month:02}{e}{u}");
        with_serial(NumberKind::Bin, &prefix, 5, serial, 99_999).map(Bin)
    }

    /// From a certificate subject OU attribute, e.g. `"BIN123456789021"`: exactly the prefix
    /// `BIN` and 12 digits, else `None`. Not strict, so NCA test certificates work.
    pub fn from_subject_ou(value: &str) -> Option<Bin> {
        value.strip_prefix("BIN").and_then(|s| Bin::parse(s).ok())
    }

    /// `"BIN"` + the digits, as NCA RK writes the subject OU.
    pub fn to_subject_ou(&self) -> String {
        format!("BIN{}", self.0)
    }
}

/// Guess which kind a 12-digit number is by structure: 5th digit 4/5/6 with a valid month in
/// digits 3-4 => `Bin`, else `Iin` (in an IIN the 5th digit starts the day, so it is 0-3).
/// Input that is not 12 digits gives `Malformed`, reported with kind `Iin`.
pub fn classify(s: &str) -> Result<NumberKind, IdentityError> {
    check_shape(NumberKind::Iin, s)?;
    let d = digits_of(s);
    let bin_like = (4..=6).contains(&d[4]) && (1..=12).contains(&two(&d, 2));
    Ok(if bin_like {
        NumberKind::Bin
    } else {
        NumberKind::Iin
    })
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
