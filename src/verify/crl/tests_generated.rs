//! CRLs made here with x509-cert types and signed through the crate's algorithm table: full and
//! delta CRLs, v1, empty, extensions we must refuse, tampering, and OpenSSL as a peer.

use std::str::FromStr;
use std::time::Duration;

use const_oid::db::rfc5280;
use der::asn1::{
    BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, Uint, UtcTime,
};
use der::{Encode, Header, Length};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, IssuingDistributionPoint};
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber, CrlReason, FreshestCrl};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;
use x509_cert::Version;

use super::tests::{openssl_entries, our_entries};
use super::*;
use crate::crypto::{KeyAlgorithm, SignatureAlgorithm, SigningKey};

const T0: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY: i64 = 86_400;

pub(super) struct Ca {
    key: SigningKey,
    name: Name,
}

fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("encode")).expect("octets"),
    }
}

fn utc(unix: i64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(unix as u64)).expect("UTCTime"))
}

fn uri(url: &str) -> DistributionPointName {
    DistributionPointName::FullName(vec![GeneralName::UniformResourceIdentifier(
        Ia5String::new(url).expect("ASCII"),
    )])
}

/// One revoked entry to write.
#[derive(Clone)]
pub(super) struct Entry {
    serial: Vec<u8>,
    time: Time,
    reason: Option<CrlReason>,
    extra: Vec<Extension>,
}

fn entry(serial: &[u8], at: i64, reason: Option<CrlReason>) -> Entry {
    Entry {
        serial: serial.to_vec(),
        time: utc(at),
        reason,
        extra: Vec::new(),
    }
}

/// What a generated CRL says.
#[derive(Clone)]
pub(super) struct Spec {
    number: Option<Uint>,
    base: Option<Uint>,
    this_update: i64,
    entries: Vec<Entry>,
    extra: Vec<Extension>,
    freshest: Option<&'static str>,
}

fn uint(n: u64) -> Uint {
    Uint::new(&n.to_be_bytes()).expect("uint")
}

fn full(number: u64, entries: Vec<Entry>) -> Spec {
    Spec {
        number: Some(uint(number)),
        base: None,
        this_update: T0,
        entries,
        extra: Vec::new(),
        freshest: Some("http://127.0.0.1:8080/pki/crl/ca-delta.crl"),
    }
}

fn delta(number: u64, base: u64, entries: Vec<Entry>) -> Spec {
    Spec {
        base: Some(uint(base)),
        freshest: None,
        ..full(number, entries)
    }
}

/// A positive serial of `magnitude` as a certificate would carry it. Decoded rather than built
/// with `SerialNumber::new`, which refuses 20 bytes with the high bit set (21 encoded bytes) while
/// decoding accepts them, as real CAs issue them.
fn serial_number(magnitude: &[u8]) -> SerialNumber {
    let integer = Uint::new(magnitude)
        .expect("uint")
        .to_der()
        .expect("INTEGER");
    der::Decode::from_der(&integer).expect("serial")
}

/// The serial as a certificate carrying `magnitude` would give it to `lookup`.
fn key(magnitude: &[u8]) -> Vec<u8> {
    serial_number(magnitude).as_bytes().to_vec()
}

impl Ca {
    pub(super) fn new(algorithm: KeyAlgorithm, cn: &str) -> Ca {
        Ca {
            key: SigningKey::generate(algorithm).expect("key"),
            name: Name::from_str(&format!("CN={cn},C=KZ")).expect("name"),
        }
    }

    fn spki(&self) -> SubjectPublicKeyInfoOwned {
        self.key.public_key_info().expect("spki")
    }

    fn key_id(&self) -> Vec<u8> {
        crate::crypto::sha1(self.key.public_key_bytes()).to_vec()
    }

    fn tbs(&self, spec: &Spec) -> TbsCertList {
        let revoked: Vec<RevokedCert> = spec
            .entries
            .iter()
            .map(|e| {
                let mut extensions: Vec<Extension> = e
                    .reason
                    .iter()
                    .map(|r| ext(rfc5280::ID_CE_CRL_REASONS, false, r))
                    .collect();
                extensions.extend(e.extra.iter().cloned());
                RevokedCert {
                    serial_number: serial_number(&e.serial),
                    revocation_date: e.time,
                    crl_entry_extensions: (!extensions.is_empty()).then_some(extensions),
                }
            })
            .collect();
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(self.key_id()).expect("octets")),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        let mut extensions = vec![ext(rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &aki)];
        if let Some(n) = &spec.number {
            extensions.push(ext(rfc5280::ID_CE_CRL_NUMBER, false, &CrlNumber(n.clone())));
        }
        if let Some(base) = &spec.base {
            let value = BaseCrlNumber(base.clone());
            extensions.push(ext(rfc5280::ID_CE_DELTA_CRL_INDICATOR, true, &value));
        }
        if let Some(url) = spec.freshest {
            let value = FreshestCrl(vec![DistributionPoint {
                distribution_point: Some(uri(url)),
                reasons: None,
                crl_issuer: None,
            }]);
            extensions.push(ext(rfc5280::ID_CE_FRESHEST_CRL, false, &value));
        }
        extensions.extend(spec.extra.iter().cloned());
        TbsCertList {
            version: Version::V2,
            signature: self.key.signature_algorithm().identifier(),
            issuer: self.name.clone(),
            this_update: utc(spec.this_update),
            next_update: Some(utc(spec.this_update + 7 * DAY)),
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: Some(extensions),
        }
    }

    fn sign(&self, tbs: TbsCertList) -> Vec<u8> {
        let signature = self.key.sign(&tbs.to_der().expect("tbs")).expect("sign");
        CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature: BitString::from_bytes(&signature).expect("bits"),
        }
        .to_der()
        .expect("crl")
    }

    fn crl(&self, spec: &Spec) -> Vec<u8> {
        self.sign(self.tbs(spec))
    }

    /// Wraps hand-made TBS content (without its SEQUENCE header) into a signed CRL.
    fn sign_raw(&self, tbs_content: &[u8]) -> Vec<u8> {
        let tbs = tlv(0x30, tbs_content);
        let signature = self.key.sign(&tbs).expect("sign");
        let mut body = tbs;
        body.extend(
            self.key
                .signature_algorithm()
                .identifier()
                .to_der()
                .expect("alg"),
        );
        body.extend(
            BitString::from_bytes(&signature)
                .expect("bits")
                .to_der()
                .expect("bits"),
        );
        tlv(0x30, &body)
    }
}

/// Length of the DER header at the start of `der`.
pub(super) fn header_len(der: &[u8]) -> usize {
    let mut reader = der::SliceReader::new(der).expect("reader");
    let header: Header = der::Decode::decode(&mut reader).expect("header");
    usize::try_from(header.encoded_len().expect("len")).expect("usize")
}

/// A DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    Length::try_from(content.len())
        .expect("length")
        .encode_to_vec(&mut out)
        .expect("length");
    out.extend_from_slice(content);
    out
}

/// A small P-256 CRL with three entries, for the hostile-input tests.
pub(super) fn small_crl() -> Vec<u8> {
    let ca = Ca::new(KeyAlgorithm::P256, "SMALL TEST CA");
    ca.crl(&full(
        1,
        vec![
            entry(&[0x01, 0x02], T0 - DAY, Some(CrlReason::KeyCompromise)),
            entry(&[0x83; 20], T0 - 2 * DAY, None),
            entry(
                &[0x7F, 0x00, 0x01],
                T0 - 3 * DAY,
                Some(CrlReason::CertificateHold),
            ),
        ],
    ))
}

fn unsupported(result: Result<Crl, CrlError>) -> String {
    match result {
        Err(CrlError::UnsupportedCritical(message)) => message,
        other => panic!("expected UnsupportedCritical, got {other:?}"),
    }
}

fn malformed(result: Result<impl std::fmt::Debug, CrlError>) -> String {
    match result {
        Err(CrlError::Malformed(message)) => message,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

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

fn idp(value: IssuingDistributionPoint) -> Extension {
    ext(rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT, true, &value)
}

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
