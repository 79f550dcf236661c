//! C2SP signed-note: a text, a blank line, and signature lines `— <name> <base64(id ‖ sig)>`.
//!
//! A verifier key is written `<name>+<id as 8 hex digits>+<base64(type ‖ public key)>`; the id
//! is the first four bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key), so a signature line names
//! the key it needs. Only Ed25519 (type 0x01) is defined here, as in Go's `sumdb/note`.

use base64::Engine;

use super::TlogError;
use crate::crypto::{sha256_parts, verify_raw, KeyAlgorithm, SignatureAlgorithm, SigningKey};

const ED25519: u8 = 0x01;
/// The em dash and space that open a signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// More signature lines than this is not a checkpoint, it is an attack on the parser.
const MAX_SIGNATURES: usize = 100;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A note verifier key: who signs, and with which public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteKey {
    name: String,
    id: [u8; 4],
    public: Vec<u8>,
}

impl NoteKey {
    /// The verifier key of an Ed25519 signing key, under `name`.
    pub fn for_signing_key(name: &str, key: &SigningKey) -> Result<NoteKey, TlogError> {
        if key.algorithm() != KeyAlgorithm::Ed25519 {
            return Err(TlogError::BadKey(format!(
                "a log key must be Ed25519, not {:?}",
                key.algorithm()
            )));
        }
        NoteKey::ed25519(name, key.public_key_bytes())
    }

    pub fn ed25519(name: &str, public: &[u8]) -> Result<NoteKey, TlogError> {
        check_name(name)?;
        if public.len() != 32 {
            return Err(TlogError::BadKey(format!(
                "an Ed25519 public key has 32 bytes, not {}",
                public.len()
            )));
        }
        Ok(NoteKey {
            name: name.to_string(),
            id: key_id(name, ED25519, public),
            public: public.to_vec(),
        })
    }

    /// Reads `<name>+<hex id>+<base64(type ‖ key)>`, checking that the id matches.
    pub fn parse(text: &str) -> Result<NoteKey, TlogError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let bad = |why: &str| TlogError::BadKey(format!("not a note verifier key: {why}"));
        // Names have no '+', base64 may: split from the left.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected <name>+<id>+<key>"));
        };
        let typed = b64()
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let Some((&kind, public)) = typed.split_first() else {
            return Err(bad("the key is empty"));
        };
        if kind != ED25519 {
            return Err(bad(&format!("key type {kind:#04x} (only Ed25519, 0x01)")));
        }
        let parsed = NoteKey::ed25519(name, public)?;
        if id_hex.len() != 8 || hex::decode(id_hex).ok().as_deref() != Some(&parsed.id[..]) {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(parsed)
    }

    /// The text form [`NoteKey::parse`] reads.
    pub fn encode(&self) -> String {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(&self.public);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            b64().encode(typed)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

fn key_id(name: &str, kind: u8, public: &[u8]) -> [u8; 4] {
    let digest = sha256_parts(&[name.as_bytes(), b"\n", &[kind], public]);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A key name: not empty, no whitespace, no `+` (which separates the parts of a key).
fn check_name(name: &str) -> Result<(), TlogError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(TlogError::BadKey(format!(
            "a key name must be non-empty, without spaces or '+': {name:?}"
        )));
    }
    Ok(())
}

/// A note text: UTF-8 lines, each ending in a newline, no other control characters.
fn check_text(text: &str) -> Result<(), TlogError> {
    if !text.ends_with('\n') {
        return Err(TlogError::BadNote(
            "the text does not end with a newline".into(),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(TlogError::BadNote("the text has control characters".into()));
    }
    Ok(())
}

/// Signs `text` with `key` (Ed25519), named by `verifier`: the whole signed note.
pub fn sign(text: &str, verifier: &NoteKey, key: &SigningKey) -> Result<String, TlogError> {
    check_text(text)?;
    if NoteKey::for_signing_key(verifier.name(), key)? != *verifier {
        return Err(TlogError::BadKey(
            "the verifier key is not the signing key's".into(),
        ));
    }
    let signature = key
        .sign(text.as_bytes())
        .map_err(|e| TlogError::BadKey(format!("signing the note: {e}")))?;
    let mut blob = verifier.id.to_vec();
    blob.extend_from_slice(&signature);
    Ok(format!(
        "{text}\n{SIGNATURE_PREFIX}{} {}\n",
        verifier.name,
        b64().encode(blob)
    ))
}

/// Opens a signed note: the text, if at least one of `keys` signed it. A signature line under a
/// known key that does not verify, or one known key twice, fails the whole note; lines under
/// other keys (witnesses the caller does not follow) are passed over.
pub fn open<'a>(note: &'a str, keys: &[NoteKey]) -> Result<&'a str, TlogError> {
    let bad = |why: &str| TlogError::BadNote(why.to_string());
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    check_text(text)?;
    if !signatures.ends_with('\n') {
        return Err(bad("the signatures do not end with a newline"));
    }
    let mut verified: Vec<&NoteKey> = Vec::new();
    for (count, line) in signatures.lines().enumerate() {
        if count >= MAX_SIGNATURES {
            return Err(bad("too many signatures"));
        }
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| bad("a signature line does not start with an em dash"))?;
        let (name, blob) = rest
            .split_once(' ')
            .ok_or_else(|| bad("a signature line has no signature"))?;
        check_name(name)?;
        let blob = b64()
            .decode(blob)
            .map_err(|_| bad("a signature is not base64"))?;
        let Some((id, signature)) = blob.split_first_chunk::<4>() else {
            return Err(bad("a signature is too short"));
        };
        let Some(key) = keys.iter().find(|k| k.name == name && k.id == *id) else {
            continue;
        };
        if verified.contains(&key) {
            return Err(bad(&format!("two signatures by {name}")));
        }
        verify_raw(
            SignatureAlgorithm::Ed25519,
            &key.public,
            text.as_bytes(),
            signature,
        )
        .map_err(|_| bad(&format!("the signature by {name} does not verify")))?;
        verified.push(key);
    }
    if verified.is_empty() {
        return Err(bad("no signature by a known key"));
    }
    Ok(text)
}
