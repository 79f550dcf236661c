//! API keys are believed for a bounded time after they are read (issue 16: an authenticated
//! request no longer costs a database query): a key revoked by another process — the CLI's
//! `keys revoke`, another instance — is refused by a running server within
//! `security::KEY_MAX_STALENESS`, and a made-up secret for a known key id never passes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use qoltanba::http::{router, AppState};
use qoltanba::security::{ApiKeys, Scope, KEY_MAX_STALENESS};
use tower::ServiceExt;

use crate::common::*;

const CERTS: &str = "/v1/pki/certificates";

async fn status(state: &AppState, token: &str) -> StatusCode {
    let request = Request::builder()
        .method(Method::GET)
        .uri(CERTS)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    router(state.clone())
        .oneshot(request)
        .await
        .expect("infallible")
        .status()
}

async fn a_key_revoked_elsewhere_is_refused_within_the_bound(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    // One server: its state (and what it has read of the keys) is shared by every request.
    let server = t.state();
    // Another process: `qoltanba keys create` / `keys revoke` on the same database.
    let cli = ApiKeys::new(t.pki.store().clone());
    let (token, _) = cli
        .create("portal", &[Scope::PkiIssue], qoltanba::time::now())
        .await
        .expect("key");
    let token = token.reveal().to_string();
    assert_eq!(status(&server, &token).await, StatusCode::OK);
    // The same key id with another secret is refused, read from memory or not.
    let forged = format!("{}{}", &token[..21], "A".repeat(43));
    assert_eq!(status(&server, &forged).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&server, &token).await, StatusCode::OK);

    cli.revoke("portal", qoltanba::time::now())
        .await
        .expect("revoke");
    let revoked = std::time::Instant::now();
    // Until the bound the server may still believe what it read; from it on, never.
    loop {
        let asked = revoked.elapsed();
        if status(&server, &token).await != StatusCode::OK {
            break;
        }
        assert!(
            asked < KEY_MAX_STALENESS,
            "a revoked key still worked when asked {asked:?} after its revocation"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(KEY_MAX_STALENESS).await;
    assert_eq!(status(&server, &token).await, StatusCode::UNAUTHORIZED);
}
on_both_backends!(a_key_revoked_elsewhere_is_refused_within_the_bound);
