//! `qoltanba verify`: verify a signed request from the command line.
//!
//! Exit status (a contract): 0 valid, 1 invalid, 2 indeterminate, 64 bad arguments (a malformed
//! IIN/BIN included), 65 unreadable or malformed input.

use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use super::{emit, open_pki, CliError};
use crate::config::Config;
use crate::identity::{Bin, Iin};
use crate::verify::{Report, Request, RevocationScope, Status, Verdict, Verifier};

pub(super) const EXIT_BAD_ARGUMENTS: u8 = 64;
pub(super) const EXIT_BAD_INPUT: u8 = 65;
/// Anything else (database, configuration): EX_SOFTWARE, never 1 or 2.
pub(super) const EXIT_INTERNAL: u8 = 70;

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The CMS signature (DER, PEM or base64).
    #[arg(long)]
    signature: PathBuf,
    /// The signed content, for a detached signature.
    #[arg(long)]
    content: Option<PathBuf>,
    /// Expected IIN (12 digits); otherwise read from the signed content.
    #[arg(long)]
    iin: Option<String>,
    /// Expected BIN (12 digits).
    #[arg(long)]
    bin: Option<String>,
    /// Trust anchor certificate (PEM or DER); repeatable. Default: the configured anchors and
    /// this service's own root (from its database).
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Extra intermediate certificate; repeatable.
    #[arg(long)]
    intermediate: Vec<PathBuf>,
    /// CRL file (PEM or DER); repeatable.
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// Validation time (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// Forbid network fetches (OCSP, CRL distribution points).
    #[arg(long)]
    offline: bool,
    /// Whose revocation status must be known: chain (every certificate but the trust anchor;
    /// the default) or leaf (the signer's only, when CA revocation lists are out of reach).
    #[arg(long)]
    revocation_scope: Option<RevocationScope>,
    /// Output: text (default) or json (the report on stdout).
    #[arg(long, default_value = "text")]
    format: String,
}

/// A verify failure before any verdict: its own exit codes.
enum Failure {
    Arguments(String),
    Input(String),
    Other(CliError),
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Failure::Other(e)
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::Input(format!("cannot read {what} {}: {e}", path.display())))
}

/// Files named on the command line; unreadable ones are bad input (exit 65).
fn labelled(paths: &[PathBuf], what: &str) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    super::read_labelled(paths, what).map_err(|e| Failure::Input(e.to_string()))
}

pub(super) async fn run(args: VerifyArgs, config: Config) -> ExitCode {
    match verify(args, config).await {
        Ok(code) => code,
        Err(Failure::Arguments(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_BAD_ARGUMENTS)
        }
        Err(Failure::Input(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
        // 1 and 2 mean invalid and indeterminate here: an internal failure must not look like a verdict.
        Err(Failure::Other(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

async fn verify(args: VerifyArgs, config: Config) -> Result<ExitCode, Failure> {
    let json = match args.format.as_str() {
        "json" => true,
        "text" => false,
        other => {
            return Err(Failure::Arguments(format!(
                "--format {other:?}: use text or json"
            )))
        }
    };
    let iin = args
        .iin
        .as_deref()
        .map(Iin::parse)
        .transpose()
        .map_err(|e| Failure::Arguments(e.to_string()))?;
    let bin = args
        .bin
        .as_deref()
        .map(Bin::parse)
        .transpose()
        .map_err(|e| Failure::Arguments(e.to_string()))?;
    let at = args
        .at
        .as_deref()
        .map(crate::time::parse_rfc3339)
        .transpose()
        .map_err(|e| Failure::Arguments(format!("--at: {e}")))?;
    let request = Request {
        signature: read(&args.signature, "the signature")?,
        content: args
            .content
            .as_deref()
            .map(|p| read(p, "the content"))
            .transpose()?,
        iin,
        bin,
        at,
        certificates: Vec::new(),
        crls: Vec::new(),
    };
    // Anchors named on the command line replace the configured ones and the service's own PKI
    // (no database needed); otherwise verify as the service does.
    let mut settings = if args.trust.is_empty() {
        let (pki, _) = open_pki(&config, false).await?;
        super::verifier_settings(&config, Some(Arc::new(pki)))?
    } else {
        let mut s = super::verifier_settings(&config, None)?;
        s.anchors = labelled(&args.trust, "trust anchor")?;
        s
    };
    settings
        .intermediates
        .extend(labelled(&args.intermediate, "intermediate certificate")?);
    settings.crls.extend(labelled(&args.crl, "CRL")?);
    settings.offline |= args.offline;
    if let Some(scope) = args.revocation_scope {
        settings.revocation_scope = scope;
    }
    let verifier = Verifier::new(settings).map_err(|e| Failure::Input(e.to_string()))?;
    let report = verifier.verify(&request).await;
    if report.unreadable() {
        let detail = report
            .checks
            .first()
            .map(|c| c.detail.clone())
            .unwrap_or_default();
        return Err(Failure::Input(format!(
            "{}: {detail}",
            args.signature.display()
        )));
    }
    let output = if json {
        serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::Other(CliError::Io(e.to_string())))?
            + "\n"
    } else {
        text(&report)
    };
    emit(&output)?;
    Ok(ExitCode::from(match report.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        Verdict::Indeterminate => 2,
    }))
}

/// The report for a person.
fn text(report: &Report) -> String {
    let verdict = format!(
        "{:?} ({}{})",
        report.verdict,
        report.indication,
        report
            .sub_indication
            .map(|s| format!("/{s}"))
            .unwrap_or_default()
    )
    .to_lowercase();
    let mut out = format!(
        "verdict: {verdict}\nvalidation time: {}\n",
        report.validation_time
    );
    for check in &report.checks {
        let mark = match check.status {
            Status::Passed => "ok  ",
            Status::Skipped => "skip",
            Status::Indeterminate => "??  ",
            Status::Failed => "FAIL",
        };
        out.push_str(&format!("  {mark} {:<10} {}\n", check.id, check.detail));
    }
    for (i, s) in report.signers.iter().enumerate() {
        out.push_str(&format!(
            "signer {}: {} IIN {} BIN {} ({} key; roles {:?}); serial {}; {}; signed {}\n",
            i + 1,
            s.subject.cn.as_deref().unwrap_or("?"),
            s.subject.iin.as_deref().unwrap_or("-"),
            s.subject.bin.as_deref().unwrap_or("-"),
            s.key_kind,
            s.roles,
            s.serial.as_deref().unwrap_or("?"),
            s.algorithm.as_deref().unwrap_or("algorithm unknown"),
            s.signing_time.as_deref().unwrap_or("(no signingTime)")
        ));
        if !s.covers.is_empty() {
            out.push_str(&format!("  covers {}\n", s.covers.join(", ")));
        }
        for t in &s.timestamps {
            out.push_str(&format!(
                "  {} time-stamp {} by {} (policy {}): {}, {}\n",
                t.kind,
                t.gen_time.as_deref().unwrap_or("?"),
                t.tsa.as_deref().unwrap_or("?"),
                t.policy.as_deref().unwrap_or("?"),
                match t.status {
                    Status::Passed => "passed",
                    Status::Skipped => "skipped",
                    Status::Indeterminate => "indeterminate",
                    Status::Failed => "failed",
                },
                t.detail
            ));
        }
        if let Some(proof) = &s.proof_of_existence {
            out.push_str(&format!("  proof of existence {proof}\n"));
        }
    }
    if let Some(r) = &report.refusal {
        out.push_str(&format!(
            "refusal (ru): {}\nrefusal (kk): {}\nrefusal (en): {}\n",
            r.ru, r.kk, r.en
        ));
    }
    out
}
