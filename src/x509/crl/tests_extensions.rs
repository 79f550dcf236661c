//! Generated CRLs: issuingDistributionPoint, extensions we must refuse, hostile encodings, and
//! OpenSSL as a peer.

use std::time::Duration;

use const_oid::db::rfc5280;
use der::asn1::{GeneralizedTime, Ia5String, ObjectIdentifier, OctetString};
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::crl::{CrlNumber, CrlReason};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::Extension;
use x509_cert::time::Time;

use super::tests::{openssl_entries, our_entries};
use super::*;
use crate::crypto::KeyAlgorithm;

const T0: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY: i64 = 86_400;
use super::test_builder::*;

#[test]
fn extensions_we_cannot_honour_are_refused() {
    let ca = Ca::new(KeyAlgorithm::P256, "EXTENSION TEST CA");
    let private = ObjectIdentifier::new_unwrap("1.2.398.3.99.1");
    let with_crl_ext = |e: Extension| {
        Crl::parse(&ca.crl(&Spec {
            extra: vec![e],
            ..full(1, vec![])
        }))
    };
    let with_entry_ext = |e: Extension| {
        let mut one = entry(&[0x11], T0, Some(CrlReason::KeyCompromise));
        one.extra.push(e);
        Crl::parse(&ca.crl(&full(1, vec![entry(&[0x10], T0, None), one])))
    };
    let null = der::asn1::Null;

    // CRL level.
    assert!(unsupported(with_crl_ext(ext(private, true, &null))).contains("1.2.398.3.99.1"));
    with_crl_ext(ext(private, false, &null)).expect("unknown non-critical is ignored");
    let aia_oid = rfc5280::ID_PE_AUTHORITY_INFO_ACCESS;
    let aia = x509_cert::ext::pkix::AuthorityInfoAccessSyntax(vec![
        x509_cert::ext::pkix::AccessDescription {
            access_method: rfc5280::ID_AD_CA_ISSUERS,
            access_location: GeneralName::UniformResourceIdentifier(
                Ia5String::new("http://127.0.0.1/ca.cer").expect("ASCII"),
            ),
        },
    ]);
    with_crl_ext(ext(aia_oid, false, &aia)).expect("AIA is recognised");
    let plain = IssuingDistributionPoint {
        distribution_point: Some(uri("http://127.0.0.1/ca.crl")),
        only_contains_user_certs: true,
        only_contains_ca_certs: false,
        only_some_reasons: None,
        indirect_crl: false,
        only_contains_attribute_certs: false,
    };
    let crl = with_crl_ext(idp(plain.clone())).expect("a plain IDP is accepted");
    assert_eq!(
        crl.scope(),
        Some(&CrlScope {
            distribution_point_urls: vec!["http://127.0.0.1/ca.crl".into()],
            only_user_certs: true,
            only_ca_certs: false,
            only_attribute_certs: false,
        })
    );
    let indirect = IssuingDistributionPoint {
        indirect_crl: true,
        ..plain.clone()
    };
    assert!(unsupported(with_crl_ext(idp(indirect))).contains("indirectCRL"));
    let some_reasons = IssuingDistributionPoint {
        only_some_reasons: Some(x509_cert::ext::pkix::crl::dp::Reasons::KeyCompromise.into()),
        ..plain
    };
    assert!(unsupported(with_crl_ext(idp(some_reasons))).contains("onlySomeReasons"));
    let twice = Spec {
        extra: vec![ext(rfc5280::ID_CE_CRL_NUMBER, false, &CrlNumber(uint(2)))],
        ..full(1, vec![])
    };
    assert!(malformed(Crl::parse(&ca.crl(&twice))).contains("twice"));

    // Entry level.
    let message = unsupported(with_entry_ext(ext(private, true, &null)));
    assert!(
        message.contains("1.2.398.3.99.1") && message.contains("entry #2"),
        "{message}"
    );
    let crl = with_entry_ext(ext(private, false, &null)).expect("unknown non-critical");
    assert_eq!(crl.lookup(&[0x11]).and_then(|e| e.reason), Some(1));
    let issuer = vec![GeneralName::DirectoryName(ca.name.clone())];
    let cert_issuer = rfc5280::ID_CE_CERTIFICATE_ISSUER;
    assert!(
        unsupported(with_entry_ext(ext(cert_issuer, true, &issuer))).contains("certificateIssuer")
    );
    assert!(
        malformed(with_entry_ext(ext(cert_issuer, false, &issuer))).contains("certificateIssuer")
    );
    let invalidity =
        GeneralizedTime::from_unix_duration(Duration::from_secs(T0 as u64)).expect("time");
    with_entry_ext(ext(rfc5280::ID_CE_INVALIDITY_DATE, false, &invalidity))
        .expect("invalidityDate");
    let again = ext(rfc5280::ID_CE_CRL_REASONS, false, &CrlReason::Superseded);
    assert!(malformed(with_entry_ext(again)).contains("twice"));

    // reasonCode 7 does not exist.
    let mut seven = entry(&[0x12], T0, None);
    seven.extra.push(Extension {
        extn_id: rfc5280::ID_CE_CRL_REASONS,
        critical: false,
        extn_value: OctetString::new(vec![0x0A, 0x01, 0x07]).expect("octets"),
    });
    assert!(malformed(Crl::parse(&ca.crl(&full(1, vec![seven])))).contains("reasonCode"));
}

#[test]
fn generated_crl_agrees_with_openssl_and_lookup_uses_certificate_serial_bytes() {
    let ca = Ca::new(KeyAlgorithm::P256, "OPENSSL TEST CA");
    let reasons = [
        None,
        Some(CrlReason::Unspecified),
        Some(CrlReason::KeyCompromise),
        Some(CrlReason::CaCompromise),
        Some(CrlReason::AffiliationChanged),
        Some(CrlReason::Superseded),
        Some(CrlReason::CessationOfOperation),
        Some(CrlReason::CertificateHold),
        Some(CrlReason::PrivilegeWithdrawn),
        Some(CrlReason::AaCompromise),
    ];
    let mut entries: Vec<Entry> = reasons
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut serial = crate::crypto::random_bytes::<20>()
                .expect("random")
                .to_vec();
            serial[0] = if i % 2 == 0 { 0x80 | serial[0] } else { 0x01 };
            entry(&serial, T0 - i as i64 * 3_600, *r)
        })
        .collect();
    entries.push(entry(&[0x05], T0 - 99, None)); // a one-byte serial
    let mut late = entry(&[0x00, 0xFF, 0x01], T0, Some(CrlReason::KeyCompromise));
    let in_2051 = 2_556_143_999 + 3; // after 2050: GeneralizedTime
    late.time = Time::GeneralTime(
        GeneralizedTime::from_unix_duration(Duration::from_secs(in_2051)).expect("time"),
    );
    entries.push(late);
    let der = ca.crl(&full(77, entries.clone()));
    let crl = Crl::parse(&der).expect("parse");
    assert_eq!(crl.len(), entries.len());
    assert_eq!(our_entries(&crl), openssl_entries(&der));
    for e in &entries {
        let found = crl
            .lookup(&key(&e.serial))
            .expect("found by the certificate's serial bytes");
        assert_eq!(found.reason, e.reason.map(|r| r as u8));
        assert_eq!(found.revoked_at, e.time.to_unix_duration().as_secs() as i64);
    }
    assert_eq!(
        crl.lookup(&key(&[0xFF, 0x01])).map(|e| e.revoked_at),
        Some(in_2051 as i64)
    );
    // High-bit serials: the certificate carries a leading 00; without it the INTEGER is negative.
    let high = key(&entries[0].serial);
    assert_eq!(high[0], 0x00);
    assert!(crl.lookup(&high[1..]).is_none());
    // A redundant sign byte on the caller's side still finds the entry.
    assert!(crl.lookup(&[0x00, 0x05]).is_some());
    assert!(crl.lookup(&[0x06]).is_none());
}

#[test]
fn a_serial_listed_twice_keeps_its_first_entry() {
    let ca = Ca::new(KeyAlgorithm::P256, "DUPLICATE TEST CA");
    let crl = Crl::parse(&ca.crl(&full(
        1,
        vec![
            entry(&[0x21], T0 - DAY, Some(CrlReason::KeyCompromise)),
            entry(&[0x21], T0, Some(CrlReason::CertificateHold)),
            entry(&[0x22], T0, None),
        ],
    )))
    .expect("parse");
    assert_eq!(crl.len(), 3);
    assert_eq!(crl.lookup(&[0x21]).map(|e| e.reason), Some(Some(1)));
    assert!(crl.lookup(&[0x22]).is_some());
}

#[test]
fn many_entries_index_and_look_up() {
    let ca = Ca::new(KeyAlgorithm::P256, "MANY TEST CA");
    let entries: Vec<Entry> = (0u32..5_000)
        .map(|i| {
            let mut serial = [0x3Cu8; 16];
            serial[12..].copy_from_slice(&i.to_be_bytes());
            entry(
                &serial,
                T0 - i64::from(i),
                (i % 3 == 0).then_some(CrlReason::Superseded),
            )
        })
        .collect();
    let crl = Crl::parse(&ca.crl(&full(5, entries.clone()))).expect("parse");
    assert_eq!(crl.len(), 5_000);
    for (i, e) in entries.iter().enumerate() {
        let found = crl.lookup(&key(&e.serial)).expect("found");
        assert_eq!(found.revoked_at, T0 - i as i64);
    }
    let mut miss = [0x3Cu8; 16];
    miss[12..].copy_from_slice(&9_999u32.to_be_bytes());
    assert!(crl.lookup(&miss).is_none());
    assert!(crl.heap_size() > 5_000 * 16);
    assert!(format!("{crl:?}").contains("entries: 5000"));
}
