//! The API described: the OpenAPI 3.1 document (`GET /openapi.json`) generated from the
//! handlers' `#[utoipa::path]` annotations, and a self-contained HTML page (`GET /docs`)
//! rendered from that same document, server-side, without JavaScript or anything external.
//!
//! The paths are those of the one route list ([`routes`]): each route's operation comes from its
//! handler's annotation, and who may call it from the route's access rule, which is the rule the
//! guard enforces, so the description cannot drift from what is served or how it is guarded.
//! Each operation gets its `security` (none when open; `{}` or a `verify` key when it is open
//! unless the service is configured closed; one alternative per scope otherwise), the 401/403
//! answers that follow, and an `x-qoltanba-access` extension naming the rule.
//!
//! Path mapping: the annotations spell paths as the router does; its catch-all `{*request}` is
//! `{request}` here (OpenAPI has no wildcard; its value may contain `/`).
//!
//! Rooms: [`schemas`] describes bodies whose Rust types live outside `http`; [`page`] renders
//! the docs page; this file builds the document and serves both.

mod page;
mod schemas;

pub use schemas::*;

use std::sync::OnceLock;

use axum::http::{header, Method};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{json, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Schema};
use utoipa::OpenApi;

use super::access::Rule;
use super::routes;
use crate::security::Scope;
use crate::sign::document::Kind;

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearerAuth";
/// The operation extension that names the access rule.
pub const ACCESS_EXTENSION: &str = "x-qoltanba-access";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "qoltanba",
        description = "Digital signatures (ЭЦП) and document integrity for Kazakhstan's \
            e-government licensing flow: a test PKI in NCA RK's profile, signed documents, \
            verification, and what certificates point at (CA certificates, CRLs, OCSP).\n\n\
            Errors are always `{\"error\":{\"code\",\"message\"}}` with the HTTP status. \
            Privileged operations need an API key: `Authorization: Bearer qlt_…`; the scopes each \
            one accepts are listed in its `security` (an `admin` key passes everywhere)."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "operations", description = "Health, readiness, metrics."),
        (name = "certificates", description = "The test PKI: issue, look up, revoke, release."),
        (name = "documents", description = "Signed documents (процесс 11): issue and read back."),
        (name = "verification", description = "Check signatures (условие 3), for portals and auditors."),
        (name = "audit", description = "The audit trail (admin)."),
        (name = "publication", description = "What certificates point at: CA certificates, CRLs, OCSP, CPS; and the time-stamping authority (RFC 3161)."),
        (name = "log", description = "The transparency log: signed checkpoints, C2SP tiles and entries, inclusion and consistency proofs, for auditors who trust no database."),
        (name = "documentation", description = "This description."),
    )
)]
struct ApiDoc;

/// The router's path pattern as OpenAPI spells it: `{*name}` → `{name}`.
pub fn openapi_path(route: &str) -> String {
    route.replace("{*", "{")
}

fn scope_names(rule: Rule) -> Vec<&'static str> {
    match rule {
        Rule::Open => Vec::new(),
        Rule::Verification | Rule::Publication => vec![Scope::Verify.name()],
        Rule::Scopes(scopes) => scopes.iter().map(|s| s.name()).collect(),
    }
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::Open => "open",
        Rule::Verification => "verification",
        Rule::Publication => "publication",
        Rule::Scopes(_) => "scopes",
    }
}

/// Who may call, in words (the docs page and the operation's description).
pub fn access_text(rule: Rule) -> String {
    match rule {
        Rule::Open => "Open: no API key.".to_owned(),
        Rule::Verification | Rule::Publication => format!(
            "Open by default; when the service is configured closed ({}), an API key with the \
             scope `verify` (or `admin`).",
            if rule == Rule::Verification {
                "open_verification = false"
            } else {
                "open_publication = false"
            }
        ),
        Rule::Scopes(_) => {
            let mut names: Vec<String> = scope_names(rule)
                .into_iter()
                .map(|s| format!("`{s}`"))
                .collect();
            if !names.iter().any(|n| n == "`admin`") {
                names.push("`admin`".to_owned());
            }
            format!("API key with the scope {}.", names.join(" or "))
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Security, 401/403/429 answers and the access extension of one operation, from its rule.
fn apply_rule(operation: &mut Operation, rule: Rule, expensive: bool) {
    let scopes = scope_names(rule);
    let mut alternatives: Vec<SecurityRequirement> = Vec::new();
    match rule {
        Rule::Open => {}
        Rule::Verification | Rule::Publication => {
            // Optional: `{}` (anonymous, the default) or a key with `verify`.
            alternatives.push(SecurityRequirement::default());
            alternatives.push(SecurityRequirement::new(BEARER, ["verify"]));
            alternatives.push(SecurityRequirement::new(BEARER, ["admin"]));
        }
        Rule::Scopes(_) => {
            for scope in &scopes {
                alternatives.push(SecurityRequirement::new(BEARER, [*scope]));
            }
            if !scopes.contains(&"admin") {
                alternatives.push(SecurityRequirement::new(BEARER, ["admin"]));
            }
        }
    }
    // Open operations need nothing: an empty list overrides any document-wide default.
    operation.security = Some(alternatives);

    let access = access_text(rule);
    operation.description = Some(match operation.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n**Access:** {access}"),
        _ => format!("**Access:** {access}"),
    });

    let responses = &mut operation.responses.responses;
    // A token that is presented must be good, even on an open route.
    responses.entry("401".into()).or_insert_with(|| {
        error_response(if rule == Rule::Open {
            "`unauthorized`: an API key was sent and is not valid (malformed, unknown or revoked)."
        } else {
            "`unauthorized`: no API key, or one that is not valid (malformed, unknown or revoked). \
             Comes with `WWW-Authenticate: Bearer`."
        })
    });
    if rule != Rule::Open {
        responses.entry("403".into()).or_insert_with(|| {
            error_response("`forbidden`: the API key lacks the scope this operation needs.")
        });
    }
    responses.entry("429".into()).or_insert_with(|| {
        error_response("`rate_limited`: too many requests; retry after the `Retry-After` seconds.")
    });
    responses.entry("503".into()).or_insert_with(|| {
        error_response("`timeout`: the request took too long and was abandoned; retry later.")
    });

    let mut extensions = Extensions::default();
    extensions.insert(
        ACCESS_EXTENSION.to_owned(),
        json!({
            "rule": rule_name(rule),
            "scopes": scopes,
            "open_by_default": matches!(rule, Rule::Open | Rule::Verification | Rule::Publication),
            "expensive": expensive,
        }),
    );
    match &mut operation.extensions {
        Some(existing) => existing.merge(extensions),
        None => operation.extensions = Some(extensions),
    }
}

fn http_method(method: &Method) -> Option<HttpMethod> {
    Some(match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => return None,
    })
}

fn build() -> Document {
    let mut doc = ApiDoc::openapi();
    // The paths, from the one route list: each handler's operation at its route's path, with
    // who may call it.
    let mut schemas = Vec::new();
    for route in routes::declared() {
        let mut operation = route.operation(&mut schemas);
        apply_rule(&mut operation, route.rule, route.cost.is_expensive());
        let methods = route.methods.iter().filter_map(http_method).collect();
        doc.paths
            .add_path_operation(openapi_path(&route.path), methods, operation);
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("qlt_<16 hex digits>_<43 characters>")
                .description(Some(
                    "An API key, `Authorization: Bearer qlt_…` (created with `qoltanba key \
                     create`). The requirement's list names the scope (role) the key needs; \
                     `admin` passes everywhere.",
                ))
                .build(),
        ),
    );
    // The document kinds, from the code that parses them.
    if let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("IssueBody") {
        if let Some(RefOr::T(Schema::Object(kind))) = body.properties.get_mut("kind") {
            kind.enum_values = Some(Kind::ALL.iter().map(|k| json!(k.name())).collect());
        }
    }
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
            // A body given by its content type alone (raw bytes: OCSP) cannot be left out.
            if let Some(body) = &mut operation.request_body {
                if body.required.is_none() && body.content.values().all(|c| c.schema.is_none()) {
                    body.required = Some(utoipa::openapi::Required::True);
                }
            }
        }
    }
    doc
}

/// The OpenAPI 3.1 document, built once.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_string_pretty(document()).unwrap_or_default())
}

fn docs_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| page::render(&serde_json::to_value(document()).unwrap_or(Value::Null)))
}

/// The OpenAPI 3.1 description of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "documentation",
    operation_id = "openapi",
    summary = "The OpenAPI 3.1 description of this API",
    description = "Generated from the handlers; who may call each operation comes from the \
        service's own rule table.",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json",
         body = Object),
    )
)]
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
        .into_response()
}

/// The API documentation as a web page.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "documentation",
    operation_id = "docs",
    summary = "The API documentation as a web page",
    description = "Every operation with its access rule, parameters, bodies and answers; plain \
        HTML rendered from the OpenAPI document, no scripts, nothing external.",
    responses(
        (status = 200, description = "The page.", content_type = "text/html; charset=utf-8",
         body = String),
    )
)]
pub async fn docs() -> Html<&'static str> {
    Html(docs_html())
}
