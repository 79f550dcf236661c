//! `/v1/pki/certificates`: issue, look up, revoke, release from hold.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::access::{audited, Acting};
use super::body::{JsonBody, OptionalJsonBody};
use super::extract::{ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::pki::{certificate, IssueRequest, RevocationReason};
use crate::store::{CertificateRecord, CertificateStatus};
use crate::time::rfc3339;

/// A certificate as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct CertificateView {
    pub serial: String,
    pub issuer: String,
    pub profile: String,
    pub subject: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub key_algorithm: String,
    pub not_before: String,
    pub not_after: String,
    #[schema(value_type = super::openapi::CertificateStatus)]
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

/// A certificate just issued, with its key store.
#[derive(Serialize, utoipa::ToSchema)]
struct IssuedView {
    #[serde(flatten)]
    certificate: CertificateView,
    /// The key store: private key, certificate and CA chain. Returned once, never kept.
    pkcs12_base64: String,
    pkcs12_format: &'static str,
    ca_chain_pem: String,
}

#[utoipa::path(
    post,
    path = "/v1/pki/certificates",
    operation_id = "issueCertificate",
    tag = "certificates",
    summary = "Issue a certificate and its PKCS#12 key store",
    description = "Generates the key, issues the certificate under the issuing CA in the profile \
        asked for, and returns it with the PKCS#12 key store (the private key: returned once, \
        never kept; `Cache-Control: no-store`).",
    request_body(content = super::openapi::IssueRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Issued.", body = IssuedView,
         headers(("cache-control" = String, description = "no-store"))),
        (status = 400, description = "`invalid_request` (the request breaks a profile rule) or `bad_request` (not JSON of this shape).", body = super::openapi::ErrorBody),
        (status = 409, description = "`conflict`.", body = super::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `application/json`.", body = super::openapi::ErrorBody),
        (status = 500, description = "`internal`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn issue(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(request): JsonBody<IssueRequest>,
) -> Result<Response, ApiError> {
    let legacy = request.legacy;
    let issued = state
        .pki
        .issue(&request, Some(&acting.entry(StatusCode::CREATED)))
        .await?;
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
    // The body holds a private key: no cache may keep it.
    Ok(audited(
        (
            StatusCode::CREATED,
            [(header::CACHE_CONTROL, "no-store")],
            Json(view),
        )
            .into_response(),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// Page size, 1..=1000 (default 100).
    #[serde(default)]
    limit: Option<i64>,
    /// Certificates to skip (default 0).
    #[serde(default)]
    offset: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/v1/pki/certificates",
    operation_id = "listCertificates",
    tag = "certificates",
    summary = "List issued certificates",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of certificates, newest first.", body = Vec<CertificateView>),
        (status = 400, description = "`bad_request`: bad `limit`/`offset` or an unknown parameter.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<CertificateView>>, ApiError> {
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

#[utoipa::path(
    get,
    path = "/v1/pki/certificates/{serial}",
    operation_id = "getCertificate",
    tag = "certificates",
    summary = "One certificate",
    params(("serial" = String, Path, description = "The certificate serial number, hexadecimal (as the API lists it).")),
    responses(
        (status = 200, description = "The certificate.", body = CertificateView),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn show(
    State(state): State<AppState>,
    ApiPath(serial): ApiPath<String>,
) -> Result<Json<CertificateView>, ApiError> {
    let record = state.pki.certificate(&serial).await?;
    Ok(Json(CertificateView::try_from(&record)?))
}

/// The certificate alone, DER (`application/pkix-cert`), for tools that want the bytes.
#[utoipa::path(
    get,
    path = "/v1/pki/certificates/{serial}/certificate.cer",
    operation_id = "getCertificateDer",
    tag = "certificates",
    summary = "One certificate, DER",
    params(("serial" = String, Path, description = "The certificate serial number, hexadecimal (as the API lists it).")),
    responses(
        (status = 200, description = "The certificate, DER.", content_type = "application/pkix-cert"),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn der(
    State(state): State<AppState>,
    ApiPath(serial): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let record = state.pki.certificate(&serial).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        record.certificate,
    ))
}

/// Why the certificate is revoked; the body may be left out (reason `unspecified`).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeRequest {
    /// RFC 5280 reason name, e.g. "keyCompromise"; "certificateHold" suspends.
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/pki/certificates/{serial}/revoke",
    operation_id = "revokeCertificate",
    tag = "certificates",
    summary = "Revoke (or suspend) a certificate",
    description = "Revokes with an RFC 5280 reason (`keyCompromise`, `cACompromise`, \
        `affiliationChanged`, `superseded`, `cessationOfOperation`, `privilegeWithdrawn`, …); \
        `certificateHold` suspends, and `release` lifts the hold. The next CRL and OCSP answers \
        say so.",
    params(("serial" = String, Path, description = "The certificate serial number, hexadecimal (as the API lists it).")),
    request_body(content = Option<RevokeRequest>, content_type = "application/json",
        description = "Optional: an empty body means reason `unspecified`."),
    responses(
        (status = 200, description = "The certificate, revoked or on hold.", body = CertificateView),
        (status = 400, description = "`invalid_request` (unknown reason) or `bad_request`.", body = super::openapi::ErrorBody),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
        (status = 409, description = "`conflict`: already revoked.", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body that is sent must be `application/json`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    acting: Acting,
    ApiPath(serial): ApiPath<String>,
    OptionalJsonBody(body): OptionalJsonBody<RevokeRequest>,
) -> Result<Response, ApiError> {
    let reason_name = body.reason.as_deref().unwrap_or("unspecified");
    let reason: RevocationReason = reason_name.parse().map_err(crate::pki::PkiError::from)?;
    let record = state
        .pki
        .revoke(&serial, reason, Some(&acting.entry(StatusCode::OK)))
        .await?;
    Ok(audited(
        Json(CertificateView::try_from(&record)?).into_response(),
    ))
}

#[utoipa::path(
    post,
    path = "/v1/pki/certificates/{serial}/release",
    operation_id = "releaseCertificate",
    tag = "certificates",
    summary = "Release a certificate from hold",
    params(("serial" = String, Path, description = "The certificate serial number, hexadecimal (as the API lists it).")),
    responses(
        (status = 200, description = "The certificate, good again.", body = CertificateView),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
        (status = 409, description = "`conflict`: the certificate is not on hold.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn release(
    State(state): State<AppState>,
    acting: Acting,
    ApiPath(serial): ApiPath<String>,
) -> Result<Response, ApiError> {
    let record = state
        .pki
        .release_hold(&serial, Some(&acting.entry(StatusCode::OK)))
        .await?;
    Ok(audited(
        Json(CertificateView::try_from(&record)?).into_response(),
    ))
}
