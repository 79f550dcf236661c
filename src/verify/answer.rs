//! A revocation answer and the sources that give one: what the revocation step asks, and what
//! OCSP, CRLs and the caller's own sources (the service's database) answer. Below both the
//! revocation step and the OCSP client, so neither imports the other for it.

use std::future::Future;
use std::pin::Pin;

use crate::x509::{Cert, RevocationReason};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A definitive revocation answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Good {
        source: String,
    },
    Revoked {
        at: i64,
        reason: Option<RevocationReason>,
        source: String,
    },
}

/// Somewhere revocation status comes from, supplied by the caller (e.g. the service's own
/// database for its own PKI). `None`: this source knows nothing of the certificate.
pub trait RevocationSource: Send + Sync {
    fn status<'a>(&'a self, cert: &'a Cert, issuer: &'a Cert) -> BoxFuture<'a, Option<Answer>>;
}

/// Why no revocation answer could be had for a certificate. Text only in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RevocationProblem {
    /// A CRL of the issuer whose signature does not verify.
    CrlSignature {
        issuer: String,
        why: String,
    },
    /// A CRL signed by an issuer whose keyUsage does not allow cRLSign.
    CrlIssuerMayNotSign {
        issuer: String,
    },
    /// Only CRLs whose nextUpdate is before the validation time.
    StaleCrl {
        issuer: String,
        next_update: Option<i64>,
        at: i64,
    },
    /// Only CRLs issued after the certificate expired, which do not list it and do not say
    /// they keep expired certificates (ExpiredCertsOnCRL).
    AfterExpiry {
        issuer: String,
        this_update: i64,
        not_after: i64,
    },
    /// A CRL that could not be read, fetched or applied (with the reason).
    Crl(String),
    /// A delta CRL that could not be fetched.
    DeltaCrl(String),
    /// An OCSP responder's answer that could not be used (with the reason).
    Ocsp(String),
    Offline,
    NoPointers {
        subject: String,
    },
}

impl std::fmt::Display for RevocationProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::time::rfc3339;
        match self {
            RevocationProblem::CrlSignature { issuer, why } => write!(f, "CRL of {issuer}: {why}"),
            RevocationProblem::CrlIssuerMayNotSign { issuer } => write!(
                f,
                "CRL of {issuer}: the issuer's keyUsage does not allow cRLSign"
            ),
            RevocationProblem::StaleCrl {
                issuer,
                next_update,
                at,
            } => write!(
                f,
                "the CRL of {issuer} is stale: nextUpdate {} is before the validation time {}",
                next_update.map(rfc3339).unwrap_or_default(),
                rfc3339(*at)
            ),
            RevocationProblem::AfterExpiry {
                issuer,
                this_update,
                not_after,
            } => write!(
                f,
                "the CRL of {issuer} of {} was issued after the certificate expired ({}) and does not say it keeps expired certificates: its silence proves nothing",
                rfc3339(*this_update),
                rfc3339(*not_after)
            ),
            RevocationProblem::Crl(why) | RevocationProblem::Ocsp(why) => f.write_str(why),
            RevocationProblem::DeltaCrl(why) => write!(f, "delta CRL: {why}"),
            RevocationProblem::Offline => {
                f.write_str("offline: no network fetch of OCSP or CRLs allowed")
            }
            RevocationProblem::NoPointers { subject } => write!(
                f,
                "{subject} names no OCSP responder or CRL distribution point"
            ),
        }
    }
}
