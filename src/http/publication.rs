//! What certificates point at: CA certificates (AIA), CRLs (CDP, Freshest CRL), the OCSP
//! responder and the CPS. Open to everyone, as NCA's are.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::body::RawBody;
use super::{ApiError, AppState, OCSP_BODY_LIMIT};

fn der_response(content_type: &'static str, der: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        der,
    )
        .into_response()
}

/// `GET /pki/{id}.cer`: a CA certificate, DER (RFC 5280 §4.2.2.1 caIssuers).
pub async fn ca_certificate(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
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
pub async fn crl(
    State(state): State<AppState>,
    Path(file): Path<String>,
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

pub async fn cps(State(state): State<AppState>) -> Response {
    let text = format!(
        "qoltanba TEST PKI — certification practice statement\n\n\
         Certificates issued under {} are for testing only. They reproduce the profile of\n\
         NCA RK's test certificates and carry no legal force.\n",
        state.pki.issuing().id
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `POST /pki/ocsp` with an application/ocsp-request body (RFC 6960 appendix A.1).
pub async fn ocsp_post(State(state): State<AppState>, RawBody(body): RawBody) -> Response {
    let answer = state.pki.ocsp_respond(&body, crate::pki::now()).await;
    der_response("application/ocsp-response", answer)
}

/// `GET /pki/ocsp/{base64 of the DER request, URL-encoded}`.
pub async fn ocsp_get(State(state): State<AppState>, Path(request): Path<String>) -> Response {
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
