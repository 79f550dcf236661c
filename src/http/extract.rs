//! What handlers read from the URL and from form uploads, refused in the API's error shape.
//! axum's own extractors answer a bad query, path or multipart body in plain text; these
//! wrappers give the same checks the `{"error":{"code","message"}}` answer every other refusal
//! has (JSON and raw bodies: [`super::body`]). Handlers take these, never axum's directly.

use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The query string, deserialised: an unknown or malformed parameter (`limit=abc`, an
/// `outcome` the type does not list) is a 400 `bad_request`, as handlers already answered it.
pub(super) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(e) => Err(ApiError::rejected(e.status(), "bad_request", e.body_text())),
        }
    }
}

/// The path parameters, deserialised: a segment that does not decode (`%C0%AE` is not UTF-8)
/// is a 400 `bad_path`.
pub(super) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(e) => Err(ApiError::rejected(e.status(), "bad_path", e.body_text())),
        }
    }
}

/// A `multipart/form-data` body: one that is not (no boundary, another content type) is a 400
/// `bad_multipart`. Reading its fields can still fail; the handler answers that.
pub(super) struct ApiMultipart(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Multipart::from_request(req, state).await {
            Ok(form) => Ok(ApiMultipart(form)),
            Err(e) => Err(ApiError::rejected(
                e.status(),
                "bad_multipart",
                e.body_text(),
            )),
        }
    }
}

/// A form field cut off by the route's body limit is refused as every oversized body is (413);
/// Ok for any other failure, which the handler explains on its page.
pub(super) fn refuse_oversized(e: &MultipartError) -> Result<(), ApiError> {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Err(ApiError::rejected(
            e.status(),
            "bad_multipart",
            e.body_text(),
        ))
    } else {
        Ok(())
    }
}
