//! The transparency log as the PKI keeps it (issue 17): checkpoints over the stored tree,
//! signed with the log's key (`log_key.rs`), never over one that does not extend the last
//! checkpoint; tiles, tree heads and proofs read from the stored hashes; and the check that the
//! stored log is still what was signed.

use crate::store::StoredCheckpoint;
use crate::tlog::{self, Checkpoint, Hash, Recipe, Tile, TlogError};

use super::log_key::LogSigner;
use super::{Pki, PkiError};

/// Where a registered document is in the log, and whether that can be proved now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInLog {
    pub index: u64,
    /// The entry as the log holds it.
    pub entry: Vec<u8>,
    /// The newest checkpoint, and the inclusion proof against it (None: the document came
    /// after it; the next one covers it).
    pub proved: Option<(StoredCheckpoint, LogProof)>,
    /// Whether the document's row as stored now, its entry and the proof lead to the
    /// checkpoint's root; why not, if not.
    pub verdict: Result<(), String>,
}

/// Hashes of a proof, in RFC 9162's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProof {
    pub hashes: Vec<Hash>,
}

/// The stored rows of leaves `range` (in order, as read) are all there; else which are not,
/// by index, so an auditor can go to the entry (a row deleted past the triggers).
fn missing_entries(
    indexes: impl IntoIterator<Item = u64>,
    range: std::ops::Range<u64>,
) -> Result<(), PkiError> {
    let present: std::collections::HashSet<u64> = indexes.into_iter().collect();
    if present.len() as u64 == range.end - range.start {
        return Ok(());
    }
    let missing: Vec<String> = range
        .filter(|i| !present.contains(i))
        .take(5)
        .map(|i| i.to_string())
        .collect();
    let (what, are) = if missing.len() == 1 {
        ("entry", "is")
    } else {
        ("entries", "are")
    };
    Err(PkiError::Log(format!(
        "log {what} {} {are} missing from the database (a row was deleted)",
        missing.join(", ")
    )))
}

/// A stored hash the log must have and has not is damage to the log, reported as such (not as
/// an internal storage fault).
fn damaged(e: crate::store::StoreError) -> PkiError {
    match e {
        crate::store::StoreError::Corrupt(m) => PkiError::Log(m),
        other => other.into(),
    }
}

impl From<TlogError> for PkiError {
    fn from(e: TlogError) -> Self {
        match e {
            // The caller asked for something the log does not have.
            TlogError::OutOfRange(_) | TlogError::BadTilePath(_) => {
                PkiError::invalid(e.to_string())
            }
            other => PkiError::Log(other.to_string()),
        }
    }
}

impl Pki {
    pub fn log_signer(&self) -> &LogSigner {
        &self.log
    }

    /// The root of the stored tree of `size` leaves.
    pub async fn log_root(&self, size: u64) -> Result<Hash, PkiError> {
        let hashes = self.log_hashes(std::slice::from_ref(&(0..size))).await?;
        hashes
            .first()
            .copied()
            .ok_or_else(|| PkiError::Log("no root".into()))
    }

    async fn log_hashes(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<Hash>, PkiError> {
        let recipe = Recipe::for_ranges(ranges);
        let stored = self
            .store
            .log_hashes(recipe.indexes())
            .await
            .map_err(damaged)?;
        Ok(recipe.hashes(&stored)?)
    }

    /// The newest signed checkpoint; one is signed first if the log has none yet.
    pub async fn log_checkpoint(&self) -> Result<StoredCheckpoint, PkiError> {
        if let Some(latest) = self.store.latest_log_checkpoint().await? {
            return Ok(latest);
        }
        self.sign_log_checkpoint(super::now()).await
    }

    /// Signs a checkpoint of the log as it is now, if it grew since the newest one (else that
    /// one). Refuses when the stored tree no longer has the newest checkpoint's root at its
    /// size: a log that was rewritten is never signed again.
    pub async fn sign_log_checkpoint(&self, now: i64) -> Result<StoredCheckpoint, PkiError> {
        if let Some(fault) = self.log_fault() {
            return Err(PkiError::Log(fault));
        }
        let size = self.store.log_size().await?;
        let latest = self.store.latest_log_checkpoint().await?;
        if let Some(latest) = &latest {
            if latest.size >= size {
                return Ok(latest.clone());
            }
            self.check_against(latest).await?;
        }
        let root = self.log_root(size).await?;
        let text = Checkpoint {
            origin: self.log.origin().to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
        .text();
        let note = self.log.sign(&text)?;
        let checkpoint = StoredCheckpoint {
            size,
            root,
            note,
            created_at: now,
        };
        // Another instance may have signed this size first: the same tree, so the same note.
        self.store.insert_log_checkpoint(&checkpoint).await?;
        Ok(checkpoint)
    }

    /// Whether the stored tree still has `checkpoint`'s root at its size, and the checkpoint
    /// is signed by this log's key.
    async fn check_against(&self, checkpoint: &StoredCheckpoint) -> Result<(), PkiError> {
        let text = self
            .log
            .open(&checkpoint.note)
            .map_err(|e| PkiError::Log(format!("checkpoint {}: {e}", checkpoint.size)))?;
        let signed = Checkpoint::parse(text)?;
        let stored_root = self.log_root(signed.size).await?;
        if signed.size != checkpoint.size || signed.root != checkpoint.root {
            return Err(PkiError::Log(format!(
                "the checkpoint row of size {} does not say what its note says",
                checkpoint.size
            )));
        }
        if stored_root != signed.root {
            return Err(PkiError::Log(format!(
                "the stored log no longer has the root its checkpoint of size {} signed: \
                 a row of the log was changed or removed",
                signed.size
            )));
        }
        Ok(())
    }

    /// The stored log against its newest checkpoint. `full` also rebuilds the whole tree from
    /// the entries as they read now and compares every stored hash with it (a start, and the
    /// periodic audit); without it, the root only (each `/readyz`). A failed full check is
    /// remembered and reported by every later one until a full check passes again.
    pub async fn check_log(&self, full: bool) -> Result<(), PkiError> {
        let result = self.check_log_now(full).await;
        let mut fault = self.log.fault.lock().unwrap_or_else(|p| p.into_inner());
        match (&result, full) {
            (Err(e), _) => *fault = Some(e.to_string()),
            (Ok(()), true) => *fault = None,
            (Ok(()), false) => {
                if let Some(known) = fault.as_ref() {
                    return Err(PkiError::Log(known.clone()));
                }
            }
        }
        result
    }

    /// What the last full check found wrong, if it did.
    fn log_fault(&self) -> Option<String> {
        self.log
            .fault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn check_log_now(&self, full: bool) -> Result<(), PkiError> {
        let Some(latest) = self.store.latest_log_checkpoint().await? else {
            return Ok(());
        };
        self.check_against(&latest).await?;
        if full {
            self.rebuild_and_compare(latest.size).await?;
        }
        Ok(())
    }

    /// Rebuilds the tree of `size` leaves from the stored entries, leaf by leaf as it was
    /// appended, and compares the hashes each leaf's row holds with the ones rebuilt: a changed,
    /// missing or extra row anywhere is named.
    async fn rebuild_and_compare(&self, size: u64) -> Result<(), PkiError> {
        const CHUNK: u64 = 4096;
        // Complete subtrees not yet closed, smallest (most recent) last.
        let mut frontier: Vec<Hash> = Vec::new();
        let mut start = 0;
        while start < size {
            let end = (start + CHUNK).min(size);
            let leaves = self.store.log_leaves(start..end).await?;
            missing_entries(leaves.iter().map(|l| l.index), start..end)?;
            for leaf in &leaves {
                let index = leaf.index;
                let closed = (index + 1).trailing_zeros() as usize;
                if frontier.len() < closed {
                    return Err(PkiError::Log("the log's frontier is short".into()));
                }
                let siblings: Vec<Hash> = frontier.iter().rev().take(closed).copied().collect();
                let rebuilt =
                    tlog::hashes_to_store(index, tlog::leaf_hash(&leaf.entry), &siblings)?;
                frontier.truncate(frontier.len() - closed);
                if let Some(top) = rebuilt.last() {
                    frontier.push(*top);
                }
                let first = tlog::stored_index(0, index);
                let stored = leaf.hashes.as_deref().unwrap_or_default();
                for (place, hash) in rebuilt.iter().enumerate() {
                    let at = first + place as u64;
                    match stored.get(place * 32..(place + 1) * 32) {
                        Some(bytes) if bytes == hash.0 => {}
                        Some(_) => {
                            return Err(PkiError::Log(format!(
                                "stored hash {at} (entry {index}) is not the hash of the log's \
                                 entries: the entry or the hash was changed"
                            )))
                        }
                        None => {
                            return Err(PkiError::Log(format!(
                                "stored hash {at} (entry {index}) is missing"
                            )))
                        }
                    }
                }
                if stored.len() != rebuilt.len() * 32 {
                    return Err(PkiError::Log(format!(
                        "entry {index} stores {} bytes of hashes where {} belong: its row was \
                         changed",
                        stored.len(),
                        rebuilt.len() * 32
                    )));
                }
            }
            start = end;
        }
        Ok(())
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub async fn log_inclusion(&self, index: u64, size: u64) -> Result<LogProof, PkiError> {
        self.log_within(size).await?;
        let ranges = tlog::inclusion_ranges(index, size)?;
        Ok(LogProof {
            hashes: self.log_hashes(&ranges).await?,
        })
    }

    /// The consistency proof from the tree of `from` leaves to the tree of `to`.
    pub async fn log_consistency(&self, from: u64, to: u64) -> Result<LogProof, PkiError> {
        self.log_within(to).await?;
        let ranges = tlog::consistency_ranges(from, to)?;
        Ok(LogProof {
            hashes: self.log_hashes(&ranges).await?,
        })
    }

    async fn log_within(&self, size: u64) -> Result<(), PkiError> {
        let have = self.store.log_size().await?;
        if size > have {
            return Err(PkiError::NotFound(format!(
                "the log has {have} entries, not {size}"
            )));
        }
        Ok(())
    }

    /// A tile's bytes, if the newest checkpoint's tree holds it (tiles are served only as far
    /// as a signed checkpoint commits to them).
    pub async fn log_tile(&self, tile: &Tile) -> Result<Option<Vec<u8>>, PkiError> {
        let size = self.log_checkpoint().await?.size;
        if !tile.available_at(size) {
            return Ok(None);
        }
        // Each tile read as one row: an auditor downloads thousands (store/log_tiles.rs).
        let leaves = tile.leaves();
        let read = match tile.level {
            Some(level) => {
                let first = tile.index * tlog::TILE_WIDTH;
                self.store
                    .log_tile_hashes(level * tlog::TILE_HEIGHT, first..first + tile.width)
                    .await
            }
            None => match self.store.log_entry_bundle(leaves.clone()).await {
                Ok(entries) => Ok(tlog::bundle(&entries)?),
                Err(e) => Err(e),
            },
        };
        match read {
            Ok(bytes) => Ok(Some(bytes)),
            // Only when something is wrong: a level-0 tile's rows one by one, to name a missing
            // entry (hash tiles of level 0 are read from the same rows as entry bundles).
            Err(crate::store::StoreError::Corrupt(why)) => {
                if tile.level.unwrap_or(0) == 0 {
                    let rows = self.store.log_entries(leaves.clone()).await?;
                    missing_entries(rows.iter().map(|(i, _)| *i), leaves)?;
                }
                Err(PkiError::Log(why))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A registered document's place in the log, with its inclusion proof against the newest
    /// checkpoint, checked from the document's row as it reads now. None: it has no entry
    /// (registered before the log existed).
    pub async fn document_in_log(
        &self,
        record: &crate::store::DocumentRecord,
    ) -> Result<Option<DocumentInLog>, PkiError> {
        let Some(&index) = self.store.log_indexes_of(&record.number).await?.first() else {
            return Ok(None);
        };
        let entry = self
            .log_entry(index)
            .await?
            .ok_or_else(|| PkiError::Log(format!("log entry {index} vanished")))?;
        let checkpoint = self.log_checkpoint().await?;
        if index >= checkpoint.size {
            return Ok(Some(DocumentInLog {
                index,
                entry,
                proved: None,
                verdict: Err(format!(
                    "after the newest checkpoint ({} entries); the next one covers it",
                    checkpoint.size
                )),
            }));
        }
        let proof = self.log_inclusion(index, checkpoint.size).await?;
        let ours = crate::store::document_log_entry(record).encode();
        let verdict = if ours != entry {
            Err(format!(
                "the document as stored is not what log entry {index} recorded: it was changed"
            ))
        } else {
            tlog::verify_inclusion(
                index,
                checkpoint.size,
                &tlog::leaf_hash(&ours),
                &proof.hashes,
                &checkpoint.root,
            )
            .map_err(|e| e.to_string())
        };
        Ok(Some(DocumentInLog {
            index,
            entry,
            proved: Some((checkpoint, proof)),
            verdict,
        }))
    }

    /// One leaf's bytes.
    pub async fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, PkiError> {
        Ok(self
            .store
            .log_entries(index..index.saturating_add(1))
            .await?
            .pop()
            .map(|(_, bytes)| bytes))
    }
}
