//! `qoltanba documents …`: sign and register documents from the command line.

use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

use super::audit::Trail;
use super::{create_new, emit, open_pki, CliError};
use crate::config::Config;
use crate::sign::document::{Format, Kind, Payload};
use crate::sign::issue::{issue, IssueError, Order};

#[derive(Debug, Subcommand)]
pub(super) enum DocumentsCommand {
    /// Sign and register a document by the licensing official.
    Issue {
        /// license, license_appendix, license_reissue, license_duplicate, notification, refusal.
        #[arg(long)]
        kind: String,
        /// The payload (JSON file).
        #[arg(long)]
        payload: PathBuf,
        /// cms (CAdES-BES over the canonical JSON) or xml (the XML form, signed in place as
        /// Kalkan signs XML).
        #[arg(long, default_value = "cms", value_parser = ["cms", "xml"])]
        format: String,
        /// Leave the content out of the CMS (CMS only).
        #[arg(long)]
        detached: bool,
        /// Write the CMS (DER), or with --format xml the signed XML document, here; must not
        /// exist yet.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub(super) async fn run(
    command: DocumentsCommand,
    config: Config,
    trail: &Trail,
) -> Result<(), CliError> {
    let DocumentsCommand::Issue {
        kind,
        payload,
        format,
        detached,
        out,
    } = command;
    let kind = Kind::parse(&kind).map_err(CliError::Input)?;
    let format = Format::parse(&format).map_err(CliError::Input)?;
    if format == Format::Xml && detached {
        // Refused before anything is opened: the issuer would refuse it too, after the PKI.
        return Err(CliError::Input(
            "--detached applies to CMS only: an XML document carries its signature".into(),
        ));
    }
    let text = std::fs::read(&payload).map_err(|e| {
        CliError::Input(format!(
            "cannot read the payload {}: {e}",
            payload.display()
        ))
    })?;
    let payload: Payload = serde_json::from_slice(&text)
        .map_err(|e| CliError::Input(format!("{}: not a payload: {e}", payload.display())))?;
    let imported = super::imported_official(&config)?;
    let (pki, _) = open_pki(&config, false).await?;
    let signer = imported.as_ref().unwrap_or_else(|| pki.official());
    // Claim the output once the signer is known good, before signing: a registered document
    // whose signed file cannot be written would still be registered, but the caller asked for the file.
    let mut file = out.as_deref().map(|p| create_new(p, false)).transpose()?;
    let order = Order {
        kind,
        payload: &payload,
        format,
        detached,
        supersedes: None,
    };
    let now = crate::time::now();
    let record = match issue(pki.store(), signer, &order, now, trail.act().as_ref()).await {
        Ok(r) => {
            trail.acted();
            r
        }
        Err(e) => {
            if let Some(path) = &out {
                let _ = std::fs::remove_file(path);
            }
            return Err(match e {
                IssueError::Invalid(problems) => {
                    CliError::Input(format!("invalid document: {}", problems.join("; ")))
                }
                other => CliError::Io(other.to_string()),
            });
        }
    };
    // Registered at level B; now extended to LTA if the TSA answers, else by the service's
    // evidence job later. The file written is the current signature either way.
    if let Err(e) = pki.extend_document(&record, now).await {
        tracing::warn!(error = %e, "document issued at level B; the evidence job will extend it");
    }
    let level = (pki.current_signature(&record).await).map_err(|e| CliError::Io(e.to_string()))?;
    if let (Some(f), Some(path)) = (file.as_mut(), &out) {
        f.write_all(&level.signed)
            .and_then(|_| f.sync_all())
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))?;
    }
    emit(&format!(
        "number  {}\nid      {}\nsha256  {}\nlevel   {}\nverify  {}\n",
        record.number,
        record.id,
        record.sha256,
        level.level,
        pki.urls().document_verification(&record.number)
    ))
}

impl DocumentsCommand {
    /// How the audit trail names this command and its target.
    pub(super) fn audit_label(&self) -> Option<(&'static str, String)> {
        match self {
            DocumentsCommand::Issue { kind, .. } => {
                Some(("cli documents issue", format!("kind {kind}")))
            }
        }
    }
}
