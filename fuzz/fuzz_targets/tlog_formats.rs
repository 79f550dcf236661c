//! Arbitrary bytes through every reader of the transparency log's outside input (issue 17): tile
//! paths (`GET /log/tile/…`), checkpoints and signed notes (`log verify`, `log audit`), verifier
//! keys, entries and entry bundles (what an auditor downloads), and a log rebuilt from fuzzed
//! tiles. None panics; what one accepts writes back to exactly the bytes it read (one spelling
//! each), and no note opens without its key's signature — Ed25519 or GOST 34.10-2015 (the
//! signed-note type 0xff and NCA's signature OID, whose keys are checked to be curve points).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qoltanba::tlog::{
    bundle, open_note, unbundle, Checkpoint, Entry, Hash, NoteKey, Replica, Tile,
};

/// Go's sumdb/note example key: a note that opens with it must carry its signature.
const KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// A GOST 34.10-2015 (512) log key (src/tlog/note_tests.rs's known answer, made with
/// gostcrypto): a note that opens with it must carry its signature over its checkpoint.
const GOST_KEY: &str = "example.kz/log+9f666b79+/wYKKoMOAwoBAQIDAm1XEDCaSh9qt1iV1YKlQHRAfkw1BLO\
                        Wzw0c9p1KAgFcHBT7T9nxIN/XUh/jLgqoqJz6Mpk/xuNLM5J9jbVjxkeE5TSl0RwDzOWTz\
                        WMivKqo3db0dtcn/814up1gETIqKhIW+MaOt2vgElVS4VtOnwWVphK39bQ6+I8XMj8uHTIU";

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
            let gost = NoteKey::parse(GOST_KEY).expect("the GOST key reads");
            if let Ok(opened) = open_note(&text, &[key, gost]) {
                // Only the real signatures of those keys over their texts can open.
                assert!(
                    opened.starts_with("If you think cryptography")
                        || opened
                            == "example.kz/log\n5\nIisL1R/O9+ZcLmLbLtZUVwE7q1a+b6/rGe4R1FMVPIA=\n",
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
