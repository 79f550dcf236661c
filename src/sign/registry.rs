//! Which registered document a signature is over. The service's own documents are found by the
//! SHA-256 of their signed bytes, whether an auditor brings the detached content with the
//! signature, a CMS that carries it, or an XML document signed in place — whose unsigned form is
//! rebuilt canonically ([`document_xml::registered_form`]), so a copy that a tool re-serialised
//! is still found, and any change to the content is not.

use std::borrow::Cow;

use der::{Decode, Encode};

use super::document::Format;
use super::document_xml;
use crate::store::{DocumentRecord, Store};

/// What the registry says of a signature's content.
pub struct Match {
    /// SHA-256 (hex) of the signed content, when there is content: given (detached) or carried.
    pub sha256: Option<String>,
    /// The registered document whose signed bytes these are, if any.
    pub record: Option<DocumentRecord>,
}

/// The registry entry for `signature`'s content: `content` when the signature is detached, else
/// what the CMS carries, else (an XML document of ours) its unsigned form. A registry that
/// cannot be read answers "not registered" (and says why in the log): the one asking still gets
/// the verdict on the signature itself.
pub async fn find(store: &Store, signature: &[u8], content: Option<&[u8]>) -> Match {
    let mut signed = content
        .map(Cow::Borrowed)
        .or_else(|| attached_content(signature).map(Cow::Owned));
    if signed.is_none() {
        signed = xml_form(signature).await.map(Cow::Owned);
    }
    let Some(signed) = signed else {
        return Match {
            sha256: None,
            record: None,
        };
    };
    let sha256 = hex::encode(crate::crypto::sha256(&signed));
    let record = store.document_by_sha256(&sha256).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "registry lookup failed");
        None
    });
    Match {
        sha256: Some(sha256),
        record,
    }
}

/// Above this, an XML document is read on the blocking pool rather than on the runtime's thread.
const INLINE_XML: usize = 256 * 1024;

/// The unsigned form of an XML document of ours. Anything without our namespace is passed over
/// unread (most XML an auditor brings is someone else's); a large one is read off the runtime's
/// threads, as the verifier reads it.
async fn xml_form(signature: &[u8]) -> Option<Vec<u8>> {
    let namespace = document_xml::NAMESPACE.as_bytes();
    if !signature.windows(namespace.len()).any(|w| w == namespace) {
        return None;
    }
    if signature.len() <= INLINE_XML {
        return document_xml::registered_form(signature);
    }
    let copy = signature.to_vec();
    tokio::task::spawn_blocking(move || document_xml::registered_form(&copy))
        .await
        .ok()
        .flatten()
}

/// The content a CMS SignedData carries (attached); None for anything else.
fn attached_content(cms: &[u8]) -> Option<Vec<u8>> {
    let der = crate::x509::decode_der(cms)?;
    // The archive code's SignedData: an LT/LTA signature's OCSP responses (id-ri-ocsp-response
    // in `crls`) are kept as they are, which `cms`'s own type refuses to decode.
    let sd = crate::x509::cms_archive::SignedData::from_content_info(&der).ok()?;
    let any = sd.encap_content_info.econtent?;
    der::asn1::OctetString::from_der(&any.to_der().ok()?)
        .ok()
        .map(|o| o.as_bytes().to_vec())
}

/// The document's JSON, read from the registered bytes: the canonical JSON itself, or the JSON
/// the unsigned XML form was written from.
pub fn document_of(record: &DocumentRecord) -> Result<serde_json::Value, String> {
    match Format::parse(&record.format)? {
        Format::Cms => serde_json::from_slice(&record.canonical).map_err(|e| e.to_string()),
        Format::Xml => document_xml::to_json(&record.canonical).map_err(|e| e.to_string()),
    }
}
