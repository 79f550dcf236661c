//! Prometheus metrics: one process-wide recorder, rendered by `GET /metrics`.
//!
//! The library counts what happens (`metrics::counter!` is a no-op until a recorder is
//! installed, so library users and tests that never serve pay nothing); the HTTP shell installs
//! the recorder and adds request counts and latencies per route.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests by route pattern, method and status.
pub const HTTP_REQUESTS: &str = "qoltanba_http_requests_total";
/// Request latency by route pattern (histogram, seconds).
pub const HTTP_DURATION: &str = "qoltanba_http_request_duration_seconds";
/// HTTP connections being served (at most `max_connections`).
pub const HTTP_CONNECTIONS: &str = "qoltanba_http_connections";
/// Connections the server closed because their client kept them waiting, by reason
/// (`header_timeout`, `idle_timeout`, `evicted` to make room for a new connection).
pub const HTTP_CONNECTIONS_CLOSED: &str = "qoltanba_http_connections_closed_total";
/// Verifications by verdict and ETSI sub-indication.
pub const VERIFICATIONS: &str = "qoltanba_verifications_total";
/// Documents signed and registered, by kind.
pub const DOCUMENTS_SIGNED: &str = "qoltanba_documents_signed_total";
/// Time-stamp requests the TSA answered (`POST /pki/tsp`), by status: `granted`, `rejection`
/// (an unusable request), `failure` (the TSA could not issue).
pub const TIME_STAMPS: &str = "qoltanba_time_stamps_total";
/// Evidence work on registered documents, by level reached (`LTA`) and status: `extended`
/// (brought to LTA), `renewed` (one more archive time-stamp), `raced` (another instance did it
/// first; nothing stored), `failed` (left for the next run), `deferred` (issuance under load
/// left it to the job).
pub const EVIDENCE_EXTENSIONS: &str = "qoltanba_evidence_extensions_total";
/// Registered documents by the level of their current signature (B, T, LT, LTA).
pub const DOCUMENTS_BY_LEVEL: &str = "qoltanba_documents";
/// The oldest evidence horizon among registered documents (unix seconds): renewal must run
/// before it.
pub const EVIDENCE_HORIZON: &str = "qoltanba_evidence_horizon_seconds";
/// Status lookups of our own certificates (verification, OCSP) by how they were answered:
/// `hit` (from memory), `miss` (from the database, then kept), `bypass` (from the database
/// because the cache could not prove it was current).
pub const STATUS_LOOKUPS: &str = "qoltanba_status_lookups_total";
/// 1 while the status cache can prove it is current (its watcher confirmed within the bound),
/// else 0.
pub const STATUS_CACHE_CURRENT: &str = "qoltanba_status_cache_current";
/// Certificates issued, by profile.
pub const CERTIFICATES_ISSUED: &str = "qoltanba_certificates_issued_total";
/// Certificates revoked or held, by reason.
pub const CERTIFICATES_REVOKED: &str = "qoltanba_certificates_revoked_total";
/// Seconds since the newest CRL's thisUpdate, by CA and kind (full, delta).
pub const CRL_AGE: &str = "qoltanba_crl_age_seconds";
/// Seconds until the newest CRL's nextUpdate, by CA and kind.
pub const CRL_REMAINING: &str = "qoltanba_crl_seconds_to_next_update";
/// Database pool connections by state (idle, in_use).
pub const DB_POOL: &str = "qoltanba_db_pool_connections";
/// 1 on the instance that runs the periodic work (CRL regeneration), else 0.
pub const LEADER: &str = "qoltanba_leader";
/// Runs of the periodic CRL job on this instance (only while it leads).
pub const CRL_REFRESH_RUNS: &str = "qoltanba_crl_refresh_runs_total";

/// Latency buckets: 0.5 ms to 10 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The recorder's handle, installing it on first use. None if another recorder was installed
/// first (then this process's metrics go there).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Keeps the recorder's memory bounded: histogram samples pile up in the recorder until they are
/// folded into their buckets, which happens at a scrape or here. Without it a server nobody
/// scrapes grows by a few bytes per request, forever (measured: ~20 bytes per verification).
pub async fn upkeep(handle: &'static PrometheusHandle) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}
