//! A log rebuilt from its tiles alone, as an auditor holds it: every entry bundle read, every
//! leaf hash recomputed from its entry, every stored hash recomputed and compared with the hash
//! tiles the log served, and the root compared with a signed checkpoint's. What it holds can
//! then answer proofs without the log.

use super::tile::{tiles_at, Tile, MAX_TILE_LEVEL, TILE_HEIGHT};
use super::tree::{
    closing_siblings, consistency_ranges, hashes_to_store, inclusion_ranges, leaf_hash,
    stored_count, Hash, Recipe,
};
use super::{unbundle, TlogError};

/// A log of `size` leaves, rebuilt and checked.
#[derive(Debug)]
pub struct Replica {
    entries: Vec<Vec<u8>>,
    stored: Vec<Hash>,
}

impl Replica {
    /// Rebuilds the log of `size` leaves whose root a checkpoint says is `root`, reading each
    /// tile (hash tiles of every level, entry bundles) with `read`.
    pub fn from_tiles(
        size: u64,
        root: &Hash,
        mut read: impl FnMut(&Tile) -> Result<Vec<u8>, TlogError>,
    ) -> Result<Replica, TlogError> {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for bundle in tiles_at(None, size) {
            let bytes = read(&bundle)?;
            let read = unbundle(&bytes)
                .map_err(|e| TlogError::BadEntry(format!("{}: {e}", bundle.path())))?;
            if read.len() as u64 != bundle.width {
                return Err(TlogError::BadEntry(format!(
                    "{} holds {} entries, not {}",
                    bundle.path(),
                    read.len(),
                    bundle.width
                )));
            }
            entries.extend(read.into_iter().map(<[u8]>::to_vec));
        }
        // Leaf hashes are independent of each other: on every core (about half of the rebuild's
        // time at a million entries); the tree above them is one pass.
        let leaves = leaf_hashes(&entries);
        let mut replica = Replica {
            entries: Vec::with_capacity(entries.len()),
            stored: Vec::with_capacity(stored_count(size) as usize),
        };
        for (entry, leaf) in entries.into_iter().zip(leaves) {
            replica.append(entry, leaf)?;
        }
        for level in 0..=MAX_TILE_LEVEL {
            for tile in tiles_at(Some(level), size) {
                let served = read(&tile)?;
                let ours: Vec<u8> = tile
                    .stored_indexes()
                    .iter()
                    .flat_map(|&i| replica.stored[i as usize].0)
                    .collect();
                if served != ours {
                    let at = served
                        .chunks(32)
                        .zip(ours.chunks(32))
                        .position(|(a, b)| a != b)
                        .unwrap_or(ours.len().min(served.len()) / 32);
                    let span = 1u64 << (level * TILE_HEIGHT);
                    let first_leaf = tile.leaves().start + at as u64 * span;
                    return Err(TlogError::BadProof(format!(
                        "{}: hash {at} (entries {first_leaf}..{}) is not the hash of the \
                         entries served",
                        tile.path(),
                        first_leaf + span
                    )));
                }
            }
        }
        let rebuilt = replica.root(size)?;
        if rebuilt != *root {
            return Err(TlogError::BadProof(format!(
                "the entries give root {}, the checkpoint says {}",
                rebuilt.to_hex(),
                root.to_hex()
            )));
        }
        Ok(replica)
    }

    /// Appends `entry`, whose leaf hash is `leaf`.
    fn append(&mut self, entry: Vec<u8>, leaf: Hash) -> Result<(), TlogError> {
        let n = self.entries.len() as u64;
        let siblings: Vec<Hash> = closing_siblings(n)
            .iter()
            .map(|&i| self.stored[i as usize])
            .collect();
        self.stored.extend(hashes_to_store(n, leaf, &siblings)?);
        self.entries.push(entry);
        debug_assert_eq!(self.stored.len() as u64, stored_count(n + 1));
        Ok(())
    }

    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    fn hashes_of(&self, ranges: &[std::ops::Range<u64>]) -> Result<Vec<Hash>, TlogError> {
        let recipe = Recipe::for_ranges(ranges);
        let stored: Vec<Hash> = recipe
            .indexes()
            .iter()
            .map(|&i| {
                self.stored.get(i as usize).copied().ok_or_else(|| {
                    TlogError::OutOfRange(format!("hash {i} is past the replica's tree"))
                })
            })
            .collect::<Result<_, _>>()?;
        recipe.hashes(&stored)
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TlogError> {
        if size > self.entries.len() as u64 {
            return Err(TlogError::OutOfRange(format!(
                "the replica has {} entries, not {size}",
                self.entries.len()
            )));
        }
        Ok(self.hashes_of(std::slice::from_ref(&(0..size)))?[0])
    }

    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
        self.root(size)?;
        self.hashes_of(&inclusion_ranges(index, size)?)
    }

    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, TlogError> {
        self.root(new)?;
        self.hashes_of(&consistency_ranges(old, new)?)
    }
}

/// Each entry's leaf hash, in order, computed on every core.
fn leaf_hashes(entries: &[Vec<u8>]) -> Vec<Hash> {
    let hash_all = |part: &[Vec<u8>]| part.iter().map(|e| leaf_hash(e)).collect::<Vec<Hash>>();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = entries.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = entries
            .chunks(chunk)
            .map(|part| (part, scope.spawn(move || hash_all(part))))
            .collect();
        workers
            .into_iter()
            // A worker only hashes; should its thread die anyway, its part is hashed here.
            .flat_map(|(part, worker)| worker.join().unwrap_or_else(|_| hash_all(part)))
            .collect()
    })
}
