//! `qoltanba config check`: is this configuration one the service can start with? Checks the
//! settings, the files they name, the database and (if a PKI exists) that the CA passphrase
//! unlocks it, and prints what it found. Secrets are never printed, only where they come from.

use clap::Subcommand;

use super::{emit, open_store, read_labelled, verifier_settings, CliError};
use crate::config::{Config, PassphraseSource};
use crate::pki::Pki;

#[derive(Debug, Subcommand)]
pub(super) enum ConfigCommand {
    /// Check the configuration, the files it names, the database and the CA passphrase.
    Check,
}

/// The database URL without user or password.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

pub(super) async fn run(command: ConfigCommand, config: Config) -> Result<(), CliError> {
    let ConfigCommand::Check = command;
    let mut report = String::new();
    let mut line = |label: &str, value: String| report.push_str(&format!("{label:<22} {value}\n"));
    line("listen", config.listen.to_string());
    line("public_url", config.public_url.clone());
    line("database", redacted(&config.database_url));
    line("data_dir", config.data_dir.display().to_string());
    line(
        "pki_dir",
        config
            .pki_dir
            .as_ref()
            .map_or_else(|| "built in".into(), |p| p.display().to_string()),
    );
    line(
        "ca_passphrase",
        match &config.ca_passphrase {
            PassphraseSource::Value(_) => "from QOLTANBA_CA_PASSPHRASE".into(),
            PassphraseSource::File(p) => format!("from file {}", p.display()),
            PassphraseSource::Generated(p) => format!("generated, kept in {}", p.display()),
        },
    );
    line(
        "open routes",
        format!(
            "verification {}, publication {}",
            config.security.open_verification, config.security.open_publication
        ),
    );
    line(
        "limits",
        format!(
            "{} requests/min per key, {} s timeout, {} expensive at once",
            config.security.rate_limit_per_minute,
            config.security.request_timeout_seconds,
            config.security.max_concurrent_expensive
        ),
    );
    line(
        "connections",
        format!(
            "at most {}, headers within {} s, idle for {} s",
            config.security.max_connections,
            config.security.header_read_timeout_seconds,
            config.security.idle_timeout_seconds
        ),
    );
    let stamping = &config.timestamp;
    line(
        "time-stamps from",
        match &stamping.url {
            Some(url) => format!(
                "{url} (policy {}, {} s timeout, {} retries)",
                stamping
                    .policy
                    .map_or_else(|| "any".into(), |p| p.to_string()),
                stamping.timeout_seconds,
                stamping.retries
            ),
            None => "the service's own TSA".into(),
        },
    );
    // The files named: trust anchors, intermediates, CRLs, the imported official key.
    read_labelled(&config.verify.trust, "trust anchor")?;
    read_labelled(&config.verify.intermediates, "intermediate certificate")?;
    read_labelled(&config.verify.crls, "CRL")?;
    let imported = super::imported_official(&config)?;
    line(
        "documents signed by",
        match &imported {
            Some(o) => crate::x509::name::display(&o.certificate.tbs_certificate.subject),
            None => "the test PKI's official".into(),
        },
    );
    verifier_settings(&config, None).and_then(|s| {
        crate::verify::Verifier::new(s)
            .map(|_| ())
            .or_else(|e| match e {
                // No configured anchor is fine: the service trusts its own root.
                crate::verify::VerifyError::NoAnchor => Ok(()),
                other => Err(CliError::Input(other.to_string())),
            })
    })?;
    let (store, declarations) = open_store(&config).await?;
    line("database check", "reachable, schema up to date".into());
    if store.authorities().await?.is_empty() {
        line("PKI", "none yet: `serve` or `pki init` creates it".into());
    } else {
        let passphrase = config.passphrase()?;
        let pki = Pki::open(
            store.clone(),
            declarations,
            &config.public_url,
            passphrase.as_bytes(),
        )
        .await?;
        line(
            "PKI",
            format!("unlocked: {} → {}", pki.issuing().id, pki.root().id),
        );
    }
    store.close().await;
    report.push_str("configuration OK\n");
    emit(&report)
}
