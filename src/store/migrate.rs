//! Schema migrations, compiled into the binary so it runs from any directory.
//!
//! Our own small runner rather than sqlx's: instances starting together on one database must
//! migrate exactly once, and sqlx's migrator takes no lock on SQLite. Here the whole run is one
//! transaction under one lock on both engines (SQLite `BEGIN IMMEDIATE`, PostgreSQL a
//! transaction-scoped advisory lock), and DDL is transactional on both.

use sqlx::Row;

use super::{Backend, Store, StoreError};

/// (version, description, SQL) in order. Append only: an applied migration never changes
/// (its checksum is verified at every start).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "pki", include_str!("migrations/0001_pki.sql")),
    (
        2,
        "documents",
        include_str!("migrations/0002_documents.sql"),
    ),
    (3, "security", include_str!("migrations/0003_security.sql")),
    (
        4,
        "document format",
        include_str!("migrations/0004_document_format.sql"),
    ),
    (5, "tsa", include_str!("migrations/0005_tsa.sql")),
    (6, "evidence", include_str!("migrations/0006_evidence.sql")),
    (7, "log", include_str!("migrations/0007_log.sql")),
    (
        8,
        "log hashes in entries",
        include_str!("migrations/0008_log_hashes_in_entries.sql"),
    ),
];

/// Migration 7's SQLite triggers: the log's tables, and the registry it records, are
/// append-only like the audit trail.
const LOG_SQLITE: [&str; 8] = [
    "CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents \
     BEGIN SELECT RAISE(ABORT, 'documents is append-only'); END",
    "CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents \
     BEGIN SELECT RAISE(ABORT, 'documents is append-only'); END",
    "CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries \
     BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END",
    "CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries \
     BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END",
    "CREATE TRIGGER log_hashes_no_update BEFORE UPDATE ON log_hashes \
     BEGIN SELECT RAISE(ABORT, 'log_hashes is append-only'); END",
    "CREATE TRIGGER log_hashes_no_delete BEFORE DELETE ON log_hashes \
     BEGIN SELECT RAISE(ABORT, 'log_hashes is append-only'); END",
    "CREATE TRIGGER log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints \
     BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END",
    "CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints \
     BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END",
];

/// The same on PostgreSQL, TRUNCATE included.
const LOG_POSTGRES: [&str; 5] = [
    "CREATE FUNCTION log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    "CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON documents \
     FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()",
    "CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON log_entries \
     FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()",
    "CREATE TRIGGER log_hashes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON log_hashes \
     FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()",
    "CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE \
     ON log_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()",
];

/// Statements one engine needs in its own dialect, run after the shared SQL of a migration
/// (whole statements: trigger bodies contain `;`). Part of that migration's checksum.
fn engine_statements(version: i64, backend: Backend) -> &'static [&'static str] {
    match (version, backend) {
        (3, Backend::Sqlite) => &[
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        ],
        (3, Backend::Postgres) => &[
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log \
             FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
        ],
        (6, Backend::Sqlite) => &[
            "CREATE TRIGGER document_evidence_no_update BEFORE UPDATE ON document_evidence \
             BEGIN SELECT RAISE(ABORT, 'document_evidence is append-only'); END",
            "CREATE TRIGGER document_evidence_no_delete BEFORE DELETE ON document_evidence \
             BEGIN SELECT RAISE(ABORT, 'document_evidence is append-only'); END",
        ],
        (6, Backend::Postgres) => &[
            "CREATE FUNCTION document_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'document_evidence is append-only'; END $$",
            "CREATE TRIGGER document_evidence_append_only BEFORE UPDATE OR DELETE OR TRUNCATE \
             ON document_evidence FOR EACH STATEMENT EXECUTE FUNCTION document_evidence_append_only()",
        ],
        (7, Backend::Sqlite) => &LOG_SQLITE,
        (7, Backend::Postgres) => &LOG_POSTGRES,
        // After super::migrate_log moved the hashes (with log_entries' UPDATE trigger off).
        // SQLite also rebuilds log_entries with `idx INTEGER PRIMARY KEY`, the rowid itself:
        // migration 7's BIGINT key was a second B-tree (a unique index) beside the rowid's, a
        // page more in every commit's write-ahead log (documents/s with the log on / off: 0.87
        // before, 0.90-0.97 after, noisy runs; bench/README.md, "Transparency log").
        (8, Backend::Sqlite) => &[
            "CREATE TABLE log_entries_by_rowid (idx INTEGER PRIMARY KEY, kind TEXT NOT NULL, \
             reference TEXT NOT NULL, entry BLOB NOT NULL, created_at BIGINT NOT NULL, \
             hashes BLOB)",
            "INSERT INTO log_entries_by_rowid (idx, kind, reference, entry, created_at, hashes) \
             SELECT idx, kind, reference, entry, created_at, hashes FROM log_entries",
            "DROP TABLE log_entries",
            "ALTER TABLE log_entries_by_rowid RENAME TO log_entries",
            "CREATE INDEX log_entries_reference ON log_entries (reference)",
            "CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries \
             BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END",
            "CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries \
             BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END",
            "DROP TABLE log_hashes",
        ],
        (8, Backend::Postgres) => &[
            "ALTER TABLE log_entries ENABLE TRIGGER log_entries_append_only",
            "DROP TABLE log_hashes",
            // Whether the log, once its lock is held, ends at `size` with the hashes `relied`
            // (41 bytes each: leaf, 8 bytes big-endian; place, 1 byte; hash, 32 bytes), for the
            // one-statement append (store/log_append.rs). VOLATILE: each of its queries reads
            // with a snapshot taken when it runs, after the lock, not the calling statement's.
            "CREATE FUNCTION log_edge_holds(lock_key BIGINT, size BIGINT, relied BYTEA) \
             RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$ \
             DECLARE pos INTEGER := 0; leaf BIGINT; place INTEGER; BEGIN \
             PERFORM pg_advisory_xact_lock(lock_key); \
             IF (SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries) <> size THEN RETURN FALSE; \
             END IF; \
             WHILE pos + 41 <= length(relied) LOOP \
             leaf := ('x' || encode(substring(relied FROM pos + 1 FOR 8), 'hex'))::bit(64)::bigint; \
             place := get_byte(relied, pos + 8); \
             IF NOT EXISTS (SELECT 1 FROM log_entries WHERE idx = leaf \
             AND substr(hashes, place * 32 + 1, 32) = substring(relied FROM pos + 10 FOR 32)) \
             THEN RETURN FALSE; END IF; \
             pos := pos + 41; END LOOP; \
             RETURN pos = length(relied); END $$",
        ],
        _ => &[],
    }
}

/// A migration's checksum: its shared SQL and both engines' own statements.
fn checksum(version: i64, sql: &str) -> String {
    let mut parts: Vec<&[u8]> = vec![sql.as_bytes()];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        parts.extend(
            engine_statements(version, backend)
                .iter()
                .map(|s| s.as_bytes()),
        );
    }
    hex::encode(crate::crypto::sha256_parts(&parts))
}

/// Arbitrary key of the PostgreSQL advisory lock that serialises migrations ("qoltanba").
const PG_LOCK_KEY: i64 = 0x716f_6c74_616e_6261;

pub(super) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.pool().acquire().await?;
    match store.backend {
        // IMMEDIATE takes the write lock now; a second instance waits (busy_timeout) instead
        // of reading a schema that is about to change.
        Backend::Sqlite => sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?,
        Backend::Postgres => {
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await?
        }
    };
    let result = apply(&mut conn, store.backend, i64::MAX).await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "database migration failed; rolled back");
    }
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    sqlx::query(end).execute(&mut *conn).await?;
    result
}

/// Applies the migrations up to version `until` that this database has not had.
pub(super) async fn apply(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    until: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS qoltanba_schema (version BIGINT PRIMARY KEY, \
         description TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<(i64, String)> = sqlx::query("SELECT version, checksum FROM qoltanba_schema")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("version")?, r.try_get("checksum")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let newest_known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if let Some((v, _)) = applied.iter().find(|(v, _)| *v > newest_known) {
        return Err(StoreError::Corrupt(format!(
            "the database schema is at version {v}, newer than this binary knows ({newest_known}); \
             run a newer qoltanba"
        )));
    }
    for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 <= until) {
        let checksum = checksum(*version, sql);
        match applied.iter().find(|(v, _)| v == version) {
            Some((_, stored)) if *stored == checksum => continue,
            Some(_) => {
                return Err(StoreError::Corrupt(format!(
                "migration {version} ({description}) differs from the one applied to this database"
            )))
            }
            None => {}
        }
        let sql = match backend {
            Backend::Postgres => (*sql).to_owned(),
            Backend::Sqlite => sql
                .replace("BYTEA", "BLOB")
                .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        };
        for statement in statements(&sql) {
            sqlx::query(statement).execute(&mut *conn).await?;
        }
        if *version == 8 {
            super::migrate_log::move_hashes_into_entries(conn, backend).await?;
        }
        for statement in engine_statements(*version, backend) {
            sqlx::query(statement).execute(&mut *conn).await?;
        }
        sqlx::query(
            "INSERT INTO qoltanba_schema (version, description, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(*version)
        .bind(*description)
        .bind(&checksum)
        .bind(crate::time::now())
        .execute(&mut *conn)
        .await?;
        tracing::info!(version, description, "applied database migration");
    }
    Ok(())
}

/// The statements of a migration file: split at `;` ending a line, comment lines dropped.
/// Our migrations are plain DDL/DML with no `;` inside a statement.
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(|chunk| chunk.trim()).filter(|chunk| {
        chunk
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_splits_into_whole_statements() {
        for (_, _, sql) in super::MIGRATIONS {
            let statements: Vec<&str> = super::statements(sql).collect();
            assert!(!statements.is_empty());
            for s in statements {
                let first = s
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with("--"))
                    .unwrap_or_default();
                assert!(
                    ["CREATE", "INSERT", "ALTER", "DROP", "UPDATE"]
                        .iter()
                        .any(|k| first.trim_start().starts_with(k)),
                    "not a whole statement: {s}"
                );
            }
        }
    }
}
