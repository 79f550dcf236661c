//! Which registered document a signature is over. The service's own documents are found by the
//! SHA-256 of their signed bytes, whether an auditor brings the detached content with the
//! signature or a CMS that carries it.

use std::borrow::Cow;

use der::{Decode, Encode};

use crate::store::{DocumentRecord, Store};

/// What the registry says of a signature's content.
pub struct Match {
    /// SHA-256 (hex) of the signed content, when there is content: given (detached) or carried.
    pub sha256: Option<String>,
    /// The registered document whose signed bytes these are, if any.
    pub record: Option<DocumentRecord>,
}

/// The registry entry for `signature`'s content: `content` when the signature is detached, else
/// what the CMS carries. A registry that cannot be read answers "not registered" (and says why
/// in the log): the one asking still gets the verdict on the signature itself.
pub async fn find(store: &Store, signature: &[u8], content: Option<&[u8]>) -> Match {
    let signed = content
        .map(Cow::Borrowed)
        .or_else(|| attached_content(signature).map(Cow::Owned));
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

/// The content a CMS SignedData carries (attached); None for anything else.
fn attached_content(cms: &[u8]) -> Option<Vec<u8>> {
    let der = crate::x509::decode_der(cms)?;
    let info = cms::content_info::ContentInfo::from_der(&der).ok()?;
    let sd: cms::signed_data::SignedData = info.content.decode_as().ok()?;
    let any = sd.encap_content_info.econtent?;
    der::asn1::OctetString::from_der(&any.to_der().ok()?)
        .ok()
        .map(|o| o.as_bytes().to_vec())
}
