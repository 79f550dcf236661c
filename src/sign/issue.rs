//! Issuing a document: validate the payload → canonical JSON (with its registration number) →
//! CAdES-BES by the official, or its XML form with an enveloped XMLDSig signature → stored in
//! the same transaction as its number.

use super::cades::{self, SignerIdentity};
use super::canonical::canonical;
use super::document::{document_json, Format, Kind, Payload};
use super::document_xml;
use super::SignError;
use crate::identity::Bin;
use crate::store::{ActAudit, DocumentRecord, SignedDocument, Store};

/// Why a document was not issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("invalid document: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The BIN in the official's certificate (OU "BIN…"), if any.
pub fn signer_bin(identity: &SignerIdentity) -> Option<String> {
    crate::x509::name::attribute(&identity.certificate.tbs_certificate.subject, "OU")
        .and_then(|ou| Bin::from_subject_ou(&ou))
        .map(|b| b.to_string())
}

/// What to sign: a document of a kind, its payload, how it is signed, whether the CMS leaves
/// the content out, and the id of a document this one corrects.
pub struct Order<'a> {
    pub kind: Kind,
    pub payload: &'a Payload,
    pub format: Format,
    pub detached: bool,
    pub supersedes: Option<&'a str>,
}

/// Signs and registers a document. `audit`: the signature's entry in the audit trail, stored
/// with the document (None: not audited, for benchmarks).
pub async fn issue(
    store: &Store,
    signer: &SignerIdentity,
    order: &Order<'_>,
    now: i64,
    audit: Option<&ActAudit>,
) -> Result<DocumentRecord, IssueError> {
    let &Order {
        kind,
        payload,
        format,
        detached,
        supersedes,
    } = order;
    let mut problems = payload.problems(kind);
    if format == Format::Xml && detached {
        // An enveloped signature lives inside the document it signs: there is nothing to detach.
        problems.push("detached applies to CMS only: an XML document carries its signature".into());
    }
    let authority_bin = payload.authority.bin.clone().unwrap_or_default();
    match signer_bin(signer) {
        Some(bin) if !authority_bin.is_empty() && bin != authority_bin => problems.push(format!(
            "authority.bin {authority_bin} is not the BIN of the signing official's authority ({bin})"
        )),
        None => problems.push("the signing certificate carries no BIN: it is not an authority's official".into()),
        _ => {}
    }
    if let Some(old) = supersedes {
        if store.document(old).await?.is_none() {
            problems.push(format!("supersedes: no document with id {old:?}"));
        }
    }
    if !problems.is_empty() {
        return Err(IssueError::Invalid(problems));
    }
    let issued_at = crate::time::rfc3339(now);
    let year = i64::from(
        der::DateTime::from_unix_duration(std::time::Duration::from_secs(
            u64::try_from(now).unwrap_or(0),
        ))
        .map(|d| d.year())
        .unwrap_or(1970),
    );
    let signer_serial =
        hex::encode_upper(signer.certificate.tbs_certificate.serial_number.as_bytes());
    let registered = store
        .register_document(
            &authority_bin,
            year,
            kind.name(),
            supersedes,
            now,
            |number| {
                let json = document_json(kind, number, &issued_at, payload, supersedes);
                let invalid = |e: String| IssueError::Invalid(vec![e]);
                // `bytes` are what the registry hashes and finds; `signed` what is handed out.
                let (bytes, signed) = match format {
                    Format::Cms => {
                        let bytes = canonical(&json).map_err(|e| invalid(e.to_string()))?;
                        let cms = cades::sign(&bytes, signer, detached, now)?;
                        (bytes, cms)
                    }
                    Format::Xml => {
                        let bytes =
                            document_xml::to_xml(&json).map_err(|e| invalid(e.to_string()))?;
                        let signed = super::xml::sign_enveloped(&bytes, signer)?;
                        (bytes, signed)
                    }
                };
                let sha256 = hex::encode(crate::crypto::sha256(&bytes));
                // CMS entries keep the wording they always had; XML ones say so at the end.
                let suffix = match format {
                    Format::Cms => "",
                    Format::Xml => " format xml",
                };
                let audit = audit.map(|a| {
                    a.entry(
                        now,
                        format!(
                            "signed document {number} kind {} sha256 {sha256}{suffix}",
                            kind.name()
                        ),
                    )
                });
                Ok::<_, IssueError>(SignedDocument {
                    canonical: bytes,
                    sha256,
                    signed,
                    format: format.name(),
                    detached,
                    signer_serial: signer_serial.clone(),
                    audit,
                })
            },
        )
        .await?;
    metrics::counter!(crate::telemetry::DOCUMENTS_SIGNED, "kind" => kind.name()).increment(1);
    registered
}
