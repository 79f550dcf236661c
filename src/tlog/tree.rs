//! RFC 9162's Merkle tree over SHA-256, kept as stored hashes of complete subtrees.
//!
//! Storage follows the layout of Go's `sumdb/tlog` (the C2SP tlog-tiles lineage): appending
//! leaf `n` stores its leaf hash and the hash of every complete subtree that leaf closes, each at a
//! dense index ([`stored_index`]). Any subtree hash a proof or a tree head needs is then a fold
//! of at most log₂(n) stored hashes, and a tile is a run of stored hashes of one level. Nothing is
//! ever rewritten: the table only grows, which is what lets triggers refuse updates.

use std::ops::Range;

use super::TlogError;
use crate::crypto::sha256_parts;

/// A SHA-256 tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The root of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1).
    pub fn empty() -> Hash {
        Hash(sha256_parts(&[]))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// The hash of a leaf: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    Hash(sha256_parts(&[&[0x00], entry]))
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(sha256_parts(&[&[0x01], &left.0, &right.0]))
}

/// Where the hash of the complete subtree `n` of height `level` (leaves `n·2^level ..
/// (n+1)·2^level`) is stored. Level `l`'s hash `n` follows level `l+1`'s hash `2n+1`'s leaf,
/// so the hashes closed by leaf `i` come right after it, smallest subtree first.
pub fn stored_index(level: u32, n: u64) -> u64 {
    // The last leaf of the subtree closes it.
    let last_leaf = ((n + 1) << level) - 1;
    // Leaf i is stored after every hash of leaves 0..i: i leaves, plus one per complete subtree
    // among them (i/2 + i/4 + …).
    let mut before = 0;
    let mut i = last_leaf;
    while i > 0 {
        before += i;
        i >>= 1;
    }
    before + u64::from(level)
}

/// Which leaf's append stored the hash at stored index `index`, and at which place among the
/// hashes that leaf stored (0: its own hash; `l`: the subtree of height `l` it closed). The
/// store keeps each leaf's hashes in the leaf's row, so this is where to read one.
pub fn stored_place(index: u64) -> (u64, u32) {
    // stored_index(0, n) grows with n and lies in [n, 2n]: the owner is the last leaf whose
    // own hash is stored at or before `index`.
    let (mut lo, mut hi) = (index / 2, index);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if stored_index(0, mid) <= index {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (lo, (index - stored_index(0, lo)) as u32)
}

/// Where the hash of the complete subtree `n` of height `level` is kept: the leaf that closed
/// it (its last), at place `level` among that leaf's hashes (see [`stored_place`]).
pub fn subtree_place(level: u32, n: u64) -> (u64, u32) {
    (((n + 1) << level) - 1, level)
}

/// How many hashes a tree of `size` leaves has stored.
pub fn stored_count(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let last = size - 1;
    stored_index(0, last) + 1 + u64::from(size.trailing_zeros())
}

/// The hashes to store when leaf `n` (0-based) with `leaf` as its hash is appended: the leaf
/// hash, then the hash of each complete subtree it closes. `left_siblings` are the stored hashes
/// at [`closing_siblings`]`(n)`, in that order.
pub fn hashes_to_store(n: u64, leaf: Hash, left_siblings: &[Hash]) -> Result<Vec<Hash>, TlogError> {
    let closed = (n + 1).trailing_zeros() as usize;
    if left_siblings.len() != closed {
        return Err(TlogError::Storage(format!(
            "leaf {n} closes {closed} subtrees but {} sibling hashes were given",
            left_siblings.len()
        )));
    }
    let mut out = Vec::with_capacity(closed + 1);
    let mut hash = leaf;
    out.push(hash);
    for sibling in left_siblings {
        hash = node_hash(sibling, &hash);
        out.push(hash);
    }
    Ok(out)
}

/// The stored indexes of the left siblings leaf `n` is combined with as it closes subtrees:
/// level 0 first.
pub fn closing_siblings(n: u64) -> Vec<u64> {
    let closed = (n + 1).trailing_zeros();
    (0..closed)
        .map(|level| stored_index(level, (n >> level) - 1))
        .collect()
}

/// The largest power of two strictly less than `n` (n ≥ 2): RFC 9162's split point `k`.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees `[lo, hi)` falls into, left to right, as (level, n): RFC 9162's MTH of
/// a range whose start is aligned, as every range a proof or a tree head names is.
fn complete_subtrees(range: &Range<u64>) -> Vec<(u32, u64)> {
    let (mut lo, hi) = (range.start, range.end);
    let mut out = Vec::new();
    while lo < hi {
        // The largest power of two that fits in what is left and that `lo` is aligned to.
        let fits = 63 - (hi - lo).leading_zeros();
        let aligned = if lo == 0 { 63 } else { lo.trailing_zeros() };
        let level = fits.min(aligned);
        out.push((level, lo >> level));
        lo += 1 << level;
    }
    out
}

/// Which stored hashes a set of subtree ranges needs, and how to fold them back.
///
/// Reading is the caller's (a database, downloaded tiles, memory), so the tree code stays
/// synchronous and every read is one batch: [`Recipe::indexes`], then [`Recipe::hashes`].
#[derive(Debug)]
pub struct Recipe {
    /// Per range, how many of `indexes` it takes.
    parts: Vec<usize>,
    indexes: Vec<u64>,
}

impl Recipe {
    pub fn for_ranges(ranges: &[Range<u64>]) -> Recipe {
        let mut parts = Vec::with_capacity(ranges.len());
        let mut indexes = Vec::new();
        for range in ranges {
            let subtrees = complete_subtrees(range);
            parts.push(subtrees.len());
            indexes.extend(subtrees.iter().map(|&(l, n)| stored_index(l, n)));
        }
        Recipe { parts, indexes }
    }

    /// The stored hashes to read, in the order [`Recipe::hashes`] wants them.
    pub fn indexes(&self) -> &[u64] {
        &self.indexes
    }

    /// Each range's Merkle tree hash, from the stored hashes read at [`Recipe::indexes`].
    pub fn hashes(&self, stored: &[Hash]) -> Result<Vec<Hash>, TlogError> {
        if stored.len() != self.indexes.len() {
            return Err(TlogError::Storage(format!(
                "{} stored hashes read where {} were asked for",
                stored.len(),
                self.indexes.len()
            )));
        }
        let mut out = Vec::with_capacity(self.parts.len());
        let mut rest = stored;
        for &count in &self.parts {
            let (mine, after) = rest.split_at(count);
            rest = after;
            // The rightmost subtrees are the smallest: fold from the right, as MTH recurses.
            let mut iter = mine.iter().rev();
            let Some(last) = iter.next() else {
                out.push(Hash::empty());
                continue;
            };
            out.push(iter.fold(*last, |right, left| node_hash(left, &right)));
        }
        Ok(out)
    }
}

/// The ranges whose hashes make the inclusion proof of leaf `index` in a tree of `size`,
/// in proof order (RFC 9162 §2.1.3.1, PATH): the leaf's sibling first.
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<Range<u64>>, TlogError> {
    if index >= size {
        return Err(TlogError::OutOfRange(format!(
            "leaf {index} is not in a tree of {size}"
        )));
    }
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            out.push(lo + k..hi);
            hi = lo + k;
        } else {
            out.push(lo..lo + k);
            lo += k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The ranges whose hashes make the consistency proof from a tree of `old` leaves to one of
/// `new` (RFC 9162 §2.1.4.1, PROOF/SUBPROOF), in proof order.
pub fn consistency_ranges(old: u64, new: u64) -> Result<Vec<Range<u64>>, TlogError> {
    if old > new {
        return Err(TlogError::OutOfRange(format!(
            "a tree of {old} cannot be a prefix of one of {new}"
        )));
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let (mut lo, mut hi, mut m) = (0, new, old);
    let mut whole = true; // SUBPROOF's b: the old tree is still the whole of this subtree's left
    loop {
        if m == hi - lo {
            if !whole {
                out.push(lo..hi);
            }
            break;
        }
        let k = split(hi - lo);
        if m <= k {
            out.push(lo + k..hi);
            hi = lo + k;
        } else {
            out.push(lo..lo + k);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    out.reverse();
    Ok(out)
}

/// RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`?
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::BadProof(format!(
            "leaf {index} is not in a tree of {size}"
        )));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(TlogError::BadProof(
                "the inclusion proof is too long".into(),
            ));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(TlogError::BadProof(
            "the inclusion proof is too short".into(),
        ));
    }
    if r != *root {
        return Err(TlogError::BadProof(format!(
            "leaf {index} with this proof gives root {}, not the checkpoint's {}",
            r.to_hex(),
            root.to_hex()
        )));
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `old` leaves with `old_root` is a prefix of
/// the tree of `new` leaves with `new_root`?
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), TlogError> {
    if old > new {
        return Err(TlogError::BadProof(format!(
            "a tree of {old} cannot be a prefix of one of {new}"
        )));
    }
    if old == new {
        // Nothing to prove but equality: a log that shows two roots for one size has forked.
        return if !proof.is_empty() {
            Err(TlogError::BadProof(
                "a proof between equal sizes must be empty".into(),
            ))
        } else if old_root != new_root {
            Err(TlogError::BadProof(format!(
                "two different roots for size {old}: the log has forked"
            )))
        } else {
            Ok(())
        };
    }
    if old == 0 {
        // The empty tree is a prefix of every tree.
        return if proof.is_empty() && *old_root == Hash::empty() {
            Ok(())
        } else {
            Err(TlogError::BadProof(
                "the empty tree needs an empty proof and the empty root".into(),
            ))
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(TlogError::BadProof("the consistency proof is empty".into()));
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(TlogError::BadProof(
                "the consistency proof is too long".into(),
            ));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(TlogError::BadProof(
            "the consistency proof is too short".into(),
        ));
    }
    if fr != *old_root {
        return Err(TlogError::BadProof(format!(
            "the proof does not lead back to the old root of size {old}: the log has forked or \
             been rewritten"
        )));
    }
    if sr != *new_root {
        return Err(TlogError::BadProof(format!(
            "the proof does not lead to the new root of size {new}"
        )));
    }
    Ok(())
}

/// The root of a tree held whole in memory: leaf hashes in order. For offline audits, which
/// have every leaf anyway, and tests.
pub fn root_of(leaves: &[Hash]) -> Hash {
    // Complete subtrees left to right on a stack, merged as they pair up: one pass, log n memory.
    let mut stack: Vec<(u32, Hash)> = Vec::new();
    for leaf in leaves {
        let mut item = (0u32, *leaf);
        while let Some(&(level, left)) = stack.last() {
            if level != item.0 {
                break;
            }
            stack.pop();
            item = (level + 1, node_hash(&left, &item.1));
        }
        stack.push(item);
    }
    let mut iter = stack.into_iter().rev().map(|(_, h)| h);
    match iter.next() {
        None => Hash::empty(),
        Some(last) => iter.fold(last, |right, left| node_hash(&left, &right)),
    }
}

#[cfg(test)]
mod place_tests {
    use super::*;

    /// Every stored index of the first 70,000 leaves (past the 2^16 boundary) is found again in
    /// the row of the leaf that stored it, at its place; and each subtree's place is where its
    /// stored index says.
    #[test]
    fn every_stored_hash_is_found_in_the_leaf_that_stored_it() {
        let mut next = 0;
        for leaf in 0..70_000u64 {
            let stored = 1 + (leaf + 1).trailing_zeros();
            for place in 0..stored {
                assert_eq!(stored_place(next), (leaf, place), "stored index {next}");
                let subtree = (leaf + 1) / (1 << place) - 1;
                assert_eq!(subtree_place(place, subtree), (leaf, place));
                assert_eq!(stored_index(place, subtree), next);
                next += 1;
            }
        }
        assert_eq!(next, stored_count(70_000));
    }
}
