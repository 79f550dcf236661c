//! `qoltanba audit list`: the audit trail, newest first; and the CLI's own entries in it.

use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Subcommand};

use super::{emit, open_store, CliError};
use crate::config::Config;
use crate::security::audit::{self, Entry};
use crate::store::{ActAudit, AuditQuery, Store};

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Print events, newest first (tab-separated; --json for JSON lines).
    List(ListArgs),
}

#[derive(Debug, Args)]
pub(super) struct ListArgs {
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[arg(long, default_value_t = 0)]
    offset: i64,
    /// Only this actor, e.g. key:portal or cli.
    #[arg(long)]
    actor: Option<String>,
    /// Only this outcome: ok, refused or failed.
    #[arg(long)]
    outcome: Option<String>,
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(command: AuditCommand, config: Config) -> Result<(), CliError> {
    let AuditCommand::List(args) = command;
    if !(1..=10_000).contains(&args.limit) || args.offset < 0 {
        return Err(CliError::Input(
            "--limit must be 1..=10000 and --offset at least 0".into(),
        ));
    }
    let (store, _) = open_store(&config).await?;
    let events = store
        .audit_events(&AuditQuery {
            limit: args.limit,
            offset: args.offset,
            actor: args.actor,
            outcome: args.outcome,
        })
        .await;
    store.close().await;
    let mut out = String::new();
    for e in events? {
        if args.json {
            out.push_str(&serde_json::to_string(&e).map_err(|e| CliError::Io(e.to_string()))?);
        } else {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                e.seq,
                crate::time::rfc3339(e.at),
                e.request_id,
                e.actor,
                e.action,
                e.target,
                e.outcome,
                e.status,
                e.detail
            ));
        }
        out.push('\n');
    }
    emit(&out)
}

/// A privileged command's place in the audit trail (actor "cli"): its action and target, and
/// whether its act (an issuance, a revocation, a signature) already wrote the entry in its own
/// transaction. Commands that change nothing have no label and leave no entry.
pub(super) struct Trail {
    label: Option<(&'static str, String)>,
    request_id: String,
    acted: AtomicBool,
}

impl Trail {
    pub(super) fn new(label: Option<(&'static str, String)>) -> Trail {
        Trail {
            label,
            request_id: audit::request_id(),
            acted: AtomicBool::new(false),
        }
    }

    /// Whether the command is recorded at all.
    pub(super) fn is_recorded(&self) -> bool {
        self.label.is_some()
    }

    /// The act's entry, for the store to write in the act's transaction.
    pub(super) fn act(&self) -> Option<ActAudit> {
        let (action, target) = self.label.as_ref()?;
        Some(audit::act(&self.request_id, ACTOR, action, target, 0))
    }

    /// The act is committed, and its entry with it.
    pub(super) fn acted(&self) {
        self.acted.store(true, Ordering::Relaxed);
    }

    /// Records the command's outcome, unless its act already did: a command that fails after
    /// its act (a key store that cannot be written) adds its failure. Best effort: the
    /// command's own result stands whatever happens here.
    pub(super) async fn finish(self, config: &Config, result: &Result<(), CliError>) {
        let Some((action, target)) = &self.label else {
            return;
        };
        if result.is_ok() && self.acted.load(Ordering::Relaxed) {
            return;
        }
        let Ok(store) = Store::connect(&config.database_url).await else {
            tracing::error!(
                action,
                "could not open the database to write the audit trail"
            );
            return;
        };
        let (outcome, status, detail) = match result {
            Ok(()) => (audit::OK, 0, String::new()),
            Err(e) => {
                let code = i64::from(e.exit_code());
                let outcome = if code == 1 {
                    audit::FAILED
                } else {
                    audit::REFUSED
                };
                (outcome, code, e.to_string())
            }
        };
        audit::record(
            &store,
            Entry {
                request_id: &self.request_id,
                actor: ACTOR,
                action,
                target,
                outcome,
                status,
                detail: &detail,
            },
        )
        .await;
        store.close().await;
    }
}

/// How the trail names the command line.
const ACTOR: &str = "cli";
