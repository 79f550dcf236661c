//! Appending to the transparency log (issue 17): leaves go in inside the transactions that store
//! what they record, with the complete-subtree hashes they close.
//!
//! One appender at a time: on PostgreSQL a transaction-scoped advisory lock, taken last in every
//! transaction that appends (after the document counter's row lock or the certificate's row),
//! so instances never interleave leaves and no lock order can deadlock; on SQLite the database's
//! write lock, which every appending transaction holds already. The size is read under that
//! lock, so indexes have no gaps and no two instances write one index.
//!
//! Round trips matter: an append runs inside the document writer's transaction, which holds
//! the registry counter's row lock, so each one lengthens every batch. After the lock, one
//! query reads the size and the stored hashes the new leaves close subtrees with (for the size
//! this process expects), and one statement inserts the leaves, each row with the hashes its
//! leaf stores (migration 8: one row per leaf, where there were three in two statements).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Row;

use super::log::{as_i64, leaf_hashes, read_hashes_map, size_in, ROWS_PER_INSERT};
use super::{Store, StoreError};
use crate::tlog::{self, Entry, Hash};

/// Arbitrary key of the PostgreSQL advisory lock that serialises appends ("qoltlog!").
const PG_LOG_LOCK: i64 = 0x716f_6c74_6c6f_6721;

/// Where this process expects the log to end at its next append. Only a guess, so the size and
/// the hashes the new leaves need come back in one query: that query reads the true size under
/// the lock, and a wrong guess (another instance appended, a transaction rolled back, another
/// database in the same process) costs one more query, never a wrong hash.
static NEXT_SIZE_GUESS: AtomicU64 = AtomicU64::new(0);

/// A leaf about to be stored: its index, its entry's bytes and the hashes it adds.
struct NewLeaf {
    index: u64,
    bytes: Vec<u8>,
    hashes: Vec<(u64, Hash)>,
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
    let count = entries.len() as u64;
    let guess = NEXT_SIZE_GUESS.load(Ordering::Relaxed);
    let (first, mut known) = size_and_hashes(tx, &stored_siblings(guess, count)).await?;
    if first != guess {
        known = read_hashes_map(&mut **tx, &stored_siblings(first, count)).await?;
    }
    let mut leaves = Vec::with_capacity(entries.len());
    for (n, entry) in (first..).zip(entries) {
        let bytes = entry.encode();
        let siblings = tlog::closing_siblings(n)
            .iter()
            .map(|i| {
                known.get(i).copied().ok_or_else(|| {
                    StoreError::Corrupt(format!("the log has no stored hash {i} (leaf {n})"))
                })
            })
            .collect::<Result<Vec<Hash>, StoreError>>()?;
        let computed = tlog::hashes_to_store(n, tlog::leaf_hash(&bytes), &siblings)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hashes: Vec<(u64, Hash)> = (tlog::stored_index(0, n)..).zip(computed).collect();
        known.extend(hashes.iter().copied());
        leaves.push(NewLeaf {
            index: n,
            bytes,
            hashes,
        });
    }
    for chunk in leaves.chunks(ROWS_PER_INSERT) {
        insert(tx, chunk, entries, first, now).await?;
    }
    NEXT_SIZE_GUESS.store(first + count, Ordering::Relaxed);
    Ok(first)
}

/// The stored hashes that `count` leaves appended at `first` close subtrees with.
fn stored_siblings(first: u64, count: u64) -> Vec<u64> {
    let stored_before = tlog::stored_count(first);
    (first..first.saturating_add(count))
        .flat_map(tlog::closing_siblings)
        .filter(|&i| i < stored_before)
        .collect()
}

/// The log's size and the stored hashes `wanted`, in one query (one snapshot, taken after the
/// lock: the statement that took it has ended). Each hash is in the row of the leaf that
/// stored it ([`tlog::stored_place`]).
async fn size_and_hashes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    wanted: &[u64],
) -> Result<(u64, HashMap<u64, Hash>), StoreError> {
    let places: Vec<(u64, (u64, u32))> =
        wanted.iter().map(|&i| (i, tlog::stored_place(i))).collect();
    let mut leaves: Vec<u64> = places.iter().map(|(_, (leaf, _))| *leaf).collect();
    leaves.sort_unstable();
    leaves.dedup();
    let join = if leaves.is_empty() {
        "e.idx < 0".to_owned()
    } else {
        format!("e.idx IN ({})", super::in_list(leaves.len()))
    };
    let sql = format!(
        "SELECT s.size AS size, e.idx AS idx, e.hashes AS hashes \
         FROM (SELECT COALESCE(MAX(idx) + 1, 0) AS size FROM log_entries) AS s \
         LEFT JOIN log_entries AS e ON {join}"
    );
    let mut query = sqlx::query(&sql);
    for &leaf in &leaves {
        query = query.bind(as_i64(leaf)?);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    let mut size = 0;
    let mut by_leaf: HashMap<u64, Vec<Hash>> = HashMap::with_capacity(leaves.len());
    for row in &rows {
        size = super::log::index(row.try_get("size")?)?;
        let (Some(leaf), Some(hashes)) = (
            row.try_get::<Option<i64>, _>("idx")?,
            row.try_get::<Option<Vec<u8>>, _>("hashes")?,
        ) else {
            continue;
        };
        let leaf = super::log::index(leaf)?;
        by_leaf.insert(leaf, leaf_hashes(leaf, &hashes)?);
    }
    let hashes = places
        .into_iter()
        .filter_map(|(i, (leaf, place))| {
            let hash = by_leaf.get(&leaf)?.get(place as usize)?;
            Some((i, *hash))
        })
        .collect();
    Ok((size, hashes))
}

/// Inserts `leaves` (entries `first..` of `entries`), each row with the hashes its leaf stores,
/// in one statement.
async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    leaves: &[NewLeaf],
    entries: &[Entry],
    first: u64,
    now: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO log_entries (idx, kind, reference, entry, hashes, created_at) VALUES {}",
        super::placeholders(leaves.len(), 6)
    );
    let mut query = sqlx::query(&sql);
    for leaf in leaves {
        let entry = entries
            .get((leaf.index - first) as usize)
            .ok_or_else(|| StoreError::Corrupt(format!("leaf {} has no entry", leaf.index)))?;
        let hashes: Vec<u8> = leaf.hashes.iter().flat_map(|(_, h)| h.0).collect();
        query = query
            .bind(as_i64(leaf.index)?)
            .bind(entry.kind())
            .bind(entry.reference().to_owned())
            .bind(leaf.bytes.clone())
            .bind(hashes)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> Entry {
        Entry::Certificate {
            serial: format!("{n:04x}"),
            sha256: hex::encode(crate::crypto::sha256(&n.to_be_bytes())),
            time: 1_700_000_000,
        }
    }

    async fn append_committed(store: &Store, from: u64, count: u64) -> u64 {
        let entries: Vec<Entry> = (from..from + count).map(entry).collect();
        let mut tx = store.pool().begin().await.expect("begin");
        let first = append(&mut tx, &entries, 0).await.expect("append");
        tx.commit().await.expect("commit");
        first
    }

    /// The size guess is only a guess: after a rolled-back append, after another writer, and
    /// with a guess far off, every leaf lands at the next index and the stored hashes stay the
    /// tree of the entries (checked against a tree built from the entries alone).
    #[tokio::test]
    async fn a_wrong_size_guess_never_stores_a_wrong_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
        let store = Store::connect(&url).await.expect("store");
        let base = store.log_size().await.expect("size");
        assert_eq!(append_committed(&store, 0, 7).await, base);
        // Appended and rolled back: the guess is 5 ahead of the log.
        let mut tx = store.pool().begin().await.expect("begin");
        let ghosts: Vec<Entry> = (900..905).map(entry).collect();
        append(&mut tx, &ghosts, 0).await.expect("append");
        tx.rollback().await.expect("rollback");
        assert_eq!(append_committed(&store, 7, 9).await, base + 7);
        // Far off either way, and right at a power of two.
        for (guess, from, count) in [(1_000_000, 16, 3), (0, 19, 13), (1, 32, 1)] {
            NEXT_SIZE_GUESS.store(guess, Ordering::Relaxed);
            assert_eq!(append_committed(&store, from, count).await, base + from);
        }
        let size = store.log_size().await.expect("size");
        assert_eq!(size, base + 33);
        let entries = store.log_entries(0..size).await.expect("entries");
        let leaves: Vec<Hash> = entries.iter().map(|(_, b)| tlog::leaf_hash(b)).collect();
        for n in 1..=size {
            let recipe = tlog::Recipe::for_ranges(std::slice::from_ref(&(0..n)));
            let stored = store.log_hashes(recipe.indexes()).await.expect("hashes");
            let root = recipe.hashes(&stored).expect("fold")[0];
            assert_eq!(root, tlog::root_of(&leaves[..n as usize]), "tree of {n}");
        }
    }
}
