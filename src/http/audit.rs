//! `GET /v1/audit` (admin): the audit trail, newest first.

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::store::{AuditEvent, AuditQuery};

/// Most events one page returns.
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize)]
pub struct Params {
    limit: Option<i64>,
    offset: Option<i64>,
    actor: Option<String>,
    outcome: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Page {
    events: Vec<AuditEvent>,
}

pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Json<Page>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    let offset = params.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(format!(
            "limit must be 1..={MAX_LIMIT} and offset at least 0"
        )));
    }
    let events = state
        .pki
        .store()
        .audit_events(&AuditQuery {
            limit,
            offset,
            actor: params.actor,
            outcome: params.outcome,
        })
        .await
        .map_err(|e| ApiError::from(crate::pki::PkiError::from(e)))?;
    Ok(Json(Page { events }))
}
