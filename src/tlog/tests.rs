//! The log's arithmetic against published vectors (RFC 6962's reference tree, Go's
//! `sumdb/note` example) and against itself over every tree size 1..300 and across tile
//! boundaries.

use std::ops::Range;

use super::*;
use crate::crypto::{KeyAlgorithm, SigningKey};

fn h(hex_text: &str) -> Hash {
    Hash::from_slice(&hex::decode(hex_text).unwrap_or_default()).unwrap_or(Hash([0xee; 32]))
}

/// The eight leaves of the Certificate Transparency reference tests (RFC 6962's test tree).
const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
/// Their roots for sizes 0..=8.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn ct_leaf_hashes() -> Vec<Hash> {
    CT_LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap_or_default()))
        .collect()
}

/// A log in memory, appended to exactly as the store does it.
struct MemoryLog {
    stored: Vec<Hash>,
    size: u64,
}

impl MemoryLog {
    fn new() -> MemoryLog {
        MemoryLog {
            stored: Vec::new(),
            size: 0,
        }
    }

    fn read(&self, indexes: &[u64]) -> Vec<Hash> {
        indexes.iter().map(|&i| self.stored[i as usize]).collect()
    }

    fn append(&mut self, leaf: Hash) {
        let siblings = self.read(&closing_siblings(self.size));
        let new = hashes_to_store(self.size, leaf, &siblings).unwrap_or_default();
        assert_eq!(self.stored.len() as u64, stored_index(0, self.size));
        self.stored.extend(new);
        self.size += 1;
        assert_eq!(self.stored.len() as u64, stored_count(self.size));
    }

    fn hashes_of(&self, ranges: &[Range<u64>]) -> Vec<Hash> {
        let recipe = Recipe::for_ranges(ranges);
        recipe
            .hashes(&self.read(recipe.indexes()))
            .unwrap_or_default()
    }

    fn root(&self, size: u64) -> Hash {
        self.hashes_of(std::slice::from_ref(&(0..size)))[0]
    }

    fn inclusion(&self, index: u64, size: u64) -> Vec<Hash> {
        self.hashes_of(&inclusion_ranges(index, size).unwrap_or_default())
    }

    fn consistency(&self, old: u64, new: u64) -> Vec<Hash> {
        self.hashes_of(&consistency_ranges(old, new).unwrap_or_default())
    }
}

fn log_of(leaves: &[Hash]) -> MemoryLog {
    let mut log = MemoryLog::new();
    for leaf in leaves {
        log.append(*leaf);
    }
    log
}

#[test]
fn the_reference_tree_has_rfc_6962s_roots_at_every_size() {
    let leaves = ct_leaf_hashes();
    let log = log_of(&leaves);
    for size in 0..=8 {
        assert_eq!(
            root_of(&leaves[..size]),
            h(CT_ROOTS[size]),
            "root_of {size}"
        );
        assert_eq!(log.root(size as u64), h(CT_ROOTS[size]), "stored {size}");
    }
    assert_eq!(Hash::empty(), h(CT_ROOTS[0]));
}

#[test]
fn inclusion_proofs_match_the_reference_vectors() {
    // (leaf index, tree size, proof): the CT reference tests' vectors (1-based there).
    let vectors: [(u64, u64, &[&str]); 4] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let leaves = ct_leaf_hashes();
    let log = log_of(&leaves);
    for (index, size, proof) in vectors {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(log.inclusion(index, size), want, "leaf {index} of {size}");
        let root = h(CT_ROOTS[size as usize]);
        assert_eq!(
            verify_inclusion(index, size, &leaves[index as usize], &want, &root),
            Ok(())
        );
        assert!(
            verify_inclusion(index, size, &leaves[index as usize], &want, &h(CT_ROOTS[0])).is_err()
        );
    }
}

#[test]
fn consistency_proofs_match_the_reference_vectors() {
    let vectors: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let log = log_of(&ct_leaf_hashes());
    for (old, new, proof) in vectors {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(log.consistency(old, new), want, "{old} → {new}");
        let (old_root, new_root) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &want),
            Ok(())
        );
        if old != new {
            let forked = h(CT_ROOTS[old as usize - 1]);
            assert!(verify_consistency(old, new, &forked, &new_root, &want).is_err());
        }
    }
}

fn test_leaves(count: u64) -> Vec<Hash> {
    (0..count)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

#[test]
fn every_inclusion_proof_in_trees_of_1_to_300_checks_and_a_wrong_one_does_not() {
    let leaves = test_leaves(300);
    let log = log_of(&leaves);
    for size in 1..=300u64 {
        let root = root_of(&leaves[..size as usize]);
        assert_eq!(log.root(size), root, "size {size}");
        for index in 0..size {
            let leaf = &leaves[index as usize];
            let proof = log.inclusion(index, size);
            assert_eq!(verify_inclusion(index, size, leaf, &proof, &root), Ok(()));
            // Every way of lying fails: another leaf or index, a changed, dropped or extra hash.
            let other = &leaves[((index + 1) % size) as usize];
            if size > 1 {
                assert!(verify_inclusion(index, size, other, &proof, &root).is_err());
                assert!(verify_inclusion((index + 1) % size, size, leaf, &proof, &root).is_err());
            }
            // (Another size is not a lie the proof can catch: leaf 0 of 3 and of 4 have proofs
            // of one shape. The size is bound to the root by the signed checkpoint.)
            if let Some((_, shorter)) = proof.split_last() {
                assert!(verify_inclusion(index, size, leaf, shorter, &root).is_err());
                let mut changed = proof.clone();
                changed[0].0[31] ^= 1;
                assert!(verify_inclusion(index, size, leaf, &changed, &root).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion(index, size, leaf, &longer, &root).is_err());
        }
        assert!(log.inclusion(size, size).is_empty());
        assert!(inclusion_ranges(size, size).is_err());
    }
}

#[test]
fn every_consistency_proof_between_trees_of_1_to_300_checks_and_a_fork_does_not() {
    let leaves = test_leaves(300);
    let log = log_of(&leaves);
    let roots: Vec<Hash> = (0..=300).map(|n| log.root(n)).collect();
    // A fork: the same log with leaf 17 replaced.
    let mut forked_leaves = leaves.clone();
    forked_leaves[17] = leaf_hash(b"a rewritten entry");
    let forked = log_of(&forked_leaves);
    for new in 1..=300u64 {
        // Every old size for the small trees, a stride for the big ones: 3,000 pairs in all.
        let step = if new <= 64 { 1 } else { 7 };
        for old in (1..=new).step_by(step) {
            let proof = log.consistency(old, new);
            let (o, n) = (&roots[old as usize], &roots[new as usize]);
            assert_eq!(
                verify_consistency(old, new, o, n, &proof),
                Ok(()),
                "{old}→{new}"
            );
            if old > 17 {
                // The forked log's honest proof cannot join the old checkpoint to its head.
                let forked_proof = forked.consistency(old, new);
                let forked_root = forked.root(new);
                assert!(
                    verify_consistency(old, new, o, &forked_root, &forked_proof).is_err(),
                    "{old}→{new} fork"
                );
            }
            if old < new {
                let mut changed = proof.clone();
                if let Some(first) = changed.first_mut() {
                    first.0[0] ^= 0x80;
                    assert!(verify_consistency(old, new, o, n, &changed).is_err());
                }
            }
        }
    }
    assert_eq!(
        verify_consistency(0, 5, &Hash::empty(), &roots[5], &[]),
        Ok(())
    );
    assert!(verify_consistency(5, 5, &roots[5], &roots[4], &[]).is_err());
    assert!(consistency_ranges(6, 5).is_err());
}

#[test]
fn tile_paths_are_c2sps_and_one_tile_has_one_name() {
    let cases = [
        (Some(0), 1_234_067, 256, "tile/0/x001/x234/067"),
        (Some(0), 0, 256, "tile/0/000"),
        (Some(1), 5, 17, "tile/1/005.p/17"),
        (Some(2), 1000, 256, "tile/2/x001/000"),
        (None, 3, 1, "tile/entries/003.p/1"),
        (None, 999, 256, "tile/entries/999"),
    ];
    for (level, index, width, path) in cases {
        let tile = Tile {
            level,
            index,
            width,
        };
        assert_eq!(tile.path(), path);
        assert_eq!(Tile::parse(path), Ok(tile), "{path}");
    }
    for bad in [
        "tile/0/1",
        "tile/00/001",
        "tile/6/001",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/07",
        "tile/0/001/002",
        "tile/0/x000/001",
        "tile/0/xx01/001",
        "tile/0/x1/001",
        "tile/-1/001",
        "tile/0/",
        "tile/entries",
        "tiles/0/001",
        "tile/0/x99999999999999999999/000",
    ] {
        assert!(Tile::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn tiles_hold_the_stored_hashes_across_tile_boundaries() {
    // Two full level-1 tiles need 2 × 65,536 leaves; 70,000 crosses the first level-1 boundary
    // and ends inside a partial one at both levels.
    let size = 70_000u64;
    let leaves = test_leaves(size);
    let log = log_of(&leaves);
    let level0 = tiles_at(Some(0), size);
    assert_eq!(level0.len(), 274);
    assert_eq!(level0.last().map(|t| t.width), Some(70_000 % 256));
    let level1 = tiles_at(Some(1), size);
    assert_eq!(
        level1.iter().map(|t| t.width).collect::<Vec<_>>(),
        vec![256, 17]
    );
    // One complete subtree of 65,536 leaves: a level-2 tile of width 1.
    assert_eq!(
        tiles_at(Some(2), size)
            .iter()
            .map(|t| t.width)
            .collect::<Vec<_>>(),
        vec![1]
    );
    assert!(tiles_at(Some(3), size).is_empty());
    for tile in level0.iter().chain(&level1) {
        let hashes = log.read(&tile.stored_indexes());
        let leaves_in = tile.leaves();
        let span = 1u64 << (tile.level.unwrap_or(0) * TILE_HEIGHT);
        for (i, hash) in hashes.iter().enumerate() {
            let first = leaves_in.start + i as u64 * span;
            let want = root_of(&leaves[first as usize..(first + span) as usize]);
            assert_eq!(*hash, want, "{} hash {i}", tile.path());
        }
        assert!(tile.available_at(size));
    }
    let last = Tile {
        level: Some(1),
        index: 1,
        width: 18,
    };
    assert!(!last.available_at(size));
    // A narrower partial tile is a prefix of the wider one: still served.
    assert!(Tile { width: 3, ..last }.available_at(size));
}

#[test]
fn entry_bundles_round_trip_and_refuse_cut_bytes() {
    let entries = vec![b"one".to_vec(), Vec::new(), vec![7u8; 300]];
    let bytes = bundle(&entries).unwrap_or_default();
    assert_eq!(bytes.len(), 2 * 3 + 3 + 300);
    let back = unbundle(&bytes).unwrap_or_default();
    assert_eq!(back, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(unbundle(&bytes[..bytes.len() - 1]).is_err());
    assert!(unbundle(&[0]).is_err());
    assert!(bundle(&[vec![0; 70_000]]).is_err());
}

// Go's `sumdb/note` documentation example.
const PETER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn gos_example_note_opens_and_a_changed_one_does_not() {
    let key = NoteKey::parse(PETER_KEY);
    let Ok(key) = key else {
        panic!("{key:?}");
    };
    assert_eq!(key.encode(), PETER_KEY);
    let note = format!("{PETER_TEXT}\n{PETER_SIGNATURE}");
    assert_eq!(open_note(&note, std::slice::from_ref(&key)), Ok(PETER_TEXT));
    let changed = note.replace("cryptography", "cryptographY");
    assert!(open_note(&changed, std::slice::from_ref(&key)).is_err());
    // A key of another name or id is not this one; a note nobody known signed is refused.
    let other = NoteKey::ed25519("PeterNeumann2", &[1; 32]).unwrap_or_else(|e| panic!("{e}"));
    assert!(open_note(&note, &[other]).is_err());
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert!(NoteKey::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_signed_checkpoint_opens_with_its_key_only_and_reads_back() {
    let signing = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap_or_else(|e| panic!("{e}"));
    let key =
        NoteKey::for_signing_key("qoltanba.test/log", &signing).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(NoteKey::parse(&key.encode()), Ok(key.clone()));
    let checkpoint = Checkpoint {
        origin: "qoltanba.test/log".into(),
        size: 300,
        root: root_of(&test_leaves(300)),
        extensions: Vec::new(),
    };
    let note = sign_note(&checkpoint.text(), &key, &signing).unwrap_or_else(|e| panic!("{e}"));
    let text = open_note(&note, std::slice::from_ref(&key)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Checkpoint::parse(text), Ok(checkpoint.clone()));
    // Another key's signature line is passed over, but the log's own must be there and good.
    let stranger = format!(
        "{note}\u{2014} witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    );
    assert!(open_note(&stranger, std::slice::from_ref(&key)).is_ok());
    let twice = format!("{note}{}", note.lines().last().unwrap_or_default()) + "\n";
    assert!(open_note(&twice, std::slice::from_ref(&key)).is_err());
    let rewritten = note.replace("\n300\n", "\n301\n");
    assert!(open_note(&rewritten, std::slice::from_ref(&key)).is_err());
    let other = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap_or_else(|e| panic!("{e}"));
    let other_key =
        NoteKey::for_signing_key("qoltanba.test/log", &other).unwrap_or_else(|e| panic!("{e}"));
    assert!(open_note(&note, &[other_key]).is_err());
    // Only Ed25519 signs notes.
    let rsa = SigningKey::generate(KeyAlgorithm::P256).unwrap_or_else(|e| panic!("{e}"));
    assert!(NoteKey::for_signing_key("x", &rsa).is_err());
}

#[test]
fn checkpoints_are_read_strictly() {
    let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    assert!(Checkpoint::parse(&format!("example.com/log\n0\n{root}\n")).is_ok());
    let parsed = Checkpoint::parse(&format!("example.com/log\n12\n{root}\nextra line\n"));
    assert_eq!(
        parsed.map(|c| c.extensions),
        Ok(vec!["extra line".to_string()])
    );
    for bad in [
        format!("example.com/log\n012\n{root}\n"),
        format!("example.com/log\n-1\n{root}\n"),
        format!("\n12\n{root}\n"),
        format!("example.com/log\n12\n{root}"),
        "example.com/log\n12\nAAAA\n".to_string(),
        "example.com/log\n12\n".to_string(),
        format!("example.com/log\n12\n{root}\n\nafter a blank line\n"),
    ] {
        assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
    }
}
