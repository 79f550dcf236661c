//! `[operations]`: periodic work and shutdown.

use serde::Deserialize;

use super::setting::{flag, positive, setting};
use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OperationsFileConfig {
    crl_refresh_seconds: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
    evidence_renewal_margin_days: Option<u64>,
    inline_evidence: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct OperationsConfig {
    /// How often the leader checks whether a CRL is due (and followers try to become leader).
    pub crl_refresh_seconds: u64,
    /// After SIGTERM/SIGINT: how long in-flight requests may take before they are abandoned.
    pub shutdown_grace_seconds: u64,
    /// The evidence job adds an archive time-stamp to a document whose evidence holds for
    /// less than this many days more (its newest TSA certificate expires within them).
    pub evidence_renewal_margin_days: u64,
    /// `POST /v1/documents` extends each document to LTA before answering (bounded; what it
    /// cannot do the evidence job does). Off: documents are answered at level B, as signed,
    /// and the evidence job brings them to LTA on its next run (the load benchmark measures
    /// issuance so).
    pub inline_evidence: bool,
}

impl Default for OperationsConfig {
    fn default() -> Self {
        OperationsConfig {
            crl_refresh_seconds: 60,
            shutdown_grace_seconds: 20,
            evidence_renewal_margin_days: 90,
            inline_evidence: true,
        }
    }
}

impl OperationsConfig {
    pub(super) fn load(
        file: OperationsFileConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<OperationsConfig, ConfigError> {
        let defaults = OperationsConfig::default();
        Ok(OperationsConfig {
            crl_refresh_seconds: positive(
                &var,
                "QOLTANBA_CRL_REFRESH_SECONDS",
                file.crl_refresh_seconds,
                defaults.crl_refresh_seconds,
            )?,
            shutdown_grace_seconds: positive(
                &var,
                "QOLTANBA_SHUTDOWN_GRACE_SECONDS",
                file.shutdown_grace_seconds,
                defaults.shutdown_grace_seconds,
            )?,
            evidence_renewal_margin_days: positive(
                &var,
                "QOLTANBA_EVIDENCE_RENEWAL_MARGIN_DAYS",
                file.evidence_renewal_margin_days,
                defaults.evidence_renewal_margin_days,
            )?,
            inline_evidence: setting(
                &var,
                "QOLTANBA_INLINE_EVIDENCE",
                file.inline_evidence,
                defaults.inline_evidence,
                flag,
            )?,
        })
    }
}
