//! The XML adapter of step 1, format: an XML document carrying XMLDSig signatures — enveloped,
//! as NCALayer's `signXml` makes them, several in Kalkan's nesting, or WS-Security in a SOAP
//! envelope as the e-government gateway (ШЭП) exchanges them — read into the format-neutral
//! [`Parsed`]. The format's own integrity checks happen here: every Reference is dereferenced,
//! transformed and digested (`signature`), and what the signature covers is held against the
//! document's policy (`scope`): a plain request must be signed whole, a SOAP message in its Body.
//! The bytes handed on as signed are the canonical SignedInfo.

mod keyinfo;
mod scope;
mod signature;

use super::cms::{MAX_CERTIFICATES, MAX_SIGNERS};
use super::evidence::{AlgorithmClaim, Parsed, SignerEvidence};
use super::identity::{numbers_in_xml, Pointers};
use super::input::CertCache;
use super::report::{Check, Step, SubIndication};
use crate::crypto::XmlSignatureMethod;
use crate::xml::{Document, Limits, NodeId, XmlError};

pub(super) use crate::xml::names::DSIG;
/// Largest XML document verified. A licence request is kilobytes; a SOAP message with
/// attachments inline a few megabytes.
pub(super) const MAX_XML_BYTES: usize = 16 * 1024 * 1024;
/// Canonical bytes produced for all References of one document together: each reference of
/// each signature canonicalises up to the whole document, so 64 signatures × 16 references of a
/// 16 MiB document would be 16 GB of work without this bound.
const CANONICAL_ALLOWANCE: usize = 64 * 1024 * 1024;

fn failed(code: &'static str, detail: impl Into<String>) -> Check {
    Check::failed(Step::Format, SubIndication::FormatFailure, code, detail)
}

fn unreadable(e: XmlError) -> Check {
    let code = match e {
        XmlError::Doctype => "XML_DOCTYPE_REFUSED",
        XmlError::TooLarge { .. }
        | XmlError::TooDeep { .. }
        | XmlError::TooManyAttributes { .. }
        | XmlError::TooManyNodes { .. } => "XML_TOO_LARGE",
        XmlError::DuplicateId(_) => "XML_DUPLICATE_ID",
        _ => "XML_MALFORMED",
    };
    failed(code, format!("not a readable XML document: {e}"))
}

/// Canonical bytes still allowed in this request.
pub(super) struct Allowance(usize);

impl Allowance {
    pub(super) fn spend(&mut self, bytes: usize) -> Result<(), Check> {
        self.0 = self.0.checked_sub(bytes).ok_or_else(|| {
            failed(
                "XML_TOO_COSTLY",
                format!(
                    "the references canonicalise to more than {CANONICAL_ALLOWANCE} bytes together"
                ),
            )
        })?;
        Ok(())
    }
}

/// Reads an XML document and its signatures. `Err`: the format check that fails.
pub(super) fn parse(input: &[u8], cache: &CertCache, pointers: &Pointers) -> Result<Parsed, Check> {
    let limits = Limits {
        max_bytes: MAX_XML_BYTES,
        ..Limits::default()
    };
    let doc = Document::parse(input, &limits).map_err(unreadable)?;
    let policy = scope::Policy::of(&doc)?;
    let signatures: Vec<NodeId> = doc
        .elements()
        .filter(|e| doc.is(*e, DSIG, "Signature"))
        .collect();
    if signatures.is_empty() {
        return Err(failed(
            "NO_SIGNATURE",
            "the XML document has no ds:Signature: nothing is signed",
        ));
    }
    if signatures.len() > MAX_SIGNERS {
        return Err(failed(
            "TOO_MANY_SIGNERS",
            format!(
                "the document has {} signatures; at most {MAX_SIGNERS} are verified",
                signatures.len()
            ),
        ));
    }
    let mut allowance = Allowance(CANONICAL_ALLOWANCE);
    let mut certificates = Vec::new();
    let mut signers = Vec::new();
    for (k, &node) in signatures.iter().enumerate() {
        // Kalkan's nesting: each later signature beside this one was added after it (and
        // covers it), so it is left out with this one by the enveloped-signature transform.
        let later: Vec<NodeId> = signatures[k + 1..]
            .iter()
            .copied()
            .filter(|s| doc.parent(*s) == doc.parent(node))
            .collect();
        let read = signature::read(&doc, node, &later, &mut allowance)?;
        let covers = policy.check(&doc, &read.targets)?;
        let carried = keyinfo::read(&doc, node, cache)?;
        for cert in carried.certificates {
            if !certificates
                .iter()
                .any(|c: &std::sync::Arc<crate::x509::Cert>| c.fingerprint == cert.fingerprint)
            {
                certificates.push(cert);
            }
        }
        if certificates.len() > MAX_CERTIFICATES {
            return Err(failed(
                "TOO_MANY_CERTIFICATES",
                format!("the signatures carry more than {MAX_CERTIFICATES} certificates"),
            ));
        }
        // ECDSA's r‖s becomes the DER the algorithm table verifies; a value of the wrong
        // length stays as it is and fails the signature step.
        let signature = XmlSignatureMethod::from_uri(&read.method)
            .and_then(|m| m.value_for_verification(&read.value).ok())
            .unwrap_or(read.value);
        signers.push(SignerEvidence {
            id: carried.id,
            algorithm: AlgorithmClaim::Uri(read.method),
            signed: read.signed,
            signature,
            claimed_signing_time: None,
            covers,
            timestamps: Vec::new(),
            archive_timestamps: Vec::new(),
            signing_certificate: Ok(None),
        });
    }
    let numbers = numbers_in_xml(&doc, policy.content(), &signatures, pointers);
    let summary = format!(
        "XML, {}, {} signature(s), {} certificate(s)",
        policy.name(),
        signers.len(),
        certificates.len()
    );
    Ok(Parsed {
        signers,
        certificates,
        // What the signatures cover was checked above; the document stands for the content.
        content: Some(std::sync::Arc::from(input)),
        numbers,
        summary,
        revocation: Default::default(),
    })
}
