//! The transparency log's tiles read as ONE row each (issue 17).
//!
//! A tile is 256 stored hashes or 256 entries. Read as 256 rows, a tile cost the service about
//! 2 ms of CPU on SQLite, nearly all of it sqlx's per-row hand-over from its SQLite worker
//! thread (a channel send and a thread wake-up per row), not SQLite: `log audit` of a
//! 1,000,000-entry log (7,831 tiles) kept the service busy for ~15 CPU-seconds
//! (bench/README.md, "Transparency log"). Here the database concatenates the tile's values, in
//! index order, into one hex text (hex: a text aggregate both engines have and that any byte
//! survives), with the row count beside it, so a missing row is seen, never papered over.

use std::ops::Range;

use sqlx::Row;

use super::{Backend, Store, StoreError};

fn as_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("log index {n} out of range")))
}

impl Store {
    /// `aggregate` of the hex of `column` (in index order, values joined by `separator`) and the
    /// row count, over the rows `filter` selects.
    fn tile_sql(&self, table: &str, column: &str, separator: &str, filter: &str) -> String {
        let aggregate = match self.backend() {
            // SQLite ≥ 3.44 orders inside an aggregate (the bundled one is 3.46).
            Backend::Sqlite => format!("group_concat(hex({column}), '{separator}' ORDER BY idx)"),
            Backend::Postgres => {
                format!("string_agg(encode({column}, 'hex'), '{separator}' ORDER BY idx)")
            }
        };
        format!("SELECT COUNT(*) AS n, {aggregate} AS values_hex FROM {table} WHERE {filter}")
    }

    /// The stored hashes at `indexes` (distinct, ascending: a hash tile's), concatenated.
    pub async fn log_tile_hashes(&self, indexes: &[u64]) -> Result<Vec<u8>, StoreError> {
        let Some(&first) = indexes.first() else {
            return Ok(Vec::new());
        };
        if indexes.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(StoreError::Corrupt(format!(
                "the hash tile from {first} is not in ascending order"
            )));
        }
        let list: Vec<String> = (1..=indexes.len()).map(|i| format!("${i}")).collect();
        let sql = self.tile_sql(
            "log_hashes",
            "hash",
            "",
            &format!("idx IN ({})", list.join(", ")),
        );
        let mut query = sqlx::query(&sql);
        for &i in indexes {
            query = query.bind(as_i64(i)?);
        }
        let row = query.fetch_one(self.pool()).await?;
        let (count, text) = (
            row.try_get::<i64, _>("n")?,
            row.try_get::<Option<String>, _>("values_hex")?,
        );
        let bytes = hex::decode(text.unwrap_or_default())
            .map_err(|e| StoreError::Corrupt(format!("hash tile from {first}: {e}")))?;
        if count != indexes.len() as i64 || bytes.len() != 32 * indexes.len() {
            return Err(StoreError::Corrupt(format!(
                "the log has {count} of the {} stored hashes of the tile from {first} (or one is \
                 not 32 bytes)",
                indexes.len()
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
        let sql = self.tile_sql("log_entries", "entry", ",", "idx >= $1 AND idx < $2");
        let row = sqlx::query(&sql)
            .bind(as_i64(range.start)?)
            .bind(as_i64(range.end)?)
            .fetch_one(self.pool())
            .await?;
        let (count, text) = (
            row.try_get::<i64, _>("n")?,
            row.try_get::<Option<String>, _>("values_hex")?,
        );
        if count != want as i64 {
            return Err(StoreError::Corrupt(format!(
                "log entries {}..{}: {count} rows where {want} belong",
                range.start, range.end
            )));
        }
        let entries = text
            .unwrap_or_default()
            .split(',')
            .map(hex::decode)
            .collect::<Result<Vec<Vec<u8>>, _>>()
            .map_err(|e| {
                StoreError::Corrupt(format!("log entries {}..{}: {e}", range.start, range.end))
            })?;
        if entries.len() as u64 != want {
            return Err(StoreError::Corrupt(format!(
                "log entries {}..{}: {} read where {want} belong",
                range.start,
                range.end,
                entries.len()
            )));
        }
        Ok(entries)
    }
}
