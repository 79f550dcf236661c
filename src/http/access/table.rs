//! The guard's rule table: who may call each route and what its work costs, one row per method
//! of each route declared in `http::routes`.

use axum::http::Method;

use crate::security::Scope;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Always open (health).
    Open,
    /// Verification, document lookup, the auditor page: open unless configured closed, then
    /// the `verify` scope.
    Verification,
    /// CA certificates, CRLs, OCSP, CPS, the TSA: open unless configured closed, then `verify`.
    Publication,
    /// Any one of these scopes (admin always passes).
    Scopes(&'static [Scope]),
}

/// How the guard bounds a route's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Answered from memory or with a query or two.
    Cheap,
    /// Key generation, signing: each request holds one of `max_concurrent_expensive` slots.
    Expensive,
    /// Verification. Its CPU work is bounded per request and scheduled by the verifier itself
    /// (in small units, in arrival order), so a short request is not queued behind whole costly
    /// ones; only a large body (at least [`LARGE_BODY`], or of undeclared length) waits for one
    /// of the large-body slots (half as many as the expensive ones), for the memory it holds
    /// while it is decoded and read (issue 12, `benches/hostile.rs`).
    Verification,
}

impl Cost {
    /// Whether the route does heavy work at all (as the OpenAPI document says).
    pub fn is_expensive(self) -> bool {
        self != Cost::Cheap
    }
}

/// A verification body this large (declared Content-Length) holds tens of megabytes while it is
/// decoded and verified.
pub const LARGE_BODY: u64 = 1024 * 1024;

/// One route as the guard sees it: method, path pattern as the router spells it, rule, and
/// its cost, which bounds how many run at once.
pub struct RouteRule {
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
    pub cost: Cost,
    /// The largest body the route reads (None: it reads none beyond axum's default).
    pub body_limit: Option<usize>,
}

/// The rule table: one row per method of each declared route (`http::routes`), the same list
/// `http::router` serves and the OpenAPI document describes.
pub fn routes() -> Vec<RouteRule> {
    crate::http::routes::declared()
        .iter()
        .flat_map(|route| {
            route.methods.iter().map(|method| RouteRule {
                method: method.clone(),
                path: route.path.as_str(),
                rule: route.rule,
                cost: route.cost,
                body_limit: route.body_limit,
            })
        })
        .collect()
}
