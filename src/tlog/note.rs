//! C2SP signed-note: a text, a blank line, and signature lines `— <name> <base64(id ‖ sig)>`.
//!
//! A verifier key is written `<name>+<id as 8 hex digits>+<base64(type ‖ public key)>`; the id
//! is the first four bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key), so a signature line names
//! the key it needs (c2sp.org/signed-note). Two signature types are read and written:
//!
//! - **Ed25519**, type `0x01`, as the spec defines it (and Go's `sumdb/note`): a 32-byte key, a
//!   64-byte RFC 8032 signature over the note text.
//! - **GOST 34.10-2015 (512)**, NCA RK's algorithm: GOST R 34.10-2012 on
//!   id-tc26-gost-3410-12-512-paramSetA with Streebog-512, exactly as NCA signs CMS. The spec
//!   assigns it no byte, and says a type without one is `0xff` "followed by a longer identifier
//!   that is unlikely to collide" (the assigned bytes 0x02–0x06 belong to other algorithms, and
//!   0xfa–0xfe are reserved for the spec's future use). So the type is the 13 bytes
//!   `0xff ‖ 06 0a 2a 83 0e 03 0a 01 01 02 03 02`: 0xff, then the DER encoding of NCA's signature
//!   OID 1.2.398.3.10.1.1.2.3.2 (the one in every NCA GOST-2015 certificate). An OID is unique by
//!   construction and names curve, hash and byte conventions in one; its DER form carries its own
//!   length, so the public key after it needs no separator. These 13 bytes stand wherever the
//!   spec says "signature type": in the key id,
//!   `SHA-256(name ‖ 0x0A ‖ 0xff ‖ DER(OID) ‖ X ‖ Y)[:4]`, and at the head of the vkey's key.
//!   The public key is X‖Y, 64 bytes each, little-endian (the 128 bytes NCA's certificates carry
//!   in their OCTET STRING); the signature is r‖s, 64 bytes each, little-endian, over the
//!   Streebog-512 digest of the note text read as a little-endian integer — NCA's CMS signature
//!   value, and the byte-for-byte reverse of RFC 7091/RFC 4491's big-endian s‖r. The 512-bit
//!   curve, not the 256-bit one: it is what NCA's current keys, `key = "gost2015"` and
//!   `KeyAlgorithm::Gost2015` use, so the log key is of the same kind as the PKI's.
//!
//! A verifier that knows neither type passes such signature lines over (the spec requires it
//! to ignore unknown keys), so a GOST-signed checkpoint can still carry Ed25519 cosignatures.

use base64::Engine;

use super::TlogError;
use crate::crypto::{gost, sha256_parts, verify_raw, KeyAlgorithm, SignatureAlgorithm, SigningKey};

/// Ed25519's signature type (assigned by the spec).
const ED25519_TYPE: [u8; 1] = [0x01];
/// GOST 34.10-2015 (512)'s signature type: 0xff (no byte assigned) and the DER of NCA's
/// signature OID 1.2.398.3.10.1.1.2.3.2. Fixed forever: every key id depends on it.
const GOST_2015_TYPE: [u8; 13] = [
    0xff, 0x06, 0x0a, 0x2a, 0x83, 0x0e, 0x03, 0x0a, 0x01, 0x01, 0x02, 0x03, 0x02,
];
/// The spec's byte for types it assigns no byte to.
const UNASSIGNED_TYPE: u8 = 0xff;
/// The em dash and space that open a signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// More signature lines than this is not a checkpoint, it is an attack on the parser.
const MAX_SIGNATURES: usize = 100;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The signature algorithms a log key may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteAlgorithm {
    Ed25519,
    /// GOST R 34.10-2012, 512-bit, Streebog-512, NCA's byte order.
    Gost2015,
}

impl NoteAlgorithm {
    /// The key type a log key of this algorithm is generated as.
    pub fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            NoteAlgorithm::Ed25519 => KeyAlgorithm::Ed25519,
            NoteAlgorithm::Gost2015 => KeyAlgorithm::Gost2015,
        }
    }

    /// The note algorithm of a key type, if notes can be signed with it.
    pub fn of_key(algorithm: KeyAlgorithm) -> Option<NoteAlgorithm> {
        match algorithm {
            KeyAlgorithm::Ed25519 => Some(NoteAlgorithm::Ed25519),
            KeyAlgorithm::Gost2015 => Some(NoteAlgorithm::Gost2015),
            _ => None,
        }
    }

    /// The name users know it by ("Ed25519", "GOST 34.10-2015 (512)").
    pub fn display_name(self) -> &'static str {
        self.signature_algorithm().display_name()
    }

    fn signature_algorithm(self) -> SignatureAlgorithm {
        self.key_algorithm().signature_algorithm()
    }

    /// The "signature type" of the spec: what the key id hashes and the vkey's key opens with.
    fn type_bytes(self) -> &'static [u8] {
        match self {
            NoteAlgorithm::Ed25519 => &ED25519_TYPE,
            NoteAlgorithm::Gost2015 => &GOST_2015_TYPE,
        }
    }

    fn public_len(self) -> usize {
        match self {
            NoteAlgorithm::Ed25519 => 32,
            NoteAlgorithm::Gost2015 => 128,
        }
    }
}

/// A note verifier key: who signs, with which algorithm and public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteKey {
    name: String,
    algorithm: NoteAlgorithm,
    id: [u8; 4],
    /// Ed25519: the 32-byte key; GOST: X‖Y, little-endian.
    public: Vec<u8>,
}

impl NoteKey {
    /// The verifier key of a signing key (Ed25519 or GOST 34.10-2015), under `name`.
    pub fn for_signing_key(name: &str, key: &SigningKey) -> Result<NoteKey, TlogError> {
        match NoteAlgorithm::of_key(key.algorithm()) {
            Some(NoteAlgorithm::Ed25519) => NoteKey::ed25519(name, key.public_key_bytes()),
            Some(NoteAlgorithm::Gost2015) => {
                let xy = gost::public_key_512_from_spki_bits(key.public_key_bytes())
                    .ok_or_else(|| TlogError::BadKey("not a 512-bit GOST public key".into()))?;
                NoteKey::gost2015(name, &xy)
            }
            None => Err(TlogError::BadKey(format!(
                "a log key is ed25519 or gost2015, not {}",
                key.algorithm()
            ))),
        }
    }

    pub fn ed25519(name: &str, public: &[u8]) -> Result<NoteKey, TlogError> {
        NoteKey::new(name, NoteAlgorithm::Ed25519, public)
    }

    /// A GOST 34.10-2015 (512) key from X‖Y (64 bytes each, little-endian), which must be a
    /// point of the curve.
    pub fn gost2015(name: &str, public_xy_le: &[u8]) -> Result<NoteKey, TlogError> {
        NoteKey::new(name, NoteAlgorithm::Gost2015, public_xy_le)
    }

    fn new(name: &str, algorithm: NoteAlgorithm, public: &[u8]) -> Result<NoteKey, TlogError> {
        check_name(name)?;
        if public.len() != algorithm.public_len() {
            return Err(TlogError::BadKey(format!(
                "{} public keys have {} bytes, not {}",
                algorithm.display_name(),
                algorithm.public_len(),
                public.len()
            )));
        }
        if algorithm == NoteAlgorithm::Gost2015 && !on_gost_curve(public) {
            return Err(TlogError::BadKey(
                "the GOST public key is not a point of id-tc26-gost-3410-12-512-paramSetA".into(),
            ));
        }
        Ok(NoteKey {
            name: name.to_string(),
            algorithm,
            id: key_id(name, algorithm.type_bytes(), public),
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
        let (algorithm, public) = if let Some(public) = typed.strip_prefix(&GOST_2015_TYPE) {
            (NoteAlgorithm::Gost2015, public)
        } else if let Some(public) = typed.strip_prefix(&ED25519_TYPE) {
            (NoteAlgorithm::Ed25519, public)
        } else {
            return Err(bad(&match typed.first() {
                None => "the key is empty".to_string(),
                Some(&UNASSIGNED_TYPE) => "signature type 0xff with an identifier other than \
                     GOST 34.10-2015's (0xff and the DER of OID 1.2.398.3.10.1.1.2.3.2)"
                    .to_string(),
                Some(other) => format!(
                    "signature type {other:#04x} (this log reads Ed25519, 0x01, and GOST \
                     34.10-2015, 0xff and the DER of OID 1.2.398.3.10.1.1.2.3.2)"
                ),
            }));
        };
        let parsed = NoteKey::new(name, algorithm, public)?;
        if id_hex.len() != 8 || hex::decode(id_hex).ok().as_deref() != Some(&parsed.id[..]) {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(parsed)
    }

    /// The text form [`NoteKey::parse`] reads.
    pub fn encode(&self) -> String {
        let mut typed = self.algorithm.type_bytes().to_vec();
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

    pub fn algorithm(&self) -> NoteAlgorithm {
        self.algorithm
    }

    /// Whether `signature` is this key's over `message`.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let public = match self.algorithm {
            NoteAlgorithm::Ed25519 => self.public.clone(),
            // verify_raw takes a key as a certificate's BIT STRING holds it.
            NoteAlgorithm::Gost2015 => match gost::spki_bits(&self.public) {
                Ok(bits) => bits,
                Err(_) => return false,
            },
        };
        verify_raw(
            self.algorithm.signature_algorithm(),
            &public,
            message,
            signature,
        )
        .is_ok()
    }
}

/// Whether X‖Y (64 bytes each, little-endian) is a point of NCA's 512-bit curve.
fn on_gost_curve(xy: &[u8]) -> bool {
    let (x, y) = xy.split_at(xy.len() / 2);
    if x.len() != 64 || y.len() != 64 {
        return false;
    }
    gost::Curve::tc26_512_a().contains(&gost::U512::from_le_slice(x), &gost::U512::from_le_slice(y))
}

fn key_id(name: &str, signature_type: &[u8], public: &[u8]) -> [u8; 4] {
    let digest = sha256_parts(&[name.as_bytes(), b"\n", signature_type, public]);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A key name, and so a log origin (c2sp.org/signed-note, tlog-checkpoint): not empty, no
/// Unicode whitespace, no `+` (which separates the parts of a key), no control characters (a
/// note has none).
pub fn check_name(name: &str) -> Result<(), TlogError> {
    if name.is_empty()
        || name.contains('+')
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(TlogError::BadKey(format!(
            "a key name must be non-empty, without spaces, control characters or '+': {name:?}"
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

/// Signs `text` with `key` (Ed25519 or GOST 34.10-2015), named by `verifier`: the whole signed
/// note.
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
/// other keys (witnesses the caller does not follow, algorithms it does not know) are passed
/// over, as the spec requires.
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
        if !key.verifies(text.as_bytes(), signature) {
            return Err(bad(&format!("the signature by {name} does not verify")));
        }
        verified.push(key);
    }
    if verified.is_empty() {
        return Err(bad("no signature by a known key"));
    }
    Ok(text)
}

#[cfg(test)]
#[path = "note_tests.rs"]
mod tests;
