//! Request bodies, refused in the API's error shape (axum's own rejections are plain text).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body. It must be sent as `application/json` (415 otherwise): a browser sends
/// text/plain cross-origin without a preflight, and a signing service must not be driven by any
/// web page its operator visits. Too large → 413, unreadable or the wrong shape → 400.
pub(super) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send + 'static> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(unsupported_media_type());
        }
        let bytes = raw(req, state).await?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                "the request body is empty; send JSON",
            ));
        }
        off_runtime(bytes.len(), move || parse(&bytes))
            .await?
            .map(JsonBody)
    }
}

/// Bodies at least this large are decoded on the blocking pool.
const LARGE_BODY: usize = 64 * 1024;

/// Runs `work` on a body of `size` bytes: inline when small, on the blocking pool when large.
/// Parsing 16 MiB of JSON and decoding its base64 takes tens of milliseconds; on a runtime
/// thread that is time every other request on it (health checks included) waits.
pub(super) async fn off_runtime<T: Send + 'static>(
    size: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    if size < LARGE_BODY {
        return Ok(work());
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => Ok(done),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is stopping; send the request again",
        )),
    }
}

/// A JSON body that may be left out entirely, meaning all defaults (e.g. revoke without a
/// reason). A body that is sent follows the rules of [`JsonBody`].
pub(super) struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_json = is_json(&req);
        let bytes = raw(req, state).await?;
        if bytes.is_empty() {
            return Ok(OptionalJsonBody(T::default()));
        }
        if !declared_json {
            return Err(unsupported_media_type());
        }
        parse(&bytes).map(OptionalJsonBody)
    }
}

/// Whether the body is declared as `mime` (parameters such as `; charset` ignored).
pub(super) fn declared_as(headers: &axum::http::HeaderMap, mime: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|declared| declared.trim().eq_ignore_ascii_case(mime))
}

/// 415 for a body that is not declared as `mime`.
pub(super) fn not_declared_as(mime: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("send the body as Content-Type: {mime}"),
    )
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as Content-Type: application/json",
    )
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("the body is not valid JSON for this request: {e}"))
    })
}

/// The raw body, with the size limit reported as 413.
pub(super) async fn raw<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        ApiError::rejected(rejection.status(), "bad_request", rejection.body_text())
    })
}

/// The raw body as an extractor.
pub(super) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        raw(req, state).await.map(RawBody)
    }
}

/// A base64 field of a JSON body (whitespace, as line-wrapped base64 carries it, is ignored);
/// the error names the field.
pub(super) fn base64_field(field: &str, text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    // Most callers send one unbroken line: decode it as it is, and only when that fails look
    // for line breaks to strip (the standard alphabet has no whitespace, so a text with some
    // never decodes as it is, and no 16 MiB field is copied or scanned twice for nothing).
    let decoded = engine.decode(text).or_else(|first| {
        if text.bytes().any(|b| b.is_ascii_whitespace()) {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            engine.decode(compact)
        } else {
            Err(first)
        }
    });
    decoded.map_err(|e| format!("{field} is not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::base64_field;

    #[test]
    fn a_base64_field_decodes_on_one_line_or_broken_into_lines() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let line = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
        assert_eq!(base64_field("signature", &line), Ok(bytes.clone()));
        // As PEM bodies and mail clients wrap it: 64 characters, CRLF, a trailing newline.
        let wrapped: String = line
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
            .collect();
        assert_eq!(base64_field("signature", &wrapped), Ok(bytes.clone()));
        assert_eq!(
            base64_field("signature", &format!(" {line}\t\n")),
            Ok(bytes)
        );
    }

    #[test]
    fn a_field_that_is_not_base64_is_named_with_or_without_whitespace() {
        for text in ["not*base64", "not base64*", "QUJD\nRA=*"] {
            let error = base64_field("content", text).unwrap_err();
            assert!(
                error.starts_with("content is not base64: "),
                "{text:?}: {error}"
            );
        }
        assert!(
            base64_field("signature", "QUJDRA").is_err(),
            "padding is required"
        );
    }
}
