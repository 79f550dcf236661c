//! A certificate as every room handles it: parsed once, with its DER, fingerprint, names and
//! the extensions qoltanba acts on.

use std::sync::OnceLock;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::Certificate;

use super::extensions::Extensions;
use super::key_profile::KeyProfile;
use super::name;
use crate::identity::{Bin, Iin};

#[derive(Debug)]
pub struct Cert {
    pub der: Vec<u8>,
    pub parsed: Certificate,
    /// SHA-256 of the DER: the key of every cache.
    pub fingerprint: [u8; 32],
    /// DER of the issuer and subject Names, compared byte for byte when building paths.
    pub issuer_der: Vec<u8>,
    pub subject_der: Vec<u8>,
    /// Readable names, rendered once (reports name certificates many times) and cut at
    /// [`MAX_NAME_CHARS`]: a real name is far shorter, and a report that names the same
    /// certificate for each of many signers must not grow with a name made to be huge.
    subject_text: String,
    issuer_text: String,
    extensions: Extensions,
    /// What reports show of the subject and of the key, worked out the first time a report
    /// needs them: a cached certificate signs many requests.
    subject_summary: OnceLock<SubjectSummary>,
    key_profile: OnceLock<KeyProfile>,
    rsa_modulus_bits: OnceLock<Option<usize>>,
    /// The serial number in hex and the validity bounds in RFC 3339, as every signer's report
    /// shows them.
    report_texts: OnceLock<ReportTexts>,
}

#[derive(Debug)]
struct ReportTexts {
    serial_hex: String,
    not_before: String,
    not_after: String,
}

/// The subject attributes a signer's report shows, each cut at [`MAX_NAME_CHARS`] like the
/// rendered names, and the IIN and BIN it carries.
#[derive(Debug, Clone, Default)]
pub struct SubjectSummary {
    pub cn: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub organisation: Option<String>,
    pub numbers: SubjectNumbers,
}

/// Longest readable name kept (characters; a cut one ends in "…").
pub const MAX_NAME_CHARS: usize = 512;

/// Why bytes are not a usable certificate.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("not a DER certificate: {0}")]
    Der(#[from] der::Error),
    #[error("the extension {0} appears more than once")]
    DuplicateExtension(ObjectIdentifier),
    #[error("malformed {name} extension ({oid}): {problem}")]
    MalformedExtension {
        oid: ObjectIdentifier,
        name: &'static str,
        problem: String,
    },
}

/// The IIN and BIN a certificate's subject carries, NCA's way: SERIALNUMBER "IIN…", OU "BIN…".
#[derive(Debug, Clone, Default)]
pub struct SubjectNumbers {
    pub iin: Option<Iin>,
    pub bin: Option<Bin>,
}

impl Cert {
    /// Parses DER, keeping the bytes exactly as given (signatures are checked over them).
    pub fn from_der(der: &[u8]) -> Result<Cert, CertError> {
        super::check_set_sizes(der)?;
        let parsed = Certificate::from_der(der)?;
        Self::build(der.to_vec(), parsed)
    }

    pub fn from_parsed(parsed: Certificate) -> Result<Cert, CertError> {
        let der = parsed.to_der()?;
        Self::build(der, parsed)
    }

    fn build(der: Vec<u8>, parsed: Certificate) -> Result<Cert, CertError> {
        let tbs = &parsed.tbs_certificate;
        Ok(Cert {
            fingerprint: crate::crypto::sha256(&der),
            issuer_der: tbs.issuer.to_der()?,
            subject_der: tbs.subject.to_der()?,
            subject_text: name::truncate(&name::display(&tbs.subject), MAX_NAME_CHARS),
            issuer_text: name::truncate(&name::display(&tbs.issuer), MAX_NAME_CHARS),
            extensions: Extensions::read(tbs.extensions.as_deref())?,
            subject_summary: OnceLock::new(),
            key_profile: OnceLock::new(),
            rsa_modulus_bits: OnceLock::new(),
            report_texts: OnceLock::new(),
            der,
            parsed,
        })
    }

    /// The extensions qoltanba acts on, as read when the certificate was parsed.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The IIN and BIN in the subject, if it carries them.
    pub fn subject_numbers(&self) -> SubjectNumbers {
        let subject = &self.parsed.tbs_certificate.subject;
        SubjectNumbers {
            iin: name::attribute(subject, "SERIALNUMBER")
                .and_then(|s| Iin::from_subject_serial(&s)),
            bin: name::attribute(subject, "OU").and_then(|s| Bin::from_subject_ou(&s)),
        }
    }

    /// [`Cert::subject_numbers`] and the attributes reports show, read once.
    pub fn subject_summary(&self) -> &SubjectSummary {
        self.subject_summary.get_or_init(|| {
            let subject = &self.parsed.tbs_certificate.subject;
            let attribute = |short: &str| {
                name::attribute(subject, short).map(|v| name::truncate(&v, MAX_NAME_CHARS))
            };
            SubjectSummary {
                cn: attribute("CN"),
                surname: attribute("SURNAME"),
                given_name: attribute("GIVENNAME"),
                organisation: attribute("O"),
                numbers: self.subject_numbers(),
            }
        })
    }

    /// [`KeyProfile::of`] this certificate, worked out once.
    pub fn key_profile(&self) -> &KeyProfile {
        self.key_profile.get_or_init(|| KeyProfile::of(self))
    }

    /// The size of the subject's RSA key (`crypto::rsa_modulus_bits`), read once.
    pub fn rsa_modulus_bits(&self) -> Option<usize> {
        *self.rsa_modulus_bits.get_or_init(|| {
            crate::crypto::rsa_modulus_bits(&self.parsed.tbs_certificate.subject_public_key_info)
        })
    }

    pub fn serial_hex(&self) -> String {
        self.report_texts().serial_hex.clone()
    }

    /// [`Cert::not_before`] in RFC 3339, written once.
    pub fn not_before_text(&self) -> &str {
        &self.report_texts().not_before
    }

    /// [`Cert::not_after`] in RFC 3339, written once.
    pub fn not_after_text(&self) -> &str {
        &self.report_texts().not_after
    }

    fn report_texts(&self) -> &ReportTexts {
        self.report_texts.get_or_init(|| ReportTexts {
            serial_hex: hex::encode_upper(self.parsed.tbs_certificate.serial_number.as_bytes()),
            not_before: crate::time::rfc3339(self.not_before()),
            not_after: crate::time::rfc3339(self.not_after()),
        })
    }

    pub fn subject(&self) -> String {
        self.subject_text.clone()
    }

    pub fn issuer(&self) -> String {
        self.issuer_text.clone()
    }

    /// [`Cert::subject`] without a copy, for messages.
    pub fn subject_text(&self) -> &str {
        &self.subject_text
    }

    pub fn not_before(&self) -> i64 {
        crate::time::unix(
            &self
                .parsed
                .tbs_certificate
                .validity
                .not_before
                .to_unix_duration(),
        )
    }

    pub fn not_after(&self) -> i64 {
        crate::time::unix(
            &self
                .parsed
                .tbs_certificate
                .validity
                .not_after
                .to_unix_duration(),
        )
    }

    pub fn is_self_issued(&self) -> bool {
        self.issuer_der == self.subject_der
    }

    pub fn key_usage(&self) -> Option<KeyUsage> {
        self.extensions.key_usage
    }

    /// The extendedKeyUsage purposes; empty when the extension is absent.
    pub fn extended_key_usage(&self) -> &[ObjectIdentifier] {
        self.extensions
            .extended_key_usage
            .as_deref()
            .unwrap_or_default()
    }

    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.extensions.basic_constraints.clone()
    }

    /// Is this a CA certificate (basicConstraints cA)?
    pub fn is_ca(&self) -> bool {
        self.extensions
            .basic_constraints
            .as_ref()
            .is_some_and(|bc| bc.ca)
    }

    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.extensions.subject_key_id.as_deref()
    }

    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.extensions.authority_key_id.as_deref()
    }

    /// URIs of one access method in AIA (OCSP: 1.3.6.1.5.5.7.48.1, caIssuers: .48.2).
    pub fn aia_uris(&self, method: ObjectIdentifier) -> Vec<String> {
        let access = &self.extensions.access;
        access
            .iter()
            .filter(|(m, _)| *m == method)
            .map(|(_, u)| u.clone())
            .collect()
    }

    /// CRL distribution point URIs.
    pub fn crl_distribution_uris(&self) -> &[String] {
        &self.extensions.crl_distribution
    }

    /// Freshest CRL (delta CRL) URIs.
    pub fn freshest_crl_uris(&self) -> &[String] {
        &self.extensions.freshest_crl
    }

    /// Critical extensions this verifier does not process: RFC 5280 §4.2 says such a
    /// certificate must be rejected.
    pub fn unknown_critical_extensions(&self) -> Vec<String> {
        self.extensions
            .unknown_critical
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}
