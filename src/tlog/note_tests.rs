//! GOST 34.10-2015 note signatures: a known answer made by an independent implementation, round
//! trips, wrong keys, tampered notes, and the signature types this log does not read.

use base64::Engine;

use super::{b64, NoteAlgorithm, NoteKey};
use crate::crypto::{gost, KeyAlgorithm, SignatureAlgorithm, SigningKey};
use crate::tlog::{check_key_name, open_note, sign_note, Checkpoint, Hash, TlogError};

/// Made with the pure-Python `gostcrypto` 1.2.5 (tests/interop/gostcrypto_peer.py's package) and
/// Python's hashlib, not with this crate: the private key d = bytes 0x01..0x40 read
/// little-endian, its public key X‖Y (little-endian), the key id
/// SHA-256("example.kz/log" ‖ 0x0A ‖ 0xff ‖ DER(1.2.398.3.10.1.1.2.3.2) ‖ X‖Y)[:4], and a GOST
/// signature r‖s (little-endian) over Streebog-512 of the checkpoint text. The script:
///
/// ```python
/// d = bytes(range(1, 65)); S = gostsignature.new(MODE_512, CURVES[...paramSetA])
/// pub = S.public_key_generate(d[::-1]); xy = pub[:64][::-1] + pub[64:][::-1]
/// typ = b"\xff" + bytes.fromhex("060a2a830e030a0101020302")
/// kid = sha256(name.encode() + b"\n" + typ + xy).digest()[:4]
/// sig = S.sign(d[::-1], streebog512(text)[::-1]); rs = sig[:64][::-1] + sig[64:][::-1]
/// ```
const KNOWN_KEY: &str = "example.kz/log+9f666b79+/wYKKoMOAwoBAQIDAm1XEDCaSh9qt1iV1YKlQHRAfkw1BLO\
                         Wzw0c9p1KAgFcHBT7T9nxIN/XUh/jLgqoqJz6Mpk/xuNLM5J9jbVjxkeE5TSl0RwDzOWTz\
                         WMivKqo3db0dtcn/814up1gETIqKhIW+MaOt2vgElVS4VtOnwWVphK39bQ6+I8XMj8uHTIU";
const KNOWN_TEXT: &str = "example.kz/log\n5\nIisL1R/O9+ZcLmLbLtZUVwE7q1a+b6/rGe4R1FMVPIA=\n";
const KNOWN_SIGNATURE: &str = "\u{2014} example.kz/log n2ZreWeCDCcTmt2xsMWA2ojYoJZctSIeDz4t3rxx\
    FGCdiuzudm1WzMR8A9XBcX9kNtQzfrUfJrmO6jMAmak8MXTySQl7qq88JzVLvWScXv1SR+TJSWPoGuAfxKFoSX8941Y0p\
    ujhFqp1WxPgjq9UD3xPdptxgReExx9ZPM8YHZT4PuzH\n";

fn known_note() -> String {
    format!("{KNOWN_TEXT}\n{KNOWN_SIGNATURE}")
}

fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn gost_key() -> SigningKey {
    ok(SigningKey::generate(KeyAlgorithm::Gost2015))
}

#[test]
fn a_gost_note_made_by_another_implementation_opens_and_its_key_id_is_the_same() {
    let key = ok(NoteKey::parse(KNOWN_KEY));
    assert_eq!(key.algorithm(), NoteAlgorithm::Gost2015);
    assert_eq!(key.encode(), KNOWN_KEY);
    // The same private key, through this crate's GOST code: the same vkey, id included.
    let scalar: Vec<u8> = (1..=64).collect();
    let ours = ok(gost::PrivateKey::from_le_bytes(
        gost::Curve::tc26_512_a(),
        &scalar,
    ));
    let derived = ok(NoteKey::gost2015("example.kz/log", ours.public_key_xy_le()));
    assert_eq!(derived.encode(), KNOWN_KEY);
    assert_eq!(
        open_note(&known_note(), std::slice::from_ref(&key)),
        Ok(KNOWN_TEXT)
    );
    // One changed character of the text, or of the signature, and it no longer opens.
    let changed = known_note().replace("\n5\n", "\n6\n");
    assert!(open_note(&changed, std::slice::from_ref(&key)).is_err());
    let forged = known_note().replace("n2ZreWeC", "n2ZreWeD");
    assert!(open_note(&forged, std::slice::from_ref(&key)).is_err());
}

/// The type's identifier is the DER of the signature OID the crypto room signs GOST-2015 with.
#[test]
fn the_gost_signature_type_is_0xff_and_the_der_of_ncas_signature_oid() {
    let oid = SignatureAlgorithm::Gost512.oid();
    let mut der = vec![0xff, 0x06, oid.as_bytes().len() as u8];
    der.extend_from_slice(oid.as_bytes());
    let typed = ok(b64().decode(
        ok(NoteKey::parse(KNOWN_KEY))
            .encode()
            .splitn(3, '+')
            .nth(2)
            .unwrap_or_default(),
    ));
    assert_eq!(typed[..13], der[..]);
    assert_eq!(typed.len(), 13 + 128);
}

#[test]
fn a_gost_checkpoint_round_trips_and_opens_with_its_key_only() {
    let signing = gost_key();
    let key = ok(NoteKey::for_signing_key("qoltanba.test/log", &signing));
    assert_eq!(key.algorithm(), NoteAlgorithm::Gost2015);
    assert_eq!(NoteKey::parse(&key.encode()), Ok(key.clone()));
    let checkpoint = Checkpoint {
        origin: "qoltanba.test/log".into(),
        size: 7,
        root: Hash([7; 32]),
        extensions: Vec::new(),
    };
    let note = ok(sign_note(&checkpoint.text(), &key, &signing));
    let blob = note.lines().last().and_then(|l| l.rsplit(' ').next());
    let blob = ok(b64().decode(blob.unwrap_or_default()));
    assert_eq!(blob.len(), 4 + 128, "the key id and r‖s");
    let text = ok(open_note(&note, std::slice::from_ref(&key)));
    assert_eq!(Checkpoint::parse(text), Ok(checkpoint.clone()));

    // Another GOST key of the same name has another id: its signature is not looked for.
    let other = ok(NoteKey::for_signing_key("qoltanba.test/log", &gost_key()));
    assert!(open_note(&note, std::slice::from_ref(&other)).is_err());
    // The signing key must be the verifier's.
    assert!(sign_note(&checkpoint.text(), &other, &signing).is_err());
    // A rewritten size, and a signature changed in its last byte, are refused.
    let rewritten = note.replace("\n7\n", "\n8\n");
    assert!(open_note(&rewritten, std::slice::from_ref(&key)).is_err());
    let mut bytes = blob.clone();
    if let Some(last) = bytes.last_mut() {
        *last ^= 1;
    }
    let tampered = format!(
        "{}\n\u{2014} qoltanba.test/log {}\n",
        checkpoint_text(&note),
        b64().encode(&bytes)
    );
    assert!(open_note(&tampered, std::slice::from_ref(&key)).is_err());
}

/// The text of a signed note, without its signatures.
fn checkpoint_text(note: &str) -> &str {
    note.split_once("\n\n").map_or(note, |(text, _)| text)
}

#[test]
fn an_ed25519_and_a_gost_key_of_one_name_cosign_and_each_opens_the_note() {
    let name = "qoltanba.test/log";
    let ed = ok(SigningKey::generate(KeyAlgorithm::Ed25519));
    let ed_key = ok(NoteKey::for_signing_key(name, &ed));
    let gost = gost_key();
    let gost_key = ok(NoteKey::for_signing_key(name, &gost));
    let id = |key: &NoteKey| key.encode().split('+').nth(1).map(str::to_owned);
    assert_ne!(id(&ed_key), id(&gost_key), "one id per signature type");
    let text = "qoltanba.test/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let by_gost = ok(sign_note(text, &gost_key, &gost));
    let by_ed = ok(sign_note(text, &ed_key, &ed));
    let both = format!("{by_gost}{}\n", by_ed.lines().last().unwrap_or_default());
    for keys in [
        vec![gost_key.clone()],
        vec![ed_key.clone()],
        vec![ed_key, gost_key],
    ] {
        assert_eq!(open_note(&both, &keys), Ok(text));
    }
}

#[test]
fn keys_of_types_this_log_does_not_read_are_refused_with_the_reason() {
    let known = ok(b64().decode(KNOWN_KEY.splitn(3, '+').nth(2).unwrap_or_default()));
    let key_with = |typed: &[u8]| format!("example.kz/log+00000000+{}", b64().encode(typed));
    // ECDSA (0x02), and 0xff with another identifier: not read, and said so.
    let mut ecdsa = vec![0x02];
    ecdsa.extend_from_slice(&known[13..]);
    let mut other_oid = known.clone();
    other_oid[12] = 0x01;
    for (typed, reason) in [(ecdsa, "0x02"), (other_oid, "0xff")] {
        let error = NoteKey::parse(&key_with(&typed)).map(|k| k.encode());
        assert!(
            matches!(&error, Err(TlogError::BadKey(why)) if why.contains(reason)),
            "{error:?}"
        );
    }
    // A GOST key cut short, or not on the curve, is no key.
    assert!(NoteKey::gost2015("example.kz/log", &known[13..140]).is_err());
    let mut off_curve = known[13..].to_vec();
    off_curve[0] ^= 1;
    assert!(NoteKey::gost2015("example.kz/log", &off_curve).is_err());
    // And a name with a control character is not a key name (nor an origin).
    assert!(check_key_name("example.kz/\u{1}log").is_err());
    assert!(check_key_name("example.kz/log").is_ok());
}
