//! Builds CRLs for the tests with x509-cert types, signed through the crate's algorithm table.

use std::str::FromStr;
use std::time::Duration;

use const_oid::db::rfc5280;
use der::asn1::{BitString, Ia5String, ObjectIdentifier, OctetString, Uint, UtcTime};
use der::{Encode, Header, Length};
use spki::SubjectPublicKeyInfoOwned;
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

use super::*;
use crate::crypto::{KeyAlgorithm, SigningKey};

const T0: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY: i64 = 86_400;
pub(super) struct Ca {
    pub(super) key: SigningKey,
    pub(super) name: Name,
}

pub(super) fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("encode")).expect("octets"),
    }
}

pub(super) fn utc(unix: i64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(unix as u64)).expect("UTCTime"))
}

pub(super) fn uri(url: &str) -> DistributionPointName {
    DistributionPointName::FullName(vec![GeneralName::UniformResourceIdentifier(
        Ia5String::new(url).expect("ASCII"),
    )])
}

/// One revoked entry to write.
#[derive(Clone)]
pub(super) struct Entry {
    pub(super) serial: Vec<u8>,
    pub(super) time: Time,
    pub(super) reason: Option<CrlReason>,
    pub(super) extra: Vec<Extension>,
}

pub(super) fn entry(serial: &[u8], at: i64, reason: Option<CrlReason>) -> Entry {
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
    pub(super) number: Option<Uint>,
    pub(super) base: Option<Uint>,
    pub(super) this_update: i64,
    pub(super) entries: Vec<Entry>,
    pub(super) extra: Vec<Extension>,
    pub(super) freshest: Option<&'static str>,
}

pub(super) fn uint(n: u64) -> Uint {
    Uint::new(&n.to_be_bytes()).expect("uint")
}

pub(super) fn full(number: u64, entries: Vec<Entry>) -> Spec {
    Spec {
        number: Some(uint(number)),
        base: None,
        this_update: T0,
        entries,
        extra: Vec::new(),
        freshest: Some("http://127.0.0.1:8080/pki/crl/ca-delta.crl"),
    }
}

pub(super) fn delta(number: u64, base: u64, entries: Vec<Entry>) -> Spec {
    Spec {
        base: Some(uint(base)),
        freshest: None,
        ..full(number, entries)
    }
}

/// A positive serial of `magnitude` as a certificate would carry it. Decoded rather than built
/// with `SerialNumber::new`, which refuses 20 bytes with the high bit set (21 encoded bytes) while
/// decoding accepts them, as real CAs issue them.
pub(super) fn serial_number(magnitude: &[u8]) -> SerialNumber {
    let integer = Uint::new(magnitude)
        .expect("uint")
        .to_der()
        .expect("INTEGER");
    der::Decode::from_der(&integer).expect("serial")
}

/// The serial as a certificate carrying `magnitude` would give it to `lookup`.
pub(super) fn key(magnitude: &[u8]) -> Vec<u8> {
    serial_number(magnitude).as_bytes().to_vec()
}

impl Ca {
    pub(super) fn new(algorithm: KeyAlgorithm, cn: &str) -> Ca {
        Ca {
            key: SigningKey::generate(algorithm).expect("key"),
            name: Name::from_str(&format!("CN={cn},C=KZ")).expect("name"),
        }
    }

    pub(super) fn spki(&self) -> SubjectPublicKeyInfoOwned {
        self.key.public_key_info().expect("spki")
    }

    pub(super) fn key_id(&self) -> Vec<u8> {
        crate::crypto::sha1(self.key.public_key_bytes()).to_vec()
    }

    pub(super) fn tbs(&self, spec: &Spec) -> TbsCertList {
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

    pub(super) fn sign(&self, tbs: TbsCertList) -> Vec<u8> {
        let signature = self.key.sign(&tbs.to_der().expect("tbs")).expect("sign");
        CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature: BitString::from_bytes(&signature).expect("bits"),
        }
        .to_der()
        .expect("crl")
    }

    pub(super) fn crl(&self, spec: &Spec) -> Vec<u8> {
        self.sign(self.tbs(spec))
    }

    /// Wraps hand-made TBS content (without its SEQUENCE header) into a signed CRL.
    pub(super) fn sign_raw(&self, tbs_content: &[u8]) -> Vec<u8> {
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
pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
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

pub(super) fn unsupported(result: Result<Crl, CrlError>) -> String {
    match result {
        Err(CrlError::UnsupportedCritical(message)) => message,
        other => panic!("expected UnsupportedCritical, got {other:?}"),
    }
}

pub(super) fn malformed(result: Result<impl std::fmt::Debug, CrlError>) -> String {
    match result {
        Err(CrlError::Malformed(message)) => message,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

pub(super) fn idp(value: IssuingDistributionPoint) -> Extension {
    ext(rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT, true, &value)
}
