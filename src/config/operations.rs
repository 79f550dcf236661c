//! `[operations]`: periodic work and shutdown.

use serde::Deserialize;

use super::setting::positive;
use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OperationsFileConfig {
    crl_refresh_seconds: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
    evidence_renewal_margin_days: Option<u64>,
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
}

impl Default for OperationsConfig {
    fn default() -> Self {
        OperationsConfig {
            crl_refresh_seconds: 60,
            shutdown_grace_seconds: 20,
            evidence_renewal_margin_days: 90,
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
        })
    }
}
