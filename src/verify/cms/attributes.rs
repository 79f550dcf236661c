//! A SignerInfo read into a [`SignerEvidence`]: its identifier and algorithms, and the bytes its
//! signature covers once the signed attributes prove the content (RFC 5652 §5.3–5.4, §11).

use std::collections::HashMap;
use std::sync::Arc;

use cms::signed_data::{SignerIdentifier, SignerInfo};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNING_TIME};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};

use crate::crypto::Digest;
use crate::verify::evidence::{AlgorithmClaim, IntegrityFailure, SignerEvidence, SignerId};
use crate::verify::report::SubIndication;

/// The single value of a signed attribute; an attribute present twice, or with several
/// values, is refused: which one would count?
pub(super) fn single_value(
    si: &SignerInfo,
    oid: ObjectIdentifier,
) -> Result<Option<&der::Any>, String> {
    let Some(attrs) = &si.signed_attrs else {
        return Ok(None);
    };
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(format!("signed attribute {oid} appears more than once"));
    }
    Ok(attr.values.iter().next())
}

fn format_failure(code: &'static str, detail: impl Into<String>) -> IntegrityFailure {
    IntegrityFailure::new(SubIndication::FormatFailure, code, detail)
}

/// What the SignerInfos of one SignedData share: its content type and content, and the
/// content's digest under each algorithm asked for so far. Computed once per algorithm, not
/// once per signer: 64 SignerInfos over a 12 MB content would otherwise hash 768 MB (seconds
/// of Streebog) before any budget applies.
pub(super) struct Shared {
    pub econtent_type: ObjectIdentifier,
    pub content: Option<Arc<[u8]>>,
    digests: HashMap<ObjectIdentifier, Option<Vec<u8>>>,
}

impl Shared {
    pub(super) fn new(econtent_type: ObjectIdentifier, content: Option<&[u8]>) -> Shared {
        Shared {
            econtent_type,
            content: content.map(Arc::from),
            digests: HashMap::new(),
        }
    }

    /// The content's digest under `algorithm`, or None if the table cannot compute it.
    fn digest(&mut self, algorithm: ObjectIdentifier, content: &[u8]) -> Option<&[u8]> {
        self.digests
            .entry(algorithm)
            .or_insert_with(|| Digest::from_oid(&algorithm).and_then(|d| d.digest(content)))
            .as_deref()
    }
}

/// The describing of one SignerInfo. `raw_attrs`: its signed attributes as received, retagged
/// as the SET they are signed as; `shared`: what the SignedData carries.
/// Takes the SignerInfo: its identifier, algorithm and signature move into the evidence
/// rather than being copied (a Name is a dozen allocations).
pub(super) fn evidence(
    si: SignerInfo,
    raw_attrs: Option<Vec<u8>>,
    shared: &mut Shared,
) -> SignerEvidence {
    let signed = signed_bytes(&si, raw_attrs, shared);
    let timestamps = time_stamp_tokens(&si);
    let signing_certificate = super::ess::signing_certificate(&si);
    let id = match si.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => SignerId::IssuerAndSerial {
            issuer: ias.issuer,
            serial: ias.serial_number,
        },
        SignerIdentifier::SubjectKeyIdentifier(ski) => SignerId::KeyId(ski.0.into_bytes()),
    };
    SignerEvidence {
        id,
        algorithm: AlgorithmClaim::Identifiers {
            digest: si.digest_alg.oid,
            signature: si.signature_algorithm,
        },
        claimed_signing_time: signed.as_ref().ok().and_then(|(_, time)| *time),
        signed: signed.map(|(bytes, _)| bytes),
        signature: si.signature.into_bytes(),
        covers: Vec::new(),
        timestamps,
        // Filled by the adapter, which holds the whole SignedData (archive.rs).
        archive_timestamps: Vec::new(),
        signing_certificate,
    }
}

/// The values of the SignerInfo's id-aa-signatureTimeStampToken unsigned attributes, each a
/// token's DER (unreadable ones are kept as they are: the timestamp step reports them).
fn time_stamp_tokens(si: &SignerInfo) -> Vec<Vec<u8>> {
    let Some(attrs) = &si.unsigned_attrs else {
        return Vec::new();
    };
    attrs
        .iter()
        .filter(|a| a.oid == crate::verify::timestamp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|a| a.values.iter())
        .map(|v| v.to_der().unwrap_or_default())
        .collect()
}

/// The bytes the signature covers and the claimed signing time, or what is wrong.
fn signed_bytes(
    si: &SignerInfo,
    raw_attrs: Option<Vec<u8>>,
    shared: &mut Shared,
) -> Result<(Arc<[u8]>, Option<i64>), IntegrityFailure> {
    let econtent_type = shared.econtent_type;
    let Some(content) = shared.content.clone() else {
        return Err(format_failure("NO_CONTENT", "no content to verify"));
    };
    let Some(attrs) = &si.signed_attrs else {
        // RFC 5652 §5.3: without signed attributes only id-data may be signed.
        if econtent_type != ID_DATA {
            return Err(format_failure(
                "CONTENT_TYPE_MISMATCH",
                format!("content type {econtent_type} signed without signed attributes"),
            ));
        }
        return Ok((content, None));
    };
    let duplicate = |d: String| format_failure("DUPLICATE_ATTRIBUTE", d);
    let content_type = single_value(si, ID_CONTENT_TYPE)
        .map_err(duplicate)?
        .ok_or_else(|| format_failure("MISSING_ATTRIBUTE", "signed attributes lack contentType"))?;
    let content_type: ObjectIdentifier = content_type
        .decode_as()
        .map_err(|e| format_failure("MALFORMED_ATTRIBUTE", format!("contentType: {e}")))?;
    if content_type != econtent_type {
        return Err(format_failure(
            "CONTENT_TYPE_MISMATCH",
            format!(
                "the signed contentType {content_type} is not the content's type {econtent_type}"
            ),
        ));
    }
    let digest = single_value(si, ID_MESSAGE_DIGEST)
        .map_err(duplicate)?
        .ok_or_else(|| {
            format_failure("MISSING_ATTRIBUTE", "signed attributes lack messageDigest")
        })?;
    let digest: OctetString = digest
        .decode_as()
        .map_err(|e| format_failure("MALFORMED_ATTRIBUTE", format!("messageDigest: {e}")))?;
    // The digestAlgorithm field names the messageDigest's algorithm (§5.4); the algorithm
    // table insists a combined signature identifier agrees with it.
    let actual = shared
        .digest(si.digest_alg.oid, &content)
        .ok_or_else(|| format_failure("UNSUPPORTED_ALGORITHM", "digest not computable"))?;
    if actual != digest.as_bytes() {
        return Err(IntegrityFailure::new(
            SubIndication::HashFailure,
            "HASH_FAILURE",
            "the content's digest does not match the signed messageDigest: the content was changed",
        ));
    }
    let signing_time = single_value(si, ID_SIGNING_TIME)
        .map_err(duplicate)?
        .and_then(|v| x509_cert::time::Time::from_der(&v.to_der().ok()?).ok())
        .map(|t| crate::time::unix(&t.to_unix_duration()));
    // The signature covers the DER SET OF the attributes (RFC 5652 §5.4): the bytes as
    // received, retagged (the decoder has already insisted they are DER).
    let der = match raw_attrs {
        Some(der) => der,
        None => attrs
            .to_der()
            .map_err(|e| format_failure("MALFORMED_ATTRIBUTE", e.to_string()))?,
    };
    Ok((der.into(), signing_time))
}
