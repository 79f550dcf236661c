//! The transparency log's rows (issue 17), as read: the leaves, the stored hashes every tile
//! and proof is read from, signed checkpoints, the log's key. Appending is `log_append.rs`.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};
use crate::tlog::Hash;

/// Rows per multi-row INSERT or IN list (SQLite allows 32,766 parameters; 5 per row at most).
pub(super) const ROWS_PER_INSERT: usize = 500;

/// A signed tree head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub created_at: i64,
}

/// A stored index or size: never negative unless a row was forged.
pub(super) fn index(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt(format!("log index {stored}")))
}

pub(super) fn as_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("log index {n} out of range")))
}

pub(super) async fn size_in<'c, E>(executor: E) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let size: i64 = sqlx::query("SELECT COALESCE(MAX(idx) + 1, 0) AS size FROM log_entries")
        .fetch_one(executor)
        .await?
        .try_get("size")?;
    u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("log size {size}")))
}

pub(super) async fn read_hashes_map<'c, E>(
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
    let sql = format!(
        "SELECT idx, hash FROM log_hashes WHERE idx IN ({})",
        super::in_list(indexes.len())
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

pub(super) fn hash_row(row: &AnyRow) -> Result<(u64, Hash), StoreError> {
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
