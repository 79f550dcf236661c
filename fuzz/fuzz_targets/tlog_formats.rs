//! Arbitrary bytes through every reader of the transparency log's outside input (issue 17): tile
//! paths (`GET /log/tile/…`), checkpoints and signed notes (`log verify`, `log audit`), verifier
//! keys, entries and entry bundles (what an auditor downloads), and a log rebuilt from fuzzed
//! tiles. None panics; what one accepts writes back to exactly the bytes it read (one spelling
//! each), and no note opens without its key's signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qoltanba::tlog::{
    bundle, open_note, unbundle, Checkpoint, Entry, Hash, NoteKey, Replica, Tile,
};

/// Go's sumdb/note example key: a note that opens with it must carry its signature.
const KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 7 {
        0 => {
            if let Ok(tile) = Tile::parse(&text) {
                assert_eq!(tile.path(), text, "one name per tile");
            }
        }
        1 => {
            if let Ok(checkpoint) = Checkpoint::parse(&text) {
                assert_eq!(checkpoint.text(), text);
            }
        }
        2 => {
            if let Ok(key) = NoteKey::parse(&text) {
                assert_eq!(NoteKey::parse(&key.encode()).ok(), Some(key));
            }
        }
        3 => {
            if let Ok(entry) = Entry::parse(rest) {
                assert_eq!(entry.encode(), rest);
            }
        }
        4 => {
            if let Ok(entries) = unbundle(rest) {
                let owned: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
                assert_eq!(bundle(&owned).ok().as_deref(), Some(rest));
            }
        }
        5 => {
            let key = NoteKey::parse(KEY).expect("the example key reads");
            if let Ok(opened) = open_note(&text, &[key]) {
                // Only the one real signature of that key over the example text can open.
                assert!(
                    opened.starts_with("If you think cryptography"),
                    "{opened:?}"
                );
            }
        }
        _ => {
            // A small log rebuilt from fuzzed tiles: refused or consistent, never a panic.
            let Some((&size, tiles)) = rest.split_first() else {
                return;
            };
            let size = u64::from(size) * 3;
            let mut chunks = tiles.chunks(97);
            let _ = Replica::from_tiles(size, &Hash([0; 32]), |_| {
                Ok(chunks.next().map(<[u8]>::to_vec).unwrap_or_default())
            });
        }
    }
});
