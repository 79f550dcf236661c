//! Go's reference implementation of tiled logs and signed notes (golang.org/x/mod/sumdb/tlog
//! and sumdb/note, driven by tests/interop/tlog_peer.go; `.ci/run` installs Go and the module
//! from Debian) accepts what our `tlog` room writes — tiles, entry bundles, signed checkpoints,
//! inclusion and consistency proofs — and catches a changed tile, entry or checkpoint.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine;
use qoltanba::crypto::{KeyAlgorithm, SigningKey};
use qoltanba::tlog::{
    bundle, closing_siblings, consistency_ranges, hashes_to_store, inclusion_ranges, leaf_hash,
    sign_note, tiles_at, Checkpoint, Hash, NoteKey, Recipe, Tile, MAX_TILE_LEVEL,
};

/// The peer, built once per test run into the target directory.
pub(crate) fn peer() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let binary = target.join("tlog_peer");
        let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/tlog_peer.go");
        let status = Command::new("go")
            .args(["build", "-o"])
            .arg(&binary)
            .arg(source)
            // Debian's golang-golang-x-mod-dev is a GOPATH tree: no module download.
            .env("GO111MODULE", "off")
            .env("GOPATH", "/usr/share/gocode")
            .env("GOCACHE", target.join("go-cache"))
            .status()
            .expect("go runs (apt-get install golang-go golang-golang-x-mod-dev)");
        assert!(status.success(), "go build of the tlog peer failed");
        binary
    })
}

struct Log {
    entries: Vec<Vec<u8>>,
    stored: Vec<Hash>,
}

impl Log {
    fn with_entries(count: usize) -> Log {
        let mut log = Log {
            entries: Vec::new(),
            stored: Vec::new(),
        };
        for i in 0..count {
            let entry = format!("document\n{i:08}\n{}\n", i * 7919).into_bytes();
            let n = log.entries.len() as u64;
            let siblings = log.read(&closing_siblings(n));
            let new = hashes_to_store(n, leaf_hash(&entry), &siblings).expect("append");
            log.stored.extend(new);
            log.entries.push(entry);
        }
        log
    }

    fn read(&self, indexes: &[u64]) -> Vec<Hash> {
        indexes.iter().map(|&i| self.stored[i as usize]).collect()
    }

    fn hashes_of(&self, ranges: &[std::ops::Range<u64>]) -> Vec<Hash> {
        let recipe = Recipe::for_ranges(ranges);
        recipe.hashes(&self.read(recipe.indexes())).expect("fold")
    }

    fn root(&self, size: u64) -> Hash {
        self.hashes_of(std::slice::from_ref(&(0..size)))[0]
    }

    /// Every tile of the tree of `size`, written under `dir` at its C2SP path.
    fn write_tiles(&self, dir: &Path, size: u64) {
        let levels = (0..=MAX_TILE_LEVEL).map(Some).chain([None]);
        for level in levels {
            for tile in tiles_at(level, size) {
                let bytes = match tile.level {
                    Some(_) => self
                        .read(&tile.stored_indexes())
                        .iter()
                        .flat_map(|h| h.0)
                        .collect(),
                    None => {
                        let leaves = tile.leaves();
                        bundle(&self.entries[leaves.start as usize..leaves.end as usize])
                            .expect("bundle")
                    }
                };
                let path = dir.join(tile.path());
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(path, bytes).expect("write tile");
            }
        }
    }
}

fn b64(hashes: &[Hash]) -> String {
    hashes
        .iter()
        .map(|h| base64::engine::general_purpose::STANDARD.encode(h.0))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Signer {
    key: SigningKey,
    verifier: NoteKey,
}

fn signer() -> Signer {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).expect("ed25519");
    let verifier = NoteKey::for_signing_key("qoltanba.test/log", &key).expect("key");
    Signer { key, verifier }
}

fn checkpoint(signer: &Signer, size: u64, root: Hash) -> String {
    let text = Checkpoint {
        origin: "qoltanba.test/log".into(),
        size,
        root,
        extensions: Vec::new(),
    }
    .text();
    sign_note(&text, &signer.verifier, &signer.key).expect("sign")
}

/// Lays out the log at `size` with an old checkpoint at `old` and some of our proofs.
fn lay_out(dir: &Path, log: &Log, signer: &Signer, old: u64, size: u64) {
    log.write_tiles(dir, size);
    std::fs::write(dir.join("key"), signer.verifier.encode()).expect("key");
    std::fs::write(
        dir.join("checkpoint"),
        checkpoint(signer, size, log.root(size)),
    )
    .expect("cp");
    std::fs::write(
        dir.join("old-checkpoint"),
        checkpoint(signer, old, log.root(old)),
    )
    .expect("old cp");
    let mut proofs = String::new();
    for index in [0, 1, size / 2, size - 2, size - 1] {
        let proof = log.hashes_of(&inclusion_ranges(index, size).expect("ranges"));
        proofs.push_str(&format!("inclusion {index} {}\n", b64(&proof)));
    }
    let proof = log.hashes_of(&consistency_ranges(old, size).expect("ranges"));
    proofs.push_str(&format!("consistency {}\n", b64(&proof)));
    std::fs::write(dir.join("proofs"), proofs).expect("proofs");
}

fn judge(dir: &Path) -> (bool, String) {
    let out = Command::new(peer())
        .arg(dir)
        .output()
        .expect("the peer runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn gos_sumdb_accepts_our_tiles_checkpoints_and_proofs_across_tile_boundaries() {
    let signer = signer();
    // 66,000 entries: full and partial tiles at level 0, a full and a partial one at level 1
    // (65,536 = 256² leaves), a partial one at level 2.
    let log = Log::with_entries(66_000);
    for (old, size) in [
        (1, 2),
        (255, 256),
        (256, 257),
        (300, 1_000),
        (1_000, 66_000),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        lay_out(dir.path(), &log, &signer, old, size);
        let (ok, text) = judge(dir.path());
        assert!(ok, "{old}→{size}: {text}");
        assert!(
            text.contains(&format!("at size {size} verified"))
                && text.contains(&format!("{size} entries proved"))
                && text.contains(&format!("consistent with the checkpoint at {old}"))
                && text.contains("6 of the log's proofs checked"),
            "{text}"
        );
    }
}

#[test]
fn gos_sumdb_catches_a_changed_tile_entry_checkpoint_or_fork() {
    let signer = signer();
    let log = Log::with_entries(1_000);
    let fresh = || {
        let dir = tempfile::tempdir().expect("tempdir");
        lay_out(dir.path(), &log, &signer, 300, 1_000);
        dir
    };
    let (ok, text) = judge(fresh().path());
    assert!(ok, "{text}");

    // One hash byte changed in a level-0 tile.
    let dir = fresh();
    let tile = dir
        .path()
        .join(Tile::parse("tile/0/001").expect("path").path());
    let mut bytes = std::fs::read(&tile).expect("tile");
    bytes[40] ^= 1;
    std::fs::write(&tile, bytes).expect("write");
    let (ok, text) = judge(dir.path());
    assert!(!ok && text.starts_with("FAIL"), "changed tile: {text}");

    // One byte of an entry changed: its leaf is no longer in the tree.
    let dir = fresh();
    let bundle_path = dir.path().join("tile/entries/002");
    let mut bytes = std::fs::read(&bundle_path).expect("bundle");
    let at = bytes.len() - 2;
    bytes[at] ^= 1;
    std::fs::write(&bundle_path, bytes).expect("write");
    let (ok, text) = judge(dir.path());
    assert!(
        !ok && text.contains("is not in the tree"),
        "changed entry: {text}"
    );

    // The checkpoint's size changed after signing.
    let dir = fresh();
    let cp = std::fs::read_to_string(dir.path().join("checkpoint")).expect("cp");
    std::fs::write(
        dir.path().join("checkpoint"),
        cp.replace("\n1000\n", "\n999\n"),
    )
    .expect("write");
    let (ok, text) = judge(dir.path());
    assert!(
        !ok && text.starts_with("FAIL: checkpoint"),
        "changed checkpoint: {text}"
    );

    // A fork: the old checkpoint is of a log whose entry 5 was different.
    let dir = fresh();
    let mut other = Log::with_entries(0);
    for (i, entry) in log.entries.iter().take(300).enumerate() {
        let entry = if i == 5 {
            b"a rewritten entry".to_vec()
        } else {
            entry.clone()
        };
        let n = other.entries.len() as u64;
        let siblings = other.read(&closing_siblings(n));
        other
            .stored
            .extend(hashes_to_store(n, leaf_hash(&entry), &siblings).expect("append"));
        other.entries.push(entry);
    }
    std::fs::write(
        dir.path().join("old-checkpoint"),
        checkpoint(&signer, 300, other.root(300)),
    )
    .expect("write");
    let (ok, text) = judge(dir.path());
    assert!(
        !ok && text.contains("does not extend the old checkpoint"),
        "fork: {text}"
    );
}
