//! The `timestamp` step: each signature time-stamp (RFC 3161 token in the SignerInfo's
//! id-aa-signatureTimeStampToken unsigned attribute, ETSI EN 319 122-1 §5.3) verified on its own
//! — its TSTInfo read, its message imprint over this signature value, the token's own CMS
//! signature through the algorithm table, and its TSA certificate (critical EKU timeStamping)
//! through the same path building, validity and revocation as any signer, at its genTime.
//!
//! A time-stamp that fails only gives no proof of existence (EN 319 102-1): the step is
//! reported, and the signature judged as one without it ([`Step::decides_verdict`]).

mod settle;
mod tst_info;

use std::sync::Arc;

use const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE;
use der::asn1::ObjectIdentifier;

use super::chain::{self, Paths};
use super::evidence::{ArchiveStamp, SignerEvidence};
use super::input::CertCache;
use super::purpose::Purpose;
use super::report::{Check, Status, Step, SubIndication, TimestampReport};
use super::step::ValidationTime;
use super::{signature, validity};
use crate::crypto::Digest;
use crate::time::rfc3339;
use crate::x509::Cert;

pub(super) use settle::{finish, provisional_proof, Online};
pub use tst_info::{read_time_stamp_token, read_tst_info, TimeStampInfo, ID_CT_TST_INFO};

/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A): the unsigned attribute holding a
/// signature time-stamp.
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// Most time-stamps verified per signer; each costs public-key operations and a path. Real
/// signatures carry one.
pub const MAX_TIMESTAMPS: usize = 4;

/// One token after the offline part: its outcome so far, and while it has passed, the TSA's
/// path whose revocation is still to be asked.
pub(super) struct Judged {
    check: Check,
    report: TimestampReport,
    gen_time: Option<i64>,
    path: Option<Vec<Arc<Cert>>>,
    /// An archive time-stamp (it stamps the signature and every token before it).
    archive: bool,
}

/// What the offline part reads: the request's candidate certificates and the verifier's
/// anchors, caches and budget.
pub(super) struct Sources<'a> {
    pub paths: Paths<'a>,
    pub certs: &'a CertCache,
}

fn failed(sub: SubIndication, code: &'static str, detail: impl Into<String>) -> Check {
    Check::failed(Step::Timestamp, sub, code, detail)
}

/// The offline part of every token over `signature_value`: everything but revocation.
pub(super) fn judge_offline(
    tokens: &[Vec<u8>],
    signature_value: &[u8],
    sources: &Sources<'_>,
) -> Vec<Judged> {
    let mut judged: Vec<Judged> = tokens
        .iter()
        .take(MAX_TIMESTAMPS)
        .map(|token| judge_one(token, signature_value, sources))
        .collect();
    if tokens.len() > MAX_TIMESTAMPS {
        let check = failed(
            SubIndication::FormatFailure,
            "TOO_MANY_TIMESTAMPS",
            format!(
                "{} more signature time-stamps not verified (at most {MAX_TIMESTAMPS} are)",
                tokens.len() - MAX_TIMESTAMPS
            ),
        );
        judged.push(Judged {
            report: report_of(&check, None, None, None),
            check,
            gen_time: None,
            path: None,
            archive: false,
        });
    }
    judged
}

/// The offline part of each archive time-stamp, over the bytes its ats-hash-index-v3 and the
/// signature as it is now give (`verify/cms/archive.rs`).
pub(super) fn judge_archive(stamps: &[ArchiveStamp], sources: &Sources<'_>) -> Vec<Judged> {
    stamps
        .iter()
        .take(MAX_TIMESTAMPS)
        .map(|stamp| {
            let mut judged = match &stamp.stamped {
                Ok(stamped) => judge_one(&stamp.token, stamped, sources),
                Err(why) => {
                    let check = failed(
                        SubIndication::HashFailure,
                        "ARCHIVE_TIMESTAMP_UNUSABLE",
                        why.clone(),
                    );
                    Judged {
                        report: report_of(&check, None, None, None),
                        check,
                        gen_time: None,
                        path: None,
                        archive: true,
                    }
                }
            };
            judged.archive = true;
            judged.report.kind = "archive";
            judged
        })
        .collect()
}

fn report_of(
    check: &Check,
    gen_time: Option<i64>,
    tsa: Option<String>,
    policy: Option<ObjectIdentifier>,
) -> TimestampReport {
    TimestampReport {
        kind: "signature",
        gen_time: gen_time.map(rfc3339),
        tsa,
        policy: policy.map(|p| p.to_string()),
        status: check.status,
        detail: check.detail.clone(),
    }
}

fn judge_one(token: &[u8], signature_value: &[u8], sources: &Sources<'_>) -> Judged {
    let token = match tst_info::read_token(token, sources.certs) {
        Ok(token) => token,
        Err(why) => {
            let check = failed(SubIndication::FormatFailure, "TIMESTAMP_UNREADABLE", why);
            return Judged {
                report: report_of(&check, None, None, None),
                check,
                gen_time: None,
                path: None,
                archive: false,
            };
        }
    };
    let info = &token.info;
    let mut tsa_name = info.tsa.clone().or_else(|| info.signer.clone());
    let (check, path) = match verify_token(&token, signature_value, sources, &mut tsa_name) {
        Ok(path) => {
            let detail = format!(
                "time-stamp of {} by {}",
                rfc3339(info.gen_time),
                tsa_name.as_deref().unwrap_or("an unnamed TSA")
            );
            (Check::passed(Step::Timestamp, detail), Some(path))
        }
        Err(check) => (check, None),
    };
    Judged {
        report: report_of(&check, Some(info.gen_time), tsa_name, Some(info.policy)),
        check,
        gen_time: Some(info.gen_time),
        path,
        archive: false,
    }
}

/// Imprint, the token's signature, the TSA's certificate and path, its validity at genTime.
/// `Ok`: the path whose revocation is left. `tsa` becomes the TSA certificate's subject.
fn verify_token(
    token: &tst_info::Token,
    signature_value: &[u8],
    sources: &Sources<'_>,
    tsa: &mut Option<String>,
) -> Result<Vec<Arc<Cert>>, Check> {
    let info = &token.info;
    let algorithm = info.imprint_algorithm;
    let digest = Digest::from_oid(&algorithm).ok_or_else(|| {
        failed(
            SubIndication::CryptoConstraintsFailure,
            "UNSUPPORTED_ALGORITHM",
            format!("the imprint's hash algorithm {algorithm} is not known"),
        )
    })?;
    if digest.is_weak() {
        return Err(failed(
            SubIndication::CryptoConstraintsFailure,
            "WEAK_DIGEST",
            format!("the imprint is a {} hash, not allowed", digest.name()),
        ));
    }
    if digest.digest(signature_value).as_deref() != Some(info.imprint.as_slice()) {
        return Err(failed(
            SubIndication::HashFailure,
            "IMPRINT_MISMATCH",
            "the time-stamp's message imprint is not the hash of this signature value: it stamps other bytes",
        ));
    }
    // The token's own signature, as any signer's: messageDigest, signed attributes, the key.
    let mut pool: Vec<Arc<Cert>> = token.parsed.certificates.clone();
    pool.extend(sources.paths.pool.iter().cloned());
    let Some(evidence) = token.parsed.signers.first() else {
        return Err(failed(
            SubIndication::FormatFailure,
            "TIMESTAMP_UNREADABLE",
            "the time-stamp token has no signer",
        ));
    };
    let outcome = signature::check(evidence, &pool, sources.paths.budget);
    if let Some(signer) = &outcome.signer {
        *tsa = Some(signer.subject());
    }
    let retag = |check: Check, what: &str| Check {
        id: Step::Timestamp,
        detail: format!("{what}: {}", check.detail),
        ..check
    };
    let tsa_cert = match (outcome.signer, outcome.check.status) {
        (Some(signer), Status::Passed) => signer,
        _ => return Err(retag(outcome.check, "the time-stamp token's signature")),
    };
    if let Err(why) = Purpose::TimeStamping.check_end_certificate(&tsa_cert) {
        return Err(failed(
            SubIndication::SigConstraintsFailure,
            "NOT_A_TSA",
            why,
        ));
    }
    if !critical_eku(&tsa_cert) {
        return Err(failed(
            SubIndication::SigConstraintsFailure,
            "NOT_A_TSA",
            format!(
                "{}'s extendedKeyUsage is not critical (RFC 3161 §2.3)",
                tsa_cert.subject()
            ),
        ));
    }
    bound(evidence, &tsa_cert)?;
    let at = ValidationTime::stamped(info.gen_time);
    let chain = chain::build(&tsa_cert, Purpose::TimeStamping, at, &sources.paths);
    let Some(path) = chain.path else {
        return Err(retag(chain.check, "the TSA's certificate"));
    };
    let validity = validity::check(&path, at);
    if validity.status != Status::Passed {
        return Err(retag(validity, "at the time-stamp's genTime"));
    }
    Ok(path)
}

/// RFC 3161 §2.4.1: the token's signed attributes bind the TSA's certificate by its hash
/// (ESSCertID or ESSCertIDv2); a certificate that merely shares the key is not the TSA's.
fn bound(evidence: &SignerEvidence, tsa: &Cert) -> Result<(), Check> {
    let binding = match &evidence.signing_certificate {
        Ok(Some(binding)) => binding,
        Ok(None) => {
            return Err(failed(
                SubIndication::SigConstraintsFailure,
                "NO_SIGNING_CERTIFICATE",
                "the token lacks the signingCertificate attribute naming the TSA's certificate (RFC 3161 §2.4.1)",
            ))
        }
        Err(why) => return Err(failed(SubIndication::FormatFailure, "MALFORMED_ATTRIBUTE", why)),
    };
    let digest = Digest::from_oid(&binding.algorithm).ok_or_else(|| {
        failed(
            SubIndication::CryptoConstraintsFailure,
            "UNSUPPORTED_ALGORITHM",
            format!(
                "signingCertificate hash algorithm {} is not known",
                binding.algorithm
            ),
        )
    })?;
    if digest.digest(&tsa.der).as_deref() != Some(binding.hash.as_slice()) {
        return Err(failed(
            SubIndication::SigConstraintsFailure,
            "SIGNING_CERTIFICATE_MISMATCH",
            format!(
                "{} is not the certificate the token's signingCertificate attribute names",
                tsa.subject()
            ),
        ));
    }
    Ok(())
}

/// RFC 3161 §2.3: the TSA's extendedKeyUsage extension MUST be critical.
fn critical_eku(cert: &Cert) -> bool {
    let extensions = cert.parsed.tbs_certificate.extensions.as_deref();
    extensions
        .unwrap_or_default()
        .iter()
        .any(|e| e.extn_id == ID_CE_EXT_KEY_USAGE && e.critical)
}
