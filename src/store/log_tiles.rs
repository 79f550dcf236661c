//! The transparency log's tiles read as ONE row each (issue 17).
//!
//! A tile is 256 stored hashes or 256 entries. Read as 256 rows, a tile cost the service about
//! 2 ms of CPU on SQLite, most of it sqlx's per-row hand-over from its SQLite worker thread (a
//! channel send and a thread wake-up per row): `log audit` of a 1,000,000-entry log (7,831 tiles)
//! kept the service busy for ~15 CPU-seconds (bench/README.md, "Transparency log"). Here the
//! database concatenates the tile's values in index order into one blob (both engines'
//! aggregates keep every byte), with the count of rows beside it, so that a missing or
//! malformed row is seen, never papered over.

use std::ops::Range;

use sqlx::Row;

use super::log::as_i64;
use super::{Backend, Store, StoreError};
use crate::tlog;

/// A stored hash's length.
const HASH_BYTES: usize = 32;

impl Store {
    /// The concatenation of `value` (a column or an expression) over the rows selected, in
    /// index order, as a blob.
    fn concatenated(&self, value: &str) -> String {
        match self.backend() {
            // SQLite's group_concat appends each value's bytes as they are (a blob read as text
            // is not converted in a UTF-8 database); ORDER BY inside an aggregate needs SQLite
            // 3.44 (the bundled one is 3.46).
            Backend::Sqlite => format!("CAST(group_concat({value}, '' ORDER BY idx) AS BLOB)"),
            Backend::Postgres => format!("string_agg({value}, ''::bytea ORDER BY idx)"),
        }
    }

    /// The hashes of the complete subtrees `nodes` of height `level` (a hash tile's),
    /// concatenated. Each is kept in the row of the leaf that closed it, at place `level`
    /// ([`tlog::subtree_place`]): a level-0 tile is a run of rows, a higher one every
    /// 2^level-th row, looked up.
    pub async fn log_tile_hashes(
        &self,
        level: u32,
        nodes: Range<u64>,
    ) -> Result<Vec<u8>, StoreError> {
        let want = nodes.end.saturating_sub(nodes.start);
        if want == 0 {
            return Ok(Vec::new());
        }
        let leaves: Vec<u64> = nodes
            .clone()
            .map(|n| tlog::subtree_place(level, n).0)
            .collect();
        let from = level as usize * HASH_BYTES + 1;
        let hash = format!("substr(hashes, {from}, {HASH_BYTES})");
        let proper = format!(
            "SUM(CASE WHEN length(hashes) >= {} THEN 1 ELSE 0 END)",
            (level as usize + 1) * HASH_BYTES
        );
        let selected = format!(
            "SELECT {proper} AS n, {} AS hashes FROM log_entries",
            self.concatenated(&hash)
        );
        let row = if level == 0 {
            sqlx::query(&format!("{selected} WHERE idx >= $1 AND idx < $2"))
                .bind(as_i64(nodes.start)?)
                .bind(as_i64(nodes.end)?)
                .fetch_one(self.pool())
                .await?
        } else {
            let sql = format!("{selected} WHERE idx IN ({})", super::in_list(leaves.len()));
            let mut query = sqlx::query(&sql);
            for &leaf in &leaves {
                query = query.bind(as_i64(leaf)?);
            }
            query.fetch_one(self.pool()).await?
        };
        let count = row.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
        let bytes = row
            .try_get::<Option<Vec<u8>>, _>("hashes")?
            .unwrap_or_default();
        if count != as_i64(want)? || bytes.len() as u64 != want * HASH_BYTES as u64 {
            let (first, last) = (leaves[0], leaves[leaves.len() - 1]);
            return Err(StoreError::Corrupt(format!(
                "the log has {count} of the {want} subtree hashes of height {level} kept in \
                 entries {first} to {last} (an entry or its hashes are missing or cut short)"
            )));
        }
        Ok(bytes)
    }

    /// The entries of the leaves `range`, in order; every one must be there.
    pub async fn log_entry_bundle(&self, range: Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        let want = range.end.saturating_sub(range.start);
        if want == 0 {
            return Ok(Vec::new());
        }
        let lengths = match self.backend() {
            Backend::Sqlite => "group_concat(length(entry), ',' ORDER BY idx)",
            Backend::Postgres => "string_agg(length(entry)::text, ',' ORDER BY idx)",
        };
        let sql = format!(
            "SELECT COUNT(*) AS n, {lengths} AS lengths, {} AS entries FROM log_entries \
             WHERE idx >= $1 AND idx < $2",
            self.concatenated("entry")
        );
        let row = sqlx::query(&sql)
            .bind(as_i64(range.start)?)
            .bind(as_i64(range.end)?)
            .fetch_one(self.pool())
            .await?;
        let bad = |why: String| {
            StoreError::Corrupt(format!("log entries {}..{}: {why}", range.start, range.end))
        };
        let count: i64 = row.try_get("n")?;
        if count != as_i64(want)? {
            return Err(bad(format!("{count} rows where {want} belong")));
        }
        let lengths: String = row
            .try_get::<Option<String>, _>("lengths")?
            .unwrap_or_default();
        let mut rest: &[u8] = &row
            .try_get::<Option<Vec<u8>>, _>("entries")?
            .unwrap_or_default();
        let mut entries = Vec::with_capacity(want as usize);
        for length in lengths.split(',') {
            let length: usize = length
                .parse()
                .map_err(|_| bad(format!("a length {length:?}")))?;
            if length > rest.len() {
                return Err(bad("the entries are shorter than their lengths".into()));
            }
            let (entry, after) = rest.split_at(length);
            entries.push(entry.to_vec());
            rest = after;
        }
        if entries.len() as u64 != want || !rest.is_empty() {
            return Err(bad(format!(
                "{} entries and {} bytes left where {want} belong",
                entries.len(),
                rest.len()
            )));
        }
        Ok(entries)
    }
}
