//! The auditor page `/verify`, as a person uses it: in headless Chromium (the number form, whose
//! GET submission is the page's URL with ?number=), and the upload form posted as a browser
//! posts it (multipart). A screenshot is kept in target/test-artifacts/.

use std::process::Command;

use serde_json::{json, Value};

use crate::common::*;
use crate::documents::license_payload;
use crate::documents_concurrency::{http, http_as};

fn chromium(args: &[&str], profile: &std::path::Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect(
            "Debian's chromium must be installed for the browser test (apt-get install chromium)",
        );
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn issue_license(base: &str, token: &str) -> Value {
    let addr = base.trim_start_matches("http://");
    let (status, body) = http_as(
        addr,
        "POST",
        "/v1/documents",
        Some(json!({"kind": "license", "payload": license_payload()}).to_string()),
        Some(token),
    )
    .await
    .expect("issue");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_the_verdict_and_signer_for_a_registration_number() {
    let (t, base) = TestPki::served(Backend::Sqlite).await.expect("sqlite");
    let doc = issue_license(&base, &t.admin_token).await;
    let number = doc["number"].as_str().expect("number").to_owned();
    let url = doc["verification_url"].as_str().expect("url").to_owned();
    assert_eq!(
        url,
        format!("{base}/verify?number={number}"),
        "the QR code's URL is the form's submission"
    );
    let profile = tempfile::tempdir().expect("profile");
    let dom = tokio::task::spawn_blocking({
        let url = url.clone();
        let profile = profile.path().to_owned();
        move || chromium(&["--dump-dom", &url], &profile)
    })
    .await
    .expect("join");
    assert!(
        dom.contains("Подпись действительна / Қолтаңба жарамды"),
        "{dom}"
    );
    assert!(
        dom.contains("УӘКІЛЕТТІ ТҰЛҒА"),
        "the official is named: {dom}"
    );
    assert!(dom.contains("950341000052"), "{dom}");
    assert!(dom.contains(&number));
    assert!(
        dom.contains(doc["sha256"].as_str().expect("sha")),
        "the document hash is shown"
    );
    assert!(dom.contains("signing_right"), "the official's role");
    assert!(
        dom.contains("Transparency log") && dom.contains("is proved in the signed checkpoint"),
        "the document's place in the transparency log: {dom}"
    );

    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let shot = artifacts.join("auditor-verify.png");
    let _ = std::fs::remove_file(&shot);
    tokio::task::spawn_blocking({
        let (shot, url, profile) = (shot.clone(), url.clone(), profile.path().to_owned());
        move || {
            chromium(
                &[
                    &format!("--screenshot={}", shot.display()),
                    "--window-size=1000,1100",
                    &url,
                ],
                &profile,
            )
        }
    })
    .await
    .expect("join");
    let png = std::fs::read(&shot).expect("a screenshot was taken");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );

    // An unknown number: the page says so.
    let missing = tokio::task::spawn_blocking({
        let (base, profile) = (base.clone(), profile.path().to_owned());
        move || {
            chromium(
                &[
                    "--dump-dom",
                    &format!("{base}/verify?number=950341000052-2026-999999"),
                ],
                &profile,
            )
        }
    })
    .await
    .expect("join");
    assert!(missing.contains("не найден"), "{missing}");

    // The stored signature changed past the triggers: the page says the log does not prove it.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    crate::log_http::disable_append_only(&pool, Backend::Sqlite, "documents").await;
    crate::log_http::change_stored_signature(&pool, doc["id"].as_str().expect("id")).await;
    let changed = tokio::task::spawn_blocking({
        let profile = profile.path().to_owned();
        move || chromium(&["--dump-dom", &url], &profile)
    })
    .await
    .expect("join");
    assert!(
        changed.contains("NOT PROVED") && changed.contains("it was changed"),
        "{changed}"
    );
    drop(t);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_signature_is_checked_and_matched_to_the_registry() {
    let (t, base) = TestPki::served(Backend::Sqlite).await.expect("sqlite");
    let doc = issue_license(&base, &t.admin_token).await;
    let cms = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        doc["cms_base64"].as_str().expect("cms"),
    )
    .expect("b64");
    let boundary = "----qoltanba-test-boundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"license.p7s\"\r\nContent-Type: application/pkcs7-signature\r\n\r\n").into_bytes();
    body.extend_from_slice(&cms);
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n").as_bytes());
    let addr = base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    let request = hyper::Request::post("/verify")
        .header("host", &addr)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), 200);
    let page = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("Подпись действительна"), "{page}");
    assert!(
        page.contains(&format!("№ {}", doc["number"].as_str().expect("n"))),
        "registry match shown: {page}"
    );
    // A page form without a file is refused clearly.
    let (status, body) = http(&addr, "GET", "/verify", None).await.expect("form");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("enctype=\"multipart/form-data\""));
}
