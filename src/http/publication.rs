//! What certificates point at: CA certificates (AIA), CRLs (CDP, Freshest CRL), the OCSP
//! responder and the CPS; and the time-stamping authority. Open to everyone, as NCA's are.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::access::{audited, Acting};
use super::body::{declared_as, not_declared_as, RawBody};
use super::extract::ApiPath;
use super::{ApiError, AppState, OCSP_BODY_LIMIT};

fn der_response(content_type: &'static str, der: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        der,
    )
        .into_response()
}

/// Where the transparency log's verifier key is published beside the CA certificates.
pub(super) const LOG_KEY_FILE: &str = "log.pub";

/// `GET /pki/{id}.cer`: a CA certificate, DER (RFC 5280 §4.2.2.1 caIssuers); `GET
/// /pki/log.pub`: the transparency log's key, published with them (issue 17).
#[utoipa::path(
    get,
    path = "/pki/{file}",
    operation_id = "getCaCertificate",
    tag = "publication",
    summary = "A CA certificate, DER (caIssuers), or the log's key",
    description = "`{ca id}.cer`: what the Authority Information Access of every certificate \
        points at (RFC 5280 §4.2.2.1). `log.pub`: the transparency log's note verifier key \
        (`<origin>+<key id>+<base64 key>`, the same as `/log/key`), published with the CA \
        certificates so an auditor can take both from one place.",
    params(("file" = String, Path, description = "`{ca id}.cer`, e.g. `root.cer`; or `log.pub`.")),
    responses(
        (status = 200, description = "The CA certificate, DER; or the log key, text.", content_type = "application/pkix-cert"),
        (status = 404, description = "`not_found`: no CA of that name, or not a `.cer` name.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn ca_certificate(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    if file == LOG_KEY_FILE {
        return Ok(super::log::key(State(state)).await);
    }
    let id = file
        .strip_suffix(".cer")
        .ok_or_else(|| ApiError::not_found("no such endpoint"))?;
    let der = state
        .pki
        .ca_certificate(id)
        .ok_or_else(|| ApiError::not_found(format!("no CA named {id:?}")))?;
    Ok(der_response("application/pkix-cert", der.to_vec()))
}

/// `GET /pki/crl/{id}.crl` and `GET /pki/crl/{id}-delta.crl`, DER.
#[utoipa::path(
    get,
    path = "/pki/crl/{file}",
    operation_id = "getCrl",
    tag = "publication",
    summary = "A CA's CRL or delta CRL, DER",
    description = "What the CRL Distribution Points (full) and Freshest CRL (delta) of every \
        certificate point at.",
    params(("file" = String, Path, description = "`{ca id}.crl` (full) or `{ca id}-delta.crl` (delta).")),
    responses(
        (status = 200, description = "The newest CRL, DER.", content_type = "application/pkix-crl"),
        (status = 404, description = "`not_found`: no such CA or CRL.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn crl(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    let stem = file
        .strip_suffix(".crl")
        .ok_or_else(|| ApiError::not_found("CRLs are named {ca}.crl or {ca}-delta.crl"))?;
    let (id, delta) = match stem.strip_suffix("-delta") {
        Some(id) => (id, true),
        None => (stem, false),
    };
    let der = state.pki.crl(id, delta).await?;
    Ok(der_response("application/pkix-crl", der))
}

#[utoipa::path(
    get,
    path = "/pki/cps",
    operation_id = "getCps",
    tag = "publication",
    summary = "The certification practice statement",
    responses(
        (status = 200, description = "The CPS, plain text.", content_type = "text/plain; charset=utf-8", body = String),
    ),
)]
pub(super) async fn cps(State(state): State<AppState>) -> Response {
    let log = state.pki.log_signer();
    let text = format!(
        "qoltanba TEST PKI — certification practice statement\n\n\
         Certificates issued under {} are for testing only. They reproduce the profile of\n\
         NCA RK's test certificates and carry no legal force.\n\n\
         Transparency log: every certificate issued, every status change and every document\n\
         signed is appended to the log {} (checkpoints at /log/checkpoint, tiles under\n\
         /log/tile/). Its checkpoints are signed with this key (also at /pki/{LOG_KEY_FILE}):\n{}\n",
        state.pki.issuing().id,
        log.origin(),
        log.verifier().encode()
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `POST /pki/ocsp` with an application/ocsp-request body (RFC 6960 appendix A.1).
#[utoipa::path(
    post,
    path = "/pki/ocsp",
    operation_id = "ocspPost",
    tag = "publication",
    summary = "OCSP responder (POST)",
    description = "RFC 6960 appendix A.1. Anything unparseable gets an OCSP `malformedRequest` \
        answer, still 200.",
    request_body(content_type = "application/ocsp-request", description = "The DER OCSP request (at most 16 KiB)."),
    responses(
        (status = 200, description = "The DER OCSP response (an OCSP error status when the request is unusable).", content_type = "application/ocsp-response"),
        (status = 413, description = "`payload_too_large`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn ocsp_post(State(state): State<AppState>, RawBody(body): RawBody) -> Response {
    let answer = state.pki.ocsp_respond(&body, crate::pki::now()).await;
    der_response("application/ocsp-response", answer)
}

/// `GET /pki/ocsp/{base64 of the DER request, URL-encoded}`.
#[utoipa::path(
    get,
    path = "/pki/ocsp/{*request}",
    operation_id = "ocspGet",
    tag = "publication",
    summary = "OCSP responder (GET)",
    description = "RFC 6960 appendix A.1: the base64 of the DER request, URL-encoded, as the rest \
        of the path (it may contain `/`; the router's pattern is `/pki/ocsp/{*request}`).",
    params(("request" = String, Path, description = "base64 of the DER OCSP request, URL-encoded; may contain `/`.")),
    responses(
        (status = 200, description = "The DER OCSP response (an OCSP error status when the request is unusable).", content_type = "application/ocsp-response"),
    ),
)]
pub(super) async fn ocsp_get(
    State(state): State<AppState>,
    ApiPath(request): ApiPath<String>,
) -> Response {
    // axum has already percent-decoded the path; base64's '/' may appear unencoded too.
    let decoded = (request.len() <= OCSP_BODY_LIMIT * 2)
        .then(|| {
            base64::engine::general_purpose::STANDARD
                .decode(request.trim_start_matches('/'))
                .ok()
        })
        .flatten();
    let answer = match decoded {
        Some(der) => state.pki.ocsp_respond(&der, crate::pki::now()).await,
        // Not base64: answer as RFC 6960 does for anything unparseable.
        None => state.pki.ocsp_respond(&[], crate::pki::now()).await,
    };
    der_response("application/ocsp-response", answer)
}

const TIMESTAMP_QUERY: &str = "application/timestamp-query";

/// `POST /pki/tsp`: the time-stamping authority (RFC 3161 §3.4, time-stamp protocol via HTTP).
#[utoipa::path(
    post,
    path = "/pki/tsp",
    operation_id = "timeStamp",
    tag = "publication",
    summary = "Time-stamping authority (RFC 3161)",
    description = "A DER TimeStampReq in, a DER TimeStampResp out (RFC 3161, with RFC 5816's \
        ESSCertIDv2 in signingCertificateV2). The token's policy is the `[tsa] policy` of the \
        hierarchy; the nonce is echoed; the TSA's certificate is in the token iff `certReq` is \
        true; serial numbers are unique across every instance on the database. A request this \
        TSA cannot serve gets status `rejection` with its failInfo, still 200: `badDataFormat` \
        (not a DER TimeStampReq, or an imprint of the wrong length), `badAlg` (a hash other \
        than SHA-256/384/512, GOST R 34.11-2012 or GOST R 34.11-94), `unacceptedPolicy` \
        (another `reqPolicy`), `unacceptedExtension` (any request extension). Every token \
        issued is an entry in the audit trail, written with its serial.",
    request_body(content_type = "application/timestamp-query", description = "The DER TimeStampReq (at most 16 KiB)."),
    responses(
        (status = 200, description = "The DER TimeStampResp: status granted with a token, or rejection with failInfo.", content_type = "application/timestamp-reply"),
        (status = 413, description = "`payload_too_large`.", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `application/timestamp-query`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn tsp(
    State(state): State<AppState>,
    acting: Acting,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    if !declared_as(&headers, TIMESTAMP_QUERY) {
        return Err(not_declared_as(TIMESTAMP_QUERY));
    }
    let answer = state
        .pki
        .tsp_respond(
            &body,
            crate::pki::now(),
            Some(&acting.entry(StatusCode::OK)),
        )
        .await;
    let response = der_response("application/timestamp-reply", answer.der);
    // A granted token wrote its own entry, with its serial, in the serial's transaction.
    Ok(if answer.granted {
        audited(response)
    } else {
        response
    })
}
