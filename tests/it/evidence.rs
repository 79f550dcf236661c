//! The registry's evidence (issue 15): documents issued at level B and extended to LTA at once
//! or, with the TSA down, by the evidence job later — once, never twice; evidence renewal with a
//! TSA certificate nearing its end (test clock); readiness and metrics over the horizon.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use qoltanba::http::AppState;
use qoltanba::pki::{Declarations, Level, Pki, TimeStamping, TspClient};
use qoltanba::store::Store;
use serde_json::{json, Value};
use sqlx::Row;
use tower::ServiceExt;

use crate::common::*;
use crate::documents::license_payload;

const DAY: i64 = 86_400;
const MARGIN: i64 = 90 * DAY;

pub(crate) async fn call(
    state: &AppState,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let mut request = HttpRequest::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = qoltanba::http::router(state.clone())
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body");
    (status, bytes.to_bytes().to_vec())
}

pub(crate) fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Issues a license (or its XML form) through the API; returns its record.
async fn issue(state: &AppState, token: &str, format: &str) -> Value {
    let body = json!({"kind": "license", "payload": license_payload(), "format": format});
    let (status, bytes) = call(state, token, "POST", "/v1/documents", Some(body)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    json_of(&bytes)
}

/// Another handle on the test PKI's database whose time-stamps come from the TSA at `url`
/// (checked against the test root), quickly given up on when it does not answer.
async fn pki_stamping_at(t: &TestPki, url: &str) -> Arc<Pki> {
    let store = Store::connect(&t.url).await.expect("store");
    let declarations = Declarations::load(None).expect("declarations");
    let pki = Pki::open(store, declarations, "http://127.0.0.1:9", PASSPHRASE)
        .await
        .expect("open");
    let mut client = TspClient::new(url, Arc::new(t.verifier()));
    client.timeout = Duration::from_secs(2);
    client.retries = 0;
    Arc::new(pki.with_time_stamping(TimeStamping::Remote(client)))
}

fn state_of(t: &TestPki, pki: Arc<Pki>) -> AppState {
    AppState { pki, ..t.state() }
}

/// A URL on 127.0.0.1 where nothing listens.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/pki/tsp")
}

pub(crate) async fn evidence_rows(url: &str, query: &str) -> i64 {
    let pool = sqlx::AnyPool::connect(url).await.expect("pool");
    let n: i64 = sqlx::query(query)
        .fetch_one(&pool)
        .await
        .expect(query)
        .try_get(0)
        .expect("count");
    pool.close().await;
    n
}

async fn issued_at_lta_and_left_alone(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let state = t.state();
    let token = &t.admin_token;
    let record = issue(&state, token, "cms").await;
    assert_eq!(record["level"], "LTA", "{record}");
    let horizon = record["evidence_horizon"].as_str().expect("horizon");
    let tsa_until = qoltanba::time::rfc3339(t.pki.tsa_not_after());
    assert_eq!(horizon, tsa_until);
    let id = record["id"].as_str().expect("id");
    // The signature handed out is the newest evidence version, the one the record carries.
    let (status, p7s) = call(
        &state,
        token,
        "GET",
        &format!("/v1/documents/{id}/signature.p7s"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let cms_base64 = record["cms_base64"].as_str().expect("cms_base64");
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&p7s),
        cms_base64
    );
    assert_eq!(
        qoltanba::sign::levels::level_of(&p7s).expect("level"),
        Level::Lta
    );
    let (_, shown) = call(&state, token, "GET", &format!("/v1/documents/{id}"), None).await;
    assert_eq!(json_of(&shown)["level"], "LTA");
    // The auditor's views say so, and verify that version.
    let (status, report) = call(
        &state,
        token,
        "GET",
        &format!("/v1/documents/{id}/verification"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let report = json_of(&report);
    assert_eq!(report["level"], "LTA", "{report}");
    assert_eq!(report["evidence_horizon"], horizon);
    assert_eq!(report["verdict"], "valid", "{report}");
    let stamps = report["signers"][0]["timestamps"]
        .as_array()
        .expect("timestamps");
    assert!(!stamps.is_empty(), "{report}");
    assert!(
        report["signers"][0]["proof_of_existence"].is_string(),
        "{report}"
    );
    let upload = json!({"signature": cms_base64});
    let (_, audit) = call(&state, token, "POST", "/v1/documents/verify", Some(upload)).await;
    let audit = json_of(&audit);
    assert_eq!(audit["level"], "LTA", "{audit}");
    assert_eq!(audit["registered"]["level"], "LTA", "{audit}");
    let number = record["number"].as_str().expect("number");
    let (_, page) = call(
        &state,
        token,
        "GET",
        &format!("/verify?number={number}"),
        None,
    )
    .await;
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("LTA — "), "{page}");
    assert!(page.contains("Proof of existence"), "{page}");
    assert!(page.contains("archive time-stamp"), "{page}");
    // An XML document stays at B, and the job leaves it (and the LTA one) alone.
    let xml = issue(&state, token, "xml").await;
    assert_eq!(xml["level"], "B");
    assert!(xml["evidence_horizon"].is_null());
    let now = qoltanba::time::now();
    let done = t.pki.advance_evidence(now, MARGIN).await.expect("job");
    assert_eq!(done, Default::default());
    assert_eq!(
        evidence_rows(&t.url, "SELECT COUNT(*) FROM document_evidence").await,
        1
    );
}
on_both_backends!(issued_at_lta_and_left_alone);

async fn tsa_down_then_back(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let token = &t.admin_token;
    let down = state_of(&t, pki_stamping_at(&t, &closed_url()).await);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let record = issue(&down, token, "cms").await;
        assert_eq!(record["level"], "B", "{record}");
        assert!(record["evidence_horizon"].is_null());
        ids.push(record["id"].as_str().expect("id").to_owned());
    }
    let now = qoltanba::time::now();
    // While the TSA is down the job changes nothing and says so.
    let done = down.pki.advance_evidence(now, MARGIN).await.expect("job");
    assert_eq!((done.extended, done.failed), (0, 2), "{done:?}");
    assert_eq!(
        evidence_rows(&t.url, "SELECT COUNT(*) FROM document_evidence").await,
        0
    );
    // The TSA back (a running instance): one run brings both to LTA, a second adds nothing.
    let base = t.serve().await;
    let up = state_of(&t, pki_stamping_at(&t, &format!("{base}/pki/tsp")).await);
    let done = up.pki.advance_evidence(now, MARGIN).await.expect("job");
    assert_eq!((done.extended, done.failed), (2, 0), "{done:?}");
    let again = up.pki.advance_evidence(now, MARGIN).await.expect("job");
    assert_eq!(again, Default::default());
    assert_eq!(
        evidence_rows(
            &t.url,
            "SELECT COUNT(*) FROM document_evidence WHERE level = 'LTA'"
        )
        .await,
        2
    );
    for id in &ids {
        let (_, record) = call(&up, token, "GET", &format!("/v1/documents/{id}"), None).await;
        assert_eq!(json_of(&record)["level"], "LTA");
    }
}
on_both_backends!(tsa_down_then_back);

async fn renewal_ahead_of_the_horizon(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let state = t.state();
    for _ in 0..2 {
        assert_eq!(issue(&state, &t.admin_token, "cms").await["level"], "LTA");
    }
    let first = t.pki.tsa_not_after();
    // A test clock 30 days before the TSA's certificate (and so the evidence) ends.
    let later = first - 30 * DAY;
    let renewed = t
        .pki
        .renew_tsa_if_due(later, MARGIN, PASSPHRASE)
        .await
        .expect("TSA");
    assert!(renewed, "the TSA's certificate is within the margin");
    assert!(t.pki.tsa_not_after() > later + MARGIN);
    assert!(!t
        .pki
        .renew_tsa_if_due(later, MARGIN, PASSPHRASE)
        .await
        .expect("TSA"));
    let trail = t.trail().await;
    let recorded = trail
        .iter()
        .filter(|e| e.action == "periodic tsa renewal" && e.detail.starts_with("issued serial"));
    assert_eq!(
        recorded.count(),
        1,
        "the re-issue is in the audit trail once"
    );
    let done = t.pki.advance_evidence(later, MARGIN).await.expect("job");
    assert_eq!((done.renewed, done.failed), (2, 0), "{done:?}");
    let again = t.pki.advance_evidence(later, MARGIN).await.expect("job");
    assert_eq!(again, Default::default());
    let rows = "SELECT COUNT(*) FROM document_evidence WHERE generation = 2 AND horizon > ";
    assert_eq!(evidence_rows(&t.url, &format!("{rows}{first}")).await, 2);
    // Each renewed signature carries two archive time-stamps and still verifies, years on.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    let version = |generation: i64| {
        let pool = pool.clone();
        async move {
            let row = sqlx::query("SELECT cms FROM document_evidence WHERE generation = $1")
                .bind(generation)
                .fetch_one(&pool)
                .await
                .expect("row");
            row.try_get::<Vec<u8>, _>(0).expect("cms")
        }
    };
    let (cms, unrenewed) = (version(2).await, version(1).await);
    pool.close().await;
    let ats_v3 = [0x06, 0x06, 0x04, 0x00, 0x8d, 0x45, 0x02, 0x04]; // OID 0.4.0.1733.2.4
    let archive = cms.windows(ats_v3.len()).filter(|w| *w == ats_v3).count();
    assert_eq!(archive, 2, "two archive-time-stamp-v3 attributes");
    // Years ahead, before and after the first TSA certificate's end, the renewed evidence is
    // valid at the signature's proof of existence (the official's certificate expired long
    // before); the version before renewal is not once that TSA certificate has ended: nothing
    // then proves its time-stamps older than the TSA's key.
    let verify = |signature: Vec<u8>, at: i64| {
        let verifier = t.verifier();
        async move {
            let request = qoltanba::verify::Request {
                signature,
                at: Some(at),
                ..Default::default()
            };
            verifier.verify_owned(request).await
        }
    };
    for (label, at) in [("before", first - DAY), ("after", later + 60 * DAY)] {
        let report = verify(cms.clone(), at).await;
        assert_eq!(
            report.verdict,
            qoltanba::verify::Verdict::Valid,
            "{backend:?} {label} the first TSA certificate's end: {report:#?}"
        );
        assert!(report.signers[0].proof_of_existence.is_some());
    }
    let report = verify(unrenewed, later + 60 * DAY).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");
}
on_both_backends!(renewal_ahead_of_the_horizon);

async fn readiness_and_metrics_follow_the_horizon(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let state = t.state();
    let record = issue(&state, &t.admin_token, "cms").await;
    let (status, ready) = call(&state, &t.admin_token, "GET", "/readyz", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ready)
    );
    assert_eq!(json_of(&ready)["checks"]["evidence"]["ok"], true);
    let (_, metrics) = call(&state, &t.admin_token, "GET", "/metrics", None).await;
    let metrics = String::from_utf8_lossy(&metrics);
    for name in [
        "qoltanba_documents{level=\"LTA\"}",
        "qoltanba_evidence_horizon_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    // A version whose horizon has passed (as if renewal never ran): not ready.
    let store = t.pki.store();
    let id = record["id"].as_str().expect("id");
    let newest = store
        .newest_evidence(id)
        .await
        .expect("read")
        .expect("evidence");
    let lapsed = qoltanba::store::NewEvidence {
        level: newest.level,
        cms: &newest.cms,
        horizon: qoltanba::time::now() - 1,
        digest: &newest.digest,
    };
    let now = qoltanba::time::now();
    assert!(store
        .append_evidence(id, Some(&newest), &lapsed, now)
        .await
        .expect("append")
        .is_some());
    // The same generation again: another instance did it first, nothing stored.
    assert!(store
        .append_evidence(id, Some(&newest), &lapsed, now)
        .await
        .expect("append")
        .is_none());
    let (status, ready) = call(&state, &t.admin_token, "GET", "/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_of(&ready)["checks"]["evidence"]["ok"], false);
    // Versions are only ever appended.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    for refused in [
        "UPDATE document_evidence SET horizon = 0",
        "DELETE FROM document_evidence",
    ] {
        assert!(
            sqlx::query(refused).execute(&pool).await.is_err(),
            "{refused}"
        );
    }
    pool.close().await;
}
on_both_backends!(readiness_and_metrics_follow_the_horizon);

/// `qoltanba documents issue` extends too, writes the current signature, and says its level;
/// with the TSA unreachable it still issues, at B.
#[tokio::test]
async fn the_cli_issues_at_lta_or_at_b_without_a_tsa() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let payload = t.path("payload.json");
    std::fs::write(&payload, license_payload().to_string()).expect("write");
    let run = |out: &std::path::Path, tsa: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"));
        command
            .args(["documents", "issue", "--kind", "license", "--payload"])
            .arg(&payload)
            .arg("--out")
            .arg(out)
            .env("QOLTANBA_DATABASE_URL", &t.url)
            .env(
                "QOLTANBA_CA_PASSPHRASE",
                std::str::from_utf8(PASSPHRASE).expect("utf-8"),
            )
            .env("QOLTANBA_DATA_DIR", t.path("data"))
            .env("QOLTANBA_TIMESTAMP_TIMEOUT_SECONDS", "2")
            .env("QOLTANBA_TIMESTAMP_RETRIES", "0")
            .env_remove("QOLTANBA_CONFIG")
            .env_remove("QOLTANBA_SIGN_KEY_STORE");
        match tsa {
            Some(url) => command.env("QOLTANBA_TIMESTAMP_URL", url),
            None => command.env_remove("QOLTANBA_TIMESTAMP_URL"),
        };
        let output = command.output().expect("run");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let written = std::fs::read(out).expect("written");
        (
            stdout,
            qoltanba::sign::levels::level_of(&written).expect("CMS"),
        )
    };
    let (stdout, level) = run(&t.path("lta.p7s"), None);
    assert!(stdout.contains("level   LTA"), "{stdout}");
    assert_eq!(level, Level::Lta);
    let (stdout, level) = run(&t.path("b.p7s"), Some(&closed_url()));
    assert!(stdout.contains("level   B"), "{stdout}");
    assert_eq!(level, Level::B);
}
