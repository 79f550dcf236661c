//! The HTTP service: one file per resource, one error shape.
//!
//! Doors: [`router`], and [`serve`], the connection loop in front of it.

pub mod access;
mod audit;
mod auditor;
mod body;
mod certificates;
mod document_checks;
mod document_pdf;
mod documents;
mod error;
mod extract;
mod log;
pub mod openapi;
mod operations;
mod publication;
mod routes;
mod server;
mod verify;

use axum::Router;
use std::sync::Arc;

pub use error::ApiError;
pub use server::serve;

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
    /// `[operations] inline_evidence`: extend each issued document to LTA before answering.
    pub inline_evidence: bool,
}

impl AppState {
    /// Who signs the documents the service issues.
    pub fn signer(&self) -> &crate::sign::SignerIdentity {
        self.official
            .as_deref()
            .unwrap_or_else(|| self.pki.official())
    }
}

/// The service: every declared route (see [`routes`]) behind the access guard.
pub fn router(state: AppState) -> Router {
    routes::declared()
        .iter()
        .fold(Router::new(), |router, route| {
            router.route(&route.path, route.method_router())
        })
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
