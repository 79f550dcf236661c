//! Generated CRLs: full and delta combined, deltas that do not fit, tampering, algorithms.

use const_oid::db::rfc5280;
use der::asn1::{BitString, Uint};
use der::Encode;
use spki::AlgorithmIdentifierOwned;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::crl::{CrlNumber, CrlReason};

use super::*;
use crate::crypto::{KeyAlgorithm, SignatureAlgorithm, SigningKey};

const T0: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY: i64 = 86_400;
use super::test_builder::*;

#[test]
fn full_and_delta_crls_combine_as_rfc_5280_says() {
    let ca = Ca::new(KeyAlgorithm::P256, "DELTA TEST CA");
    let (a, b, c, d, e, f) = (
        [0xA1; 20], [0x0B; 20], [0xC3; 16], [0x0D; 18], [0x0E; 20], [0x0F; 20],
    );
    let full_der = ca.crl(&full(
        10,
        vec![
            entry(&a, T0 - 5 * DAY, Some(CrlReason::KeyCompromise)),
            entry(&b, T0 - 4 * DAY, Some(CrlReason::CertificateHold)),
            entry(&c, T0 - 3 * DAY, Some(CrlReason::Superseded)),
            entry(&d, T0 - 2 * DAY, None),
        ],
    ));
    let delta_der = ca.crl(&delta(
        11,
        10,
        vec![
            entry(&b, T0, Some(CrlReason::RemoveFromCRL)),
            entry(&c, T0 - DAY, Some(CrlReason::KeyCompromise)),
            entry(&e, T0 - DAY / 2, Some(CrlReason::CertificateHold)),
        ],
    ));
    let full_crl = Crl::parse(&full_der).expect("full");
    let delta_crl = Crl::parse(&delta_der).expect("delta");
    full_crl
        .verify_signature(&ca.spki())
        .expect("full verifies");
    delta_crl
        .verify_signature(&ca.spki())
        .expect("delta verifies");
    assert_eq!(full_crl.number(), Some(10));
    assert!(!full_crl.is_delta());
    assert_eq!(
        full_crl.freshest_crl_urls(),
        ["http://127.0.0.1:8080/pki/crl/ca-delta.crl".to_string()]
    );
    assert_eq!(full_crl.authority_key_id(), Some(&ca.key_id()[..]));
    assert!(delta_crl.is_delta());
    assert_eq!(delta_crl.delta_base(), Some(10));
    assert_eq!(delta_crl.number(), Some(11));
    assert_eq!(full_crl.len(), 4);
    assert_eq!(delta_crl.len(), 3);

    let with = |s: &[u8]| status(&full_crl, Some(&delta_crl), &key(s)).expect("applies");
    let without = |s: &[u8]| status(&full_crl, None, &key(s)).expect("status");
    let revoked = |at: i64, reason: Option<u8>| {
        Some(RevokedEntry {
            revoked_at: at,
            reason,
        })
    };
    assert_eq!(with(&a), revoked(T0 - 5 * DAY, Some(1)));
    assert_eq!(with(&b), None, "released from hold (removeFromCRL)");
    assert_eq!(with(&c), revoked(T0 - DAY, Some(1)), "the delta overrides");
    assert_eq!(with(&d), revoked(T0 - 2 * DAY, None));
    assert_eq!(
        with(&e),
        revoked(T0 - DAY / 2, Some(6)),
        "held since the full CRL"
    );
    assert_eq!(with(&f), None);
    assert_eq!(without(&b), revoked(T0 - 4 * DAY, Some(6)));
    assert_eq!(without(&c), revoked(T0 - 3 * DAY, Some(4)));
    assert_eq!(without(&e), None);
    // lookup itself reports the raw delta entry.
    assert_eq!(delta_crl.lookup(&key(&b)).and_then(|e| e.reason), Some(8));

    // A delta issued together with the full CRL may share its number (RFC 5280 §5.2.3).
    let same_number = Crl::parse(&ca.crl(&delta(10, 10, vec![]))).expect("delta");
    assert_eq!(
        status(&full_crl, Some(&same_number), &key(&a)).expect("applies"),
        with(&a)
    );
    // An older base is fine.
    let older_base = Crl::parse(&ca.crl(&delta(12, 7, vec![]))).expect("delta");
    assert_eq!(
        status(&full_crl, Some(&older_base), &key(&b)).expect("applies"),
        without(&b)
    );
}

#[test]
fn a_delta_that_does_not_fit_the_full_crl_is_refused() {
    let ca = Ca::new(KeyAlgorithm::P256, "DELTA TEST CA");
    let full_crl = Crl::parse(&ca.crl(&full(10, vec![]))).expect("full");
    let serial = key(&[1]);
    let refused = |d: &Crl| malformed(status(&full_crl, Some(d), &serial));

    let newer_base = Crl::parse(&ca.crl(&delta(13, 12, vec![]))).expect("delta");
    assert!(refused(&newer_base).contains("newer"));

    let other_ca = Ca::new(KeyAlgorithm::P256, "ANOTHER CA");
    let foreign = Crl::parse(&other_ca.crl(&delta(11, 10, vec![]))).expect("delta");
    assert!(refused(&foreign).contains("ANOTHER CA"));

    // Same name, another key (e.g. after a CA key rollover).
    let rolled = Ca {
        key: SigningKey::generate(KeyAlgorithm::P256).expect("key"),
        name: ca.name.clone(),
    };
    let other_key = Crl::parse(&rolled.crl(&delta(11, 10, vec![]))).expect("delta");
    assert!(refused(&other_key).contains("key"));

    let stale = Crl::parse(&ca.crl(&delta(9, 8, vec![]))).expect("delta");
    assert!(refused(&stale).contains("older"));

    let not_a_delta = Crl::parse(&ca.crl(&full(11, vec![]))).expect("full");
    assert!(refused(&not_a_delta).contains("Delta CRL Indicator"));
    let delta_crl = Crl::parse(&ca.crl(&delta(11, 10, vec![]))).expect("delta");
    assert!(malformed(status(&delta_crl, None, &serial)).contains("is a delta"));

    let huge_base = Spec {
        base: Some(Uint::new(&[0x01; 12]).expect("uint")),
        ..delta(11, 0, vec![])
    };
    let huge = Crl::parse(&ca.crl(&huge_base)).expect("delta");
    assert!(huge.is_delta());
    assert_eq!(huge.delta_base(), None);
    assert!(refused(&huge).contains("64 bits"));

    let numberless = Spec {
        number: None,
        ..full(0, vec![])
    };
    let numberless = Crl::parse(&ca.crl(&numberless)).expect("full");
    assert_eq!(numberless.number(), None);
    assert!(malformed(status(&numberless, Some(&delta_crl), &serial)).contains("no CRL number"));

    let scoped = Spec {
        extra: vec![idp(IssuingDistributionPoint {
            distribution_point: None,
            only_contains_user_certs: true,
            only_contains_ca_certs: false,
            only_some_reasons: None,
            indirect_crl: false,
            only_contains_attribute_certs: false,
        })],
        ..delta(11, 10, vec![])
    };
    let scoped = Crl::parse(&ca.crl(&scoped)).expect("delta");
    assert!(refused(&scoped).contains("issuingDistributionPoint"));
}

#[test]
fn tampering_and_algorithm_mismatch_fail_signature_verification() {
    let ca = Ca::new(KeyAlgorithm::P256, "TAMPER TEST CA");
    let serial = [0x5A; 20];
    let der = ca.crl(&full(
        3,
        vec![entry(&serial, T0 - DAY, Some(CrlReason::KeyCompromise))],
    ));
    let crl = Crl::parse(&der).expect("parse");
    crl.verify_signature(&ca.spki()).expect("verifies");

    // Change one serial byte: still a well-formed CRL, no longer the one signed.
    let at = der
        .windows(20)
        .position(|w| w == serial)
        .expect("serial in DER");
    let mut tampered = der.clone();
    tampered[at + 19] ^= 0x01;
    let tampered = Crl::parse(&tampered).expect("still parses");
    assert_eq!(tampered.lookup(&key(&serial)), None);
    assert!(matches!(
        tampered.verify_signature(&ca.spki()),
        Err(CrlError::BadSignature(_))
    ));

    let stranger = Ca::new(KeyAlgorithm::P256, "TAMPER TEST CA");
    assert!(matches!(
        crl.verify_signature(&stranger.spki()),
        Err(CrlError::BadSignature(_))
    ));

    // The outer signatureAlgorithm must repeat the signed one.
    let tbs = ca.tbs(&full(3, vec![]));
    let signature = ca.key.sign(&tbs.to_der().expect("tbs")).expect("sign");
    let swapped = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: SignatureAlgorithm::EcdsaP384Sha384.identifier(),
        signature: BitString::from_bytes(&signature).expect("bits"),
    };
    let swapped = Crl::parse(&swapped.to_der().expect("der")).expect("parse");
    match swapped.verify_signature(&ca.spki()) {
        Err(CrlError::BadSignature(message)) => assert!(message.contains("differs"), "{message}"),
        other => panic!("algorithm mismatch accepted: {other:?}"),
    }
}

#[test]
fn rsa_signed_crl_verifies_and_null_parameters_equal_absent_ones() {
    let ca = Ca::new(KeyAlgorithm::Rsa2048, "RSA TEST CA");
    let der = ca.crl(&full(1, vec![entry(&[0x42], T0, None)]));
    let crl = Crl::parse(&der).expect("parse");
    crl.verify_signature(&ca.spki()).expect("RSA verifies");

    let mut tbs = ca.tbs(&full(1, vec![]));
    tbs.signature = AlgorithmIdentifierOwned {
        oid: tbs.signature.oid,
        parameters: None,
    };
    let signature = ca.key.sign(&tbs.to_der().expect("tbs")).expect("sign");
    let list = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: SignatureAlgorithm::RsaPkcs1Sha256.identifier(),
        signature: BitString::from_bytes(&signature).expect("bits"),
    };
    let crl = Crl::parse(&list.to_der().expect("der")).expect("parse");
    crl.verify_signature(&ca.spki()).expect("absent == NULL");
}

#[test]
fn v1_crls_without_extensions_are_accepted() {
    let ca = Ca::new(KeyAlgorithm::P256, "V1 TEST CA");
    let body = |version: &[u8], entry_extras: &[u8], crl_extensions: &[u8]| {
        let mut tbs = version.to_vec();
        tbs.extend(
            ca.key
                .signature_algorithm()
                .identifier()
                .to_der()
                .expect("alg"),
        );
        tbs.extend(ca.name.to_der().expect("name"));
        tbs.extend(utc(T0).to_der().expect("time"));
        tbs.extend(utc(T0 + DAY).to_der().expect("time"));
        let mut one = tlv(0x02, &[0x00, 0x99]);
        one.extend(utc(T0 - DAY).to_der().expect("time"));
        one.extend_from_slice(entry_extras);
        let mut two = tlv(0x02, &[0x07]);
        two.extend(utc(T0 - 2 * DAY).to_der().expect("time"));
        let mut list = tlv(0x30, &one);
        list.extend(tlv(0x30, &two));
        tbs.extend(tlv(0x30, &list));
        tbs.extend_from_slice(crl_extensions);
        ca.sign_raw(&tbs)
    };
    for version in [&[][..], &[0x02, 0x01, 0x00]] {
        let crl = Crl::parse(&body(version, &[], &[])).expect("v1");
        crl.verify_signature(&ca.spki()).expect("verifies");
        assert_eq!(crl.version(), 1);
        assert_eq!(crl.number(), None);
        assert_eq!(crl.authority_key_id(), None);
        assert_eq!(crl.len(), 2);
        assert_eq!(
            crl.lookup(&key(&[0x99])),
            Some(RevokedEntry {
                revoked_at: T0 - DAY,
                reason: None
            })
        );
        assert!(crl.lookup(&[0x07]).is_some());
        assert_eq!(
            status(&crl, None, &[0x07])
                .expect("status")
                .map(|e| e.revoked_at),
            Some(T0 - 2 * DAY)
        );
    }
    let reason = ext(rfc5280::ID_CE_CRL_REASONS, false, &CrlReason::Superseded);
    let entry_extensions = tlv(0x30, &reason.to_der().expect("ext"));
    assert!(malformed(Crl::parse(&body(&[], &entry_extensions, &[]))).contains("v1"));
    let number = ext(rfc5280::ID_CE_CRL_NUMBER, false, &CrlNumber(uint(1)));
    let crl_extensions = tlv(0xA0, &tlv(0x30, &number.to_der().expect("ext")));
    assert!(malformed(Crl::parse(&body(&[], &[], &crl_extensions))).contains("v1"));
    for version in [
        &[0x02, 0x01, 0x02][..],
        &[0x02, 0x02, 0x00, 0xFF],
        &[0x02, 0x01, 0xFF],
    ] {
        assert!(malformed(Crl::parse(&body(version, &[], &[]))).contains("version"));
    }
    // Indefinite length inside: the revoked list.
    let mut tbs = ca
        .key
        .signature_algorithm()
        .identifier()
        .to_der()
        .expect("alg");
    tbs.extend(ca.name.to_der().expect("name"));
    tbs.extend(utc(T0).to_der().expect("time"));
    tbs.extend([0x30, 0x80]);
    tbs.extend(tlv(
        0x30,
        &[tlv(0x02, &[0x07]), utc(T0).to_der().expect("time")].concat(),
    ));
    tbs.extend([0x00, 0x00]);
    assert!(malformed(Crl::parse(&ca.sign_raw(&tbs))).contains("indefinite"));
}

#[test]
fn empty_crls_have_no_entries() {
    let ca = Ca::new(KeyAlgorithm::P256, "EMPTY TEST CA");
    let crl = Crl::parse(&ca.crl(&full(1, vec![]))).expect("parse");
    crl.verify_signature(&ca.spki()).expect("verifies");
    assert!(crl.is_empty());
    assert_eq!(crl.len(), 0);
    assert_eq!(crl.lookup(&[0x01]), None);
    assert_eq!(crl.lookup(&[]), None);
    assert_eq!(status(&crl, None, &[0x01]).expect("status"), None);

    // revokedCertificates present but empty (not DER-minimal, seen in the wild).
    let mut tbs = ca
        .key
        .signature_algorithm()
        .identifier()
        .to_der()
        .expect("alg");
    tbs.extend(ca.name.to_der().expect("name"));
    tbs.extend(utc(T0).to_der().expect("time"));
    tbs.extend([0x30, 0x00]);
    let crl = Crl::parse(&ca.sign_raw(&tbs)).expect("parse");
    assert!(crl.is_empty());
    assert_eq!(crl.next_update(), None);
}
