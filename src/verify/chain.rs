//! Step 3, chain: a path from the signer's certificate to a configured trust anchor through the
//! certificates in the CMS and the supplied intermediates, CA constraints enforced.
//!
//! Our own small path builder rather than a crate's: the same code must take GOST certificates
//! through the algorithm table later, and the report must say precisely why a path failed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::report::{Check, SubIndication};
use crate::x509::Cert;

/// Longest path (certificates, anchor included). NCA's is 3; a 30-level chain is an attack.
pub const MAX_DEPTH: usize = 8;
/// Most candidate issuers whose signature one path search checks. The depth limit alone does
/// not bound the search: with k certificates per level that share a name and key, each a valid
/// issuer of every certificate below, the search tries k^(depth − 1) paths: a CMS of under 40 KB
/// with ten such CAs on each of seven levels (10^7 paths) would keep a core busy for some twenty
/// minutes (4^7 paths took 2.3 s; issue 6, `hostile::chain::a_wide_chain_does_not_explode`).
/// NCA's paths need three checks, cross-certified ones a handful.
pub const MAX_CANDIDATES: usize = 64;
const CACHE_LIMIT: usize = 10_000;

/// Paths already built, by the signer certificate's fingerprint: with fixed anchors a path that
/// verified once verifies again (only time and revocation change, and those are later steps).
#[derive(Default)]
pub struct PathCache {
    paths: Mutex<HashMap<[u8; 32], Vec<Arc<Cert>>>>,
}

impl PathCache {
    fn get(&self, leaf: &Cert) -> Option<Vec<Arc<Cert>>> {
        self.paths.lock().ok()?.get(&leaf.fingerprint).cloned()
    }

    fn put(&self, leaf: &Cert, path: &[Arc<Cert>]) {
        if let Ok(mut paths) = self.paths.lock() {
            if paths.len() >= CACHE_LIMIT {
                paths.clear();
            }
            paths.insert(leaf.fingerprint, path.to_vec());
        }
    }
}

/// The TBS bytes exactly as signed (sliced from the DER, not re-encoded).
fn tbs_bytes(der: &[u8]) -> Option<Vec<u8>> {
    use der::{Decode, Reader};
    let mut reader = der::SliceReader::new(der).ok()?;
    // Step into the outer SEQUENCE; the TBSCertificate is its first element.
    der::Header::decode(&mut reader).ok()?;
    reader.tlv_bytes().ok().map(|b| b.to_vec())
}

/// Does `issuer`'s key verify `cert`'s signature?
pub fn signed_by(cert: &Cert, issuer: &Cert) -> Result<(), String> {
    let tbs = tbs_bytes(&cert.der).ok_or("certificate DER unreadable")?;
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
        &tbs,
        signature,
    )
    .map_err(|e| e.to_string())
}

/// May `ca` issue certificates, `below` non-self-issued intermediates sitting under it?
fn may_issue(ca: &Cert, below: usize, is_anchor: bool) -> Result<(), String> {
    match ca.basic_constraints() {
        Some(bc) if bc.ca => {
            if let Some(limit) = bc.path_len_constraint {
                if below > usize::from(limit) {
                    return Err(format!(
                        "{} allows {limit} intermediate(s) below it, the path has {below}",
                        ca.subject()
                    ));
                }
            }
        }
        // A trust anchor is trusted as configured; anything else must say it is a CA.
        None if is_anchor => {}
        _ => return Err(format!("{} is not a CA (basicConstraints)", ca.subject())),
    }
    if let Some(ku) = ca.key_usage() {
        if !ku.key_cert_sign() {
            return Err(format!(
                "{} may not sign certificates (keyUsage)",
                ca.subject()
            ));
        }
    }
    if !is_anchor {
        let unknown = ca.unknown_critical_extensions();
        if !unknown.is_empty() {
            return Err(format!(
                "{} has unknown critical extensions {unknown:?}",
                ca.subject()
            ));
        }
    }
    Ok(())
}

/// What a path search has found wrong so far, and how many candidate checks it has left.
struct Search {
    problems: Vec<String>,
    checks_left: usize,
    gave_up: bool,
}

fn extend(
    path: &mut Vec<Arc<Cert>>,
    pool: &[Arc<Cert>],
    anchors: &[Arc<Cert>],
    search: &mut Search,
) -> bool {
    let Some(current) = path.last().cloned() else {
        return false;
    };
    if anchors.iter().any(|a| a.fingerprint == current.fingerprint) {
        return true;
    }
    if path.len() >= MAX_DEPTH {
        search
            .problems
            .push(format!("no trust anchor within {MAX_DEPTH} certificates"));
        return false;
    }
    let aki = current.authority_key_id();
    let below = path.iter().skip(1).filter(|c| !c.is_self_issued()).count();
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
        if search.checks_left == 0 {
            search.gave_up = true;
            return false;
        }
        search.checks_left -= 1;
        let problems = &mut search.problems;
        if let Err(e) = signed_by(&current, candidate) {
            problems.push(format!(
                "{} is not signed by {}: {e}",
                current.subject(),
                candidate.subject()
            ));
            continue;
        }
        if let Err(e) = may_issue(candidate, below, is_anchor) {
            problems.push(e);
            continue;
        }
        path.push(Arc::clone(candidate));
        if extend(path, pool, anchors, search) {
            return true;
        }
        path.pop();
    }
    if !found_any {
        search.problems.push(format!(
            "no certificate of the issuer {} was found (untrusted or missing)",
            current.issuer()
        ));
    }
    false
}

pub struct Outcome {
    pub check: Check,
    pub path: Option<Vec<Arc<Cert>>>,
}

pub fn build(
    signer: &Arc<Cert>,
    pool: &[Arc<Cert>],
    anchors: &[Arc<Cert>],
    cache: &PathCache,
) -> Outcome {
    let describe = |path: &[Arc<Cert>]| {
        let names: Vec<String> = path.iter().map(|c| c.subject()).collect();
        format!("path to a trust anchor: {}", names.join(" → "))
    };
    if let Some(path) = cache.get(signer) {
        return Outcome {
            check: Check::passed("chain", describe(&path)),
            path: Some(path),
        };
    }
    let unknown = signer.unknown_critical_extensions();
    if !unknown.is_empty() {
        return Outcome {
            check: Check::failed(
                "chain",
                SubIndication::ChainConstraintsFailure,
                "UNKNOWN_CRITICAL_EXTENSION",
                format!("the signer's certificate has unknown critical extensions {unknown:?}"),
            ),
            path: None,
        };
    }
    let mut path = vec![Arc::clone(signer)];
    let mut search = Search {
        problems: Vec::new(),
        checks_left: MAX_CANDIDATES,
        gave_up: false,
    };
    if extend(&mut path, pool, anchors, &mut search) {
        cache.put(signer, &path);
        return Outcome {
            check: Check::passed("chain", describe(&path)),
            path: Some(path),
        };
    }
    let mut problems = search.problems;
    if search.gave_up {
        problems.push(format!(
            "gave up after checking {MAX_CANDIDATES} candidate issuer certificates"
        ));
    }
    problems.dedup();
    Outcome {
        check: Check::indeterminate(
            "chain",
            SubIndication::NoCertificateChainFound,
            "NO_CERTIFICATE_CHAIN_FOUND",
            problems.join("; "),
        ),
        path: None,
    }
}
