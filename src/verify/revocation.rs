//! Step 5, revocation: every certificate in the path but the anchor (or only the signer's, by
//! [`RevocationScope`]), from the sources the
//! caller supplies (the service's own database), CRLs (given, configured, or fetched from the
//! certificate's CDP and cached until nextUpdate, delta CRLs applied), and OCSP (AIA).
//!
//! Fail closed: without usable revocation information the verdict is indeterminate.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::answer::{Answer, RevocationProblem, RevocationSource};
use super::evidence::RevocationValues;
use super::fetch::Fetcher;
use super::purpose::Purpose;
use super::report::{Check, Step, SubIndication};
use super::step::{TimeSource, ValidationTime};
use crate::time::rfc3339;
use crate::x509::crl::{self, Crl};
use crate::x509::Cert;

const CACHE_LIMIT: usize = 256;

/// Which certificates of a path must have a revocation answer, as OpenSSL's `-crl_check_all`
/// (the default here) and `-crl_check` put it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationScope {
    /// Every certificate but the trust anchor: the signer's and each CA's (fail closed).
    #[default]
    Chain,
    /// Only the signer's certificate, for hierarchies whose CA revocation lists are not
    /// published where the verifier can reach them (NCA's test root, for one).
    Leaf,
}

impl std::str::FromStr for RevocationScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "chain" => Ok(RevocationScope::Chain),
            "leaf" => Ok(RevocationScope::Leaf),
            other => Err(format!("{other:?} is not chain or leaf")),
        }
    }
}

/// Revocation checking with its caches. Shared by every verification of a `Verifier`.
pub(super) struct Revocation {
    pub sources: Vec<Arc<dyn RevocationSource>>,
    /// CRLs from the configuration.
    pub crls: Vec<Arc<Crl>>,
    pub offline: bool,
    pub fetcher: Fetcher,
    scope: RevocationScope,
    /// CRLs fetched from CDP / Freshest CRL URLs, kept until their nextUpdate.
    fetched: Mutex<HashMap<String, Arc<Crl>>>,
    /// (CRL content, issuer certificate) pairs whose signature already verified.
    verified: Mutex<HashSet<([u8; 32], [u8; 32])>>,
}

impl Revocation {
    /// Which certificates of a path need a revocation answer (default: all but the anchor).
    pub(super) fn with_scope(mut self, scope: RevocationScope) -> Self {
        self.scope = scope;
        self
    }

    pub(super) fn new(
        sources: Vec<Arc<dyn RevocationSource>>,
        crls: Vec<Arc<Crl>>,
        offline: bool,
        fetcher: Fetcher,
    ) -> Self {
        Revocation {
            sources,
            crls,
            offline,
            fetcher,
            scope: RevocationScope::default(),
            fetched: Mutex::default(),
            verified: Mutex::default(),
        }
    }

    /// Is this CRL the issuer's and correctly signed? (Signature checks are cached.)
    fn authentic(
        &self,
        crl: &Arc<Crl>,
        issuer: &Cert,
        why_not: &mut Vec<RevocationProblem>,
    ) -> bool {
        if crl.issuer_der() != issuer.subject_der.as_slice() {
            return false;
        }
        // RFC 5280 §4.2.1.3: a key that signs CRLs has cRLSign when keyUsage is present.
        if Purpose::CrlSigning.check_end_certificate(issuer).is_err() {
            why_not.push(RevocationProblem::CrlIssuerMayNotSign {
                issuer: issuer.subject(),
            });
            return false;
        }
        let key = (crl.fingerprint(), issuer.fingerprint);
        if self
            .verified
            .lock()
            .map(|v| v.contains(&key))
            .unwrap_or(false)
        {
            return true;
        }
        if let Err(e) = crl.verify_signature(&issuer.parsed.tbs_certificate.subject_public_key_info)
        {
            why_not.push(RevocationProblem::CrlSignature {
                issuer: issuer.subject(),
                why: e.to_string(),
            });
            return false;
        }
        if let Ok(mut v) = self.verified.lock() {
            if v.len() > 4 * CACHE_LIMIT {
                v.clear();
            }
            v.insert(key);
        }
        true
    }

    /// A CRL speaks for times up to its nextUpdate; one issued after `at` also covers `at`.
    fn fresh_for(crl: &Crl, at: i64) -> bool {
        crl.next_update().is_none_or(|next| at < next) || crl.this_update() >= at
    }

    /// `crls`: the lists to consult, in order (the request's, then the configured ones).
    fn status_from_crls(
        &self,
        crls: &[&[Arc<Crl>]],
        cert: &Cert,
        issuer: &Cert,
        at: i64,
        why_not: &mut Vec<RevocationProblem>,
    ) -> Option<Answer> {
        // A CRL limited by its issuingDistributionPoint to CA (or user) certificates says
        // nothing about the other kind (RFC 5280 §5.2.5).
        let is_ca = cert.is_ca();
        let in_scope = |c: &Crl| match c.scope() {
            Some(scope) => {
                let kind_matches = if is_ca {
                    !scope.only_user_certs
                } else {
                    !scope.only_ca_certs
                };
                !scope.only_attribute_certs && kind_matches
            }
            None => true,
        };
        let authentic: Vec<&Arc<Crl>> = (crls.iter().flat_map(|list| list.iter()))
            .filter(|c| in_scope(c) && self.authentic(c, issuer, why_not))
            .collect();
        let serial = cert.parsed.tbs_certificate.serial_number.as_bytes();
        // A CRL issued after the certificate expired may have dropped it: its silence proves
        // nothing (unless ExpiredCertsOnCRL says it kept it), though an entry still counts.
        let silent_after_expiry =
            |c: &&Arc<Crl>| !c.covers_expiry_of(cert.not_after()) && c.lookup(serial).is_none();
        let fresh =
            || (authentic.iter()).filter(|c| Self::fresh_for(c, at) && !silent_after_expiry(c));
        if let Some(full) = fresh()
            .filter(|c| !c.is_delta())
            .max_by_key(|c| c.number().unwrap_or(0))
        {
            let delta = fresh()
                // Applicable (base no newer than the full CRL) and not older than it (§5.2.4).
                .filter(|c| {
                    c.is_delta() && c.delta_base() <= full.number() && c.number() >= full.number()
                })
                .max_by_key(|c| c.number().unwrap_or(0));
            let source = format!(
                "{} #{}",
                if delta.is_some() {
                    "CRL + delta CRL"
                } else {
                    "CRL"
                },
                full.number().unwrap_or(0)
            );
            return match crl::status(full, delta.map(|d| d.as_ref()), serial) {
                Ok(None) => Some(Answer::Good { source }),
                Ok(Some(entry)) => Some(Answer::Revoked {
                    at: entry.revoked_at,
                    reason: entry.revocation_reason(),
                    source,
                }),
                Err(e) => {
                    why_not.push(RevocationProblem::Crl(e.to_string()));
                    None
                }
            };
        }
        // No current CRL. A stale one proves nothing about good standing, but a revocation
        // other than a hold is permanent: if a stale CRL lists it, the certificate is revoked.
        if let Some(late) = authentic
            .iter()
            .find(|c| Self::fresh_for(c, at) && silent_after_expiry(c))
        {
            why_not.push(RevocationProblem::AfterExpiry {
                issuer: issuer.subject(),
                this_update: late.this_update(),
                not_after: cert.not_after(),
            });
        }
        // Stale: current neither at `at` nor issued after it (those were judged above).
        for stale in (authentic.iter()).filter(|c| !c.is_delta() && !Self::fresh_for(c, at)) {
            if let Some(entry) = stale
                .lookup(serial)
                .filter(|e| !e.revocation_reason().is_some_and(|r| r.is_hold()))
            {
                return Some(Answer::Revoked {
                    at: entry.revoked_at,
                    reason: entry.revocation_reason(),
                    source: format!("stale CRL #{}", stale.number().unwrap_or(0)),
                });
            }
            why_not.push(RevocationProblem::StaleCrl {
                issuer: issuer.subject(),
                next_update: stale.next_update(),
                at,
            });
        }
        None
    }

    async fn fetch_crl(&self, url: &str, now: i64) -> Result<Arc<Crl>, String> {
        if let Some(hit) = self.fetched.lock().ok().and_then(|f| f.get(url).cloned()) {
            if hit.next_update().is_some_and(|n| now < n) {
                return Ok(hit);
            }
        }
        let bytes = self.fetcher.get(url).await?;
        let crl = Arc::new(Crl::parse(&bytes).map_err(|e| format!("{url}: {e}"))?);
        if let Ok(mut f) = self.fetched.lock() {
            if f.len() >= CACHE_LIMIT {
                f.clear();
            }
            f.insert(url.to_owned(), Arc::clone(&crl));
        }
        Ok(crl)
    }

    /// The status of one certificate, trying each kind of source in turn.
    async fn status(
        &self,
        cert: &Cert,
        issuer: &Cert,
        at: i64,
        given: &RevocationValues,
        now: i64,
    ) -> Result<Answer, Vec<RevocationProblem>> {
        let mut why_not = Vec::new();
        for source in &self.sources {
            if let Some(answer) = source.status(cert, issuer).await {
                return Ok(answer);
            }
        }
        let local = [given.crls.as_slice(), self.crls.as_slice()];
        if let Some(answer) = self.status_from_crls(&local, cert, issuer, at, &mut why_not) {
            return Ok(answer);
        }
        for carried in &given.ocsp_responses {
            match super::ocsp::check_carried(carried, cert, issuer, at, now) {
                Ok(answer) => return Ok(answer),
                // Responses about other certificates are the common case: not a problem.
                Err(e) if e.ends_with("about another certificate") => {}
                Err(e) => why_not.push(RevocationProblem::Ocsp(e)),
            }
        }
        if self.offline {
            why_not.push(RevocationProblem::Offline);
            return Err(why_not);
        }
        for url in cert.aia_uris(const_oid::db::rfc5280::ID_AD_OCSP) {
            match super::ocsp::query(cert, issuer, &url, &self.fetcher, now).await {
                Ok(answer) => return Ok(answer),
                Err(e) => why_not.push(RevocationProblem::Ocsp(e)),
            }
        }
        let mut fetched = Vec::new();
        for url in cert.crl_distribution_uris() {
            match self.fetch_crl(url, now).await {
                Ok(crl) => {
                    for delta_url in crl
                        .freshest_crl_urls()
                        .iter()
                        .chain(cert.freshest_crl_uris().iter())
                    {
                        match self.fetch_crl(delta_url, now).await {
                            Ok(delta) => fetched.push(delta),
                            Err(e) => why_not.push(RevocationProblem::DeltaCrl(e)),
                        }
                    }
                    fetched.push(crl);
                }
                Err(e) => why_not.push(RevocationProblem::Crl(e)),
            }
        }
        if let Some(answer) = self.status_from_crls(&[&fetched], cert, issuer, at, &mut why_not) {
            return Ok(answer);
        }
        if why_not.is_empty() {
            why_not.push(RevocationProblem::NoPointers {
                subject: cert.subject(),
            });
        }
        Err(why_not)
    }

    /// Checks every certificate of `path` but the last (the anchor), or only the signer's with
    /// [`RevocationScope::Leaf`]. Returns the check and the source that answered for the signer.
    pub(super) async fn check(
        &self,
        path: &[Arc<Cert>],
        time: ValidationTime,
        given: &RevocationValues,
        now: i64,
    ) -> (Check, Option<String>) {
        let (id, at) = (Step::Revocation, time.at);
        let mut leaf_source = None;
        // The passing detail, its parts joined by "; ".
        let mut good = String::new();
        let mut note = |part: std::fmt::Arguments<'_>| {
            if !good.is_empty() {
                good.push_str("; ");
            }
            let _ = std::fmt::Write::write_fmt(&mut good, part);
        };
        let checked = match self.scope {
            RevocationScope::Chain => path.len().saturating_sub(1),
            RevocationScope::Leaf => path.len().min(2).saturating_sub(1),
        };
        if checked + 1 < path.len() {
            note(format_args!(
                "{} CA certificate(s) not checked (revocation scope: leaf)",
                path.len() - 1 - checked
            ));
        }
        for pair in path.windows(2).take(checked) {
            let (cert, issuer) = (&pair[0], &pair[1]);
            match self.status(cert, issuer, at, given, now).await {
                Ok(Answer::Revoked {
                    at: revoked_at,
                    reason,
                    source,
                }) if revoked_at <= at => {
                    return (
                        Check::failed(
                            id,
                            SubIndication::Revoked,
                            "REVOKED",
                            format!(
                                "{} was revoked at {} ({}) according to {source}",
                                cert.subject_text(),
                                rfc3339(revoked_at),
                                reason.map_or("unspecified", |r| r.name())
                            ),
                        ),
                        leaf_source.or(Some(source)),
                    );
                }
                Ok(Answer::Revoked {
                    at: revoked_at,
                    source,
                    ..
                }) => {
                    note(format_args!(
                        "{}: revoked only later, at {} ({source}){}",
                        cert.subject_text(),
                        rfc3339(revoked_at),
                        if time.source == TimeSource::ProofOfExistence {
                            ", after the proof of existence: the signature was made before"
                        } else {
                            ""
                        }
                    ));
                    leaf_source.get_or_insert(source);
                }
                Ok(Answer::Good { source }) => {
                    note(format_args!(
                        "{}: not revoked ({source})",
                        cert.subject_text()
                    ));
                    leaf_source.get_or_insert(source);
                }
                Err(reasons) => {
                    let reasons_have_after_expiry = (reasons.iter())
                        .any(|r| matches!(r, RevocationProblem::AfterExpiry { .. }));
                    let reasons = (reasons.iter())
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    // At a proof of existence, or for a certificate that has expired since
                    // (later CRLs may have dropped it), no later fetch can help: out of bounds.
                    let out_of_bounds =
                        time.source == TimeSource::ProofOfExistence || reasons_have_after_expiry;
                    let check = if out_of_bounds {
                        Check::indeterminate(
                            id,
                            SubIndication::RevocationOutOfBoundsNoPoe,
                            "REVOCATION_OUT_OF_BOUNDS_NO_POE",
                            format!(
                                "no revocation information covers {} at {}{}: {reasons}",
                                cert.subject_text(),
                                rfc3339(at),
                                if time.source == TimeSource::ProofOfExistence {
                                    " (the proof of existence)"
                                } else {
                                    ""
                                }
                            ),
                        )
                    } else {
                        Check::indeterminate(
                            id,
                            SubIndication::TryLater,
                            "NO_REVOCATION_INFO",
                            format!(
                                "no usable revocation information for {}: {reasons}",
                                cert.subject_text(),
                            ),
                        )
                    };
                    return (check, leaf_source);
                }
            }
        }
        (Check::passed(id, good), leaf_source)
    }
}
