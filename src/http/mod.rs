//! The HTTP service: one file per resource, one error shape.
//!
//! Door: [`router`].

pub mod access;
mod audit;
mod auditor;
mod body;
mod certificates;
mod document_pdf;
mod documents;
mod error;
pub mod openapi;
mod operations;
mod publication;
mod verify;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub use documents::verification_url;
pub use error::ApiError;

use crate::pki::Pki;
use crate::verify::Verifier;

/// Largest JSON request body. An issuance request is well under 4 KiB.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;
/// Largest OCSP request: 32 CertIDs with a nonce fit in about 3 KiB.
pub const OCSP_BODY_LIMIT: usize = 16 * 1024;
/// Largest verification request: a signed request with its attachments, base64.
pub const VERIFY_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub pki: Arc<Pki>,
    pub verifier: Arc<Verifier>,
    /// An imported official key that signs documents instead of the test PKI's official.
    pub official: Option<Arc<crate::sign::SignerIdentity>>,
    /// API keys, scopes, limits and the audit trail (see [`access`]).
    pub access: Arc<access::Access>,
}

impl AppState {
    /// Who signs the documents the service issues.
    pub fn signer(&self) -> &crate::sign::SignerIdentity {
        self.official
            .as_deref()
            .unwrap_or_else(|| self.pki.official())
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/v1/pki/certificates",
            post(certificates::issue).get(certificates::list),
        )
        .route("/v1/pki/certificates/{serial}", get(certificates::show))
        .route(
            "/v1/pki/certificates/{serial}/certificate.cer",
            get(certificates::der),
        )
        .route(
            "/v1/pki/certificates/{serial}/revoke",
            post(certificates::revoke),
        )
        .route(
            "/v1/pki/certificates/{serial}/release",
            post(certificates::release),
        )
        .route("/v1/documents", post(documents::issue))
        .route("/v1/documents/{file}", get(documents::show))
        .route(
            "/v1/documents/by-number/{number}",
            get(documents::by_number),
        )
        .route(
            "/v1/documents/{id}/signature.p7s",
            get(documents::signature),
        )
        .route(
            "/v1/documents/{id}/verification",
            get(documents::verification),
        )
        .route("/v1/audit", get(audit::list))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    let publication = Router::new()
        .route("/pki/{file}", get(publication::ca_certificate))
        .route("/pki/crl/{file}", get(publication::crl))
        .route("/pki/cps", get(publication::cps))
        .route("/pki/ocsp", post(publication::ocsp_post))
        .route("/pki/ocsp/{*request}", get(publication::ocsp_get))
        .layer(DefaultBodyLimit::max(OCSP_BODY_LIMIT));
    let verification = Router::new()
        .route("/v1/verify", post(verify::verify))
        .route("/v1/documents/verify", post(documents::audit))
        .route("/verify", get(auditor::by_number).post(auditor::upload))
        .layer(DefaultBodyLimit::max(VERIFY_BODY_LIMIT));
    Router::new()
        .merge(api)
        .merge(verification)
        .merge(publication)
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz))
        .route("/metrics", get(operations::metrics))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/docs", get(openapi::docs))
        // After every route: the guard sees the matched route (and unknown paths 404 as before).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        })
        .with_state(state)
}
