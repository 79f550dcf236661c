//! `POST /v1/verify`: условие 3 for a portal backend. 200 with the report for every verdict;
//! 400/413 only when the request itself is wrong.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::body::{base64_field, off_runtime, JsonBody};
use super::{ApiError, AppState};
use crate::identity::{Bin, Iin};
use crate::verify::{Report, Request};

/// A signature to verify.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyBody {
    /// The signed file, base64: CMS SignedData (DER; PEM text is accepted too) or an XML
    /// document with XMLDSig signatures (enveloped, or SOAP with WS-Security).
    signature: String,
    /// Detached CMS content, base64 (not with XML, which carries what it signs).
    #[serde(default)]
    content: Option<String>,
    /// The IIN the signer must have (12 digits).
    #[serde(default)]
    iin: Option<String>,
    /// The BIN the signer's organisation must have (12 digits).
    #[serde(default)]
    bin: Option<String>,
    /// Validation time, RFC 3339.
    #[serde(default)]
    at: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/verify",
    operation_id = "verifySignature",
    tag = "verification",
    summary = "Verify a CMS or XMLDSig signature",
    description = "For a portal backend (условие 3): the signature (CMS, or an XML document with \
        XMLDSig signatures, recognised by content), optionally the detached CMS content, the IIN/BIN the signer must have and the validation time. 200 with the report for \
        every verdict; 400/413 only when the request itself is wrong.",
    request_body(content = VerifyBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The report, whatever the verdict.", body = super::openapi::Report),
        (status = 400, description = "`invalid_request` (not base64, a bad IIN/BIN or time) or `bad_request`.", body = super::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large` (16 MiB).", body = super::openapi::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `application/json`.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn verify(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<VerifyBody>,
) -> Result<Json<Report>, ApiError> {
    let size = body.signature.len() + body.content.as_ref().map_or(0, String::len);
    let request = off_runtime(size, move || body.into_request()).await??;
    Ok(Json(state.verifier.verify_owned(request).await))
}

impl VerifyBody {
    /// The fields decoded and checked; every problem is named, not only the first. The text
    /// of the signature and content is freed as it is decoded.
    fn into_request(self) -> Result<Request, ApiError> {
        let mut problems = Vec::new();
        let mut decode = |field: &str, text: String| {
            base64_field(field, &text)
                .map_err(|e| problems.push(e))
                .ok()
        };
        let signature = decode("signature", self.signature);
        let content = self.content.and_then(|c| decode("content", c));
        let iin = self
            .iin
            .as_deref()
            .and_then(|s| Iin::parse(s).map_err(|e| problems.push(e.to_string())).ok());
        let bin = self
            .bin
            .as_deref()
            .and_then(|s| Bin::parse(s).map_err(|e| problems.push(e.to_string())).ok());
        let at = self.at.as_deref().and_then(|t| {
            crate::time::parse_rfc3339(t)
                .map_err(|e| problems.push(format!("at: {e}")))
                .ok()
        });
        if !problems.is_empty() {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_request",
                problems.join("; "),
            ));
        }
        Ok(Request {
            signature: signature.unwrap_or_default(),
            content,
            iin,
            bin,
            at,
            ..Request::default()
        })
    }
}
