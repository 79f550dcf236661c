//! `[security]`: which routes are open, and the limits every caller lives with.

use serde::Deserialize;

use super::{flag, ConfigError};

/// `[security]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SecurityFileConfig {
    open_verification: Option<bool>,
    open_publication: Option<bool>,
    rate_limit_per_minute: Option<u32>,
    request_timeout_seconds: Option<u64>,
    max_concurrent_expensive: Option<usize>,
}

/// Access and limits. Signing, issuing, revoking and the audit trail always need a key with
/// the right scope; these settings cover the rest.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Verification, document lookup and the auditor page without a key (default true);
    /// false requires the `verify` scope.
    pub open_verification: bool,
    /// CA certificates, CRLs, OCSP and the CPS without a key (default true: relying parties
    /// fetch them from the URLs in certificates); false requires the `verify` scope.
    pub open_publication: bool,
    /// Requests per minute per API key (anonymous callers: per address); 0 turns it off.
    pub rate_limit_per_minute: u32,
    /// Longest a request may take before it is answered 503.
    pub request_timeout_seconds: u64,
    /// Issuances, document signatures and verifications running at once; more wait.
    pub max_concurrent_expensive: usize,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SecurityConfig {
            open_verification: true,
            open_publication: true,
            rate_limit_per_minute: 600,
            request_timeout_seconds: 30,
            max_concurrent_expensive: 2 * cores,
        }
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        name,
        message: format!("{value:?} is not a valid value"),
    })
}

impl SecurityConfig {
    pub(super) fn load(
        file: SecurityFileConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<SecurityConfig, ConfigError> {
        let defaults = SecurityConfig::default();
        let open_verification = match var("QOLTANBA_OPEN_VERIFICATION") {
            Some(v) => flag("QOLTANBA_OPEN_VERIFICATION", &v)?,
            None => file.open_verification.unwrap_or(defaults.open_verification),
        };
        let open_publication = match var("QOLTANBA_OPEN_PUBLICATION") {
            Some(v) => flag("QOLTANBA_OPEN_PUBLICATION", &v)?,
            None => file.open_publication.unwrap_or(defaults.open_publication),
        };
        let rate_limit_per_minute = match var("QOLTANBA_RATE_LIMIT_PER_MINUTE") {
            Some(v) => parse("QOLTANBA_RATE_LIMIT_PER_MINUTE", &v)?,
            None => file
                .rate_limit_per_minute
                .unwrap_or(defaults.rate_limit_per_minute),
        };
        let request_timeout_seconds = match var("QOLTANBA_REQUEST_TIMEOUT_SECONDS") {
            Some(v) => parse("QOLTANBA_REQUEST_TIMEOUT_SECONDS", &v)?,
            None => file
                .request_timeout_seconds
                .unwrap_or(defaults.request_timeout_seconds),
        };
        let max_concurrent_expensive = match var("QOLTANBA_MAX_CONCURRENT") {
            Some(v) => parse("QOLTANBA_MAX_CONCURRENT", &v)?,
            None => file
                .max_concurrent_expensive
                .unwrap_or(defaults.max_concurrent_expensive),
        };
        if request_timeout_seconds == 0 || max_concurrent_expensive == 0 {
            return Err(ConfigError::Invalid {
                name: "security.request_timeout_seconds / max_concurrent_expensive",
                message: "must be at least 1".into(),
            });
        }
        Ok(SecurityConfig {
            open_verification,
            open_publication,
            rate_limit_per_minute,
            request_timeout_seconds,
            max_concurrent_expensive,
        })
    }
}
