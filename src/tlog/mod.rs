//! The transparency log: an append-only Merkle tree (RFC 9162) over every document and
//! certificate the service issues, served as C2SP tlog-tiles and committed to by signed
//! checkpoints (C2SP tlog-checkpoint in a C2SP signed-note), so that anyone holding a checkpoint
//! can check inclusion and consistency without trusting the database.
//!
//! This room is the arithmetic and the formats only; where the hashes live is the store's.

mod checkpoint;
mod entry;
mod note;
mod replica;
mod tile;
mod tree;

pub use checkpoint::Checkpoint;
pub use entry::Entry;
pub use note::{
    check_name as check_key_name, open as open_note, sign as sign_note, NoteAlgorithm, NoteKey,
};
pub use replica::Replica;
pub use tile::{bundle, tiles_at, unbundle, Tile, MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH};
pub use tree::{
    closing_siblings, consistency_ranges, hashes_to_store, inclusion_ranges, leaf_hash, node_hash,
    root_of, stored_count, stored_index, stored_place, subtree_place, verify_consistency,
    verify_inclusion, Hash, Recipe,
};

/// Everything that can go wrong in this room.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlogError {
    #[error("not in the log: {0}")]
    OutOfRange(String),
    #[error("the proof does not check: {0}")]
    BadProof(String),
    #[error("not a tile path: {0}")]
    BadTilePath(String),
    #[error("bad log entry: {0}")]
    BadEntry(String),
    #[error("bad log key: {0}")]
    BadKey(String),
    #[error("bad signed note: {0}")]
    BadNote(String),
    #[error("bad checkpoint: {0}")]
    BadCheckpoint(String),
    #[error("the stored hashes do not fit: {0}")]
    Storage(String),
}

#[cfg(test)]
mod tests;
