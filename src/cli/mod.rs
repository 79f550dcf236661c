//! The command line: a thin shell over the library. One file per command group.
//!
//! Exit codes: 0 success; 1 failure (database, I/O, internal); 2 invalid input or usage;
//! 3 not found; 4 conflict (e.g. already revoked); 5 cannot unlock the CA keys.

mod audit;
mod config_check;
mod documents;
mod keys;
mod log;
mod log_entries;
mod log_tiles;
mod pki;
mod serve;
mod sign;
mod verify;

use clap::{Parser, Subcommand};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

use crate::config::{Config, ConfigError, LogFormat};
use crate::pki::{Declarations, Pki, PkiError};
use crate::store::{Store, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "qoltanba",
    version,
    about = "Digital signatures (ЭЦП) for e-government licensing: test PKI, verification, signing"
)]
pub struct Cli {
    /// Configuration file (TOML); QOLTANBA_* environment variables override it.
    #[arg(long, global = true, env = "QOLTANBA_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP service (creates the test PKI on first start).
    Serve,
    /// The test PKI: CAs, certificates, revocation, CRLs.
    #[command(subcommand)]
    Pki(Box<pki::PkiCommand>),
    /// Verify a CMS-signed request (условие 3): signature, chain, validity, revocation, key
    /// usage, IIN/BIN. Exit 0 valid, 1 invalid, 2 indeterminate, 64 bad arguments, 65 bad input.
    Verify(Box<verify::VerifyArgs>),
    /// Sign a file with a PKCS#12 key (modern or NCA's legacy format): CAdES-BES CMS, or for
    /// XML an enveloped XMLDSig as NCA's Kalkan makes it (--wsse: a WS-Security SOAP envelope).
    Sign(Box<sign::SignArgs>),
    /// Signed documents (процесс 11): issue and register.
    #[command(subcommand)]
    Documents(Box<documents::DocumentsCommand>),
    /// API keys for the HTTP service: create (token printed once), list, revoke.
    #[command(subcommand)]
    Keys(Box<keys::KeysCommand>),
    /// The audit trail of issuances, revocations, signatures, key changes and refusals.
    #[command(subcommand)]
    Audit(Box<audit::AuditCommand>),
    /// The configuration: `config check` validates it, its files, the database and passphrase.
    #[command(subcommand)]
    Config(Box<config_check::ConfigCommand>),
    /// The transparency log, checked from outside: `log verify` offline from downloaded files,
    /// `log audit` against a service's public URLs. Exit 0 checks, 1 does not, 2 bad input.
    #[command(subcommand)]
    Log(Box<log::LogCommand>),
}

impl Command {
    /// Privileged commands are recorded in the audit trail: (action, target).
    fn audit_label(&self) -> Option<(&'static str, String)> {
        match self {
            Command::Pki(c) => c.audit_label(),
            Command::Documents(c) => c.audit_label(),
            Command::Keys(c) => c.audit_label(),
            _ => None,
        }
    }
}

/// What a command can fail with, mapped once to an exit code and a message.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Io(String),
    /// Something checked and did not hold (a proof, a signature, a log that does not add up).
    #[error("FAIL: {0}")]
    Failed(String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) | CliError::Config(_) => 2,
            CliError::Pki(PkiError::InvalidRequest(_)) => 2,
            CliError::Pki(PkiError::NotFound(_)) | CliError::NotFound(_) => 3,
            CliError::Pki(PkiError::Conflict(_)) | CliError::Conflict(_) => 4,
            CliError::Pki(PkiError::WrongPassphrase) => 5,
            _ => 1,
        }
    }
}

/// The subcommand named on a command line clap refused: the first argument after the program
/// name that is neither an option nor the value of the global `--config` (an argument equal to
/// "verify" elsewhere, say a document title, does not make the command `verify`).
fn subcommand(args: &[std::ffi::OsString]) -> Option<&str> {
    let mut rest = args.iter().skip(1).map(|a| a.to_str());
    while let Some(arg) = rest.next() {
        match arg? {
            "--config" => {
                rest.next();
            }
            option if option.starts_with('-') => {}
            name => return Some(name),
        }
    }
    None
}

/// Parses the arguments and runs the command.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // `verify` promises 64 for bad arguments; the other commands use 2.
            let usage = if subcommand(&args) == Some("verify") {
                verify::EXIT_BAD_ARGUMENTS
            } else {
                2
            };
            return ExitCode::from(if e.use_stderr() { usage } else { 0 });
        }
    };
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(CliError::Config(e)),
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(CliError::Io(format!("cannot start the runtime: {e}"))),
    };
    runtime.block_on(async move {
        let trail = audit::Trail::new(cli.command.audit_label());
        let audit_config = trail.is_recorded().then(|| config.clone());
        let result = match cli.command {
            Command::Serve => serve::run(config).await,
            Command::Pki(command) => pki::run(*command, config, &trail).await,
            Command::Sign(args) => sign::run(*args, &config).await,
            Command::Documents(command) => documents::run(*command, config, &trail).await,
            Command::Keys(command) => keys::run(*command, config).await,
            Command::Audit(command) => audit::run(*command, config).await,
            Command::Config(command) => config_check::run(*command, config).await,
            Command::Log(command) => log::run(*command).await,
            // verify maps its outcomes to its own exit codes.
            Command::Verify(args) => return verify::run(*args, config).await,
        };
        if let Some(config) = audit_config {
            trail.finish(&config, &result).await;
        }
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        }
    })
}

/// Writes to stdout. A closed or full stdout is an error (exit 1), never a panic.
fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| CliError::Io(format!("cannot write to standard output: {e}")))
}

fn fail(e: CliError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(e.exit_code())
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("QOLTANBA_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    use std::io::IsTerminal;
    // Colour only on a terminal: journals and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Connects to the database and loads the declarations, as every command needs.
async fn open_store(config: &Config) -> Result<(Store, Declarations), CliError> {
    config.prepare_data_dir()?;
    let store = Store::connect(&config.database_url).await?;
    let declarations = Declarations::load(config.pki_dir.as_deref())?;
    Ok((store, declarations))
}

/// Opens the PKI, creating it if `create` and none exists.
async fn open_pki(config: &Config, create: bool) -> Result<(Pki, bool), CliError> {
    let (store, declarations) = open_store(config).await?;
    let passphrase = config.passphrase()?;
    let opened = if create {
        Pki::init(
            store,
            declarations,
            &config.public_url,
            passphrase.as_bytes(),
        )
        .await?
    } else {
        (
            Pki::open(
                store,
                declarations,
                &config.public_url,
                passphrase.as_bytes(),
            )
            .await?,
            false,
        )
    };
    let (pki, created) = opened;
    let stamping = time_stamping(config, None, Some(&pki))?;
    Ok((pki.with_time_stamping(stamping), created))
}

/// Where time-stamps come from: `url` (else `[timestamp] url`) through a TSP client whose
/// replies must chain to the configured anchors and, with the service's PKI, its own root;
/// neither: the PKI's own TSA in process.
fn time_stamping(
    config: &Config,
    url: Option<&str>,
    own: Option<&Pki>,
) -> Result<crate::pki::TimeStamping, CliError> {
    let Some(url) = url.or(config.timestamp.url.as_deref()) else {
        return Ok(crate::pki::TimeStamping::Own);
    };
    let mut settings = verifier_settings(config, None)?;
    if let Some(pki) = own {
        trust_own(&mut settings, pki);
    }
    let verifier = crate::verify::Verifier::new(settings).map_err(|e| {
        CliError::Input(format!(
            "the time-stamping authority {url} cannot be checked: {e} ([verify] trust names the TSA's root)"
        ))
    })?;
    let mut client = crate::pki::TspClient::new(url, std::sync::Arc::new(verifier));
    client.policy = config.timestamp.policy;
    client.timeout = std::time::Duration::from_secs(config.timestamp.timeout_seconds);
    client.retries = config.timestamp.retries;
    Ok(crate::pki::TimeStamping::Remote(client))
}

/// Files named in the configuration, read with their paths as labels.
fn read_labelled(paths: &[PathBuf], what: &str) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    paths
        .iter()
        .map(|p| {
            std::fs::read(p)
                .map(|bytes| (p.display().to_string(), bytes))
                .map_err(|e| CliError::Input(format!("cannot read {what} {}: {e}", p.display())))
        })
        .collect()
}

/// Verification settings from the configuration; with the service's own PKI, its root is
/// always trusted and its database answers for its own certificates.
fn verifier_settings(
    config: &Config,
    own: Option<std::sync::Arc<Pki>>,
) -> Result<crate::verify::Settings, CliError> {
    let mut settings = crate::verify::Settings {
        anchors: read_labelled(&config.verify.trust, "trust anchor")?,
        intermediates: read_labelled(&config.verify.intermediates, "intermediate certificate")?,
        crls: read_labelled(&config.verify.crls, "CRL")?,
        offline: config.verify.offline,
        required_role: config.verify.required_role.clone(),
        revocation_scope: config.verify.revocation_scope,
        ..Default::default()
    };
    if !config.verify.iin_pointers.is_empty() {
        settings.pointers.iin = config.verify.iin_pointers.clone();
    }
    if !config.verify.bin_pointers.is_empty() {
        settings.pointers.bin = config.verify.bin_pointers.clone();
    }
    if !config.verify.iin_elements.is_empty() {
        settings.pointers.iin_elements = config.verify.iin_elements.clone();
    }
    if !config.verify.bin_elements.is_empty() {
        settings.pointers.bin_elements = config.verify.bin_elements.clone();
    }
    if let Some(pki) = own {
        trust_own(&mut settings, &pki);
        settings.sources.push(pki);
    }
    Ok(settings)
}

/// The first line of a password file.
pub(crate) fn read_password(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        CliError::Input(format!(
            "cannot read the password file {}: {e}",
            path.display()
        ))
    })?);
    let first = Zeroizing::new(text.lines().next().unwrap_or_default().to_owned());
    if first.is_empty() {
        return Err(CliError::Input(format!(
            "the password file {} is empty",
            path.display()
        )));
    }
    Ok(first)
}

/// Creates a file that must not exist yet (nothing is overwritten); `private` makes it 0600.
pub(crate) fn create_new(path: &Path, private: bool) -> Result<File, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it already exists; choose another path".to_owned()
        } else {
            e.to_string()
        };
        CliError::Input(format!("cannot create {}: {why}", path.display()))
    })
}

/// The imported official key from `[sign]`, if configured: refused with a clear message (and the
/// service does not start) if it cannot sign now.
fn imported_official(config: &Config) -> Result<Option<crate::sign::SignerIdentity>, CliError> {
    let (Some(store), Some(password_file)) = (&config.sign.key_store, &config.sign.password_file)
    else {
        return Ok(None);
    };
    let pfx = std::fs::read(store).map_err(|e| {
        CliError::Input(format!(
            "cannot read the signing key store {}: {e}",
            store.display()
        ))
    })?;
    let password = read_password(password_file)?;
    crate::sign::identity_from_pkcs12(&pfx, &password, crate::time::now())
        .map(Some)
        .map_err(|e| CliError::Input(format!("signing key store {}: {e}", store.display())))
}

/// The service's own root as an anchor and its issuing CA as an intermediate.
fn trust_own(settings: &mut crate::verify::Settings, pki: &Pki) {
    settings.anchors.push((
        "the service's own root".into(),
        pki.root().certificate_der.clone(),
    ));
    settings.intermediates.push((
        "the service's own issuing CA".into(),
        pki.issuing().certificate_der.clone(),
    ));
}
