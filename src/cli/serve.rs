//! `qoltanba serve`.

use std::sync::Arc;
use std::time::Duration;

use super::{open_pki, CliError};
use crate::config::Config;
use crate::http::{router, AppState};

/// How often CRLs are checked for being due (they are republished at 3/4 of their period).
const CRL_REFRESH_EVERY: Duration = Duration::from_secs(60);

pub async fn run(config: Config) -> Result<(), CliError> {
    let (pki, created) = open_pki(&config, true).await?;
    let pki = Arc::new(pki);
    if created {
        tracing::info!("test PKI created on first start");
    }
    let refresher = tokio::spawn({
        let pki = Arc::clone(&pki);
        async move {
            let mut tick = tokio::time::interval(CRL_REFRESH_EVERY);
            loop {
                tick.tick().await;
                match pki.refresh_crls(crate::pki::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(published = n, "republished due CRLs"),
                    Err(e) => tracing::error!(error = %e, "CRL refresh failed"),
                }
            }
        }
    });
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
        tracing::info!(subject = %crate::name::display(&o.certificate.tbs_certificate.subject), "documents are signed with the imported key");
    }
    let access = Arc::new(crate::http::access::Access::new(
        pki.store().clone(),
        config.security.clone(),
    ));
    let app = router(AppState {
        pki: Arc::clone(&pki),
        verifier,
        official,
        access,
    });
    // The peer address feeds the per-address rate limit of anonymous callers.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| CliError::Io(format!("server error: {e}")))?;
    refresher.abort();
    pki.store().close().await;
    tracing::info!("stopped");
    Ok(())
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
