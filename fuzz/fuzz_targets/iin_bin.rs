//! Arbitrary bytes as IIN/BIN text (`Iin`/`Bin` parse, strict parse, subject attributes,
//! classification) and as numbers for `generate`, with the invariants between them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qoltanba::identity::{
    check_digit, classify, Bin, BinEntityType, BinUnit, Iin, NumberKind, Sex,
};

fn text(s: &str) {
    let iin = Iin::parse(s);
    let bin = Bin::parse(s);
    // parse accepts exactly 12 ASCII digits, for both kinds alike.
    let shape = s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    assert_eq!(iin.is_ok(), shape, "{s:?}");
    assert_eq!(bin.is_ok(), shape, "{s:?}");
    assert_eq!(classify(s).is_ok(), shape, "{s:?}");
    if let Ok(iin) = &iin {
        assert_eq!(iin.as_str(), s);
        let _ = (iin.check_digit_valid(), iin.birth_date(), iin.sex());
        let strict = Iin::parse_strict(s);
        assert_eq!(strict.is_ok(), iin.validate().is_ok());
        if strict.is_ok() {
            assert!(iin.check_digit_valid());
        }
        assert_eq!(
            Iin::from_subject_serial(&iin.to_subject_serial()).as_ref(),
            Some(iin)
        );
        assert_eq!(s.parse::<Iin>().ok().as_ref(), Some(iin));
    }
    if let Ok(bin) = &bin {
        let _ = (bin.registration(), bin.entity_type(), bin.unit());
        let strict = Bin::parse_strict(s);
        assert_eq!(strict.is_ok(), bin.validate().is_ok());
        assert_eq!(
            Bin::from_subject_ou(&bin.to_subject_ou()).as_ref(),
            Some(bin)
        );
    }
    for e in [iin.err(), bin.err()].into_iter().flatten() {
        let _ = e.to_string();
    }
    let _ = Iin::from_subject_serial(s);
    let _ = Bin::from_subject_ou(s);
    let _ = Iin::parse_strict(s).map_err(|e| e.to_string());
    let _ = Bin::parse_strict(s).map_err(|e| e.to_string());
}

fn numbers(data: &[u8]) {
    if data.len() < 11 {
        return;
    }
    let mut first11 = [0u8; 11];
    first11.copy_from_slice(&data[..11]);
    let _ = check_digit(&first11);
    let digits: [u8; 11] = std::array::from_fn(|i| data[i] % 10);
    if let Some(d) = check_digit(&digits) {
        assert!(d <= 9);
        let s: String = digits
            .iter()
            .chain(std::iter::once(&d))
            .map(|d| char::from(b'0' + d))
            .collect();
        assert!(Iin::parse(&s).unwrap().check_digit_valid(), "{s}");
        assert!(Bin::parse(&s).unwrap().check_digit_valid(), "{s}");
    }
    let year = i32::from(i16::from_le_bytes([data[0], data[1]]));
    let sex = if data[4] & 1 == 0 {
        Sex::Male
    } else {
        Sex::Female
    };
    let serial = u16::from_le_bytes([data[5], data[6]]);
    if let Ok(iin) = Iin::generate(year, data[2], data[3], sex, serial) {
        // What generate makes, parse_strict accepts, with the date and sex asked for.
        Iin::parse_strict(iin.as_str()).expect("a generated IIN validates");
        assert_eq!(iin.birth_date(), Some((year, data[2], data[3])));
        assert_eq!(iin.sex(), Some(sex));
    }
    let entity = match data[7] % 3 {
        0 => BinEntityType::LegalEntity,
        1 => BinEntityType::NonResident,
        _ => BinEntityType::JointEntrepreneur,
    };
    let unit = match data[8] % 4 {
        0 => BinUnit::Head,
        1 => BinUnit::Branch,
        2 => BinUnit::Representative,
        _ => BinUnit::PeasantFarm,
    };
    let serial = u32::from_le_bytes([data[9], data[10], 0, 0]) * 2;
    if let Ok(bin) = Bin::generate(data[0], data[1], entity, unit, serial) {
        Bin::parse_strict(bin.as_str()).expect("a generated BIN validates");
        assert_eq!(classify(bin.as_str()).ok(), Some(NumberKind::Bin));
        assert_eq!(bin.entity_type(), Some(entity));
        assert_eq!(bin.unit(), Some(unit));
    }
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(s) => text(s),
        Err(_) => text(&String::from_utf8_lossy(data)),
    }
    numbers(data);
});
