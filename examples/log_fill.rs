//! Appends N document entries to a qoltanba database's transparency log, fast, so that
//! bench/log.sh can time the start-up check and `qoltanba log audit` on a log of 1,000,000
//! leaves (issue 17) without issuing a million documents over HTTP.
//!
//! ```sh
//! cargo build --release --example log_fill
//! target/release/examples/log_fill --database 'sqlite:///tmp/data/qoltanba.db' --entries 1000000
//! ```
//!
//! What it writes is what the service's own append writes, computed by the library's own code:
//! each entry is a `tlog::Entry::Document` in the one spelling the log uses (a registration
//! number, an id, two SHA-256 hex digests, a time: the size of a real document's entry), its leaf
//! hash is `tlog::leaf_hash`, and the hashes stored with it (in its row, as migration 8 keeps
//! them) are `tlog::hashes_to_store` over the tree as it stands. Rows go in as multi-row INSERTs in ONE
//! transaction, on top of whatever the log holds already (the PKI's certificates, real
//! documents). What it does not write: rows in `documents` — the entries name documents the
//! registry does not hold, so `log audit --documents` would (rightly) fail on them; a plain
//! `log audit` and the service's start-up check read the log alone.
//!
//! Stop the service first: the appends must not interleave with its own. The service checks
//! every row this writes when it starts again (it rebuilds the tree from the entries and compares
//! every stored hash), so a wrong row here would stop it from starting, not slip through.

use std::time::Instant;

use clap::Parser;
use qoltanba::tlog::{self, Entry, Hash};
use sqlx::Row;

#[derive(Debug, Parser)]
struct Args {
    /// The service's database (QOLTANBA_DATABASE_URL), already made by the service.
    #[arg(long)]
    database: String,
    /// How many document entries to append.
    #[arg(long)]
    entries: u64,
    /// The numbers' `{authority BIN}-{year}` (numbers run 1, 2, … in it, as the registry's do);
    /// it must not be in the log yet.
    #[arg(long, default_value = "999999999999-2026")]
    series: String,
}

#[derive(Debug, thiserror::Error)]
enum FillError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the log: {0}")]
    Log(#[from] tlog::TlogError),
    #[error("{0}")]
    Refused(String),
}

/// Leaves per round of hashing and inserting (all rounds share one transaction).
const LEAVES_PER_ROUND: u64 = 8192;
/// Rows per multi-row INSERT (SQLite allows 32,766 parameters; 6 per row here).
const ROWS_PER_INSERT: usize = 500;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match fill(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("log_fill: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn fill(args: &Args) -> Result<(), FillError> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&args.database)
        .await?;
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    let size = count(
        &mut tx,
        "SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM log_entries",
    )
    .await?;
    let without = count(
        &mut tx,
        "SELECT COUNT(*) AS n FROM log_entries WHERE hashes IS NULL",
    )
    .await?;
    if without > 0 {
        return Err(FillError::Refused(format!(
            "{without} of the log's {size} entries have no stored hashes"
        )));
    }
    let taken: i64 = sqlx::query("SELECT COUNT(*) AS n FROM log_entries WHERE reference LIKE $1")
        .bind(format!("{}-%", args.series))
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if taken > 0 {
        return Err(FillError::Refused(format!(
            "the log has numbers of the series {} already; give another --series",
            args.series
        )));
    }
    let mut frontier = frontier(&mut tx, size).await?;
    let now = qoltanba::time::now();
    let mut sequence: u64 = 0;
    while sequence < args.entries {
        let round = LEAVES_PER_ROUND.min(args.entries - sequence);
        let first = size + sequence;
        let mut entries: Vec<Leaf> = Vec::with_capacity(round as usize);
        for n in first..first + round {
            sequence += 1;
            let number = format!("{}-{sequence:06}", args.series);
            let entry = document(&number, now).encode();
            // The frontier holds the complete subtrees not yet closed, smallest last: leaf n
            // closes as many as (n + 1) has trailing zeros, with those as its left siblings.
            let closed = (n + 1).trailing_zeros() as usize;
            let keep = frontier.len().checked_sub(closed).ok_or_else(|| {
                FillError::Refused(format!("leaf {n}: the tree's frontier is short"))
            })?;
            let siblings: Vec<Hash> = frontier[keep..].iter().rev().copied().collect();
            let new = tlog::hashes_to_store(n, tlog::leaf_hash(&entry), &siblings)?;
            frontier.truncate(keep);
            if let Some(top) = new.last() {
                frontier.push(*top);
            }
            let hashes: Vec<u8> = new.iter().flat_map(|h| h.0).collect();
            entries.push((n, number, entry, hashes));
        }
        insert_entries(&mut tx, &entries, now).await?;
    }
    tx.commit().await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "log_fill: appended {} document entries ({} .. {}) in {seconds:.1} s ({:.0}/s); the log \
         has {} entries",
        args.entries,
        size,
        size + args.entries,
        args.entries as f64 / seconds,
        size + args.entries
    );
    Ok(())
}

/// A document entry shaped as the registry's: the hex digests stand for the content and the
/// signature file (derived from the number, so two runs write the same log).
fn document(number: &str, time: i64) -> Entry {
    let digest = |what: &str| {
        hex::encode(qoltanba::crypto::sha256_parts(&[
            what.as_bytes(),
            number.as_bytes(),
        ]))
    };
    let id = digest("id");
    Entry::Document {
        number: number.to_owned(),
        id: format!(
            "{}-{}-{}-{}-{}",
            &id[0..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        ),
        sha256: digest("content"),
        signed_sha256: digest("signed"),
        time,
    }
}

async fn count(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sql: &str,
) -> Result<u64, FillError> {
    let n: i64 = sqlx::query(sql).fetch_one(&mut **tx).await?.try_get("n")?;
    u64::try_from(n).map_err(|_| FillError::Refused(format!("{sql}: {n}")))
}

/// The hashes of the complete subtrees a tree of `size` leaves is made of, left (largest) to
/// right: one per bit of `size`.
async fn frontier(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    size: u64,
) -> Result<Vec<Hash>, FillError> {
    let mut out = Vec::new();
    for level in (0..64u32).rev().filter(|l| size >> l & 1 == 1) {
        // Kept in the row of the leaf that closed it, at place `level`.
        let (leaf, place) = tlog::subtree_place(level, (size >> level) - 1);
        let row = sqlx::query("SELECT hashes FROM log_entries WHERE idx = $1")
            .bind(as_i64(leaf)?)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| FillError::Refused(format!("the log has no entry {leaf}")))?;
        let bytes: Vec<u8> = row
            .try_get::<Option<Vec<u8>>, _>("hashes")?
            .unwrap_or_default();
        let at = place as usize * 32;
        out.push(
            bytes
                .get(at..at + 32)
                .and_then(Hash::from_slice)
                .ok_or_else(|| FillError::Refused(format!("entry {leaf} lacks hash {place}")))?,
        );
    }
    Ok(out)
}

fn as_i64(n: u64) -> Result<i64, FillError> {
    i64::try_from(n).map_err(|_| FillError::Refused(format!("index {n} out of range")))
}

/// `($1, $2), ($3, $4), …`: `rows` rows of `columns` numbered placeholders.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A leaf to insert: index, number, entry, the hashes its append stores.
type Leaf = (u64, String, Vec<u8>, Vec<u8>);

async fn insert_entries(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    entries: &[Leaf],
    now: i64,
) -> Result<(), FillError> {
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO log_entries (idx, kind, reference, entry, hashes, created_at) VALUES {}",
            placeholders(chunk.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (n, number, bytes, hashes) in chunk {
            query = query
                .bind(as_i64(*n)?)
                .bind("document")
                .bind(number.clone())
                .bind(bytes.clone())
                .bind(hashes.clone())
                .bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
