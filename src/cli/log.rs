//! `qoltanba log verify` and `qoltanba log audit`: the transparency log checked from outside,
//! with no database — files an auditor downloaded, or the service's public URLs.
//!
//! Exit codes: 0 everything checks; 1 something does not (the message names it); 2 bad input.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::CliError;
use crate::tlog::{self, Checkpoint, Entry, NoteKey, Replica, Tile, MAX_TILE_LEVEL};

#[derive(Debug, Subcommand)]
pub(super) enum LogCommand {
    /// Check a signed checkpoint offline, and with it an entry, a document or an older
    /// checkpoint, from downloaded files only.
    Verify(VerifyArgs),
    /// Download the whole log from a service, rebuild it and check every entry.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The signed checkpoint (GET /log/checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// The log's verifier key (GET /log/key), as pinned by the auditor.
    #[arg(long)]
    key: PathBuf,
    /// A signature file the service issued (.p7s or signed XML): its entry must be in the tree.
    #[arg(long, conflicts_with = "entry")]
    document: Option<PathBuf>,
    /// An entry by index: it must be in the tree (needs --tiles).
    #[arg(long)]
    entry: Option<u64>,
    /// An older checkpoint: the tree must extend it (needs --tiles).
    #[arg(long)]
    previous_checkpoint: Option<PathBuf>,
    /// Tiles as `log audit --out DIR` keeps them: proofs are made from them.
    #[arg(long)]
    tiles: Option<PathBuf>,
    /// A document's proof as GET /v1/documents/{id}/proof returns it (JSON).
    #[arg(long)]
    proof: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct AuditArgs {
    /// The service's public URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// The log's verifier key to require (else the one the service publishes, printed).
    #[arg(long)]
    key: Option<PathBuf>,
    /// An older checkpoint: the log must extend it.
    #[arg(long)]
    previous_checkpoint: Option<PathBuf>,
    /// Keep the checkpoint, key and tiles here (for `log verify --tiles`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also ask the service for every document the log names, and require that the document
    /// as stored is still the one its entry recorded.
    #[arg(long)]
    documents: bool,
}

fn failed(message: impl Into<String>) -> CliError {
    CliError::Failed(message.into())
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}

fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read(path)?)
        .map_err(|_| CliError::Input(format!("{}: not UTF-8 text", path.display())))
}

/// A checkpoint opened with `key`: its signature checked, its text read.
fn open_checkpoint(note: &str, key: &NoteKey, what: &str) -> Result<Checkpoint, CliError> {
    let text = tlog::open_note(note, std::slice::from_ref(key))
        .map_err(|e| failed(format!("{what}: {e}")))?;
    let checkpoint = Checkpoint::parse(text).map_err(|e| failed(format!("{what}: {e}")))?;
    if checkpoint.origin != key.name() {
        return Err(failed(format!(
            "{what} is of the log {:?}, not {:?}",
            checkpoint.origin,
            key.name()
        )));
    }
    Ok(checkpoint)
}

fn key_from(text: &str) -> Result<NoteKey, CliError> {
    NoteKey::parse(text.trim()).map_err(|e| CliError::Input(e.to_string()))
}

pub(super) async fn run(command: LogCommand) -> Result<(), CliError> {
    match command {
        LogCommand::Verify(args) => verify(&args).map(|lines| println!("{}", lines.join("\n"))),
        LogCommand::Audit(args) => audit(&args)
            .await
            .map(|lines| println!("{}", lines.join("\n"))),
    }
}

fn verify(args: &VerifyArgs) -> Result<Vec<String>, CliError> {
    let key = key_from(&read_text(&args.key)?)?;
    let checkpoint = open_checkpoint(&read_text(&args.checkpoint)?, &key, "the checkpoint")?;
    let mut said = vec![format!(
        "ok: checkpoint of {} at size {} is signed ({}) by {}",
        checkpoint.origin,
        checkpoint.size,
        key.algorithm().display_name(),
        key.encode()
    )];
    let replica = match &args.tiles {
        Some(dir) => {
            let replica = Replica::from_tiles(checkpoint.size, &checkpoint.root, |tile| {
                std::fs::read(dir.join(tile.path()))
                    .map_err(|e| tlog::TlogError::BadTilePath(format!("{}: {e}", tile.path())))
            })
            .map_err(|e| failed(format!("the tiles: {e}")))?;
            said.push(format!(
                "ok: the {} entries in the tiles give the checkpoint's root",
                checkpoint.size
            ));
            Some(replica)
        }
        None => None,
    };
    if let Some(path) = &args.previous_checkpoint {
        let replica = replica.as_ref().ok_or_else(|| {
            CliError::Input(
                "--previous-checkpoint needs --tiles (the proof is made from them)".into(),
            )
        })?;
        said.push(extends_previous(path, &key, &checkpoint, replica)?);
    }
    if let Some(index) = args.entry {
        let replica = replica
            .as_ref()
            .ok_or_else(|| CliError::Input("--entry needs --tiles".into()))?;
        let entry = replica
            .entries()
            .get(index as usize)
            .ok_or_else(|| failed(format!("the checkpoint has no entry {index}")))?;
        let proof = replica
            .inclusion(index, checkpoint.size)
            .map_err(|e| failed(e.to_string()))?;
        tlog::verify_inclusion(
            index,
            checkpoint.size,
            &tlog::leaf_hash(entry),
            &proof,
            &checkpoint.root,
        )
        .map_err(|e| failed(format!("entry {index}: {e}")))?;
        said.push(format!(
            "ok: entry {index} is in the tree:\n{}",
            String::from_utf8_lossy(entry).trim_end()
        ));
    }
    if args.document.is_some() || args.proof.is_some() {
        said.extend(verify_document(args, &checkpoint, replica.as_ref())?);
    }
    Ok(said)
}

/// `--document` and/or `--proof`: the document's entry, proved in the checkpoint.
fn verify_document(
    args: &VerifyArgs,
    checkpoint: &Checkpoint,
    replica: Option<&Replica>,
) -> Result<Vec<String>, CliError> {
    let digest = match &args.document {
        Some(path) => Some(hex::encode(crate::crypto::sha256(&read(path)?))),
        None => None,
    };
    let (index, entry, proof) = match (&args.proof, replica) {
        (Some(path), _) => {
            let json: serde_json::Value = serde_json::from_slice(&read(path)?)
                .map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?;
            let bad = |what: &str| CliError::Input(format!("{}: no {what}", path.display()));
            let index = json["index"].as_u64().ok_or_else(|| bad("index"))?;
            let size = json["size"].as_u64().ok_or_else(|| bad("size"))?;
            if size != checkpoint.size {
                return Err(CliError::Input(format!(
                    "the proof is for the checkpoint of size {size}; give that checkpoint"
                )));
            }
            let entry = json["entry"].as_str().ok_or_else(|| bad("entry"))?;
            let hashes = json["hashes"]
                .as_array()
                .ok_or_else(|| bad("hashes"))?
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(|t| {
                            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, t)
                                .ok()
                        })
                        .and_then(|b| tlog::Hash::from_slice(&b))
                        .ok_or_else(|| bad("valid hashes"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            (index, entry.as_bytes().to_vec(), hashes)
        }
        (None, Some(replica)) => {
            let wanted = digest.as_deref().unwrap_or_default();
            let found = replica.entries().iter().enumerate().find(|(_, bytes)| {
                matches!(Entry::parse(bytes), Ok(Entry::Document { signed_sha256, .. })
                    if signed_sha256 == wanted)
            });
            let (index, entry) = found.ok_or_else(|| {
                failed("no entry of the log records this signature file".to_string())
            })?;
            let proof = replica
                .inclusion(index as u64, checkpoint.size)
                .map_err(|e| failed(e.to_string()))?;
            (index as u64, entry.clone(), proof)
        }
        (None, None) => {
            return Err(CliError::Input(
                "--document needs --proof (GET /v1/documents/{id}/proof) or --tiles".into(),
            ))
        }
    };
    let parsed = Entry::parse(&entry).map_err(|e| failed(format!("entry {index}: {e}")))?;
    let Entry::Document {
        number,
        signed_sha256,
        ..
    } = &parsed
    else {
        return Err(failed(format!("entry {index} is not a document's")));
    };
    if let Some(digest) = &digest {
        if digest != signed_sha256 {
            return Err(failed(format!(
                "the signature file is not the one entry {index} ({number}) recorded: SHA-256 \
                 {digest}, recorded {signed_sha256}"
            )));
        }
    }
    tlog::verify_inclusion(
        index,
        checkpoint.size,
        &tlog::leaf_hash(&entry),
        &proof,
        &checkpoint.root,
    )
    .map_err(|e| failed(format!("entry {index}: {e}")))?;
    Ok(vec![format!(
        "ok: document {number} is entry {index}, in the checkpoint at {}{}",
        checkpoint.size,
        if digest.is_some() {
            ", and the signature file is the one it recorded"
        } else {
            ""
        }
    )])
}

async fn audit(args: &AuditArgs) -> Result<Vec<String>, CliError> {
    let base = args.url.trim_end_matches('/');
    let fetcher = crate::verify::Fetcher::default();
    let get = |path: String| {
        let fetcher = fetcher.clone();
        let url = format!("{base}{path}");
        async move { fetcher.get(&url).await.map_err(failed) }
    };
    let served_key = String::from_utf8_lossy(&get("/log/key".into()).await?).into_owned();
    let key = match &args.key {
        Some(path) => {
            let pinned = key_from(&read_text(path)?)?;
            if key_from(&served_key)? != pinned {
                return Err(failed(format!(
                    "the service publishes another log key: {}",
                    served_key.trim()
                )));
            }
            pinned
        }
        None => key_from(&served_key)?,
    };
    let note = String::from_utf8_lossy(&get("/log/checkpoint".into()).await?).into_owned();
    let checkpoint = open_checkpoint(&note, &key, "the checkpoint")?;
    let started = std::time::Instant::now();
    let wanted: Vec<Tile> = (0..=MAX_TILE_LEVEL)
        .map(Some)
        .chain([None])
        .flat_map(|level| tlog::tiles_at(level, checkpoint.size))
        .collect();
    let downloaded = super::log_tiles::download(base, &wanted).await?;
    let mut tiles: HashMap<String, Vec<u8>> =
        wanted.iter().map(Tile::path).zip(downloaded).collect();
    let tile_count = tiles.len();
    // How long each part takes, for whoever audits a large log (bench/log.sh reports it).
    tracing::info!(
        tiles = tile_count,
        seconds = started.elapsed().as_secs_f64(),
        "log audit: tiles downloaded"
    );
    if let Some(dir) = &args.out {
        keep(dir, &served_key, &note, &tiles)?;
    }
    let started = std::time::Instant::now();
    // Each tile is read once: handed over, not copied.
    let replica = Replica::from_tiles(checkpoint.size, &checkpoint.root, |tile: &Tile| {
        tiles
            .remove(&tile.path())
            .ok_or_else(|| tlog::TlogError::BadTilePath(tile.path()))
    })
    .map_err(|e| failed(format!("the log does not add up: {e}")))?;
    tracing::info!(
        entries = checkpoint.size,
        seconds = started.elapsed().as_secs_f64(),
        "log audit: tree rebuilt and every tile compared"
    );
    let mut said = vec![
        format!(
            "ok: log key ({}) {}",
            key.algorithm().display_name(),
            key.encode()
        ),
        format!(
            "ok: {} entries rebuilt from {tile_count} tiles give the signed root",
            checkpoint.size,
        ),
    ];
    // A fork against what the auditor kept is the first thing to say: it is proof, signed by
    // the log's own key, that the log was rewritten.
    if let Some(path) = &args.previous_checkpoint {
        said.push(extends_previous(path, &key, &checkpoint, &replica)?);
    }
    let started = std::time::Instant::now();
    said.push(super::log_entries::check(replica.entries())?);
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "log audit: every entry read"
    );
    if args.documents {
        said.push(check_documents(&replica, get).await?);
    }
    Ok(said)
}

/// The checkpoint kept at `path` is a prefix of `checkpoint`'s tree: the consistency proof is
/// made from the replica and checked against both signed roots.
fn extends_previous(
    path: &Path,
    key: &NoteKey,
    checkpoint: &Checkpoint,
    replica: &Replica,
) -> Result<String, CliError> {
    let previous = open_checkpoint(&read_text(path)?, key, "the previous checkpoint")?;
    let proof = replica
        .consistency(previous.size, checkpoint.size)
        .map_err(|e| failed(e.to_string()))?;
    tlog::verify_consistency(
        previous.size,
        checkpoint.size,
        &previous.root,
        &checkpoint.root,
        &proof,
    )
    .map_err(|e| {
        failed(format!(
            "the previous checkpoint (size {}): {e}",
            previous.size
        ))
    })?;
    Ok(format!(
        "ok: the log at {} extends the previous checkpoint at {}",
        checkpoint.size, previous.size
    ))
}

/// `--documents`: the service's record of each document the log names still proves in.
async fn check_documents<F, Fut>(replica: &Replica, get: F) -> Result<String, CliError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, CliError>>,
{
    let mut checked = 0;
    for (index, bytes) in replica.entries().iter().enumerate() {
        let Ok(Entry::Document { number, sha256, .. }) = Entry::parse(bytes) else {
            continue;
        };
        let body = get(format!("/v1/documents/by-number/{number}"))
            .await
            .map_err(|e| {
                failed(format!(
                    "entry {index}: document {number} is not served: {e}"
                ))
            })?;
        let record: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| failed(format!("entry {index}: document {number}: {e}")))?;
        if record["sha256"].as_str() != Some(sha256.as_str())
            || record["log"]["index"].as_u64() != Some(index as u64)
            || record["log"]["included"] != true
        {
            return Err(failed(format!(
                "entry {index}: document {number} as stored is not what the log recorded ({})",
                record["log"]["detail"].as_str().unwrap_or("no log record")
            )));
        }
        checked += 1;
    }
    Ok(format!(
        "ok: {checked} documents as stored are the ones the log recorded"
    ))
}

/// Writes what was downloaded where `log verify --tiles` reads it.
fn keep(
    dir: &Path,
    key: &str,
    note: &str,
    tiles: &HashMap<String, Vec<u8>>,
) -> Result<(), CliError> {
    let write = |path: PathBuf, bytes: &[u8]| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::Io(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(&path, bytes).map_err(|e| CliError::Io(format!("{}: {e}", path.display())))
    };
    write(dir.join("key"), key.as_bytes())?;
    write(dir.join("checkpoint"), note.as_bytes())?;
    for (path, bytes) in tiles {
        write(dir.join(path), bytes)?;
    }
    Ok(())
}
