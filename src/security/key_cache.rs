//! API keys as last read from the database, for at most [`MAX_STALENESS`]: an authenticated
//! request no longer costs a query (issue 16), and a key revoked anywhere — by `keys revoke`,
//! another instance, or by hand in the table — stops working within that bound. A key revoked
//! through this process's [`ApiKeys`](super::ApiKeys) stops at once.
//!
//! Only rows that exist are kept (a made-up id always reaches the database, which the rate
//! limit bounds), at most [`MAX_KEYS`] of them. The presented secret is checked against the
//! kept hash on every request, as against the row.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::ApiKeyRecord;

/// How long a key read from the database is believed. Measured from before the read, so the
/// row is at least that recent.
pub const MAX_STALENESS: Duration = Duration::from_millis(500);

/// Keys kept at most; past it the stale ones go, and if none is stale, all.
pub(super) const MAX_KEYS: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct KeyCache {
    keys: Mutex<HashMap<String, (ApiKeyRecord, Instant)>>,
}

impl KeyCache {
    /// The key `id` as read at most [`MAX_STALENESS`] ago.
    pub(super) fn get(&self, id: &str) -> Option<ApiKeyRecord> {
        let keys = self.keys.lock().ok()?;
        let (record, read) = keys.get(id)?;
        (read.elapsed() < MAX_STALENESS).then(|| record.clone())
    }

    /// Keeps `record`, read from the database by a query started at `read`.
    pub(super) fn put(&self, record: ApiKeyRecord, read: Instant) {
        let Ok(mut keys) = self.keys.lock() else {
            return;
        };
        if keys.len() >= MAX_KEYS && !keys.contains_key(&record.id) {
            keys.retain(|_, (_, at)| at.elapsed() < MAX_STALENESS);
            if keys.len() >= MAX_KEYS {
                keys.clear();
            }
        }
        keys.insert(record.id.clone(), (record, read));
    }

    /// Forgets every key (one was revoked through this process).
    pub(super) fn clear(&self) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.clear();
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.keys.lock().map(|k| k.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> ApiKeyRecord {
        ApiKeyRecord {
            id: id.into(),
            name: format!("name-{id}"),
            secret_hash: "00".into(),
            scopes: "sign".into(),
            created_at: 0,
            revoked_at: None,
        }
    }

    #[test]
    fn a_key_is_believed_for_the_bound_and_not_after_it() {
        let cache = KeyCache::default();
        cache.put(key("a"), Instant::now());
        assert_eq!(cache.get("a").map(|k| k.name), Some("name-a".into()));
        assert!(cache.get("b").is_none());
        // Read (its query started) longer ago than the bound: not believed any more.
        let Some(then) = Instant::now().checked_sub(MAX_STALENESS) else {
            return;
        };
        cache.put(key("a"), then);
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = KeyCache::default();
        for i in 0..3 * MAX_KEYS {
            cache.put(key(&i.to_string()), Instant::now());
            assert!(cache.len() <= MAX_KEYS);
        }
        // The newest is always kept.
        assert!(cache.get(&(3 * MAX_KEYS - 1).to_string()).is_some());
    }
}
