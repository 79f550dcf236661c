//! The HTTP API through the real router: status codes, the one error shape
//! `{"error":{"code","message"}}`, and what each endpoint hands back.

mod access;
mod audited_acts;
mod issue;
mod lifecycle;
mod openapi;
mod publication;
mod rejections;
mod routing;
mod throttle;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, Method, Request, StatusCode};
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
pub(crate) struct Reply {
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

    /// A router's answer, collected.
    async fn of(response: axum::response::Response) -> Reply {
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response
                .into_body()
                .collect()
                .await
                .expect("read the body")
                .to_bytes()
                .to_vec(),
        }
    }

    /// Asserts the status and a successful JSON body; returns the body.
    pub(crate) fn ok_json(&self, status: StatusCode) -> Value {
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
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_owned()),
        (header::AUTHORIZATION, format!("Bearer {}", t.admin_token)),
    ];
    call_with(t, method, uri, &headers, body).await
}

/// A request with exactly these headers (a name given twice is sent twice).
async fn call_with(
    t: &TestPki,
    method: Method,
    uri: &str,
    headers: &[(HeaderName, String)],
    body: Body,
) -> Reply {
    let app = router(t.state());
    let request = headers
        .iter()
        .fold(Request::builder().method(method).uri(uri), |r, (k, v)| {
            r.header(k, v)
        })
        .body(body)
        .expect("request");
    let response = app
        .oneshot(request)
        .await
        .expect("the router is infallible");
    Reply::of(response).await
}

async fn get(t: &TestPki, uri: &str) -> Reply {
    call(t, Method::GET, uri, Body::empty()).await
}

async fn post(t: &TestPki, uri: &str, body: impl Into<Body>) -> Reply {
    call(t, Method::POST, uri, body.into()).await
}

pub(crate) async fn post_json(t: &TestPki, uri: &str, value: &Value) -> Reply {
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
        key: Some(KeyAlgorithm::P256),
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
