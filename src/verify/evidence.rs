//! What a format adapter hands the pipeline: one format-neutral description per signer. The
//! steps after `format` see only these types, never a CMS or XML structure.

use std::sync::Arc;

use der::asn1::ObjectIdentifier;
use spki::AlgorithmIdentifierOwned;
use x509_cert::serial_number::SerialNumber;

use super::report::{Check, Step, SubIndication};
use crate::crypto::{CmsSignature, CryptoError, XmlSignatureMethod};
use crate::x509::Cert;

/// How a signature names the certificate of its signer.
#[derive(Debug, Clone)]
pub(super) enum SignerId {
    /// The issuer's Name as DER (as a certificate's `issuer_der` is: each SET in DER order),
    /// and the serial number.
    IssuerAndSerial {
        issuer: Vec<u8>,
        serial: SerialNumber,
    },
    /// A subjectKeyIdentifier (or, for certificates without one, the key's SHA-1 identifier).
    KeyId(Vec<u8>),
    /// An issuer named as text (XMLDSig's X509IssuerSerial) and a serial number: matched by
    /// the serial alone, since issuer text has many spellings; the signature step still needs
    /// the candidate's key to verify, and the chain step its issuer.
    Serial(Vec<u8>),
    /// The certificates the signature carries for its signer (XMLDSig's KeyInfo), by SHA-256
    /// fingerprint: the one whose key verifies is the signer, the rest only path candidates.
    Carried(Vec<[u8; 32]>),
}

impl SignerId {
    /// Does `cert` answer to this identifier? Several certificates may (an impostor can copy
    /// an issuer and serial): the signature step tries each.
    pub(super) fn matches(&self, cert: &Cert) -> bool {
        match self {
            SignerId::IssuerAndSerial { issuer, serial } => {
                cert.issuer_der == *issuer && cert.parsed.tbs_certificate.serial_number == *serial
            }
            SignerId::KeyId(id) => {
                let key = &cert.parsed.tbs_certificate.subject_public_key_info;
                cert.subject_key_id() == Some(id.as_slice())
                    || crate::crypto::key_identifier(key).as_slice() == id.as_slice()
            }
            SignerId::Serial(serial) => {
                cert.parsed.tbs_certificate.serial_number.as_bytes() == serial.as_slice()
            }
            SignerId::Carried(fingerprints) => fingerprints.contains(&cert.fingerprint),
        }
    }
}

/// The algorithm a signature claims, resolved against the signer's key by the algorithm table
/// (`crate::crypto`) in the signature step.
#[derive(Debug, Clone)]
pub(super) enum AlgorithmClaim {
    /// CMS: the digestAlgorithm and signatureAlgorithm identifiers.
    Identifiers {
        digest: ObjectIdentifier,
        signature: AlgorithmIdentifierOwned,
    },
    /// XMLDSig: the SignatureMethod URI (an unknown one is reported as unsupported).
    Uri(String),
}

impl AlgorithmClaim {
    pub(super) fn resolve(
        &self,
        key: &spki::SubjectPublicKeyInfoOwned,
    ) -> Result<CmsSignature, CryptoError> {
        match self {
            AlgorithmClaim::Identifiers { digest, signature } => {
                CmsSignature::resolve(digest, signature, key)
            }
            AlgorithmClaim::Uri(uri) => XmlSignatureMethod::from_uri(uri)
                .ok_or_else(|| CryptoError::UnsupportedSignature(format!("SignatureMethod {uri}")))?
                .resolve(key),
        }
    }
}

/// A failure the format itself found (a changed content, a malformed attribute): reported by
/// the signature step, after the signer's certificate and algorithm are known.
#[derive(Debug, Clone)]
pub(super) struct IntegrityFailure {
    pub sub: SubIndication,
    pub code: &'static str,
    pub detail: String,
}

impl IntegrityFailure {
    pub(super) fn new(sub: SubIndication, code: &'static str, detail: impl Into<String>) -> Self {
        IntegrityFailure {
            sub,
            code,
            detail: detail.into(),
        }
    }

    pub(super) fn into_check(self) -> Check {
        Check::failed(Step::Signature, self.sub, self.code, self.detail)
    }
}

/// One signer, as every format describes it.
#[derive(Debug, Clone)]
pub(super) struct SignerEvidence {
    pub id: SignerId,
    pub algorithm: AlgorithmClaim,
    /// The exact bytes the signature value covers, once the format's own integrity checks
    /// (CMS: contentType and messageDigest) have passed. Shared: 64 signers of one 12 MB
    /// content (signed without attributes) hold it once, not 64 times.
    pub signed: Result<Arc<[u8]>, IntegrityFailure>,
    pub signature: Vec<u8>,
    /// The time the signer claims (CMS signingTime): reported, not trusted as proof.
    pub claimed_signing_time: Option<i64>,
    /// What the signature covers, for the report (XMLDSig: element paths such as `/request`);
    /// empty where the format signs one content (CMS).
    pub covers: Vec<String>,
    /// The signature time-stamp tokens (RFC 3161 ContentInfo, DER as received) over this
    /// signature value: CMS's id-aa-signatureTimeStampToken unsigned attributes.
    pub timestamps: Vec<Vec<u8>>,
    /// Archive time-stamps (CAdES archive-time-stamp-v3), oldest first as carried.
    pub archive_timestamps: Vec<ArchiveStamp>,
    /// The hash of the signer's certificate its signed attributes bind (CMS's ESS
    /// signingCertificate or signingCertificateV2); `Err`: the attribute is malformed.
    pub signing_certificate: Result<Option<CertHash>, String>,
}

/// A certificate named by its hash (ESSCertID, ESSCertIDv2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CertHash {
    pub algorithm: ObjectIdentifier,
    pub hash: Vec<u8>,
}

/// The applicant's numbers as the signed content states them, read by the format adapter from
/// signed content only (an unsigned part of an XML document never counts).
#[derive(Debug, Clone, Default)]
pub(super) struct SignedNumbers {
    pub iin: Option<String>,
    pub bin: Option<String>,
}

/// A signed input, read.
pub(super) struct Parsed {
    pub signers: Vec<SignerEvidence>,
    /// Certificates the signature carries.
    pub certificates: Vec<Arc<Cert>>,
    /// The signed content: carried, or the detached content the caller supplied.
    pub content: Option<Arc<[u8]>>,
    /// The IIN/BIN the signed content states.
    pub numbers: SignedNumbers,
    /// The format check's summary ("CMS SignedData, attached content, …").
    pub summary: String,
    /// Revocation values the signature carries (CAdES-LT).
    pub revocation: RevocationValues,
}

/// An archive time-stamp token and the bytes its imprint must be the hash of (recomputed from
/// the signature and its ats-hash-index-v3), or why they cannot be had.
#[derive(Debug, Clone)]
pub(super) struct ArchiveStamp {
    pub token: Vec<u8>,
    pub stamped: Result<Vec<u8>, String>,
}

/// CRLs and OCSP responses carried with a signature (CMS SignedData.crls, CAdES-LT): evidence
/// of revocation status at the time they were issued, usable long after they could be fetched.
#[derive(Debug, Clone, Default)]
pub(super) struct RevocationValues {
    pub crls: Vec<Arc<crate::x509::crl::Crl>>,
    /// OCSPResponse DER, each checked against the certificate it is used for.
    pub ocsp_responses: Vec<Vec<u8>>,
}
