//! Keeps the status cache ([`super::status_cache`]) in step with changes made elsewhere, and
//! proves, several times a second, that it is.
//!
//! - **PostgreSQL**: every status change sends `NOTIFY qoltanba_status, '<serial>'` in its own
//!   transaction, so every instance hears of it when it commits. One connection per process
//!   LISTENs (application_name `qoltanba-status-watch:<pid>`, so an operator can find it). To prove
//!   the channel works, the process sends itself a beat every [`BEAT`] on a channel of its own,
//!   carrying the moment it was sent; PostgreSQL delivers notifications in commit order, so when
//!   that beat arrives every change committed before the moment has arrived too, and the cache
//!   may answer for [`super::status_cache::MAX_STALENESS`] after it. A lost connection
//!   (`pg_terminate_backend`, a restart) suspends the cache at once; a silent one (no beat
//!   arrives) lets it lapse. Either way lookups go to the database until beats arrive again on
//!   a new connection.
//! - **SQLite** is one process by design, and a change made through it reaches the cache at
//!   once; but `qoltanba pki revoke` may run beside a server on the same file. The watcher reads
//!   the status counter every [`BEAT`] and forgets everything when it moved.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::Row;

use super::status_cache::StatusCache;
use super::{Backend, Store};

/// How often the watcher proves the cache current: well inside the staleness bound, so that a
/// beat late by a few scheduling delays does not make lookups go to the database.
pub const BEAT: Duration = Duration::from_millis(100);

/// The channel every status change is announced on (PostgreSQL).
pub(super) const CHANNEL: &str = "qoltanba_status";

/// The listening connection's application_name, followed by `:` and the process id.
pub const LISTENER_NAME: &str = "qoltanba-status-watch";

/// Where the PostgreSQL listener connects: the store's URL, kept out of `Debug` (it may carry a
/// password).
#[derive(Clone)]
pub(super) struct ListenTarget(pub(super) PgConnectOptions);

impl std::fmt::Debug for ListenTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListenTarget(…)")
    }
}

/// The running watcher. Dropping it stops the watcher and suspends the cache: lookups then go
/// to the database.
#[derive(Debug)]
pub struct StatusWatch {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    cache: Arc<StatusCache>,
}

impl Drop for StatusWatch {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.cache.suspend();
    }
}

impl Store {
    /// Starts keeping the status cache current (a long-running service does this; without it
    /// every status lookup goes to the database).
    pub fn watch_statuses(&self) -> StatusWatch {
        let cache = Arc::clone(&self.status);
        let tasks = match (self.backend, &self.listen) {
            (Backend::Postgres, Some(target)) => {
                // Unique to this watcher: another process's beats carry another clock.
                let beat_channel = format!(
                    "qoltanba_beat_{}_{}",
                    std::process::id(),
                    hex::encode(crate::crypto::random_bytes::<8>().unwrap_or_default())
                );
                let base = Instant::now();
                vec![
                    tokio::spawn(listen(
                        target.clone(),
                        Arc::clone(&cache),
                        beat_channel.clone(),
                        base,
                    )),
                    tokio::spawn(beat(self.clone(), beat_channel, base)),
                ]
            }
            _ => vec![tokio::spawn(poll_counter(self.clone()))],
        };
        StatusWatch { tasks, cache }
    }
}

/// PostgreSQL: listens, applying changes and beats, and reconnects when the connection is lost.
async fn listen(
    target: ListenTarget,
    cache: Arc<StatusCache>,
    beat_channel: String,
    base: Instant,
) {
    loop {
        let lost = listen_once(&target, &cache, &beat_channel, base).await;
        cache.suspend();
        tracing::warn!(error = %lost, "status watch lost its connection; lookups go to the database until it is back");
        tokio::time::sleep(BEAT).await;
    }
}

/// One listening connection, until it fails.
async fn listen_once(
    target: &ListenTarget,
    cache: &StatusCache,
    beat_channel: &str,
    base: Instant,
) -> sqlx::Error {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        // The process id tells an operator (and the tests) whose listener it is.
        .connect_lazy_with(
            target
                .0
                .clone()
                .application_name(&format!("{LISTENER_NAME}:{}", std::process::id())),
        );
    let mut listener = match PgListener::connect_with(&pool).await {
        Ok(l) => l,
        Err(e) => return e,
    };
    // Never reconnect behind our back: what was announced in between would be lost unseen.
    listener.eager_reconnect(false);
    if let Err(e) = listener.listen_all([CHANNEL, beat_channel]).await {
        return e;
    }
    // Changes made before LISTEN took effect were never heard: forget what may predate them.
    cache.invalidate_all();
    loop {
        match listener.try_recv().await {
            Ok(Some(note)) if note.channel() == beat_channel => {
                // The beat's payload is when it was sent, in nanoseconds after `base`.
                if let Ok(nanos) = note.payload().parse::<u64>() {
                    cache.confirm(base + Duration::from_nanos(nanos));
                }
            }
            Ok(Some(note)) => cache.invalidate(note.payload()),
            Ok(None) => return sqlx::Error::PoolClosed,
            Err(e) => return e,
        }
    }
}

/// PostgreSQL: sends this process's beats through the store's pool.
async fn beat(store: Store, channel: String, base: Instant) {
    let mut ticks = tokio::time::interval(BEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // Measured before asking: the beat proves every change committed before this moment.
        let nanos = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&channel)
            .bind(nanos.to_string())
            .execute(store.pool());
        // A beat that cannot be sent in time proves nothing; the cache lapses on its own.
        if let Ok(Err(e)) = tokio::time::timeout(BEAT * 5, sent).await {
            tracing::debug!(error = %e, "status beat not sent");
        }
    }
}

/// SQLite: reads the status counter every beat; a change forgets everything.
async fn poll_counter(store: Store) {
    let mut ticks = tokio::time::interval(BEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen: Option<i64> = None;
    loop {
        ticks.tick().await;
        let as_of = Instant::now();
        let read = sqlx::query("SELECT value FROM counters WHERE name = 'status_seq'")
            .fetch_one(store.pool());
        match tokio::time::timeout(BEAT * 5, read).await {
            Ok(Ok(row)) => match row.try_get::<i64, _>("value") {
                Ok(value) => {
                    if seen != Some(value) {
                        store.status.invalidate_all();
                        seen = Some(value);
                    }
                    store.status.confirm(as_of);
                }
                Err(_) => store.status.suspend(),
            },
            _ => store.status.suspend(),
        }
    }
}
