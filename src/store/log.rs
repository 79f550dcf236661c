//! The transparency log's rows (issue 17), as read: the leaves, the stored hashes every tile
//! and proof is read from, signed checkpoints, the log's key. Appending is `log_append.rs`.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};
use crate::tlog::{self, Hash};

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

/// The stored hashes at `indexes` that the log has, by index. Each leaf's row holds the hashes
/// its append stored ([`tlog::stored_place`]); a row whose hashes are not exactly what one leaf
/// stores (32 bytes for its own, 32 per subtree it closed) is damage, named.
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
    let wanted = WantedHashes::new(indexes);
    let sql = format!(
        "SELECT idx, hashes FROM log_entries WHERE idx IN ({})",
        super::in_list(wanted.leaves.len())
    );
    let mut query = sqlx::query(&sql);
    for &leaf in &wanted.leaves {
        query = query.bind(as_i64(leaf)?);
    }
    let mut rows: HashMap<u64, Vec<Hash>> = HashMap::with_capacity(wanted.leaves.len());
    for row in query.fetch_all(executor).await? {
        if let Some((leaf, hashes)) = wanted.row(&row)? {
            rows.insert(leaf, hashes);
        }
    }
    out.extend(wanted.picked(&rows));
    Ok(out)
}

/// Stored hashes to read, by where they are kept: the rows of the leaves that stored them.
pub(super) struct WantedHashes {
    places: Vec<(u64, (u64, u32))>,
    /// The leaves whose rows hold them, ascending, once each.
    pub(super) leaves: Vec<u64>,
}

impl WantedHashes {
    pub(super) fn new(indexes: &[u64]) -> WantedHashes {
        let places: Vec<(u64, (u64, u32))> = indexes
            .iter()
            .map(|&i| (i, tlog::stored_place(i)))
            .collect();
        let mut leaves: Vec<u64> = places.iter().map(|(_, (leaf, _))| *leaf).collect();
        leaves.sort_unstable();
        leaves.dedup();
        WantedHashes { places, leaves }
    }

    /// A row's leaf and its stored hashes (None: the row has none), from columns `idx` and
    /// `hashes`.
    pub(super) fn row(&self, row: &AnyRow) -> Result<Option<(u64, Vec<Hash>)>, StoreError> {
        let (Some(leaf), Some(hashes)) = (
            row.try_get::<Option<i64>, _>("idx")?,
            row.try_get::<Option<Vec<u8>>, _>("hashes")?,
        ) else {
            return Ok(None);
        };
        let leaf = index(leaf)?;
        Ok(Some((leaf, leaf_hashes(leaf, &hashes)?)))
    }

    /// The wanted hashes the rows read hold, by stored index.
    pub(super) fn picked<'a>(
        &'a self,
        rows: &'a HashMap<u64, Vec<Hash>>,
    ) -> impl Iterator<Item = (u64, Hash)> + 'a {
        self.places.iter().filter_map(move |&(i, (leaf, place))| {
            Some((i, *rows.get(&leaf)?.get(place as usize)?))
        })
    }
}

/// How many hashes leaf `leaf`'s append stores: its own and one per subtree it closes.
pub(super) fn hashes_stored_by(leaf: u64) -> usize {
    1 + (leaf + 1).trailing_zeros() as usize
}

/// A leaf row's `hashes`, split; damage (a length other than what that leaf stores) is named.
pub(super) fn leaf_hashes(leaf: u64, bytes: &[u8]) -> Result<Vec<Hash>, StoreError> {
    let want = hashes_stored_by(leaf);
    if bytes.len() != want * 32 {
        return Err(StoreError::Corrupt(format!(
            "the stored hashes of log entry {leaf} are {} bytes, not {} (a row was changed)",
            bytes.len(),
            want * 32
        )));
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(Hash::from_slice)
        .collect())
}

/// A leaf as stored: its index, its entry's bytes and the hashes its append stored (None:
/// the row has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLeaf {
    pub index: u64,
    pub entry: Vec<u8>,
    pub hashes: Option<Vec<u8>>,
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

    /// The leaves `range` with the hashes each one's append stored, in order (fewer if rows
    /// are missing): what the full check rebuilds the tree from and compares with.
    pub async fn log_leaves(
        &self,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<StoredLeaf>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, entry, hashes FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(as_i64(range.start)?)
        .bind(as_i64(range.end)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredLeaf {
                    index: index(row.try_get("idx")?)?,
                    entry: row.try_get("entry")?,
                    hashes: row.try_get("hashes")?,
                })
            })
            .collect()
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
