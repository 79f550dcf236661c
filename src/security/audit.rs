//! The audit trail's vocabulary, the bounds of what it keeps, and its two ways in.
//!
//! Events carry who (the key's name, "anonymous" or "cli"), what (the route or command), the
//! target (a path, serial or document number), when, the outcome and the request id. Nothing
//! secret goes in: callers pass serials, numbers and names, never tokens, passwords or keys.
//!
//! An act (an issuance, a revocation, a signature) is entered through [`act`]: the entry is
//! handed to the room doing the act and written by the store in the act's own transaction, so
//! the two exist together or not at all. Everything else (refusals, failures, reads) goes
//! through [`record`], after the fact, which never fails the request it records.

use crate::store::{ActAudit, Store};

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

/// Everything of an entry but its detail, bounded.
fn bounded(entry: &Entry<'_>) -> ActAudit {
    ActAudit {
        request_id: capped(entry.request_id, MAX_FIELD_CHARS),
        actor: capped(entry.actor, MAX_FIELD_CHARS),
        action: capped(entry.action, MAX_FIELD_CHARS),
        target: capped(entry.target, MAX_TARGET_CHARS),
        outcome: capped(entry.outcome, MAX_FIELD_CHARS),
        status: entry.status,
    }
}

/// The entry of an act (an issuance, a revocation, a signature) that is yet to happen, bounded:
/// the act adds its detail and the store writes it in the act's own transaction, so there is
/// never an act without its entry nor an entry without its act. `status` is what a success
/// answers (201, 200; 0 for the command line): the entry exists only if the act succeeded.
pub fn act(request_id: &str, actor: &str, action: &str, target: &str, status: i64) -> ActAudit {
    bounded(&Entry {
        request_id,
        actor,
        action,
        target,
        outcome: OK,
        status,
        detail: "",
    })
}

/// Appends to the trail, apart from any act: refusals, failures, reads. A failure to record is
/// logged loudly but does not fail the request: losing its answer would be worse.
pub async fn record(store: &Store, entry: Entry<'_>) {
    let event = bounded(&entry).entry(crate::time::now(), capped(entry.detail, MAX_FIELD_CHARS));
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
