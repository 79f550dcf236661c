//! Schema migrations, compiled into the binary so it runs from any directory.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

use super::{Backend, Store, StoreError};

/// (version, description, SQL) in order. Append only: an applied migration never changes.
const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "pki", include_str!("migrations/0001_pki.sql"))];

pub(super) async fn run(store: &Store) -> Result<(), StoreError> {
    let migrations: Vec<Migration> = MIGRATIONS
        .iter()
        .map(|(version, description, sql)| {
            let sql = match store.backend {
                Backend::Postgres => (*sql).to_owned(),
                Backend::Sqlite => sql.replace("BYTEA", "BLOB"),
            };
            Migration::new(
                *version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Owned(sql),
                false,
            )
        })
        .collect();
    // `locking` takes PostgreSQL's advisory lock, so instances starting together migrate once.
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    };
    migrator.run(store.pool()).await?;
    Ok(())
}
