//! Schemas of bodies whose Rust types live outside `http` (or are built ad hoc), described
//! here as mirrors; a test checks them against what the service really sends.

use serde::Serialize;
use utoipa::ToSchema;

/// The one error shape of the API.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "no document with id \"x\""}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: bad_request, bad_path, bad_multipart, invalid_request,
    /// invalid_document, ambiguous_authorization, unauthorized, forbidden, not_found, conflict,
    /// method_not_allowed, payload_too_large, unsupported_media_type, rate_limited, timeout,
    /// internal.
    pub code: String,
    /// For people; never carries a secret or an internal detail.
    pub message: String,
}

/// The subscriber key types (`KeyAlgorithm`, as the API spells them).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
    Ed25519,
    /// GOST R 34.10-2012 (NCA's "GOST 34.10-2015"), 512-bit, paramSetA.
    #[serde(rename = "gost2015")]
    Gost2015,
    /// NCA's older "GOST 34.310-2004": GOST R 34.10-2001 on CryptoPro-A with GOST R 34.11-94.
    #[serde(rename = "gost2004")]
    Gost2004,
}

/// `POST /v1/pki/certificates`: what to issue (`pki::IssueRequest`). Unknown fields are refused.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"profile": "individual-sign", "iin": "950341000052", "surname": "ТЕСТОВ", "given_name": "ТЕСТ", "patronymic": "ТЕСТОВИЧ", "password": "Qwerty12"}))]
pub struct IssueRequest {
    /// The certificate profile: the built-in ones are individual-sign, individual-auth,
    /// legal-head-sign, legal-signer-sign, legal-financial-sign, legal-hr-sign,
    /// legal-employee-sign and infosystem-sign.
    pub profile: String,
    /// The subject's IIN (12 digits), for profiles of people.
    pub iin: Option<String>,
    /// The organisation's BIN (12 digits), for legal-entity profiles.
    pub bin: Option<String>,
    pub org: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    /// NCA puts the patronymic in GIVENNAME; the first name goes into CN only.
    pub patronymic: Option<String>,
    /// CN for profiles whose subject is not a person (information systems).
    pub common_name: Option<String>,
    pub uid: Option<String>,
    /// The subscriber's key type; default: the issuing CA's.
    pub key: Option<KeyAlgorithm>,
    /// Validity in days (at most 3650).
    pub days: Option<u32>,
    /// Accept an IIN/BIN whose check digit or structure is wrong (NCA's own test numbers are).
    #[schema(default = false, required = false)]
    pub allow_invalid_check_digit: bool,
    /// Password of the PKCS#12 key store returned.
    pub password: Option<String>,
    /// Produce the legacy 3DES/RC2 PKCS#12 real NCA key stores use.
    #[schema(default = false, required = false)]
    pub legacy: bool,
}

/// A certificate's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    Good,
    Revoked,
    /// Suspended (certificateHold): listed on CRLs, can be released.
    Hold,
}

/// One line of the audit trail.
#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    /// Position in the trail.
    pub seq: i64,
    /// Unix time, seconds.
    pub at: i64,
    pub request_id: String,
    /// `key:<name>` or `anonymous`.
    pub actor: String,
    /// Method and route pattern, e.g. `POST /v1/documents`.
    pub action: String,
    pub target: String,
    /// "ok", "refused" or "failed".
    pub outcome: String,
    /// HTTP status, or the CLI's exit code.
    pub status: i64,
    pub detail: String,
}

/// `/readyz`: every check, and whether this instance can serve.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// "ready" or "not_ready".
    pub status: String,
    /// By check name: `database`, `ca_keys`, `crl:<ca id>`, `evidence`, `log` (the stored tree
    /// has its newest checkpoint's root), `registry` (every document re-read gives its log entry).
    pub checks: std::collections::BTreeMap<String, ReadinessCheck>,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessCheck {
    pub ok: bool,
    pub detail: String,
}

/// The overall verdict.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Indeterminate,
    Invalid,
}

/// One step's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passed,
    Skipped,
    Indeterminate,
    Failed,
}

/// One step's outcome.
#[derive(Serialize, ToSchema)]
pub struct Check {
    /// format, signature, timestamp, chain, validity, revocation, key_usage or identity.
    /// `timestamp` is reported only: a failed time-stamp gives no proof of existence but does
    /// not decide the verdict.
    pub id: String,
    pub status: CheckStatus,
    /// "OK", the sub-indication, or a finer code (e.g. IIN_MISMATCH).
    pub code: String,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubjectReport {
    pub cn: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub iin: Option<String>,
    pub iin_check_digit_valid: Option<bool>,
    pub bin: Option<String>,
    pub bin_check_digit_valid: Option<bool>,
    pub organisation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignerReport {
    pub subject: SubjectReport,
    /// Role names from the EKU (individual, legal_entity, first_head, …) and unnamed role OIDs.
    pub roles: Vec<String>,
    /// "sign", "auth" or "other".
    pub key_kind: String,
    pub serial: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// The signingTime attribute: reported, not trusted as proof of anything.
    pub signing_time: Option<String>,
    /// The signature algorithm as NCA RK names it: "GOST 34.10-2015 (512)", "GOST 34.310-2004",
    /// "RSA SHA-256", "ECDSA P-256 SHA-256", "Ed25519", …; null if it could not be resolved.
    pub algorithm: Option<String>,
    /// XML only: paths of the elements the signature covers (`/request`, `/Envelope/Body`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<String>,
    pub revocation_source: Option<String>,
    /// The signature and archive time-stamps (RFC 3161) the signer carries, each verified on
    /// its own.
    pub timestamps: Vec<TimestampReport>,
    /// RFC 3339: the earliest genTime of a time-stamp relied on (the time the signature is
    /// proven to have existed at); null without one. When earlier than the validation time,
    /// the signer's chain, validity and revocation are judged at it (past signature
    /// validation: "validated at the proof of existence …").
    pub proof_of_existence: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

/// One RFC 3161 time-stamp token of a signer.
#[derive(Serialize, ToSchema)]
pub struct TimestampReport {
    /// "signature": a signature time-stamp (id-aa-signatureTimeStampToken) over the signature
    /// value; "archive": an archive-time-stamp-v3 (CAdES-B-LTA) over the signature, its
    /// evidence and the time-stamps before it.
    #[schema(example = "signature")]
    pub kind: String,
    /// The token's genTime (RFC 3339), when its TSTInfo could be read.
    pub gen_time: Option<String>,
    /// The time-stamping authority: its certificate's subject, or the TSTInfo's tsa name.
    pub tsa: Option<String>,
    /// The TSA policy OID of the token.
    pub policy: Option<String>,
    /// passed, failed or indeterminate.
    pub status: CheckStatus,
    pub detail: String,
}

/// Where the expected IIN/BIN came from.
#[derive(Serialize, ToSchema)]
pub struct ExpectedIdentity {
    /// "caller", "content" or "none".
    pub source: String,
    pub iin: Option<String>,
    pub iin_check_digit_valid: Option<bool>,
    pub bin: Option<String>,
    pub bin_check_digit_valid: Option<bool>,
}

/// The процесс 7 refusal text, when the signature is not accepted.
#[derive(Serialize, ToSchema)]
pub struct Refusal {
    pub ru: String,
    pub kk: String,
    pub en: String,
    /// The specific reason, in English.
    pub reason: String,
}

/// The verification report (`verify::Report`): verdict, ETSI EN 319 102-1 indication and
/// sub-indication, one check per step, the signers.
#[derive(Serialize, ToSchema)]
pub struct Report {
    pub verdict: Verdict,
    /// TOTAL_PASSED, TOTAL_FAILED or INDETERMINATE.
    pub indication: String,
    /// e.g. REVOKED, EXPIRED, FORMAT_FAILURE, TRY_LATER.
    pub sub_indication: Option<String>,
    pub validation_time: String,
    /// Exactly the seven steps, in order.
    pub checks: Vec<Check>,
    pub signers: Vec<SignerReport>,
    pub expected_identity: ExpectedIdentity,
    /// Present only when the verdict is not valid.
    #[schema(required = false)]
    pub refusal: Option<Refusal>,
}

/// The auditor page's upload form (`multipart/form-data`).
#[derive(Serialize, ToSchema)]
pub struct AuditorUpload {
    /// The signature file: CMS (.p7s; DER or PEM), or an XML document signed in place.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub signature: Vec<u8>,
    /// The signed file, when the signature is detached.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    pub content: Option<Vec<u8>>,
}
