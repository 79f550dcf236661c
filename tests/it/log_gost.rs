//! A transparency log signed with GOST 34.10-2015 (issue 17): `qoltanba serve` on an empty
//! database with QOLTANBA_PKI_DIR=pki/gost makes its log key GOST, as the declaration's `[log]`
//! asks. Its `/log/key` is the GOST vkey (C2SP signed-note type 0xff and the DER of NCA's
//! signature OID), `qoltanba log verify` and `log audit` accept its checkpoint and refuse a
//! tampered one, the independent `gostcrypto` peer verifies the checkpoint's signature, and a
//! declaration that later asks for Ed25519 and another origin leaves the stored key as it is,
//! with a warning naming both. One service start.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use qoltanba::tlog::{Checkpoint, NoteAlgorithm, NoteKey};
use serde_json::json;

use crate::common::*;
use crate::documents_concurrency::http_as;
use crate::instances::{Instance, PASSPHRASE};

const GOST_PKI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pki/gost");
/// 0xff, then the DER of OID 1.2.398.3.10.1.1.2.3.2.
const GOST_TYPE: [u8; 13] = [
    0xff, 0x06, 0x0a, 0x2a, 0x83, 0x0e, 0x03, 0x0a, 0x01, 0x01, 0x02, 0x03, 0x02,
];

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// `qoltanba` with `args` on the database `url`, the CA passphrase of [`Instance`].
fn qoltanba(args: &[&str], dir: &Path, url: &str, pki_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args(args)
        .current_dir(dir)
        .env("QOLTANBA_DATABASE_URL", url)
        .env("QOLTANBA_DATA_DIR", dir.join("cli"))
        .env("QOLTANBA_CA_PASSPHRASE", PASSPHRASE)
        .env("QOLTANBA_PKI_DIR", pki_dir)
        .env("QOLTANBA_LOG", "warn")
        .env_remove("QOLTANBA_CONFIG")
        .env_remove("QOLTANBA_PUBLIC_URL")
        .output()
        .expect("qoltanba runs")
}

fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

async fn get(instance: &Instance, path: &str) -> String {
    let (status, body) = http_as(&instance.addr, "GET", path, None, None)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(status, 200, "GET {path}");
    String::from_utf8(body).expect("text")
}

/// The note's text, its one signature's key id, and the signature (r‖s).
fn signed_parts(note: &str) -> (&str, Vec<u8>, Vec<u8>) {
    let (text, signatures) = note.split_once("\n\n").expect("a signed note");
    let line = signatures.lines().next().expect("a signature line");
    let blob = b64()
        .decode(line.rsplit(' ').next().expect("a signature"))
        .expect("base64");
    assert_eq!(blob.len(), 4 + 128, "key id and r‖s");
    (
        &note[..text.len() + 1],
        blob[..4].to_vec(),
        blob[4..].to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gost_pki_signs_its_log_in_gost_and_every_verifier_reads_it() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let url = database(Backend::Sqlite, dir).await.expect("sqlite");
    let service = Instance::start_with(&url, dir, "data", &[("QOLTANBA_PKI_DIR", GOST_PKI)]);
    service.ready().await;

    // The key: the GOST type, the default origin.
    let key_text = get(&service, "/log/key").await;
    let key = NoteKey::parse(key_text.trim()).expect("the served key reads");
    assert_eq!(key.algorithm(), NoteAlgorithm::Gost2015);
    assert_eq!(key.name(), format!("{}/log", service.addr));
    let typed = b64()
        .decode(key_text.trim().splitn(3, '+').nth(2).expect("key part"))
        .expect("base64");
    assert_eq!((&typed[..13], typed.len()), (&GOST_TYPE[..], 13 + 128));
    let public_xy = typed[13..].to_vec();

    // A checkpoint over what creating the PKI logged (its certificates), signed in GOST.
    let note = get(&service, "/log/checkpoint").await;
    let (text, id, signature) = signed_parts(&note);
    let checkpoint = Checkpoint::parse(text).expect("a checkpoint");
    assert!(checkpoint.size > 0, "{note}");
    assert_eq!(checkpoint.origin, key.name());

    // `log audit` against the running service, with the key pinned.
    std::fs::write(dir.join("log.key"), &key_text).expect("key");
    let key_file = dir.join("log.key").to_string_lossy().into_owned();
    let base = format!("http://{}", service.addr);
    let audit = qoltanba(
        &["log", "audit", "--url", &base, "--key", &key_file],
        dir,
        &url,
        Path::new(GOST_PKI),
    );
    assert!(audit.status.success(), "{}", said(&audit));
    assert!(
        said(&audit).contains("ok: log key (GOST 34.10-2015 (512))"),
        "{}",
        said(&audit)
    );
    drop(service);

    // `log verify` offline: the checkpoint checks; tampered ones, or another key, do not.
    let verify = |checkpoint_note: &str, key_text: &str, name: &str| {
        let (note_path, key_path) = (dir.join(name), dir.join(format!("{name}.key")));
        std::fs::write(&note_path, checkpoint_note).expect("note");
        std::fs::write(&key_path, key_text).expect("key");
        let args = [
            "log",
            "verify",
            "--checkpoint",
            &note_path.to_string_lossy(),
            "--key",
            &key_path.to_string_lossy(),
        ]
        .map(str::to_owned);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        qoltanba(&args, dir, &url, Path::new(GOST_PKI))
    };
    let ok = verify(&note, &key_text, "checkpoint");
    assert!(ok.status.success(), "{}", said(&ok));
    assert!(
        said(&ok).contains(&format!(
            "at size {} is signed (GOST 34.10-2015 (512))",
            checkpoint.size
        )),
        "{}",
        said(&ok)
    );
    let grown = note.replacen(
        &format!("\n{}\n", checkpoint.size),
        &format!("\n{}\n", checkpoint.size + 1),
        1,
    );
    let mut flipped = signature.clone();
    flipped[0] ^= 1;
    let forged = format!(
        "{text}\n\u{2014} {} {}\n",
        key.name(),
        b64().encode([&id[..], &flipped[..]].concat())
    );
    for (tampered, name) in [(grown, "grown"), (forged, "forged")] {
        let refused = verify(&tampered, &key_text, name);
        assert_eq!(refused.status.code(), Some(1), "{name}: {}", said(&refused));
        assert!(
            said(&refused).contains("does not verify"),
            "{name}: {}",
            said(&refused)
        );
    }
    let ed25519 = qoltanba::crypto::SigningKey::generate(qoltanba::crypto::KeyAlgorithm::Ed25519)
        .expect("key");
    let stranger = NoteKey::for_signing_key(key.name(), &ed25519).expect("vkey");
    let refused = verify(&note, &stranger.encode(), "stranger");
    assert_eq!(refused.status.code(), Some(1), "{}", said(&refused));
    assert!(
        said(&refused).contains("no signature by a known key"),
        "{}",
        said(&refused)
    );

    // The independent peer: the checkpoint's signature verifies over its text, not over another.
    let case = |message: &str| {
        json!({"op": "verify", "public": hex::encode(&public_xy),
               "message": hex::encode(message), "signature": hex::encode(&signature)})
    };
    let other_text = text.replacen("\n", "\nx", 1);
    let answers = crate::gost_interop::peer(&[case(text), case(&other_text)]);
    assert_eq!(
        answers[0]["valid"], true,
        "gostcrypto accepts the checkpoint"
    );
    assert_eq!(
        answers[1]["valid"], false,
        "gostcrypto refuses another text"
    );

    // A declaration asking later for Ed25519 and another origin: the stored key stays, and the
    // warning names both.
    let edited = dir.join("pki-edited");
    std::fs::create_dir(&edited).expect("mkdir");
    let declared =
        std::fs::read_to_string(Path::new(GOST_PKI).join("hierarchy.toml")).expect("pki/gost");
    let declared = declared.replace(
        "key = \"gost2015\"\n# The log's name",
        "key = \"ed25519\"\n# The log's name",
    ) + "origin = \"other.example.kz/log\"\n";
    std::fs::write(edited.join("hierarchy.toml"), declared).expect("write");
    let ca_out = dir.join("ca.pem").to_string_lossy().into_owned();
    let opened = qoltanba(&["pki", "ca", "--out", &ca_out], dir, &url, &edited);
    assert!(opened.status.success(), "{}", said(&opened));
    let warning = said(&opened);
    for named in [
        "gost2015",
        "ed25519",
        &format!("{:?}", key.name()),
        "\"other.example.kz/log\"",
    ] {
        assert!(warning.contains(named), "{named} in {warning}");
    }
    let store = qoltanba::store::Store::connect(&url).await.expect("store");
    let stored = store.log_key().await.expect("log key").expect("stored");
    store.close().await;
    assert_eq!(
        stored.verifier,
        key_text.trim(),
        "the log's key did not change"
    );
}
