//! The API description (issue 7): `/openapi.json` is OpenAPI 3.1 and lists exactly the routes of
//! the rule table, each with the security the table gives it; `/docs` names every path and loads
//! nothing from elsewhere; the schemas of bodies described apart from their Rust types say what
//! the service really sends.
//!
//! Path mapping between the router and OpenAPI: the catch-all `{*name}` is `{name}` in OpenAPI
//! (which has no wildcard); every other segment is spelled the same.

use std::collections::BTreeSet;

use qoltanba::http::access::{self, Rule};
use qoltanba::http::openapi::{ACCESS_EXTENSION, BEARER};
use qoltanba::security::Scope;

use super::*;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The router's pattern as OpenAPI spells it: `{*request}` → `{request}`.
fn openapi_path(route: &str) -> String {
    route.replace("{*", "{")
}

async fn document(t: &TestPki) -> Value {
    get(t, "/openapi.json").await.ok_json(StatusCode::OK)
}

/// Every (METHOD, path) the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

fn operation<'a>(doc: &'a Value, method: &Method, path: &str) -> &'a Value {
    let op = &doc["paths"][openapi_path(path)][method.as_str().to_lowercase()];
    assert!(op.is_object(), "{method} {path} is not in the document");
    op
}

#[tokio::test]
async fn openapi_json_is_3_1_and_lists_exactly_the_routed_operations() {
    let t = pki().await;
    let doc = document(&t).await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "OpenAPI {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let routed: BTreeSet<(String, String)> = access::routes()
        .iter()
        .map(|r| (r.method.to_string(), openapi_path(r.path)))
        .collect();
    let described = operations(&doc);
    let missing: Vec<_> = routed.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(missing.is_empty(), "routes not described: {missing:?}");
    assert!(
        unrouted.is_empty(),
        "described but not routed: {unrouted:?}"
    );
    for required in [
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/pki/ocsp/{request}"),
    ] {
        assert!(
            described.contains(&(required.0.to_owned(), required.1.to_owned())),
            "{required:?}"
        );
    }

    // Every operation: a summary, an id, responses; every path parameter declared.
    let mut ids = BTreeSet::new();
    for (method, path) in &described {
        let op = &doc["paths"][path][method.to_lowercase()];
        let what = format!("{method} {path}");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: summary"
        );
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "{what}: operationId {id} twice");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().expect("name"))
            .collect();
        let in_path: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .map(|s| s.split('}').next().expect("closing brace"))
            .collect();
        assert_eq!(declared, in_path, "{what}: path parameters");
        // Errors have the one shape.
        for (status, response) in op["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                let json = &response["content"]["application/json"]["schema"]["$ref"];
                // `/readyz` answers 503 with its checks, not an error.
                if !json.is_null() && (path.as_str(), status.as_str()) != ("/readyz", "503") {
                    assert_eq!(json, "#/components/schemas/ErrorBody", "{what} {status}");
                }
            }
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["error"]), "{error}");
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert_eq!(detail["required"], json!(["code", "message"]), "{detail}");

    // Bodies that are not JSON are described with their own content types.
    let content = |method: Method, path: &str, status: &str| -> Vec<String> {
        let op = operation(&doc, &method, path);
        op["responses"][status]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    };
    let request_types = |method: Method, path: &str| -> Vec<String> {
        operation(&doc, &method, path)["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    };
    let has = |types: Vec<String>, wanted: &str| {
        assert!(
            types.iter().any(|t| t.starts_with(wanted)),
            "{wanted} not in {types:?}"
        )
    };
    has(
        content(
            Method::GET,
            "/v1/pki/certificates/{serial}/certificate.cer",
            "200",
        ),
        "application/pkix-cert",
    );
    has(
        content(Method::GET, "/pki/{file}", "200"),
        "application/pkix-cert",
    );
    has(
        content(Method::GET, "/pki/crl/{file}", "200"),
        "application/pkix-crl",
    );
    has(
        content(Method::POST, "/pki/ocsp", "200"),
        "application/ocsp-response",
    );
    has(
        content(Method::GET, "/pki/ocsp/{*request}", "200"),
        "application/ocsp-response",
    );
    has(
        request_types(Method::POST, "/pki/ocsp"),
        "application/ocsp-request",
    );
    has(
        content(Method::GET, "/v1/documents/{id}/signature.p7s", "200"),
        "application/pkcs7-signature",
    );
    has(
        content(Method::GET, "/v1/documents/{file}", "200"),
        "application/pdf",
    );
    has(
        content(Method::GET, "/v1/documents/{file}", "200"),
        "application/json",
    );
    has(content(Method::GET, "/verify", "200"), "text/html");
    has(content(Method::POST, "/verify", "200"), "text/html");
    has(
        request_types(Method::POST, "/verify"),
        "multipart/form-data",
    );
    has(
        content(Method::GET, "/metrics", "200"),
        "text/plain; version=0.0.4",
    );
    has(content(Method::GET, "/docs", "200"), "text/html");
    has(request_types(Method::POST, CERTS), "application/json");
}

#[tokio::test]
async fn each_operations_security_follows_the_rule_table() {
    let t = pki().await;
    let doc = document(&t).await;
    let scheme = &doc["components"]["securitySchemes"][BEARER];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    assert!(doc.get("security").is_none(), "no document-wide default");

    for route in access::routes() {
        let what = format!("{} {}", route.method, route.path);
        let op = operation(&doc, &route.method, route.path);
        let security: Vec<&serde_json::Map<String, Value>> = op["security"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r.as_object().expect("requirement object"))
                    .collect()
            })
            .unwrap_or_default();
        let anonymous = security.iter().any(|r| r.is_empty());
        // The scopes of the bearer alternatives; nothing but the bearer scheme is named.
        let mut scopes = BTreeSet::new();
        for requirement in security.iter().filter(|r| !r.is_empty()) {
            assert_eq!(requirement.len(), 1, "{what}: {requirement:?}");
            let listed = requirement[BEARER]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: not {BEARER}: {requirement:?}"));
            assert_eq!(listed.len(), 1, "{what}: one scope per alternative");
            scopes.insert(listed[0].as_str().expect("scope").to_owned());
        }
        let expected: BTreeSet<String> = match route.rule {
            Rule::Open => BTreeSet::new(),
            Rule::Verification | Rule::Publication => {
                ["verify", "admin"].into_iter().map(str::to_owned).collect()
            }
            Rule::Scopes(list) => list
                .iter()
                .chain([Scope::Admin].iter())
                .map(|s| s.name().to_owned())
                .collect(),
        };
        assert_eq!(scopes, expected, "{what}");
        match route.rule {
            Rule::Open => assert!(security.is_empty(), "{what} is open: {security:?}"),
            Rule::Verification | Rule::Publication => {
                assert!(anonymous, "{what} is open by default: {{}} is listed")
            }
            Rule::Scopes(_) => assert!(!anonymous, "{what} needs a key"),
        }
        let access = &op[ACCESS_EXTENSION];
        assert_eq!(
            access["expensive"],
            route.cost.is_expensive(),
            "{what}: {access}"
        );
        assert_eq!(
            access["open_by_default"],
            !matches!(route.rule, Rule::Scopes(_)),
            "{what}: {access}"
        );
        // A privileged operation says how it refuses.
        let responses = &op["responses"];
        assert!(responses["429"].is_object(), "{what}: 429");
        if route.rule != Rule::Open {
            assert!(responses["401"].is_object(), "{what}: 401");
            assert!(responses["403"].is_object(), "{what}: 403");
        } else {
            assert!(responses["403"].is_null(), "{what}: no 403 when open");
        }
    }
}

#[tokio::test]
async fn docs_page_names_every_path_and_loads_nothing_external() {
    let t = pki().await;
    let reply = get(&t, "/docs").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.header(header::CONTENT_TYPE).starts_with("text/html"));
    let html = reply.text();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    let doc = document(&t).await;
    for (method, path) in operations(&doc) {
        // Paths are HTML-escaped; none of ours needs it, so they appear as they are.
        assert!(
            html.contains(&format!(">{method}</span> <code>{path}</code>")),
            "{method} {path} is not on the page"
        );
        let summary = doc["paths"][&path][method.to_lowercase()]["summary"]
            .as_str()
            .expect("summary");
        assert!(
            html.contains(&escape(summary)),
            "{method} {path}: summary {summary:?}"
        );
    }
    for rule in access::routes() {
        if let Rule::Scopes(scopes) = rule.rule {
            for scope in scopes {
                assert!(
                    html.contains(&format!("<code>{}</code>", scope.name())),
                    "{scope}"
                );
            }
        }
    }
    for words in [
        "Authorization: Bearer qlt_",
        "{&quot;error&quot;",
        "application/pkix-crl",
        "multipart/form-data",
    ] {
        let words = words.replace("{&quot;", "{\"");
        assert!(
            html.contains(&words) || html.contains(&words.replace('"', "&quot;")),
            "{words}"
        );
    }
    // Self-contained: no script at all, and nothing loaded from another origin.
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "no scripts");
    assert!(
        !lower.contains("<link"),
        "no stylesheets or fonts from elsewhere"
    );
    assert!(
        !lower.contains("@import") && !lower.contains("url("),
        "no CSS loads"
    );
    for attribute in ["src=", "href=\"http", "href=\"//"] {
        assert!(!lower.contains(attribute), "{attribute}");
    }
    assert!(!lower.contains("https://") && !lower.contains("http://"));
    // Open without a key, as the table says.
    let state = t.state_with(
        t.verifier(),
        qoltanba::config::SecurityConfig {
            open_verification: false,
            open_publication: false,
            ..Default::default()
        },
    );
    for uri in ["/docs", "/openapi.json"] {
        let response = router(state.clone())
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
    }
}

/// The properties of a component schema, and those it requires.
fn properties(doc: &Value, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let schema = &doc["components"]["schemas"][name];
    let keys = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} has no properties: {schema}"))
        .keys()
        .cloned()
        .collect();
    let required = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().expect("name").to_owned())
        .collect();
    (keys, required)
}

/// An object the service sent fits its schema's field names: nothing unknown, nothing required
/// left out.
fn fits(doc: &Value, name: &str, value: &Value) {
    let (keys, required) = properties(doc, name);
    let sent: BTreeSet<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("{name}: not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    let unknown: Vec<_> = sent.difference(&keys).collect();
    let absent: Vec<_> = required.difference(&sent).collect();
    assert!(
        unknown.is_empty(),
        "{name}: fields not described {unknown:?}"
    );
    assert!(
        absent.is_empty(),
        "{name}: required fields not sent {absent:?}"
    );
}

#[tokio::test]
async fn described_bodies_match_what_the_service_sends() {
    let t = pki().await;
    let doc = document(&t).await;

    // The verification report (described apart from `verify::Report`).
    let report = post_json(&t, "/v1/verify", &json!({"signature": b64(b"not a CMS")}))
        .await
        .ok_json(StatusCode::OK);
    fits(&doc, "Report", &report);
    fits(&doc, "Check", &report["checks"][0]);
    fits(&doc, "ExpectedIdentity", &report["expected_identity"]);
    fits(&doc, "Refusal", &report["refusal"]);

    // A certificate, and the certificate statuses.
    let serial = issue_p256(&t).await;
    let certificate = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    fits(&doc, "CertificateView", &certificate);
    let statuses = &doc["components"]["schemas"]["CertificateStatus"]["enum"];
    assert!(
        statuses
            .as_array()
            .is_some_and(|s| s.contains(&certificate["status"])),
        "{statuses}"
    );

    // The key types the API accepts are exactly the ones described.
    let described: BTreeSet<String> = doc["components"]["schemas"]["KeyAlgorithm"]["enum"]
        .as_array()
        .expect("KeyAlgorithm enum")
        .iter()
        .map(|v| v.as_str().expect("name").to_owned())
        .collect();
    let accepted: BTreeSet<String> = KeyAlgorithm::ALL
        .iter()
        .map(|k| serde_json::to_value(k).expect("serialise"))
        .map(|v| v.as_str().expect("name").to_owned())
        .collect();
    assert_eq!(described, accepted);

    // Every field of the described issuance request is one the service accepts.
    let (fields, _) = properties(&doc, "IssueRequest");
    for field in &fields {
        let message = post_json(&t, CERTS, &json!({ field.as_str(): null }))
            .await
            .text();
        assert!(!message.contains("unknown field"), "{field}: {message}");
    }

    // The document kinds described are the ones the service takes.
    let kinds = doc["components"]["schemas"]["IssueBody"]["properties"]["kind"]["enum"]
        .as_array()
        .expect("IssueBody.kind enum")
        .clone();
    assert!(kinds.len() >= 2, "{kinds:?}");
    for kind in &kinds {
        let message = post_json(&t, "/v1/documents", &json!({"kind": kind, "payload": {}}))
            .await
            .text();
        assert!(
            !message.contains("unknown document kind"),
            "{kind}: {message}"
        );
    }
    let message = post_json(&t, "/v1/documents", &json!({"kind": "poem", "payload": {}}))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    for kind in &kinds {
        assert!(message.contains(kind.as_str().expect("name")), "{message}");
    }

    // The audit trail and readiness.
    let page = get(&t, "/v1/audit?limit=5").await.ok_json(StatusCode::OK);
    fits(&doc, "Page", &page);
    fits(&doc, "AuditEvent", &page["events"][0]);
    let ready = get(&t, "/readyz").await.json();
    fits(&doc, "Readiness", &ready);

    // An error.
    let error = get(&t, "/v1/documents/nothing").await;
    error.error(StatusCode::NOT_FOUND, "not_found");
    fits(&doc, "ErrorBody", &error.json());
    fits(&doc, "ErrorDetail", &error.json()["error"]);
}
