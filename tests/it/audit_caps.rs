//! What a caller can make the append-only audit trail hold is bounded (issue 12, item 1): a
//! refused request with a 64,000-character path leaves a row whose target is cut to
//! `MAX_TARGET_CHARS` characters and says it was; a flood of refusals from one address leaves
//! `THRESHOLD` rows and one that counts the rest.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use qoltanba::security::audit::MAX_TARGET_CHARS;
use qoltanba::security::refusals::{AGGREGATED, THRESHOLD};
use qoltanba::store::{AuditEvent, AuditQuery};
use tower::ServiceExt;

use crate::common::*;

async fn long_paths_leave_short_rows(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let path = format!("/v1/pki/certificates/{}", "A".repeat(64_000));
    let request = Request::get(&path).body(Body::empty()).expect("request");
    let response = qoltanba::http::router(t.state())
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let events = t
        .pki
        .store()
        .audit_events(&AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("events");
    let refused = events
        .iter()
        .find(|e| e.target.starts_with("/v1/pki/certificates/"))
        .expect("the refusal is audited");
    assert!(
        refused.target.chars().count() < MAX_TARGET_CHARS + 40,
        "{} characters",
        refused.target.len()
    );
    assert!(
        refused
            .target
            .ends_with("[truncated from 64021 characters]"),
        "{}",
        &refused.target[refused.target.len() - 60..]
    );
}

#[tokio::test]
async fn long_paths_leave_short_rows_on_sqlite() {
    long_paths_leave_short_rows(Backend::Sqlite).await;
}

#[tokio::test]
async fn long_paths_leave_short_rows_on_postgresql() {
    long_paths_leave_short_rows(Backend::Postgres).await;
}

/// An anonymous call to a privileged route from `address`: refused with 401.
async fn refused_from(app: &axum::Router, address: [u8; 4]) {
    let mut request = Request::get("/v1/pki/certificates")
        .body(Body::empty())
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((address, 40_000))));
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn a_flood_of_refusals_leaves_threshold_rows_and_a_count(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    const FLOOD: u32 = 100;
    let app = qoltanba::http::router(t.state());
    for _ in 0..FLOOD {
        refused_from(&app, [192, 0, 2, 7]).await;
    }
    // Another address is not held to the flooder's allowance.
    refused_from(&app, [198, 51, 100, 1]).await;
    let before_the_count = t.trail().await.len();
    assert_eq!(
        before_the_count,
        THRESHOLD as usize + 1,
        "the rest only counted"
    );
    // The service stops (the recorder is dropped) before the minute ends: the count is
    // written then, not lost.
    drop(app);
    let mut events = Vec::new();
    for _ in 0..100 {
        events = t.trail().await;
        if events.len() > before_the_count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events.len(), THRESHOLD as usize + 2, "{events:#?}");
    let aggregated: Vec<&AuditEvent> = events.iter().filter(|e| e.action == AGGREGATED).collect();
    let [count] = aggregated[..] else {
        panic!("one aggregated row: {events:#?}");
    };
    assert_eq!(
        (
            count.actor.as_str(),
            count.target.as_str(),
            count.outcome.as_str(),
            count.status
        ),
        ("anonymous", "192.0.2.7", "refused", 401)
    );
    let counted = FLOOD - THRESHOLD;
    assert!(
        count.detail.starts_with(&format!(
            "{FLOOD} refusals from 192.0.2.7 in the minute starting "
        )) && count.detail.contains(&format!(
            ": the first {THRESHOLD} recorded one by one, {counted} counted here (401 ×{counted}); \
             first counted: GET /v1/pki/certificates (/v1/pki/certificates) → 401: no API key"
        )),
        "{}",
        count.detail
    );
}

#[tokio::test]
async fn a_flood_of_refusals_leaves_threshold_rows_and_a_count_on_sqlite() {
    a_flood_of_refusals_leaves_threshold_rows_and_a_count(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_flood_of_refusals_leaves_threshold_rows_and_a_count_on_postgresql() {
    a_flood_of_refusals_leaves_threshold_rows_and_a_count(Backend::Postgres).await;
}
