//! Documents signed as XML (issue 13): `"format": "xml"` over HTTP (SQLite, and PostgreSQL when
//! QOLTANBA_TEST_POSTGRES is set) and `--format xml` from the CLI; the signed document served as
//! `signed.xml`, valid in our pipeline and in xmlsec1, found in the registry by its content and
//! not after one character of it changed; the PDF, the auditor page and the upload form work as
//! for CMS; what does not apply to XML is refused.

use axum::body::Body;
use axum::http::{header, Request as HttpRequest, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::*;
use crate::documents::license_payload;
use qoltanba::sign::document_xml;

const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8" standalone="no"?>"#;
const AUTHORITY_BIN: &str = "950341000052";

/// A router's answer: status, content type, body.
struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// The API's error shape with this status and code.
    fn error(&self, status: StatusCode, code: &str) -> String {
        let body = self.json(status);
        assert_eq!(body["error"]["code"], code, "{body}");
        body["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned()
    }
}

async fn send(t: &TestPki, request: axum::http::request::Builder, body: Body) -> Reply {
    let request = request.header("authorization", format!("Bearer {}", t.admin_token));
    let response = qoltanba::http::router(t.state())
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.into_body().collect().await.expect("body");
    Reply {
        status,
        content_type,
        body: body.to_bytes().to_vec(),
    }
}

async fn get(t: &TestPki, uri: &str) -> Reply {
    send(t, HttpRequest::get(uri), Body::empty()).await
}

async fn post(t: &TestPki, uri: &str, body: Value) -> Reply {
    let request = HttpRequest::post(uri).header("content-type", "application/json");
    send(t, request, Body::from(body.to_string())).await
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Issues a document as XML; returns its record and its signed.xml.
async fn issue_xml(t: &TestPki, kind: &str, payload: Value) -> (Value, Vec<u8>) {
    let doc = post(
        t,
        "/v1/documents",
        json!({"kind": kind, "payload": payload, "format": "xml"}),
    )
    .await
    .json(StatusCode::CREATED);
    let id = doc["id"].as_str().expect("id");
    let reply = get(t, &format!("/v1/documents/{id}/signed.xml")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.content_type, "application/xml");
    (doc, reply.body)
}

fn check<'a>(checks: &'a Value, id: &str) -> &'a Value {
    checks
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} check in {checks}"))
}

/// xmlsec1, anchored at the test root with the issuing CA given as untrusted.
fn xmlsec1_verifies(t: &TestPki, name: &str, xml: &[u8]) -> bool {
    let (issuing, root) = t.ca_files();
    let file = write(&t.path(name), xml);
    let out = std::process::Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(&root)
        .arg("--untrusted-pem")
        .arg(&issuing)
        .arg(&file)
        .output()
        .expect("xmlsec1 (apt-get install xmlsec1)");
    if !out.status.success() {
        eprintln!(
            "xmlsec1 on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

/// One character of the license's content changed (the request id).
fn tampered(signed: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(signed.to_vec()).expect("utf-8");
    assert!(text.contains("REQ-2026-0001"));
    text.replacen("REQ-2026-0001", "REQ-2026-0007", 1)
        .into_bytes()
}

on_both_backends!(an_xml_license_is_signed_served_verified_and_found_in_the_registry);
async fn an_xml_license_is_signed_served_verified_and_found_in_the_registry(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let (doc, signed) = issue_xml(&t, "license", license_payload()).await;
    let id = doc["id"].as_str().expect("id");
    let number = doc["number"].as_str().expect("number");
    assert_eq!(doc["format"], "xml");
    assert_eq!(doc["detached"], false);
    assert!(doc.get("cms_base64").is_none(), "{doc}");
    assert!(doc["signed_xml_url"]
        .as_str()
        .expect("signed_xml_url")
        .ends_with(&format!("/v1/documents/{id}/signed.xml")));
    assert_eq!(doc["document"]["number"], number);
    assert_eq!(doc["document"]["payload"], license_payload());

    // Anyone rebuilds the registered bytes from the JSON; the signed file is those bytes with
    // the signature inserted before the root's end tag, Kalkan's declaration on top.
    let unsigned = document_xml::to_xml(&doc["document"]).expect("xml form");
    assert_eq!(
        doc["sha256"],
        hex::encode(qoltanba::crypto::sha256(&unsigned))
    );
    assert!(signed.starts_with(format!("{DECLARATION}<document xmlns=").as_bytes()));
    let end = unsigned.len() - "</document>".len();
    assert_eq!(&signed[..end], &unsigned[..end]);
    assert!(signed.ends_with(b"</ds:Signature></document>"));
    let text = String::from_utf8_lossy(&signed);
    assert!(text.contains(&format!("<bin>{AUTHORITY_BIN}</bin>")));
    assert!(
        text.find("<authority>") < text.find("<recipient>"),
        "the authority's <bin> is the first"
    );

    // Our pipeline: valid, covering the whole document, the signer identified by the BIN the
    // document names first (the authority's).
    let report = post(&t, "/v1/verify", json!({"signature": b64(&signed)}))
        .await
        .json(StatusCode::OK);
    assert_eq!(report["verdict"], "valid", "{report}");
    let signer = &report["signers"][0];
    assert_eq!(signer["covers"], json!(["/document"]));
    assert_eq!(check(&signer["checks"], "identity")["status"], "passed");
    assert_eq!(report["expected_identity"]["source"], "content");
    assert_eq!(report["expected_identity"]["bin"], AUTHORITY_BIN);
    assert_eq!(signer["subject"]["bin"], AUTHORITY_BIN);

    // The registry finds it; by id the verification is valid too.
    let audit = post(
        &t,
        "/v1/documents/verify",
        json!({"signature": b64(&signed)}),
    )
    .await
    .json(StatusCode::OK);
    assert_eq!(audit["report"]["verdict"], "valid", "{audit}");
    assert_eq!(audit["registered"]["id"], id);
    assert_eq!(audit["registered"]["number"], number);
    assert_eq!(audit["registered"]["format"], "xml");
    let report = get(&t, &format!("/v1/documents/{id}/verification"))
        .await
        .json(StatusCode::OK);
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["expected_identity"]["source"], "caller");
    assert_eq!(report["expected_identity"]["bin"], AUTHORITY_BIN);

    // One character of content changed: not valid, not registered.
    let bad = tampered(&signed);
    let report = post(&t, "/v1/verify", json!({"signature": b64(&bad)}))
        .await
        .json(StatusCode::OK);
    assert_ne!(report["verdict"], "valid", "{report}");
    let audit = post(&t, "/v1/documents/verify", json!({"signature": b64(&bad)}))
        .await
        .json(StatusCode::OK);
    assert_ne!(audit["report"]["verdict"], "valid");
    assert!(audit["registered"].is_null(), "{audit}");

    // A peer: xmlsec1 (libxml2 and OpenSSL) accepts it, anchored at our root, and refuses the
    // changed copy. The test official's key is RSA (pki/hierarchy.toml).
    assert!(xmlsec1_verifies(&t, "license.xml", &signed));
    assert!(!xmlsec1_verifies(&t, "tampered.xml", &bad));

    // No CMS for an XML document, in the API's error shape.
    let message = get(&t, &format!("/v1/documents/{id}/signature.p7s"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains("signed.xml"), "{message}");
}

#[tokio::test]
async fn the_pdf_and_the_auditor_page_work_for_an_xml_document() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (doc, signed) = issue_xml(&t, "license", license_payload()).await;
    let id = doc["id"].as_str().expect("id");
    let number = doc["number"].as_str().expect("number");

    let pdf = get(&t, &format!("/v1/documents/{id}.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    let path = write(&t.path("license.pdf"), &pdf.body);
    let text = std::process::Command::new("pdftotext")
        .args([path.as_str(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    for needle in ["ЛИЦЕНЗИЯ", "Әлем Фарм", "Фармацевтикалық қызмет", number]
    {
        assert!(text.contains(needle), "{needle:?} not in the PDF:\n{text}");
    }

    // The page the QR code opens.
    let page = get(&t, &format!("/verify?number={number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("Подпись действительна"),
        "{}",
        page.text()
    );

    // The upload form, with the signed XML as the signature file.
    let boundary = "----qoltanba-xml-boundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"license.xml\"\r\nContent-Type: application/xml\r\n\r\n").into_bytes();
    body.extend_from_slice(&signed);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = HttpRequest::post("/verify").header(
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    );
    let page = send(&t, request, Body::from(body)).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    assert!(page.contains("Подпись действительна"), "{page}");
    assert!(page.contains(&format!("№ {number}")), "registered: {page}");
    assert!(
        page.contains(doc["sha256"].as_str().expect("sha256")),
        "{page}"
    );
}

#[tokio::test]
async fn a_document_to_a_person_is_checked_against_its_authority_by_the_registry() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let mut payload = license_payload();
    payload["recipient"] = json!({"name": "ТЕСТОВА ТЕСТ", "iin": licensee_iin()});
    let (doc, signed) = issue_xml(&t, "license", payload).await;
    // The recipient's IIN is the document's first <iin>; the registered document's signer is
    // still checked against its authority, not against the person it was issued to.
    let audit = post(
        &t,
        "/v1/documents/verify",
        json!({"signature": b64(&signed)}),
    )
    .await
    .json(StatusCode::OK);
    assert_eq!(audit["report"]["verdict"], "valid", "{audit}");
    assert_eq!(audit["report"]["expected_identity"]["bin"], AUTHORITY_BIN);
    assert!(audit["report"]["expected_identity"]["iin"].is_null());
    assert_eq!(audit["registered"]["id"], doc["id"]);
    let id = doc["id"].as_str().expect("id");
    let report = get(&t, &format!("/v1/documents/{id}/verification"))
        .await
        .json(StatusCode::OK);
    assert_eq!(report["verdict"], "valid", "{report}");

    // The limit of the mapping, pinned so that changing it is a decision: a bare verification,
    // which knows nothing of the registry, takes the first <iin> — the licensee's — as the
    // signer's and finds the official's instead (sign::document_xml, README).
    let bare = post(&t, "/v1/verify", json!({"signature": b64(&signed)}))
        .await
        .json(StatusCode::OK);
    assert_eq!(bare["expected_identity"]["iin"], licensee_iin());
    assert_eq!(
        check(&bare["signers"][0]["checks"], "identity")["code"],
        "IIN_MISMATCH"
    );
    assert_eq!(
        check(&bare["signers"][0]["checks"], "signature")["status"],
        "passed"
    );
}

fn notification() -> Value {
    json!({
        "authority": license_payload()["authority"],
        "recipient": {"name": "ТЕСТОВА ТЕСТ", "iin": licensee_iin()},
        "text": "Ваше заявление принято / Өтінішіңіз қабылданды"
    })
}

/// A person's IIN that is not the test official's (`valid_iin()` is the official's own).
fn licensee_iin() -> String {
    qoltanba::identity::Iin::generate(1985, 3, 8, qoltanba::identity::Sex::Female, 4321)
        .expect("generate IIN")
        .to_string()
}

#[tokio::test]
async fn what_does_not_apply_to_xml_is_refused_and_cms_stays_as_it_was() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let message = post(
        &t,
        "/v1/documents",
        json!({"kind": "license", "payload": license_payload(), "format": "xml", "detached": true}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_document");
    assert!(message.contains("detached"), "{message}");
    let message = post(
        &t,
        "/v1/documents",
        json!({"kind": "license", "payload": license_payload(), "format": "pdf"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("expected `cms` or `xml`"), "{message}");

    // CMS by default: no signed.xml, the .p7s and cms_base64 as before.
    let doc = post(
        &t,
        "/v1/documents",
        json!({"kind": "license", "payload": license_payload()}),
    )
    .await
    .json(StatusCode::CREATED);
    assert_eq!(doc["format"], "cms");
    assert!(doc.get("signed_xml_url").is_none(), "{doc}");
    let id = doc["id"].as_str().expect("id");
    let message = get(&t, &format!("/v1/documents/{id}/signed.xml"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains("signature.p7s"), "{message}");
    let p7s = get(&t, &format!("/v1/documents/{id}/signature.p7s")).await;
    assert_eq!(p7s.status, StatusCode::OK);
    let cms = base64::engine::general_purpose::STANDARD
        .decode(doc["cms_base64"].as_str().expect("cms_base64"))
        .expect("b64");
    assert_eq!(p7s.body, cms);
    get(&t, "/v1/documents/0123456789abcdef/signed.xml")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");

    // Both views are what the OpenAPI document describes: nothing unknown, nothing required
    // left out; `format` defaults to cms there too.
    let (xml_doc, _) = issue_xml(&t, "notification", notification()).await;
    let api = get(&t, "/openapi.json").await.json(StatusCode::OK);
    let schema = &api["components"]["schemas"]["DocumentView"];
    for view in [&doc, &xml_doc] {
        let sent: Vec<&String> = view.as_object().expect("object").keys().collect();
        for key in &sent {
            assert!(
                schema["properties"].get(key.as_str()).is_some(),
                "{key} not described"
            );
        }
        for required in schema["required"].as_array().expect("required") {
            assert!(sent.iter().any(|k| *k == required), "{required} not sent");
        }
    }
    assert_eq!(
        api["components"]["schemas"]["IssueBody"]["properties"]["format"]["default"],
        "cms"
    );

    // Someone else's XML signature: verified, not registered.
    let kalkan = crate::verify_xml::kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    let audit = post(
        &t,
        "/v1/documents/verify",
        json!({"signature": b64(&kalkan)}),
    )
    .await
    .json(StatusCode::OK);
    assert!(audit["registered"].is_null(), "{audit}");
    assert_eq!(audit["report"]["signers"][0]["covers"], json!(["/a"]));
}

#[tokio::test]
async fn the_cli_issues_an_xml_document_that_xmlsec1_accepts() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let payload = write(&t.path("payload.json"), license_payload().to_string());
    let run = |extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args([
                "documents",
                "issue",
                "--kind",
                "license",
                "--payload",
                &payload,
            ])
            .args(extra)
            .env("QOLTANBA_DATABASE_URL", &t.url)
            .env(
                "QOLTANBA_CA_PASSPHRASE",
                std::str::from_utf8(PASSPHRASE).expect("utf-8"),
            )
            .env("QOLTANBA_DATA_DIR", t.path("data"))
            .env_remove("QOLTANBA_CONFIG")
            .env_remove("QOLTANBA_SIGN_KEY_STORE")
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let out = t.path("license.xml");
    let (code, stdout, stderr) = run(&["--format", "xml", "--out", out.to_str().expect("p")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let signed = std::fs::read(&out).expect("written");
    assert!(signed.starts_with(DECLARATION.as_bytes()));
    assert!(xmlsec1_verifies(&t, "cli.xml", &signed));
    let sha256 = hex::encode(qoltanba::crypto::sha256(
        &document_xml::registered_form(&signed).expect("ours"),
    ));
    assert!(stdout.contains(&format!("sha256  {sha256}")), "{stdout}");
    let number = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number  "))
        .expect("number");
    let record = get(&t, &format!("/v1/documents/by-number/{number}"))
        .await
        .json(StatusCode::OK);
    assert_eq!(record["format"], "xml");

    let refused = t.path("refused.xml");
    let (code, _, stderr) = run(&[
        "--format",
        "xml",
        "--detached",
        "--out",
        refused.to_str().expect("p"),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--detached"), "{stderr}");
    assert!(!refused.exists());
    let (code, _, stderr) = run(&["--format", "html"]);
    assert_eq!(code, 2, "{stderr}");
}
