//! One signer through условие 3: signature → chain → validity → revocation → key usage →
//! identity, over the format-neutral evidence, at the signer's own validation time.

use std::sync::Arc;

use super::chain::{self, Paths};
use super::evidence::SignerEvidence;
use super::identity::{self, Expected};
use super::purpose::Purpose;
use super::report::{self, Check, SignerReport, Step};
use super::step::ValidationTime;
use super::{key_usage, signature, validity, Verifier};
use crate::x509::crl::Crl;
use crate::x509::{Cert, KeyProfile};

/// What every signer of one request is judged with.
pub(super) struct Context {
    /// The request's validation time (its `at`, or now).
    pub at: ValidationTime,
    /// The wall clock, for freshness of what is fetched.
    pub now: i64,
    /// Candidate certificates: the signature's own, the caller's, the configured intermediates.
    pub pool: Vec<Arc<Cert>>,
    /// CRLs the caller supplied with the request.
    pub crls: Vec<Arc<Crl>>,
    pub expected: Expected,
    /// The format step's check, repeated in each signer's report.
    pub format: Check,
}

impl Context {
    /// The time this signer is judged at. Today the request's; a proof of existence carried
    /// by the signer (a time-stamp) will set an earlier one here.
    fn time_for(&self, _signer: &SignerEvidence) -> ValidationTime {
        self.at
    }
}

impl Verifier {
    pub(super) async fn verify_signer(
        &self,
        ctx: &Context,
        evidence: &SignerEvidence,
    ) -> SignerReport {
        let time = ctx.time_for(evidence);
        let sig = signature::check(evidence, &ctx.pool);
        let profile = sig.signer.as_deref().map(KeyProfile::of);
        let mut checks = vec![ctx.format.clone(), sig.check];
        let mut revocation_source = None;
        match &sig.signer {
            None => {
                for step in Step::Signature.after() {
                    checks.push(Check::skipped(step, "no signer certificate"));
                }
            }
            Some(signer) => {
                let purpose = Purpose::DocumentSignature;
                let paths = Paths {
                    pool: &ctx.pool,
                    anchors: &self.anchors,
                    cache: &self.paths,
                };
                let chain = chain::build(signer, purpose, time, &paths);
                checks.push(chain.check);
                match &chain.path {
                    Some(path) => {
                        checks.push(validity::check(path, time));
                        let (check, source) =
                            self.revocation.check(path, time, &ctx.crls, ctx.now).await;
                        checks.push(check);
                        revocation_source = source;
                    }
                    None => {
                        checks.push(validity::check(std::slice::from_ref(signer), time));
                        checks.push(Check::skipped(
                            Step::Revocation,
                            "no path to a trust anchor",
                        ));
                    }
                }
                if let Some(profile) = &profile {
                    let role = self.required_role.as_deref();
                    checks.push(key_usage::check(signer, profile, purpose, role));
                }
                checks.push(identity::check(signer, &ctx.expected));
            }
        }
        let (verdict, _) = report::verdict_of(&checks);
        let signer = sig.signer.as_deref();
        SignerReport {
            subject: signer.map(identity::subject).unwrap_or_default(),
            key_kind: profile
                .as_ref()
                .map_or("unknown", |p| p.kind.name())
                .to_owned(),
            roles: profile.map(|p| p.roles).unwrap_or_default(),
            serial: signer.map(Cert::serial_hex),
            issuer: signer.map(Cert::issuer),
            not_before: signer.map(|s| crate::time::rfc3339(s.not_before())),
            not_after: signer.map(|s| crate::time::rfc3339(s.not_after())),
            signing_time: sig.signing_time.map(crate::time::rfc3339),
            revocation_source,
            verdict,
            checks,
        }
    }
}
