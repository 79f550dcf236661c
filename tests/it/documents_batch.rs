//! Group commit of documents (issue 16): under a concurrent burst every acknowledged document
//! is stored with its audit entry under gap-free numbers in order, and a document whose
//! signing fails (or whose caller went away) in the middle of a batch takes no number.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::*;
use crate::documents::license_payload;
use qoltanba::store::{AuditEvent, SignedDocument, Store};

const AUTHORITY: &str = "950341000052";

/// The sequence part of a registration number.
fn sequence_of(number: &str) -> i64 {
    number
        .rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a registration number: {number}"))
}

pub(crate) async fn issue(
    app: axum::Router,
    token: &str,
    request_id: String,
) -> (StatusCode, Value) {
    let mut payload = license_payload();
    payload["request_id"] = json!(request_id);
    let request = HttpRequest::builder()
        .method("POST")
        .uri("/v1/documents")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"kind": "license", "payload": payload}).to_string(),
        ))
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn a_burst_is_numbered_without_gaps_and_every_201_is_stored_with_its_entry(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    // Level B: what the load benchmark measures (the evidence job extends them later).
    let state = qoltanba::http::AppState {
        inline_evidence: false,
        ..t.state()
    };
    let app = qoltanba::http::router(state);
    let (tasks, each) = (16, 12);
    let mut handles = Vec::new();
    for task in 0..tasks {
        let app = app.clone();
        let token = t.admin_token.clone();
        handles.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0..each {
                answers.push(issue(app.clone(), &token, format!("REQ-{task}-{i}")).await);
            }
            answers
        }));
    }
    let mut issued = BTreeMap::new();
    for handle in handles {
        for (status, body) in handle.await.expect("task") {
            assert_eq!(status, StatusCode::CREATED, "{body}");
            assert_eq!(body["level"], "B", "{body}");
            let number = body["number"].as_str().expect("number").to_owned();
            let id = body["id"].as_str().expect("id").to_owned();
            assert!(issued.insert(sequence_of(&number), (number, id)).is_none());
        }
    }
    let expected: Vec<i64> = (1..=tasks * each).collect();
    assert_eq!(issued.keys().copied().collect::<Vec<_>>(), expected);

    let store = t.pki.store();
    for (number, id) in issued.values() {
        let stored = store.document(id).await.expect("read").expect("stored");
        assert_eq!(&stored.number, number);
        // The number is inside the signed content.
        assert!(String::from_utf8_lossy(&stored.canonical).contains(number.as_str()));
    }
    // One entry per document, in the order of the numbers.
    let entries: Vec<i64> = t
        .trail()
        .await
        .iter()
        .filter_map(|e| {
            let rest = e.detail.strip_prefix("signed document ")?;
            Some(sequence_of(rest.split(' ').next()?))
        })
        .collect();
    assert_eq!(entries.len(), expected.len(), "{entries:?}");
    assert_eq!(
        entries.iter().copied().collect::<HashSet<_>>().len(),
        expected.len()
    );
    // `trail` is newest first: entries were appended in number order.
    let mut ascending = entries.clone();
    ascending.reverse();
    assert_eq!(ascending, expected);
}
on_both_backends!(a_burst_is_numbered_without_gaps_and_every_201_is_stored_with_its_entry);

/// A document made for `number` as the test's "signer": its content is the number, so a
/// document stored under another number than it was made for shows.
fn made(number: &str) -> SignedDocument {
    SignedDocument {
        canonical: number.as_bytes().to_vec(),
        sha256: hex::encode(number.as_bytes()),
        signed: number.as_bytes().to_vec(),
        format: "cms",
        detached: false,
        signer_serial: "01".into(),
        audit: Some(AuditEvent {
            seq: 0,
            at: 1,
            request_id: "test".into(),
            actor: "test".into(),
            action: "test issue".into(),
            target: number.into(),
            outcome: "ok".into(),
            status: 201,
            detail: format!("signed document {number}"),
        }),
    }
}

async fn failures_in_the_middle_of_batches_leave_no_gap(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let store: Store = t.pki.store().clone();
    let signatures = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for i in 0..60u32 {
        let store = store.clone();
        let signatures = Arc::clone(&signatures);
        if i == 1 {
            // The first document's slow signing holds the writer: the others queue up and
            // make one batch with failures in its middle.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        handles.push(tokio::spawn(async move {
            let register = store.register_document(AUTHORITY, 2026, "license", None, 1, |n| {
                signatures.fetch_add(1, Ordering::SeqCst);
                if i == 0 {
                    std::thread::sleep(Duration::from_millis(300));
                }
                // Every 7th document fails to sign, whatever number it is given.
                if i % 7 == 3 {
                    Err(format!("injected failure of document {i}"))
                } else {
                    Ok(made(n))
                }
            });
            if i % 11 == 5 && i % 7 != 3 {
                // The caller goes away once its document is queued.
                let gone = tokio::time::timeout(Duration::ZERO, register).await;
                return (i, gone.ok().map(|r| r.expect("store")));
            }
            (i, Some(register.await.expect("store")))
        }));
    }
    let mut acknowledged = Vec::new();
    let mut failed = 0;
    for handle in handles {
        match handle.await.expect("task") {
            (_, Some(Ok(record))) => acknowledged.push(record),
            (i, Some(Err(e))) => {
                assert!(e.contains(&format!("document {i}")), "{e}");
                failed += 1;
            }
            (_, None) => {}
        }
    }
    assert_eq!(failed, 9, "every 7th of 60 fails");
    // Every stored document was made for the number it is stored under, and the numbers run
    // from 1 without a gap (callers that went away may or may not have been stored).
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    let rows: Vec<(String, i64, Vec<u8>)> =
        sqlx::query_as("SELECT number, sequence, canonical FROM documents ORDER BY sequence")
            .fetch_all(&pool)
            .await
            .expect("documents");
    let sequences: Vec<i64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(sequences, (1..=rows.len() as i64).collect::<Vec<_>>());
    for (number, _, canonical) in &rows {
        assert_eq!(canonical, number.as_bytes(), "signed for another number");
    }
    let stored: HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for record in &acknowledged {
        assert!(stored.contains(record.number.as_str()), "{}", record.number);
        assert_eq!(record.canonical, record.number.as_bytes());
    }
    assert!(rows.len() >= acknowledged.len() && rows.len() <= 60 - 9);
    // Documents after a failure in their batch were signed again under their new number.
    assert!(
        signatures.load(Ordering::SeqCst) > rows.len() + failed,
        "no document was renumbered"
    );
    // The counter goes on after the last stored number.
    let next = store
        .register_document(AUTHORITY, 2026, "license", None, 1, |n| {
            Ok::<_, String>(made(n))
        })
        .await
        .expect("store")
        .expect("signed");
    assert_eq!(next.sequence, rows.len() as i64 + 1);
    // Each stored document has its audit entry; failed ones have none.
    let entries: HashSet<String> = t
        .trail()
        .await
        .into_iter()
        .filter(|e| e.action == "test issue")
        .map(|e| e.target)
        .collect();
    assert_eq!(entries.len(), rows.len() + 1);
    for (number, _, _) in &rows {
        assert!(entries.contains(number), "{number}");
    }
}
on_both_backends!(failures_in_the_middle_of_batches_leave_no_gap);

#[test]
fn inline_evidence_is_on_by_default_and_the_environment_turns_it_off() {
    use qoltanba::config::Config;
    let load = |value: Option<&'static str>| {
        Config::load_from(None, move |name| {
            (name == "QOLTANBA_INLINE_EVIDENCE")
                .then_some(value)
                .flatten()
                .map(str::to_owned)
        })
    };
    assert!(load(None).expect("defaults").operations.inline_evidence);
    assert!(!load(Some("false")).expect("off").operations.inline_evidence);
    let refused = load(Some("maybe")).expect_err("not a yes/no");
    assert!(
        refused.to_string().contains("QOLTANBA_INLINE_EVIDENCE"),
        "{refused}"
    );
}

/// The year `issue` numbers a document issued now under.
fn this_year() -> i64 {
    qoltanba::time::rfc3339(qoltanba::time::now())[..4]
        .parse()
        .expect("year")
}

/// Past a full queue (issue 16) the caller is told at once, with a 503 `overloaded` that says
/// nothing was registered; the documents queued before it keep their numbers, and the next one
/// takes the number after them: none is lost or given twice.
async fn past_a_full_queue_the_caller_gets_503_overloaded_and_no_number_is_lost(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let store: Store = t.pki.store().clone();
    store.limit_document_queue(1);
    let app = qoltanba::http::router(qoltanba::http::AppState {
        inline_evidence: false,
        ..t.state()
    });
    let year = this_year();
    // A document whose signing waits for the test holds the writer inside its batch.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let held = std::sync::Mutex::new(held);
    let (signing, started) = tokio::sync::oneshot::channel::<()>();
    let signing = std::sync::Mutex::new(Some(signing));
    let holder = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .register_document(AUTHORITY, year, "license", None, 1, |n| {
                    if let Some(signing) = signing.lock().expect("lock").take() {
                        let _ = signing.send(());
                    }
                    let _ = held
                        .lock()
                        .expect("lock")
                        .recv_timeout(Duration::from_secs(30));
                    Ok::<_, String>(made(n))
                })
                .await
        }
    });
    started.await.expect("the holder signs");
    // One request fills the queue (it waits behind the holder) ...
    let queued = tokio::spawn({
        let (app, token) = (app.clone(), t.admin_token.clone());
        async move { issue(app, &token, "REQ-queued".into()).await }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.documents_waiting() < 1 {
        assert!(std::time::Instant::now() < deadline, "never queued");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // ... and the next is refused at once.
    let (status, body) = issue(app.clone(), &t.admin_token, "REQ-refused".into()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("nothing was registered"), "{message}");

    release.send(()).expect("release");
    let held = holder.await.expect("task").expect("store").expect("signed");
    let (status, body) = queued.await.expect("task");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, next) = issue(app, &t.admin_token, "REQ-next".into()).await;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    let numbers = [
        held.number.clone(),
        body["number"].as_str().expect("number").to_owned(),
        next["number"].as_str().expect("number").to_owned(),
    ];
    let sequences: Vec<i64> = numbers.iter().map(|n| sequence_of(n)).collect();
    assert_eq!(sequences, [1, 2, 3], "{numbers:?}");
    // Nothing of the refused request is in the registry or the trail of signed documents.
    let stored: Vec<String> = sqlx::query_scalar("SELECT number FROM documents ORDER BY sequence")
        .fetch_all(&sqlx::AnyPool::connect(&t.url).await.expect("pool"))
        .await
        .expect("documents");
    assert_eq!(stored, numbers);
    let signed = t
        .trail()
        .await
        .into_iter()
        .filter(|e| e.detail.starts_with("signed document ") || e.action == "test issue")
        .count();
    assert_eq!(signed, 3);
}
on_both_backends!(past_a_full_queue_the_caller_gets_503_overloaded_and_no_number_is_lost);
