//! `qoltanba serve`.

use std::sync::Arc;
use std::time::Duration;

use super::{open_pki, CliError};
use crate::config::Config;
use crate::http::{router, AppState};

pub(super) async fn run(config: Config) -> Result<(), CliError> {
    let (pki, created) = open_pki(&config, true).await?;
    let pki = Arc::new(pki);
    if created {
        tracing::info!("test PKI created on first start");
    }
    // The transparency log must still be what it signed: a changed or removed row of it is a
    // tampered registry, and the service does not serve one (issue 17).
    pki.check_log(true)
        .await
        .map_err(|e| CliError::Input(format!("refusing to start: {e}")))?;
    let upkeep = crate::telemetry::handle().map(|h| tokio::spawn(crate::telemetry::upkeep(h)));
    let checkpoints = tokio::spawn(sign_checkpoints(Arc::clone(&pki)));
    // Our certificates' statuses from memory, kept current within MAX_STALENESS (store room).
    let status_watch = pki.store().watch_statuses();
    let refresher = tokio::spawn(periodic_work(
        Arc::clone(&pki),
        Duration::from_secs(config.operations.crl_refresh_seconds),
        evidence_margin(&config),
        config.passphrase()?,
    ));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CliError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Io(e.to_string()))?;
    tracing::info!(listen = %local, public_url = %config.public_url, "qoltanba is serving");
    let settings = super::verifier_settings(&config, Some(Arc::clone(&pki)))?;
    let verifier = Arc::new(
        crate::verify::Verifier::new(settings).map_err(|e| CliError::Input(e.to_string()))?,
    );
    let official = super::imported_official(&config)?.map(Arc::new);
    if let Some(o) = &official {
        tracing::info!(subject = %crate::x509::name::display(&o.certificate.tbs_certificate.subject), "documents are signed with the imported key");
    }
    let access = Arc::new(crate::http::access::Access::new(
        pki.store().clone(),
        config.security.clone(),
    ));
    let app = router(AppState {
        pki: Arc::clone(&pki),
        verifier,
        official,
        access: Arc::clone(&access),
        inline_evidence: config.operations.inline_evidence,
    });
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = crate::http::serve(listener, app, &config.security, async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    // After the signal the server stops accepting and waits for requests in flight; that wait
    // is bounded, so a stuck client cannot keep the process (and its leadership) alive.
    let grace = Duration::from_secs(config.operations.shutdown_grace_seconds);
    let bounded = async {
        let _ = stop_rx.wait_for(|stopped| *stopped).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        () = server => {}
        () = bounded => tracing::warn!(grace_seconds = grace.as_secs(),
            "requests still in flight after the grace period; abandoning them"),
    }
    drop(status_watch);
    if let Some(task) = upkeep {
        task.abort();
    }
    refresher.abort();
    checkpoints.abort();
    // Waits for the leader's lock connection to be released with the task.
    let _ = refresher.await;
    // Refusals counted in the last minute are written before the store closes.
    access.flush().await;
    pki.store().close().await;
    tracing::info!("stopped");
    Ok(())
}

/// `[operations] evidence_renewal_margin_days` in seconds.
fn evidence_margin(config: &Config) -> i64 {
    i64::try_from(config.operations.evidence_renewal_margin_days)
        .unwrap_or(i64::MAX)
        .saturating_mul(86_400)
}

/// The periodic work: every `every`, try to be (or stay) the leader; the leader republishes
/// due CRLs, then advances documents' evidence (to LTA, and renewal `margin` seconds ahead of
/// its horizon). Another instance takes over within `every` of the leader's death.
async fn periodic_work(
    pki: Arc<crate::pki::Pki>,
    every: Duration,
    margin: i64,
    passphrase: zeroize::Zeroizing<String>,
) {
    let mut leadership = crate::store::Leadership::new(pki.store().clone());
    let mut tick = tokio::time::interval(every);
    let mut was_leader = false;
    loop {
        tick.tick().await;
        let leader = match leadership.check().await {
            Ok(leader) => leader,
            Err(e) => {
                tracing::error!(error = %e, "leadership check failed");
                false
            }
        };
        if leader != was_leader {
            tracing::info!(leader, "periodic work leadership changed");
            was_leader = leader;
        }
        metrics::gauge!(crate::telemetry::LEADER).set(if leader { 1.0 } else { 0.0 });
        if !leader {
            continue;
        }
        metrics::counter!(crate::telemetry::CRL_REFRESH_RUNS).increment(1);
        match pki.refresh_crls(crate::pki::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(published = n, "republished due CRLs"),
            Err(e) => tracing::error!(error = %e, "CRL refresh failed"),
        }
        let now = crate::pki::now();
        // Renewal needs a TSA certificate that outlives the margin: re-issue ours first if due.
        if let Err(e) = pki
            .renew_tsa_if_due(now, margin, passphrase.as_bytes())
            .await
        {
            tracing::error!(error = %e, "could not re-issue the TSA's certificate");
        }
        match pki.advance_evidence(now, margin).await {
            Ok(done) if done == crate::pki::Advanced::default() => {}
            Ok(done) => tracing::info!(
                extended = done.extended,
                renewed = done.renewed,
                raced = done.raced,
                failed = done.failed,
                "advanced documents' evidence"
            ),
            Err(e) => tracing::error!(error = %e, "evidence job failed"),
        }
    }
}

/// How often the log's growth is committed to by a signed checkpoint, at most.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// How often the whole stored log is rebuilt from its entries and compared (`/readyz` fails
/// from the first mismatch on).
const LOG_AUDIT_EVERY: u32 = 600;

/// Log entries whose documents are re-read against them each tick (`pki/log_registry.rs`).
const REGISTRY_SWEEP_PER_TICK: u64 = 256;

/// Signs a checkpoint whenever the log has grown, at most every [`CHECKPOINT_EVERY`]; every
/// [`LOG_AUDIT_EVERY`] ticks, checks the whole stored log first. Every instance does; two
/// signing one size store one row (the same note: Ed25519 is deterministic).
async fn sign_checkpoints(pki: Arc<crate::pki::Pki>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u32 = 0;
    loop {
        tick.tick().await;
        ticks = ticks.wrapping_add(1);
        if ticks % LOG_AUDIT_EVERY == 0 {
            if let Err(e) = pki.check_log(true).await {
                tracing::error!(error = %e, "the stored transparency log was tampered with");
                continue;
            }
        }
        if let Err(e) = pki.sign_log_checkpoint(crate::time::now()).await {
            tracing::error!(error = %e, "could not sign a checkpoint of the transparency log");
        }
        if let Err(e) = pki.sweep_registry(REGISTRY_SWEEP_PER_TICK).await {
            tracing::error!(error = %e, "could not re-read the registry against the log");
        } else if let Err(found) = pki.registry_matches_log() {
            tracing::error!(error = %found, "the registry no longer matches its log");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
