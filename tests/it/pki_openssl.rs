//! Interop with the OpenSSL CLI, an independent peer: what we issue, revoke and publish,
//! OpenSSL accepts and reads the same way.

use qoltanba::crypto::KeyAlgorithm;
use qoltanba::pki::certificate::pem;

use crate::common::*;

fn crl_pem(t: &TestPki, name: &str, delta: bool) -> String {
    let der = futures_lite(t.pki.crl(&t.pki.issuing().id, delta)).expect("crl");
    write(&t.path(name), qoltanba_crl_pem(&der))
}

fn qoltanba_crl_pem(der: &[u8]) -> String {
    der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, der).expect("pem")
}

/// Awaits inside a sync helper called from async tests (the runtime is multi-threaded).
fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_verifies_an_issued_certificate_then_reports_it_revoked() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (issuing, root) = t.ca_files();
    let issued = t.issue(individual("individual-sign")).await;
    let cert = write(
        &t.path("leaf.pem"),
        pem(&issued.record.certificate).expect("pem"),
    );
    let (issuing, root) = (issuing.to_str().expect("p"), root.to_str().expect("p"));

    let crl = crl_pem(&t, "before.crl", false);
    let ok = openssl_ok(&[
        "verify",
        "-crl_check",
        "-CRLfile",
        &crl,
        "-CAfile",
        root,
        "-untrusted",
        issuing,
        &cert,
    ]);
    assert!(ok.contains(": OK"), "{ok}");

    t.pki
        .revoke(
            &issued.record.serial,
            "keyCompromise".parse().expect("reason"),
            None,
        )
        .await
        .expect("revoke");
    let crl = crl_pem(&t, "after.crl", false);
    let out = openssl(&[
        "verify",
        "-crl_check",
        "-CRLfile",
        &crl,
        "-CAfile",
        root,
        "-untrusted",
        issuing,
        &cert,
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "a revoked certificate must not verify: {text}"
    );
    assert!(text.contains("certificate revoked"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_accepts_our_crls_and_reads_serials_reasons_and_delta_entries() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (issuing, _) = t.ca_files();
    let issuing = issuing.to_str().expect("p");
    let a = t.issue(individual("individual-sign")).await.record;
    let b = t.issue(legal("legal-head-sign")).await.record;
    t.pki
        .revoke(&a.serial, "superseded".parse().expect("r"), None)
        .await
        .expect("revoke a");

    let full = crl_pem(&t, "full.crl", false);
    let text = openssl_ok(&["crl", "-in", &full, "-CAfile", issuing, "-noout", "-text"]);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains(&a.serial), "{text}");
    assert!(text.contains("Superseded"), "{text}");
    assert!(!text.contains(&b.serial), "good certificate listed: {text}");
    let number = |t: &str| -> u64 {
        let after = t
            .split("X509v3 CRL Number:")
            .nth(1)
            .expect("CRL number present");
        after
            .split_whitespace()
            .next()
            .expect("value")
            .parse()
            .expect("decimal")
    };
    let first_number = number(&text);

    // Hold b: the delta CRL on the last full CRL lists it as certificateHold.
    t.pki
        .revoke(&b.serial, "certificateHold".parse().expect("r"), None)
        .await
        .expect("hold");
    let delta = crl_pem(&t, "delta.crl", true);
    let text = openssl_ok(&["crl", "-in", &delta, "-CAfile", issuing, "-noout", "-text"]);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("Delta CRL Indicator: critical"), "{text}");
    assert!(
        text.contains(&b.serial) && text.contains("Certificate Hold"),
        "{text}"
    );
    let full_after_hold = openssl_ok(&[
        "crl",
        "-in",
        &crl_pem(&t, "full2.crl", false),
        "-noout",
        "-text",
    ]);
    assert!(
        number(&full_after_hold) > first_number,
        "CRL numbers must grow"
    );

    // Release: the next delta says removeFromCRL; the full CRL no longer lists b.
    t.pki.release_hold(&b.serial, None).await.expect("release");
    let delta = crl_pem(&t, "delta2.crl", true);
    let full = crl_pem(&t, "full3.crl", false);
    let delta_text = openssl_ok(&["crl", "-in", &delta, "-CAfile", issuing, "-noout", "-text"]);
    let full_text = openssl_ok(&["crl", "-in", &full, "-CAfile", issuing, "-noout", "-text"]);
    assert!(!full_text.contains(&b.serial), "{full_text}");
    assert!(full_text.contains(&a.serial), "{full_text}");
    assert!(
        delta_text.contains(&b.serial) && delta_text.contains("Remove From CRL"),
        "a delta cut before the release was re-based; it must still say removeFromCRL when the base listed b: {delta_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_opens_both_pkcs12_flavours_and_the_key_matches_the_certificate() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let pw = write(&t.path("pw"), P12_PASSWORD);
    for (legacy, info_expect) in [
        (false, "AES-256-CBC"),
        (true, "pbeWithSHA1And3-KeyTripleDES-CBC"),
    ] {
        let mut request = individual("individual-sign");
        request.legacy = legacy;
        let issued = t.issue(request).await;
        let p12 = write(&t.path(&format!("k{legacy}.p12")), &issued.pkcs12);
        let pass = format!("file:{pw}");
        let mut base = vec!["pkcs12", "-in", p12.as_str(), "-passin", pass.as_str()];
        if legacy {
            base.push("-legacy");
            // OpenSSL 3 refuses RC2-40 without the legacy provider: the store really is legacy.
            let plain = openssl(&["pkcs12", "-in", &p12, "-passin", &pass, "-nokeys"]);
            assert!(
                !plain.status.success(),
                "legacy store opened without -legacy"
            );
        }
        let info = openssl_ok(&[base.clone(), vec!["-info", "-noout"]].concat());
        assert!(info.contains(info_expect), "{info}");
        let key = openssl_ok(&[base.clone(), vec!["-nocerts", "-nodes"]].concat());
        let cert = openssl_ok(&[base.clone(), vec!["-clcerts", "-nokeys"]].concat());
        let key_file = write(&t.path("key.pem"), key);
        let cert_file = write(&t.path("cert.pem"), cert);
        let from_key = openssl_ok(&["pkey", "-in", &key_file, "-pubout"]);
        let from_cert = openssl_ok(&["x509", "-in", &cert_file, "-noout", "-pubkey"]);
        assert_eq!(
            from_key, from_cert,
            "the key store's key does not match its certificate"
        );
        let serial = openssl_ok(&["x509", "-in", &cert_file, "-noout", "-serial"]);
        assert!(serial.contains(&issued.record.serial), "{serial}");
        let wrong = openssl(&[
            "pkcs12",
            "-in",
            &p12,
            "-passin",
            "pass:wrong",
            "-nokeys",
            "-legacy",
        ]);
        assert!(
            !wrong.status.success(),
            "a wrong password must not open the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_algorithm_gives_a_certificate_openssl_verifies() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (issuing, root) = t.ca_files();
    for key in [
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::P256,
        KeyAlgorithm::Ed25519,
    ] {
        let mut request = individual("individual-sign");
        request.key = Some(key);
        let issued = t.issue(request).await;
        let cert = write(
            &t.path("c.pem"),
            pem(&issued.record.certificate).expect("pem"),
        );
        let text = openssl_ok(&[
            "verify",
            "-CAfile",
            root.to_str().expect("p"),
            "-untrusted",
            issuing.to_str().expect("p"),
            &cert,
        ]);
        assert!(text.contains(": OK"), "{key}: {text}");
        let shown = openssl_ok(&["x509", "-in", &cert, "-noout", "-text"]);
        let expected = match key {
            KeyAlgorithm::P256 => "id-ecPublicKey",
            KeyAlgorithm::Ed25519 => "ED25519",
            _ => "(3072 bit)",
        };
        assert!(shown.contains(expected), "{key}: {shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ocsp_against_the_running_responder_says_good_then_revoked() {
    // The responder URL in certificates is the public URL; the test serves on a random port and
    // points openssl at it explicitly.
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let base = t.serve().await;
    let (issuing, root) = t.ca_files();
    let (issuing, root) = (issuing.to_str().expect("p"), root.to_str().expect("p"));
    let issued = t.issue(individual("individual-sign")).await;
    let cert = write(
        &t.path("leaf.pem"),
        pem(&issued.record.certificate).expect("pem"),
    );
    let url = format!("{base}/pki/ocsp");
    let ask = || {
        let args = [
            "ocsp",
            "-issuer",
            issuing,
            "-cert",
            &cert,
            "-url",
            &url,
            "-CAfile",
            root,
            "-verify_other",
            issuing,
        ];
        tokio::task::block_in_place(|| openssl_ok(&args))
    };
    let good = ask();
    assert!(good.contains("Response verify OK"), "{good}");
    assert!(good.contains(&format!("{cert}: good")), "{good}");
    assert!(
        !good.contains("WARNING: no nonce"),
        "the nonce must be echoed: {good}"
    );

    // A serial this CA never issued: "unknown", signed all the same.
    let unknown = tokio::task::block_in_place(|| {
        openssl_ok(&[
            "ocsp",
            "-issuer",
            issuing,
            "-serial",
            "0x0102030405",
            "-url",
            &url,
            "-CAfile",
            root,
            "-verify_other",
            issuing,
        ])
    });
    assert!(unknown.contains("Response verify OK"), "{unknown}");
    assert!(unknown.contains("0x0102030405: unknown"), "{unknown}");

    t.pki
        .revoke(
            &issued.record.serial,
            "keyCompromise".parse().expect("r"),
            None,
        )
        .await
        .expect("revoke");
    let revoked = ask();
    assert!(revoked.contains("Response verify OK"), "{revoked}");
    assert!(revoked.contains(&format!("{cert}: revoked")), "{revoked}");
    assert!(revoked.contains("Reason: keyCompromise"), "{revoked}");
}
