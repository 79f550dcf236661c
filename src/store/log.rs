//! The transparency log's rows (issue 17): leaves appended inside the transactions that store
//! what they record, the stored hashes every tile and proof is read from, signed checkpoints.
//!
//! One appender at a time: on PostgreSQL a transaction-scoped advisory lock, taken last in every
//! transaction that appends (after the document counter's row lock or the certificate's row),
//! so instances never interleave leaves and no lock order can deadlock; on SQLite the database's
//! write lock, which every appending transaction holds already. The size is read under that
//! lock, so indexes have no gaps and no two instances write one index.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};
use crate::tlog::{self, Entry, Hash};

/// Arbitrary key of the PostgreSQL advisory lock that serialises appends ("qoltlog!").
const PG_LOG_LOCK: i64 = 0x716f_6c74_6c6f_6721;
/// Rows per multi-row INSERT (SQLite allows 32,766 parameters; 5 per row at most here).
const ROWS_PER_INSERT: usize = 500;

/// A signed tree head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub created_at: i64,
}

/// Appends `entries` as the next leaves, in order, inside `tx`; returns the first one's index.
pub(super) async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    entries: &[Entry],
    now: i64,
) -> Result<u64, StoreError> {
    // Cargo feature `bench-unlogged` (bench/load.sh only): the same service without the log's
    // cost, to measure that cost in one run. The index is unused by every caller.
    if cfg!(feature = "bench-unlogged") {
        return Ok(0);
    }
    if entries.is_empty() {
        return size_in(&mut **tx).await;
    }
    lock(tx).await?;
    let first = size_in(&mut **tx).await?;
    let stored_before = tlog::stored_count(first);
    // The left siblings the new leaves close subtrees with: those stored before come from the
    // database (one query), the rest from this batch.
    let leaves: Vec<(u64, Vec<u8>)> = entries
        .iter()
        .zip(first..)
        .map(|(e, n)| (n, e.encode()))
        .collect();
    let wanted: Vec<u64> = leaves
        .iter()
        .flat_map(|(n, _)| tlog::closing_siblings(*n))
        .filter(|&i| i < stored_before)
        .collect();
    let mut known: HashMap<u64, Hash> = read_hashes_map(&mut **tx, &wanted).await?;
    let mut new_hashes: Vec<(u64, Hash)> = Vec::new();
    for (n, bytes) in &leaves {
        let siblings = tlog::closing_siblings(*n)
            .iter()
            .map(|i| {
                known.get(i).copied().ok_or_else(|| {
                    StoreError::Corrupt(format!("the log has no stored hash {i} (leaf {n})"))
                })
            })
            .collect::<Result<Vec<Hash>, StoreError>>()?;
        let hashes = tlog::hashes_to_store(*n, tlog::leaf_hash(bytes), &siblings)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let start = tlog::stored_index(0, *n);
        for (i, hash) in (start..).zip(hashes) {
            known.insert(i, hash);
            new_hashes.push((i, hash));
        }
    }
    for chunk in leaves.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO log_entries (idx, kind, reference, entry, created_at) VALUES ",
        );
        sql.push_str(&super::placeholders(chunk.len(), 5));
        let mut query = sqlx::query(&sql);
        for (n, bytes) in chunk {
            let entry = &entries[(n - first) as usize];
            query = query
                .bind(as_i64(*n)?)
                .bind(entry.kind())
                .bind(entry.reference().to_owned())
                .bind(bytes.clone())
                .bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    for chunk in new_hashes.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from("INSERT INTO log_hashes (idx, hash) VALUES ");
        sql.push_str(&super::placeholders(chunk.len(), 2));
        let mut query = sqlx::query(&sql);
        for (i, hash) in chunk {
            query = query.bind(as_i64(*i)?).bind(hash.0.to_vec());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(first)
}

/// A stored index or size: never negative unless a row was forged.
fn index(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt(format!("log index {stored}")))
}

/// The log's lock until `tx` ends: PostgreSQL's advisory lock (re-entrant within the
/// transaction); on SQLite the transaction's write lock serialises appends already.
async fn lock(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<(), StoreError> {
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOG_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn as_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("log index {n} out of range")))
}

async fn size_in<'c, E>(executor: E) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let size: i64 = sqlx::query("SELECT COALESCE(MAX(idx) + 1, 0) AS size FROM log_entries")
        .fetch_one(executor)
        .await?
        .try_get("size")?;
    u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("log size {size}")))
}

async fn read_hashes_map<'c, E>(
    executor: E,
    indexes: &[u64],
) -> Result<HashMap<u64, Hash>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let mut out = HashMap::with_capacity(indexes.len());
    if indexes.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = (1..=indexes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT idx, hash FROM log_hashes WHERE idx IN ({})",
        list.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for &i in indexes {
        query = query.bind(as_i64(i)?);
    }
    for row in query.fetch_all(executor).await? {
        let (idx, hash) = hash_row(&row)?;
        out.insert(idx, hash);
    }
    Ok(out)
}

fn hash_row(row: &AnyRow) -> Result<(u64, Hash), StoreError> {
    let idx: i64 = row.try_get("idx")?;
    let bytes: Vec<u8> = row.try_get("hash")?;
    let hash = Hash::from_slice(&bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("log hash {idx} is not 32 bytes")))?;
    Ok((index(idx)?, hash))
}

impl Store {
    /// How many leaves the log has (committed).
    pub async fn log_size(&self) -> Result<u64, StoreError> {
        size_in(self.pool()).await
    }

    /// Stored hashes by index, in the order asked; a missing one is an error (the caller asked
    /// for hashes of a tree the log has, so the log has lost a row).
    pub async fn log_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let mut found = HashMap::new();
        for chunk in indexes.chunks(ROWS_PER_INSERT) {
            found.extend(read_hashes_map(self.pool(), chunk).await?);
        }
        indexes
            .iter()
            .map(|i| {
                found
                    .get(i)
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("the log has no stored hash {i}")))
            })
            .collect()
    }

    /// The leaves `range` as stored, in order; fewer if the log is shorter.
    pub async fn log_entries(
        &self,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(as_i64(range.start)?)
        .bind(as_i64(range.end)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let idx: i64 = row.try_get("idx")?;
                Ok((index(idx)?, row.try_get("entry")?))
            })
            .collect()
    }

    /// The stored hashes with indexes in `range`, in order (fewer if rows are missing).
    pub async fn log_hash_range(
        &self,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<(u64, Hash)>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, hash FROM log_hashes WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(as_i64(range.start)?)
        .bind(as_i64(range.end)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(hash_row).collect()
    }

    /// The indexes of the leaves about `reference` (a document number, a serial), oldest first.
    pub async fn log_indexes_of(&self, reference: &str) -> Result<Vec<u64>, StoreError> {
        let rows = sqlx::query("SELECT idx FROM log_entries WHERE reference = $1 ORDER BY idx")
            .bind(reference)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| index(row.try_get::<i64, _>("idx")?))
            .collect()
    }

    /// Stores a signed checkpoint; false if one of that size is there already (another instance
    /// signed the same tree: the same text, and with Ed25519 the same signature).
    pub async fn insert_log_checkpoint(
        &self,
        checkpoint: &StoredCheckpoint,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(as_i64(checkpoint.size)?)
        .bind(checkpoint.root.0.to_vec())
        .bind(&checkpoint.note)
        .bind(checkpoint.created_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The newest signed checkpoint, if any.
    pub async fn latest_log_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT size, root, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(checkpoint_row).transpose()
    }
}

fn checkpoint_row(row: &AnyRow) -> Result<StoredCheckpoint, StoreError> {
    let size: i64 = row.try_get("size")?;
    let root: Vec<u8> = row.try_get("root")?;
    Ok(StoredCheckpoint {
        size: index(size)?,
        root: Hash::from_slice(&root)
            .ok_or_else(|| StoreError::Corrupt(format!("checkpoint {size}: bad root")))?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The log's signing key as stored.
#[derive(Clone)]
pub struct LogKeyRecord {
    pub name: String,
    pub verifier: String,
    pub encrypted_key: Vec<u8>,
    pub created_at: i64,
}

impl std::fmt::Debug for LogKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKeyRecord")
            .field("name", &self.name)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The log's key, if the PKI has one yet.
    pub async fn log_key(&self) -> Result<Option<LogKeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT name, verifier, encrypted_key, created_at FROM log_keys WHERE role = 'log'",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(LogKeyRecord {
                name: row.try_get("name")?,
                verifier: row.try_get("verifier")?,
                encrypted_key: row.try_get("encrypted_key")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// Stores the log's key; false if another instance stored one first (use that one).
    pub async fn insert_log_key(&self, key: &LogKeyRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO log_keys (role, name, verifier, encrypted_key, created_at) \
             VALUES ('log', $1, $2, $3, $4) ON CONFLICT (role) DO NOTHING",
        )
        .bind(&key.name)
        .bind(&key.verifier)
        .bind(&key.encrypted_key)
        .bind(key.created_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Puts what was registered before the log existed into it, once, in one transaction: every
    /// certificate and its status if not good, and every document, oldest first. Nothing when
    /// the log has entries already (another instance did it, or it was never needed). Returns
    /// how many entries it appended.
    pub async fn backfill_log(&self) -> Result<u64, StoreError> {
        if self.log_size().await? > 0 {
            return Ok(0);
        }
        let mut tx = self.pool().begin().await?;
        lock(&mut tx).await?;
        if size_in(&mut *tx).await? > 0 {
            return Ok(0);
        }
        // (time, order within a time, entry): certificates before their statuses before
        // documents signed the same second.
        let mut entries: Vec<(i64, u8, Entry)> = Vec::new();
        let certificates = sqlx::query(&format!(
            "SELECT {} FROM certificates ORDER BY created_at, serial",
            super::certificates::COLUMNS
        ))
        .fetch_all(&mut *tx)
        .await?;
        for row in &certificates {
            let cert = super::certificates::record(row)?;
            entries.push((
                cert.created_at,
                0,
                Entry::Certificate {
                    serial: cert.serial.clone(),
                    sha256: hex::encode(crate::crypto::sha256(&cert.certificate)),
                    time: cert.created_at,
                },
            ));
            if cert.status != super::CertificateStatus::Good {
                let at = cert.revoked_at.unwrap_or(cert.created_at);
                entries.push((
                    at,
                    1,
                    Entry::Status {
                        serial: cert.serial,
                        status: cert.status.as_str().to_owned(),
                        reason: cert.revocation_reason,
                        time: at,
                    },
                ));
            }
        }
        let documents = sqlx::query(&format!(
            "SELECT {} FROM documents ORDER BY created_at, authority_bin, year, sequence",
            super::documents::COLUMNS
        ))
        .fetch_all(&mut *tx)
        .await?;
        for row in &documents {
            let document = super::documents::record(row)?;
            entries.push((
                document.created_at,
                2,
                super::documents::log_entry(&document),
            ));
        }
        if entries.is_empty() {
            return Ok(0);
        }
        // Stable: rows of one kind keep their order.
        entries.sort_by_key(|(time, order, _)| (*time, *order));
        let entries: Vec<Entry> = entries.into_iter().map(|(_, _, e)| e).collect();
        append(&mut tx, &entries, crate::time::now()).await?;
        tx.commit().await?;
        tracing::info!(
            entries = entries.len(),
            "put what was registered before the transparency log into it"
        );
        Ok(entries.len() as u64)
    }
}
