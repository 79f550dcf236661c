//! `[timestamp]`: where signature and archive time-stamps come from.

use serde::Deserialize;

use super::setting::{number, positive, setting};
use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TimestampFileConfig {
    url: Option<String>,
    policy: Option<String>,
    timeout_seconds: Option<u64>,
    retries: Option<u32>,
}

/// The TSA to ask: none configured means this service's own, called in process.
#[derive(Debug, Clone)]
pub struct TimestampConfig {
    /// http:// URL of an RFC 3161 TSA (`POST application/timestamp-query`); None: the own TSA.
    pub url: Option<String>,
    /// The TSA policy OID to ask for; a token under another is refused.
    pub policy: Option<der::asn1::ObjectIdentifier>,
    pub timeout_seconds: u64,
    /// Further attempts after a failed one.
    pub retries: u32,
}

impl Default for TimestampConfig {
    fn default() -> Self {
        TimestampConfig {
            url: None,
            policy: None,
            timeout_seconds: 10,
            retries: 2,
        }
    }
}

impl TimestampConfig {
    pub(super) fn load(
        file: TimestampFileConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<TimestampConfig, ConfigError> {
        let defaults = TimestampConfig::default();
        // An empty variable clears a URL set in the file: back to the own TSA.
        let url = match var("QOLTANBA_TIMESTAMP_URL") {
            Some(v) => Some(v).filter(|v| !v.is_empty()),
            None => file.url,
        };
        if let Some(url) = &url {
            // The client speaks plain HTTP, as RFC 3161 TSAs (NCA's included) are published.
            if !url.starts_with("http://") {
                return Err(ConfigError::Invalid {
                    name: "QOLTANBA_TIMESTAMP_URL",
                    message: format!("{url:?} is not an http:// URL"),
                });
            }
        }
        let policy = var("QOLTANBA_TIMESTAMP_POLICY")
            .filter(|v| !v.is_empty())
            .or(file.policy)
            .map(|p| {
                der::asn1::ObjectIdentifier::new(&p).map_err(|e| ConfigError::Invalid {
                    name: "QOLTANBA_TIMESTAMP_POLICY",
                    message: format!("{p:?} is not an OID: {e}"),
                })
            })
            .transpose()?;
        Ok(TimestampConfig {
            url,
            policy,
            timeout_seconds: positive(
                &var,
                "QOLTANBA_TIMESTAMP_TIMEOUT_SECONDS",
                file.timeout_seconds,
                defaults.timeout_seconds,
            )?,
            retries: setting(
                &var,
                "QOLTANBA_TIMESTAMP_RETRIES",
                file.retries,
                defaults.retries,
                number,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_file_and_environment() {
        let none = |_: &str| None;
        let c = TimestampConfig::load(TimestampFileConfig::default(), none).expect("defaults");
        assert_eq!(
            (c.url, c.policy, c.timeout_seconds, c.retries),
            (None, None, 10, 2)
        );
        let file: TimestampFileConfig = toml::from_str(
            "url = \"http://tsa.example/tsp\"\npolicy = \"1.2.398.3.3.2.6.1\"\nretries = 0\n",
        )
        .expect("toml");
        let env = |name: &str| (name == "QOLTANBA_TIMESTAMP_TIMEOUT_SECONDS").then(|| "3".into());
        let c = TimestampConfig::load(file, env).expect("file");
        assert_eq!(c.url.as_deref(), Some("http://tsa.example/tsp"));
        assert_eq!(
            c.policy.map(|p| p.to_string()).as_deref(),
            Some("1.2.398.3.3.2.6.1")
        );
        assert_eq!((c.timeout_seconds, c.retries), (3, 0));
        let bad = |name: &str| (name == "QOLTANBA_TIMESTAMP_URL").then(|| "https://x".into());
        assert!(TimestampConfig::load(TimestampFileConfig::default(), bad).is_err());
    }
}
