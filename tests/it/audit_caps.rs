//! What a caller can make the append-only audit trail hold is bounded (issue 12, item 1): a
//! refused request with a 64,000-character path leaves a row whose target is cut to
//! `MAX_TARGET_CHARS` characters and says it was.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use qoltanba::security::audit::MAX_TARGET_CHARS;
use qoltanba::store::AuditQuery;
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
