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

/// Appends to the trail. A failure to record is logged loudly but does not undo or fail the
/// action: the action already happened, and losing its answer would be worse.
pub async fn record(store: &Store, entry: Entry<'_>) {
    let event = AuditEvent {
        seq: 0,
        at: crate::time::now(),
        request_id: entry.request_id.to_owned(),
        actor: entry.actor.to_owned(),
        action: entry.action.to_owned(),
        target: entry.target.to_owned(),
        outcome: entry.outcome.to_owned(),
        status: entry.status,
        detail: entry.detail.to_owned(),
    };
    if let Err(e) = store.append_audit(&event).await {
        tracing::error!(error = %e, action = entry.action, target = entry.target,
            "could not write the audit trail");
    }
}
