//! Step 1, format: recognise the input and hand it to its adapter, which reads it into the
//! format-neutral [`Parsed`]. CMS is the one adapter today; a new format (XMLDSig) is a new
//! adapter module and a new arm here, and nothing after this step changes.

use super::cms;
use super::evidence::Parsed;
use super::input::CertCache;
use super::report::{Check, Step, SubIndication};

/// Reads the signature (and the detached content, where the format has one).
pub(super) fn parse(
    signature: &[u8],
    detached_content: Option<&[u8]>,
    cache: &CertCache,
) -> Result<Parsed, Check> {
    cms::parse(signature, detached_content, cache)
}

/// The format check once parsing succeeded: at least one signer, content available.
pub(super) fn check(parsed: &Parsed) -> Check {
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
    Check::passed(Step::Format, parsed.summary.clone())
}
