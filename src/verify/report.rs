//! Step 8, the report: verdict, ETSI EN 319 102-1 indication and sub-indication, one check per
//! step, the signers, and the процесс 7 refusal text when the signature is not accepted.

use serde::Serialize;

pub use super::step::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Indeterminate,
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Skipped,
    Indeterminate,
    Failed,
}

/// ETSI EN 319 102-1 sub-indications used here, each with the verdict it implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    FormatFailure,
    SigCryptoFailure,
    HashFailure,
    CryptoConstraintsFailure,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    ChainConstraintsFailure,
    Expired,
    NotYetValid,
    Revoked,
    TryLater,
    /// Validated at a proof of existence in the past, and no revocation information issued
    /// after it (or current then) covers the certificate (EN 319 102-1 §5.6.2.4).
    RevocationOutOfBoundsNoPoe,
    SigConstraintsFailure,
}

impl SubIndication {
    pub fn name(self) -> &'static str {
        match self {
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            SubIndication::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            SubIndication::Expired => "EXPIRED",
            SubIndication::NotYetValid => "NOT_YET_VALID",
            SubIndication::Revoked => "REVOKED",
            SubIndication::TryLater => "TRY_LATER",
            SubIndication::RevocationOutOfBoundsNoPoe => "REVOCATION_OUT_OF_BOUNDS_NO_POE",
            SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
        }
    }
}

/// A check's code: "OK", "SKIPPED", a sub-indication or a finer code (e.g. IIN_MISMATCH). One
/// of a fixed set, so a report holds it without allocating; it reads, compares, prints and
/// serialises as the string it is.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code(&'static str);

impl Code {
    pub const fn new(code: &'static str) -> Code {
        Code(code)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Code {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl From<&'static str> for Code {
    fn from(code: &'static str) -> Code {
        Code(code)
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.0
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// One step's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: Step,
    pub status: Status,
    /// "OK", the sub-indication, or a finer code (e.g. IIN_MISMATCH).
    pub code: Code,
    pub detail: String,
    #[serde(skip)]
    pub sub_indication: Option<SubIndication>,
}

impl Check {
    pub fn passed(id: Step, detail: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Passed,
            code: Code("OK"),
            detail: detail.into(),
            sub_indication: None,
        }
    }
    pub fn skipped(id: Step, detail: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Skipped,
            code: Code("SKIPPED"),
            detail: detail.into(),
            sub_indication: None,
        }
    }
    pub fn failed(
        id: Step,
        sub: SubIndication,
        code: &'static str,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            id,
            status: Status::Failed,
            code: Code(code),
            detail: detail.into(),
            sub_indication: Some(sub),
        }
    }
    pub fn indeterminate(
        id: Step,
        sub: SubIndication,
        code: &'static str,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            id,
            status: Status::Indeterminate,
            code: Code(code),
            detail: detail.into(),
            sub_indication: Some(sub),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
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
    /// The signature algorithm as NCA RK and its users name it: "GOST 34.10-2015 (512)",
    /// "GOST 34.310-2004", "RSA SHA-256", "ECDSA P-256 SHA-256", "Ed25519", …; null when the
    /// signer's certificate was not found or the algorithm is not one of the table's.
    pub algorithm: Option<String>,
    /// What the signature covers, for XML: paths of the signed elements (`/request`,
    /// `/Envelope/Body`); absent for CMS, whose signature covers its one content.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<String>,
    pub revocation_source: Option<String>,
    /// The signature time-stamps the signer carries, each verified on its own.
    pub timestamps: Vec<TimestampReport>,
    /// RFC 3339: the earliest genTime of a valid signature time-stamp — the time the signature
    /// is proven to have existed at; null without one.
    pub proof_of_existence: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

/// One RFC 3161 time-stamp token of a signer.
#[derive(Debug, Clone, Serialize)]
pub struct TimestampReport {
    /// "signature": a signature time-stamp (id-aa-signatureTimeStampToken) over the signature
    /// value; "archive": an archive-time-stamp-v3 over the signature, its evidence and the
    /// tokens before it (CAdES-B-LTA).
    pub kind: &'static str,
    /// The token's genTime (RFC 3339), when its TSTInfo could be read.
    pub gen_time: Option<String>,
    /// The time-stamping authority: its certificate's subject, or the TSTInfo's tsa name.
    pub tsa: Option<String>,
    /// The TSA policy OID under which the token was issued.
    pub policy: Option<String>,
    /// passed, failed or indeterminate, as a check's.
    pub status: Status,
    pub detail: String,
}

/// Where the expected IIN/BIN came from.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedIdentity {
    /// "caller", "content" or "none".
    pub source: String,
    pub iin: Option<String>,
    pub iin_check_digit_valid: Option<bool>,
    pub bin: Option<String>,
    pub bin_check_digit_valid: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub ru: String,
    pub kk: String,
    pub en: String,
    /// The specific reason, in English.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub indication: &'static str,
    pub sub_indication: Option<&'static str>,
    pub validation_time: String,
    pub checks: Vec<Check>,
    pub signers: Vec<SignerReport>,
    pub expected_identity: ExpectedIdentity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
}

/// Format codes that mean the input could not be read at all (as opposed to a readable input
/// that is not acceptable): the CLI exits 65 (EX_DATAERR) for these.
pub const UNREADABLE_CODES: [&str; 5] = [
    "UNREADABLE",
    "XML_MALFORMED",
    "XML_DOCTYPE_REFUSED",
    "XML_TOO_LARGE",
    "XML_DUPLICATE_ID",
];

impl Report {
    /// Whether the signature could not be read: its format check failed as unreadable.
    pub fn unreadable(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.id == "format" && UNREADABLE_CODES.contains(&c.code.as_str()))
    }
}

/// The verdict of a list of checks: any failure is invalid, else any indeterminate. Steps that
/// do not decide the verdict (`timestamp`) are only reported.
pub fn verdict_of(checks: &[Check]) -> (Verdict, Option<SubIndication>) {
    let first = |status| {
        checks
            .iter()
            .find(|c| c.status == status && c.id.decides_verdict())
    };
    if let Some(c) = first(Status::Failed) {
        (Verdict::Invalid, c.sub_indication)
    } else if let Some(c) = first(Status::Indeterminate) {
        (Verdict::Indeterminate, c.sub_indication)
    } else {
        (Verdict::Valid, None)
    }
}

/// Builds the report from the per-signer results (or, if the input could not be read as CMS,
/// from the format check alone).
pub fn assemble(
    format: Check,
    signers: Vec<SignerReport>,
    expected_identity: ExpectedIdentity,
    validation_time: String,
) -> Report {
    let checks: Vec<Check> = Step::ALL
        .iter()
        .map(|id| {
            if *id == Step::Format && (format.status != Status::Passed || signers.is_empty()) {
                return format.clone();
            }
            // The worst outcome of this step across signers (the first of the worst).
            let worst = (signers.iter())
                .flat_map(|s| s.checks.iter())
                .filter(|c| c.id == *id)
                .fold(None::<&Check>, |worst, c| match worst {
                    Some(w) if w.status >= c.status => Some(w),
                    _ => Some(c),
                });
            match worst {
                None => Check::skipped(*id, "not reached"),
                Some(worst) if signers.len() > 1 => {
                    let details: Vec<String> = signers
                        .iter()
                        .enumerate()
                        .filter_map(|(i, s)| {
                            s.checks
                                .iter()
                                .find(|c| c.id == *id)
                                .map(|c| format!("signer {}: {}", i + 1, c.detail))
                        })
                        .collect();
                    Check {
                        detail: details.join("; "),
                        ..worst.clone()
                    }
                }
                Some(worst) => worst.clone(),
            }
        })
        .collect();
    let (verdict, sub) = verdict_of(&checks);
    let indication = match verdict {
        Verdict::Valid => "TOTAL_PASSED",
        Verdict::Invalid => "TOTAL_FAILED",
        Verdict::Indeterminate => "INDETERMINATE",
    };
    let refusal = (verdict != Verdict::Valid).then(|| {
        let failing = checks
            .iter()
            .filter(|c| c.status == Status::Failed || c.status == Status::Indeterminate)
            .filter(|c| c.id.decides_verdict())
            .max_by_key(|c| c.status)
            .map(|c| format!("{}: {}", c.id, c.detail))
            .unwrap_or_default();
        super::refusal::refusal(sub, failing)
    });
    Report {
        verdict,
        indication,
        sub_indication: sub.map(SubIndication::name),
        validation_time,
        checks,
        signers,
        expected_identity,
        refusal,
    }
}
