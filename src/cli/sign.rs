//! `qoltanba sign`: sign any file as CAdES-BES CMS with a PKCS#12 key.

use clap::Args;
use std::io::Write;
use std::path::PathBuf;

use super::{create_new, emit, read_password, CliError};
use crate::sign::{self, SignError};

#[derive(Debug, Args)]
pub(super) struct SignArgs {
    /// The file to sign.
    #[arg(long)]
    input: PathBuf,
    /// The signer's PKCS#12 key store (modern, or NCA's legacy 3DES/RC2 format).
    #[arg(long)]
    key: PathBuf,
    /// File holding the key store's password (first line).
    #[arg(long)]
    password_file: PathBuf,
    /// Leave the content out of the CMS (the verifier then needs the file itself).
    #[arg(long)]
    detached: bool,
    /// Where to write the CMS (DER); must not exist yet.
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn run(args: SignArgs) -> Result<(), CliError> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path)
            .map_err(|e| CliError::Input(format!("cannot read {what} {}: {e}", path.display())))
    };
    let content = read(&args.input, "the input")?;
    let pfx = read(&args.key, "the key store")?;
    let password = read_password(&args.password_file)?;
    let identity =
        sign::identity_from_pkcs12(&pfx, &password, crate::time::now()).map_err(|e| match e {
            SignError::WrongPassword => CliError::Input(format!(
                "wrong password for the key store {}",
                args.key.display()
            )),
            SignError::UnusableKey(why) => {
                CliError::Input(format!("{}: {why}", args.key.display()))
            }
            SignError::KeyStore(why) => CliError::Input(format!("{}: {why}", args.key.display())),
            other => CliError::Io(other.to_string()),
        })?;
    let mut out = create_new(&args.out, false)?;
    let cms = sign::cades::sign(&content, &identity, args.detached, crate::time::now())
        .map_err(|e| CliError::Io(e.to_string()));
    let written = cms.and_then(|cms| {
        out.write_all(&cms)
            .and_then(|_| out.sync_all())
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", args.out.display())))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&args.out);
        return Err(e);
    }
    let subject = crate::x509::name::display(&identity.certificate.tbs_certificate.subject);
    emit(&format!(
        "signed {} as {subject}: {}\n",
        args.input.display(),
        args.out.display()
    ))
}
