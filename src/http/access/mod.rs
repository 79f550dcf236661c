//! Every route's access rule, and the guard that enforces it before any handler runs. The
//! guard is a sequence of layers, in this order; each may turn the request away:
//!
//! 1. a request id, on every answer (`x-request-id`) and in the audit trail;
//! 2. the route's rule: who may call it, and whether it is expensive;
//! 3. the rate limit ([`throttle`]), per presented API key or, for anonymous callers, per
//!    address. It comes before anything touches the database, so callers who are not (yet)
//!    known cannot make it work: made-up keys are cut off by their address before any lookup;
//! 4. authentication: the presented key (`Authorization: Bearer …`, the scheme in any case)
//!    looked up. A key that is presented must be good, even on an open route; two
//!    `Authorization` headers are refused (400) rather than one of them believed;
//! 5. scope;
//! 6. bounded concurrency for expensive work (key generation, signing; verification only with
//!    a large body, see [`Cost`]) and a request timeout, around the handler;
//! 7. the audit trail, on routes that are not open: every answer, and every refusal but the rate
//!    limit's (recording those would be the very load the limit keeps out; `/metrics` counts
//!    them). Refusals are recorded one by one up to a threshold per address and minute, then
//!    counted into one entry ([`security::refusals`](crate::security::refusals)). An act
//!    (issuance, revocation, signature) is not recorded here: its handler takes the request's
//!    [`Acting`] and the store writes the act's entry in the act's own transaction; the answer
//!    says so ([`audited`]) and this layer adds nothing. Were it written here, after the
//!    handler's commit, a crash in between would leave an act with no entry.
//!
//! The rule table comes from the one route list (`http::routes`), which also builds the router,
//! so every served route has its rule. A route the table does not know (one mounted by hand
//! around the guard) is treated as admin-only, so it cannot slip through open; the tests walk
//! the table and check each route's 401/403 behaviour.

mod table;
mod throttle;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, request::Parts, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::SecurityConfig;
use crate::security::audit::{self, Entry};
use crate::security::refusals::Refusals;
use crate::security::{ApiKeys, Caller, Scope};
use crate::store::{ActAudit, Store};
use crate::telemetry;
pub use table::{routes, Cost, RouteRule, Rule, LARGE_BODY};
use throttle::{Presented, Throttle};

/// Who is acting in an admitted request, as the guard knows them: what an act's entry in the
/// audit trail says besides the act's own detail. Handlers of acts take it as an extractor.
#[derive(Debug, Clone)]
pub(crate) struct Acting {
    request_id: String,
    actor: String,
    action: String,
    target: String,
}

impl Acting {
    /// The act's entry, bounded, for the store to write in the act's transaction; `status` is
    /// the answer of a success (only a success leaves the entry).
    pub(crate) fn entry(&self, status: StatusCode) -> ActAudit {
        audit::act(
            &self.request_id,
            &self.actor,
            &self.action,
            &self.target,
            i64::from(status.as_u16()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // The guard puts it on every request it admits; a handler served without the guard
        // must not act unaudited.
        parts.extensions.get::<Acting>().cloned().ok_or_else(|| {
            tracing::error!("a handler that acts was reached without the access guard");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; see the service log",
            )
        })
    }
}

/// The mark of an answer whose act wrote its audit entry in its own transaction.
#[derive(Debug, Clone, Copy)]
struct Audited;

/// Marks `response` as already audited (by its act): the guard writes no second entry.
pub(crate) fn audited(mut response: Response) -> Response {
    response.extensions_mut().insert(Audited);
    response
}

/// The enforcement state shared by all requests.
pub struct Access {
    keys: ApiKeys,
    store: Store,
    settings: SecurityConfig,
    throttle: Throttle,
    refusals: Refusals,
    expensive: tokio::sync::Semaphore,
    large_bodies: tokio::sync::Semaphore,
    rules: Vec<RouteRule>,
}

/// How the audit trail names a caller without a (good) key.
const ANONYMOUS: &str = "anonymous";

/// What layers 1 and 2 learn about a request.
struct Call {
    request_id: String,
    /// The scopes the route asks for under this configuration; None: open.
    required: Option<&'static [Scope]>,
    /// The slot the request waits for, by its route's cost and its body.
    slot: Slot,
    /// Its Content-Length is over the route's body limit: refused before it waits for a slot
    /// or is read, rather than holding a slot until the request timeout while a client
    /// announces 17 MiB and sends nothing.
    announced_too_large: bool,
    /// `METHOD /pattern`, as the audit trail names the action.
    action: String,
    /// The path requested.
    target: String,
    address: Option<IpAddr>,
    /// More than one `Authorization` header: which one a proxy or client meant is unknown.
    ambiguous: bool,
}

/// What a request waits for before its handler runs.
#[derive(Debug, Clone, Copy)]
enum Slot {
    None,
    Expensive,
    LargeBody,
}

/// What the audit trail notes of a request: a handler's answer, or why a layer refused it.
enum Note {
    Answer,
    Refusal(String),
}

/// A request turned away by a layer.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Who asked and what the audit trail notes; None: not recorded.
    audit: Option<(String, String)>,
    retry_after: Option<Duration>,
}

impl Access {
    pub fn new(store: Store, settings: SecurityConfig) -> Self {
        Access {
            keys: ApiKeys::new(store.clone()),
            throttle: Throttle::new(settings.rate_limit_per_minute),
            refusals: Refusals::new(store.clone()),
            expensive: tokio::sync::Semaphore::new(settings.max_concurrent_expensive),
            large_bodies: tokio::sync::Semaphore::new(
                (settings.max_concurrent_expensive / 2).max(1),
            ),
            store,
            settings,
            rules: routes(),
        }
    }

    /// Writes the refusal counts still open to the audit trail; `serve` calls it on the way out.
    pub async fn flush(&self) {
        self.refusals.flush().await;
    }

    fn rule(&self, method: &Method, path: Option<&str>) -> (Rule, Cost, Option<usize>) {
        let admin_only = (Rule::Scopes(&[Scope::Admin]), Cost::Cheap, None);
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
            .map_or(admin_only, |r| (r.rule, r.cost, r.body_limit))
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

    /// Layers 1 and 2: the request id and the route's rule.
    fn call(&self, request: &Request) -> Call {
        let pattern = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let (rule, cost, body_limit) = self.rule(request.method(), pattern);
        let length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let large = || length.is_none_or(|length| length >= LARGE_BODY);
        let slot = match cost {
            Cost::Cheap => Slot::None,
            Cost::Expensive => Slot::Expensive,
            Cost::Verification if large() => Slot::LargeBody,
            Cost::Verification => Slot::None,
        };
        Call {
            request_id: audit::request_id(),
            required: self.required(rule),
            slot,
            announced_too_large: length
                .zip(body_limit)
                .is_some_and(|(length, limit)| length > limit as u64),
            action: format!("{} {}", request.method(), pattern.unwrap_or("?")),
            target: request.uri().path().to_owned(),
            address: request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            ambiguous: request
                .headers()
                .get_all(header::AUTHORIZATION)
                .iter()
                .nth(1)
                .is_some(),
        }
    }

    /// Layers 3 to 5: rate limit, authentication, scope. Gives the caller's name for the trail.
    async fn admit(&self, call: &Call, presented: Option<&Presented>) -> Result<String, Refusal> {
        // Several keys: none is believed, so the request is charged to its address, as an
        // anonymous one is, and refused before any lookup.
        let presented = presented.filter(|_| !call.ambiguous);
        self.throttle
            .admit(presented, call.address)
            .map_err(Refusal::rate_limited)?;
        if call.announced_too_large {
            return Err(Refusal {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "payload_too_large",
                message: "the request body is too large".to_owned(),
                audit: None,
                retry_after: None,
            });
        }
        if call.ambiguous {
            return Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                code: "ambiguous_authorization",
                message: "send one Authorization header, not several".to_owned(),
                audit: Some((ANONYMOUS.to_owned(), "several Authorization headers".into())),
                retry_after: None,
            });
        }
        let caller = match presented {
            Some(presented) => Some(self.authenticate(presented, call.address).await?),
            None => None,
        };
        let actor = caller
            .as_ref()
            .map_or_else(|| ANONYMOUS.to_owned(), Caller::actor);
        let Some(scopes) = call.required else {
            return Ok(actor);
        };
        match caller {
            None => Err(Refusal::unauthorized(
                "this endpoint needs an API key: Authorization: Bearer <key>",
                "no API key".into(),
            )),
            Some(c) if !scopes.iter().any(|s| c.may(*s)) => {
                let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
                let message = format!("this endpoint needs the scope {}", names.join(" or "));
                Err(Refusal {
                    status: StatusCode::FORBIDDEN,
                    code: "forbidden",
                    audit: Some((actor, message.clone())),
                    message,
                    retry_after: None,
                })
            }
            Some(_) => Ok(actor),
        }
    }

    /// Layer 4: the one database lookup of a presented key; its outcome teaches the throttle.
    async fn authenticate(
        &self,
        presented: &Presented,
        address: Option<IpAddr>,
    ) -> Result<Caller, Refusal> {
        match self.keys.authenticate(presented.token()).await {
            Ok(caller) => {
                self.throttle.vouch(presented);
                Ok(caller)
            }
            Err(why) => {
                self.throttle.failed(presented, address);
                Err(Refusal::unauthorized(
                    "the API key is not valid (malformed, unknown or revoked)",
                    format!("{why:?} key"),
                ))
            }
        }
    }

    /// Layer 6: expensive work waits for a slot; the wait counts against the timeout.
    async fn run(&self, slot: Slot, request: Request, next: Next) -> Response {
        let timeout = Duration::from_secs(self.settings.request_timeout_seconds);
        let run = async {
            let _permit = match slot {
                Slot::None => None,
                Slot::Expensive => self.expensive.acquire().await.ok(),
                Slot::LargeBody => self.large_bodies.acquire().await.ok(),
            };
            next.run(request).await
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(response) => response,
            Err(_) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long and was abandoned; retry later",
            ),
        }
    }

    /// Layer 7: one event in the audit trail; a refusal may only be counted (see
    /// [`Refusals`]).
    async fn record(&self, call: &Call, actor: &str, status: StatusCode, note: Note) {
        let entry = |detail| Entry {
            request_id: &call.request_id,
            actor,
            action: &call.action,
            target: &call.target,
            outcome: outcome(status),
            status: i64::from(status.as_u16()),
            detail,
        };
        match note {
            Note::Answer => audit::record(&self.store, entry("")).await,
            Note::Refusal(why) => self.refusals.record(call.address, entry(&why)).await,
        }
    }
}

impl Refusal {
    fn unauthorized(message: &str, detail: String) -> Refusal {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.to_owned(),
            audit: Some((ANONYMOUS.to_owned(), detail)),
            retry_after: None,
        }
    }

    fn rate_limited(wait: Duration) -> Refusal {
        Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: "too many requests; retry after the time in Retry-After".to_owned(),
            audit: None,
            retry_after: Some(wait),
        }
    }

    /// The answer, and what the audit trail is to record of it.
    fn answer(self) -> (Response, Option<(String, String)>) {
        let mut response = refuse(self.status, self.code, &self.message);
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        (response, self.audit)
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

/// The layers, in order (see the module's description).
async fn enforce(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let access = Arc::clone(&state.access);
    let call = access.call(&request);
    let presented = Presented::from_headers(request.headers());
    let (response, audit) = match access.admit(&call, presented.as_ref()).await {
        Ok(actor) => {
            request.extensions_mut().insert(Acting {
                request_id: call.request_id.clone(),
                actor: actor.clone(),
                action: call.action.clone(),
                target: call.target.clone(),
            });
            let response = access.run(call.slot, request, next).await;
            let audited = response.extensions().get::<Audited>().is_some();
            (response, (!audited).then_some((actor, Note::Answer)))
        }
        Err(refusal) => {
            let (response, audit) = refusal.answer();
            let audit = audit.map(|(actor, why)| (actor, Note::Refusal(why)));
            (response, audit)
        }
    };
    if let (Some(_), Some((actor, note))) = (call.required, audit) {
        access.record(&call, &actor, response.status(), note).await;
    }
    with_id(response, &call.request_id)
}

fn with_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
