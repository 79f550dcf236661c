//! Issue 12, item 5: every refusal, whichever extractor makes it (path, query, JSON, multipart,
//! raw bodies and their size limit), is `{"error":{"code","message"}}` with its status; and
//! item 7's HTTP part: the `Bearer` scheme in any case, two `Authorization` headers refused.
//!
//! The walk takes the routes from the rule table (`access::routes()`, the one route list) and
//! what each reads (query parameters, request bodies) from the OpenAPI document built from the
//! same list, so a new route is walked without being named here. It calls as the admin, so the
//! guard lets every request through to the handler's own extractors.

use qoltanba::http::access;
use qoltanba::http::openapi::{document, openapi_path};
use qoltanba::http::VERIFY_BODY_LIMIT;

use super::access::concrete;
use super::*;

/// `%C0%AE`: an overlong encoding of `.`, which does not decode as UTF-8.
const NOT_UTF8: &str = "%C0%AE";
const BOUNDARY: &str = "qoltanba-boundary";

/// One malformed request and the refusal it must get.
struct Case {
    method: Method,
    uri: String,
    content_type: String,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

/// None when the reply is the refusal the case expects; otherwise what is wrong with it.
fn mismatch(case: &Case, reply: &Reply) -> Option<String> {
    let what = format!("{} {} ({})", case.method, case.uri, case.content_type);
    let json = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let code = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .filter(|v| v.as_object().is_some_and(|o| o.len() == 1))
        .and_then(|v| v.get("error").cloned())
        .filter(|e| e.as_object().is_some_and(|o| o.len() == 2))
        .filter(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
        .and_then(|e| e["code"].as_str().map(str::to_owned));
    let text: String = reply.text().chars().take(160).collect();
    match code {
        Some(code) if json && reply.status == case.status && code == case.code => None,
        _ => Some(format!(
            "{what}: wanted {} {}, got {} {:?} {text:?}",
            case.status,
            case.code,
            reply.status,
            reply.headers.get(header::CONTENT_TYPE)
        )),
    }
}

/// `limit` bytes and one more, as the body of the given content type.
fn oversized(content_type: &str) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    let content_type = if content_type.starts_with("multipart/") {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"signature\"; \
                 filename=\"s.p7s\"\r\n\r\n"
            )
            .as_bytes(),
        );
        format!("multipart/form-data; boundary={BOUNDARY}")
    } else {
        content_type.to_owned()
    };
    body.resize(VERIFY_BODY_LIMIT + 1, b' ');
    (content_type, body)
}

/// The malformed bodies of one request content type: what the extractor itself refuses.
/// (A well-formed but wrong OCSP request is answered in OCSP's own terms, so raw bodies are
/// only walked past their size limit.)
fn bad_bodies(content_type: &str) -> Vec<(String, Vec<u8>, StatusCode, &'static str)> {
    let mut bodies = match content_type {
        "application/json" => vec![
            (
                content_type.to_owned(),
                br#"{""#.to_vec(),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                content_type.to_owned(),
                b"[1]".to_vec(),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                "text/plain".to_owned(),
                b"{}".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
        ],
        "multipart/form-data" => vec![
            (
                content_type.to_owned(),
                b"signature=x".to_vec(),
                StatusCode::BAD_REQUEST,
                "bad_multipart",
            ),
            (
                "application/x-www-form-urlencoded".to_owned(),
                b"signature=x".to_vec(),
                StatusCode::BAD_REQUEST,
                "bad_multipart",
            ),
        ],
        _ => Vec::new(),
    };
    let (oversized_type, body) = oversized(content_type);
    bodies.push((
        oversized_type,
        body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    ));
    bodies
}

/// Every malformed request the walk sends to one route.
fn cases(doc: &Value, rule: &access::RouteRule) -> Vec<Case> {
    let method_name = rule.method.as_str().to_ascii_lowercase();
    let operation = &doc["paths"][openapi_path(rule.path)][method_name.as_str()];
    assert!(
        operation.is_object(),
        "{} {} is described",
        rule.method,
        rule.path
    );
    let uri = concrete(rule.path);
    let case = |uri: String, content_type: &str, body: Vec<u8>, status, code| Case {
        method: rule.method.clone(),
        uri,
        content_type: content_type.to_owned(),
        body,
        status,
        code,
    };
    let mut cases = Vec::new();
    // A path segment that does not decode.
    if rule.path.contains('{') {
        let mut bad = rule.path.to_owned();
        while let Some(start) = bad.find('{') {
            let end = bad[start..].find('}').map_or(bad.len(), |e| start + e + 1);
            bad.replace_range(start..end, NOT_UTF8);
        }
        cases.push(case(
            bad,
            "application/json",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "bad_path",
        ));
    }
    // Each query parameter given twice: no query string deserialises that.
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for parameter in parameters.iter().filter(|p| p["in"] == "query") {
        let name = parameter["name"].as_str().expect("parameter name");
        cases.push(case(
            format!("{uri}?{name}=1&{name}=2"),
            "application/json",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ));
    }
    // The bodies it reads, malformed for each content type it takes.
    let content = operation["requestBody"]["content"].as_object().cloned();
    for content_type in content.iter().flat_map(|c| c.keys()) {
        for (content_type, body, status, code) in bad_bodies(content_type) {
            cases.push(case(uri.clone(), &content_type, body, status, code));
        }
    }
    cases
}

async fn send(t: &TestPki, case: &Case) -> Reply {
    let headers = [
        (header::CONTENT_TYPE, case.content_type.clone()),
        (header::AUTHORIZATION, format!("Bearer {}", t.admin_token)),
    ];
    call_with(
        t,
        case.method.clone(),
        &case.uri,
        &headers,
        Body::from(case.body.clone()),
    )
    .await
}

#[tokio::test]
async fn every_route_refuses_a_malformed_path_query_or_body_in_the_error_shape() {
    let t = pki().await;
    let doc = serde_json::to_value(document()).expect("the document serialises");
    let rules = access::routes();
    let cases: Vec<Case> = rules.iter().flat_map(|rule| cases(&doc, rule)).collect();
    // Every kind of input is walked: the walk cannot quietly shrink to nothing.
    for code in [
        "bad_path",
        "bad_request",
        "bad_multipart",
        "unsupported_media_type",
        "payload_too_large",
    ] {
        assert!(cases.iter().any(|c| c.code == code), "no case for {code}");
    }
    assert!(cases.iter().any(|c| c.uri.contains('?')), "no query case");
    let mut wrong = Vec::new();
    for case in &cases {
        let reply = send(&t, case).await;
        wrong.extend(mismatch(case, &reply));
    }
    assert!(
        wrong.is_empty(),
        "{} of {} malformed requests not refused in the error shape:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn a_query_that_does_not_deserialise_is_400_json() {
    let t = pki().await;
    let message = get(&t, "/v1/audit?limit=abc")
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("limit"), "{message}");
    // The auditor page's query too, though the page itself is HTML.
    get(&t, "/verify?number=1&number=2")
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_is_400_json() {
    let t = pki().await;
    for uri in [
        format!("{CERTS}/{NOT_UTF8}"),
        format!("/v1/documents/{NOT_UTF8}"),
        format!("/pki/ocsp/{NOT_UTF8}"),
    ] {
        let message = get(&t, &uri)
            .await
            .error(StatusCode::BAD_REQUEST, "bad_path");
        assert!(message.contains("UTF-8"), "{uri}: {message}");
    }
}

#[tokio::test]
async fn an_upload_without_a_boundary_is_400_json_and_one_too_large_is_413_json() {
    let t = pki().await;
    let upload = |content_type: String| [(header::CONTENT_TYPE, content_type)];
    let headers = upload("multipart/form-data".to_owned());
    let message = call_with(&t, Method::POST, "/verify", &headers, Body::from("x"))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_multipart");
    assert!(message.contains("boundary"), "{message}");
    let (content_type, body) = oversized("multipart/form-data");
    call_with(
        &t,
        Method::POST,
        "/verify",
        &upload(content_type),
        Body::from(body),
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn an_audit_outcome_that_does_not_exist_is_400_and_real_ones_filter() {
    let t = pki().await;
    // One refused and one accepted event in the trail.
    let anonymous = call_with(&t, Method::GET, "/v1/audit", &[], Body::empty()).await;
    anonymous.error(StatusCode::UNAUTHORIZED, "unauthorized");
    get(&t, "/v1/audit").await.ok_json(StatusCode::OK);

    let message = get(&t, "/v1/audit?outcome=bogus")
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("bogus"), "{message}");
    for outcome in ["ok", "refused"] {
        let page = get(&t, &format!("/v1/audit?outcome={outcome}"))
            .await
            .ok_json(StatusCode::OK);
        let events = page["events"].as_array().expect("events");
        assert!(!events.is_empty(), "{outcome}: {page}");
        assert!(
            events.iter().all(|e| e["outcome"] == outcome),
            "{outcome}: {page}"
        );
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let t = pki().await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let headers = [(header::AUTHORIZATION, format!("{scheme} {}", t.admin_token))];
        call_with(&t, Method::GET, "/v1/audit", &headers, Body::empty())
            .await
            .ok_json(StatusCode::OK);
    }
}

#[tokio::test]
async fn two_authorization_headers_are_400_whichever_comes_first() {
    let t = pki().await;
    let good = format!("Bearer {}", t.admin_token);
    let bad = "Bearer qlt_0000000000000000_made-up".to_owned();
    for pair in [[&good, &bad], [&bad, &good], [&good, &good]] {
        let headers = pair.map(|v| (header::AUTHORIZATION, v.clone()));
        for uri in ["/v1/audit", "/healthz"] {
            let message = call_with(&t, Method::GET, uri, &headers, Body::empty())
                .await
                .error(StatusCode::BAD_REQUEST, "ambiguous_authorization");
            assert!(message.contains("Authorization"), "{uri}: {message}");
        }
    }
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_413_before_it_is_read() {
    let t = pki().await;
    // A client announces 1 byte over 16 MiB and sends nothing: it is answered at once, and
    // holds no slot while the service would otherwise wait for the body until the timeout.
    let announced = (VERIFY_BODY_LIMIT + 1).to_string();
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_owned()),
        (header::CONTENT_LENGTH, announced),
    ];
    call_with(&t, Method::POST, "/v1/verify", &headers, Body::empty())
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}
