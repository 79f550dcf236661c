//! The online part of the `timestamp` step — each TSA's revocation at its token's genTime —
//! and the order tokens are relied on in (ETSI EN 319 102-1 §5.6.2.4): the newest archive
//! time-stamp at the validation time; every token it stamps (older archive time-stamps, the
//! signature time-stamps) at its genTime, and so on down. A token is relied on only while its
//! TSA's certificates are unexpired: after that its key may be retired and leaked, and only an
//! archive time-stamp made before proves the token older than any forgery.

use std::cmp::Reverse;
use std::sync::Arc;

use super::super::evidence::RevocationValues;
use super::super::report::{Check, Status, Step, SubIndication, TimestampReport};
use super::super::revocation::Revocation;
use super::super::step::ValidationTime;
use super::Judged;
use crate::time::rfc3339;
use crate::x509::Cert;

/// Until when a TSA's token can be relied on without a later proof that it existed: the
/// earliest expiry in its path but the anchor.
pub(super) fn horizon(path: &[Arc<Cert>]) -> i64 {
    let certified = if path.len() > 1 {
        &path[..path.len() - 1]
    } else {
        path
    };
    certified
        .iter()
        .map(|c| c.not_after())
        .min()
        .unwrap_or(i64::MIN)
}

/// Archive time-stamps newest first, then the signature time-stamps: the order in which each
/// token's reliance time is known.
fn reliance_order(judged: &[Judged]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..judged.len()).collect();
    order.sort_by_key(|&i| (!judged[i].archive, Reverse(judged[i].gen_time)));
    order
}

/// The proof of existence the tokens give before their TSAs' revocation is asked: the
/// earliest genTime of a token that passed so far, no older than the signer's certificate and
/// within its TSA's horizon when relied on.
pub(in crate::verify) fn provisional_proof(
    judged: &[Judged],
    not_before: Option<i64>,
    validation_time: i64,
) -> Option<i64> {
    let (mut relied_at, mut proof) = (validation_time, None::<i64>);
    for i in reliance_order(judged) {
        let j = &judged[i];
        if let (Some(path), Some(gen_time)) = (&j.path, j.gen_time) {
            if not_before.is_none_or(|nb| gen_time >= nb) && relied_at <= horizon(path) {
                proof = Some(proof.map_or(gen_time, |p| p.min(gen_time)));
                if j.archive {
                    relied_at = relied_at.min(gen_time);
                }
            }
        }
    }
    proof
}

/// The step's outcome for one signer.
pub(in crate::verify) struct Outcome {
    pub check: Check,
    pub timestamps: Vec<TimestampReport>,
    /// The earliest genTime of a valid time-stamp no earlier than the signer certificate's
    /// notBefore.
    pub proof_of_existence: Option<i64>,
}

/// What the online part reads besides the tokens.
pub(in crate::verify) struct Online<'a> {
    pub revocation: &'a Revocation,
    pub values: &'a RevocationValues,
    pub now: i64,
    /// The signer certificate's notBefore, when found: a time-stamp older than the
    /// certificate proves nothing about a signature made with it.
    pub not_before: Option<i64>,
    /// The validation time: when the newest token is relied on.
    pub validation_time: i64,
}

/// Revocation of each TSA whose token passed so far (at its genTime), its horizon when relied
/// on, then the step's check.
pub(in crate::verify) async fn finish(judged: Vec<Judged>, online: &Online<'_>) -> Outcome {
    if judged.is_empty() {
        return Outcome {
            check: Check::skipped(Step::Timestamp, "no time-stamp"),
            timestamps: Vec::new(),
            proof_of_existence: None,
        };
    }
    let order = reliance_order(&judged);
    let mut settled: Vec<Option<(Check, TimestampReport)>> = vec![None; judged.len()];
    let mut pending: Vec<Option<Judged>> = judged.into_iter().map(Some).collect();
    let (mut relied_at, mut proof) = (online.validation_time, None::<i64>);
    for i in order {
        let Some(j) = pending[i].take() else { continue };
        let archive = j.archive;
        let (check, report, accepted) = settle(j, online, relied_at).await;
        if let Some(gen_time) = accepted {
            proof = Some(proof.map_or(gen_time, |p| p.min(gen_time)));
            if archive {
                relied_at = relied_at.min(gen_time);
            }
        }
        settled[i] = Some((check, report));
    }
    let (checks, timestamps): (Vec<Check>, Vec<TimestampReport>) =
        settled.into_iter().flatten().unzip();
    Outcome {
        check: summary(checks),
        timestamps,
        proof_of_existence: proof,
    }
}

/// One token's outcome. `Some(genTime)`: it proves the signature existed then.
async fn settle(
    judged: Judged,
    online: &Online<'_>,
    relied_at: i64,
) -> (Check, TimestampReport, Option<i64>) {
    let Judged {
        mut check,
        mut report,
        gen_time,
        path,
        ..
    } = judged;
    let (Some(path), Some(gen_time)) = (path, gen_time) else {
        return (check, report, None);
    };
    let mut accepted = None;
    let at = ValidationTime::stamped(gen_time);
    if relied_at > horizon(&path) {
        check = Check::indeterminate(
            Step::Timestamp,
            SubIndication::RevocationOutOfBoundsNoPoe,
            "TIMESTAMP_OUT_OF_BOUNDS_NO_POE",
            format!(
                "the TSA's certificate expired at {}, and nothing proves the time-stamp existed before {}: an archive time-stamp would have kept it",
                rfc3339(horizon(&path)),
                rfc3339(relied_at)
            ),
        );
    } else {
        let (revoked, _) = (online.revocation)
            .check(&path, at, online.values, online.now)
            .await;
        if revoked.status != Status::Passed {
            check = Check {
                id: Step::Timestamp,
                detail: format!("the TSA's certificate: {}", revoked.detail),
                ..revoked
            };
        } else if online.not_before.is_some_and(|nb| gen_time < nb) {
            check.detail = format!(
                "{}; older than the signer's certificate: no proof of existence",
                check.detail
            );
        } else {
            accepted = Some(gen_time);
        }
    }
    report.status = check.status;
    report.detail = check.detail.clone();
    (check, report, accepted)
}

/// One check for all tokens: the worst one's status and code, every token's detail.
fn summary(mut checks: Vec<Check>) -> Check {
    if checks.len() == 1 {
        return checks.remove(0);
    }
    let details: Vec<String> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| format!("time-stamp {}: {}", i + 1, c.detail))
        .collect();
    checks.sort_by_key(|c| std::cmp::Reverse(c.status));
    let worst = checks.remove(0);
    Check {
        detail: details.join("; "),
        ..worst
    }
}
