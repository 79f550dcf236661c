//! The revocation status of our own certificates, answered from memory when that is safe.
//!
//! Every verification of a certificate this service issued, and every OCSP answer, needs the
//! certificate's current status. Reading it from the database each time costs a round trip
//! (about half the throughput of `POST /v1/verify`). This cache keeps the records it has read,
//! and answers from them only while it can **prove** it is no more than [`MAX_STALENESS`]
//! behind the database:
//!
//! - a status change made through this `Store` drops the serial at once (bound zero in one
//!   process);
//! - a change made anywhere else (another instance, `qoltanba pki revoke` on the same SQLite
//!   file) reaches it through the watcher ([`super::status_watch`]): PostgreSQL's
//!   LISTEN/NOTIFY, or on SQLite a poll of the status counter;
//! - the watcher also confirms, every [`super::status_watch::BEAT`], that it has seen every
//!   change committed up to a moment it measured before asking ([`StatusCache::confirm`]). An
//!   answer from memory is given only while that moment is less than [`MAX_STALENESS`] old.
//!   When the watcher stops confirming (its connection killed, the database unreachable, no
//!   watcher started at all, as in one-shot CLI commands), every lookup goes to the database:
//!   fail safe, never fail open.
//!
//! An "epoch" counts invalidations, so that a record read from the database just before a
//! change is never put back into the cache after the change dropped it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::certificates::CertificateRecord;

/// How far behind the database an answer from memory may be: a revocation committed on any
/// instance is honoured everywhere within this time (the documented bound; the issue asks for
/// at most 1 s).
pub const MAX_STALENESS: Duration = Duration::from_millis(500);

/// Records kept at most; past it the oldest-read half is dropped (a miss costs one query).
const CAPACITY: usize = 16_384;

/// How a lookup was answered, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// From memory.
    Hit,
    /// From the database, then kept.
    Miss,
    /// From the database because the cache could not prove it was current.
    Bypass,
}

impl Lookup {
    pub fn as_str(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Bypass => "bypass",
        }
    }
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation.
    epoch: u64,
    /// serial → (record, the order it was read in).
    entries: HashMap<String, (Arc<CertificateRecord>, u64)>,
    reads: u64,
    /// Every change committed before this moment has been applied to `entries`.
    confirmed_at: Option<Instant>,
}

/// What a lookup that missed must present to keep what it read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket {
    epoch: u64,
}

#[derive(Default)]
pub(super) struct StatusCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for StatusCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusCache")
            .field("entries", &self.lock().entries.len())
            .finish()
    }
}

impl StatusCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map (every change is one insert
        // or removal), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The record from memory if the cache is provably current; else a ticket to keep the
    /// record about to be read from the database (None: do not keep it — the cache is not
    /// current, and anything read now might miss a change the watcher has not confirmed).
    pub(super) fn get(&self, serial: &str) -> Result<Arc<CertificateRecord>, Option<Ticket>> {
        let inner = self.lock();
        if !is_current(&inner, Instant::now()) {
            return Err(None);
        }
        match inner.entries.get(serial) {
            Some((record, _)) => Ok(Arc::clone(record)),
            None => Err(Some(Ticket { epoch: inner.epoch })),
        }
    }

    /// Keeps a record read from the database after [`StatusCache::get`] gave `ticket`, unless
    /// something was invalidated in between.
    pub(super) fn keep(&self, ticket: Ticket, record: Arc<CertificateRecord>) {
        let mut inner = self.lock();
        if inner.epoch != ticket.epoch {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            evict_older_half(&mut inner);
        }
        inner.reads += 1;
        let order = inner.reads;
        inner.entries.insert(record.serial.clone(), (record, order));
    }

    /// A serial's status changed (or may have): forget it.
    pub(super) fn invalidate(&self, serial: &str) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.remove(serial);
    }

    /// Changes may have been missed (the watcher reconnected, or could not tell which serial
    /// changed): forget everything.
    pub(super) fn invalidate_all(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.clear();
    }

    /// The watcher has applied every change committed before `as_of` (a moment it measured
    /// before asking the database).
    pub(super) fn confirm(&self, as_of: Instant) {
        let mut inner = self.lock();
        if inner.confirmed_at.is_none_or(|t| t < as_of) {
            inner.confirmed_at = Some(as_of);
        }
    }

    /// The watcher lost its view of the database: answer nothing from memory until it confirms
    /// again (and forget what it may have missed).
    pub(super) fn suspend(&self) {
        self.lock().confirmed_at = None;
        self.invalidate_all();
    }

    /// Whether lookups are answered from memory now.
    pub(super) fn is_current(&self) -> bool {
        is_current(&self.lock(), Instant::now())
    }
}

fn is_current(inner: &Inner, now: Instant) -> bool {
    inner
        .confirmed_at
        .is_some_and(|t| now.saturating_duration_since(t) < MAX_STALENESS)
}

fn evict_older_half(inner: &mut Inner) {
    let mut orders: Vec<u64> = inner.entries.values().map(|(_, o)| *o).collect();
    let middle = orders.len() / 2;
    let (_, cut, _) = orders.select_nth_unstable(middle);
    let cut = *cut;
    inner.entries.retain(|_, (_, order)| *order > cut);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CertificateStatus;

    fn record(serial: &str, status: CertificateStatus) -> Arc<CertificateRecord> {
        Arc::new(CertificateRecord {
            serial: serial.into(),
            issuer_id: "issuing".into(),
            profile: "individual-sign".into(),
            subject: "CN=x".into(),
            iin: None,
            bin: None,
            key_algorithm: "p256".into(),
            not_before: 0,
            not_after: 1,
            certificate: vec![1, 2, 3],
            status,
            revoked_at: None,
            revocation_reason: None,
            created_at: 0,
        })
    }

    /// A lookup that missed keeps what it read (a "good" record).
    fn read_through(cache: &StatusCache, serial: &str) {
        let Err(Some(ticket)) = cache.get(serial) else {
            panic!("{serial}: a miss with a ticket");
        };
        cache.keep(ticket, record(serial, CertificateStatus::Good));
    }

    #[test]
    fn nothing_is_answered_from_memory_until_the_watcher_confirms() {
        let cache = StatusCache::default();
        assert!(matches!(cache.get("01"), Err(None)), "no watcher: bypass");
        cache.confirm(Instant::now());
        read_through(&cache, "01");
        assert!(cache.get("01").is_ok(), "kept and answered");
    }

    #[test]
    fn an_unconfirmed_cache_goes_to_the_database_after_the_bound() {
        let cache = StatusCache::default();
        cache.confirm(Instant::now() - MAX_STALENESS);
        assert!(
            matches!(cache.get("01"), Err(None)),
            "a confirmation older than the bound proves nothing"
        );
    }

    #[test]
    fn a_record_read_before_an_invalidation_is_not_kept() {
        let cache = StatusCache::default();
        cache.confirm(Instant::now());
        let Err(Some(ticket)) = cache.get("01") else {
            panic!("miss");
        };
        // The revocation lands while the lookup is reading the old "good" record.
        cache.invalidate("01");
        cache.keep(ticket, record("01", CertificateStatus::Good));
        assert!(
            matches!(cache.get("01"), Err(Some(_))),
            "the stale record was dropped, the next lookup reads again"
        );
    }

    #[test]
    fn invalidation_and_suspension_forget() {
        let cache = StatusCache::default();
        cache.confirm(Instant::now());
        read_through(&cache, "01");
        read_through(&cache, "02");
        cache.invalidate("01");
        assert!(cache.get("01").is_err());
        assert!(cache.get("02").is_ok());
        cache.suspend();
        assert!(!cache.is_current());
        cache.confirm(Instant::now());
        assert!(
            matches!(cache.get("02"), Err(Some(_))),
            "forgotten on suspension"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = StatusCache::default();
        cache.confirm(Instant::now());
        for i in 0..CAPACITY + 10 {
            read_through(&cache, &format!("{i:08X}"));
        }
        let len = cache.lock().entries.len();
        assert!(len <= CAPACITY, "{len}");
        assert!(
            cache.get(&format!("{:08X}", CAPACITY + 9)).is_ok(),
            "newest kept"
        );
        assert!(cache.get("00000000").is_err(), "oldest dropped");
    }
}
