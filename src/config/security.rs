//! `[security]`: which routes are open, and the limits every caller lives with.

use serde::Deserialize;

use super::setting::{flag, number, positive, setting};
use super::ConfigError;

/// `[security]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SecurityFileConfig {
    open_verification: Option<bool>,
    open_publication: Option<bool>,
    rate_limit_per_minute: Option<u32>,
    request_timeout_seconds: Option<u64>,
    max_concurrent_expensive: Option<usize>,
    header_read_timeout_seconds: Option<u64>,
    idle_timeout_seconds: Option<u64>,
    max_connections: Option<u32>,
}

/// Access and limits. Signing, issuing, revoking and the audit trail always need a key with
/// the right scope; these settings cover the rest.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Verification, document lookup and the auditor page without a key (default true);
    /// false requires the `verify` scope.
    pub open_verification: bool,
    /// CA certificates, CRLs, OCSP, the TSA and the CPS without a key (default true: relying
    /// parties fetch them from the URLs in certificates); false requires the `verify` scope.
    pub open_publication: bool,
    /// Requests per minute per API key (anonymous callers: per address); 0 turns it off.
    pub rate_limit_per_minute: u32,
    /// Longest a request may take before it is answered 503.
    pub request_timeout_seconds: u64,
    /// Issuances, document signatures and verifications running at once; more wait.
    pub max_concurrent_expensive: usize,
    /// Longest a connection may take to send a request's headers: from its opening, or from
    /// the first byte of a request on a kept-alive connection.
    pub header_read_timeout_seconds: u64,
    /// Longest a kept-alive connection may sit between requests, and a response may wait for
    /// its client to read on.
    pub idle_timeout_seconds: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: u32,
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
            header_read_timeout_seconds: 10,
            idle_timeout_seconds: 60,
            max_connections: 1024,
        }
    }
}

/// The largest `max_connections` accepted: far beyond what one process's file descriptors
/// allow.
const MOST_CONNECTIONS: u32 = 1_000_000;

impl SecurityConfig {
    pub(super) fn load(
        file: SecurityFileConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<SecurityConfig, ConfigError> {
        let d = SecurityConfig::default();
        let var = &var;
        let max_connections = positive(
            var,
            "QOLTANBA_MAX_CONNECTIONS",
            file.max_connections,
            d.max_connections,
        )?;
        if max_connections > MOST_CONNECTIONS {
            return Err(ConfigError::Invalid {
                name: "QOLTANBA_MAX_CONNECTIONS",
                message: format!("must be at most {MOST_CONNECTIONS}"),
            });
        }
        Ok(SecurityConfig {
            open_verification: setting(
                var,
                "QOLTANBA_OPEN_VERIFICATION",
                file.open_verification,
                d.open_verification,
                flag,
            )?,
            open_publication: setting(
                var,
                "QOLTANBA_OPEN_PUBLICATION",
                file.open_publication,
                d.open_publication,
                flag,
            )?,
            rate_limit_per_minute: setting(
                var,
                "QOLTANBA_RATE_LIMIT_PER_MINUTE",
                file.rate_limit_per_minute,
                d.rate_limit_per_minute,
                number,
            )?,
            request_timeout_seconds: positive(
                var,
                "QOLTANBA_REQUEST_TIMEOUT_SECONDS",
                file.request_timeout_seconds,
                d.request_timeout_seconds,
            )?,
            max_concurrent_expensive: positive(
                var,
                "QOLTANBA_MAX_CONCURRENT",
                file.max_concurrent_expensive,
                d.max_concurrent_expensive,
            )?,
            header_read_timeout_seconds: positive(
                var,
                "QOLTANBA_HEADER_READ_TIMEOUT_SECONDS",
                file.header_read_timeout_seconds,
                d.header_read_timeout_seconds,
            )?,
            idle_timeout_seconds: positive(
                var,
                "QOLTANBA_IDLE_TIMEOUT_SECONDS",
                file.idle_timeout_seconds,
                d.idle_timeout_seconds,
            )?,
            max_connections,
        })
    }
}
