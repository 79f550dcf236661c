//! Leadership for periodic work (CRL regeneration): one instance at a time.
//!
//! On PostgreSQL the leader holds a session-level advisory lock on a connection of its own. If
//! the leader dies, its connection closes and PostgreSQL releases the lock; the next instance to
//! try takes it. If the leader's connection breaks, the leader notices at its next check and
//! stops leading. On SQLite there is only one instance (the file is local), so it always leads.

use sqlx::pool::PoolConnection;
use sqlx::{Any, Row};

use super::{Backend, Store, StoreError};

/// Arbitrary key of the leadership advisory lock ("qoltlead"); the migration lock uses another.
const LEADER_LOCK_KEY: i64 = 0x716f_6c74_6c65_6164;

/// This instance's claim to leadership. Dropping it releases the lock (the connection closes).
pub struct Leadership {
    store: Store,
    held: Option<PoolConnection<Any>>,
}

impl Leadership {
    pub fn new(store: Store) -> Self {
        Leadership { store, held: None }
    }

    /// Are we the leader now? Keeps the lock if we hold it and it is still good, else tries to
    /// take it. Never blocks waiting for another instance.
    pub async fn check(&mut self) -> Result<bool, StoreError> {
        if self.store.backend == Backend::Sqlite {
            return Ok(true);
        }
        if let Some(conn) = self.held.as_mut() {
            // The lock lives as long as this connection: make sure it still does.
            if sqlx::query("SELECT 1").execute(&mut **conn).await.is_ok() {
                return Ok(true);
            }
            tracing::warn!("lost the leader's database connection; no longer leading");
            // Closing it (rather than returning it to the pool) ends its session for sure.
            if let Some(conn) = self.held.take() {
                let _ = conn.close().await;
            }
        }
        let mut conn = self.store.pool().acquire().await?;
        let locked: bool = sqlx::query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind(LEADER_LOCK_KEY)
            .fetch_one(&mut *conn)
            .await?
            .try_get("locked")?;
        if locked {
            self.held = Some(conn);
        }
        Ok(locked)
    }

    pub fn is_leader(&self) -> bool {
        self.store.backend == Backend::Sqlite || self.held.is_some()
    }
}
