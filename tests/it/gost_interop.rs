//! An independent implementation agrees with ours: the pure-Python `gostcrypto` package
//! (tests/interop/gostcrypto_peer.py; `.ci/run` installs it) computes Streebog, public keys,
//! signatures and verification answers on the same bytes as our GOST code, in both directions
//! and with negative cases, for fresh keys and for NCA's real key.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use der::{Decode, Encode};
use qoltanba::crypto::{gost, KeyAlgorithm, SigningKey};
use serde_json::{json, Value};

/// Runs the peer over `cases`, one answer per case.
pub(crate) fn peer(cases: &[Value]) -> Vec<Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/gostcrypto_peer.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (the gostcrypto cross-check needs it)");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for case in cases {
            writeln!(stdin, "{case}").expect("write case");
        }
    }
    let answers: Vec<Value> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|line| serde_json::from_str(&line.expect("line")).expect("JSON answer"))
        .collect();
    let status = child.wait().expect("wait");
    assert!(
        status.success() && answers.len() == cases.len(),
        "the gostcrypto peer failed (pip install gostcrypto==1.2.5): {status}"
    );
    answers
}

/// The scalar of a GOST key in NCA's PKCS#8 (its last 64 bytes, checked against the form).
fn scalar(key: &SigningKey) -> Vec<u8> {
    let pkcs8 = key.pkcs8_der();
    let d = &pkcs8[pkcs8.len() - 64..];
    assert_eq!(
        &pkcs8[pkcs8.len() - 68..pkcs8.len() - 64],
        &[0x04, 0x42, 0x04, 0x40]
    );
    d.to_vec()
}

fn public_xy(key: &SigningKey) -> Vec<u8> {
    gost::public_key_512_from_spki_bits(key.public_key_bytes())
        .expect("a 512-bit GOST key")
        .to_vec()
}

fn real_nca_key() -> SigningKey {
    let pfx = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nca/gost/individual_valid.p12"
    ))
    .expect("fixture");
    let contents = qoltanba::keystore::open_pkcs12(&pfx, "Qwerty12").expect("key store");
    SigningKey::from_pkcs8(&contents.private_key_pkcs8).expect("GOST key")
}

fn ours_verifies(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    match (
        <&[u8; 128]>::try_from(public),
        <&[u8; 128]>::try_from(signature),
    ) {
        (Ok(public), Ok(signature)) => gost::verify_512(public, message, signature),
        _ => false,
    }
}

#[test]
fn streebog_digests_agree_on_block_boundaries() {
    let messages: Vec<Vec<u8>> = [0usize, 1, 3, 63, 64, 65, 127, 128, 1000, 70_000]
        .iter()
        .map(|&n| (0..n).map(|i| (i * 7 + n) as u8).collect())
        .collect();
    let cases: Vec<Value> = messages
        .iter()
        .map(|m| json!({"op": "digest", "message": hex::encode(m)}))
        .collect();
    for (message, answer) in messages.iter().zip(peer(&cases)) {
        assert_eq!(
            answer["digest"].as_str().expect("digest"),
            hex::encode(gost::streebog512(message)),
            "{} bytes",
            message.len()
        );
    }
}

/// (public key, message, signature, whether it should verify).
type Combination = (Vec<u8>, Vec<u8>, Vec<u8>, bool);

#[test]
fn both_sides_sign_and_each_verifies_the_other_with_the_same_answers_on_negative_cases() {
    let keys = [
        real_nca_key(),
        SigningKey::generate(KeyAlgorithm::Gost2015).expect("key"),
        SigningKey::generate(KeyAlgorithm::Gost2015).expect("key"),
    ];
    let message = "Лицензия № 950341000052-2026-000001".as_bytes();
    // The peer derives the same public keys from our scalars.
    let cases: Vec<Value> = keys
        .iter()
        .map(|k| json!({"op": "public", "private": hex::encode(scalar(k))}))
        .collect();
    for (key, answer) in keys.iter().zip(peer(&cases)) {
        assert_eq!(
            answer["public"].as_str(),
            Some(hex::encode(public_xy(key)).as_str())
        );
    }

    // The peer signs with the same scalars; we sign too.
    let cases: Vec<Value> = keys
        .iter()
        .map(|k| json!({"op": "sign", "private": hex::encode(scalar(k)), "message": hex::encode(message)}))
        .collect();
    let theirs: Vec<Vec<u8>> = peer(&cases)
        .iter()
        .map(|a| hex::decode(a["signature"].as_str().expect("signature")).expect("hex"))
        .collect();
    let ours: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| k.sign(message).expect("sign"))
        .collect();

    // Every (key, message, signature) combination, right and wrong, answered by both sides.
    let mut tampered = ours[0].clone();
    tampered[5] ^= 0x80;
    let mut combos: Vec<Combination> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let public = public_xy(key);
        combos.push((public.clone(), message.to_vec(), ours[i].clone(), true));
        combos.push((public.clone(), message.to_vec(), theirs[i].clone(), true));
        combos.push((
            public.clone(),
            b"another message".to_vec(),
            ours[i].clone(),
            false,
        ));
        combos.push((
            public_xy(&keys[(i + 1) % 3]),
            message.to_vec(),
            ours[i].clone(),
            false,
        ));
    }
    combos.push((public_xy(&keys[0]), message.to_vec(), tampered, false));
    combos.push((public_xy(&keys[0]), message.to_vec(), vec![0u8; 128], false));
    let cases: Vec<Value> = combos
        .iter()
        .map(|(public, message, signature, _)| {
            json!({"op": "verify", "public": hex::encode(public), "message": hex::encode(message),
                   "signature": hex::encode(signature)})
        })
        .collect();
    for ((public, message, signature, expected), answer) in combos.iter().zip(peer(&cases)) {
        let theirs = answer["valid"].as_bool().expect("bool");
        let ours = ours_verifies(public, message, signature);
        assert_eq!((ours, theirs), (*expected, *expected), "{answer}");
    }
}

#[test]
fn the_peer_verifies_the_cms_we_sign_with_the_real_nca_key() {
    let when = qoltanba::time::parse_rfc3339("2026-09-01T09:00:00Z").expect("time");
    let pfx = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nca/gost/individual_valid.p12"
    ))
    .expect("fixture");
    let identity = qoltanba::sign::identity_from_pkcs12(&pfx, "Qwerty12", when).expect("identity");
    let content = br#"{"applicant":{"iin":"123456789011"}}"#;
    let cms_der = qoltanba::sign::cades::sign(content, &identity, false, when).expect("sign");
    let info = cms::content_info::ContentInfo::from_der(&cms_der).expect("ContentInfo");
    let signed: cms::signed_data::SignedData = info.content.decode_as().expect("SignedData");
    let signer = signed.signer_infos.0.get(0).expect("a signer");
    // What the signature covers: the signed attributes as a DER SET (RFC 5652 §5.4).
    let attributes = signer
        .signed_attrs
        .as_ref()
        .expect("signed attributes")
        .to_der()
        .expect("der");
    let public = public_xy(&identity.key);
    let signature = signer.signature.as_bytes().to_vec();
    let mut changed = attributes.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0x01;
    let cases = [
        json!({"op": "verify", "public": hex::encode(&public), "message": hex::encode(&attributes),
               "signature": hex::encode(&signature)}),
        json!({"op": "verify", "public": hex::encode(&public), "message": hex::encode(&changed),
               "signature": hex::encode(&signature)}),
    ];
    let answers = peer(&cases);
    assert_eq!(
        answers[0]["valid"],
        json!(true),
        "gostcrypto accepts our CMS signature"
    );
    assert_eq!(
        answers[1]["valid"],
        json!(false),
        "and not over changed attributes"
    );
    // The messageDigest attribute is the Streebog-512 of the content, byte for byte the peer's.
    let digest = peer(&[json!({"op": "digest", "message": hex::encode(content)})]);
    let expected = hex::decode(digest[0]["digest"].as_str().expect("digest")).expect("hex");
    assert!(
        attributes
            .windows(expected.len())
            .any(|w| w == &expected[..]),
        "messageDigest holds the peer's Streebog-512 of the content"
    );
}
