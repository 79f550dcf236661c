//! The rate limit comes before any database lookup of a token (issue 11): a flood of made-up
//! API keys from one address is limited by that address, so past the limit the keys are neither
//! looked up nor written to the audit trail; the callers that were not flooding keep working.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use qoltanba::config::SecurityConfig;
use qoltanba::security::Token;

use super::*;

const LIMIT: u32 = 3;

async fn from(state: AppState, address: [u8; 4], token: Option<&str>) -> Reply {
    let mut request = Request::get(CERTS);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let mut request = request.body(Body::empty()).expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((address, 40_000))));
    Reply::of(router(state).oneshot(request).await.expect("infallible")).await
}

/// The service with a small rate limit.
fn limited(t: &TestPki) -> AppState {
    t.state_with(
        t.verifier(),
        SecurityConfig {
            rate_limit_per_minute: LIMIT,
            ..SecurityConfig::default()
        },
    )
}

/// A well-formed key that no one was ever given.
fn made_up() -> String {
    Token::generate().expect("token").reveal().to_string()
}

#[tokio::test]
async fn made_up_keys_past_the_limit_are_refused_before_any_lookup() {
    let t = pki().await;
    let state = limited(&t);
    const FLOODER: [u8; 4] = [192, 0, 2, 7];
    // A key in use before the flood starts.
    let admin = t.admin_token.clone();
    assert_eq!(
        from(state.clone(), FLOODER, Some(&admin)).await.status,
        StatusCode::OK
    );
    let before = t.trail().await.len();
    let extra = 5;
    for i in 0..LIMIT + extra {
        let reply = from(state.clone(), FLOODER, Some(&made_up())).await;
        if i < LIMIT {
            reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
        } else {
            reply.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
            let retry: u64 = reply.header(header::RETRY_AFTER).parse().expect("seconds");
            assert!((1..=60).contains(&retry), "Retry-After {retry}");
        }
    }
    // Only the refusals within the limit were looked up and recorded.
    assert_eq!(t.trail().await.len() - before, LIMIT as usize);
    // The key already in use from that address, and callers elsewhere, are not held back.
    assert_eq!(
        from(state.clone(), FLOODER, Some(&admin)).await.status,
        StatusCode::OK
    );
    from(state.clone(), [198, 51, 100, 1], Some(&made_up()))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    from(state, [198, 51, 100, 1], None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn anonymous_callers_are_limited_by_address() {
    let t = pki().await;
    let state = limited(&t);
    let before = t.trail().await.len();
    for i in 0..LIMIT + 2 {
        let reply = from(state.clone(), [203, 0, 113, 9], None).await;
        if i < LIMIT {
            reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
        } else {
            reply.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        }
    }
    assert_eq!(t.trail().await.len() - before, LIMIT as usize);
    from(state, [203, 0, 113, 10], None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}
