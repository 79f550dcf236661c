//! Migration 8's data step (issue 17): each leaf's stored hashes, one row each in `log_hashes`
//! until then, become the `hashes` column of the leaf's own row: the leaf's hash, then the hash
//! of every complete subtree it closed, 32 bytes each, in stored-index order.
//!
//! A log damaged past the triggers stays as damaged as it was, and as visible: a hash of the
//! wrong length is carried over as it is (the row then has the wrong length, which every reader
//! refuses), a leaf with a hash missing gets none (the log's check names it), and the hashes of
//! a deleted entry row have no row to go to (the check names the entry).

use std::collections::HashMap;

use sqlx::Row;

use super::log::{as_i64, hashes_stored_by, index, size_in};
use super::{Backend, StoreError};
use crate::tlog;

/// Leaves whose hashes are read in one query.
const LEAVES_PER_STEP: u64 = 4096;
/// Rows per UPDATE (two parameters each).
const ROWS_PER_UPDATE: usize = 500;

pub(super) async fn move_hashes_into_entries(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<(), StoreError> {
    // The migration's engine statements turn it back on, in the same transaction.
    let off = match backend {
        Backend::Sqlite => "DROP TRIGGER log_entries_no_update",
        Backend::Postgres => "ALTER TABLE log_entries DISABLE TRIGGER log_entries_append_only",
    };
    sqlx::query(off).execute(&mut *conn).await?;
    let size = size_in(&mut *conn).await?;
    let mut start = 0;
    while start < size {
        let end = (start + LEAVES_PER_STEP).min(size);
        let rows = sqlx::query("SELECT idx, hash FROM log_hashes WHERE idx >= $1 AND idx < $2")
            .bind(as_i64(tlog::stored_index(0, start))?)
            .bind(as_i64(tlog::stored_count(end))?)
            .fetch_all(&mut *conn)
            .await?;
        let mut stored: HashMap<u64, Vec<u8>> = HashMap::with_capacity(rows.len());
        for row in &rows {
            stored.insert(index(row.try_get("idx")?)?, row.try_get("hash")?);
        }
        let mut moved: Vec<(u64, Vec<u8>)> = Vec::with_capacity((end - start) as usize);
        for leaf in start..end {
            let first = tlog::stored_index(0, leaf);
            let count = hashes_stored_by(leaf) as u64;
            let hashes: Option<Vec<u8>> = (first..first + count)
                .map(|i| stored.get(&i).cloned())
                .collect::<Option<Vec<Vec<u8>>>>()
                .map(|parts| parts.concat());
            if let Some(hashes) = hashes {
                moved.push((leaf, hashes));
            }
        }
        for chunk in moved.chunks(ROWS_PER_UPDATE) {
            let sql = format!(
                "UPDATE log_entries SET hashes = v.column2 FROM (VALUES {}) AS v \
                 WHERE log_entries.idx = v.column1",
                super::placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (leaf, hashes) in chunk {
                query = query.bind(as_i64(*leaf)?).bind(hashes.clone());
            }
            query.execute(&mut *conn).await?;
        }
        start = end;
    }
    if size > 0 {
        tracing::info!(
            entries = size,
            "moved the log's stored hashes into its entries' rows"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::store::Store;
    use crate::tlog::{Entry, Hash};

    /// A log of `size` leaves as migration 7 stored it: entries, and every stored hash a row.
    async fn log_as_version_7(conn: &mut sqlx::AnyConnection, size: u64) -> Vec<Hash> {
        let mut frontier: Vec<Hash> = Vec::new();
        let mut stored = Vec::new();
        for n in 0..size {
            let entry = Entry::Certificate {
                serial: format!("{n:04x}"),
                sha256: hex::encode(crate::crypto::sha256(&n.to_be_bytes())),
                time: 1_700_000_000,
            };
            let bytes = entry.encode();
            let closed = (n + 1).trailing_zeros() as usize;
            let siblings: Vec<Hash> = frontier.iter().rev().take(closed).copied().collect();
            let hashes =
                tlog::hashes_to_store(n, tlog::leaf_hash(&bytes), &siblings).expect("hashes");
            frontier.truncate(frontier.len() - closed);
            frontier.extend(hashes.last().copied());
            sqlx::query(
                "INSERT INTO log_entries (idx, kind, reference, entry, created_at) \
                 VALUES ($1, $2, $3, $4, 0)",
            )
            .bind(n as i64)
            .bind(entry.kind())
            .bind(entry.reference().to_owned())
            .bind(bytes)
            .execute(&mut *conn)
            .await
            .expect("entry");
            for hash in hashes {
                sqlx::query("INSERT INTO log_hashes (idx, hash) VALUES ($1, $2)")
                    .bind(stored.len() as i64)
                    .bind(hash.0.to_vec())
                    .execute(&mut *conn)
                    .await
                    .expect("hash");
                stored.push(hash);
            }
        }
        stored
    }

    /// Migration 8 on a log of 600 leaves (past two tile boundaries) made by migration 7:
    /// every stored hash reads as it did, from its leaf's row; a leaf one of whose hash rows
    /// was deleted before keeps no hashes, and reading them fails; `log_hashes` is gone; the
    /// log's rows stay append-only.
    async fn moves_every_hash(url: &str, backend: Backend) {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
        crate::store::migrate::apply(&mut conn, backend, 7)
            .await
            .expect("migrations 1-7");
        let stored = log_as_version_7(&mut conn, 600).await;
        let damaged_leaf = 511;
        let trigger_off = match backend {
            Backend::Sqlite => "DROP TRIGGER log_hashes_no_delete",
            Backend::Postgres => "ALTER TABLE log_hashes DISABLE TRIGGER log_hashes_append_only",
        };
        sqlx::query(trigger_off)
            .execute(&mut conn)
            .await
            .expect("trigger off");
        sqlx::query("DELETE FROM log_hashes WHERE idx = $1")
            .bind(tlog::stored_index(3, 63) as i64)
            .execute(&mut conn)
            .await
            .expect("a hash row deleted");
        crate::store::migrate::apply(&mut conn, backend, i64::MAX)
            .await
            .expect("migration 8");
        conn.close().await.expect("close");

        let store = Store::connect(url).await.expect("store");
        let (damaged, intact): (Vec<u64>, Vec<u64>) =
            (0..stored.len() as u64).partition(|&i| tlog::stored_place(i).0 == damaged_leaf);
        let read = store.log_hashes(&intact).await.expect("every intact hash");
        let want: Vec<Hash> = intact.iter().map(|&i| stored[i as usize]).collect();
        assert_eq!(read, want);
        assert!(store.log_hashes(&damaged[..1]).await.is_err());
        assert!(sqlx::query("SELECT COUNT(*) FROM log_hashes")
            .fetch_one(store.pool())
            .await
            .is_err());
        if backend == Backend::Sqlite {
            // The rowid is the index: no second B-tree for it, only the reference index.
            let indexes: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_list('log_entries')")
                    .fetch_all(store.pool())
                    .await
                    .expect("indexes");
            assert_eq!(indexes, ["log_entries_reference"]);
        }
        assert!(
            sqlx::query("DELETE FROM log_entries WHERE idx = 0")
                .execute(store.pool())
                .await
                .is_err(),
            "log_entries refuses deletes again"
        );
        assert!(
            sqlx::query("UPDATE log_entries SET hashes = NULL WHERE idx = 0")
                .execute(store.pool())
                .await
                .is_err(),
            "log_entries is append-only again"
        );
    }

    #[tokio::test]
    async fn migration_8_moves_every_hash_into_its_leaf_row_on_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v7.db").display());
        moves_every_hash(&url, Backend::Sqlite).await;
    }

    /// The same on PostgreSQL, when `QOLTANBA_TEST_POSTGRES` names a server (`.ci/run` does).
    #[tokio::test]
    async fn migration_8_moves_every_hash_into_its_leaf_row_on_postgresql() {
        if let Some(url) = crate::store::fresh_postgres_database("migrate").await {
            moves_every_hash(&url, Backend::Postgres).await;
        }
    }
}
