//! The API described: the OpenAPI 3.1 document (`GET /openapi.json`) generated from the
//! handlers' `#[utoipa::path]` annotations, and a self-contained HTML page (`GET /docs`)
//! rendered from that same document, server-side, without JavaScript or anything external.
//!
//! Who may call an operation is not written in the annotations: [`document`] takes it from the
//! rule table ([`access::routes`]), so the description cannot drift from what the guard enforces.
//! Each operation gets its `security` (none when open; `{}` or a `verify` key when it is open
//! unless the service is configured closed; one alternative per scope otherwise), the 401/403
//! answers that follow, and an `x-qoltanba-access` extension naming the rule.
//!
//! Path mapping: the router's catch-all `{*request}` is `{request}` here (OpenAPI has no
//! wildcard; its value may contain `/`).

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::{header, Method};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Schema};
use utoipa::{OpenApi, ToSchema};

use super::access::{self, Rule};
use crate::security::Scope;
use crate::sign::document::Kind;

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearerAuth";
/// The operation extension that names the access rule.
pub const ACCESS_EXTENSION: &str = "x-qoltanba-access";

// ---------------------------------------------------------------------------------------------
// Schemas of bodies whose Rust types live outside `http` (or are built ad hoc): described here.
// ---------------------------------------------------------------------------------------------

/// The one error shape of the API.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "no document with id \"x\""}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: bad_request, invalid_request, invalid_document, unauthorized,
    /// forbidden, not_found, conflict, method_not_allowed, payload_too_large,
    /// unsupported_media_type, rate_limited, timeout, internal.
    pub code: String,
    /// For people; never carries a secret or an internal detail.
    pub message: String,
}

/// The subscriber key types (`KeyAlgorithm`, as the API spells them).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
    Ed25519,
    /// GOST R 34.10-2012 (NCA's "GOST 34.10-2015"), 512-bit, paramSetA.
    #[serde(rename = "gost2015")]
    Gost2015,
}

/// `POST /v1/pki/certificates`: what to issue (`pki::IssueRequest`). Unknown fields are refused.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"profile": "individual-sign", "iin": "950341000052", "surname": "ТЕСТОВ", "given_name": "ТЕСТ", "patronymic": "ТЕСТОВИЧ", "password": "Qwerty12"}))]
pub struct IssueRequest {
    /// The certificate profile: the built-in ones are individual-sign, individual-auth,
    /// legal-head-sign, legal-signer-sign, legal-financial-sign, legal-hr-sign,
    /// legal-employee-sign and infosystem-sign.
    pub profile: String,
    /// The subject's IIN (12 digits), for profiles of people.
    pub iin: Option<String>,
    /// The organisation's BIN (12 digits), for legal-entity profiles.
    pub bin: Option<String>,
    pub org: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    /// NCA puts the patronymic in GIVENNAME; the first name goes into CN only.
    pub patronymic: Option<String>,
    /// CN for profiles whose subject is not a person (information systems).
    pub common_name: Option<String>,
    pub uid: Option<String>,
    /// The subscriber's key type; default: the issuing CA's.
    pub key: Option<KeyAlgorithm>,
    /// Validity in days (at most 3650).
    pub days: Option<u32>,
    /// Accept an IIN/BIN whose check digit or structure is wrong (NCA's own test numbers are).
    #[schema(default = false, required = false)]
    pub allow_invalid_check_digit: bool,
    /// Password of the PKCS#12 key store returned.
    pub password: Option<String>,
    /// Produce the legacy 3DES/RC2 PKCS#12 real NCA key stores use.
    #[schema(default = false, required = false)]
    pub legacy: bool,
}

/// A certificate's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    Good,
    Revoked,
    /// Suspended (certificateHold): listed on CRLs, can be released.
    Hold,
}

/// One line of the audit trail.
#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    /// Position in the trail.
    pub seq: i64,
    /// Unix time, seconds.
    pub at: i64,
    pub request_id: String,
    /// `key:<name>` or `anonymous`.
    pub actor: String,
    /// Method and route pattern, e.g. `POST /v1/documents`.
    pub action: String,
    pub target: String,
    /// "ok", "refused" or "failed".
    pub outcome: String,
    /// HTTP status, or the CLI's exit code.
    pub status: i64,
    pub detail: String,
}

/// `/readyz`: every check, and whether this instance can serve.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// "ready" or "not_ready".
    pub status: String,
    /// By check name: `database`, `ca_keys`, `crl:<ca id>`.
    pub checks: std::collections::BTreeMap<String, ReadinessCheck>,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessCheck {
    pub ok: bool,
    pub detail: String,
}

/// The overall verdict.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Indeterminate,
    Invalid,
}

/// One step's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passed,
    Skipped,
    Indeterminate,
    Failed,
}

/// One step's outcome.
#[derive(Serialize, ToSchema)]
pub struct Check {
    /// format, signature, chain, validity, revocation, key_usage or identity.
    pub id: String,
    pub status: CheckStatus,
    /// "OK", the sub-indication, or a finer code (e.g. IIN_MISMATCH).
    pub code: String,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubjectReport {
    pub cn: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub iin: Option<String>,
    pub iin_check_digit_valid: Option<bool>,
    pub bin: Option<String>,
    pub bin_check_digit_valid: Option<bool>,
    pub organisation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignerReport {
    pub subject: SubjectReport,
    /// Role names from the EKU (individual, legal_entity, first_head, …) and unnamed role OIDs.
    pub roles: Vec<String>,
    /// "sign", "auth" or "other".
    pub key_kind: String,
    pub serial: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// The signingTime attribute: reported, not trusted as proof of anything.
    pub signing_time: Option<String>,
    pub revocation_source: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

/// Where the expected IIN/BIN came from.
#[derive(Serialize, ToSchema)]
pub struct ExpectedIdentity {
    /// "caller", "content" or "none".
    pub source: String,
    pub iin: Option<String>,
    pub iin_check_digit_valid: Option<bool>,
    pub bin: Option<String>,
    pub bin_check_digit_valid: Option<bool>,
}

/// The процесс 7 refusal text, when the signature is not accepted.
#[derive(Serialize, ToSchema)]
pub struct Refusal {
    pub ru: String,
    pub kk: String,
    pub en: String,
    /// The specific reason, in English.
    pub reason: String,
}

/// The verification report (`verify::Report`): verdict, ETSI EN 319 102-1 indication and
/// sub-indication, one check per step, the signers.
#[derive(Serialize, ToSchema)]
pub struct Report {
    pub verdict: Verdict,
    /// TOTAL_PASSED, TOTAL_FAILED or INDETERMINATE.
    pub indication: String,
    /// e.g. REVOKED, EXPIRED, FORMAT_FAILURE, TRY_LATER.
    pub sub_indication: Option<String>,
    pub validation_time: String,
    /// Exactly the seven steps, in order.
    pub checks: Vec<Check>,
    pub signers: Vec<SignerReport>,
    pub expected_identity: ExpectedIdentity,
    /// Present only when the verdict is not valid.
    #[schema(required = false)]
    pub refusal: Option<Refusal>,
}

/// The auditor page's upload form (`multipart/form-data`).
#[derive(Serialize, ToSchema)]
pub struct AuditorUpload {
    /// The signature file (CMS, .p7s; DER or PEM).
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub signature: Vec<u8>,
    /// The signed file, when the signature is detached.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    pub content: Option<Vec<u8>>,
}

// ---------------------------------------------------------------------------------------------
// The document.
// ---------------------------------------------------------------------------------------------

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
    paths(
        super::operations::healthz,
        super::operations::readyz,
        super::operations::metrics,
        super::certificates::issue,
        super::certificates::list,
        super::certificates::show,
        super::certificates::der,
        super::certificates::revoke,
        super::certificates::release,
        super::documents::issue,
        super::documents::show,
        super::documents::by_number,
        super::documents::signature,
        super::documents::verification,
        super::documents::audit,
        super::verify::verify,
        super::auditor::by_number,
        super::auditor::upload,
        super::audit::list,
        super::publication::ca_certificate,
        super::publication::crl,
        super::publication::cps,
        super::publication::ocsp_post,
        super::publication::ocsp_get,
        openapi_json,
        docs,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "operations", description = "Health, readiness, metrics."),
        (name = "certificates", description = "The test PKI: issue, look up, revoke, release."),
        (name = "documents", description = "Signed documents (процесс 11): issue and read back."),
        (name = "verification", description = "Check signatures (условие 3), for portals and auditors."),
        (name = "audit", description = "The audit trail (admin)."),
        (name = "publication", description = "What certificates point at: CA certificates, CRLs, OCSP, CPS."),
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

fn operation_mut<'a>(
    item: &'a mut utoipa::openapi::PathItem,
    method: &Method,
) -> Option<&'a mut Operation> {
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        Method::HEAD => item.head.as_mut(),
        Method::OPTIONS => item.options.as_mut(),
        Method::TRACE => item.trace.as_mut(),
        _ => None,
    }
}

fn build() -> Document {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
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
    for route in access::routes() {
        let path = openapi_path(route.path);
        let operation = doc
            .paths
            .paths
            .get_mut(&path)
            .and_then(|item| operation_mut(item, &route.method));
        // A route without an annotation is simply absent; the tests catch it.
        if let Some(operation) = operation {
            apply_rule(operation, route.rule, route.expensive);
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
    HTML.get_or_init(|| render(&serde_json::to_value(document()).unwrap_or(Value::Null)))
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

// ---------------------------------------------------------------------------------------------
// The docs page.
// ---------------------------------------------------------------------------------------------

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text with `code` spans (the only markdown the descriptions use) and paragraphs.
fn prose(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|paragraph| {
            let mut html = String::from("<p>");
            for (i, part) in paragraph.split('`').enumerate() {
                let part = part.replace("**", "");
                if i % 2 == 1 {
                    let _ = write!(html, "<code>{}</code>", escape(&part));
                } else {
                    html.push_str(&escape(&part));
                }
            }
            html.push_str("</p>");
            html
        })
        .collect()
}

/// [`prose`] without paragraphs, for table cells and one-line boxes.
fn inline(text: &str) -> String {
    let html = prose(text);
    html.strip_prefix("<p>")
        .and_then(|h| h.strip_suffix("</p>"))
        .unwrap_or(&html)
        .replace("</p><p>", "<br>")
}

fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// A schema in a few words, as HTML: `ErrorBody` (linked), `array of X`, `string | null`.
fn type_label(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = ref_name(reference);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), escape(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            let glue = if key == "allOf" { " &amp; " } else { " | " };
            return parts.iter().map(type_label).collect::<Vec<_>>().join(glue);
        }
    }
    let mut label = match schema.get("type") {
        Some(Value::String(t)) => escape(t),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .map(escape)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    };
    if label.starts_with("array") {
        if let Some(items) = schema.get("items") {
            label = label.replacen("array", &format!("array of {}", type_label(items)), 1);
        }
    }
    if let Some(Value::Object(_)) = schema.get("additionalProperties") {
        label = format!("map of {}", type_label(&schema["additionalProperties"]));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
            .collect();
        label = format!("{label} (one of {})", values.join(", "));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        label = format!("{label} ({})", escape(format));
    }
    if let Some(media) = schema.get("contentMediaType").and_then(Value::as_str) {
        label = format!("{label} (file, {})", escape(media));
    }
    if label.is_empty() {
        "any".to_owned()
    } else {
        label
    }
}

fn content_list(content: Option<&Value>) -> String {
    let Some(content) = content.and_then(Value::as_object) else {
        return "—".to_owned();
    };
    content
        .iter()
        .map(|(media, body)| match body.get("schema") {
            Some(schema) => format!("<code>{}</code>: {}", escape(media), type_label(schema)),
            None => format!("<code>{}</code>", escape(media)),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.4}\
code{background:#f3f3f3;padding:0 .2rem;word-break:break-all}table{border-collapse:collapse;width:100%;margin:.5rem 0}\
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}\
section.op{border:1px solid #ccc;border-radius:4px;padding:.5rem 1rem;margin:1rem 0}\
.method{display:inline-block;min-width:3.5rem;font-weight:bold;color:#fff;background:#36c;padding:0 .4rem;border-radius:3px;text-align:center}\
.POST{background:#284}.access{background:#f6f6e8;padding:.3rem .5rem}nav li{margin:.1rem 0}";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The docs page, from the document as JSON: every operation, then every schema.
fn render(doc: &Value) -> String {
    let info = &doc["info"];
    let title = info["title"].as_str().unwrap_or("API");
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} API</title><style>{STYLE}</style></head><body><h1>{} API <small>{}</small></h1>",
        escape(title),
        escape(title),
        escape(info["version"].as_str().unwrap_or_default())
    );
    html.push_str(&prose(info["description"].as_str().unwrap_or_default()));
    let _ = write!(
        html,
        "<p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {}).</p>",
        escape(doc["openapi"].as_str().unwrap_or_default())
    );
    html.push_str(
        "<h2 id=\"errors\">Errors</h2><p>Every error is JSON with the HTTP status:</p>\
         <pre><code>{\"error\": {\"code\": \"not_found\", \"message\": \"…\"}}</code></pre>\
         <p>See <a href=\"#schema-ErrorBody\">ErrorBody</a> for the codes.</p>\
         <h2 id=\"auth\">Authentication</h2><p>Privileged operations need an API key: \
         <code>Authorization: Bearer qlt_…</code>. Each operation names the scopes it accepts; \
         a key with <code>admin</code> passes everywhere. A key that is sent must be valid, even \
         on an open operation.</p>",
    );

    // (tag, path, method, operation): grouped by tag in the document's order, then by path.
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    let mut operations: Vec<(usize, &str, &str, &Value)> = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let tag = op["tags"][0].as_str().unwrap_or_default();
                    let rank = tags.iter().position(|t| *t == tag).unwrap_or(tags.len());
                    operations.push((rank, path, method, op));
                }
            }
        }
    }
    operations.sort_by_key(|(rank, path, _, _)| (*rank, *path));
    let id_of = |path: &str, method: &str| anchor(&format!("op-{method}{path}"));
    let tag_heading = |rank: usize| {
        let (name, description) = match doc["tags"].get(rank) {
            Some(tag) => (
                tag["name"].as_str().unwrap_or("other"),
                tag["description"].as_str().unwrap_or_default(),
            ),
            None => ("other", ""),
        };
        (escape(name), inline(description))
    };

    html.push_str("<h2 id=\"operations\">Operations</h2><nav>");
    let mut current = None;
    for (rank, path, method, op) in &operations {
        if current != Some(*rank) {
            if current.is_some() {
                html.push_str("</ul>");
            }
            current = Some(*rank);
            let (name, description) = tag_heading(*rank);
            let _ = write!(
                html,
                "<p><a href=\"#tag-{name}\"><strong>{name}</strong></a>: {description}</p><ul>"
            );
        }
        let _ = write!(
            html,
            "<li><a href=\"#{}\"><code>{} {}</code></a> {}</li>",
            id_of(path, method),
            method.to_uppercase(),
            escape(path),
            escape(op["summary"].as_str().unwrap_or_default())
        );
    }
    html.push_str("</ul></nav>");

    let mut current = None;
    for (rank, path, method, op) in &operations {
        if current != Some(*rank) {
            current = Some(*rank);
            let (name, description) = tag_heading(*rank);
            let _ = write!(
                html,
                "<h2 id=\"tag-{name}\">{name}</h2><p>{description}</p>"
            );
        }
        let upper = method.to_uppercase();
        let _ = write!(
            html,
            "<section class=\"op\" id=\"{}\"><h3><span class=\"method {upper}\">{upper}</span> \
             <code>{}</code></h3><p><strong>{}</strong></p>",
            id_of(path, method),
            escape(path),
            escape(op["summary"].as_str().unwrap_or_default())
        );
        // The description ends with the access paragraph (from the rule table).
        let description = op["description"].as_str().unwrap_or_default();
        let (text, access) = match description.rsplit_once("**Access:** ") {
            Some((text, access)) => (text, Some(access)),
            None => (description, None),
        };
        html.push_str(&prose(text));
        let scopes = op[ACCESS_EXTENSION]["scopes"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(|s| format!("<code>{}</code>", escape(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "none".to_owned());
        let _ = write!(
            html,
            "<div class=\"access\"><strong>Access</strong> (rule <code>{}</code>; scope: {scopes}): {}</div>",
            escape(op[ACCESS_EXTENSION]["rule"].as_str().unwrap_or("admin-only")),
            inline(access.unwrap_or("API key with the scope `admin`."))
        );

        if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
            html.push_str(
                "<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th>\
                 <th>Type</th><th>Description</th></tr>",
            );
            for p in params {
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(p["name"].as_str().unwrap_or_default()),
                    escape(p["in"].as_str().unwrap_or_default()),
                    if p["required"].as_bool().unwrap_or(false) {
                        "yes"
                    } else {
                        "no"
                    },
                    p.get("schema").map_or_else(|| "any".to_owned(), type_label),
                    inline(p["description"].as_str().unwrap_or_default())
                );
            }
            html.push_str("</table>");
        }

        if let Some(body) = op.get("requestBody") {
            let _ = write!(
                html,
                "<h4>Request body{}</h4>{}<p>{}</p>",
                if body["required"].as_bool().unwrap_or(false) {
                    ""
                } else {
                    " (optional)"
                },
                prose(body["description"].as_str().unwrap_or_default()),
                content_list(body.get("content"))
            );
        }

        html.push_str(
            "<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Content</th></tr>",
        );
        if let Some(responses) = op["responses"].as_object() {
            for (status, response) in responses {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(status),
                    inline(response["description"].as_str().unwrap_or_default()),
                    content_list(response.get("content"))
                );
            }
        }
        html.push_str("</table></section>");
    }

    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(
                html,
                "<section id=\"schema-{}\"><h3>{}</h3>{}",
                anchor(name),
                escape(name),
                prose(schema["description"].as_str().unwrap_or_default())
            );
            // `allOf` (a flattened struct): the schemas it includes, then its own fields.
            let mut own = schema;
            if let Some(parts) = schema["allOf"].as_array() {
                for part in parts {
                    match part.get("$ref") {
                        Some(_) => {
                            let _ =
                                write!(html, "<p>Every field of {}, and:</p>", type_label(part));
                        }
                        None => own = part,
                    }
                }
            }
            let required: Vec<&str> = own["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match own["properties"].as_object() {
                Some(properties) => {
                    html.push_str(
                        "<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>",
                    );
                    for (field, property) in properties {
                        let _ = write!(
                            html,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(field),
                            type_label(property),
                            if required.contains(&field.as_str()) {
                                "yes"
                            } else {
                                "no"
                            },
                            inline(property["description"].as_str().unwrap_or_default())
                        );
                    }
                    html.push_str("</table>");
                }
                None => {
                    let _ = write!(html, "<p>{}</p>", type_label(own));
                }
            }
            html.push_str("</section>");
        }
    }
    html.push_str("</body></html>");
    html
}
