//! `qoltanba sign`: sign a file with a PKCS#12 key: CAdES-BES CMS for any file, an enveloped
//! XMLDSig (as NCA RK's Kalkan makes it) or a WS-Security SOAP envelope for XML.

use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use super::{create_new, emit, read_password, CliError};
use crate::sign::{self, SignError};

/// What `qoltanba sign` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    /// An enveloped XMLDSig appended to the document's root, as NCA RK's Kalkan (`signXml`)
    /// makes it.
    Xml,
    /// CAdES-BES CMS (DER), attached or --detached.
    Cms,
}

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
    /// What to make. Default: xml when the input is XML (after an optional byte order mark and
    /// whitespace its first byte is `<`), else cms; cms with --detached.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Sign a SOAP 1.1/1.2 envelope with WS-Security as the e-government gateway (ШЭП) expects:
    /// a wsse:Security header with the certificate and a signature over the Body. Implies
    /// --format xml.
    #[arg(long)]
    wsse: bool,
    /// Leave the content out of the CMS (the verifier then needs the file itself). CMS only.
    #[arg(long)]
    detached: bool,
    /// Where to write the CMS (DER) or the signed XML; must not exist yet.
    #[arg(long)]
    out: PathBuf,
}

impl SignArgs {
    /// The format to make, from the options and the input; conflicting options are refused.
    fn format(&self, content: &[u8]) -> Result<Format, CliError> {
        let format = match self.format {
            Some(f) => f,
            None if self.wsse => Format::Xml,
            None if self.detached => Format::Cms,
            None if sign::xml::looks_like_xml(content) => Format::Xml,
            None => Format::Cms,
        };
        if self.wsse && format == Format::Cms {
            return Err(CliError::Input(
                "--wsse signs a SOAP envelope in XML; it cannot be used with --format cms".into(),
            ));
        }
        if self.detached && format == Format::Xml {
            return Err(CliError::Input(
                "--detached is for CMS; an XML signature is enveloped in the document (use --format cms for a detached CMS)".into(),
            ));
        }
        Ok(format)
    }
}

pub(super) fn run(args: SignArgs) -> Result<(), CliError> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path)
            .map_err(|e| CliError::Input(format!("cannot read {what} {}: {e}", path.display())))
    };
    let content = read(&args.input, "the input")?;
    let format = args.format(&content)?;
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
    let signed = match format {
        Format::Cms => sign::cades::sign(&content, &identity, args.detached, crate::time::now()),
        Format::Xml if args.wsse => sign::xml::sign_wsse(&content, &identity),
        Format::Xml => sign::xml::sign_enveloped(&content, &identity),
    }
    .map_err(|e| match e {
        SignError::NotXml | SignError::Xml(_) | SignError::Soap(_) => {
            CliError::Input(format!("{}: {e}", args.input.display()))
        }
        other => CliError::Io(other.to_string()),
    });
    let written = signed.and_then(|signed| {
        out.write_all(&signed)
            .and_then(|_| out.sync_all())
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", args.out.display())))
    });
    if let Err(e) = written {
        // Nothing is left behind when signing is refused.
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
