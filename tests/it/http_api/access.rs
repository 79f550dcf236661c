//! Access control (issue 6): every route in the rule table answers 401 without a key, 403 with
//! a key of the wrong scope and 429 past the rate limit when it is privileged; open routes stay
//! open by default; a route left out of the table is admin-only; the audit trail records who
//! did what, keeps no secret and cannot be rewritten.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use qoltanba::config::SecurityConfig;
use qoltanba::http::access::{self, Rule};
use qoltanba::security::{ApiKeys, Scope};

use super::*;

/// A concrete URI for a route pattern.
pub(super) fn concrete(path: &str) -> String {
    path.replace("{serial}", "0A")
        .replace("{file}", "nothing.cer")
        .replace("{number}", "950341000052-2026-000001")
        .replace("{id}", "nothing")
        .replace("{*request}", "MAA=")
}

async fn key(t: &TestPki, name: &str, scopes: &[Scope]) -> String {
    ApiKeys::new(t.pki.store().clone())
        .create(name, scopes, qoltanba::time::now())
        .await
        .expect("key")
        .0
        .reveal()
        .to_string()
}

async fn send(state: AppState, method: &Method, uri: &str, token: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = if *method == Method::POST {
        Body::from("{}")
    } else {
        Body::empty()
    };
    let response = router(state)
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    Reply::of(response).await
}

fn closed(rate_limit_per_minute: u32) -> SecurityConfig {
    SecurityConfig {
        open_verification: false,
        open_publication: false,
        rate_limit_per_minute,
        ..SecurityConfig::default()
    }
}

#[tokio::test]
async fn every_route_answers_401_403_and_429_and_is_really_served() {
    let t = pki().await;
    let admin = t.admin_token.clone();
    let verify_only = key(&t, "verify-only", &[Scope::Verify]).await;
    let sign_only = key(&t, "sign-only", &[Scope::Sign]).await;
    let rules = access::routes();
    assert!(rules.len() >= 20, "the table lists every route");
    for rule in &rules {
        let uri = concrete(rule.path);
        let what = format!("{} {}", rule.method, rule.path);
        // Closed configuration: even verification and publication need a key.
        let state = t.state_with(t.verifier(), closed(1));
        if rule.rule == Rule::Open {
            let reply = send(state, &rule.method, &uri, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{what}");
            continue;
        }
        let reply = send(state.clone(), &rule.method, &uri, None).await;
        reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(reply.header(header::WWW_AUTHENTICATE), "Bearer", "{what}");
        // A key without the scope: "verify" for privileged routes, "sign" for verification.
        let wrong = if rule.rule == Rule::Scopes(&[Scope::Sign]) {
            &verify_only
        } else {
            &sign_only
        };
        let wrong = if matches!(rule.rule, Rule::Verification | Rule::Publication) {
            &sign_only
        } else {
            wrong
        };
        let reply = send(state.clone(), &rule.method, &uri, Some(wrong)).await;
        reply.error(StatusCode::FORBIDDEN, "forbidden");
        // The admin key passes the guard and reaches the handler (not the router's 404/405).
        let reply = send(state.clone(), &rule.method, &uri, Some(&admin)).await;
        assert!(
            ![
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::METHOD_NOT_ALLOWED
            ]
            .contains(&reply.status),
            "{what}: {}",
            reply.status
        );
        assert!(
            !reply.text().contains("no such endpoint"),
            "{what} is routed"
        );
        // One request a minute: the next one is refused with Retry-After.
        let reply = send(state, &rule.method, &uri, Some(&admin)).await;
        reply.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        let retry: u64 = reply.header(header::RETRY_AFTER).parse().expect("seconds");
        assert!((1..=60).contains(&retry), "{what}: Retry-After {retry}");
    }
    // By default verification and publication are open; privileged routes are not.
    for rule in &rules {
        let reply = send(t.state(), &rule.method, &concrete(rule.path), None).await;
        let open = matches!(
            rule.rule,
            Rule::Open | Rule::Verification | Rule::Publication
        );
        assert_eq!(
            reply.status != StatusCode::UNAUTHORIZED,
            open,
            "{} {}",
            rule.method,
            rule.path
        );
    }
}

#[tokio::test]
async fn a_bad_revoked_or_malformed_key_is_401_even_on_an_open_route() {
    let t = pki().await;
    let portal = key(&t, "portal", &[Scope::Verify, Scope::PkiIssue]).await;
    assert_eq!(
        send(t.state(), &Method::GET, CERTS, Some(&portal))
            .await
            .status,
        StatusCode::OK
    );
    ApiKeys::new(t.pki.store().clone())
        .revoke("portal", qoltanba::time::now())
        .await
        .expect("revoke");
    for token in [portal.as_str(), "qlt_nonsense", "Basic dXNlcjpwYXNz"] {
        send(t.state(), &Method::GET, CERTS, Some(token))
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
        send(t.state(), &Method::GET, "/pki/cps", Some(token))
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // A made-up token with a real key's id but another secret.
    let admin_id = &t.admin_token[..20];
    let forged = format!("{admin_id}_{}", "A".repeat(43));
    send(t.state(), &Method::GET, CERTS, Some(&forged))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}

/// A route the rule table does not list gets the guard's default: admin only.
#[tokio::test]
async fn a_route_missing_from_the_table_is_admin_only() {
    let t = pki().await;
    let state = t.state();
    let app = axum::Router::new()
        .route("/v1/forgotten", post(|| async { "done" }))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .with_state(state);
    let verify = key(&t, "verify", &[Scope::Verify]).await;
    let call = |token: Option<String>| {
        let app = app.clone();
        async move {
            let mut request = Request::builder().method(Method::POST).uri("/v1/forgotten");
            if let Some(token) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            app.oneshot(request.body(Body::empty()).expect("request"))
                .await
                .expect("infallible")
                .status()
        }
    };
    assert_eq!(call(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(Some(verify)).await, StatusCode::FORBIDDEN);
    assert_eq!(call(Some(t.admin_token.clone())).await, StatusCode::OK);
}

#[tokio::test]
async fn expensive_work_is_bounded_and_slow_requests_time_out() {
    let t = pki().await;
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let security = SecurityConfig {
        max_concurrent_expensive: 1,
        request_timeout_seconds: 1,
        ..SecurityConfig::default()
    };
    let state = t.state_with(t.verifier(), security);
    let (r, m) = (Arc::clone(&running), Arc::clone(&most));
    // Stand-ins on the paths the table marks expensive (/v1/verify) and not (/healthz).
    let app = axum::Router::new()
        .route(
            "/v1/verify",
            post(move || {
                let (r, m) = (Arc::clone(&r), Arc::clone(&m));
                async move {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    "verified"
                }
            }),
        )
        .route(
            "/healthz",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .with_state(state);
    // A verification whose body is large, or of undeclared length, holds a slot for the
    // memory it takes; a small one does not: its CPU work is scheduled by the verifier.
    let burst = |length: Option<&'static str>| {
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let app = app.clone();
                let mut request = Request::post("/v1/verify");
                if let Some(length) = length {
                    request = request.header("content-length", length);
                }
                let body = Body::from(vec![b' '; length.map_or(0, |l| l.parse().unwrap_or(0))]);
                tokio::spawn(async move {
                    let request = request.body(body).expect("request");
                    app.oneshot(request).await.expect("infallible").status()
                })
            })
            .collect();
        async move {
            for task in tasks {
                assert_eq!(task.await.expect("join"), StatusCode::OK);
            }
        }
    };
    burst(None).await;
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "one large request at a time"
    );
    burst(Some("1048576")).await;
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "one large request at a time"
    );
    burst(Some("100")).await;
    assert!(
        most.load(Ordering::SeqCst) > 1,
        "small verification requests wait for no slot"
    );
    let response = app
        .oneshot(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_audit_trail_records_who_did_what_and_keeps_no_secret() {
    let t = pki().await;
    let issuer = key(&t, "registrar", &[Scope::PkiIssue]).await;
    let refused = send(t.state(), &Method::POST, "/v1/documents", Some(&issuer)).await;
    refused.error(StatusCode::FORBIDDEN, "forbidden");
    let refused_id = refused
        .header(HeaderName::from_static("x-request-id"))
        .to_owned();
    // An issuance with a key-store password.
    let request = Request::builder()
        .method(Method::POST)
        .uri(CERTS)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {issuer}"))
        .body(Body::from(
            with(individual_json(), "key", json!("p256")).to_string(),
        ))
        .expect("request");
    let response = router(t.state())
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::CREATED);
    let issued_id = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();

    let trail = get(&t, "/v1/audit?limit=50").await.ok_json(StatusCode::OK);
    let events = trail["events"].as_array().expect("events");
    let find = |id: &str| {
        events
            .iter()
            .find(|e| e["request_id"] == id)
            .cloned()
            .expect("event")
    };
    let refusal = find(&refused_id);
    assert_eq!(refusal["actor"], "key:registrar");
    assert_eq!(refusal["action"], "POST /v1/documents");
    assert_eq!(refusal["outcome"], "refused");
    assert_eq!(refusal["status"], 403);
    let issuance = find(&issued_id);
    assert_eq!(issuance["outcome"], "ok");
    assert_eq!(issuance["status"], 201);
    assert!(issuance["detail"]
        .as_str()
        .expect("detail")
        .starts_with("issued serial "));
    // No token and no password anywhere in the trail.
    let text = trail.to_string();
    assert!(!text.contains(&issuer[21..]) && !text.contains(&t.admin_token[21..]));
    assert!(!text.contains(P12_PASSWORD));
    // Reading it takes admin.
    send(t.state(), &Method::GET, "/v1/audit", Some(&issuer))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

async fn append_only(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    send(t.state(), &Method::GET, CERTS, None).await; // a refused call: one event
    let store = qoltanba::store::Store::connect(&t.url)
        .await
        .expect("connect");
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    for statement in [
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log",
    ] {
        let error = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    let events = store
        .audit_events(&qoltanba::store::AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, "refused");
}

#[tokio::test]
async fn the_audit_trail_is_append_only_on_sqlite() {
    append_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_audit_trail_is_append_only_on_postgresql() {
    append_only(Backend::Postgres).await;
}
