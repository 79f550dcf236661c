//! Step 1, format: recognise the input and hand it to its adapter, which reads it into the
//! format-neutral [`Parsed`]: CMS SignedData (`cms`) or an XML document with XMLDSig
//! signatures (`xml`). Nothing after this step knows which one it was.

use super::cms;
use super::evidence::Parsed;
use super::identity::{self, Pointers};
use super::input::CertCache;
use super::report::{Check, Step, SubIndication};
use super::xml;

/// Reads the signature (and the detached content, where the format has one).
pub(super) fn parse(
    signature: &[u8],
    detached_content: Option<&[u8]>,
    cache: &CertCache,
    pointers: &Pointers,
) -> Result<Parsed, Check> {
    if crate::xml::looks_like_xml(signature) {
        if detached_content.is_some() {
            return Err(Check::failed(
                Step::Format,
                SubIndication::FormatFailure,
                "CONTENT_NOT_EXPECTED",
                "the signature is an XML document, which carries what it signs: content is only for a detached CMS",
            ));
        }
        return xml::parse(signature, cache, pointers);
    }
    let mut parsed = cms::parse(signature, detached_content, cache)?;
    if let Some(content) = &parsed.content {
        parsed.numbers = identity::numbers_in(content, pointers);
    }
    Ok(parsed)
}

/// The format check once parsing succeeded: at least one signer, content available. (Its
/// passing detail is the summary, taken from `parsed`.)
pub(super) fn check(parsed: &mut Parsed) -> Check {
    if parsed.signers.is_empty() {
        return Check::failed(
            Step::Format,
            SubIndication::FormatFailure,
            "NO_SIGNER",
            "the SignedData has no SignerInfo: nothing is signed",
        );
    }
    if parsed.content.is_none() {
        return Check::failed(
            Step::Format,
            SubIndication::FormatFailure,
            "NO_CONTENT",
            "detached signature: supply the signed content",
        );
    }
    Check::passed(Step::Format, std::mem::take(&mut parsed.summary))
}
