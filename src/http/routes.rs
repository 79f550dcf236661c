//! The one list of routes. Each entry names a handler, who may call it (its access [`Rule`]),
//! whether it is expensive and how large a body it reads; the handler's `#[utoipa::path]`
//! annotation gives its method, its path (spelled as the router spells it) and its OpenAPI
//! operation. The router ([`super::router`]), the rule table the access guard consults
//! ([`access::routes`](super::access::routes)) and the paths of the OpenAPI document
//! ([`super::openapi::document`]) are all built from this list, so none of them can serve,
//! guard or describe a route the others do not know.

use std::sync::OnceLock;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{RefOr, Schema};

use super::access::Cost;
use super::access::Rule::{self, Open, Publication, Scopes, Verification};
use super::{
    audit, auditor, certificates, document_checks, documents, log, openapi, operations,
    publication, verify,
};
use super::{AppState, JSON_BODY_LIMIT, OCSP_BODY_LIMIT, VERIFY_BODY_LIMIT};
use crate::security::Scope;

/// The component schemas an operation refers to, as utoipa collects them.
pub(super) type Schemas = Vec<(String, RefOr<Schema>)>;

/// One route: everything the service says about it.
pub(super) struct Route {
    /// The methods it answers (HEAD is answered by GET routes, as axum does).
    pub methods: Vec<Method>,
    /// The path pattern as the router spells it (`{*rest}` for a catch-all).
    pub path: String,
    pub rule: Rule,
    /// Key generation, signing, verification: bounded in how many run at once.
    pub cost: Cost,
    /// The largest body it reads; None: axum's default (it reads none).
    pub body_limit: Option<usize>,
    serve: fn(MethodFilter) -> MethodRouter<AppState>,
    operation: fn() -> Operation,
    schemas: fn(&mut Schemas),
}

/// `route!(module::handler, __path_handler, rule, cost, body)`. The second name is the struct
/// `#[utoipa::path]` generates beside the handler, which a declarative macro cannot form; that
/// it belongs to the handler is checked when compiling.
macro_rules! route {
    ($module:ident :: $handler:ident, $doc:ident, $rule:expr, $cost:expr, $body:expr) => {{
        const _: () = assert!(
            annotation_of(stringify!($handler), stringify!($doc)),
            concat!(
                stringify!($doc),
                " is not the annotation of ",
                stringify!($handler)
            )
        );
        Route::new::<$module::$doc>(
            |methods| axum::routing::on(methods, $module::$handler),
            $rule,
            $cost,
            $body,
        )
    }};
}

/// Is `doc` the name `#[utoipa::path]` gives the struct beside `handler`?
const fn annotation_of(handler: &str, doc: &str) -> bool {
    const PREFIX: &[u8] = b"__path_";
    let (handler, doc) = (handler.as_bytes(), doc.as_bytes());
    if doc.len() != PREFIX.len() + handler.len() {
        return false;
    }
    let mut i = 0;
    while i < doc.len() {
        let wanted = if i < PREFIX.len() {
            PREFIX[i]
        } else {
            handler[i - PREFIX.len()]
        };
        if doc[i] != wanted {
            return false;
        }
        i += 1;
    }
    true
}

const PKI_READ: Rule = Scopes(&[Scope::PkiIssue, Scope::PkiRevoke]);
const PKI_ISSUE: Rule = Scopes(&[Scope::PkiIssue]);
const PKI_REVOKE: Rule = Scopes(&[Scope::PkiRevoke]);
const SIGN: Rule = Scopes(&[Scope::Sign]);
const ADMIN: Rule = Scopes(&[Scope::Admin]);

/// Cost: how many run at once is bounded for expensive work (key generation, signing); for
/// verification, which the verifier schedules itself, only for large bodies.
const CHEAP: Cost = Cost::Cheap;
const EXPENSIVE: Cost = Cost::Expensive;
const VERIFYING: Cost = Cost::Verification;

/// The largest body a route reads. The operations routes read none and keep axum's default.
const NO_BODY: Option<usize> = None;
const JSON: Option<usize> = Some(JSON_BODY_LIMIT);
const OCSP: Option<usize> = Some(OCSP_BODY_LIMIT);
const SIGNED: Option<usize> = Some(VERIFY_BODY_LIMIT);

#[rustfmt::skip]
fn declare() -> Vec<Route> {
    vec![
        route!(operations::healthz, __path_healthz, Open, CHEAP, NO_BODY),
        route!(operations::readyz, __path_readyz, Open, CHEAP, NO_BODY),
        route!(operations::metrics, __path_metrics, Open, CHEAP, NO_BODY),
        route!(openapi::openapi_json, __path_openapi_json, Open, CHEAP, NO_BODY),
        route!(openapi::docs, __path_docs, Open, CHEAP, NO_BODY),
        route!(certificates::issue, __path_issue, PKI_ISSUE, EXPENSIVE, JSON),
        route!(certificates::list, __path_list, PKI_READ, CHEAP, JSON),
        route!(certificates::show, __path_show, PKI_READ, CHEAP, JSON),
        route!(certificates::der, __path_der, PKI_READ, CHEAP, JSON),
        route!(certificates::revoke, __path_revoke, PKI_REVOKE, CHEAP, JSON),
        route!(certificates::release, __path_release, PKI_REVOKE, CHEAP, JSON),
        // No expensive slot: the document writer bounds issuance itself (a batch signs at
        // most 64 at once, 256 wait, more are refused 503), and a slot held while waiting for
        // the batch's commit would cap the batch at 2 × cores documents.
        route!(documents::issue, __path_issue, SIGN, CHEAP, JSON),
        route!(documents::show, __path_show, Verification, CHEAP, JSON),
        route!(documents::by_number, __path_by_number, Verification, CHEAP, JSON),
        route!(documents::signature, __path_signature, Verification, CHEAP, JSON),
        route!(documents::signed_xml, __path_signed_xml, Verification, CHEAP, JSON),
        route!(document_checks::verification, __path_verification, Verification, VERIFYING, JSON),
        route!(document_checks::audit, __path_audit, Verification, VERIFYING, SIGNED),
        route!(verify::verify, __path_verify, Verification, VERIFYING, SIGNED),
        route!(auditor::by_number, __path_by_number, Verification, VERIFYING, SIGNED),
        route!(auditor::upload, __path_upload, Verification, VERIFYING, SIGNED),
        route!(audit::list, __path_list, ADMIN, CHEAP, JSON),
        route!(publication::ca_certificate, __path_ca_certificate, Publication, CHEAP, OCSP),
        route!(publication::crl, __path_crl, Publication, CHEAP, OCSP),
        route!(publication::cps, __path_cps, Publication, CHEAP, OCSP),
        route!(publication::ocsp_post, __path_ocsp_post, Publication, CHEAP, OCSP),
        route!(publication::ocsp_get, __path_ocsp_get, Publication, CHEAP, OCSP),
        route!(publication::tsp, __path_tsp, Publication, CHEAP, OCSP),
        route!(log::checkpoint, __path_checkpoint, Publication, CHEAP, NO_BODY),
        route!(log::key, __path_key, Publication, CHEAP, NO_BODY),
        route!(log::tile, __path_tile, Publication, CHEAP, NO_BODY),
        route!(log::entry, __path_entry, Publication, CHEAP, NO_BODY),
        route!(log::inclusion, __path_inclusion, Publication, CHEAP, NO_BODY),
        route!(log::consistency, __path_consistency, Publication, CHEAP, NO_BODY),
        route!(log::document_proof, __path_document_proof, Verification, CHEAP, NO_BODY),
    ]
}

/// Every route the service has, declared once.
pub(super) fn declared() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(declare)
}

impl Route {
    /// A route whose method, path and OpenAPI operation come from the annotation `D`.
    fn new<D>(
        serve: fn(MethodFilter) -> MethodRouter<AppState>,
        rule: Rule,
        cost: Cost,
        body_limit: Option<usize>,
    ) -> Route
    where
        D: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
    {
        Route {
            methods: D::methods().iter().map(method).collect(),
            path: D::path(),
            rule,
            cost,
            body_limit,
            serve,
            operation: operation::<D>,
            schemas: D::schemas,
        }
    }

    /// The handler as the router mounts it at [`Route::path`].
    pub(super) fn method_router(&self) -> MethodRouter<AppState> {
        let filter = self
            .methods
            .iter()
            .filter_map(|m| MethodFilter::try_from(m.clone()).ok())
            .reduce(MethodFilter::or);
        let Some(filter) = filter else {
            return MethodRouter::new();
        };
        let router = (self.serve)(filter);
        match self.body_limit {
            Some(limit) => router.layer(DefaultBodyLimit::max(limit)),
            None => router,
        }
    }

    /// The OpenAPI operation, with the schemas it refers to added to `schemas`.
    pub(super) fn operation(&self, schemas: &mut Schemas) -> Operation {
        (self.schemas)(schemas);
        (self.operation)()
    }
}

/// The operation with its tags, as `#[derive(OpenApi)]` would assemble it (utoipa-axum reads
/// the same two traits).
fn operation<D>() -> Operation
where
    D: utoipa::Path + for<'t> utoipa::__dev::Tags<'t>,
{
    let mut operation = D::operation();
    operation
        .tags
        .get_or_insert_with(Vec::new)
        .extend(D::tags().into_iter().map(str::to_owned));
    operation
}

fn method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}
