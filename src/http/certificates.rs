//! `/v1/pki/certificates`: issue, look up, revoke, release from hold.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::access::AuditDetail;
use super::body::{JsonBody, OptionalJsonBody};
use super::{ApiError, AppState};
use crate::pki::{certificate, IssueRequest, RevocationReason};
use crate::store::{CertificateRecord, CertificateStatus};
use crate::time::rfc3339;

/// A certificate as the API shows it.
#[derive(Serialize)]
pub struct CertificateView {
    pub serial: String,
    pub issuer: String,
    pub profile: String,
    pub subject: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub key_algorithm: String,
    pub not_before: String,
    pub not_after: String,
    pub status: CertificateStatus,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
    pub certificate_pem: String,
}

impl TryFrom<&CertificateRecord> for CertificateView {
    type Error = ApiError;
    fn try_from(r: &CertificateRecord) -> Result<Self, ApiError> {
        Ok(CertificateView {
            serial: r.serial.clone(),
            issuer: r.issuer_id.clone(),
            profile: r.profile.clone(),
            subject: r.subject.clone(),
            iin: r.iin.clone(),
            bin: r.bin.clone(),
            key_algorithm: r.key_algorithm.clone(),
            not_before: rfc3339(r.not_before),
            not_after: rfc3339(r.not_after),
            status: r.status,
            revoked_at: r.revoked_at.map(rfc3339),
            revocation_reason: r.revocation_reason.clone(),
            certificate_pem: certificate::pem(&r.certificate)?,
        })
    }
}

#[derive(Serialize)]
struct IssuedView {
    #[serde(flatten)]
    certificate: CertificateView,
    /// The key store: private key, certificate and CA chain. Returned once, never kept.
    pkcs12_base64: String,
    pkcs12_format: &'static str,
    ca_chain_pem: String,
}

pub async fn issue(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<IssueRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let legacy = request.legacy;
    let issued = state.pki.issue(&request).await?;
    let ca_chain_pem = state
        .pki
        .ca_chain()
        .into_iter()
        .map(certificate::pem)
        .collect::<Result<String, _>>()?;
    let view = IssuedView {
        certificate: CertificateView::try_from(&issued.record)?,
        pkcs12_base64: base64::engine::general_purpose::STANDARD.encode(&issued.pkcs12),
        pkcs12_format: if legacy { "legacy" } else { "modern" },
        ca_chain_pem,
    };
    let detail = AuditDetail(format!(
        "issued serial {} profile {} key {}",
        issued.record.serial, issued.record.profile, issued.record.key_algorithm
    ));
    // The body holds a private key: no cache may keep it.
    let mut response = (
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(view),
    )
        .into_response();
    response.extensions_mut().insert(detail);
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<CertificateView>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    let offset = q.offset.unwrap_or(0);
    if !(1..=1000).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(
            "limit must be 1..=1000 and offset >= 0",
        ));
    }
    let records = state.pki.list(limit, offset).await?;
    Ok(Json(
        records
            .iter()
            .map(CertificateView::try_from)
            .collect::<Result<_, _>>()?,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Json<CertificateView>, ApiError> {
    let record = state.pki.certificate(&serial).await?;
    Ok(Json(CertificateView::try_from(&record)?))
}

/// The certificate alone, DER (`application/pkix-cert`), for tools that want the bytes.
pub async fn der(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let record = state.pki.certificate(&serial).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        record.certificate,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// RFC 5280 reason name, e.g. "keyCompromise"; "certificateHold" suspends.
    #[serde(default)]
    reason: Option<String>,
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<RevokeRequest>,
) -> Result<Response, ApiError> {
    let reason_name = body.reason.as_deref().unwrap_or("unspecified");
    let reason: RevocationReason = reason_name.parse()?;
    let record = state.pki.revoke(&serial, reason).await?;
    let mut response = Json(CertificateView::try_from(&record)?).into_response();
    response.extensions_mut().insert(AuditDetail(format!(
        "revoked serial {serial} reason {reason_name}"
    )));
    Ok(response)
}

pub async fn release(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Json<CertificateView>, ApiError> {
    let record = state.pki.release_hold(&serial).await?;
    Ok(Json(CertificateView::try_from(&record)?))
}
