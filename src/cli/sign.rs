//! `qoltanba sign`: sign a file with a PKCS#12 key: CAdES-BES CMS for any file, an enveloped
//! XMLDSig (as NCA RK's Kalkan makes it) or a WS-Security SOAP envelope for XML. With
//! `--timestamp`, a CMS gets a signature time-stamp (CAdES-B-T) and, when the signer's
//! certificate is from the local PKI, its validation data (CAdES-B-LT).

use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use super::{create_new, emit, open_pki, read_password, time_stamping, CliError};
use crate::config::Config;
use crate::pki::{PkiError, TimeStamping};
use crate::sign::levels::{self, Level};
use crate::sign::{self, SignError, SignerIdentity};

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
    /// Add a signature time-stamp (CAdES-B-T) and, for a signer of the local PKI, the chain
    /// and revocation values (CAdES-B-LT). CMS only. The TSA: --tsa, else `[timestamp] url`,
    /// else the local PKI's own.
    #[arg(long)]
    timestamp: bool,
    /// The RFC 3161 TSA to ask (http:// URL); its token must chain to a trusted root
    /// (`[verify] trust` or the local PKI's). Implies --timestamp.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
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
        if (self.timestamp || self.tsa.is_some()) && format == Format::Xml {
            return Err(CliError::Input(
                "--timestamp is for CMS: time-stamped XML (XAdES levels) is not built yet; use --format cms".into(),
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

pub(super) async fn run(args: SignArgs, config: &Config) -> Result<(), CliError> {
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
    let signed = match signed {
        Ok(cms) if args.timestamp || args.tsa.is_some() => {
            let detached = args.detached.then_some(content.as_slice());
            time_stamped(cms, detached, &identity, &args, config).await
        }
        other => other,
    };
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

/// The CMS taken to B-T by the TSA the options and configuration name, and to B-LT when the
/// local PKI issued the signer's certificate (it then has its chain and revocation values).
async fn time_stamped(
    cms: Vec<u8>,
    detached: Option<&[u8]>,
    signer: &SignerIdentity,
    args: &SignArgs,
    config: &Config,
) -> Result<Vec<u8>, CliError> {
    let url = args.tsa.as_deref().or(config.timestamp.url.as_deref());
    let now = crate::time::now();
    let opened = if local_database_exists(config) {
        open_pki(config, false).await
    } else {
        Err(CliError::NotFound(format!(
            "no database at {}",
            config.database_url
        )))
    };
    let pki = match opened {
        Ok((pki, _)) => Some(pki),
        // Without a local PKI a remote TSA still gives B-T.
        Err(e) if url.is_some() => {
            tracing::info!(error = %e, "no local PKI: the signature gets a time-stamp only");
            None
        }
        Err(e) => {
            return Err(CliError::Input(format!(
                "--timestamp without a TSA URL (--tsa or [timestamp] url) uses the local PKI's \
                 own TSA, which cannot be opened: {e}"
            )))
        }
    };
    let stamping = time_stamping(config, url, pki.as_ref())?;
    let failed = |e: PkiError| CliError::Io(format!("time-stamping the signature: {e}"));
    match pki {
        Some(pki) => {
            let ours = signer.certificate.tbs_certificate.issuer
                == pki.issuing().certificate.tbs_certificate.subject;
            let target = if ours { Level::Lt } else { Level::T };
            pki.with_time_stamping(stamping)
                .extend(&cms, detached, target, now)
                .await
                .map_err(failed)
        }
        None => {
            let TimeStamping::Remote(client) = stamping else {
                return Err(CliError::Input("no TSA to ask".into()));
            };
            let data =
                levels::signature_time_stamp_data(&cms).map_err(|e| CliError::Io(e.to_string()))?;
            let token = client
                .stamp(crate::crypto::Digest::Sha256, &data)
                .await
                .map_err(failed)?;
            levels::with_signature_time_stamp(&cms, &token).map_err(|e| CliError::Io(e.to_string()))
        }
    }
}

/// Whether the configured database may hold a PKI: opening a SQLite URL that names no file
/// would create an empty database, which signing must not leave behind.
fn local_database_exists(config: &Config) -> bool {
    if !config.uses_sqlite() {
        return true;
    }
    let path = config.database_url.trim_start_matches("sqlite:");
    let path = path.strip_prefix("//").unwrap_or(path);
    let path = path.split('?').next().unwrap_or_default();
    std::path::Path::new(path).exists()
}
