//! `qoltanba keys`: API keys for the HTTP service. A new key's token is printed once; only its
//! hash is stored.

use clap::{Args, Subcommand};

use super::{emit, open_store, CliError};
use crate::config::Config;
use crate::security::{ApiKeys, Scope, SecurityError};

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Create a key and print its token (once).
    Create(CreateArgs),
    /// List keys (names, scopes, dates; never tokens).
    List,
    /// Revoke a key by name; it stops working at once.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub(super) struct CreateArgs {
    /// A name for the key's holder (letters, digits, '-', '_', '.', '@').
    #[arg(long)]
    name: String,
    /// verify, sign, pki:issue, pki:revoke or admin; repeatable.
    #[arg(long = "scope", required = true)]
    scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub(super) struct RevokeArgs {
    #[arg(long)]
    name: String,
}

impl From<SecurityError> for CliError {
    fn from(e: SecurityError) -> Self {
        match e {
            SecurityError::Store(e) => CliError::Store(e),
            SecurityError::NameTaken(_) => CliError::Conflict(e.to_string()),
            SecurityError::NotFound(_) => CliError::NotFound(e.to_string()),
            SecurityError::Invalid(m) => CliError::Input(m),
        }
    }
}

pub(super) async fn run(command: KeysCommand, config: Config) -> Result<(), CliError> {
    let (store, _) = open_store(&config).await?;
    let keys = ApiKeys::new(store.clone());
    let now = crate::time::now();
    let result = match command {
        KeysCommand::Create(args) => {
            let scopes = args
                .scopes
                .iter()
                .map(|s| s.parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()?;
            let (token, record) = keys.create(&args.name, &scopes, now).await?;
            emit(&format!("{}\n", token.reveal().as_str()))?;
            eprintln!(
                "API key {:?} created with scopes: {}. The token above is shown only now; send it as `Authorization: Bearer <token>`.",
                record.name, record.scopes
            );
            Ok(())
        }
        KeysCommand::List => {
            let mut out = String::from("NAME\tSCOPES\tCREATED\tREVOKED\n");
            for key in keys.list().await? {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    key.name,
                    key.scopes,
                    crate::time::rfc3339(key.created_at),
                    key.revoked_at
                        .map_or_else(|| "-".into(), crate::time::rfc3339)
                ));
            }
            emit(&out)
        }
        KeysCommand::Revoke(args) => {
            keys.revoke(&args.name, now).await?;
            eprintln!("API key {:?} revoked", args.name);
            Ok(())
        }
    };
    store.close().await;
    result
}

impl KeysCommand {
    /// How the audit trail names this command and its target; None for `list`.
    pub(super) fn audit_label(&self) -> Option<(&'static str, String)> {
        match self {
            KeysCommand::Create(args) => Some((
                "cli keys create",
                format!("key {} scopes {}", args.name, args.scopes.join(" ")),
            )),
            KeysCommand::Revoke(args) => Some(("cli keys revoke", format!("key {}", args.name))),
            KeysCommand::List => None,
        }
    }
}
