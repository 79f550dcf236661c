//! Assembling and signing certificates.

use der::asn1::BitString;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use std::time::Duration;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::PkiError;
use crate::crypto::{self, SigningKey};

/// A fresh serial: 20 random bytes, the first in 0x01..=0x7F so the DER INTEGER is positive,
/// exactly 20 bytes long (RFC 5280's maximum) like NCA's, and its hex form is stable.
pub fn random_serial() -> Result<Vec<u8>, PkiError> {
    let mut bytes = crypto::random_bytes::<20>()?;
    bytes[0] = (bytes[0] & 0x7f).max(1);
    Ok(bytes.to_vec())
}

/// Upper-case hex of a serial's bytes: the key certificates are stored and looked up by.
pub fn serial_hex(serial: &SerialNumber) -> String {
    hex::encode_upper(serial.as_bytes())
}

/// Normalises a serial typed by a person: hex, case-insensitive, colons and spaces ignored,
/// leading zero bytes as DER would strip them.
pub fn normalise_serial(input: &str) -> Result<String, PkiError> {
    let cleaned: String = input
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>()
        .to_ascii_uppercase();
    let cleaned = cleaned.strip_prefix("0X").unwrap_or(&cleaned).to_owned();
    if cleaned.is_empty() || cleaned.len() > 64 || !cleaned.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PkiError::invalid(format!(
            "serial {:?} is not a hexadecimal certificate serial number",
            crate::x509::name::truncate(input, 80)
        )));
    }
    let padded = if cleaned.len() % 2 == 1 {
        format!("0{cleaned}")
    } else {
        cleaned
    };
    let mut bytes =
        hex::decode(&padded).map_err(|_| PkiError::invalid("serial is not hexadecimal"))?;
    // DER INTEGER contents keep one leading zero only when the next byte has its top bit set.
    while bytes.len() > 1 && bytes[0] == 0 && bytes[1] & 0x80 == 0 {
        bytes.remove(0);
    }
    Ok(hex::encode_upper(bytes))
}

/// An X.509 time from unix seconds: UTCTime before 2050, GeneralizedTime from then on (RFC 5280).
pub fn time(unix: i64) -> Result<Time, PkiError> {
    let secs = u64::try_from(unix).map_err(|_| PkiError::invalid("time before 1970"))?;
    let duration = Duration::from_secs(secs);
    // x509-cert's own conversion picks GeneralizedTime; RFC 5280 §4.1.2.5 (and NCA) say UTCTime.
    if der::DateTime::from_unix_duration(duration)?.year() < 2050 {
        Ok(Time::UtcTime(der::asn1::UtcTime::from_unix_duration(
            duration,
        )?))
    } else {
        Ok(Time::GeneralTime(
            der::asn1::GeneralizedTime::from_unix_duration(duration)?,
        ))
    }
}

pub fn unix(time: &Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Key identifier (RFC 5280 §4.2.1.2 method 1): SHA-1 of the subjectPublicKey bits.
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> [u8; 20] {
    crypto::key_identifier(spki)
}

/// What a certificate says, before it is signed.
pub struct CertificateContent {
    pub serial: Vec<u8>,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: i64,
    pub not_after: i64,
    pub public_key: SubjectPublicKeyInfoOwned,
    pub extensions: Vec<Extension>,
}

/// Signs the content with the issuer's key and returns the certificate's DER.
pub fn sign(content: CertificateContent, issuer_key: &SigningKey) -> Result<Vec<u8>, PkiError> {
    let algorithm = issuer_key.signature_algorithm().identifier();
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&content.serial)?,
        signature: algorithm.clone(),
        issuer: content.issuer,
        validity: Validity {
            not_before: time(content.not_before)?,
            not_after: time(content.not_after)?,
        },
        subject: content.subject,
        subject_public_key_info: content.public_key,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(content.extensions),
    };
    let signature = issuer_key.sign(&tbs.to_der()?)?;
    let certificate = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(certificate.to_der()?)
}

pub fn parse(der: &[u8]) -> Result<Certificate, PkiError> {
    Certificate::from_der(der)
        .map_err(|e| PkiError::Config(format!("stored certificate does not parse: {e}")))
}

/// PEM with the standard label.
pub fn pem(der: &[u8]) -> Result<String, PkiError> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
        .map_err(|e| PkiError::Config(format!("PEM encoding failed: {e}")))
}
