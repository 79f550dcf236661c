//! Hostile and unusual input: garbage, truncation, bounds, BER, stores without MAC or
//! encryption. Stores are assembled by hand here, with the MAC computed by the module's own
//! PKCS#12 MAC so that the checks behind it are reached.

use const_oid::ObjectIdentifier;

use super::pbe::{bmp_password, pkcs12_mac, Hash, PBE_SHA1_3DES};
use super::read::{
    CERT_BAG, DATA, ENCRYPTED_DATA, FRIENDLY_NAME, KEY_BAG, LOCAL_KEY_ID, X509_CERTIFICATE,
};
use super::tests::{sample_cert, sample_key, tlv};
use super::*;

fn oid(o: ObjectIdentifier) -> Vec<u8> {
    tlv(0x06, o.as_bytes())
}

fn content_info(content_type: ObjectIdentifier, content: &[u8]) -> Vec<u8> {
    tlv(0x30, &[oid(content_type), tlv(0xa0, content)].concat())
}

fn bag(id: ObjectIdentifier, value: &[u8], attributes: &[u8]) -> Vec<u8> {
    tlv(
        0x30,
        &[oid(id), tlv(0xa0, value), attributes.to_vec()].concat(),
    )
}

fn cert_bag(cert: &[u8], attributes: &[u8]) -> Vec<u8> {
    let value = tlv(
        0x30,
        &[oid(X509_CERTIFICATE), tlv(0xa0, &tlv(0x04, cert))].concat(),
    );
    bag(CERT_BAG, &value, attributes)
}

fn attributes(local_key_id: &[u8], name: Option<&str>) -> Vec<u8> {
    let mut attrs = tlv(
        0x30,
        &[oid(LOCAL_KEY_ID), tlv(0x31, &tlv(0x04, local_key_id))].concat(),
    );
    if let Some(name) = name {
        let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
        attrs.extend(tlv(
            0x30,
            &[oid(FRIENDLY_NAME), tlv(0x31, &tlv(0x1e, &utf16))].concat(),
        ));
    }
    tlv(0x31, &attrs)
}

fn data(safe_contents: &[u8]) -> Vec<u8> {
    content_info(DATA, &tlv(0x04, safe_contents))
}

/// A PFX around `auth_safe` with a SHA-1 MAC of `mac_iterations`.
fn pfx(auth_safe: &[u8], password: &str, mac_iterations: u32) -> Vec<u8> {
    let salt = [7u8; 8];
    let mac = pkcs12_mac(
        Hash::Sha1,
        &bmp_password(password),
        &salt,
        mac_iterations,
        auth_safe,
    );
    let digest_info = tlv(
        0x30,
        &[
            tlv(0x30, &[oid(Hash::Sha1.digest_oid()), vec![5, 0]].concat()),
            tlv(0x04, &mac),
        ]
        .concat(),
    );
    let iterations = mac_iterations.to_be_bytes();
    let start = iterations.iter().position(|b| *b != 0).unwrap_or(3);
    let mut iter_bytes = iterations[start..].to_vec();
    if iter_bytes[0] & 0x80 != 0 {
        iter_bytes.insert(0, 0);
    }
    let mac_data = tlv(
        0x30,
        &[digest_info, tlv(0x04, &salt), tlv(0x02, &iter_bytes)].concat(),
    );
    tlv(0x30, &[tlv(0x02, &[3]), data(auth_safe), mac_data].concat())
}

fn invalid_with(result: Result<KeyStoreContents, KeyStoreError>, needle: &str) {
    match result {
        Err(KeyStoreError::InvalidFormat(m)) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected InvalidFormat({needle}), got {other:?}"),
    }
}

#[test]
fn garbage_is_rejected_without_panicking() {
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x30],
        vec![0x30, 0x80],
        vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        vec![0x04, 0x80, 0, 0],
        b"-----BEGIN PKCS12-----".to_vec(),
        (0..=255u8).collect(),
        [0x30, 0x80].repeat(100_000),
        [0x30, 0x80, 0x24, 0x80].repeat(1000),
    ];
    for input in inputs {
        assert!(open_pkcs12(&input, "pw").is_err());
        assert!(decrypt_private_key(&input, b"pw").is_err());
    }
}

#[test]
fn every_truncation_and_bit_flip_fails_cleanly() {
    for flavour in [Pkcs12Flavour::Legacy, Pkcs12Flavour::Modern] {
        let good = build_pkcs12(
            &sample_key(),
            &sample_cert(1),
            &[],
            "pw",
            Some("n"),
            flavour,
        )
        .unwrap();
        for len in 0..good.len() {
            assert!(
                open_pkcs12(&good[..len], "pw").is_err(),
                "{flavour:?} truncated to {len}"
            );
        }
        for i in (0..good.len()).step_by(3) {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            assert!(open_pkcs12(&bad, "pw").is_err(), "{flavour:?} flip at {i}");
        }
    }
    let enc = encrypt_private_key(&sample_key(), b"pw").unwrap();
    for len in 0..enc.len() {
        assert!(decrypt_private_key(&enc[..len], b"pw").is_err());
    }
}

#[test]
fn oversized_input_is_refused() {
    let big = vec![0u8; MAX_INPUT_LEN + 1];
    invalid_with(open_pkcs12(&big, "pw"), "exceeds the limit");
    assert!(matches!(
        decrypt_private_key(&big, b"pw"),
        Err(KeyStoreError::InvalidFormat(_))
    ));
}

#[test]
fn mac_iteration_count_is_bounded() {
    let auth_safe = tlv(0x30, &data(&tlv(0x30, &cert_bag(&sample_cert(1), &[]))));
    // The guard fires before any work, so the MAC value itself does not matter.
    let alg = tlv(0x30, &[oid(Hash::Sha1.digest_oid()), vec![5, 0]].concat());
    let digest_info = tlv(0x30, &[alg, tlv(0x04, &[0; 20])].concat());
    let iterations = tlv(0x02, &[0x0f, 0x42, 0x41]); // 1_000_001
    let mac_data = tlv(
        0x30,
        &[digest_info, tlv(0x04, &[1; 8]), iterations].concat(),
    );
    let store = tlv(
        0x30,
        &[tlv(0x02, &[3]), data(&auth_safe), mac_data].concat(),
    );
    invalid_with(
        open_pkcs12(&store, "pw"),
        "iteration count 1000001 exceeds the limit",
    );
}

#[test]
fn encryption_iteration_count_is_bounded_after_a_good_mac() {
    let pbe_params = tlv(
        0x30,
        &[tlv(0x04, &[1; 8]), tlv(0x02, &[0x1e, 0x84, 0x80])].concat(),
    );
    let alg = tlv(0x30, &[oid(PBE_SHA1_3DES), pbe_params].concat());
    let eci = tlv(0x30, &[oid(DATA), alg, tlv(0x80, &[0u8; 16])].concat());
    let encrypted = content_info(ENCRYPTED_DATA, &tlv(0x30, &[tlv(0x02, &[0]), eci].concat()));
    let store = pfx(&tlv(0x30, &encrypted), "pw", 1);
    invalid_with(open_pkcs12(&store, "pw"), "iteration count 2000000 exceeds");
}

#[test]
fn bag_count_is_bounded() {
    let bags: Vec<u8> = (0..=MAX_BAGS as u8)
        .flat_map(|i| cert_bag(&sample_cert(i), &[]))
        .collect();
    let store = pfx(&tlv(0x30, &data(&tlv(0x30, &bags))), "pw", 1);
    invalid_with(open_pkcs12(&store, "pw"), "more than 64 bags");
}

#[test]
fn bad_padding_after_a_good_mac_is_invalid_format() {
    let store = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &[],
        "pw",
        None,
        Pkcs12Flavour::Legacy,
    )
    .unwrap();
    // Re-wrap the same encrypted content under a MAC made with another password: the MAC
    // verifies with that password, decryption then fails.
    let top = crate::x509::ber::parse_exact(&store)
        .unwrap()
        .children()
        .unwrap();
    let content = crate::x509::ber::parse_exact(top[1].raw)
        .unwrap()
        .children()
        .unwrap();
    let auth_safe = crate::x509::ber::parse_exact(content[1].raw)
        .unwrap()
        .children()
        .unwrap()[0]
        .octets()
        .unwrap()
        .into_owned();
    let forged = pfx(&auth_safe, "other", 2048);
    invalid_with(open_pkcs12(&forged, "other"), "MAC verified");
}

#[test]
fn unencrypted_store_leaf_found_by_local_key_id() {
    // CA certificate first, then the leaf, then a plain keyBag: the leaf must still be found.
    let id = [0xab; 20];
    let safe = tlv(
        0x30,
        &[
            cert_bag(&sample_cert(9), &[]),
            cert_bag(&sample_cert(1), &attributes(&id, None)),
            bag(KEY_BAG, &sample_key(), &attributes(&id, Some("ключ"))),
        ]
        .concat(),
    );
    let store = pfx(&tlv(0x30, &data(&safe)), "", 2048);
    let c = open_pkcs12(&store, "").unwrap();
    assert_eq!(c.certificate, sample_cert(1));
    assert_eq!(c.chain, vec![sample_cert(9)]);
    assert_eq!(&c.private_key_pkcs8[..], &sample_key()[..]);
    assert_eq!(c.friendly_name.as_deref(), Some("ключ"));
    assert!(matches!(
        open_pkcs12(&store, "x"),
        Err(KeyStoreError::WrongPassword)
    ));
}

#[test]
fn missing_key_or_certificate() {
    let certs_only = pfx(
        &tlv(0x30, &data(&tlv(0x30, &cert_bag(&sample_cert(1), &[])))),
        "pw",
        1,
    );
    assert!(matches!(
        open_pkcs12(&certs_only, "pw"),
        Err(KeyStoreError::NoPrivateKey)
    ));
    let key_only = pfx(
        &tlv(0x30, &data(&tlv(0x30, &bag(KEY_BAG, &sample_key(), &[])))),
        "pw",
        1,
    );
    assert!(matches!(
        open_pkcs12(&key_only, "pw"),
        Err(KeyStoreError::NoCertificate)
    ));
}

#[test]
fn store_without_mac_opens_and_detects_a_wrong_password() {
    let store = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &[],
        "pw",
        None,
        Pkcs12Flavour::Legacy,
    )
    .unwrap();
    let top = crate::x509::ber::parse_exact(&store)
        .unwrap()
        .children()
        .unwrap();
    let no_mac = tlv(0x30, &[top[0].raw, top[1].raw].concat());
    assert_eq!(
        &open_pkcs12(&no_mac, "pw").unwrap().private_key_pkcs8[..],
        &sample_key()[..]
    );
    assert!(matches!(
        open_pkcs12(&no_mac, "wrong"),
        Err(KeyStoreError::WrongPassword)
    ));
}

#[test]
fn ber_indefinite_lengths_and_segmented_octet_strings_are_read() {
    let store = build_pkcs12(
        &sample_key(),
        &sample_cert(1),
        &[sample_cert(2)],
        "pw",
        None,
        Pkcs12Flavour::Modern,
    )
    .unwrap();
    let top = crate::x509::ber::parse_exact(&store)
        .unwrap()
        .children()
        .unwrap();
    let content = crate::x509::ber::parse_exact(top[1].raw)
        .unwrap()
        .children()
        .unwrap();
    let auth_safe = crate::x509::ber::parse_exact(content[1].raw)
        .unwrap()
        .children()
        .unwrap()[0]
        .octets()
        .unwrap()
        .into_owned();
    // authSafe content as a constructed OCTET STRING of three segments, all indefinite.
    let (a, rest) = auth_safe.split_at(10);
    let (b, c) = rest.split_at(100);
    let segments = [tlv(0x04, a), tlv(0x04, b), tlv(0x04, c)].concat();
    let octets = [&[0x24, 0x80][..], &segments, &[0, 0]].concat();
    let ci = [
        &[0x30, 0x80][..],
        content[0].raw,
        &[0xa0, 0x80],
        &octets,
        &[0, 0, 0, 0],
    ]
    .concat();
    let ber = [&[0x30, 0x80][..], top[0].raw, &ci, top[2].raw, &[0, 0]].concat();
    let c = open_pkcs12(&ber, "pw").unwrap();
    assert_eq!(c.certificate, sample_cert(1));
    assert_eq!(c.chain, vec![sample_cert(2)]);
}
