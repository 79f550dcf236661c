//! `/v1/documents`: issue signed documents (процесс 11), read them back, and let auditors check
//! a signature against the registry.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::body::{base64_field, JsonBody};
use super::extract::ApiPath;
use super::{ApiError, AppState};
use crate::pki::Urls;
use crate::sign::document::{Kind, Payload};
use crate::sign::issue::{issue as issue_document, IssueError, Order};
use crate::sign::registry;
use crate::store::DocumentRecord;
use crate::verify::{Report, Request};

/// A document to sign and register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct IssueBody {
    /// The document kind.
    kind: String,
    /// The kind's fields (authority, recipient, activity, …).
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    /// A detached CMS signature instead of an attached one.
    #[schema(default = false)]
    #[serde(default)]
    detached: bool,
    /// Id of the document this one corrects (documents are never changed in place).
    #[serde(default)]
    supersedes: Option<String>,
}

/// A registered, signed document.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DocumentView {
    id: String,
    number: String,
    kind: String,
    sha256: String,
    signer_serial: String,
    detached: bool,
    supersedes: Option<String>,
    created_at: String,
    /// The signed document (its canonical JSON, parsed).
    #[schema(value_type = Object)]
    document: serde_json::Value,
    cms_base64: String,
    verification_url: String,
    pdf_url: String,
}

impl DocumentView {
    fn of(record: &DocumentRecord, urls: &Urls) -> Self {
        DocumentView {
            id: record.id.clone(),
            number: record.number.clone(),
            kind: record.kind.clone(),
            sha256: record.sha256.clone(),
            signer_serial: record.signer_serial.clone(),
            detached: record.detached,
            supersedes: record.supersedes.clone(),
            created_at: crate::time::rfc3339(record.created_at),
            document: serde_json::from_slice(&record.canonical).unwrap_or(serde_json::Value::Null),
            cms_base64: base64::engine::general_purpose::STANDARD.encode(&record.cms),
            verification_url: urls.document_verification(&record.number),
            pdf_url: urls.document_pdf(&record.id),
        }
    }
}

fn issue_error(e: IssueError) -> ApiError {
    match e {
        IssueError::Invalid(problems) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_document",
            problems.join("; "),
        ),
        other => {
            tracing::error!(error = %other, "document issuance failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; see the service log",
            )
        }
    }
}

#[utoipa::path(
    post,
    path = "/v1/documents",
    operation_id = "issueDocument",
    tag = "documents",
    summary = "Sign and register a document",
    description = "Validates the payload for its kind, signs it (CMS, attached or detached) with \
        the official's key, gives it a registration number and keeps it. Documents are never \
        changed in place: a correction names the one it `supersedes`.",
    request_body(content = IssueBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Signed and registered.", body = DocumentView),
        (status = 400, description = "`invalid_document` (the payload breaks a rule of its kind) or `bad_request` (unknown kind, not JSON of this shape).", body = super::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `application/json`.", body = super::openapi::ErrorBody),
        (status = 500, description = "`internal`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn issue(
    State(state): State<AppState>,
    acting: super::access::Acting,
    JsonBody(body): JsonBody<IssueBody>,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&body.kind).map_err(ApiError::bad_request)?;
    let payload: Payload = serde_json::from_value(body.payload).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_document",
            format!("payload: {e}"),
        )
    })?;
    let order = Order {
        kind,
        payload: &payload,
        detached: body.detached,
        supersedes: body.supersedes.as_deref(),
    };
    let record = issue_document(
        state.pki.store(),
        state.signer(),
        &order,
        crate::time::now(),
        Some(&acting.entry(StatusCode::CREATED)),
    )
    .await
    .map_err(issue_error)?;
    let view = DocumentView::of(&record, state.pki.urls());
    Ok(super::access::audited(
        (StatusCode::CREATED, Json(view)).into_response(),
    ))
}

async fn find(state: &AppState, id: &str) -> Result<DocumentRecord, ApiError> {
    state
        .pki
        .store()
        .document(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no document with id {id:?}")))
}

/// `GET /v1/documents/{id}` and `GET /v1/documents/{id}.pdf`.
#[utoipa::path(
    get,
    path = "/v1/documents/{file}",
    operation_id = "getDocument",
    tag = "documents",
    summary = "A document, as JSON or as PDF",
    description = "`{id}` gives the document as JSON; `{id}.pdf` its printable PDF, with the QR \
        code of its verification page.",
    params(("file" = String, Path, description = "The document id, or the id followed by `.pdf`.")),
    responses(
        (status = 200, description = "The document (JSON for `{id}`, PDF for `{id}.pdf`).",
         content(
            (DocumentView = "application/json"),
            ("application/pdf"),
         )),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
        (status = 500, description = "`internal`: the PDF could not be rendered.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn show(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    if let Some(id) = file.strip_suffix(".pdf") {
        let record = find(&state, id).await?;
        let pdf = super::document_pdf::render(&record, state.pki.urls())?;
        return Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response());
    }
    let record = find(&state, &file).await?;
    Ok(Json(DocumentView::of(&record, state.pki.urls())).into_response())
}

#[utoipa::path(
    get,
    path = "/v1/documents/by-number/{number}",
    operation_id = "getDocumentByNumber",
    tag = "documents",
    summary = "A document by its registration number",
    params(("number" = String, Path, description = "The registration number, e.g. `950341000052-2026-000001`.")),
    responses(
        (status = 200, description = "The document.", body = DocumentView),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn by_number(
    State(state): State<AppState>,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<DocumentView>, ApiError> {
    let record = state
        .pki
        .store()
        .document_by_number(&number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no document registered under {number:?}")))?;
    Ok(Json(DocumentView::of(&record, state.pki.urls())))
}

#[utoipa::path(
    get,
    path = "/v1/documents/{id}/signature.p7s",
    operation_id = "getDocumentSignature",
    tag = "documents",
    summary = "A document's CMS signature",
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The CMS SignedData, DER.", content_type = "application/pkcs7-signature"),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn signature(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let record = find(&state, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pkcs7-signature")],
        record.cms,
    )
        .into_response())
}

/// Verifies a registered document now, through the full pipeline.
#[utoipa::path(
    get,
    path = "/v1/documents/{id}/verification",
    operation_id = "verifyRegisteredDocument",
    tag = "verification",
    summary = "Verify a registered document now",
    description = "Runs the full verification pipeline (chain, validity, revocation, key usage) on \
        the document's signature as of now.",
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The report, whatever the verdict.", body = super::openapi::Report),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn verification(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Report>, ApiError> {
    let record = find(&state, &id).await?;
    Ok(Json(verify_record(&state, &record).await))
}

pub(super) async fn verify_record(state: &AppState, record: &DocumentRecord) -> Report {
    let request = Request {
        signature: record.cms.clone(),
        content: record.detached.then(|| record.canonical.clone()),
        ..Request::default()
    };
    state.verifier.verify_owned(request).await
}

/// A signature to check against the registry.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditBody {
    /// CMS SignedData, base64 (of DER; PEM text is accepted too).
    signature: String,
    /// Detached content, base64.
    #[serde(default)]
    content: Option<String>,
}

/// The report, and the registry entry the signed bytes belong to.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct AuditView {
    #[schema(value_type = super::openapi::Report)]
    report: Report,
    /// The registry entry whose signed bytes these are, if any.
    registered: Option<Registered>,
}

/// A registry entry.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Registered {
    id: String,
    number: String,
    kind: String,
}

/// An uploaded signature checked: the report, and the registry entry whose signed bytes it
/// carries (or was given with), if any.
pub(super) struct Audit {
    pub report: Report,
    pub registry: registry::Match,
}

pub(super) async fn audit_signature(
    state: &AppState,
    signature: Vec<u8>,
    content: Option<Vec<u8>>,
) -> Audit {
    let registry = registry::find(state.pki.store(), &signature, content.as_deref()).await;
    let report = state
        .verifier
        .verify_owned(Request {
            signature,
            content,
            ..Request::default()
        })
        .await;
    Audit { report, registry }
}

/// `POST /v1/documents/verify`: an auditor's CMS (and content, if detached) → the report and
/// whether, and under which number, the document is registered here.
#[utoipa::path(
    post,
    path = "/v1/documents/verify",
    operation_id = "checkSignatureAgainstRegistry",
    tag = "verification",
    summary = "Check a signature against the registry",
    description = "An auditor's CMS (and the content, if detached): the verification report, and \
        whether, and under which number, the signed document is registered here.",
    request_body(content = AuditBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The report and the registry entry, if any.", body = AuditView),
        (status = 400, description = "`bad_request`: a field is not base64, or not JSON of this shape.", body = super::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large` (16 MiB).", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `application/json`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn audit(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<AuditBody>,
) -> Result<Json<AuditView>, ApiError> {
    let decode = |field: &str, text: &str| base64_field(field, text).map_err(ApiError::bad_request);
    let signature = decode("signature", &body.signature)?;
    let content = body
        .content
        .as_deref()
        .map(|c| decode("content", c))
        .transpose()?;
    let Audit { report, registry } = audit_signature(&state, signature, content).await;
    let registered = registry.record.map(|r| Registered {
        id: r.id,
        number: r.number,
        kind: r.kind,
    });
    Ok(Json(AuditView { report, registered }))
}
