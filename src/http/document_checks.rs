//! Checking documents against the registry: a registered document verified now (its current
//! signature: the newest evidence version), and an auditor's upload matched with the registry.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::body::{base64_field, JsonBody};
use super::documents::{find, is_xml};
use super::extract::ApiPath;
use super::{ApiError, AppState};
use crate::identity::Bin;
use crate::pki::{signature_level, CurrentSignature};
use crate::sign::registry;
use crate::store::DocumentRecord;
use crate::verify::{Report, Request};

/// Verifies a registered document now, through the full pipeline.
#[utoipa::path(
    get,
    path = "/v1/documents/{id}/verification",
    operation_id = "verifyRegisteredDocument",
    tag = "verification",
    summary = "Verify a registered document now",
    description = "Runs the full verification pipeline (time-stamps, chain, validity, revocation, \
        key usage) on the document's current signature — its newest evidence version — as of \
        now, judged at its proof of existence. The report carries the signature's `level` and \
        `evidence_horizon` besides the usual fields.",
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The report, whatever the verdict.", body = DocumentReport),
        (status = 404, description = "`not_found`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn verification(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DocumentReport>, ApiError> {
    let record = find(&state, &id).await?;
    let (report, current) = verify_record(&state, &record).await?;
    Ok(Json(DocumentReport {
        report,
        level: current.level,
        evidence_horizon: current.horizon.map(crate::time::rfc3339),
    }))
}

/// A registered document's verification report, with the level of the signature verified.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DocumentReport {
    #[serde(flatten)]
    #[schema(value_type = super::openapi::Report)]
    report: Report,
    /// The level of the signature verified: `B`, `T`, `LT` or `LTA`.
    #[schema(value_type = String, example = "LTA")]
    level: &'static str,
    /// Until when its evidence holds (RFC 3339); null at level `B`.
    evidence_horizon: Option<String>,
}

/// Verifies a registered document's current signature (its newest evidence version).
pub(super) async fn verify_record(
    state: &AppState,
    record: &DocumentRecord,
) -> Result<(Report, CurrentSignature), crate::pki::PkiError> {
    let current = state.pki.current_signature(record).await?;
    let request = Request {
        signature: current.signed.clone(),
        content: record.detached.then(|| record.canonical.clone()),
        bin: expected_bin(record),
        ..Request::default()
    };
    Ok((state.verifier.verify_owned(request).await, current))
}

/// Who must have signed a registered XML document: its authority, by BIN. The verifier would
/// otherwise take the first `<iin>` in the document as the signer's, and in a document issued to
/// a person that is the recipient's (see `sign::document_xml`). The official's certificate
/// carries the authority's BIN, so this is the identity процесс 11 asks for. CMS documents are
/// left as they were: their JSON names no `applicant`, so the verifier compares nothing.
fn expected_bin(record: &DocumentRecord) -> Option<Bin> {
    is_xml(record)
        .then(|| Bin::parse(&record.authority_bin).ok())
        .flatten()
}

/// A signature to check against the registry.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditBody {
    /// CMS SignedData, base64 (of DER; PEM text is accepted too); or an XML document with its
    /// XMLDSig signature inside, base64.
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
    /// The level of the uploaded signature: `B`, `T`, `LT` or `LTA` (`B` for XML).
    #[schema(value_type = String, example = "LTA")]
    level: &'static str,
    /// The registry entry whose signed bytes these are, if any.
    registered: Option<Registered>,
}

/// A registry entry.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Registered {
    id: String,
    number: String,
    kind: String,
    /// `cms` or `xml`.
    format: String,
    /// The level of the registered document's current signature.
    #[schema(value_type = String, example = "LTA")]
    level: &'static str,
    /// Until when the registered document's evidence holds (RFC 3339); null at level `B`.
    evidence_horizon: Option<String>,
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
    // Only for the XML form itself: a CMS someone made over a registered document's unsigned
    // XML is theirs, and says who they are.
    let bin = registry
        .record
        .as_ref()
        .filter(|_| crate::sign::xml::looks_like_xml(&signature))
        .and_then(expected_bin);
    let report = state
        .verifier
        .verify_owned(Request {
            signature,
            content,
            bin,
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
    description = "An auditor's CMS (and the content, if detached) or signed XML document: the \
        verification report, and whether, and under which number, the signed document is \
        registered here. An XML document is found by its content, whatever a tool did to its \
        serialisation, so one changed character of content is not found.",
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
    let level = signature_level(&signature).as_str();
    let Audit { report, registry } = audit_signature(&state, signature, content).await;
    let registered = match registry.record {
        Some(r) => {
            let current = state.pki.current_signature(&r).await?;
            Some(Registered {
                id: r.id,
                number: r.number,
                kind: r.kind,
                format: r.format,
                level: current.level,
                evidence_horizon: current.horizon.map(crate::time::rfc3339),
            })
        }
        None => None,
    };
    Ok(Json(AuditView {
        report,
        level,
        registered,
    }))
}
