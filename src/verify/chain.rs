//! Step 3, chain: a path from the end certificate to a configured trust anchor through the
//! certificates the signature carries and the supplied intermediates, CA constraints enforced,
//! for a [`Purpose`], at a [`ValidationTime`].
//!
//! Our own small path builder rather than a crate's: the same code takes GOST certificates
//! through the algorithm table, and the report must say precisely why a path failed. As in
//! rustls-webpki's `build_chain_inner`, the search backtracks: a path whose certificates are not
//! all valid at the validation time is set aside and another candidate tried; only when no path
//! is valid then is the first path found returned (so the validity step can say which
//! certificate expired).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::budget::{Budget, Spent};
use super::purpose::Purpose;
use super::report::{Check, Step, SubIndication};
use super::step::ValidationTime;
use crate::x509::Cert;

/// Longest path (certificates, anchor included). NCA's is 3; a 30-level chain is an attack.
pub(super) const MAX_DEPTH: usize = 8;
/// Most candidate issuers whose signature one path search checks. The depth limit alone does
/// not bound the search: with k certificates per level that share a name and key, each a valid
/// issuer of every certificate below, the search tries k^(depth − 1) paths: a CMS of under 40 KB
/// with ten such CAs on each of seven levels (10^7 paths) would keep a core busy for some twenty
/// minutes (4^7 paths took 2.3 s; issue 6, `hostile::chain::a_wide_chain_does_not_explode`).
/// NCA's paths need three checks, cross-certified ones a handful.
pub(super) const MAX_CANDIDATES: usize = 64;
const CACHE_LIMIT: usize = 10_000;

/// A path found before, with the interval in which all its certificates are valid, and the
/// chain step's description of it.
struct CachedPath {
    path: Vec<Arc<Cert>>,
    description: String,
    valid_from: i64,
    valid_until: i64,
}

/// Paths already built, by end certificate and purpose. With fixed anchors a path that
/// verified once verifies again; it is reused only at a time at which every certificate in it
/// is valid, since at another time a different path may be the valid one.
#[derive(Default)]
pub(super) struct PathCache {
    paths: Mutex<HashMap<([u8; 32], Purpose), CachedPath>>,
}

impl PathCache {
    fn get(&self, leaf: &Cert, purpose: Purpose, at: i64) -> Option<(Vec<Arc<Cert>>, String)> {
        let paths = self.paths.lock().ok()?;
        let hit = paths.get(&(leaf.fingerprint, purpose))?;
        (hit.valid_from <= at && at <= hit.valid_until)
            .then(|| (hit.path.clone(), hit.description.clone()))
    }

    fn put(&self, leaf: &Cert, purpose: Purpose, path: &[Arc<Cert>], description: &str) {
        if let Ok(mut paths) = self.paths.lock() {
            if paths.len() >= CACHE_LIMIT {
                paths.clear();
            }
            let cached = CachedPath {
                path: path.to_vec(),
                description: description.to_owned(),
                valid_from: path
                    .iter()
                    .map(|c| c.not_before())
                    .max()
                    .unwrap_or(i64::MIN),
                valid_until: path.iter().map(|c| c.not_after()).min().unwrap_or(i64::MAX),
            };
            paths.insert((leaf.fingerprint, purpose), cached);
        }
    }
}

/// Why a candidate issuer, or the whole search, failed. Text only in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ChainProblem {
    NotSignedBy {
        cert: String,
        issuer: String,
        why: String,
    },
    NotACa(String),
    PathLength {
        ca: String,
        limit: u8,
        below: usize,
    },
    MayNotSignCertificates(String),
    UnknownCriticalExtensions {
        subject: String,
        oids: Vec<String>,
    },
    NotForPurpose {
        ca: String,
        purpose: Purpose,
    },
    IssuerNotFound(String),
    TooDeep,
    GaveUp,
    Spent(Spent),
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::NotSignedBy { cert, issuer, why } => {
                write!(f, "{cert} is not signed by {issuer}: {why}")
            }
            ChainProblem::NotACa(ca) => write!(f, "{ca} is not a CA (basicConstraints)"),
            ChainProblem::PathLength { ca, limit, below } => write!(
                f,
                "{ca} allows {limit} intermediate(s) below it, the path has {below}"
            ),
            ChainProblem::MayNotSignCertificates(ca) => {
                write!(f, "{ca} may not sign certificates (keyUsage)")
            }
            ChainProblem::UnknownCriticalExtensions { subject, oids } => {
                write!(f, "{subject} has unknown critical extensions {oids:?}")
            }
            ChainProblem::NotForPurpose { ca, purpose } => write!(
                f,
                "{ca} restricts its extendedKeyUsage to exclude {purpose:?}"
            ),
            ChainProblem::IssuerNotFound(issuer) => write!(
                f,
                "no certificate of the issuer {issuer} was found (untrusted or missing)"
            ),
            ChainProblem::TooDeep => write!(f, "no trust anchor within {MAX_DEPTH} certificates"),
            ChainProblem::GaveUp => write!(
                f,
                "gave up after checking {MAX_CANDIDATES} candidate issuer certificates"
            ),
            ChainProblem::Spent(spent) => write!(f, "gave up: {spent}"),
        }
    }
}

/// Does `issuer`'s key verify `cert`'s signature?
pub(super) fn signed_by(cert: &Cert, issuer: &Cert) -> Result<(), String> {
    let tbs = crate::x509::signed_part(&cert.der).ok_or("certificate DER unreadable")?;
    let signature = cert
        .parsed
        .signature
        .as_bytes()
        .ok_or("signature is not whole bytes")?;
    if cert.parsed.signature_algorithm != cert.parsed.tbs_certificate.signature {
        return Err("outer and inner signature algorithms differ".into());
    }
    crate::crypto::verify_signature(
        &cert.parsed.signature_algorithm,
        &issuer.parsed.tbs_certificate.subject_public_key_info,
        tbs,
        signature,
    )
    .map_err(|e| e.to_string())
}

/// May `ca` issue certificates for `purpose`, `below` non-self-issued intermediates sitting
/// under it?
fn may_issue(
    ca: &Cert,
    below: usize,
    is_anchor: bool,
    purpose: Purpose,
) -> Result<(), ChainProblem> {
    match ca.basic_constraints() {
        Some(bc) if bc.ca => {
            if let Some(limit) = bc.path_len_constraint {
                if below > usize::from(limit) {
                    return Err(ChainProblem::PathLength {
                        ca: ca.subject(),
                        limit,
                        below,
                    });
                }
            }
        }
        // A trust anchor is trusted as configured; anything else must say it is a CA.
        None if is_anchor => {}
        _ => return Err(ChainProblem::NotACa(ca.subject())),
    }
    if ca.key_usage().is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(ChainProblem::MayNotSignCertificates(ca.subject()));
    }
    if !is_anchor {
        let oids = ca.unknown_critical_extensions();
        if !oids.is_empty() {
            return Err(ChainProblem::UnknownCriticalExtensions {
                subject: ca.subject(),
                oids,
            });
        }
        if !purpose.allowed_for_ca(ca) {
            return Err(ChainProblem::NotForPurpose {
                ca: ca.subject(),
                purpose,
            });
        }
    }
    Ok(())
}

fn valid_at(path: &[Arc<Cert>], at: i64) -> bool {
    path.iter()
        .all(|c| c.not_before() <= at && at <= c.not_after())
}

/// One path search: what it has found wrong, the first complete path (valid or not), and how
/// many candidate checks it has left.
struct Search<'a> {
    pool: &'a [Arc<Cert>],
    anchors: &'a [Arc<Cert>],
    purpose: Purpose,
    at: i64,
    problems: Vec<ChainProblem>,
    first_complete: Option<Vec<Arc<Cert>>>,
    checks_left: usize,
    budget: &'a Budget,
    /// Why the search stopped before trying every candidate (GaveUp or Spent).
    stopped: Option<ChainProblem>,
}

impl Search<'_> {
    /// Extends `path` to a trust anchor; true when it reached one at which the whole path is
    /// valid at the validation time.
    fn extend(&mut self, path: &mut Vec<Arc<Cert>>) -> bool {
        let Some(current) = path.last().cloned() else {
            return false;
        };
        if self
            .anchors
            .iter()
            .any(|a| a.fingerprint == current.fingerprint)
        {
            if valid_at(path, self.at) {
                return true;
            }
            // Complete but not valid now: keep it for the report, look for another.
            self.first_complete.get_or_insert_with(|| path.clone());
            return false;
        }
        if path.len() >= MAX_DEPTH {
            self.problems.push(ChainProblem::TooDeep);
            return false;
        }
        let aki = current.authority_key_id();
        let below = path.iter().skip(1).filter(|c| !c.is_self_issued()).count();
        // The slices outlive `self`'s borrow, so the search can go on mutating `self`.
        let (anchors, pool) = (self.anchors, self.pool);
        let candidates = anchors
            .iter()
            .map(|c| (c, true))
            .chain(pool.iter().map(|c| (c, false)));
        let mut found_any = false;
        for (candidate, is_anchor) in candidates {
            if candidate.subject_der != current.issuer_der
                || path.iter().any(|p| p.fingerprint == candidate.fingerprint)
            {
                continue;
            }
            if let (Some(aki), Some(ski)) = (aki, candidate.subject_key_id()) {
                if aki != ski {
                    continue;
                }
            }
            found_any = true;
            if self.checks_left == 0 {
                self.stopped = Some(ChainProblem::GaveUp);
                return false;
            }
            // A certificate's signed part is small: the operation is what counts.
            if let Err(spent) = self.budget.spend(0) {
                self.stopped = Some(ChainProblem::Spent(spent));
                return false;
            }
            self.checks_left -= 1;
            if let Err(why) = signed_by(&current, candidate) {
                self.problems.push(ChainProblem::NotSignedBy {
                    cert: current.subject(),
                    issuer: candidate.subject(),
                    why,
                });
                continue;
            }
            if let Err(problem) = may_issue(candidate, below, is_anchor, self.purpose) {
                self.problems.push(problem);
                continue;
            }
            path.push(Arc::clone(candidate));
            if self.extend(path) {
                return true;
            }
            path.pop();
            if self.stopped.is_some() {
                return false;
            }
        }
        if !found_any {
            self.problems
                .push(ChainProblem::IssuerNotFound(current.issuer()));
        }
        false
    }
}

pub(super) struct Outcome {
    pub check: Check,
    pub path: Option<Vec<Arc<Cert>>>,
}

/// Where the chain step looks: the candidate pool, the trust anchors and the cache; and what
/// the request may still spend on signature checks.
pub(super) struct Paths<'a> {
    pub pool: &'a [Arc<Cert>],
    pub anchors: &'a [Arc<Cert>],
    pub cache: &'a PathCache,
    pub budget: &'a Budget,
}

pub(super) fn build(
    end: &Arc<Cert>,
    purpose: Purpose,
    time: ValidationTime,
    paths: &Paths<'_>,
) -> Outcome {
    let describe = |path: &[Arc<Cert>]| {
        let names: Vec<&str> = path.iter().map(|c| c.subject_text()).collect();
        format!("path to a trust anchor: {}", names.join(" → "))
    };
    let found = |path: Vec<Arc<Cert>>, description: String| Outcome {
        check: Check::passed(Step::Chain, description),
        path: Some(path),
    };
    if let Some((path, description)) = paths.cache.get(end, purpose, time.at) {
        return found(path, description);
    }
    let unknown = end.unknown_critical_extensions();
    if !unknown.is_empty() {
        return Outcome {
            check: Check::failed(
                Step::Chain,
                SubIndication::ChainConstraintsFailure,
                "UNKNOWN_CRITICAL_EXTENSION",
                format!("the signer's certificate has unknown critical extensions {unknown:?}"),
            ),
            path: None,
        };
    }
    let mut search = Search {
        pool: paths.pool,
        anchors: paths.anchors,
        purpose,
        at: time.at,
        problems: Vec::new(),
        first_complete: None,
        checks_left: MAX_CANDIDATES,
        budget: paths.budget,
        stopped: None,
    };
    let mut path = vec![Arc::clone(end)];
    if search.extend(&mut path) {
        let description = describe(&path);
        paths.cache.put(end, purpose, &path, &description);
        return found(path, description);
    }
    if let Some(path) = search.first_complete {
        // No path is valid at the validation time; the validity step says why this one is not.
        let description = describe(&path);
        return found(path, description);
    }
    let mut problems = search.problems;
    problems.extend(search.stopped);
    problems.dedup();
    Outcome {
        check: Check::indeterminate(
            Step::Chain,
            SubIndication::NoCertificateChainFound,
            "NO_CERTIFICATE_CHAIN_FOUND",
            describe_problems(&problems),
        ),
        path: None,
    }
}

/// Most problems a failed search lists; the rest are counted. Each candidate that failed is
/// one problem, and a report must not grow with how many candidates a CMS carries.
const MAX_PROBLEMS_LISTED: usize = 8;

fn describe_problems(problems: &[ChainProblem]) -> String {
    let mut text: Vec<String> = problems
        .iter()
        .take(MAX_PROBLEMS_LISTED)
        .map(ToString::to_string)
        .collect();
    if let Some(last) = problems
        .last()
        .filter(|_| problems.len() > MAX_PROBLEMS_LISTED)
    {
        // The last one is why the search stopped; it is always worth saying.
        let hidden = problems.len() - MAX_PROBLEMS_LISTED;
        text.push(format!("… {hidden} more, the last: {last}"));
    }
    text.join("; ")
}
