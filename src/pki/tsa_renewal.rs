//! Re-issuing the built-in TSA's certificate before evidence renewal needs it: an archive
//! time-stamp only extends a document's evidence if its TSA certificate outlives the renewal
//! margin, so when the TSA's own certificate comes within that margin the leader gives the TSA
//! a new key and certificate (same name, profile and policy) and signs with them from then on.
//! The new pair is stored like the first (an `authorities` row, role `tsa`, and a
//! `certificates` row); the newest one is what every instance loads at its next start.

use std::sync::Arc;

use super::official::identity;
use super::tsa::ROLE_TSA;
use super::{certificate, Pki, PkiError};
use crate::sign::SignerIdentity;

/// The TSA's signer once re-issued in this process.
pub(super) struct RenewedTsa {
    pub(super) signer: SignerIdentity,
    /// Upper-case hex: the PKI refuses to revoke it while in use.
    pub(super) serial: String,
}

impl Pki {
    /// The TSA's signer re-issued in this process, if it was.
    pub(super) fn renewed_tsa(&self) -> Option<Arc<RenewedTsa>> {
        self.tsa_renewed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// notAfter (unix seconds) of the certificate the built-in TSA signs with now.
    pub fn tsa_not_after(&self) -> i64 {
        let signer = self.renewed_tsa();
        let certificate = match &signer {
            Some(renewed) => &renewed.signer.certificate,
            None => &self.tsa.signer.certificate,
        };
        certificate::unix(&certificate.tbs_certificate.validity.not_after)
    }

    /// Re-issues the built-in TSA's certificate if it expires within `margin_seconds` of `now`;
    /// returns whether it did. `passphrase` encrypts the new key at rest, as the CA keys are.
    /// Refused (Config) when even a new certificate cannot outlive the margin: the issuing CA
    /// itself expires too soon, and that needs a person.
    pub async fn renew_tsa_if_due(
        &self,
        now: i64,
        margin_seconds: i64,
        passphrase: &[u8],
    ) -> Result<bool, PkiError> {
        let needed = now.saturating_add(margin_seconds);
        // A remote TSA's certificate is its operator's to renew; ours only signs when in use.
        if self.tsa.remote.is_some() || self.tsa_not_after() > needed {
            return Ok(false);
        }
        let decl = self.declarations.hierarchy.tsa();
        let not_after = super::tsa::tsa_not_after(&decl, &self.issuing, now);
        if not_after <= needed {
            return Err(PkiError::Config(format!(
                "the TSA's certificate expires within the evidence renewal margin and a new one \
                 could last only until {} (the issuing CA's or [tsa] validity_days' limit)",
                crate::time::rfc3339(not_after)
            )));
        }
        let id = format!("{}-tsa-{now}", self.issuing.id);
        let tsa = super::tsa::issue_tsa(
            &self.declarations,
            &self.issuing,
            &self.urls,
            now,
            not_after,
            id,
        )?;
        let record = tsa.record(ROLE_TSA, passphrase, now)?;
        let entry = Pki::certificate_entry(&tsa, &self.issuing.id, &decl.profile, now)?;
        let serial = entry.serial.clone();
        // Recorded like any issuance: in the audit trail, in the same transaction. No person
        // acts: the leader's periodic work does.
        let audit = crate::store::AuditEvent {
            seq: 0,
            at: now,
            request_id: format!("evidence-{now}"),
            actor: "service".into(),
            action: "periodic tsa renewal".into(),
            target: format!("tsa {}", self.issuing.id),
            outcome: "ok".into(),
            status: 0,
            detail: format!(
                "issued serial {serial} profile {} not_after {}",
                decl.profile,
                crate::time::rfc3339(not_after)
            ),
        };
        let stored = self
            .store
            .insert_authorities_audited(&[record], &entry, Some(&audit))
            .await?;
        if !stored {
            // Another instance re-issued it in the same second: sign with this one until the
            // next start loads the newest.
            tracing::warn!("another instance re-issued the TSA's certificate at the same time");
        }
        metrics::counter!(crate::telemetry::CERTIFICATES_ISSUED, "profile" => decl.profile.clone())
            .increment(1);
        tracing::info!(serial = %serial, not_after = %crate::time::rfc3339(not_after),
            "re-issued the time-stamping authority's certificate ahead of evidence renewal");
        let renewed = RenewedTsa {
            signer: identity(&tsa, Vec::new())?,
            serial,
        };
        *self.tsa_renewed.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(renewed));
        Ok(true)
    }
}
