//! `/v1/documents`: issue signed documents (процесс 11), read them back, and let auditors check
//! a signature against the registry.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::extract::ApiPath;
use super::{ApiError, AppState};
use crate::pki::{CurrentSignature, Urls};
use crate::sign::document::{Format, Kind, Payload};
use crate::sign::issue::{issue as issue_document, IssueError, Order};
use crate::sign::registry;
use crate::store::{DocumentRecord, StoreError};

/// A document to sign and register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct IssueBody {
    /// The document kind.
    kind: String,
    /// The kind's fields (authority, recipient, activity, …).
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    /// How it is signed: `cms` (CAdES-BES over its canonical JSON) or `xml` (its XML form,
    /// signed in place as Kalkan signs XML, served at `signed_xml_url`).
    #[schema(default = "cms")]
    #[serde(default)]
    format: DocumentFormat,
    /// A detached CMS signature instead of an attached one (CMS only: 400 with `xml`).
    #[schema(default = false)]
    #[serde(default)]
    detached: bool,
    /// Id of the document this one corrects (documents are never changed in place).
    #[serde(default)]
    supersedes: Option<String>,
}

/// How a document is signed.
#[derive(Deserialize, Default, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum DocumentFormat {
    #[default]
    Cms,
    Xml,
}

impl From<DocumentFormat> for Format {
    fn from(f: DocumentFormat) -> Format {
        match f {
            DocumentFormat::Cms => Format::Cms,
            DocumentFormat::Xml => Format::Xml,
        }
    }
}

/// A registered, signed document.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DocumentView {
    id: String,
    number: String,
    kind: String,
    /// `cms` or `xml`.
    format: String,
    /// SHA-256 of the signed bytes: the canonical JSON (`cms`) or the unsigned XML form (`xml`).
    sha256: String,
    signer_serial: String,
    detached: bool,
    supersedes: Option<String>,
    created_at: String,
    /// The signed document as JSON (for `xml`, the JSON its XML form was written from).
    #[schema(value_type = Object)]
    document: serde_json::Value,
    /// The level of the current signature (ETSI EN 319 122-1): `B` as signed, `T` with a
    /// signature time-stamp, `LT` with the certificates and revocation values too, `LTA` with an
    /// archive time-stamp. XML documents stay at `B`.
    #[schema(value_type = String, example = "LTA")]
    level: &'static str,
    /// Until when the evidence holds (RFC 3339): the expiry of its newest time-stamp's TSA
    /// certificate, before which the service adds a new archive time-stamp. Null at level `B`.
    evidence_horizon: Option<String>,
    /// The CMS SignedData of the current signature, base64 of DER (`cms` only): the newest
    /// evidence version, or the signature as signed while it is at level `B`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cms_base64: Option<String>,
    /// The XML document with its signature inside (`xml` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_xml_url: Option<String>,
    verification_url: String,
    pdf_url: String,
    /// Where the document is in the transparency log, and whether the document as stored now
    /// is proved in its newest checkpoint. Null in the 201 answer of issuance (a checkpoint
    /// covers it within a second: read the record again) and for documents registered before
    /// the log.
    log: Option<super::log::DocumentLogView>,
}

impl DocumentView {
    fn of(record: &DocumentRecord, current: &CurrentSignature, urls: &Urls) -> Self {
        let xml = is_xml(record);
        DocumentView {
            id: record.id.clone(),
            number: record.number.clone(),
            kind: record.kind.clone(),
            format: record.format.clone(),
            sha256: record.sha256.clone(),
            signer_serial: record.signer_serial.clone(),
            detached: record.detached,
            supersedes: record.supersedes.clone(),
            created_at: crate::time::rfc3339(record.created_at),
            document: registry::document_of(record).unwrap_or_else(|e| {
                tracing::error!(id = %record.id, error = %e, "a registered document does not read back");
                serde_json::Value::Null
            }),
            level: current.level,
            evidence_horizon: current.horizon.map(crate::time::rfc3339),
            cms_base64: (!xml)
                .then(|| base64::engine::general_purpose::STANDARD.encode(&current.signed)),
            signed_xml_url: xml.then(|| urls.document_signed_xml(&record.id)),
            verification_url: urls.document_verification(&record.number),
            pdf_url: urls.document_pdf(&record.id),
            log: None,
        }
    }
}

pub(super) fn is_xml(record: &DocumentRecord) -> bool {
    record.format == Format::Xml.name()
}

fn issue_error(e: IssueError) -> ApiError {
    match e {
        IssueError::Invalid(problems) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_document",
            problems.join("; "),
        ),
        // The writer's queue is full: refuse now rather than queue without bound.
        IssueError::Store(StoreError::Overloaded) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many documents are waiting to be registered; nothing was registered, retry later",
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
    description = "Validates the payload for its kind, signs it with the official's key — CMS \
        (attached or detached) over its canonical JSON, or with `\"format\": \"xml\"` its XML \
        form with an enveloped XMLDSig signature as Kalkan makes it — gives it a registration \
        number and keeps it. Documents are never changed in place: a correction names the one \
        it `supersedes`.",
    request_body(content = IssueBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Signed and registered.", body = DocumentView),
        (status = 400, description = "`invalid_document` (the payload breaks a rule of its kind, or `detached` with `xml`) or `bad_request` (unknown kind or format, not JSON of this shape).", body = super::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `application/json`.", body = super::openapi::ErrorBody),
        (status = 500, description = "`internal`.", body = super::openapi::ErrorBody),
        (status = 503, description = "`overloaded`: too many documents are waiting for a number; nothing was registered.", body = super::openapi::ErrorBody),
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
        format: body.format.into(),
        detached: body.detached,
        supersedes: body.supersedes.as_deref(),
    };
    let now = crate::time::now();
    let record = issue_document(
        state.pki.store(),
        state.signer(),
        &order,
        now,
        Some(&acting.entry(StatusCode::CREATED)),
    )
    .await
    .map_err(issue_error)?;
    // Committed at level B: from here nothing can lose the document. Extending it to LTA now
    // is a bonus bounded by the TSA client's timeout; if it fails, or inline evidence is off,
    // the evidence job does it.
    let newest = if !state.inline_evidence {
        None
    } else {
        match state.pki.extend_document(&record, now).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(id = %record.id, error = %e,
                    "document issued at level B; the evidence job will extend it");
                None
            }
        }
    };
    let view = DocumentView::of(
        &record,
        &CurrentSignature::of(&record, newest.as_ref()),
        state.pki.urls(),
    );
    Ok(super::access::audited(
        (StatusCode::CREATED, Json(view)).into_response(),
    ))
}

async fn view(state: &AppState, record: &DocumentRecord) -> Result<DocumentView, ApiError> {
    let current = state.pki.current_signature(record).await?;
    let mut view = DocumentView::of(record, &current, state.pki.urls());
    view.log = state
        .pki
        .document_in_log(record)
        .await?
        .map(|found| super::log::DocumentLogView::of(&found));
    Ok(view)
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<DocumentRecord, ApiError> {
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
    Ok(Json(view(&state, &record).await?).into_response())
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
    Ok(Json(view(&state, &record).await?))
}

#[utoipa::path(
    get,
    path = "/v1/documents/{id}/signature.p7s",
    operation_id = "getDocumentSignature",
    tag = "documents",
    summary = "A document's CMS signature",
    description = "The current signature: the newest evidence version (level T, LT or LTA, see \
        the document's `level`), or the signature as signed while it is at level B.",
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The CMS SignedData, DER.", content_type = "application/pkcs7-signature"),
        (status = 404, description = "`not_found`: no such document, or it is signed as XML (see `signed.xml`).", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn signature(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let record = find(&state, &id).await?;
    if is_xml(&record) {
        return Err(ApiError::not_found(format!(
            "document {id:?} is signed as XML and has no CMS; its signature is inside \
             /v1/documents/{id}/signed.xml"
        )));
    }
    let current = state.pki.current_signature(&record).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pkcs7-signature")],
        current.signed,
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/v1/documents/{id}/signed.xml",
    operation_id = "getSignedXmlDocument",
    tag = "documents",
    summary = "A document signed as XML",
    description = "The XML form of a document issued with `\"format\": \"xml\"`, with its \
        enveloped XMLDSig signature (as Kalkan's `signXml` makes it) as the root's last child.",
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The signed XML document.", content_type = "application/xml"),
        (status = 404, description = "`not_found`: no such document, or it is signed as CMS (see `signature.p7s`).", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn signed_xml(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let record = find(&state, &id).await?;
    if !is_xml(&record) {
        return Err(ApiError::not_found(format!(
            "document {id:?} is signed as CMS, not XML; its signature is \
             /v1/documents/{id}/signature.p7s"
        )));
    }
    Ok(([(header::CONTENT_TYPE, "application/xml")], record.signed).into_response())
}
