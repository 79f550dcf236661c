//! The rooms of the library and their order (ARCHITECTURE.md, lib.rs): a room uses only rooms
//! below it. Read off the source: every `crate::room` path outside comments and test code.

use std::collections::BTreeSet;
use std::path::Path;

/// Top to bottom. Rooms on one line are peers: neither may use the other.
const ROOMS: &[&[&str]] = &[
    &["cli", "fuzzing"],
    &["http"],
    &["config"],
    &["pki"],
    &["sign", "security", "verify"],
    &["store"],
    &["keystore"],
    &["x509", "tlog"],
    &["crypto"],
    &["identity", "telemetry", "time", "xml"],
];

fn level(room: &str) -> Option<usize> {
    ROOMS.iter().position(|line| line.contains(&room))
}

/// Whether a file is test code as a whole (unit-test modules kept in their own files).
fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == "tests"
        || name.starts_with("tests_")
        || name.ends_with("_tests")
        || name == "test_builder"
}

/// The rooms `source` reaches through `crate::…`, ignoring comments and `#[cfg(test)]` code.
fn uses(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        if line.trim_start() == "#[cfg(test)]" {
            break; // unit tests sit at the end of a file
        }
        for (i, _) in code.match_indices("crate::") {
            let before = code[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `qoltanba_crate::` and the like
            }
            let room: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !room.is_empty() {
                found.insert(room);
            }
        }
    }
    found
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn lower_rooms_never_use_upper_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut violations = Vec::new();
    let mut rooms_seen = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a component");
        let room = first
            .as_os_str()
            .to_str()
            .expect("UTF-8")
            .trim_end_matches(".rs");
        if room == "lib" || room == "main" || is_test_file(&file) {
            continue;
        }
        rooms_seen.insert(room.to_owned());
        let Some(own) = level(room) else {
            violations.push(format!("{room} is not in the room list"));
            continue;
        };
        let source = std::fs::read_to_string(&file).expect("read");
        for used in uses(&source) {
            if used == room {
                continue;
            }
            match level(&used) {
                Some(other) if other > own => {}
                _ => violations.push(format!("{} uses crate::{used}", relative.display())),
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    // The list names every room there is (a room that disappears is taken off it).
    for line in ROOMS {
        for room in *line {
            assert!(
                rooms_seen.contains(*room),
                "{room} is listed but has no code"
            );
        }
    }
}

#[test]
fn the_reader_sees_paths_not_comments_or_tests() {
    let source = "use crate::x509::Cert;\n// crate::http in a comment\nlet a = crate::time::now(); // crate::cli\n#[cfg(test)]\nmod tests { use crate::cli; }\n";
    let found: Vec<String> = uses(source).into_iter().collect();
    assert_eq!(found, ["time", "x509"]);
}
