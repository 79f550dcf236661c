//! `qoltanba pki …`: the test PKI from the command line.

use clap::{Args, Subcommand};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::audit::Trail;
use super::{create_new, emit, open_pki, read_password, CliError};
use crate::config::Config;
use crate::crypto::KeyAlgorithm;
use crate::pki::{certificate, IssueRequest, RevocationReason};
use crate::time::rfc3339;

#[derive(Debug, Subcommand)]
pub(super) enum PkiCommand {
    /// Create the test PKI (root CA, issuing CA, OCSP responder) if the database has none.
    Init,
    /// Issue a certificate and write its PKCS#12 key store.
    Issue(Box<IssueArgs>),
    /// Revoke a certificate (reason certificateHold suspends it).
    Revoke {
        #[arg(long)]
        serial: String,
        /// RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged,
        /// superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// Release a certificate from hold.
    Unhold {
        #[arg(long)]
        serial: String,
    },
    /// List issued certificates, newest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Write the issuing CA's current CRL (DER unless --pem).
    Crl {
        #[arg(long)]
        out: PathBuf,
        /// The delta CRL instead of the full one.
        #[arg(long)]
        delta: bool,
        /// CA id (default: the issuing CA).
        #[arg(long)]
        ca: Option<String>,
        #[arg(long)]
        pem: bool,
    },
    /// Write the CA certificates, issuing CA then root, as PEM.
    Ca {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(super) struct IssueArgs {
    /// Certificate profile (pki/profiles/NAME.toml), e.g. individual-sign.
    #[arg(long)]
    profile: String,
    #[arg(long)]
    iin: Option<String>,
    #[arg(long)]
    bin: Option<String>,
    /// Organisation name (legal-entity profiles).
    #[arg(long)]
    org: Option<String>,
    #[arg(long)]
    surname: Option<String>,
    #[arg(long)]
    given_name: Option<String>,
    /// Goes into GIVENNAME, as NCA does.
    #[arg(long)]
    patronymic: Option<String>,
    /// CN for non-person subjects (information systems).
    #[arg(long)]
    common_name: Option<String>,
    #[arg(long)]
    uid: Option<String>,
    /// rsa2048, rsa3072, rsa4096, p256, ed25519, gost2015 or gost2004; default: the issuing CA's key type.
    #[arg(long)]
    key: Option<String>,
    #[arg(long)]
    days: Option<u32>,
    /// Where to write the PKCS#12 (must not exist yet).
    #[arg(long)]
    out: PathBuf,
    /// File holding the PKCS#12 password (first line).
    #[arg(long)]
    password_file: PathBuf,
    /// Legacy PKCS#12 (3DES + RC2-40 + SHA-1 MAC) as real NCA key stores use.
    #[arg(long)]
    legacy: bool,
    /// Also write the certificate here: DER if the name ends in .cer or .der, else PEM.
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Accept an IIN/BIN whose check digit or structure is wrong (NCA's test numbers are).
    #[arg(long)]
    allow_invalid_check_digit: bool,
}

pub(super) async fn run(
    command: PkiCommand,
    config: Config,
    trail: &Trail,
) -> Result<(), CliError> {
    match command {
        PkiCommand::Init => {
            let (pki, created) = open_pki(&config, true).await?;
            let verb = if created {
                "created"
            } else {
                "already present"
            };
            emit(&format!(
                "test PKI {verb}: root {}, issuing CA {}\ntransparency log key: {}\n",
                pki.root().id,
                pki.issuing().id,
                pki.log_signer().verifier().encode()
            ))?;
            Ok(())
        }
        PkiCommand::Issue(args) => issue(*args, config, trail).await,
        PkiCommand::Revoke { serial, reason } => {
            let reason: RevocationReason = reason.parse().map_err(crate::pki::PkiError::from)?;
            let (pki, _) = open_pki(&config, false).await?;
            let rec = pki.revoke(&serial, reason, trail.act().as_ref()).await?;
            trail.acted();
            emit(&format!(
                "{} {} ({})\n",
                rec.serial,
                rec.status.as_str(),
                reason
            ))?;
            Ok(())
        }
        PkiCommand::Unhold { serial } => {
            let (pki, _) = open_pki(&config, false).await?;
            let rec = pki.release_hold(&serial, trail.act().as_ref()).await?;
            trail.acted();
            emit(&format!("{} {}\n", rec.serial, rec.status.as_str()))?;
            Ok(())
        }
        PkiCommand::List { limit } => {
            if !(1..=100_000).contains(&limit) {
                return Err(CliError::Input("--limit must be 1..=100000".into()));
            }
            let (pki, _) = open_pki(&config, false).await?;
            emit(&format!(
                "{:<40}  {:<7}  {:<22}  {:<20}  subject\n",
                "serial", "status", "profile", "not_after"
            ))?;
            for r in pki.list(limit, 0).await? {
                emit(&format!(
                    "{:<40}  {:<7}  {:<22}  {:<20}  {}\n",
                    r.serial,
                    r.status.as_str(),
                    r.profile,
                    rfc3339(r.not_after),
                    r.subject
                ))?;
            }
            Ok(())
        }
        PkiCommand::Crl {
            out,
            delta,
            ca,
            pem,
        } => {
            let (pki, _) = open_pki(&config, false).await?;
            let id = ca.unwrap_or_else(|| pki.issuing().id.clone());
            let der = pki.crl(&id, delta).await?;
            let bytes = if pem {
                der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der)
                    .map_err(|e| CliError::Io(e.to_string()))?
                    .into_bytes()
            } else {
                der
            };
            write_file(&out, &bytes)
        }
        PkiCommand::Ca { out } => {
            let (pki, _) = open_pki(&config, false).await?;
            let pem = pki
                .ca_chain()
                .into_iter()
                .map(certificate::pem)
                .collect::<Result<String, _>>()?;
            write_file(&out, pem.as_bytes())
        }
    }
}

async fn issue(args: IssueArgs, config: Config, trail: &Trail) -> Result<(), CliError> {
    let key: Option<KeyAlgorithm> = args
        .key
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: crate::crypto::CryptoError| CliError::Input(e.to_string()))?;
    let password = read_password(&args.password_file)?;
    // Claim the output files before issuing: a certificate whose key store cannot be written
    // would be a certificate whose private key is lost.
    let mut out = create_new(&args.out, true)?;
    let cert_out = match &args.cert_out {
        Some(path) => match create_new(path, false) {
            Ok(f) => Some((path.clone(), f)),
            Err(e) => {
                let _ = std::fs::remove_file(&args.out);
                return Err(e);
            }
        },
        None => None,
    };
    let cleanup = |cert_out: &Option<(PathBuf, File)>| {
        let _ = std::fs::remove_file(&args.out);
        if let Some((path, _)) = cert_out {
            let _ = std::fs::remove_file(path);
        }
    };
    let request = IssueRequest {
        profile: args.profile.clone(),
        iin: args.iin.clone(),
        bin: args.bin.clone(),
        org: args.org.clone(),
        surname: args.surname.clone(),
        given_name: args.given_name.clone(),
        patronymic: args.patronymic.clone(),
        common_name: args.common_name.clone(),
        uid: args.uid.clone(),
        key,
        days: args.days,
        allow_invalid_check_digit: args.allow_invalid_check_digit,
        password: Some(password),
        legacy: args.legacy,
    };
    let issued = async {
        let (pki, _) = open_pki(&config, false).await?;
        Ok::<_, CliError>(pki.issue(&request, trail.act().as_ref()).await?)
    }
    .await;
    let issued = match issued {
        Ok(i) => {
            trail.acted();
            i
        }
        Err(e) => {
            cleanup(&cert_out);
            return Err(e);
        }
    };
    let write = |file: &mut File, bytes: &[u8], path: &Path| {
        file.write_all(bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
    };
    if let Err(e) = write(&mut out, &issued.pkcs12, &args.out) {
        // Half a key store is worse than none: remove it, and say the certificate exists.
        cleanup(&cert_out);
        return Err(CliError::Io(format!(
            "{e}; certificate {} was issued but its key store could not be saved: revoke it",
            issued.record.serial
        )));
    }
    if let Some((path, mut file)) = cert_out {
        let der_wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("cer") || e.eq_ignore_ascii_case("der"));
        let bytes = if der_wanted {
            issued.record.certificate.clone()
        } else {
            certificate::pem(&issued.record.certificate)?.into_bytes()
        };
        write(&mut file, &bytes, &path)?;
    }
    let r = &issued.record;
    emit(&format!("serial     {}\n", r.serial))?;
    emit(&format!("subject    {}\n", r.subject))?;
    emit(&format!("profile    {}\n", r.profile))?;
    emit(&format!(
        "valid      {} .. {}\n",
        rfc3339(r.not_before),
        rfc3339(r.not_after)
    ))?;
    emit(&format!("key store  {}\n", args.out.display()))?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
}

impl PkiCommand {
    /// How the audit trail names this command and its target; None for read-only commands.
    pub(super) fn audit_label(&self) -> Option<(&'static str, String)> {
        match self {
            PkiCommand::Init => Some(("cli pki init", String::new())),
            PkiCommand::Issue(args) => Some(("cli pki issue", format!("profile {}", args.profile))),
            PkiCommand::Revoke { serial, reason } => {
                Some(("cli pki revoke", format!("serial {serial} reason {reason}")))
            }
            PkiCommand::Unhold { serial } => Some(("cli pki unhold", format!("serial {serial}"))),
            _ => None,
        }
    }
}
