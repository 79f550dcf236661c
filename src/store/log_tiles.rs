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

/// A stored hash's length.
const HASH_BYTES: usize = 32;

impl Store {
    /// The concatenation of `column` over the rows `filter` selects, in index order, as a blob.
    fn concatenated(&self, column: &str) -> String {
        match self.backend() {
            // SQLite's group_concat appends each value's bytes as they are (a blob read as text
            // is not converted in a UTF-8 database); ORDER BY inside an aggregate needs SQLite
            // 3.44 (the bundled one is 3.46).
            Backend::Sqlite => format!("CAST(group_concat({column}, '' ORDER BY idx) AS BLOB)"),
            Backend::Postgres => format!("string_agg({column}, ''::bytea ORDER BY idx)"),
        }
    }

    /// The stored hashes at `indexes` (distinct and ascending: a hash tile's), concatenated.
    pub async fn log_tile_hashes(&self, indexes: &[u64]) -> Result<Vec<u8>, StoreError> {
        let (Some(&first), Some(&last)) = (indexes.first(), indexes.last()) else {
            return Ok(Vec::new());
        };
        if indexes.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(StoreError::Corrupt(format!(
                "the hash tile from {first} is not in ascending order"
            )));
        }
        let missing = |found: i64, of: u64| {
            StoreError::Corrupt(format!(
                "the log has {found} of the {of} stored hashes from {first} to {last} (or one \
                 is not {HASH_BYTES} bytes)"
            ))
        };
        let span = last - first + 1;
        let hashes = self.concatenated("hash");
        let proper = format!("SUM(CASE WHEN length(hash) = {HASH_BYTES} THEN 1 ELSE 0 END)");
        // A level-0 tile's hashes are every other row or so of one run of stored indexes (the
        // subtree hashes its leaves close lie between them): one range read and a pick is far
        // cheaper than 256 lookups. Higher levels are sparse: looked up.
        if span <= 4 * indexes.len() as u64 {
            let sql = format!(
                "SELECT {proper} AS n, {hashes} AS hashes FROM log_hashes \
                 WHERE idx >= $1 AND idx <= $2"
            );
            let row = sqlx::query(&sql)
                .bind(as_i64(first)?)
                .bind(as_i64(last)?)
                .fetch_one(self.pool())
                .await?;
            let count = row.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
            let run = row
                .try_get::<Option<Vec<u8>>, _>("hashes")?
                .unwrap_or_default();
            if count != as_i64(span)? || run.len() as u64 != span * HASH_BYTES as u64 {
                return Err(missing(count, span));
            }
            let mut out = Vec::with_capacity(indexes.len() * HASH_BYTES);
            for &i in indexes {
                let at = (i - first) as usize * HASH_BYTES;
                out.extend_from_slice(&run[at..at + HASH_BYTES]);
            }
            return Ok(out);
        }
        let sql = format!(
            "SELECT {proper} AS n, {hashes} AS hashes FROM log_hashes WHERE idx IN ({})",
            super::in_list(indexes.len())
        );
        let mut query = sqlx::query(&sql);
        for &i in indexes {
            query = query.bind(as_i64(i)?);
        }
        let row = query.fetch_one(self.pool()).await?;
        let count = row.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
        let bytes = row
            .try_get::<Option<Vec<u8>>, _>("hashes")?
            .unwrap_or_default();
        if count != indexes.len() as i64 || bytes.len() != HASH_BYTES * indexes.len() {
            return Err(missing(count, indexes.len() as u64));
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
