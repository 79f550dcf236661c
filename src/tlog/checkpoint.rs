//! C2SP tlog-checkpoint: the note text that commits a log to a tree head.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! [extension lines]
//! ```

use base64::Engine;

use super::tree::Hash;
use super::TlogError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name: who promises this tree (a schema-less URL by convention).
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extra lines after the root, kept as they are (none written by this log).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            base64::engine::general_purpose::STANDARD.encode(self.root.0)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Reads a note text (already opened: see [`super::note::open`]).
    pub fn parse(text: &str) -> Result<Checkpoint, TlogError> {
        let bad = |why: &str| TlogError::BadCheckpoint(why.to_string());
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("it does not end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad("the origin line is empty"));
        }
        let size_text = lines.next().ok_or_else(|| bad("no tree size"))?;
        let canonical = !size_text.is_empty()
            && size_text.bytes().all(|b| b.is_ascii_digit())
            && (size_text == "0" || !size_text.starts_with('0'));
        let size: u64 = canonical
            .then(|| size_text.parse().ok())
            .flatten()
            .ok_or_else(|| bad("the tree size is not a decimal without leading zeros"))?;
        let root_text = lines.next().ok_or_else(|| bad("no root hash"))?;
        let root = base64::engine::general_purpose::STANDARD
            .decode(root_text)
            .ok()
            .and_then(|bytes| Hash::from_slice(&bytes))
            .ok_or_else(|| bad("the root hash is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}
