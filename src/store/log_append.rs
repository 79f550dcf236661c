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
use std::sync::Mutex;

use sqlx::Row;

use super::log::{as_i64, read_hashes_map, size_in, WantedHashes, ROWS_PER_INSERT};
use super::{Query, Store, StoreError};
use crate::tlog::{self, Entry, Hash};

/// Arbitrary key of the PostgreSQL advisory lock that serialises appends ("qoltlog!").
const PG_LOG_LOCK: i64 = 0x716f_6c74_6c6f_6721;

/// The log's right edge as this process's last append left it: the size, and the stored hashes
/// of the complete subtrees a next leaf may close with (what of them it knows). Only a guess,
/// never used unchecked: the append that relies on it stores nothing unless, under the log's
/// lock and in the same statement, the database has that size and those very hashes. A stale
/// one (another instance appended, a transaction rolled back, another database in the same
/// process) costs that statement and the read it saves, never a wrong hash.
static RIGHT_EDGE: Mutex<Option<RightEdge>> = Mutex::new(None);

#[derive(Debug, Clone)]
struct RightEdge {
    size: u64,
    hashes: HashMap<u64, Hash>,
}

/// A leaf about to be stored: its index, its entry's bytes and the hashes it adds.
struct NewLeaf {
    index: u64,
    bytes: Vec<u8>,
    hashes: Vec<(u64, Hash)>,
}

/// An INSERT that must run just before an append, in its transaction (the rows the entries
/// record): on PostgreSQL the append's statement carries it as a WITH, one round trip for both
/// (the writer's transaction holds the registry's lock, so each one lengthens every batch).
pub(super) struct Preceding {
    /// The statement, its parameters numbered `$1..=$parameters`.
    pub(super) sql: String,
    pub(super) parameters: usize,
    /// Binds its parameters, in order, to a query of any text that starts with them.
    pub(super) bind: Box<dyn for<'q> FnOnce(Query<'q>) -> Query<'q> + Send>,
}

impl Preceding {
    async fn run_alone(
        self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<(), StoreError> {
        (self.bind)(sqlx::query(&self.sql))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Appends `entries` as the next leaves, in order, inside `tx`; returns the first one's index.
pub(super) async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    entries: &[Entry],
    now: i64,
) -> Result<u64, StoreError> {
    append_after(tx, None, entries, now).await
}

/// Runs `preceding` (if any), then appends `entries` as [`append`] does.
pub(super) async fn append_after(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    mut preceding: Option<Preceding>,
    entries: &[Entry],
    now: i64,
) -> Result<u64, StoreError> {
    // Cargo feature `bench-unlogged` (bench/load.sh only): the same service without the log's
    // cost, to measure that cost in one run. The index is unused by every caller.
    if cfg!(feature = "bench-unlogged") || entries.is_empty() {
        if let Some(preceding) = preceding {
            preceding.run_alone(tx).await?;
        }
        return if entries.is_empty() {
            size_in(&mut **tx).await
        } else {
            Ok(0)
        };
    }
    let count = entries.len() as u64;
    let edge = remembered_edge();
    // The common case: one statement, which takes the log's lock and stores the leaves only if
    // the database still ends where this process left it.
    if let Some(edge) = edge.as_ref().filter(|_| entries.len() <= ROWS_PER_INSERT) {
        let relied_on: Option<Vec<(u64, Hash)>> = stored_siblings(edge.size, count)
            .into_iter()
            .map(|i| edge.hashes.get(&i).map(|h| (i, *h)))
            .collect();
        if let Some(relied_on) = relied_on {
            let (leaves, known) = new_leaves(entries, edge.size, edge.hashes.clone())?;
            // SQLite has no INSERT inside a WITH (and no round trips to save).
            if tx.backend_name() != "PostgreSQL" {
                if let Some(preceding) = preceding.take() {
                    preceding.run_alone(tx).await?;
                }
            }
            let guard = Some((edge.size, relied_on.as_slice()));
            // The preceding statement runs whether the leaves are stored or not.
            if insert(tx, preceding.take(), &leaves, entries, now, guard).await? {
                remember_edge(edge.size + count, &known);
                return Ok(edge.size);
            }
        }
    }
    if let Some(preceding) = preceding {
        preceding.run_alone(tx).await?;
    }
    lock(tx).await?;
    let guess = edge.map_or(0, |e| e.size);
    let (first, mut known) = size_and_hashes(tx, &stored_siblings(guess, count)).await?;
    if first != guess {
        known = read_hashes_map(&mut **tx, &stored_siblings(first, count)).await?;
    }
    let (leaves, known) = new_leaves(entries, first, known)?;
    for (chunk, chunk_entries) in leaves
        .chunks(ROWS_PER_INSERT)
        .zip(entries.chunks(ROWS_PER_INSERT))
    {
        if !insert(tx, None, chunk, chunk_entries, now, None).await? {
            return Err(StoreError::Corrupt(
                "the log's new leaves were not stored".into(),
            ));
        }
    }
    remember_edge(first + count, &known);
    Ok(first)
}

/// The leaves `entries` make when appended at `first`, given the stored hashes they close
/// subtrees with (`known`, which comes back with their hashes added).
fn new_leaves(
    entries: &[Entry],
    first: u64,
    mut known: HashMap<u64, Hash>,
) -> Result<(Vec<NewLeaf>, HashMap<u64, Hash>), StoreError> {
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
    Ok((leaves, known))
}

fn remembered_edge() -> Option<RightEdge> {
    RIGHT_EDGE.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Remembers the log as ending at `size`, with those of its edge's subtree hashes in `known`.
fn remember_edge(size: u64, known: &HashMap<u64, Hash>) {
    let mut start = 0;
    let mut hashes = HashMap::new();
    for level in (0..64u32).rev() {
        if size & (1 << level) != 0 {
            let i = tlog::stored_index(level, start >> level);
            if let Some(hash) = known.get(&i) {
                hashes.insert(i, *hash);
            }
            start += 1 << level;
        }
    }
    *RIGHT_EDGE.lock().unwrap_or_else(|p| p.into_inner()) = Some(RightEdge { size, hashes });
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
    let want = WantedHashes::new(wanted);
    let join = if want.leaves.is_empty() {
        "e.idx < 0".to_owned()
    } else {
        format!("e.idx IN ({})", super::in_list(want.leaves.len()))
    };
    let sql = format!(
        "SELECT s.size AS size, e.idx AS idx, e.hashes AS hashes \
         FROM (SELECT COALESCE(MAX(idx) + 1, 0) AS size FROM log_entries) AS s \
         LEFT JOIN log_entries AS e ON {join}"
    );
    let mut query = sqlx::query(&sql);
    for &leaf in &want.leaves {
        query = query.bind(as_i64(leaf)?);
    }
    let mut size = 0;
    let mut by_leaf: HashMap<u64, Vec<Hash>> = HashMap::with_capacity(want.leaves.len());
    for row in &query.fetch_all(&mut **tx).await? {
        size = super::log::index(row.try_get("size")?)?;
        if let Some((leaf, hashes)) = want.row(row)? {
            by_leaf.insert(leaf, hashes);
        }
    }
    let hashes = want.picked(&by_leaf).collect();
    Ok((size, hashes))
}

/// Inserts `leaves` (made from `entries`, in order), each row with the hashes its leaf stores,
/// in one statement. With
/// `unless_changed` (the size they were made for, and the stored hashes they were made with),
/// the statement stores them only if the log has that size and those hashes, and says whether
/// it did.
async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    preceding: Option<Preceding>,
    leaves: &[NewLeaf],
    entries: &[Entry],
    now: i64,
    unless_changed: Option<(u64, &[(u64, Hash)])>,
) -> Result<bool, StoreError> {
    const COLUMNS: usize = 6;
    let before = preceding.as_ref().map_or(0, |p| p.parameters);
    let insert = match &preceding {
        Some(p) => format!(
            "WITH preceding AS ({}) INSERT INTO log_entries (idx, kind, reference, entry, hashes, created_at)",
            p.sql
        ),
        None => "INSERT INTO log_entries (idx, kind, reference, entry, hashes, created_at)".to_owned(),
    };
    let values = super::placeholders_from(before + 1, leaves.len(), COLUMNS);
    let postgres = tx.backend_name() == "PostgreSQL";
    let mut next = before + leaves.len() * COLUMNS + 1;
    let sql = match unless_changed {
        None => format!("{insert} VALUES {values}"),
        // PostgreSQL: a function (migration 8) takes the log's lock and then checks the size
        // and the hashes relied on, its queries reading with snapshots taken after the lock
        // (this statement's was taken before it, and would miss an append committed while it
        // waited). One call (a scalar subquery runs once, before any row is stored), and one
        // text whatever is relied on: PostgreSQL plans a statement text once and reuses it.
        Some(_) if postgres => format!(
            "{insert} SELECT * FROM (VALUES {values}) AS v \
             WHERE (SELECT log_edge_holds({PG_LOG_LOCK}, ${next}, ${}))",
            next + 1
        ),
        // SQLite: the transaction holds the write lock already.
        Some((_, relied_on)) => {
            let mut condition =
                format!("(SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries) = ${next}");
            next += 1;
            if !relied_on.is_empty() {
                let each: Vec<String> = (0..relied_on.len())
                    .map(|k| {
                        let at = next + 3 * k;
                        format!(
                            "(idx = ${at} AND substr(hashes, CAST(${} AS INTEGER), 32) = ${})",
                            at + 1,
                            at + 2
                        )
                    })
                    .collect();
                condition += &format!(
                    " AND (SELECT COUNT(*) FROM log_entries WHERE {}) = {}",
                    each.join(" OR "),
                    relied_on.len()
                );
            }
            format!("{insert} SELECT * FROM (VALUES {values}) AS v WHERE {condition}")
        }
    };
    let first = leaves.first().map_or(0, |l| l.index);
    let mut query = sqlx::query(&sql);
    if let Some(preceding) = preceding {
        query = (preceding.bind)(query);
    }
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
    if let (Some((size, relied_on)), true) = (unless_changed, postgres) {
        // (leaf, 8 bytes big-endian; place, 1 byte; hash, 32 bytes) each, as log_edge_holds reads.
        let mut relied = Vec::with_capacity(relied_on.len() * 41);
        for (i, hash) in relied_on {
            let (leaf, place) = tlog::stored_place(*i);
            relied.extend_from_slice(&leaf.to_be_bytes());
            relied.push(
                u8::try_from(place).map_err(|_| StoreError::Corrupt(format!("place {place}")))?,
            );
            relied.extend_from_slice(&hash.0);
        }
        query = query.bind(as_i64(size)?).bind(relied);
    } else if let Some((size, relied_on)) = unless_changed {
        query = query.bind(as_i64(size)?);
        for (i, hash) in relied_on {
            let (leaf, place) = tlog::stored_place(*i);
            query = query
                .bind(as_i64(leaf)?)
                .bind(i64::from(place) * 32 + 1)
                .bind(hash.0.to_vec());
        }
    }
    let stored = query.execute(&mut **tx).await?.rows_affected();
    Ok(stored == leaves.len() as u64)
}

/// The log's lock until `tx` ends (the one-statement append takes it itself): PostgreSQL's
/// advisory lock (re-entrant within the transaction); on SQLite the transaction's write lock
/// serialises appends already.
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
#[path = "log_append_tests.rs"]
mod tests;
