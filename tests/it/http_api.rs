//! The HTTP API through the real router: status codes, the one error shape
//! `{"error":{"code","message"}}`, and what each endpoint hands back.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use der::{Decode, Encode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

use crate::common::{individual, openssl_ok, valid_iin, write, Backend, TestPki, P12_PASSWORD};
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::http::{router, AppState};
use qoltanba::pki::IssueRequest;

const CERTS: &str = "/v1/pki/certificates";
/// NCA RK's own test IIN: twelve digits, wrong check digit (it should end in 3).
const NCA_TEST_IIN: &str = "123456789011";

/// A response, collected.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name} header; headers: {:?}", self.headers))
            .to_str()
            .expect("ASCII header")
    }

    /// Asserts the status and a successful JSON body; returns the body.
    fn ok_json(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert!(
            self.header(header::CONTENT_TYPE)
                .starts_with("application/json"),
            "content type {:?}",
            self.headers.get(header::CONTENT_TYPE)
        );
        self.json()
    }

    /// Asserts the status and the API's error shape with `code`; returns the message.
    fn error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert!(
            self.header(header::CONTENT_TYPE)
                .starts_with("application/json"),
            "an error must be JSON, got {:?}: {}",
            self.headers.get(header::CONTENT_TYPE),
            self.text()
        );
        let v = self.json();
        let error = v
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("error"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("not the error shape: {v}"));
        assert_eq!(error.len(), 2, "error has exactly code and message: {v}");
        assert_eq!(error["code"], code, "{v}");
        let message = error["message"]
            .as_str()
            .unwrap_or_else(|| panic!("message is not a string: {v}"));
        assert!(!message.is_empty(), "empty message: {v}");
        message.to_owned()
    }
}

async fn pki() -> TestPki {
    TestPki::new(Backend::Sqlite)
        .await
        .expect("SQLite is always available")
}

async fn call(t: &TestPki, method: Method, uri: &str, body: Body) -> Reply {
    let app = router(AppState {
        pki: Arc::clone(&t.pki),
    });
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("request");
    let response = app
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(t: &TestPki, uri: &str) -> Reply {
    call(t, Method::GET, uri, Body::empty()).await
}

async fn post(t: &TestPki, uri: &str, body: impl Into<Body>) -> Reply {
    call(t, Method::POST, uri, body.into()).await
}

async fn post_json(t: &TestPki, uri: &str, value: &Value) -> Reply {
    post(t, uri, serde_json::to_vec(value).expect("serialise")).await
}

/// The serials the API lists.
async fn serials(t: &TestPki) -> Vec<String> {
    let v = get(t, &format!("{CERTS}?limit=1000"))
        .await
        .ok_json(StatusCode::OK);
    v.as_array()
        .unwrap_or_else(|| panic!("the list is not an array: {v}"))
        .iter()
        .map(|c| c["serial"].as_str().expect("serial").to_owned())
        .collect()
}

/// A valid individual-sign request as JSON.
fn individual_json() -> Value {
    json!({
        "profile": "individual-sign",
        "iin": valid_iin(),
        "surname": "ТЕСТОВ",
        "given_name": "ТЕСТ",
        "patronymic": "ТЕСТОВИЧ",
        "password": P12_PASSWORD,
    })
}

fn with(mut base: Value, field: &str, value: Value) -> Value {
    base[field] = value;
    base
}

fn without(mut base: Value, field: &str) -> Value {
    base.as_object_mut().expect("object").remove(field);
    base
}

/// Issues directly through the library with a quick key; returns the serial.
async fn issue_p256(t: &TestPki) -> String {
    let request = IssueRequest {
        key: KeyAlgorithm::P256,
        ..individual("individual-sign")
    };
    t.issue(request).await.record.serial
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).expect("one PEM block");
    assert_eq!(label, "CERTIFICATE");
    der
}

fn serial_of(der: &[u8]) -> String {
    let cert = Certificate::from_der(der).expect("certificate");
    hex::encode_upper(cert.tbs_certificate.serial_number.as_bytes())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn issuing_an_individual_certificate_returns_it_with_a_pkcs12_that_opens() {
    let t = pki().await;
    let before = serials(&t).await;
    let reply = post_json(&t, CERTS, &individual_json()).await;
    let v = reply.ok_json(StatusCode::CREATED);
    assert_eq!(
        reply.header(header::CACHE_CONTROL),
        "no-store",
        "the body holds a private key"
    );

    let serial = v["serial"].as_str().expect("serial");
    assert_eq!(serial.len(), 40, "20-byte serial: {serial}");
    assert!(serial
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
    assert_eq!(v["issuer"], t.pki.issuing().id.as_str());
    assert_eq!(v["profile"], "individual-sign");
    assert_eq!(v["iin"], valid_iin().as_str());
    assert_eq!(v["bin"], Value::Null);
    assert_eq!(v["status"], "good");
    assert_eq!(v["revoked_at"], Value::Null);
    assert_eq!(v["key_algorithm"], "rsa2048");
    assert_eq!(v["pkcs12_format"], "modern");
    let subject = v["subject"].as_str().expect("subject");
    for part in [
        "CN=ТЕСТОВ ТЕСТ",
        "SURNAME=ТЕСТОВ",
        &format!("SERIALNUMBER=IIN{}", valid_iin()),
        "C=KZ",
        "GIVENNAME=ТЕСТОВИЧ",
    ] {
        assert!(subject.contains(part), "{part:?} missing from {subject:?}");
    }

    // The certificate is the one described, and the key store holds it and the chain.
    let cert_der = pem_to_der(v["certificate_pem"].as_str().expect("certificate_pem"));
    assert_eq!(serial_of(&cert_der), serial);
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(v["pkcs12_base64"].as_str().expect("pkcs12_base64"))
        .expect("pkcs12_base64 is base64");
    let contents = qoltanba::keystore::open_pkcs12(&p12, P12_PASSWORD).expect("the PKCS#12 opens");
    assert_eq!(contents.certificate, cert_der);
    assert!(!contents.private_key_pkcs8.is_empty());
    let chain: Vec<Vec<u8>> = t.pki.ca_chain().into_iter().map(<[u8]>::to_vec).collect();
    assert_eq!(
        contents.chain, chain,
        "the key store carries issuing CA then root"
    );
    assert!(
        qoltanba::keystore::open_pkcs12(&p12, "not the password").is_err(),
        "a wrong password must not open the key store"
    );

    let ca_chain_pem = v["ca_chain_pem"].as_str().expect("ca_chain_pem");
    let ca_chain: Vec<Vec<u8>> = Certificate::load_pem_chain(ca_chain_pem.as_bytes())
        .expect("ca_chain_pem parses")
        .iter()
        .map(|c| c.to_der().expect("der"))
        .collect();
    assert_eq!(ca_chain, chain);

    // Stored: listed, and shown by serial — without the key store.
    let after = serials(&t).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.iter().any(|s| s == serial));
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["certificate_pem"], v["certificate_pem"]);
    assert!(
        shown.get("pkcs12_base64").is_none(),
        "the key store is returned once only"
    );
}

#[tokio::test]
async fn legacy_pkcs12_is_labelled_and_opens() {
    let t = pki().await;
    let body = with(
        with(individual_json(), "legacy", json!(true)),
        "key",
        json!("p256"),
    );
    let v = post_json(&t, CERTS, &body)
        .await
        .ok_json(StatusCode::CREATED);
    assert_eq!(v["pkcs12_format"], "legacy");
    assert_eq!(v["key_algorithm"], "p256");
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(v["pkcs12_base64"].as_str().expect("pkcs12_base64"))
        .expect("base64");
    let contents = qoltanba::keystore::open_pkcs12(&p12, P12_PASSWORD).expect("legacy opens");
    assert_eq!(
        contents.certificate,
        pem_to_der(v["certificate_pem"].as_str().expect("pem"))
    );
    // And OpenSSL 3 opens it with -legacy, as it would a real NCA key store.
    let p12_path = write(&t.path("legacy.p12"), &p12);
    let out = openssl_ok(&[
        "pkcs12",
        "-legacy",
        "-in",
        &p12_path,
        "-passin",
        &format!("pass:{P12_PASSWORD}"),
        "-nokeys",
    ]);
    assert!(out.contains("BEGIN CERTIFICATE"), "{out}");
}

#[tokio::test]
async fn legal_head_sign_puts_the_organisation_and_bin_in_the_subject() {
    let t = pki().await;
    let body = json!({
        "profile": "legal-head-sign",
        "iin": valid_iin(),
        "bin": "940140000385",
        "org": "АО \"ҚОЛТАҢБА ТЕСТ\"",
        "surname": "ТЕСТОВ",
        "given_name": "ТЕСТ",
        "patronymic": "ТЕСТОВИЧ",
        "password": P12_PASSWORD,
        "key": "ed25519",
    });
    let v = post_json(&t, CERTS, &body)
        .await
        .ok_json(StatusCode::CREATED);
    assert_eq!(v["profile"], "legal-head-sign");
    assert_eq!(v["bin"], "940140000385");
    assert_eq!(v["iin"], valid_iin().as_str());
    let subject = v["subject"].as_str().expect("subject");
    assert!(subject.contains("OU=BIN940140000385"), "{subject}");
    assert!(subject.contains("O=АО \"ҚОЛТАҢБА ТЕСТ\""), "{subject}");
    // The certificate itself, not only the API's summary, says so.
    let der = pem_to_der(v["certificate_pem"].as_str().expect("pem"));
    let cert = Certificate::from_der(&der).expect("certificate");
    let name = &cert.tbs_certificate.subject;
    use qoltanba::pki::name::attribute;
    assert_eq!(attribute(name, "OU").as_deref(), Some("BIN940140000385"));
    assert_eq!(
        attribute(name, "O").as_deref(),
        Some("АО \"ҚОЛТАҢБА ТЕСТ\"")
    );
    assert_eq!(
        attribute(name, "SERIALNUMBER"),
        Some(format!("IIN{}", valid_iin()))
    );
}

#[tokio::test]
async fn bad_issue_requests_are_refused_with_400_and_store_nothing() {
    let t = pki().await;
    let mut wrong_check = valid_iin().into_bytes();
    wrong_check[11] = b'0' + (wrong_check[11] - b'0' + 1) % 10;
    let wrong_check = String::from_utf8(wrong_check).expect("ascii");
    let ok = individual_json;
    let legal = |v: Value| {
        with(
            with(v, "profile", json!("legal-head-sign")),
            "key",
            json!("p256"),
        )
    };

    // (what, body, code, words the message must contain)
    let cases: Vec<(&str, Vec<u8>, &str, Vec<String>)> = vec![
        (
            "unknown profile",
            with(ok(), "profile", json!("nobody-sign")),
            "invalid_request",
            vec![
                "nobody-sign",
                "known profiles",
                "individual-sign",
                "legal-head-sign",
            ],
        ),
        (
            "IIN of 11 digits",
            with(ok(), "iin", json!("90051730123")),
            "invalid_request",
            vec!["IIN", "12 digits", "11 characters"],
        ),
        (
            "IIN with a letter",
            with(ok(), "iin", json!("9005173O1234")),
            "invalid_request",
            vec!["IIN", "only digits", "'O'"],
        ),
        (
            "IIN with a wrong check digit",
            with(ok(), "iin", json!(wrong_check)),
            "invalid_request",
            vec![&wrong_check, "check digit", "allow_invalid_check_digit"],
        ),
        (
            "NCA's test IIN without the flag",
            with(ok(), "iin", json!(NCA_TEST_IIN)),
            "invalid_request",
            vec![
                NCA_TEST_IIN,
                "wrong check digit (expected 3)",
                "allow_invalid_check_digit",
            ],
        ),
        (
            "missing password",
            without(ok(), "password"),
            "invalid_request",
            vec!["password", "required"],
        ),
        (
            "empty password",
            with(ok(), "password", json!("")),
            "invalid_request",
            vec!["password is empty"],
        ),
        (
            "BIN for an individual",
            with(ok(), "bin", json!("940140000385")),
            "invalid_request",
            vec!["individual-sign", "no place for a BIN"],
        ),
        (
            "legal profile without bin or org",
            legal(ok()),
            "invalid_request",
            vec!["legal-head-sign", "requires a BIN", "org"],
        ),
        (
            "legal profile with a malformed BIN",
            with(
                with(legal(ok()), "bin", json!("94014000038")),
                "org",
                json!("ТОО"),
            ),
            "invalid_request",
            vec!["BIN", "12 digits"],
        ),
        (
            "days 0",
            with(ok(), "days", json!(0)),
            "invalid_request",
            vec!["days must be between 1 and 3650", "got 0"],
        ),
        (
            "days 99999",
            with(ok(), "days", json!(99999)),
            "invalid_request",
            vec!["days must be between 1 and 3650", "got 99999"],
        ),
        (
            "days beyond the issuing CA",
            with(ok(), "days", json!(3000)),
            "invalid_request",
            vec!["days=3000", "outlive the issuing CA"],
        ),
        (
            "negative days",
            with(ok(), "days", json!(-1)),
            "bad_request",
            vec!["not valid JSON for this request", "-1"],
        ),
        (
            "the OCSP responder's profile",
            with(ok(), "profile", json!("ocsp-responder")),
            "invalid_request",
            vec!["OCSP responder profile"],
        ),
        (
            "unknown key type",
            with(ok(), "key", json!("rsa1024")),
            "bad_request",
            vec!["rsa1024", "rsa2048"],
        ),
        (
            "unknown JSON field",
            with(ok(), "colour", json!("blue")),
            "bad_request",
            vec!["unknown field", "colour"],
        ),
        (
            "days as a string",
            with(ok(), "days", json!("ten")),
            "bad_request",
            vec!["invalid type", "ten"],
        ),
        (
            "IIN as a number",
            with(ok(), "iin", json!(900517301234_u64)),
            "bad_request",
            vec!["invalid type", "expected a string"],
        ),
        (
            "no profile",
            without(ok(), "profile"),
            "bad_request",
            vec!["missing field", "profile"],
        ),
        (
            "a JSON array",
            json!([ok()]),
            "bad_request",
            vec!["not valid JSON for this request"],
        ),
        (
            "several problems at once",
            json!({
                "profile": "individual-sign",
                "iin": "12345",
                "surname": "  ",
                "given_name": "ТЕСТ",
                "bin": "940140000385",
                "password": "",
                "days": 0,
            }),
            "invalid_request",
            vec![
                "IIN must be exactly 12 digits",
                "surname is empty",
                "no place for a BIN",
                "password is empty",
                "got 0",
            ],
        ),
    ]
    .into_iter()
    .map(|(what, body, code, words)| {
        let words = words.into_iter().map(str::to_owned).collect();
        (what, serde_json::to_vec(&body).expect("json"), code, words)
    })
    .chain([
        (
            "garbage body",
            b"profile=individual-sign&iin=1".to_vec(),
            "bad_request",
            vec!["not valid JSON".to_owned()],
        ),
        (
            "truncated JSON",
            br#"{"profile": "individual-sign", "iin": "9005"#.to_vec(),
            "bad_request",
            vec!["not valid JSON".to_owned(), "EOF".to_owned()],
        ),
        (
            "empty body",
            Vec::new(),
            "bad_request",
            vec!["empty".to_owned()],
        ),
    ])
    .collect();

    let before = serials(&t).await;
    for (what, body, code, words) in cases {
        let reply = post(&t, CERTS, body).await;
        let message = reply.error(StatusCode::BAD_REQUEST, code);
        for word in &words {
            assert!(
                message.contains(word.as_str()),
                "{what}: message should mention {word:?}: {message}"
            );
        }
        assert!(
            !message.contains(P12_PASSWORD),
            "{what}: the password is echoed: {message}"
        );
        assert_eq!(
            serials(&t).await,
            before,
            "{what}: a refused request stored something"
        );
    }
}

#[tokio::test]
async fn ncas_test_iin_is_accepted_with_allow_invalid_check_digit() {
    let t = pki().await;
    let body = with(
        with(
            with(individual_json(), "iin", json!(NCA_TEST_IIN)),
            "allow_invalid_check_digit",
            json!(true),
        ),
        "key",
        json!("p256"),
    );
    let v = post_json(&t, CERTS, &body)
        .await
        .ok_json(StatusCode::CREATED);
    assert_eq!(v["iin"], NCA_TEST_IIN);
    let subject = v["subject"].as_str().expect("subject");
    assert!(
        subject.contains("SERIALNUMBER=IIN123456789011"),
        "{subject}"
    );
    // The flag relaxes the check digit, not the shape.
    let reply = post_json(&t, CERTS, &with(body, "iin", json!("12345678901X"))).await;
    let message = reply.error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("only digits"), "{message}");
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_error_shape_and_store_nothing() {
    let t = pki().await;
    let before = serials(&t).await;
    // 100 KiB of otherwise plausible JSON.
    let huge = with(individual_json(), "surname", json!("Ж".repeat(50 * 1024)));
    let reply = post_json(&t, CERTS, &huge).await;
    let message = reply.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(message.contains("too large"), "{message}");
    // Just under the 64 KiB limit the body is read and judged on its content instead.
    let big = with(individual_json(), "surname", json!("Ж".repeat(30 * 1024)));
    let message = post_json(&t, CERTS, &big)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("surname is longer than 128"), "{message}");
    // Revocation bodies share the limit; OCSP requests have their own, smaller one.
    let serial = serials(&t).await[0].clone();
    let reply = post(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        format!(r#"{{"reason":"{}"}}"#, "k".repeat(70 * 1024)),
    )
    .await;
    reply.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let reply = post(&t, "/pki/ocsp", vec![0x30; 20 * 1024]).await;
    reply.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(serials(&t).await, before);
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(
        shown["status"], "good",
        "an oversized revocation must not revoke"
    );
}

#[tokio::test]
async fn certificates_are_found_by_serial_in_the_forms_people_type() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let colons = serial
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join(":");
    for form in [
        serial.clone(),
        serial.to_ascii_lowercase(),
        colons.clone(),
        colons.to_ascii_lowercase(),
        format!("0x{serial}"),
    ] {
        let v = get(&t, &format!("{CERTS}/{form}"))
            .await
            .ok_json(StatusCode::OK);
        assert_eq!(v["serial"], serial.as_str(), "looked up as {form}");
        assert_eq!(v["status"], "good");
        assert_eq!(v["profile"], "individual-sign");
    }

    let unknown = "7F".repeat(20);
    let message = get(&t, &format!("{CERTS}/{unknown}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains(&unknown), "{message}");

    for bad in ["not-a-serial", "12G4", &"AB".repeat(40)] {
        let message = get(&t, &format!("{CERTS}/{bad}"))
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains("not a hexadecimal"), "{bad}: {message}");
    }
}

#[tokio::test]
async fn revoke_hold_and_release_follow_the_status_rules() {
    let t = pki().await;
    let a = issue_p256(&t).await;
    let b = issue_p256(&t).await;
    let revoke = |serial: &str| format!("{CERTS}/{serial}/revoke");
    let release = |serial: &str| format!("{CERTS}/{serial}/release");

    let v = post_json(&t, &revoke(&a), &json!({"reason": "keyCompromise"}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["serial"], a.as_str());
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "keyCompromise");
    let revoked_at = v["revoked_at"].as_str().expect("revoked_at is set");
    assert!(
        revoked_at.ends_with('Z') && revoked_at.contains('T'),
        "{revoked_at}"
    );
    let shown = get(&t, &format!("{CERTS}/{a}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["status"], "revoked");

    // Revoked is final: again → 409, and neither a hold nor a release changes it.
    for body in [
        json!({"reason": "keyCompromise"}),
        json!({"reason": "certificateHold"}),
    ] {
        let message = post_json(&t, &revoke(&a), &body)
            .await
            .error(StatusCode::CONFLICT, "conflict");
        assert!(message.contains("already revoked"), "{message}");
    }
    let message = post(&t, &release(&a), Body::empty())
        .await
        .error(StatusCode::CONFLICT, "conflict");
    assert!(message.contains("not on hold"), "{message}");
    let shown = get(&t, &format!("{CERTS}/{a}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["revoked_at"], revoked_at);

    // Unknown serial → 404; a reason that is not one → 400, and b stays good.
    let unknown = "7F".repeat(20);
    post_json(&t, &revoke(&unknown), &json!({"reason": "keyCompromise"}))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    post(&t, &release(&unknown), Body::empty())
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    for reason in ["stolen", "removeFromCRL", "7"] {
        let message = post_json(&t, &revoke(&b), &json!({ "reason": reason }))
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains(reason), "{reason}: {message}");
    }
    let message = post_json(
        &t,
        &revoke(&b),
        &json!({"reason": "keyCompromise", "why": "x"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("why"), "{message}");
    let shown = get(&t, &format!("{CERTS}/{b}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["status"], "good");

    // Release of a good certificate → 409.
    let message = post(&t, &release(&b), Body::empty())
        .await
        .error(StatusCode::CONFLICT, "conflict");
    assert!(message.contains("not on hold"), "{message}");

    // Hold, release, good again — with the revocation fields cleared.
    let v = post_json(&t, &revoke(&b), &json!({"reason": "certificateHold"}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "hold");
    assert_eq!(v["revocation_reason"], "certificateHold");
    assert!(v["revoked_at"].is_string());
    let v = post(&t, &release(&b), Body::empty())
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "good");
    assert_eq!(v["revoked_at"], Value::Null);
    assert_eq!(v["revocation_reason"], Value::Null);

    // A held certificate may be revoked for good.
    post_json(&t, &revoke(&b), &json!({"reason": "certificateHold"}))
        .await
        .ok_json(StatusCode::OK);
    let v = post_json(&t, &revoke(&b), &json!({"reason": "cessationOfOperation"}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "cessationOfOperation");
}

#[tokio::test]
async fn revoke_without_a_body_uses_reason_unspecified() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let v = post(&t, &format!("{CERTS}/{serial}/revoke"), Body::empty())
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "unspecified");
}

#[tokio::test]
async fn revoke_with_an_empty_object_uses_reason_unspecified() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let v = post_json(&t, &format!("{CERTS}/{serial}/revoke"), &json!({}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "unspecified");
}

#[tokio::test]
async fn json_endpoints_refuse_bodies_not_sent_as_json() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let app = router(AppState {
            pki: Arc::clone(&t.pki),
        });
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{CERTS}/{serial}/revoke"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(r#"{"reason":"keyCompromise"}"#))
            .expect("request");
        let status = app.oneshot(request).await.expect("infallible").status();
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
    }
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(
        shown["status"], "good",
        "a text/plain POST revoked the certificate"
    );
}

#[tokio::test]
async fn ca_certificates_are_published_as_der() {
    let t = pki().await;
    let chain = t.pki.ca_chain();
    for (id, der) in [
        (&t.pki.issuing().id, chain[0]),
        (&t.pki.root().id, chain[1]),
    ] {
        let reply = get(&t, &format!("/pki/{id}.cer")).await;
        assert_eq!(reply.status, StatusCode::OK, "{id}: {}", reply.text());
        assert_eq!(reply.header(header::CONTENT_TYPE), "application/pkix-cert");
        assert_eq!(reply.body, der, "{id}");
        Certificate::from_der(&reply.body).expect("DER certificate");
    }
    let message = get(&t, "/pki/nobody.cer")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains("nobody"), "{message}");
    let issuing = &t.pki.issuing().id;
    get(&t, &format!("/pki/{issuing}.pem"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    get(&t, &format!("/pki/{issuing}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

fn crl_serials(der: &[u8]) -> Vec<String> {
    let crl = CertificateList::from_der(der).expect("a DER CRL");
    crl.tbs_cert_list
        .revoked_certificates
        .unwrap_or_default()
        .iter()
        .map(|r| hex::encode_upper(r.serial_number.as_bytes()))
        .collect()
}

#[tokio::test]
async fn crls_are_published_and_list_revoked_certificates() {
    let t = pki().await;
    let issuing = t.pki.issuing().id.clone();
    let root = t.pki.root().id.clone();
    let full_url = format!("/pki/crl/{issuing}.crl");
    let delta_url = format!("/pki/crl/{issuing}-delta.crl");

    for url in [&full_url, &delta_url, &format!("/pki/crl/{root}.crl")] {
        let reply = get(&t, url).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.text());
        assert_eq!(reply.header(header::CONTENT_TYPE), "application/pkix-crl");
        assert!(
            crl_serials(&reply.body).is_empty(),
            "{url}: nothing revoked yet"
        );
    }

    let serial = issue_p256(&t).await;
    let held = issue_p256(&t).await;
    post_json(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        &json!({"reason": "keyCompromise"}),
    )
    .await
    .ok_json(StatusCode::OK);
    post_json(
        &t,
        &format!("{CERTS}/{held}/revoke"),
        &json!({"reason": "certificateHold"}),
    )
    .await
    .ok_json(StatusCode::OK);

    let full = get(&t, &full_url).await;
    assert_eq!(full.status, StatusCode::OK);
    let listed = crl_serials(&full.body);
    assert!(listed.contains(&serial), "{serial} not in {listed:?}");
    assert!(
        listed.contains(&held),
        "a held certificate is listed too: {listed:?}"
    );
    let delta = get(&t, &delta_url).await;
    assert_eq!(delta.status, StatusCode::OK);
    assert!(crl_serials(&delta.body).contains(&serial));

    // OpenSSL checks the signature and reads the reason.
    let (issuing_pem, _) = t.ca_files();
    let crl_path = write(&t.path("full.crl"), &full.body);
    let text = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &crl_path,
        "-CAfile",
        issuing_pem.to_str().expect("utf-8"),
        "-noout",
        "-text",
    ]);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("Certificate Hold"), "{text}");

    // The root's CRL does not list subscriber certificates; it publishes no delta.
    let root_crl = get(&t, &format!("/pki/crl/{root}.crl")).await;
    assert!(crl_serials(&root_crl.body).is_empty());
    get(&t, &format!("/pki/crl/{root}-delta.crl"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");

    get(&t, "/pki/crl/nope.crl")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    get(&t, &format!("/pki/crl/{issuing}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

const MALFORMED_REQUEST: [u8; 5] = [0x30, 0x03, 0x0a, 0x01, 0x01];

#[tokio::test]
async fn ocsp_answers_garbage_with_malformed_request() {
    let t = pki().await;
    for body in [b"hello, OCSP".to_vec(), Vec::new(), vec![0x30, 0x00]] {
        let reply = post(&t, "/pki/ocsp", body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "RFC 6960: errors are OCSP responses"
        );
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/ocsp-response"
        );
        assert_eq!(reply.body, MALFORMED_REQUEST, "for {body:?}");
    }
    for path in ["not*base64", "aGVsbG8sIE9DU1A%3D", "%%%"] {
        let reply = get(&t, &format!("/pki/ocsp/{path}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.body, MALFORMED_REQUEST, "GET {path}");
    }
}

/// Percent-encodes base64 for a URL path segment, as RFC 6960 appendix A.1 asks.
fn url_encode_base64(b64: &str) -> String {
    b64.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Asks OpenSSL to verify an OCSP response against the request and the chain; returns its text.
fn openssl_verify_ocsp(t: &TestPki, name: &str, request: &str, response: &[u8]) -> String {
    let (issuing, root) = t.ca_files();
    let resp_path = write(&t.path(&format!("{name}.resp.der")), response);
    openssl_ok(&[
        "ocsp",
        "-respin",
        &resp_path,
        "-reqin",
        request,
        "-issuer",
        issuing.to_str().expect("utf-8"),
        "-CAfile",
        root.to_str().expect("utf-8"),
        "-verify_other",
        issuing.to_str().expect("utf-8"),
        "-resp_text",
    ])
}

#[tokio::test]
async fn ocsp_answers_real_requests_that_openssl_verifies() {
    let t = pki().await;
    let issued = t
        .issue(IssueRequest {
            key: KeyAlgorithm::P256,
            ..individual("individual-sign")
        })
        .await;
    let serial = issued.record.serial.clone();
    let cert_path = write(
        &t.path("cert.pem"),
        qoltanba::pki::certificate::pem(&issued.record.certificate).expect("pem"),
    );
    let (issuing, _) = t.ca_files();
    let issuing = issuing.to_str().expect("utf-8").to_owned();

    let make_request = |name: &str, nonce: bool| -> (String, Vec<u8>) {
        let path = t.path(name).to_str().expect("utf-8").to_owned();
        let mut args = vec![
            "ocsp", "-issuer", &issuing, "-cert", &cert_path, "-reqout", &path,
        ];
        if !nonce {
            args.push("-no_nonce");
        }
        openssl_ok(&args);
        let der = std::fs::read(&path).expect("request written");
        (path, der)
    };
    let (plain_path, plain) = make_request("plain.req", false);
    let (nonce_path, with_nonce) = make_request("nonce.req", true);

    // POST, without and with a nonce.
    for (name, path, der) in [
        ("plain", &plain_path, &plain),
        ("nonce", &nonce_path, &with_nonce),
    ] {
        let reply = post(&t, "/pki/ocsp", der.clone()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/ocsp-response"
        );
        let text = openssl_verify_ocsp(&t, name, path, &reply.body);
        assert!(text.contains("Response verify OK"), "{name}: {text}");
        assert!(text.contains("Cert Status: good"), "{name}: {text}");
        assert!(text.contains(&serial), "{name}: serial missing: {text}");
        if name == "nonce" {
            assert!(text.contains("OCSP Nonce"), "the nonce is echoed: {text}");
            assert!(!text.contains("WARNING"), "{text}");
        }
    }

    // GET with the URL-encoded base64 request gives the same answer.
    let encoded = b64(&with_nonce);
    let reply = get(&t, &format!("/pki/ocsp/{}", url_encode_base64(&encoded))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "application/ocsp-response"
    );
    let text = openssl_verify_ocsp(&t, "get", &nonce_path, &reply.body);
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("Cert Status: good"), "{text}");

    // After revocation the responder says so, with the reason.
    post_json(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        &json!({"reason": "keyCompromise"}),
    )
    .await
    .ok_json(StatusCode::OK);
    let reply = post(&t, "/pki/ocsp", plain.clone()).await;
    let text = openssl_verify_ocsp(&t, "revoked", &plain_path, &reply.body);
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("Cert Status: revoked"), "{text}");
    assert!(text.contains("keyCompromise"), "{text}");
    let reply = get(
        &t,
        &format!("/pki/ocsp/{}", url_encode_base64(&b64(&plain))),
    )
    .await;
    let text = openssl_verify_ocsp(&t, "revoked-get", &plain_path, &reply.body);
    assert!(text.contains("Cert Status: revoked"), "{text}");

    // A certificate the service never issued (a CA certificate's serial under our issuer is
    // fine; a foreign issuer is not ours): openssl asks about the root, issued by itself.
    let (_, root) = t.ca_files();
    let root = root.to_str().expect("utf-8").to_owned();
    let foreign = t.path("foreign.req").to_str().expect("utf-8").to_owned();
    openssl_ok(&[
        "ocsp",
        "-issuer",
        &root,
        "-cert",
        &root,
        "-reqout",
        &foreign,
        "-no_nonce",
    ]);
    let reply = post(&t, "/pki/ocsp", std::fs::read(&foreign).expect("read")).await;
    assert_eq!(reply.status, StatusCode::OK);
    // unauthorized (6): this responder does not answer for the root's certificates.
    assert_eq!(reply.body, [0x30, 0x03, 0x0a, 0x01, 0x06]);
}

#[tokio::test]
async fn unknown_routes_are_404_json_and_healthz_is_200() {
    let t = pki().await;
    for path in [
        "/",
        "/v1/nothing",
        "/v1/pki/certificates/AB/unknown",
        "/pki/crl/a/b.crl",
    ] {
        let message = get(&t, path)
            .await
            .error(StatusCode::NOT_FOUND, "not_found");
        assert!(message.contains("no such endpoint"), "{path}: {message}");
    }
    let reply = get(&t, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "ok");
    let reply = get(&t, "/pki/cps").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.text().contains(&t.pki.issuing().id),
        "{}",
        reply.text()
    );
    let message = get(&t, &format!("{CERTS}?limit=0"))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("limit"), "{message}");
    get(&t, &format!("{CERTS}?colour=blue"))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn wrong_methods_get_405_in_the_error_shape() {
    let t = pki().await;
    for (method, path) in [
        (Method::GET, "/pki/ocsp"),
        (Method::DELETE, CERTS),
        (Method::GET, "/v1/pki/certificates/AB/revoke"),
    ] {
        let reply = call(&t, method.clone(), path, Body::empty()).await;
        reply.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

/// One plain HTTP/1.1 exchange with the served router.
async fn raw_http(base: &str, request: &str) -> String {
    let addr = base.strip_prefix("http://").expect("http URL");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("receive");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn the_served_router_answers_over_tcp() {
    let t = pki().await;
    let base = t.serve().await;
    let response = raw_http(
        &base,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    let body = serde_json::to_string(&with(individual_json(), "key", json!("p256"))).expect("json");
    let response = raw_http(
        &base,
        &format!(
            "POST {CERTS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{response}"
    );

    let response = raw_http(
        &base,
        "GET /v1/pki/certificates/zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains(r#""code":"invalid_request""#),
        "{response}"
    );
}
