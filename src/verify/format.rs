//! Step 1, format: the input is CMS SignedData (DER, PEM or base64), attached or detached.

use base64::Engine;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use std::sync::Arc;

use super::cert::Cert;
use super::report::{Check, SubIndication};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// Input larger than this is not a signed request.
pub const MAX_SIGNATURE_BYTES: usize = 32 * 1024 * 1024;

/// What the later steps work from.
pub struct Parsed {
    pub signed_data: SignedData,
    pub certificates: Vec<Arc<Cert>>,
    /// The signed content: encapsulated, or the detached content the caller supplied.
    pub content: Option<Vec<u8>>,
    pub detached: bool,
}

/// DER bytes from DER, PEM (any label) or base64 text.
pub fn decode_input(input: &[u8]) -> Option<Vec<u8>> {
    if input.first() == Some(&0x30) {
        return Some(input.to_vec());
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    // PEM, possibly after other lines (OpenSSL writes "Bag Attributes" before it): the first block.
    if let Some(start) = text.find("-----BEGIN") {
        let block = &text[start..];
        let end = block
            .find("-----END")
            .and_then(|e| block[e + 8..].find("-----").map(|f| e + 8 + f + 5))?;
        return der::pem::decode_vec(&block.as_bytes()[..end])
            .ok()
            .map(|(_, der)| der);
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
        .filter(|der| der.first() == Some(&0x30))
}

fn unreadable(detail: impl Into<String>) -> Check {
    Check::failed("format", SubIndication::FormatFailure, "UNREADABLE", detail)
}

/// Parses the signature. A failed check means the input is not a usable SignedData.
pub fn parse(signature: &[u8], detached_content: Option<&[u8]>) -> Result<Parsed, Check> {
    if signature.len() > MAX_SIGNATURE_BYTES {
        return Err(unreadable(format!(
            "the signature is larger than {MAX_SIGNATURE_BYTES} bytes"
        )));
    }
    let der = decode_input(signature)
        .ok_or_else(|| unreadable("the signature is neither DER, PEM nor base64 CMS"))?;
    let info = ContentInfo::from_der(&der)
        .map_err(|e| unreadable(format!("not a CMS ContentInfo (DER): {e}")))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(unreadable(format!(
            "the CMS content is {}, not SignedData",
            info.content_type
        )));
    }
    let signed_data: SignedData = info
        .content
        .decode_as()
        .map_err(|e| unreadable(format!("malformed SignedData: {e}")))?;
    let mut certificates = Vec::new();
    for choice in signed_data.certificates.iter().flat_map(|set| set.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(c) = choice {
            let cert = Cert::from_parsed(c.clone()).map_err(|e| {
                unreadable(format!("a certificate in the CMS does not encode: {e}"))
            })?;
            certificates.push(Arc::new(cert));
        }
    }
    let encapsulated = match &signed_data.encap_content_info.econtent {
        None => None,
        Some(any) => Some(
            der::asn1::OctetString::from_der(&any.to_der().map_err(|e| unreadable(e.to_string()))?)
                .map(|o| o.as_bytes().to_vec())
                .map_err(|e| {
                    unreadable(format!("encapsulated content is not an OCTET STRING: {e}"))
                })?,
        ),
    };
    let (content, detached) = match (encapsulated, detached_content) {
        (Some(inner), Some(outer)) if inner != outer => {
            return Err(Check::failed(
                "format",
                SubIndication::HashFailure,
                "CONTENT_MISMATCH",
                "the content supplied differs from the content inside the signature",
            ))
        }
        (Some(inner), _) => (Some(inner), false),
        (None, Some(outer)) => (Some(outer.to_vec()), true),
        (None, None) => (None, true),
    };
    Ok(Parsed {
        signed_data,
        certificates,
        content,
        detached,
    })
}

/// The format check once parsing succeeded: at least one SignerInfo, content available.
pub fn check(parsed: &Parsed) -> Check {
    let signers = parsed.signed_data.signer_infos.0.len();
    if signers == 0 {
        return Check::failed(
            "format",
            SubIndication::FormatFailure,
            "NO_SIGNER",
            "the SignedData has no SignerInfo: nothing is signed",
        );
    }
    if parsed.content.is_none() {
        return Check::failed(
            "format",
            SubIndication::FormatFailure,
            "NO_CONTENT",
            "detached signature: supply the signed content",
        );
    }
    let kind = if parsed.detached {
        "detached"
    } else {
        "attached"
    };
    Check::passed(
        "format",
        format!(
            "CMS SignedData, {kind} content, {signers} signer(s), {} certificate(s)",
            parsed.certificates.len()
        ),
    )
}
