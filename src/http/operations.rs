//! Operations: `/readyz` (can this instance serve?) and `/metrics` (Prometheus text).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;
use crate::store::CrlKind;
use crate::telemetry;

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    summary = "Liveness: the process answers",
    responses((status = 200, description = "Always `ok`.", content_type = "text/plain; charset=utf-8", body = String, example = "ok")),
)]
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers, the CA keys are unlocked and sign, and every CA's newest
/// full CRL is still current. 503 with the failing checks otherwise, so a load balancer takes
/// the instance out instead of letting it hand out stale revocation data.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    summary = "Readiness: database, CA keys, CRL freshness, evidence horizon",
    description = "Ready when the database answers, the CA keys are unlocked and sign, every \
        CA's newest full CRL is still current, and no registered document's evidence is past its \
        horizon; 503 with the failing checks otherwise.",
    responses(
        (status = 200, description = "Ready.", body = super::openapi::Readiness),
        (status = 503, description = "Not ready: the failing checks say why.", body = super::openapi::Readiness),
    ),
)]
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    let mut check = |name: &str, result: Result<String, String>| {
        ready &= result.is_ok();
        let value = match result {
            Ok(detail) => json!({"ok": true, "detail": detail}),
            Err(detail) => json!({"ok": false, "detail": detail}),
        };
        checks.insert(name.to_owned(), value);
    };
    let store = state.pki.store();
    check(
        "database",
        store
            .ping()
            .await
            .map(|()| "reachable".to_owned())
            .map_err(|e| e.to_string()),
    );
    // The keys were decrypted at start; a signature proves they are still usable.
    check(
        "ca_keys",
        state
            .pki
            .issuing()
            .key
            .sign(b"readyz")
            .map(|_| "unlocked".to_owned())
            .map_err(|e| e.to_string()),
    );
    let now = crate::time::now();
    for authority in [state.pki.root(), state.pki.issuing()] {
        let fresh = match store.latest_crl(&authority.id, CrlKind::Full).await {
            Ok(Some(crl)) if crl.next_update > now => Ok(format!(
                "CRL #{} current until {}",
                crl.number,
                crate::time::rfc3339(crl.next_update)
            )),
            Ok(Some(crl)) => Err(format!(
                "CRL #{} expired at {}",
                crl.number,
                crate::time::rfc3339(crl.next_update)
            )),
            Ok(None) => Err("no CRL published".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        check(&format!("crl:{}", authority.id), fresh);
    }
    // Evidence past its horizon no longer proves when a document was signed: renewal (the
    // evidence job) has not run in time, and someone must look.
    let evidence = match store.evidence_stats().await {
        Ok(stats) => match stats.oldest_horizon {
            Some(h) if h <= now => Err(format!(
                "a document's evidence lapsed at {}: the evidence job did not renew it",
                crate::time::rfc3339(h)
            )),
            Some(h) => Ok(format!(
                "every document's evidence holds until at least {}",
                crate::time::rfc3339(h)
            )),
            None => Ok("no document carries time-stamped evidence yet".to_owned()),
        },
        Err(e) => Err(e.to_string()),
    };
    check("evidence", evidence);
    // The stored tree must still have the root its newest checkpoint signed (issue 17).
    check(
        "log",
        state
            .pki
            .check_log(false)
            .await
            .map(|()| "the stored log matches its newest checkpoint".to_owned())
            .map_err(|e| e.to_string()),
    );
    // Every document row the sweep re-read still gives its log entry.
    check("registry", state.pki.registry_matches_log());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({"status": if ready { "ready" } else { "not_ready" }, "checks": checks});
    (status, Json(body)).into_response()
}

/// Prometheus text format. Gauges that describe the database (CRL age, pool) are read now.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Requests by route and status with latency histograms, verdicts by \
        sub-indication, documents signed and by evidence level, the oldest evidence horizon, evidence \
        extensions, certificates issued and revoked, CRL age, pool usage.",
    responses(
        (status = 200, description = "Prometheus text exposition format.", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String),
        (status = 503, description = "Another metrics recorder is installed in this process (plain text).", content_type = "text/plain; charset=utf-8", body = String),
    ),
)]
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = telemetry::handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "another metrics recorder is installed in this process",
        )
            .into_response();
    };
    let store = state.pki.store();
    let now = crate::time::now();
    for authority in [state.pki.root(), state.pki.issuing()] {
        for kind in [CrlKind::Full, CrlKind::Delta] {
            if let Ok(Some(crl)) = store.latest_crl(&authority.id, kind).await {
                let labels = [
                    ("ca", authority.id.clone()),
                    ("kind", kind.as_str().to_owned()),
                ];
                metrics::gauge!(telemetry::CRL_AGE, &labels).set((now - crl.this_update) as f64);
                metrics::gauge!(telemetry::CRL_REMAINING, &labels)
                    .set((crl.next_update - now) as f64);
            }
        }
    }
    if let Ok(stats) = store.evidence_stats().await {
        // Every level is set, so a level whose documents all moved on reads 0, not its last count.
        for level in ["B", "T", "LT", "LTA"] {
            let n = stats
                .by_level
                .iter()
                .find(|(l, _)| l == level)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!(telemetry::DOCUMENTS_BY_LEVEL, "level" => level).set(n as f64);
        }
        if let Some(h) = stats.oldest_horizon {
            metrics::gauge!(telemetry::EVIDENCE_HORIZON).set(h as f64);
        }
    }
    let (size, idle) = store.pool_usage();
    metrics::gauge!(telemetry::DB_POOL, "state" => "idle").set(idle as f64);
    metrics::gauge!(telemetry::DB_POOL, "state" => "in_use")
        .set((size as usize).saturating_sub(idle) as f64);
    metrics::gauge!(telemetry::STATUS_CACHE_CURRENT)
        .set(f64::from(u8::from(store.status_cache_current())));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
