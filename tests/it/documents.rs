//! Documents (процесс 11) over HTTP: issued by the official, verifiable by OpenSSL and by our
//! pipeline, rebuildable from their JSON, registered under gap-free numbers, checkable by
//! auditors; bad input changes nothing.

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::*;

pub(crate) fn license_payload() -> Value {
    json!({
        "authority": {"name": "ЛИЦЕНЗИАР (ҚОЛТАҢБА ТЕСТ)", "bin": "950341000052"},
        "recipient": {"name": "ТОО \"Әлем Фарм\"", "bin": "940140000385"},
        "activity": "Фармацевтическая деятельность / Фармацевтикалық қызмет",
        "issued_on": "2026-11-23",
        "request_id": "REQ-2026-0001"
    })
}

async fn call(t: &TestPki, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Vec<u8>) {
    let app = qoltanba::http::router(t.state());
    let mut request = HttpRequest::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", t.admin_token));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    let response = app
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

async fn document_count(t: &TestPki) -> i64 {
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    sqlx::query("SELECT COUNT(*) AS n FROM documents")
        .fetch_one(&pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

#[tokio::test]
async fn an_issued_license_verifies_in_openssl_and_our_pipeline_and_can_be_rebuilt() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (_, root) = t.ca_files();
    let (status, body) = call(
        &t,
        "POST",
        "/v1/documents",
        Some(json!({"kind": "license", "payload": license_payload()})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let doc = json_of(&body);
    let year = &qoltanba::time::rfc3339(qoltanba::time::now())[..4];
    assert_eq!(doc["number"], format!("950341000052-{year}-000001"));
    assert!(doc["verification_url"]
        .as_str()
        .expect("url")
        .ends_with(&format!(
            "/verify?number={}",
            doc["number"].as_str().expect("n")
        )));
    let cms = base64::engine::general_purpose::STANDARD
        .decode(doc["cms_base64"].as_str().expect("cms"))
        .expect("b64");

    // OpenSSL verifies against our root and hands back exactly the RFC 8785 form of the document.
    let sig = write(&t.path("license.p7s"), &cms);
    let out = t.path("license.json");
    openssl_ok(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        &sig,
        "-CAfile",
        root.to_str().expect("p"),
        "-out",
        out.to_str().expect("p"),
    ]);
    let signed = std::fs::read(&out).expect("content");
    let rebuilt = qoltanba::sign::canonical::canonical(&doc["document"]).expect("canonical");
    assert_eq!(
        signed, rebuilt,
        "anyone can rebuild the signed bytes from the JSON"
    );
    assert_eq!(
        doc["sha256"],
        hex::encode(qoltanba::crypto::sha256(&signed))
    );
    assert_eq!(
        doc["document"]["number"], doc["number"],
        "the number is inside the signed document"
    );

    // Our pipeline: valid, the official identified.
    let id = doc["id"].as_str().expect("id");
    let (status, body) = call(&t, "GET", &format!("/v1/documents/{id}/verification"), None).await;
    assert_eq!(status, StatusCode::OK);
    let report = json_of(&body);
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["signers"][0]["subject"]["bin"], "950341000052");
    assert!(report["signers"][0]["roles"]
        .as_array()
        .expect("roles")
        .contains(&json!("signing_right")));

    // A changed byte: OpenSSL and our pipeline refuse.
    let mut tampered = cms.clone();
    let at = tampered
        .windows(signed.len())
        .position(|w| w == signed.as_slice())
        .expect("attached");
    tampered[at + 20] ^= 0x01;
    let bad = write(&t.path("tampered.p7s"), &tampered);
    assert!(!openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        &bad,
        "-CAfile",
        root.to_str().expect("p"),
        "-out",
        "/dev/null"
    ])
    .status
    .success());
    let (_, body) = call(
        &t,
        "POST",
        "/v1/verify",
        Some(json!({"signature": base64::engine::general_purpose::STANDARD.encode(&tampered)})),
    )
    .await;
    assert_eq!(json_of(&body)["sub_indication"], "HASH_FAILURE");

    // Read back by id, by number, as .p7s and as PDF.
    let (status, body) = call(
        &t,
        "GET",
        &format!(
            "/v1/documents/by-number/{}",
            doc["number"].as_str().expect("n")
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)["id"], doc["id"]);
    let (status, body) = call(
        &t,
        "GET",
        &format!("/v1/documents/{id}/signature.p7s"),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, cms.clone()));
    let (status, body) = call(&t, "GET", &format!("/v1/documents/{id}.pdf"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with(b"%PDF-"), "a PDF");
}

#[tokio::test]
async fn numbers_follow_each_other_corrections_are_new_documents_and_auditors_find_them() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let mut numbers = Vec::new();
    let mut first = Value::Null;
    for (kind, detached) in [
        ("license", false),
        ("notification", true),
        ("refusal", false),
    ] {
        let mut payload = license_payload();
        if kind == "notification" {
            payload = json!({"authority": payload["authority"], "recipient": {"name": "ТЕСТОВ ТЕСТ", "iin": valid_iin()}, "text": "Ваше заявление принято / Өтінішіңіз қабылданды"});
        }
        if kind == "refusal" {
            payload = json!({"authority": payload["authority"], "recipient": payload["recipient"], "request_id": "REQ-9", "reasons": ["ИИН в запросе не совпадает с ИИН в сертификате ЭЦП"]});
        }
        let (status, body) = call(
            &t,
            "POST",
            "/v1/documents",
            Some(json!({"kind": kind, "payload": payload, "detached": detached})),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{kind}: {}",
            String::from_utf8_lossy(&body)
        );
        let doc = json_of(&body);
        if first.is_null() {
            first = doc.clone();
        }
        numbers.push(doc["number"].as_str().expect("n").to_owned());
        // Detached documents verify too (the registry supplies the content).
        let (_, report) = call(
            &t,
            "GET",
            &format!(
                "/v1/documents/{}/verification",
                doc["id"].as_str().expect("id")
            ),
            None,
        )
        .await;
        assert_eq!(json_of(&report)["verdict"], "valid", "{kind}");
    }
    let sequence: Vec<String> = numbers
        .iter()
        .map(|n| n.rsplit('-').next().expect("seq").to_owned())
        .collect();
    assert_eq!(sequence, ["000001", "000002", "000003"]);

    // A correction supersedes; the original is unchanged.
    let (status, body) = call(&t, "POST", "/v1/documents", Some(json!({"kind": "license_reissue", "supersedes": first["id"], "payload": {
        "authority": license_payload()["authority"], "recipient": license_payload()["recipient"], "activity": "Фармацевтическая деятельность",
        "issued_on": "2026-11-24", "request_id": "REQ-2026-0002", "license_number": first["number"]}}))).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(json_of(&body)["supersedes"], first["id"]);
    let (_, again) = call(
        &t,
        "GET",
        &format!("/v1/documents/{}", first["id"].as_str().expect("id")),
        None,
    )
    .await;
    assert_eq!(json_of(&again)["sha256"], first["sha256"]);

    // An auditor uploads the CMS: the report, and where it is registered.
    let (status, body) = call(
        &t,
        "POST",
        "/v1/documents/verify",
        Some(json!({"signature": first["cms_base64"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let audit = json_of(&body);
    assert_eq!(audit["report"]["verdict"], "valid");
    assert_eq!(audit["registered"]["number"], first["number"]);
}

#[tokio::test]
async fn bad_documents_get_a_clear_4xx_and_nothing_is_written() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let before = document_count(&t).await;
    let mut wrong_authority = license_payload();
    wrong_authority["authority"]["bin"] = json!("940140000385");
    let cases = [
        (
            json!({"kind": "permit", "payload": license_payload()}),
            StatusCode::BAD_REQUEST,
            "unknown document kind",
        ),
        (
            json!({"kind": "license", "payload": {}}),
            StatusCode::BAD_REQUEST,
            "authority.name is required",
        ),
        (
            json!({"kind": "license", "payload": {"authority": {"name": "X", "bin": "123"}, "recipient": {"name": "Y", "iin": "123456789011"}}}),
            StatusCode::BAD_REQUEST,
            "recipient.iin",
        ),
        (
            json!({"kind": "license", "payload": wrong_authority}),
            StatusCode::BAD_REQUEST,
            "not the BIN of the signing official",
        ),
        (
            json!({"kind": "refusal", "payload": {"authority": license_payload()["authority"], "recipient": license_payload()["recipient"], "request_id": "R"}}),
            StatusCode::BAD_REQUEST,
            "reasons",
        ),
        (
            json!({"kind": "license", "payload": license_payload(), "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
        (
            json!({"kind": "license", "payload": {"authority": license_payload()["authority"], "recipient": license_payload()["recipient"], "activity": "x", "issued_on": "tomorrow", "request_id": "R", "extra": 1}}),
            StatusCode::BAD_REQUEST,
            "unknown field \\\"extra\\\"; issued_on",
        ),
        (
            json!({"kind": "license", "payload": license_payload(), "supersedes": "no-such-id"}),
            StatusCode::BAD_REQUEST,
            "supersedes",
        ),
    ];
    for (body, status, expect) in cases {
        let (got, reply) = call(&t, "POST", "/v1/documents", Some(body.clone())).await;
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(got, status, "{body}: {text}");
        assert!(
            text.contains(expect),
            "{body}: expected {expect:?} in {text}"
        );
        assert!(text.contains("\"error\""), "{text}");
    }
    let (status, _) = call(&t, "GET", "/v1/documents/0123456789abcdef", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &t,
        "GET",
        "/v1/documents/by-number/950341000052-2026-999999",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, reply) = call(
        &t,
        "POST",
        "/v1/documents/verify",
        Some(json!({"signature": "%%% not base64"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let (status, reply) = call(
        &t,
        "POST",
        "/v1/documents/verify",
        Some(json!({"signature": "Z2FyYmFnZQ=="})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "garbage that is base64 is a report, not an error"
    );
    assert_eq!(json_of(&reply)["report"]["verdict"], "invalid");
    assert!(json_of(&reply)["registered"].is_null());
    let huge = json!({"kind": "license", "payload": {"text": "x".repeat(200_000)}});
    let (status, _) = call(&t, "POST", "/v1/documents", Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(document_count(&t).await, before, "nothing was written");
}

#[tokio::test]
async fn the_pdf_of_a_document_carries_kazakh_text_and_a_qr_code_of_its_verification_page() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (status, body) = call(
        &t,
        "POST",
        "/v1/documents",
        Some(json!({"kind": "license", "payload": license_payload()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let doc = json_of(&body);
    let (status, pdf) = call(
        &t,
        "GET",
        &format!("/v1/documents/{}.pdf", doc["id"].as_str().expect("id")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let path = write(&t.path("license.pdf"), &pdf);
    let text = std::process::Command::new("pdftotext")
        .args([path.as_str(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    for needle in [
        "ЛИЦЕНЗИЯ",
        "Фармацевтикалық қызмет",
        "Әлем Фарм",
        "ЛИЦЕНЗИАР (ҚОЛТАҢБА ТЕСТ)",
        doc["number"].as_str().expect("n"),
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} missing from the PDF text:\n{text}"
        );
    }
    let png = t.path("page");
    let rendered = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            path.as_str(),
            png.to_str().expect("p"),
        ])
        .status()
        .expect("pdftoppm");
    assert!(rendered.success());
    let qr = std::process::Command::new("zbarimg")
        .args([
            "--raw",
            "-q",
            "-Sdisable",
            "-Sqrcode.enable",
            &format!("{}-1.png", png.display()),
        ])
        .output()
        .expect("zbarimg (zbar-tools)");
    assert_eq!(
        String::from_utf8_lossy(&qr.stdout).trim(),
        doc["verification_url"].as_str().expect("url")
    );
}

#[tokio::test]
async fn an_imported_official_key_signs_documents_from_the_cli_and_an_expired_one_is_refused() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (_, root) = t.ca_files();
    let p12 = write(
        &t.path("imported.p12"),
        t.issue(legal("official-sign")).await.pkcs12,
    );
    let pw = write(&t.path("imported.pw"), P12_PASSWORD);
    let mut payload = license_payload();
    payload["authority"]["bin"] = json!("940140000385");
    let payload_file = write(&t.path("payload.json"), payload.to_string());
    let run = |key: &str, password: &str, out: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args([
                "documents",
                "issue",
                "--kind",
                "license",
                "--payload",
                &payload_file,
                "--out",
                out,
            ])
            .env("QOLTANBA_DATABASE_URL", &t.url)
            .env(
                "QOLTANBA_CA_PASSPHRASE",
                std::str::from_utf8(PASSPHRASE).expect("utf-8"),
            )
            .env("QOLTANBA_SIGN_KEY_STORE", key)
            .env("QOLTANBA_SIGN_PASSWORD_FILE", password)
            .env("QOLTANBA_DATA_DIR", t.path("data"))
            .env_remove("QOLTANBA_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let out = t.path("imported.p7s");
    let (code, stdout, stderr) = run(&p12, &pw, out.to_str().expect("p"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("number  940140000385-"),
        "numbered under the imported official's authority: {stdout}"
    );
    let signed = openssl_ok(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        out.to_str().expect("p"),
        "-CAfile",
        root.to_str().expect("p"),
        "-out",
        "/dev/stdout",
    ]);
    assert!(signed.contains("\"bin\":\"940140000385\""), "{signed}");

    let nca = format!(
        "{}/fixtures/nca/rsa/individual_valid_sign.p12",
        env!("CARGO_MANIFEST_DIR")
    );
    let nca_pw = write(&t.path("nca.pw"), "Qwerty12");
    let refused = t.path("refused.p7s");
    let (code, _, stderr) = run(&nca, &nca_pw, refused.to_str().expect("p"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
    assert!(!refused.exists());
}
