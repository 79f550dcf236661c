//! One signer through условие 3: signature → timestamp → chain → validity → revocation → key
//! usage → identity, over the format-neutral evidence, at the signer's own validation time.
//!
//! A signer is judged in two parts. [`Core::judge_offline`] is the CPU's: the signature and the
//! path search, public-key operations that run on the blocking pool ([`super::lane`]).
//! [`Core::finish`] is the revocation sources' (a database, a responder), awaited on the
//! runtime, and then the cheap checks that need nothing but the certificate.

use std::sync::Arc;

use super::budget::Budget;
use super::chain::{self, Paths};
use super::evidence::{RevocationValues, SignedNumbers, SignerEvidence};
use super::identity::{self, Expected};
use super::purpose::Purpose;
use super::report::{self, Check, Report, SignerReport, Status, Step, SubIndication};
use super::signature;
use super::step::ValidationTime;
use super::timestamp::{self, Sources};
use super::{format, key_usage, validity, Core, Request};
use crate::x509::crl::Crl;
use crate::x509::Cert;

/// What every signer of one request is judged with.
pub(super) struct Context {
    /// The request's validation time (its `at`, or now).
    pub at: ValidationTime,
    /// The wall clock, for freshness of what is fetched.
    pub now: i64,
    /// Candidate certificates: the signature's own, the caller's, the configured intermediates.
    pub pool: Vec<Arc<Cert>>,
    /// CRLs the caller supplied with the request, and the revocation values the signature
    /// carries (CAdES-LT): evidence for the revocation step at any time they cover.
    pub revocation_values: RevocationValues,
    pub expected: Expected,
    /// The format step's check, repeated in each signer's report.
    pub format: Check,
}

impl Context {
    /// The time a signer is judged at (EN 319 102-1): its proof of existence when one is
    /// earlier than the request's time — a signature proven to exist before its certificate
    /// expired or was revoked is judged then — else the request's time.
    fn time_for(&self, proof_of_existence: Option<i64>) -> ValidationTime {
        match proof_of_existence {
            Some(poe) if poe < self.at.at => ValidationTime::proven(poe),
            _ => self.at,
        }
    }
}

/// A signer after the offline part: the signature step's outcome and, when a signer
/// certificate was found, its path.
pub(super) struct Offline {
    time: ValidationTime,
    signature: signature::Outcome,
    chain: Option<chain::Outcome>,
    covers: Vec<String>,
    timestamps: Vec<timestamp::Judged>,
}

const PURPOSE: Purpose = Purpose::DocumentSignature;

/// A request read: the context its signers share, and the signers.
pub(super) struct Work {
    pub ctx: Context,
    pub signers: Vec<SignerEvidence>,
}

/// The report of a verification the runtime abandoned while shutting down.
pub(super) fn interrupted(at: ValidationTime) -> Report {
    let check = Check::indeterminate(
        Step::Format,
        SubIndication::TryLater,
        "INTERRUPTED",
        "the verification was interrupted (the service is stopping); send it again",
    );
    let nobody = identity::expected(None, None, None).report;
    report::assemble(check, Vec::new(), nobody, crate::time::rfc3339(at.at))
}

impl Core {
    /// The format step: reads the signature and gathers the candidate certificates and CRLs.
    /// A request that fails here is answered at once with its report.
    pub(super) fn prepare(
        &self,
        request: Request,
        at: ValidationTime,
        now: i64,
    ) -> Result<Work, Box<Report>> {
        let validation_time = || crate::time::rfc3339(at.at);
        let expected = |numbers: Option<&SignedNumbers>| {
            identity::expected(request.iin.as_ref(), request.bin.as_ref(), numbers)
        };
        let mut parsed = match format::parse(
            &request.signature,
            request.content.as_deref(),
            &self.certs,
            &self.pointers,
        ) {
            Ok(p) => p,
            Err(check) => {
                let expected = expected(None);
                return Err(Box::new(report::assemble(
                    check,
                    Vec::new(),
                    expected.report,
                    validation_time(),
                )));
            }
        };
        let format_check = format::check(&mut parsed);
        let expected = expected(Some(&parsed.numbers));
        if format_check.status != Status::Passed {
            return Err(Box::new(report::assemble(
                format_check,
                Vec::new(),
                expected.report,
                validation_time(),
            )));
        }
        let mut pool: Vec<Arc<Cert>> = parsed.certificates;
        // Supplied certificates (PEM or DER) share the cache of the signature's own; unreadable
        // ones are simply not candidates.
        for supplied in &request.certificates {
            if let Some(cert) =
                crate::x509::decode_der(supplied).and_then(|der| self.certs.get(&der).ok())
            {
                pool.push(cert);
            }
        }
        pool.extend(self.intermediates.iter().cloned());
        let mut revocation_values = parsed.revocation;
        revocation_values
            .crls
            .extend((request.crls.iter()).filter_map(|b| Crl::parse(b).ok().map(Arc::new)));
        let ctx = Context {
            at,
            now,
            pool,
            revocation_values,
            expected,
            format: format_check,
        };
        Ok(Work {
            ctx,
            signers: parsed.signers,
        })
    }

    /// Signature and chain: the public-key operations, paid from the request's `budget`.
    pub(super) fn judge_offline(
        &self,
        ctx: &Context,
        evidence: &SignerEvidence,
        budget: &Budget,
    ) -> Offline {
        let signature = signature::check(evidence, &ctx.pool, budget);
        let paths = Paths {
            pool: &ctx.pool,
            anchors: &self.anchors,
            cache: &self.paths,
            budget,
        };
        let sources = Sources {
            paths,
            certs: &self.certs,
        };
        let mut timestamps =
            timestamp::judge_offline(&evidence.timestamps, &evidence.signature, &sources);
        timestamps.extend(timestamp::judge_archive(
            &evidence.archive_timestamps,
            &sources,
        ));
        // The path is searched at the time the signer will be judged at: the proof of
        // existence the tokens give so far (their TSAs' revocation is still to be asked; if
        // that fails, `finish` judges the path at the request's time instead).
        let not_before = signature.signer.as_deref().map(Cert::not_before);
        let time = ctx.time_for(timestamp::provisional_proof(
            &timestamps,
            not_before,
            ctx.at.at,
        ));
        let chain = (signature.signer.as_ref())
            .map(|signer| chain::build(signer, PURPOSE, time, &sources.paths));
        Offline {
            time,
            signature,
            chain,
            covers: evidence.covers.clone(),
            timestamps,
        }
    }

    /// Validity, revocation, key usage and identity, and the signer's report.
    pub(super) async fn finish(&self, ctx: &Context, offline: Offline) -> SignerReport {
        let Offline {
            time: searched_at,
            signature: sig,
            chain,
            covers,
            timestamps,
        } = offline;
        let profile = sig.signer.as_deref().map(Cert::key_profile);
        // Read once: the identity check compares it, the signer's report shows it.
        let subject = (sig.signer.as_deref())
            .map(identity::subject)
            .unwrap_or_default();
        let not_before = sig.signer.as_deref().map(Cert::not_before);
        let online = timestamp::Online {
            revocation: &self.revocation,
            values: &ctx.revocation_values,
            now: ctx.now,
            not_before,
            validation_time: ctx.at.at,
        };
        let stamped = timestamp::finish(timestamps, &online).await;
        let time = ctx.time_for(stamped.proof_of_existence);
        if time != searched_at {
            // A token that passed offline failed on its TSA's revocation: the path found for
            // its time is judged at the request's time; validity says if it no longer holds.
            tracing::debug!("proof of existence withdrawn after the path search");
        }
        let mut checks = Vec::with_capacity(Step::ALL.len());
        checks.extend([ctx.format.clone(), sig.check, stamped.check]);
        let mut revocation_source = None;
        match (&sig.signer, chain) {
            (Some(signer), Some(chain)) => {
                checks.push(chain.check);
                match &chain.path {
                    Some(path) => {
                        checks.push(validity::check(path, time));
                        let (check, source) = (self.revocation)
                            .check(path, time, &ctx.revocation_values, ctx.now)
                            .await;
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
                if let Some(profile) = profile {
                    let role = self.required_role.as_deref();
                    checks.push(key_usage::check(signer, profile, PURPOSE, role));
                }
                checks.push(identity::check(&subject, &ctx.expected));
            }
            _ => {
                for step in Step::Timestamp.after() {
                    checks.push(Check::skipped(step, "no signer certificate"));
                }
            }
        }
        let (verdict, _) = report::verdict_of(&checks);
        let signer = sig.signer.as_deref();
        SignerReport {
            subject,
            key_kind: profile.map_or("unknown", |p| p.kind.name()).to_owned(),
            roles: profile.map(|p| p.roles.clone()).unwrap_or_default(),
            serial: signer.map(Cert::serial_hex),
            issuer: signer.map(Cert::issuer),
            not_before: signer.map(|s| s.not_before_text().to_owned()),
            not_after: signer.map(|s| s.not_after_text().to_owned()),
            signing_time: sig.signing_time.map(crate::time::rfc3339),
            algorithm: sig.algorithm.clone(),
            covers,
            revocation_source,
            timestamps: stamped.timestamps,
            proof_of_existence: stamped.proof_of_existence.map(crate::time::rfc3339),
            verdict,
            checks,
        }
    }
}
