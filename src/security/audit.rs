//! The audit trail's vocabulary and a recorder that never fails the action it records.
//!
//! Events carry who (the key's name, "anonymous" or "cli"), what (the route or command), the
//! target (a path, serial or document number), when, the outcome and the request id. Nothing
//! secret goes in: callers pass serials, numbers and names, never tokens, passwords or keys.

use crate::store::{AuditEvent, Store};

/// Outcome words used in the trail.
pub const OK: &str = "ok";
pub const REFUSED: &str = "refused";
pub const FAILED: &str = "failed";

/// A random request id: 16 hex digits.
pub fn request_id() -> String {
    crate::crypto::random_bytes::<8>()
        .map(hex::encode)
        .unwrap_or_else(|_| format!("{:016x}", crate::time::now()))
}

/// What to record; `at` is filled in by [`record`].
pub struct Entry<'a> {
    pub request_id: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub status: i64,
    pub detail: &'a str,
}

/// Longest target (a request path, a serial, a number) kept in the trail. The table is
/// append-only, so what a caller can make us write is bounded here: a 64,000-character path
/// must not become a 64 KB row (issue 12).
pub const MAX_TARGET_CHARS: usize = 512;
/// Longest actor, action or detail kept.
pub const MAX_FIELD_CHARS: usize = 1024;

/// `text` within `max` characters; a cut one says so and how long it was.
pub(super) fn capped(text: &str, max: usize) -> String {
    let length = text.chars().count();
    if length <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… [truncated from {length} characters]")
}

/// Appends to the trail. A failure to record is logged loudly but does not undo or fail the
/// action: the action already happened, and losing its answer would be worse.
pub async fn record(store: &Store, entry: Entry<'_>) {
    let event = AuditEvent {
        seq: 0,
        at: crate::time::now(),
        request_id: capped(entry.request_id, MAX_FIELD_CHARS),
        actor: capped(entry.actor, MAX_FIELD_CHARS),
        action: capped(entry.action, MAX_FIELD_CHARS),
        target: capped(entry.target, MAX_TARGET_CHARS),
        outcome: capped(entry.outcome, MAX_FIELD_CHARS),
        status: entry.status,
        detail: capped(entry.detail, MAX_FIELD_CHARS),
    };
    if let Err(e) = store.append_audit(&event).await {
        // The log keeps what the trail could not (an aggregated count included).
        tracing::error!(error = %e, action = event.action, target = event.target,
            detail = event.detail, "could not write the audit trail");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_fields_are_cut_and_say_so() {
        assert_eq!(capped("/v1/audit", MAX_TARGET_CHARS), "/v1/audit");
        let path = format!("/v1/pki/certificates/{}", "A".repeat(64_000));
        let kept = capped(&path, MAX_TARGET_CHARS);
        assert!(kept.starts_with("/v1/pki/certificates/AAAA"));
        assert!(
            kept.ends_with("[truncated from 64021 characters]"),
            "{kept}"
        );
        assert!(kept.chars().count() < MAX_TARGET_CHARS + 40);
        // Characters, not bytes: Cyrillic is never cut inside a character.
        let cyrillic = "ЖСН".repeat(400);
        assert!(capped(&cyrillic, MAX_TARGET_CHARS).starts_with("ЖСНЖСН"));
    }
}
