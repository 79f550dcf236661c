//! Step 2, signature: the signer's certificate, the algorithm policy, the format's integrity
//! result, and the signature itself, over the format-neutral [`SignerEvidence`].

use std::sync::Arc;

use super::budget::Budget;
use super::evidence::SignerEvidence;
use super::report::{Check, Step, SubIndication};
use crate::x509::Cert;

/// Smallest RSA modulus accepted for a signature.
pub(super) const MIN_RSA_BITS: usize = 2048;

pub(super) struct Outcome {
    pub check: Check,
    pub signer: Option<Arc<Cert>>,
    pub signing_time: Option<i64>,
    /// The signature algorithm by the name reports show ("GOST 34.310-2004"), once the claim
    /// resolved against the signer's key.
    pub algorithm: Option<String>,
}

/// The signer's certificate is the one whose key verifies the signature. The identifier
/// narrows the pool to candidates; a CMS may carry an impostor with the genuine certificate's
/// issuer and serial, so each candidate is tried, and when none verifies the first one's
/// failure is reported. Each try is one public-key operation from the request's `budget`;
/// when that runs out, the signer's certificate is not found (INDETERMINATE), never guessed.
pub(super) fn check(evidence: &SignerEvidence, pool: &[Arc<Cert>], budget: &Budget) -> Outcome {
    let mut candidates: Vec<&Arc<Cert>> = Vec::new();
    for cert in pool.iter().filter(|c| evidence.id.matches(c)) {
        if !candidates.iter().any(|c| c.fingerprint == cert.fingerprint) {
            candidates.push(cert);
        }
    }
    let mut first_failure = None;
    for candidate in candidates {
        let hashed = evidence.signed.as_ref().map_or(0, |bytes| bytes.len());
        if let Err(spent) = budget.spend(hashed) {
            return Outcome {
                algorithm: None,
                check: Check::indeterminate(
                    Step::Signature,
                    SubIndication::NoSigningCertificateFound,
                    "VERIFICATION_BUDGET_SPENT",
                    format!(
                        "stopped before a candidate certificate verified the signature: {spent}"
                    ),
                ),
                signer: None,
                signing_time: None,
            };
        }
        let outcome = check_with(evidence, candidate);
        if outcome.check.status == super::Status::Passed {
            return outcome;
        }
        first_failure.get_or_insert(outcome);
    }
    first_failure.unwrap_or_else(|| Outcome {
        algorithm: None,
        check: Check::indeterminate(
            Step::Signature,
            SubIndication::NoSigningCertificateFound,
            "NO_SIGNING_CERTIFICATE_FOUND",
            "the signer's certificate is neither in the signature nor among the supplied certificates",
        ),
        signer: None,
        signing_time: None,
    })
}

/// The signature judged as made by `signer`'s key.
fn check_with(evidence: &SignerEvidence, signer: &Arc<Cert>) -> Outcome {
    let key = &signer.parsed.tbs_certificate.subject_public_key_info;
    let claim = &evidence.algorithm;
    let resolved = claim.resolve(key);
    let name = resolved.as_ref().ok().map(|a| a.name());
    let outcome = |check: Check, signing_time| Outcome {
        check,
        signer: Some(Arc::clone(signer)),
        signing_time,
        algorithm: name.clone(),
    };
    let policy = |code: &'static str, detail: String| {
        let check = Check::failed(
            Step::Signature,
            SubIndication::CryptoConstraintsFailure,
            code,
            detail,
        );
        outcome(check, None)
    };
    let algorithm = match resolved {
        Ok(a) => a,
        Err(e) => return policy("UNSUPPORTED_ALGORITHM", e.to_string()),
    };
    if let Some(digest) = algorithm.digest().filter(|d| d.is_weak()) {
        return policy(
            "WEAK_DIGEST",
            format!("{} is not allowed for signatures", digest.name()),
        );
    }
    if let Some(bits) = signer.rsa_modulus_bits().filter(|b| *b < MIN_RSA_BITS) {
        return policy(
            "WEAK_KEY",
            format!("RSA-{bits} is below the {MIN_RSA_BITS}-bit minimum"),
        );
    }
    let signed = match &evidence.signed {
        Ok(bytes) => bytes,
        Err(failure) => return outcome(failure.clone().into_check(), None),
    };
    let signing_time = evidence.claimed_signing_time;
    match algorithm.verify(key, signed, &evidence.signature) {
        Ok(()) => outcome(
            Check::passed(
                Step::Signature,
                format!(
                    "{} signature by {} verifies",
                    name.as_deref().unwrap_or_default(),
                    signer.subject_text()
                ),
            ),
            signing_time,
        ),
        Err(e) => outcome(
            Check::failed(
                Step::Signature,
                SubIndication::SigCryptoFailure,
                "SIG_CRYPTO_FAILURE",
                format!("the signature does not verify: {e}"),
            ),
            signing_time,
        ),
    }
}
