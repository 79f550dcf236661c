//! `GET /v1/audit` (admin): the audit trail, newest first.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::extract::ApiQuery;
use super::{ApiError, AppState};
use crate::security::audit;
use crate::store::{AuditEvent, AuditQuery};

/// Most events one page returns.
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Params {
    /// Page size, 1..=1000 (default 100).
    limit: Option<i64>,
    /// Events to skip (default 0).
    offset: Option<i64>,
    /// Only this actor's events (`key:<name>` or `anonymous`).
    actor: Option<String>,
    /// Only `ok`, `refused` or `failed`.
    #[param(inline)]
    outcome: Option<Outcome>,
}

// The outcomes the trail records: anything else is refused (400), not answered with an empty
// page as if nothing had happened.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Ok,
    Refused,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => audit::OK,
            Outcome::Refused => audit::REFUSED,
            Outcome::Failed => audit::FAILED,
        }
    }
}

/// A page of the audit trail, newest first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(super) struct Page {
    #[schema(value_type = Vec<super::openapi::AuditEvent>)]
    events: Vec<AuditEvent>,
}

#[utoipa::path(
    get,
    path = "/v1/audit",
    operation_id = "listAuditEvents",
    tag = "audit",
    summary = "The audit trail, newest first",
    params(Params),
    responses(
        (status = 200, description = "A page of events.", body = Page),
        (status = 400, description = "`bad_request`: bad `limit`/`offset`, or an `outcome` not listed.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
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
            outcome: params.outcome.map(|o| o.as_str().to_owned()),
        })
        .await?;
    Ok(Json(Page { events }))
}
