//! Signing (процесс 11): what we sign, OpenSSL verifies, and so does our own pipeline; a changed
//! byte makes both refuse. Also with the real NCA RK key, and `qoltanba sign` as a user runs it.

use std::process::Command;

use qoltanba::crypto::KeyAlgorithm;
use qoltanba::sign::{cades, identity_from_pkcs12, SignError};
use qoltanba::verify::{Request, Settings, Verdict, Verifier};

use crate::common::*;

const LICENSE: &[u8] =
    "{\"kind\":\"license\",\"recipient\":{\"iin\":\"900517312343\"},\"activity\":\"Қызмет түрі\"}"
        .as_bytes();

fn openssl_verifies(
    der: &[u8],
    dir: &std::path::Path,
    root: &str,
    content: Option<&[u8]>,
    extra: &[&str],
) -> bool {
    let sig = write(&dir.join("doc.p7s"), der);
    let mut args = vec![
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        sig.as_str(),
        "-CAfile",
        root,
        "-out",
        "/dev/null",
    ];
    let content_path;
    if let Some(c) = content {
        content_path = write(&dir.join("doc.bin"), c);
        args.extend(["-content", content_path.as_str()]);
    }
    args.extend_from_slice(extra);
    openssl(&args).status.success()
}

#[tokio::test]
async fn documents_signed_by_the_official_verify_in_openssl_and_in_our_pipeline() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (_, root) = t.ca_files();
    let root = root.to_str().expect("p").to_owned();
    for key in [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::P256,
        KeyAlgorithm::Ed25519,
    ] {
        let mut request = legal("official-sign");
        request.key = Some(key);
        let issued = t.issue(request).await;
        let signer = identity_from_pkcs12(&issued.pkcs12, P12_PASSWORD, qoltanba::time::now())
            .expect("signing identity");
        let now = qoltanba::time::now();
        for detached in [false, true] {
            let cms = cades::sign(LICENSE, &signer, detached, now).expect("sign");
            let content = detached.then_some(LICENSE);
            if key != KeyAlgorithm::Ed25519 {
                // OpenSSL 3.0 cannot verify Ed25519 CMS; our pipeline does below.
                assert!(
                    openssl_verifies(&cms, t.dir.path(), &root, content, &[]),
                    "{key} detached={detached}: OpenSSL refuses"
                );
            }
            let report = t
                .state()
                .verifier
                .verify(&Request {
                    signature: cms.clone(),
                    content: content.map(<[u8]>::to_vec),
                    ..Request::default()
                })
                .await;
            assert_eq!(report.verdict, Verdict::Valid, "{key}: {report:#?}");
            let official = &report.signers[0];
            assert_eq!(official.subject.bin.as_deref(), Some("940140000385"));
            assert!(
                official.roles.contains(&"signing_right".to_owned()),
                "{:?}",
                official.roles
            );
            assert!(official.signing_time.is_some());

            // One changed byte of the content: both refuse.
            let mut changed = LICENSE.to_vec();
            changed[3] ^= 0x01;
            let tampered = if detached {
                cms.clone()
            } else {
                let mut c = cms.clone();
                let at = c
                    .windows(LICENSE.len())
                    .position(|w| w == LICENSE)
                    .expect("content inside");
                c[at + 3] ^= 0x01;
                c
            };
            let content = detached.then_some(changed.as_slice());
            if key != KeyAlgorithm::Ed25519 {
                assert!(
                    !openssl_verifies(&tampered, t.dir.path(), &root, content, &[]),
                    "{key}: OpenSSL accepts a changed byte"
                );
            }
            let report = t
                .state()
                .verifier
                .verify(&Request {
                    signature: tampered,
                    content: content.map(<[u8]>::to_vec),
                    ..Request::default()
                })
                .await;
            assert_eq!(report.sub_indication, Some("HASH_FAILURE"), "{key}");
        }
    }
}

#[tokio::test]
async fn the_real_nca_rsa_key_signs_documents_that_verify_inside_its_validity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/fixtures/nca/rsa/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    };
    let inside = qoltanba::time::parse_rfc3339("2021-06-01T00:00:00Z").expect("time");
    let signer = identity_from_pkcs12(&fixture("individual_valid_sign.p12"), "Qwerty12", inside)
        .expect("NCA legacy key store");
    let cms = cades::sign(LICENSE, &signer, false, inside).expect("sign");

    let anchor = write(&dir.path().join("nca.pem"), fixture("nca_rsa_test.crt"));
    // NCA's issuing CA is the anchor here (its root is not published): -partial_chain.
    assert!(
        openssl_verifies(
            &cms,
            dir.path(),
            &anchor,
            None,
            &["-partial_chain", "-attime", &inside.to_string()]
        ),
        "OpenSSL refuses"
    );
    let verifier = Verifier::new(Settings {
        anchors: vec![("nca".into(), fixture("nca_rsa_test.crt"))],
        crls: vec![("crl".into(), fixture("nca_rsa_test.crl"))],
        offline: true,
        ..Settings::default()
    })
    .expect("verifier");
    let report = verifier
        .verify(&Request {
            signature: cms,
            at: Some(inside),
            ..Request::default()
        })
        .await;
    // NCA's only CRL is from after the certificate expired: revocation then is unknown.
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);

    // Today the same key store is refused: its certificate expired in 2022.
    let now = qoltanba::time::now();
    match identity_from_pkcs12(&fixture("individual_valid_sign.p12"), "Qwerty12", now) {
        Err(SignError::UnusableKey(why)) => assert!(why.contains("expired"), "{why}"),
        other => panic!("an expired key must be refused: {:?}", other.err()),
    }
    match identity_from_pkcs12(
        &fixture("individual_auth_revoked.p12"),
        "Qwerty12",
        inside + 86_400 * 240,
    ) {
        Err(SignError::UnusableKey(why)) => assert!(why.contains("AUTH"), "{why}"),
        other => panic!("an AUTH key must be refused: {:?}", other.err()),
    }
    assert!(matches!(
        identity_from_pkcs12(&fixture("individual_valid_sign.p12"), "wrong", inside),
        Err(SignError::WrongPassword)
    ));
}

#[tokio::test]
async fn qoltanba_sign_signs_files_and_refuses_keys_it_must_not_use() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (_, root) = t.ca_files();
    let dir = t.dir.path();
    let mut request = legal("official-sign");
    request.key = Some(KeyAlgorithm::P256);
    let p12 = write(&dir.join("official.p12"), t.issue(request).await.pkcs12);
    let pw = write(&dir.join("pw"), format!("{P12_PASSWORD}\n"));
    let input = write(&dir.join("license.json"), LICENSE);
    let run = |key: &str, password: &str, out: &str, extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args([
                "sign",
                "--input",
                &input,
                "--key",
                key,
                "--password-file",
                password,
                "--out",
                out,
            ])
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let out = dir.join("license.p7s");
    let (code, err) = run(&p12, &pw, out.to_str().expect("p"), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(openssl_verifies(
        &std::fs::read(&out).expect("cms"),
        dir,
        root.to_str().expect("p"),
        None,
        &[]
    ));
    let detached = dir.join("license.detached.p7s");
    assert_eq!(
        run(&p12, &pw, detached.to_str().expect("p"), &["--detached"]).0,
        0
    );
    assert!(openssl_verifies(
        &std::fs::read(&detached).expect("cms"),
        dir,
        root.to_str().expect("p"),
        Some(LICENSE),
        &[]
    ));

    let fixture = |name: &str| format!("{}/fixtures/nca/{name}", env!("CARGO_MANIFEST_DIR"));
    let nca_pw = write(&dir.join("nca-pw"), "Qwerty12");
    let wrong_pw = write(&dir.join("wrong-pw"), "not it");
    for (key, password, expect) in [
        (p12.clone(), wrong_pw.clone(), "wrong password"),
        (
            fixture("rsa/individual_valid_sign.p12"),
            nca_pw.clone(),
            "expired",
        ),
        (
            fixture("rsa/individual_auth_revoked.p12"),
            nca_pw.clone(),
            "AUTH",
        ),
    ] {
        let refused = dir.join("refused.p7s");
        let (code, err) = run(&key, &password, refused.to_str().expect("p"), &[]);
        assert_eq!(code, 2, "{key}: {err}");
        assert!(err.contains(expect), "{key}: {err}");
        assert!(
            !refused.exists(),
            "nothing is written when signing is refused"
        );
    }
    let (code, err) = run(&p12, &pw, out.to_str().expect("p"), &[]);
    assert_eq!(code, 2, "an existing output is never overwritten: {err}");
}
