use super::*;

fn d11(s: &str) -> [u8; 11] {
    let mut out = [0u8; 11];
    assert_eq!(s.len(), 11);
    for (slot, b) in out.iter_mut().zip(s.bytes()) {
        *slot = b - b'0';
    }
    out
}

const REAL_BINS: [&str; 3] = ["940140000385", "950341000052", "070941024691"];
const NCA_TEST_IINS: [&str; 2] = ["123456789011", "123456789012"];
const NCA_TEST_BIN: &str = "123456789021";

#[test]
fn check_digit_of_real_bins() {
    // 9·1+4·2+0·3+1·4+4·5+0·6+0·7+0·8+0·9+3·10+8·11 = 159 ≡ 5 (mod 11)
    assert_eq!(check_digit(&d11("94014000038")), Some(5));
    // 9+10+0+12+20+6+0+0+0+0+55 = 112 ≡ 2
    assert_eq!(check_digit(&d11("95034100005")), Some(2));
    // 0+14+0+36+20+6+0+16+36+60+99 = 287 ≡ 1
    assert_eq!(check_digit(&d11("07094102469")), Some(1));
}

#[test]
fn check_digit_second_weighting() {
    // 1..11 weights: 296 ≡ 10; weights 3..11,1,2: 377 ≡ 3.
    assert_eq!(check_digit(&d11("12345678901")), Some(3));
    // first: 10·1 ≡ 10; second: 1·1 (weight of the 10th digit is 1).
    assert_eq!(check_digit(&d11("00000000010")), Some(1));
    // 1..11: 307 ≡ 10; second: 379 ≡ 5.
    assert_eq!(check_digit(&d11("12345678902")), Some(5));
}

#[test]
fn check_digit_none_exists() {
    // first: 2·9+8·10+1·11 = 109 ≡ 10; second: 2·11+8·1+1·2 = 32 ≡ 10.
    assert_eq!(check_digit(&d11("00000000281")), None);
    assert_eq!(check_digit(&[0; 11]), Some(0));
    // Not digits: no check digit rather than garbage or a panic.
    assert_eq!(check_digit(&[255; 11]), None);
    assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10]), None);
}

#[test]
fn no_check_digit_number_reports_it() {
    let bin = Bin::parse("000000002810").unwrap();
    assert!(!bin.check_digit_valid());
    let err = bin.validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "BIN 000000002810 is invalid: no valid check digit exists for its first 11 digits"
    );
}

#[test]
fn real_bins_are_valid() {
    for s in REAL_BINS {
        let bin = Bin::parse_strict(s).unwrap();
        assert!(bin.check_digit_valid());
        assert_eq!(bin.as_str(), s);
        assert_eq!(bin.to_string(), s);
        assert_eq!(s.parse::<Bin>().unwrap(), bin);
        assert_eq!(classify(s).unwrap(), NumberKind::Bin);
    }
    let b = Bin::parse("070941024691").unwrap();
    assert_eq!(b.registration(), Some((7, 9)));
    assert_eq!(b.entity_type(), Some(BinEntityType::LegalEntity));
    assert_eq!(b.unit(), Some(BinUnit::Branch));
    let b = Bin::parse("940140000385").unwrap();
    assert_eq!(b.registration(), Some((94, 1)));
    assert_eq!(b.unit(), Some(BinUnit::Head));
}

#[test]
fn parse_errors() {
    let reason = |r: Result<Iin, IdentityError>| match r {
        Err(IdentityError::Malformed {
            kind: NumberKind::Iin,
            reason,
        }) => reason,
        other => panic!("expected Malformed, got {other:?}"),
    };
    let cases = [
        "12345678901",
        "1234567890123",
        "12345678901a",
        "ABCDEFGHIJKL",
        " 123456789011",
        "123456789011 ",
        "1234 5678901",
        "12345678901З",             // Cyrillic Ze, looks like 3
        "12345678901О",             // Cyrillic O, looks like 0
        "١٢٣٤٥٦٧٨٩٠١٢",             // Arabic-Indic digits
        "１２３４５６７８９０１２", // full-width digits
        "",
        "-12345678901",
        "+123456789011",
        "12345678901\u{0}",
    ];
    for s in cases {
        reason(Iin::parse(s));
        assert!(Bin::parse(s).is_err());
        assert!(classify(s).is_err());
        assert!(s.parse::<Iin>().is_err());
    }
    assert_eq!(
        Iin::parse("12345678901").unwrap_err().to_string(),
        "IIN must be exactly 12 digits, got 11 characters: \"12345678901\""
    );
    assert_eq!(
        Bin::parse("").unwrap_err().to_string(),
        "BIN must be exactly 12 digits, got an empty string"
    );
    assert_eq!(
        reason(Iin::parse("12345678901З")),
        "must contain only digits 0-9, found 'З' (U+0417) at position 12 in \"12345678901З\""
    );
    assert!(reason(Iin::parse("1234 5678901")).contains("' ' (U+0020) at position 5"));
}

#[test]
fn huge_input_is_truncated_in_messages() {
    let long = "1".repeat(10_000);
    let msg = Iin::parse(&long).unwrap_err().to_string();
    assert!(msg.contains("10000 characters"), "{msg}");
    assert!(msg.len() < 120, "{msg}");
    let long = format!("{}x", "ж".repeat(5_000));
    let msg = Bin::parse(&long).unwrap_err().to_string();
    assert!(msg.contains("position 1"), "{msg}");
    assert!(msg.chars().count() < 120, "{msg}");
}

#[test]
fn nca_test_numbers_parse_but_fail_check_digit() {
    for s in NCA_TEST_IINS {
        let iin = Iin::parse(s).unwrap();
        assert!(!iin.check_digit_valid());
        assert_eq!(
            iin.validate(),
            Err(IdentityError::CheckDigit {
                kind: NumberKind::Iin,
                number: s.to_string()
            })
        );
        assert!(matches!(
            Iin::parse_strict(s),
            Err(IdentityError::CheckDigit { .. })
        ));
        assert_eq!(Iin::from_subject_serial(&format!("IIN{s}")), Some(iin));
    }
    assert_eq!(
        Iin::parse("123456789011")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string(),
        "IIN 123456789011 has a wrong check digit (expected 3)"
    );
    let bin = Bin::parse(NCA_TEST_BIN).unwrap();
    assert!(!bin.check_digit_valid());
    assert_eq!(
        bin.validate().unwrap_err().to_string(),
        "BIN 123456789021 has a wrong check digit (expected 5)"
    );
    assert_eq!(Bin::from_subject_ou("BIN123456789021"), Some(bin));
    // Month 34 makes the NCA test BIN look like an IIN to `classify`.
    assert_eq!(classify(NCA_TEST_BIN).unwrap(), NumberKind::Iin);
}

#[test]
fn iin_generate_round_trips() {
    let cases = [
        (1800, 1, 1, Sex::Male, 1u8),
        (1899, 12, 31, Sex::Female, 2),
        (1900, 2, 28, Sex::Male, 3),
        (1985, 7, 15, Sex::Female, 4),
        (2000, 2, 29, Sex::Male, 5),
        (2024, 2, 29, Sex::Female, 6),
        (2099, 12, 31, Sex::Male, 5),
    ];
    for (year, month, day, sex, century) in cases {
        for serial in [0u16, 1, 777, 9999] {
            let Ok(iin) = Iin::generate(year, month, day, sex, serial) else {
                // Only the very last serial may legitimately have no check digit.
                assert_eq!(serial, 9999);
                continue;
            };
            let again = Iin::parse_strict(iin.as_str()).unwrap();
            assert_eq!(again, iin);
            assert_eq!(iin.birth_date(), Some((year, month, day)));
            assert_eq!(iin.sex(), Some(sex));
            assert_eq!(iin.as_str().as_bytes()[6] - b'0', century);
            let got: u16 = iin.as_str()[7..11].parse().unwrap();
            assert!(got >= serial);
            assert_eq!(classify(iin.as_str()).unwrap(), NumberKind::Iin);
            assert_eq!(
                Iin::from_subject_serial(&iin.to_subject_serial()),
                Some(iin)
            );
        }
    }
    // 1985-07-15, male, serial 0: prefix 8507153000x; check that serial skips are minimal.
    let iin = Iin::generate(1985, 7, 15, Sex::Male, 0).unwrap();
    let first: u16 = iin.as_str()[7..11].parse().unwrap();
    for s in 0..first {
        let p = format!("8507153{s:04}");
        assert_eq!(check_digit(&d11(&p)), None);
    }
}

#[test]
fn iin_generate_errors() {
    for (y, m, d) in [
        (1990, 2, 30),
        (1900, 2, 29),
        (2023, 2, 29),
        (1990, 13, 1),
        (1990, 0, 1),
        (1990, 4, 31),
        (1990, 1, 0),
    ] {
        assert!(matches!(
            Iin::generate(y, m, d, Sex::Male, 0),
            Err(IdentityError::Structure { .. })
        ));
    }
    let err = Iin::generate(1799, 12, 31, Sex::Male, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "IIN: cannot generate: birth year 1799 is outside 1800-2099"
    );
    assert!(Iin::generate(2100, 1, 1, Sex::Female, 0).is_err());
    assert!(Iin::generate(i32::MIN, 1, 1, Sex::Female, 0).is_err());
    assert!(Iin::generate(1990, 1, 1, Sex::Male, 10_000).is_err());
    assert!(Iin::generate(1990, 255, 255, Sex::Male, u16::MAX).is_err());
}

#[test]
fn iin_structure_errors() {
    let with_check = |p: &str| {
        let c = check_digit(&d11(p)).expect("test prefix must have a check digit");
        format!("{p}{c}")
    };
    // Feb 30, 1990, male.
    let s = with_check("90023030001");
    let err = Iin::parse_strict(&s).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("IIN {s}: birth date 1990-02-30 is not a real calendar date")
    );
    let iin = Iin::parse(&s).unwrap();
    assert!(iin.check_digit_valid());
    assert_eq!(iin.birth_date(), None);
    assert_eq!(iin.sex(), Some(Sex::Male));
    // Month 13.
    let s = with_check("90131530001");
    assert!(Iin::parse_strict(&s)
        .unwrap_err()
        .to_string()
        .contains("birth month 13 is not 01-12"));
    // 29 Feb: valid in 2000 (digit 5), invalid in 1900 (digit 3).
    assert!(Iin::parse_strict(&with_check("00022950001")).is_ok());
    assert!(Iin::parse_strict(&with_check("00022930001")).is_err());
    // Century digit 7, 8, 9.
    for c in 7..=9 {
        let s = with_check(&format!("900215{c}0001"));
        let err = Iin::parse_strict(&s).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("IIN {s}: century/sex digit (7th) {c} is not 0-6")
        );
        let iin = Iin::parse(&s).unwrap();
        assert_eq!((iin.birth_date(), iin.sex()), (None, None));
    }
    // Century digit 0: structurally fine, even with a nonsense date, but no birth date or sex.
    let iin = Iin::parse_strict(&with_check("99999900001")).unwrap();
    assert_eq!((iin.birth_date(), iin.sex()), (None, None));
}

#[test]
fn bin_generate_round_trips() {
    let entities = [
        BinEntityType::LegalEntity,
        BinEntityType::NonResident,
        BinEntityType::JointEntrepreneur,
    ];
    let units = [
        BinUnit::Head,
        BinUnit::Branch,
        BinUnit::Representative,
        BinUnit::PeasantFarm,
    ];
    for (i, (year2, month)) in [(0u8, 1u8), (7, 9), (94, 12), (99, 6)]
        .into_iter()
        .enumerate()
    {
        for entity in entities {
            for unit in units {
                let serial = [0, 385, 54_321, 99_990][i];
                let bin = Bin::generate(year2, month, entity, unit, serial).unwrap();
                assert_eq!(Bin::parse_strict(bin.as_str()).unwrap(), bin);
                assert_eq!(bin.registration(), Some((year2, month)));
                assert_eq!(bin.entity_type(), Some(entity));
                assert_eq!(bin.unit(), Some(unit));
                let got: u32 = bin.as_str()[6..11].parse().unwrap();
                assert!(got >= serial);
                assert_eq!(classify(bin.as_str()).unwrap(), NumberKind::Bin);
                assert_eq!(Bin::from_subject_ou(&bin.to_subject_ou()), Some(bin));
            }
        }
    }
    // Regenerates a real BIN from its own parts.
    let bin = Bin::generate(94, 1, BinEntityType::LegalEntity, BinUnit::Head, 38).unwrap();
    assert_eq!(bin.as_str(), "940140000385");
}

#[test]
fn bin_generate_errors() {
    let e = BinEntityType::LegalEntity;
    assert!(Bin::generate(100, 1, e, BinUnit::Head, 0).is_err());
    assert!(Bin::generate(10, 0, e, BinUnit::Head, 0).is_err());
    assert_eq!(
        Bin::generate(10, 13, e, BinUnit::Head, 0)
            .unwrap_err()
            .to_string(),
        "BIN: cannot generate: registration month 13 is not 01-12"
    );
    assert!(Bin::generate(10, 1, e, BinUnit::Head, 100_000).is_err());
    assert!(Bin::generate(10, 1, e, BinUnit::Head, u32::MAX).is_err());
}

#[test]
fn bin_structure_errors() {
    let with_check = |p: &str| format!("{p}{}", check_digit(&d11(p)).unwrap());
    let s = with_check("94134000038");
    assert_eq!(
        Bin::parse_strict(&s).unwrap_err().to_string(),
        format!("BIN {s}: registration month 13 is not 01-12")
    );
    assert_eq!(Bin::parse(&s).unwrap().registration(), None);
    let s = with_check("94013000038");
    assert_eq!(
        Bin::parse_strict(&s).unwrap_err().to_string(),
        format!("BIN {s}: entity type digit (5th) 3 is not 4, 5 or 6")
    );
    assert_eq!(Bin::parse(&s).unwrap().entity_type(), None);
    let s = with_check("94014700038");
    assert_eq!(
        Bin::parse_strict(&s).unwrap_err().to_string(),
        format!("BIN {s}: unit digit (6th) 7 is not 0-3")
    );
    assert_eq!(Bin::parse(&s).unwrap().unit(), None);
    let s = with_check("94004000038");
    assert!(Bin::parse_strict(&s)
        .unwrap_err()
        .to_string()
        .contains("month 00"));
}

#[test]
fn subject_helpers() {
    let iin = Iin::parse("123456789011").unwrap();
    assert_eq!(iin.to_subject_serial(), "IIN123456789011");
    for bad in [
        "iin123456789011",
        "Iin123456789011",
        "IIN12345",
        "IIN1234567890111",
        "IIN 123456789011",
        " IIN123456789011",
        "IIN123456789011 ",
        "IIN",
        "",
        "123456789011",
        "BIN123456789011",
        "ИИН123456789011",
    ] {
        assert_eq!(Iin::from_subject_serial(bad), None, "{bad:?}");
    }
    let bin = Bin::parse("940140000385").unwrap();
    assert_eq!(bin.to_subject_ou(), "BIN940140000385");
    assert_eq!(Bin::from_subject_ou("BIN940140000385"), Some(bin));
    for bad in [
        "bin940140000385",
        "BIN94014",
        "IIN940140000385",
        "БИН940140000385",
        "",
    ] {
        assert_eq!(Bin::from_subject_ou(bad), None, "{bad:?}");
    }
}

#[test]
fn classify_rules() {
    assert_eq!(classify("850715300017").unwrap(), NumberKind::Iin);
    // 5th digit 4 but month 13 -> not a BIN.
    assert_eq!(classify("941340000385").unwrap(), NumberKind::Iin);
    // Month fine but 5th digit 3 -> IIN (check digit is not consulted).
    assert_eq!(classify("940130000385").unwrap(), NumberKind::Iin);
    assert_eq!(classify("001260000000").unwrap(), NumberKind::Bin);
    // Known ambiguity: an IIN with century digit 0 (no birth date) can look like a BIN.
    assert!(Iin::parse_strict("970758056772").is_ok());
    assert_eq!(classify("970758056772").unwrap(), NumberKind::Bin);
    let err = classify("94014000038").unwrap_err();
    assert!(matches!(err, IdentityError::Malformed { .. }));
}

#[test]
fn kind_display_and_ordering() {
    assert_eq!(NumberKind::Iin.to_string(), "IIN");
    assert_eq!(NumberKind::Bin.to_string(), "BIN");
    let a = Iin::parse("000000000000").unwrap();
    let b = Iin::parse("900101300010").unwrap();
    assert!(a < b);
    // Errors built by hand with junk in `number` still display without panicking.
    let e = IdentityError::CheckDigit {
        kind: NumberKind::Bin,
        number: "ж".into(),
    };
    assert_eq!(e.to_string(), "BIN ж has a wrong check digit");
}

/// Tiny deterministic generator (SplitMix64) so the property test needs no extra crates.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn first_weighting(s: &str) -> u32 {
    (1u32..)
        .zip(s.bytes().take(11))
        .map(|(w, b)| w * u32::from(b - b'0'))
        .sum::<u32>()
        % 11
}

#[test]
fn property_check_digit_catches_single_digit_errors() {
    let mut state = 0x5EED_u64;
    let (mut some, mut none, mut escaped) = (0, 0, 0);
    for _ in 0..20_000 {
        let mut first11 = [0u8; 11];
        for d in &mut first11 {
            *d = (splitmix(&mut state) % 10) as u8;
        }
        let prefix: String = first11.iter().map(|d| char::from(b'0' + d)).collect();
        let Some(c) = check_digit(&first11) else {
            none += 1;
            for last in 0..10 {
                assert!(!Iin::parse(&format!("{prefix}{last}"))
                    .unwrap()
                    .check_digit_valid());
            }
            continue;
        };
        some += 1;
        assert!(c <= 9);
        let good = format!("{prefix}{c}");
        assert!(Iin::parse(&good).unwrap().check_digit_valid());
        assert!(Bin::parse(&good).unwrap().check_digit_valid());
        for wrong in (0..10).filter(|&w| w != c) {
            let s = format!("{prefix}{wrong}");
            assert!(!Iin::parse(&s).unwrap().check_digit_valid(), "{s}");
            assert!(matches!(
                Iin::parse(&s).unwrap().validate(),
                Err(IdentityError::CheckDigit { .. })
            ));
        }
        // A changed digit among the first 10 is always caught while both numbers use the first
        // weighting (weights 1..10 are non-zero mod 11). The 11th digit has weight 11 ≡ 0 there,
        // and a fall back to the second weighting can also hide a change: only count those.
        let pos = (splitmix(&mut state) % 11) as usize;
        let mut bytes = good.clone().into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + 1 + (splitmix(&mut state) % 9) as u8) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        let caught = !Iin::parse(&changed).unwrap().check_digit_valid();
        if pos < 10 && first_weighting(&good) != 10 && first_weighting(&changed) != 10 {
            assert!(caught, "{good} -> {changed}");
        } else if !caught {
            escaped += 1;
        }
    }
    // Roughly 1 in 121 prefixes has no check digit; about 1 in 11 changes hits the 11th digit.
    assert!(some > 19_000 && none > 50, "some={some} none={none}");
    assert!(escaped < some / 8, "escaped={escaped}");
}
