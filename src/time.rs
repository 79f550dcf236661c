//! Unix seconds to the RFC 3339 form used in JSON and listings.

/// `2026-11-23T05:26:00Z`; times outside X.509's range print as the raw number.
pub fn rfc3339(unix: i64) -> String {
    u64::try_from(unix)
        .ok()
        .and_then(|s| der::DateTime::from_unix_duration(std::time::Duration::from_secs(s)).ok())
        .map(|t| t.to_string())
        .unwrap_or_else(|| unix.to_string())
}
