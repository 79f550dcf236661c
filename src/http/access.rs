//! Every route's access rule, and the middleware that enforces it before any handler runs:
//! authentication (API key, `Authorization: Bearer …`), scope, rate limit, bounded concurrency
//! for expensive work, a request timeout, a request id, and the audit trail.
//!
//! The rule table comes from the one route list (`http::routes`), which also builds the router,
//! so every served route has its rule. A route the table does not know (one mounted by hand
//! around the guard) is treated as admin-only, so it cannot slip through open; the tests walk
//! the table and check each route's 401/403 behaviour.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::SecurityConfig;
use crate::security::audit::{self, Entry};
use crate::security::{ApiKeys, Caller, RateLimiter, Scope};
use crate::store::Store;
use crate::telemetry;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Always open (health).
    Open,
    /// Verification, document lookup, the auditor page: open unless configured closed, then
    /// the `verify` scope.
    Verification,
    /// CA certificates, CRLs, OCSP, CPS: open unless configured closed, then `verify`.
    Publication,
    /// Any one of these scopes (admin always passes).
    Scopes(&'static [Scope]),
}

/// One route as the guard sees it: method, path pattern as the router spells it, rule, and
/// whether it is expensive (key generation, signing, verification), which bounds how many run
/// at once.
pub struct RouteRule {
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
    pub expensive: bool,
}

/// The rule table: one row per method of each declared route (`http::routes`), the same list
/// `http::router` serves and the OpenAPI document describes.
pub fn routes() -> Vec<RouteRule> {
    super::routes::declared()
        .iter()
        .flat_map(|route| {
            route.methods.iter().map(|method| RouteRule {
                method: method.clone(),
                path: route.path.as_str(),
                rule: route.rule,
                expensive: route.expensive,
            })
        })
        .collect()
}

/// A handler's note for the audit trail (a serial, a document number): never a secret.
#[derive(Debug, Clone)]
pub struct AuditDetail(pub String);

/// The enforcement state shared by all requests.
pub struct Access {
    keys: ApiKeys,
    store: Store,
    settings: SecurityConfig,
    limiter: RateLimiter,
    expensive: tokio::sync::Semaphore,
    rules: Vec<RouteRule>,
}

impl Access {
    pub fn new(store: Store, settings: SecurityConfig) -> Self {
        Access {
            keys: ApiKeys::new(store.clone()),
            limiter: RateLimiter::new(settings.rate_limit_per_minute),
            expensive: tokio::sync::Semaphore::new(settings.max_concurrent_expensive),
            store,
            settings,
            rules: routes(),
        }
    }

    fn rule(&self, method: &Method, path: Option<&str>) -> (Rule, bool) {
        let admin_only = (Rule::Scopes(&[Scope::Admin]), false);
        let Some(path) = path else { return admin_only };
        // HEAD is answered by GET routes.
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.rules
            .iter()
            .find(|r| r.path == path && r.method == method)
            .map_or(admin_only, |r| (r.rule, r.expensive))
    }

    /// The scopes a rule asks for under this configuration; None: open.
    fn required(&self, rule: Rule) -> Option<&'static [Scope]> {
        match rule {
            Rule::Open => None,
            Rule::Verification if self.settings.open_verification => None,
            Rule::Publication if self.settings.open_publication => None,
            Rule::Verification | Rule::Publication => Some(&[Scope::Verify]),
            Rule::Scopes(scopes) => Some(scopes),
        }
    }
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Response {
    let mut response = ApiError::new(status, code, message).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn outcome(status: StatusCode) -> &'static str {
    if status.is_success() {
        audit::OK
    } else if status.is_server_error() {
        audit::FAILED
    } else {
        audit::REFUSED
    }
}

/// The middleware (installed with `route_layer`, so the matched route is known): enforces the
/// rules and counts every answer, refusals included, per route for `/metrics`.
pub async fn guard(state: State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = enforce(state, request, next).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(telemetry::HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(telemetry::HTTP_DURATION, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let access = Arc::clone(&state.access);
    let request_id = audit::request_id();
    let method = request.method().clone();
    let target = request.uri().path().to_owned();
    let pattern = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let (rule, expensive) = access.rule(&method, pattern.as_deref());
    let required = access.required(rule);
    let action = format!("{method} {}", pattern.as_deref().unwrap_or("?"));
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());

    let record = |actor: String, status: StatusCode, detail: String| {
        let (store, request_id, action, target) = (
            access.store.clone(),
            request_id.clone(),
            action.clone(),
            target.clone(),
        );
        async move {
            audit::record(
                &store,
                Entry {
                    request_id: &request_id,
                    actor: &actor,
                    action: &action,
                    target: &target,
                    outcome: outcome(status),
                    status: i64::from(status.as_u16()),
                    detail: &detail,
                },
            )
            .await;
        }
    };

    // Who is calling. A token that is presented must be good, even on an open route.
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let caller: Option<Caller> = match bearer {
        None => None,
        Some(value) => {
            let token = value.strip_prefix("Bearer ").unwrap_or_default().trim();
            match access.keys.authenticate(token).await {
                Ok(caller) => Some(caller),
                Err(why) => {
                    if required.is_some() {
                        record(
                            "anonymous".into(),
                            StatusCode::UNAUTHORIZED,
                            format!("{why:?} key"),
                        )
                        .await;
                    }
                    return with_id(
                        refuse(
                            StatusCode::UNAUTHORIZED,
                            "unauthorized",
                            "the API key is not valid (malformed, unknown or revoked)",
                        ),
                        &request_id,
                    );
                }
            }
        }
    };
    let actor = caller
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), Caller::actor);
    if let Some(scopes) = required {
        match &caller {
            None => {
                record(actor, StatusCode::UNAUTHORIZED, "no API key".into()).await;
                return with_id(
                    refuse(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "this endpoint needs an API key: Authorization: Bearer <key>",
                    ),
                    &request_id,
                );
            }
            Some(c) if !scopes.iter().any(|s| c.may(*s)) => {
                let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
                let message = format!("this endpoint needs the scope {}", names.join(" or "));
                record(actor, StatusCode::FORBIDDEN, message.clone()).await;
                return with_id(
                    refuse(StatusCode::FORBIDDEN, "forbidden", &message),
                    &request_id,
                );
            }
            Some(_) => {}
        }
    }
    let bucket = match (&caller, &address) {
        (Some(c), _) => format!("key:{}", c.key_id),
        (None, Some(ip)) => format!("address:{ip}"),
        (None, None) => "address:unknown".to_owned(),
    };
    if let Err(wait) = access.limiter.check(&bucket) {
        if required.is_some() {
            record(actor, StatusCode::TOO_MANY_REQUESTS, "rate limit".into()).await;
        }
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests; retry after the time in Retry-After",
        );
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return with_id(response, &request_id);
    }

    let timeout = Duration::from_secs(access.settings.request_timeout_seconds);
    let run = async {
        // Expensive work waits for a slot; the wait counts against the timeout.
        let _permit = if expensive {
            access.expensive.acquire().await.ok()
        } else {
            None
        };
        next.run(request).await
    };
    let response = match tokio::time::timeout(timeout, run).await {
        Ok(response) => response,
        Err(_) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long and was abandoned; retry later",
        ),
    };
    if required.is_some() {
        let detail = response
            .extensions()
            .get::<AuditDetail>()
            .map(|d| d.0.clone())
            .unwrap_or_default();
        record(actor, response.status(), detail).await;
    }
    with_id(response, &request_id)
}

fn with_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
