//! The one error shape of the API: `{"error":{"code","message"}}` with the right status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::pki::PkiError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// An extractor's rejection (axum answers those in plain text) in the API's shape, with
    /// its status: `code` for what the caller sent wrong, the codes every route shares for a
    /// body too large or of the wrong type. A 5xx is the route's own mistake (e.g. a path
    /// pattern the handler does not match), so it is logged and answered as internal.
    pub(super) fn rejected(status: StatusCode, code: &'static str, message: String) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(status, "payload_too_large", "the request body is too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::new(status, "unsupported_media_type", message)
            }
            status if status.is_client_error() => ApiError::new(status, code, message),
            status => {
                tracing::error!(%status, error = %message, "extractor failed");
                internal()
            }
        }
    }
}

fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; see the service log",
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// A storage failure is internal, exactly as the PKI reports one.
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::from(PkiError::from(e))
    }
}

impl From<PkiError> for ApiError {
    fn from(e: PkiError) -> Self {
        match e {
            PkiError::InvalidRequest(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
            }
            PkiError::NotFound(m) => ApiError::not_found(m),
            PkiError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            // The log is public and so is what is wrong with it: an auditor told "internal
            // error" could not tell a damaged log from a passing fault, nor name the entry.
            PkiError::Log(m) => {
                tracing::error!(error = %m, "transparency log");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "log_damaged", m)
            }
            other => {
                // Internal details go to the log, not to the caller.
                tracing::error!(error = %other, "internal error");
                internal()
            }
        }
    }
}
