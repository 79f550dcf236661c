//! Round trips, passwords, the PKCS#12 KDF against published vectors, keys at rest.

use pkcs12::kdf::Pkcs12KeyType;

use super::pbe::{bmp_password, Hash};
use super::*;

pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// A PrivateKeyInfo under an algorithm no crate knows (as NCA's GOST keys are).
pub(super) fn sample_key() -> Vec<u8> {
    let alg = tlv(
        0x30,
        &tlv(
            0x06,
            &[0x2a, 0x83, 0x0e, 0x03, 0x0a, 0x01, 0x01, 0x02, 0x02],
        ),
    );
    let inner = tlv(0x04, &[0x5a; 64]);
    let body = [tlv(0x02, &[0]), alg, tlv(0x04, &inner)].concat();
    tlv(0x30, &body)
}

/// Stand-ins for certificates: the module does not parse them, only carries them.
pub(super) fn sample_cert(n: u8) -> Vec<u8> {
    tlv(0x30, &[tlv(0x02, &[n]), tlv(0x04, &[n; 300])].concat())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn modern_round_trip() {
    let chain = vec![sample_cert(2), sample_cert(3)];
    let pfx = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &chain,
        "s3cret",
        Some("Тест ключ"),
        Pkcs12Flavour::Modern,
    )
    .unwrap();
    let c = open_pkcs12(&pfx, "s3cret").unwrap();
    assert_eq!(&c.private_key_pkcs8[..], &sample_key()[..]);
    assert_eq!(c.certificate, sample_cert(1));
    assert_eq!(c.chain, chain);
    assert_eq!(c.friendly_name.as_deref(), Some("Тест ключ"));
}

#[test]
fn legacy_round_trip() {
    let pfx = build_pkcs12(
        &sample_key(),
        &sample_cert(7),
        &[sample_cert(8)],
        "Qwerty12",
        None,
        Pkcs12Flavour::Legacy,
    )
    .unwrap();
    let c = open_pkcs12(&pfx, "Qwerty12").unwrap();
    assert_eq!(&c.private_key_pkcs8[..], &sample_key()[..]);
    assert_eq!(c.certificate, sample_cert(7));
    assert_eq!(c.chain, vec![sample_cert(8)]);
    assert_eq!(c.friendly_name, None);
}

#[test]
fn default_flavour_is_modern() {
    assert_eq!(Pkcs12Flavour::default(), Pkcs12Flavour::Modern);
}

#[test]
fn non_ascii_and_astral_passwords_round_trip() {
    for flavour in [Pkcs12Flavour::Modern, Pkcs12Flavour::Legacy] {
        for pw in ["Құпия сөз", "pässwörd", "ключ🔑"] {
            let pfx = build_pkcs12(&sample_key(), &sample_cert(1), &[], pw, None, flavour).unwrap();
            assert!(open_pkcs12(&pfx, pw).is_ok(), "{flavour:?} {pw}");
            assert!(matches!(
                open_pkcs12(&pfx, "Құпия соз"),
                Err(KeyStoreError::WrongPassword)
            ));
        }
    }
}

#[test]
fn wrong_password_is_reported_as_such() {
    for flavour in [Pkcs12Flavour::Modern, Pkcs12Flavour::Legacy] {
        let pfx =
            build_pkcs12(&sample_key(), &sample_cert(1), &[], "right", None, flavour).unwrap();
        for wrong in ["wrong", "", "Right", "right "] {
            assert!(
                matches!(open_pkcs12(&pfx, wrong), Err(KeyStoreError::WrongPassword)),
                "{flavour:?} {wrong:?}"
            );
        }
    }
}

#[test]
fn build_refuses_an_empty_password() {
    let err = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &[],
        "",
        None,
        Pkcs12Flavour::Modern,
    )
    .unwrap_err();
    assert!(
        matches!(&err, KeyStoreError::InvalidFormat(m) if m == "empty password"),
        "{err}"
    );
}

#[test]
fn build_refuses_non_der_inputs() {
    let key = sample_key();
    let cert = sample_cert(1);
    for (k, c, chain) in [
        (&b"not a key"[..], &cert[..], vec![]),
        (&key[..], &b""[..], vec![]),
        (&key[..], &cert[..], vec![b"junk".to_vec()]),
    ] {
        assert!(matches!(
            build_pkcs12(k, c, &chain, "pw", None, Pkcs12Flavour::Legacy),
            Err(KeyStoreError::InvalidFormat(_))
        ));
    }
}

#[test]
fn debug_output_redacts_the_key() {
    let pfx = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &[],
        "pw",
        None,
        Pkcs12Flavour::Modern,
    )
    .unwrap();
    let c = open_pkcs12(&pfx, "pw").unwrap();
    let shown = format!("{c:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    // The key's body is 0x5a bytes: neither they nor their decimal rendering may show.
    assert!(
        !shown.contains("90, 90") && !shown.to_lowercase().contains("5a5a"),
        "{shown}"
    );
}

#[test]
fn errors_do_not_echo_the_password() {
    let pfx = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &[],
        "hunter2",
        None,
        Pkcs12Flavour::Modern,
    )
    .unwrap();
    let err = open_pkcs12(&pfx, "hunter3-secret").unwrap_err();
    assert!(!err.to_string().contains("hunter"));
    assert!(!format!("{err:?}").contains("hunter"));
}

#[test]
fn bmp_password_is_utf16be_with_terminator() {
    assert_eq!(&bmp_password("")[..], &[0, 0]);
    assert_eq!(&bmp_password("Aя")[..], &[0, 0x41, 0x04, 0x4f, 0, 0]);
    // Outside the BMP: a surrogate pair, as OpenSSL's UTF-8 conversion produces.
    assert_eq!(&bmp_password("🔑")[..], &[0xd8, 0x3d, 0xdd, 0x11, 0, 0]);
}

/// RFC 7292 KDF, SHA-1: the vectors of Dr Stephen Henson's test.txt (also in BouncyCastle's
/// PKCS12Test), used by OpenSSL's original implementation.
#[test]
fn pkcs12_kdf_sha1_known_vectors() {
    let cases: [(&str, &str, Pkcs12KeyType, u32, usize, &str); 10] = [
        (
            "smeg",
            "0A58CF64530D823F",
            Pkcs12KeyType::EncryptionKey,
            1,
            24,
            "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3",
        ),
        (
            "smeg",
            "0A58CF64530D823F",
            Pkcs12KeyType::Iv,
            1,
            8,
            "79993DFE048D3B76",
        ),
        (
            "smeg",
            "642B99AB44FB4B1F",
            Pkcs12KeyType::EncryptionKey,
            1,
            24,
            "F3A95FEC48D7711E985CFE67908C5AB79FA3D7C5CAA5D966",
        ),
        (
            "smeg",
            "642B99AB44FB4B1F",
            Pkcs12KeyType::Iv,
            1,
            8,
            "C0A38D64A79BEA1D",
        ),
        (
            "smeg",
            "3D83C0E4546AC140",
            Pkcs12KeyType::Mac,
            1,
            20,
            "8D967D88F6CAA9D714800AB3D48051D63F73A312",
        ),
        (
            "queeg",
            "05DEC959ACFF72F7",
            Pkcs12KeyType::EncryptionKey,
            1000,
            24,
            "ED2034E36328830FF09DF1E1A07DD357185DAC0D4F9EB3D4",
        ),
        (
            "queeg",
            "05DEC959ACFF72F7",
            Pkcs12KeyType::Iv,
            1000,
            8,
            "11DEDAD7758D4860",
        ),
        (
            "queeg",
            "1682C0FC5B3F7EC5",
            Pkcs12KeyType::EncryptionKey,
            1000,
            24,
            "483DD6E919D7DE2E8E648BA8F862F3FBFBDC2BCB2C02957F",
        ),
        (
            "queeg",
            "1682C0FC5B3F7EC5",
            Pkcs12KeyType::Iv,
            1000,
            8,
            "9D461D1B00355C50",
        ),
        (
            "queeg",
            "263216FCC2FAB31C",
            Pkcs12KeyType::Mac,
            1000,
            20,
            "5EC4C7A80DF652294C3925B6489A7AB857C83476",
        ),
    ];
    for (pw, salt, id, iterations, len, expected) in cases {
        let got = Hash::Sha1.pkcs12_kdf(&bmp_password(pw), &hex(salt), id, iterations, len);
        assert_eq!(&got[..], &hex(expected)[..], "{pw} {salt}");
    }
}

/// SHA-256 with a non-ASCII password: vectors from the `pkcs12` crate's tests, checked there
/// against OpenSSL's PKCS12_key_gen_utf8.
#[test]
fn pkcs12_kdf_sha256_known_vectors() {
    let salt = [1, 2, 3, 4, 5, 6, 7, 8];
    let pw = bmp_password("ge@äheim");
    let key = Hash::Sha256.pkcs12_kdf(&pw, &salt, Pkcs12KeyType::EncryptionKey, 100, 32);
    assert_eq!(
        &key[..],
        &hex("fae4d4957a3cc781e1180b9d4fb79c1e0c8579b746a3177e5b0768a3118bf863")[..]
    );
    let iv = Hash::Sha256.pkcs12_kdf(&pw, &salt, Pkcs12KeyType::Iv, 100, 20);
    assert_eq!(
        &iv[..],
        &hex("e5ff813bc6547de5155b14d2fada85b3201a9773")[..]
    );
    let mac = Hash::Sha256.pkcs12_kdf(&pw, &salt, Pkcs12KeyType::Mac, 100, 12);
    assert_eq!(&mac[..], &hex("136355ed9434516682534f46")[..]);
}

#[test]
fn at_rest_round_trip_and_wrong_passphrase() {
    let enc = encrypt_private_key(&sample_key(), b"correct horse").unwrap();
    assert_ne!(enc, sample_key());
    let dec = decrypt_private_key(&enc, b"correct horse").unwrap();
    assert_eq!(&dec[..], &sample_key()[..]);
    for wrong in [&b"correct horsE"[..], b"", b"\xff\xfe"] {
        assert!(matches!(
            decrypt_private_key(&enc, wrong),
            Err(KeyStoreError::WrongPassword)
        ));
    }
}

#[test]
fn at_rest_output_is_random_and_refuses_bad_input() {
    let a = encrypt_private_key(&sample_key(), b"pw").unwrap();
    let b = encrypt_private_key(&sample_key(), b"pw").unwrap();
    assert_ne!(a, b, "salt and IV must be fresh each time");
    assert!(matches!(
        encrypt_private_key(&sample_key(), b""),
        Err(KeyStoreError::InvalidFormat(_))
    ));
    assert!(matches!(
        encrypt_private_key(b"junk", b"pw"),
        Err(KeyStoreError::InvalidFormat(_))
    ));
    assert!(matches!(
        decrypt_private_key(b"junk", b"pw"),
        Err(KeyStoreError::InvalidFormat(_))
    ));
}

#[test]
fn at_rest_is_fast_enough() {
    let start = std::time::Instant::now();
    let enc = encrypt_private_key(&sample_key(), b"pw").unwrap();
    decrypt_private_key(&enc, b"pw").unwrap();
    // Two scrypt runs; generous bound so that unoptimised test builds pass too.
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}
