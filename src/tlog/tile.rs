//! C2SP tlog-tiles: the log's hashes and entries as static files of 256.
//!
//! A hash tile `tile/<L>/<N>` holds the hashes of tree level 8·L, nodes 256·N .. 256·N+255 (each
//! a stored hash: a complete subtree); a partial tile `tile/<L>/<N>.p/<W>` holds the first W
//! of them. An entry bundle `tile/entries/<N>` holds leaves 256·N .. as `u16` length-prefixed
//! entries. N is written in groups of three digits, all but the last prefixed with `x`
//! (1234067 → `x001/x234/067`).

use super::tree::stored_index;
use super::TlogError;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels one tile level spans.
pub const TILE_HEIGHT: u32 = 8;
/// The highest tile level C2SP allows (level 6 would start at 2^48 leaves).
pub const MAX_TILE_LEVEL: u32 = 5;

/// One tile: a hash tile of `level`, or an entry bundle when `level` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// `None` for an entry bundle (`tile/entries/…`).
    pub level: Option<u32>,
    pub index: u64,
    /// 1..=256; 256 is a full tile.
    pub width: u64,
}

impl Tile {
    /// The path under the log's prefix, as C2SP writes it.
    pub fn path(&self) -> String {
        let level = match self.level {
            Some(level) => level.to_string(),
            None => "entries".to_string(),
        };
        let mut path = format!("tile/{level}/{}", encode_index(self.index));
        if self.width < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Reads a path as written by [`Tile::path`]; anything else (leading zeros in a level or
    /// width, a missing `x`, a width of 0 or 256 written as partial) is refused, so that one
    /// tile has one name.
    pub fn parse(path: &str) -> Result<Tile, TlogError> {
        let bad = || TlogError::BadTilePath(path.chars().take(120).collect());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level_text, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level = if level_text == "entries" {
            None
        } else {
            let level = parse_decimal(level_text).ok_or_else(bad)?;
            if level > u64::from(MAX_TILE_LEVEL) {
                return Err(bad());
            }
            Some(level as u32)
        };
        let (index_text, width) = match rest.split_once(".p/") {
            Some((index_text, width_text)) => {
                let width = parse_decimal(width_text).ok_or_else(bad)?;
                if width == 0 || width >= TILE_WIDTH {
                    return Err(bad());
                }
                (index_text, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let index = decode_index(index_text).ok_or_else(bad)?;
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// The stored-hash indexes this hash tile is made of, in order (none for an entry bundle).
    pub fn stored_indexes(&self) -> Vec<u64> {
        let Some(level) = self.level else {
            return Vec::new();
        };
        let first = self.index * TILE_WIDTH;
        (first..first + self.width)
            .map(|n| stored_index(level * TILE_HEIGHT, n))
            .collect()
    }

    /// The leaves an entry bundle holds (or, for a hash tile, the leaves it covers).
    pub fn leaves(&self) -> std::ops::Range<u64> {
        let span = 1u64 << (self.level.unwrap_or(0) * TILE_HEIGHT);
        let first = self.index * TILE_WIDTH * span;
        first..first + self.width * span
    }

    /// Whether a tree of `size` leaves holds this tile: every hash (or entry) in it exists. A
    /// partial tile narrower than the tree's rightmost one is a prefix of it, immutable like
    /// everything in the log, so it is served too (a client that holds an older checkpoint asks
    /// for the width it knows).
    pub fn available_at(&self, size: u64) -> bool {
        let nodes = size >> (self.level.unwrap_or(0) * TILE_HEIGHT);
        self.index
            .checked_mul(TILE_WIDTH)
            .and_then(|start| start.checked_add(self.width))
            .is_some_and(|end| end <= nodes)
    }
}

/// Every tile of a tree of `size` at one level (`None`: entry bundles), the last one partial
/// when the level's node count is not a multiple of 256.
pub fn tiles_at(level: Option<u32>, size: u64) -> Vec<Tile> {
    let nodes = size >> (level.unwrap_or(0) * TILE_HEIGHT);
    let full = nodes / TILE_WIDTH;
    let mut out: Vec<Tile> = (0..full)
        .map(|index| Tile {
            level,
            index,
            width: TILE_WIDTH,
        })
        .collect();
    if nodes % TILE_WIDTH != 0 {
        out.push(Tile {
            level,
            index: full,
            width: nodes % TILE_WIDTH,
        });
    }
    out
}

fn encode_index(index: u64) -> String {
    let digits = index.to_string();
    let pad = (3 - digits.len() % 3) % 3;
    let padded = format!("{}{digits}", "0".repeat(pad));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let (last, rest) = groups.split_last().unwrap_or((&"000", &[]));
    let mut out: String = rest.iter().map(|g| format!("x{g}/")).collect();
    out.push_str(last);
    out
}

fn decode_index(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split('/').collect();
    let (last, rest) = parts.split_last()?;
    let mut value: u64 = 0;
    for (i, part) in rest.iter().enumerate() {
        let group = part.strip_prefix('x')?;
        // No leading zero groups: x000/x001/234 would name the same tile as x001/234.
        if i == 0 && group == "000" {
            return None;
        }
        value = value.checked_mul(1000)?.checked_add(three_digits(group)?)?;
    }
    value.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(group: &str) -> Option<u64> {
    (group.len() == 3 && group.bytes().all(|b| b.is_ascii_digit()))
        .then(|| group.parse().ok())
        .flatten()
}

/// A decimal with no sign and no leading zero (except "0" itself).
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// An entry bundle: each entry as a big-endian `u16` length and its bytes.
pub fn bundle(entries: &[Vec<u8>]) -> Result<Vec<u8>, TlogError> {
    let mut out = Vec::new();
    for entry in entries {
        let len = u16::try_from(entry.len()).map_err(|_| {
            TlogError::BadEntry(format!(
                "an entry of {} bytes (at most 65,535)",
                entry.len()
            ))
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The entries of a bundle, refusing a cut or trailing bytes.
pub fn unbundle(mut bytes: &[u8]) -> Result<Vec<&[u8]>, TlogError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let [hi, lo, rest @ ..] = bytes else {
            return Err(TlogError::BadEntry(
                "an entry bundle ends inside a length".into(),
            ));
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if rest.len() < len {
            return Err(TlogError::BadEntry(
                "an entry bundle ends inside an entry".into(),
            ));
        }
        let (entry, after) = rest.split_at(len);
        out.push(entry);
        bytes = after;
    }
    Ok(out)
}
