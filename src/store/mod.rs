//! Storage through sqlx: embedded SQLite by default, PostgreSQL when the URL says so.
//!
//! One code path for both engines via sqlx's `Any` driver. Queries use `$N` placeholders, which
//! SQLite accepts as well, and only types both engines share (TEXT, BIGINT, bytes).

mod certificates;
mod crls;
mod document_writer;
mod documents;
mod evidence;
mod leader;
mod log;
mod log_append;
mod log_tiles;
mod migrate;
mod migrate_log;
mod security;
mod status_cache;
mod status_watch;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use std::time::Duration;

pub use certificates::{
    CertificateRecord, CertificateStatus, NewCertificate, RevokedEntry, StatusChange,
};
pub use crls::{CrlKind, CrlRecord, CrlSnapshot};
pub use documents::{
    log_entry as document_log_entry, number as document_number, DocumentRecord, SignedDocument,
};
pub use evidence::{EvidenceLevel, EvidenceRecord, EvidenceStats, NewEvidence};
pub use leader::Leadership;
pub use log::{LogKeyRecord, StoredCheckpoint, StoredLeaf};
pub use security::{ActAudit, ApiKeyRecord, AuditEvent, AuditQuery};
pub use status_cache::{Lookup, MAX_STALENESS};
pub use status_watch::{StatusWatch, BEAT as STATUS_BEAT, LISTENER_NAME as STATUS_LISTENER_NAME};

/// Errors of the storage room.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB"
    )]
    UnsupportedUrl(String),
    #[error("no certificate with serial {0}")]
    NotFound(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The batch a document was part of was not stored (the database's error is logged once
    /// for the batch); nothing of it was registered.
    #[error("the batch of documents was not stored: {0}")]
    Batch(String),
    /// Too many documents are already waiting for a number; nothing was registered.
    #[error("too many documents are waiting to be registered")]
    Overloaded,
}

/// `($1, $2), ($3, $4), …`: the VALUES of a multi-row INSERT of `rows` rows of `columns`.
pub(super) fn placeholders(rows: usize, columns: usize) -> String {
    placeholders_from(1, rows, columns)
}

/// A query of the Any driver, as built and bound.
pub(super) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// `$1, $2, …, $n`: the list of an `IN (…)` of `n` values.
pub(super) fn in_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same, numbered from `$first` (a statement with another list before this one).
pub(super) fn placeholders_from(first: usize, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (0..columns)
                .map(|c| format!("${}", first + r * columns + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A CA, the OCSP responder: certificate and encrypted key as stored.
#[derive(Debug, Clone)]
pub struct AuthorityRecord {
    pub id: String,
    pub role: String,
    pub certificate: Vec<u8>,
    pub encrypted_key: Vec<u8>,
    pub created_at: i64,
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Our certificates' statuses, shared by the clones of this store.
    status: std::sync::Arc<status_cache::StatusCache>,
    /// PostgreSQL: where the status watcher listens.
    listen: Option<status_watch::ListenTarget>,
    /// The queue of documents waiting for a number (group commit, `document_writer.rs`).
    writer: std::sync::Arc<document_writer::DocumentWriter>,
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            // Never echo the URL whole: it may carry a password.
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::UnsupportedUrl(format!("{scheme}:…")));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers (OCSP, CRL downloads) proceed during a write.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let listen = match backend {
            Backend::Postgres => url
                .parse::<sqlx::postgres::PgConnectOptions>()
                .ok()
                .map(status_watch::ListenTarget),
            Backend::Sqlite => None,
        };
        let store = Store {
            pool,
            backend,
            status: std::sync::Arc::default(),
            listen,
            writer: Default::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// (connections open, of which idle) in the pool.
    pub fn pool_usage(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Whether our certificates' statuses are answered from memory now (the status watch has
    /// confirmed the cache within [`MAX_STALENESS`]).
    pub fn status_cache_current(&self) -> bool {
        self.status.is_current()
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores the CAs and the responder (whose certificate is also a row in `certificates`)
    /// in one transaction. Returns false if a PKI already exists: another instance created it
    /// first, and the caller must use the stored one.
    pub async fn insert_authorities(
        &self,
        authorities: &[AuthorityRecord],
        responder_certificate: &NewCertificate,
    ) -> Result<bool, StoreError> {
        self.insert_authorities_audited(authorities, responder_certificate, None)
            .await
    }

    /// [`Store::insert_authorities`] with the act's entry in the audit trail, written in the
    /// same transaction (a key re-issued by the service itself, not at creation).
    pub async fn insert_authorities_audited(
        &self,
        authorities: &[AuthorityRecord],
        responder_certificate: &NewCertificate,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for rec in authorities {
            let result = sqlx::query(
                "INSERT INTO authorities (id, role, certificate, encrypted_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&rec.id)
            .bind(&rec.role)
            .bind(&rec.certificate)
            .bind(&rec.encrypted_key)
            .bind(rec.created_at)
            .execute(&mut *tx)
            .await?;
            if result.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        certificates::insert(&mut *tx, responder_certificate).await?;
        log_append::append(
            &mut tx,
            &[certificates::log_entry(responder_certificate)],
            responder_certificate.created_at,
        )
        .await?;
        if let Some(event) = audit {
            security::append(&mut *tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn authorities(&self) -> Result<Vec<AuthorityRecord>, StoreError> {
        use sqlx::Row;
        let rows: Vec<AnyRow> = sqlx::query(
            "SELECT id, role, certificate, encrypted_key, created_at FROM authorities ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuthorityRecord {
                    id: row.try_get("id")?,
                    role: row.try_get("role")?,
                    certificate: row.try_get("certificate")?,
                    encrypted_key: row.try_get("encrypted_key")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The next time-stamp serial number and the act done with it, in one transaction: `act`
    /// gets the serial and returns its result and the act's audit entry; the counter moves and
    /// the entry is written only if `act` succeeds and the commit does (a failed act hands out
    /// nothing: its serial is rolled back with it). Concurrent callers, in this process or
    /// another on the same database, always get distinct serials.
    pub async fn with_time_stamp_serial<T, E: From<StoreError>>(
        &self,
        act: impl FnOnce(i64) -> Result<(T, Option<AuditEvent>), E>,
    ) -> Result<T, E> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let serial = Self::next_counter(&mut *tx, "tsp_serial").await?;
        let (done, event) = act(serial)?;
        if let Some(event) = &event {
            security::append(&mut *tx, event).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(done)
    }

    /// Increments a named counter and returns its new value, atomically across instances.
    pub(crate) async fn next_counter<'c, E>(executor: E, name: &str) -> Result<i64, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        use sqlx::Row;
        let row =
            sqlx::query("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
                .bind(name)
                .fetch_optional(executor)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("counter {name} is missing")))?;
        Ok(row.try_get::<i64, _>("value")?)
    }
}

/// A fresh PostgreSQL database for a unit test, on the server `QOLTANBA_TEST_POSTGRES` names
/// (`.ci/run` sets it; None without it, and the caller says it skips). Named `qoltanba_test_…`,
/// so `.ci/run` drops what a failed run leaves.
#[cfg(test)]
pub(crate) async fn fresh_postgres_database(tag: &str) -> Option<String> {
    let Ok(base) = std::env::var("QOLTANBA_TEST_POSTGRES") else {
        eprintln!("QOLTANBA_TEST_POSTGRES is not set: the PostgreSQL case is skipped");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("qoltanba_test_{tag}_{}", std::process::id());
    let admin = AnyPool::connect(&format!("{base}/postgres"))
        .await
        .expect("postgres");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(&statement)
            .execute(&admin)
            .await
            .expect("a fresh database");
    }
    Some(format!("{base}/{name}"))
}
