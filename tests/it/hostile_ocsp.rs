//! OCSP answers that are genuine but not for this question: about another certificate, replayed
//! from an earlier request, or without our nonce. Our own PKI's certificates point (AIA, CDP) at
//! a proxy in front of its real responder that can rewrite the request or replay an old answer;
//! the issuing CA's CRL is withheld, so OCSP is the only source for the leaf.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use der::{Decode, Encode};
use http_body_util::BodyExt;
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::verify::{Report, Request, Settings, Status, Verdict, Verifier};
use tower::ServiceExt;
use x509_ocsp::OcspRequest;

use super::build::Cms;
use super::{check, request_json};
use crate::common::*;

#[derive(Clone, PartialEq)]
enum Mode {
    /// Forward, and remember the answer.
    Pass,
    /// Answer with the last remembered answer.
    Replay,
    /// Ask the responder about this serial instead (keeping our nonce).
    AskAbout(x509_cert::serial_number::SerialNumber),
    /// Forward without the request's nonce.
    StripNonce,
}

struct Proxy {
    inner: qoltanba::http::AppState,
    mode: Mutex<Mode>,
    recorded: Mutex<Option<Vec<u8>>>,
    blocked: String,
}

async fn forward(
    p: &Proxy,
    parts: axum::http::request::Parts,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>, Response) {
    let request = axum::http::Request::from_parts(parts, Body::from(body));
    let response = qoltanba::http::router(p.inner.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes().to_vec();
    let status = parts.status;
    (
        status,
        bytes.clone(),
        Response::from_parts(parts, Body::from(bytes)),
    )
}

async fn proxy(State(p): State<Arc<Proxy>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    if parts.uri.path() == p.blocked {
        return StatusCode::NOT_FOUND.into_response();
    }
    if parts.uri.path() != "/pki/ocsp" {
        return forward(&p, parts, body).await.2;
    }
    let mode = p.mode.lock().expect("mode").clone();
    let rewrite = |edit: &dyn Fn(&mut OcspRequest)| {
        let mut ocsp = OcspRequest::from_der(&body).expect("an OCSP request");
        edit(&mut ocsp);
        ocsp.to_der().expect("DER")
    };
    match mode {
        Mode::Pass => {
            let (status, bytes, response) = forward(&p, parts, body).await;
            assert_eq!(status, StatusCode::OK);
            *p.recorded.lock().expect("recorded") = Some(bytes);
            response
        }
        Mode::Replay => {
            let old = p
                .recorded
                .lock()
                .expect("recorded")
                .clone()
                .expect("recorded");
            ([("content-type", "application/ocsp-response")], old).into_response()
        }
        Mode::AskAbout(serial) => {
            let body = rewrite(&|r| {
                r.tbs_request.request_list[0].req_cert.serial_number = serial.clone();
            });
            forward(&p, parts, body).await.2
        }
        Mode::StripNonce => {
            let body = rewrite(&|r| r.tbs_request.request_extensions = None);
            forward(&p, parts, body).await.2
        }
    }
}

/// Our PKI behind the proxy, one leaf ("A") and the verifier; returns the serial of A.
struct Setup {
    t: TestPki,
    proxy: Arc<Proxy>,
    verifier: Verifier,
    signature: Vec<u8>,
    serial: String,
}

async fn leaf(t: &TestPki) -> (qoltanba::crypto::SigningKey, Vec<u8>, String) {
    let mut request = individual("individual-sign");
    request.key = Some(KeyAlgorithm::P256);
    let issued = t.issue(request).await;
    let store = qoltanba::keystore::open_pkcs12(&issued.pkcs12, P12_PASSWORD).expect("p12");
    let key = qoltanba::crypto::SigningKey::from_pkcs8(&store.private_key_pkcs8).expect("key");
    (key, store.certificate, issued.record.serial)
}

async fn setup() -> Setup {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let t = TestPki::with_public_url(Backend::Sqlite, &base)
        .await
        .expect("sqlite");
    let proxy = Arc::new(Proxy {
        inner: t.state(),
        mode: Mutex::new(Mode::Pass),
        recorded: Mutex::new(None),
        blocked: format!("/pki/crl/{}.crl", t.pki.issuing().id),
    });
    let app = axum::Router::new()
        .fallback(self::proxy)
        .with_state(Arc::clone(&proxy));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let verifier = Verifier::new(Settings {
        anchors: vec![("root".into(), t.pki.root().certificate_der.clone())],
        intermediates: vec![("issuing".into(), t.pki.issuing().certificate_der.clone())],
        fetch_timeout: Some(std::time::Duration::from_secs(5)),
        ..Settings::default()
    })
    .expect("verifier");
    let (key, cert, serial) = leaf(&t).await;
    let signature = Cms::new(&request_json(), &cert, &key).sign(&key);
    Setup {
        t,
        proxy,
        verifier,
        signature,
        serial,
    }
}

impl Setup {
    async fn verify(&self, mode: Mode) -> Report {
        *self.proxy.mode.lock().expect("mode") = mode;
        self.verifier
            .verify(&Request {
                signature: self.signature.clone(),
                ..Request::default()
            })
            .await
    }

    async fn revoke(&self) {
        self.t
            .pki
            .revoke(&self.serial, "keyCompromise".parse().expect("reason"), None)
            .await
            .expect("revoke");
    }
}

/// Not valid, for want of revocation information, and the detail says why.
pub(super) fn assert_unused(report: &Report, why: &str) {
    let revocation = check(report, "revocation");
    assert_eq!(
        (report.verdict, revocation.status, revocation.code.as_str()),
        (
            Verdict::Indeterminate,
            Status::Indeterminate,
            "NO_REVOCATION_INFO"
        ),
        "{report:#?}"
    );
    assert!(revocation.detail.contains(why), "{}", revocation.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocsp_answer_about_another_certificate_is_not_used() {
    let s = setup().await;
    let report = s.verify(Mode::Pass).await;
    assert_eq!(report.verdict, Verdict::Valid, "baseline: {report:#?}");
    let source = report.signers[0].revocation_source.clone().expect("source");
    assert!(source.starts_with("OCSP"), "{source}");

    // A good certificate's answer, signed by the responder and echoing our nonce, offered for
    // our revoked one.
    let (_, other, _) = leaf(&s.t).await;
    let other = x509_cert::Certificate::from_der(&other).expect("certificate");
    s.revoke().await;
    let report = s
        .verify(Mode::AskAbout(other.tbs_certificate.serial_number))
        .await;
    assert_unused(&report, "another certificate");
    let report = s.verify(Mode::Pass).await;
    assert_eq!(report.sub_indication, Some("REVOKED"), "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_ocsp_answer_is_not_used() {
    let s = setup().await;
    let report = s.verify(Mode::Pass).await;
    assert_eq!(report.verdict, Verdict::Valid, "baseline: {report:#?}");
    // The answer "good" just recorded, replayed after the revocation.
    s.revoke().await;
    let report = s.verify(Mode::Replay).await;
    assert_unused(&report, "nonce");
    // An answer without any nonce cannot be told from a replay either.
    let report = s.verify(Mode::StripNonce).await;
    assert_unused(&report, "does not echo our nonce");
    let report = s.verify(Mode::Pass).await;
    assert_eq!(report.sub_indication, Some("REVOKED"), "{report:#?}");
}
