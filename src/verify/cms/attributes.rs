//! A SignerInfo read into a [`SignerEvidence`]: its identifier and algorithms, and the bytes its
//! signature covers once the signed attributes prove the content (RFC 5652 §5.3–5.4, §11).

use std::sync::Arc;

use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNING_TIME};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::Decode;
use spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef};

use super::signer_info::{AttributeRef, SignerIdentifierRef, SignerInfoRef};
use crate::crypto::Digest;
use crate::verify::evidence::{AlgorithmClaim, IntegrityFailure, SignerEvidence, SignerId};
use crate::verify::report::SubIndication;

/// A SET OF Attribute, read once: each attribute's type and values.
pub(super) type Attributes<'a> = Vec<AttributeRef<'a>>;

/// The attributes of a SET the decoder has already accepted (so reading it again succeeds).
fn attributes<'a>(
    set: Option<&super::signer_info::SetOfRef<'a, AttributeRef<'a>>>,
) -> Attributes<'a> {
    set.map(|set| set.iter().filter_map(|a| a.ok().map(|(a, _)| a)).collect())
        .unwrap_or_default()
}

/// An attribute value and its DER.
pub(super) type Value<'a> = (AnyRef<'a>, &'a [u8]);

/// The single value of a signed attribute; an attribute present twice, or with several
/// values, is refused: which one would count?
pub(super) fn single_value<'a>(
    attrs: &Attributes<'a>,
    oid: ObjectIdentifier,
) -> Result<Option<Value<'a>>, String> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(format!("signed attribute {oid} appears more than once"));
    }
    Ok(attr.values.iter().next().and_then(Result::ok))
}

/// Every value of the attributes of type `oid`, each as its DER, in the SET's order.
pub(super) fn values_of(attrs: &Attributes<'_>, oid: ObjectIdentifier) -> Vec<Vec<u8>> {
    (attrs.iter().filter(|a| a.oid == oid))
        .flat_map(|a| a.values.iter().filter_map(Result::ok))
        .map(|(_, der)| der.to_vec())
        .collect()
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
    /// By algorithm: a SignedData's signers use one or two (a short list, searched in order).
    digests: Vec<(ObjectIdentifier, Option<Vec<u8>>)>,
}

impl Shared {
    pub(super) fn new(econtent_type: ObjectIdentifier, content: Option<&[u8]>) -> Shared {
        Shared {
            econtent_type,
            content: content.map(Arc::from),
            digests: Vec::new(),
        }
    }

    /// The content's digest under `algorithm`, or None if the table cannot compute it.
    fn digest(&mut self, algorithm: ObjectIdentifier, content: &[u8]) -> Option<&[u8]> {
        let index = match self.digests.iter().position(|(a, _)| *a == algorithm) {
            Some(index) => index,
            None => {
                let digest = Digest::from_oid(&algorithm).and_then(|d| d.digest(content));
                self.digests.push((algorithm, digest));
                self.digests.len() - 1
            }
        };
        self.digests[index].1.as_deref()
    }
}

/// The describing of one SignerInfo. `read`: its signed and unsigned attributes when the
/// reader already has them (else they are read from `si`); `received_attrs`: its signed
/// attributes as received, retagged as the SET they are signed as, when `si` is a re-encoding
/// (else they are `si`'s own); `shared`: what the SignedData carries. Also says whether it has
/// archive time-stamps.
pub(super) fn evidence<'a>(
    si: SignerInfoRef<'a>,
    read: Option<(Attributes<'a>, Attributes<'a>)>,
    received_attrs: Option<Vec<u8>>,
    shared: &mut Shared,
) -> Result<(SignerEvidence, bool), String> {
    let (signed_attrs, unsigned_attrs) = read.unwrap_or_else(|| {
        (
            attributes(si.signed_attrs.as_ref()),
            attributes(si.unsigned_attrs.as_ref()),
        )
    });
    let received_attrs = match (received_attrs, &si.signed_attrs) {
        (Some(received), _) => Some(received),
        (None, Some(set)) => Some(super::signer_info::retagged(set).map_err(|e| e.to_string())?),
        (None, None) => None,
    };
    let signed = signed_bytes(&si, &signed_attrs, received_attrs, shared);
    let timestamps = values_of(
        &unsigned_attrs,
        crate::verify::timestamp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
    );
    let archived = super::archive::has_archive_stamps(&unsigned_attrs);
    let signing_certificate = super::ess::signing_certificate(&signed_attrs);
    let id = match si.sid {
        SignerIdentifierRef::IssuerAndSerialNumber(ias) => SignerId::IssuerAndSerial {
            issuer: ias.issuer.to_der_vec().map_err(|e| e.to_string())?,
            serial: ias.serial_number,
        },
        SignerIdentifierRef::SubjectKeyIdentifier(ski) => SignerId::KeyId(ski.as_bytes().to_vec()),
    };
    let evidence = SignerEvidence {
        id,
        algorithm: AlgorithmClaim::Identifiers {
            digest: si.digest_alg.oid,
            signature: owned(si.signature_algorithm),
        },
        claimed_signing_time: signed.as_ref().ok().and_then(|(_, time)| *time),
        signed: signed.map(|(bytes, _)| bytes),
        signature: si.signature.as_bytes().to_vec(),
        covers: Vec::new(),
        timestamps,
        // Filled by the adapter, which holds the whole SignedData (archive.rs).
        archive_timestamps: Vec::new(),
        signing_certificate,
    };
    Ok((evidence, archived))
}

fn owned(algorithm: AlgorithmIdentifierRef<'_>) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: algorithm.oid,
        parameters: algorithm.parameters.map(der::Any::from),
    }
}

/// The bytes the signature covers and the claimed signing time, or what is wrong.
fn signed_bytes(
    si: &SignerInfoRef<'_>,
    attrs: &Attributes<'_>,
    raw_attrs: Option<Vec<u8>>,
    shared: &mut Shared,
) -> Result<(Arc<[u8]>, Option<i64>), IntegrityFailure> {
    let econtent_type = shared.econtent_type;
    let Some(content) = shared.content.clone() else {
        return Err(format_failure("NO_CONTENT", "no content to verify"));
    };
    let Some(der) = raw_attrs else {
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
    let content_type = single_value(attrs, ID_CONTENT_TYPE)
        .map_err(duplicate)?
        .ok_or_else(|| format_failure("MISSING_ATTRIBUTE", "signed attributes lack contentType"))?;
    let content_type: ObjectIdentifier = content_type
        .0
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
    let digest = single_value(attrs, ID_MESSAGE_DIGEST)
        .map_err(duplicate)?
        .ok_or_else(|| {
            format_failure("MISSING_ATTRIBUTE", "signed attributes lack messageDigest")
        })?;
    let digest: OctetStringRef<'_> = digest
        .0
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
    let signing_time = single_value(attrs, ID_SIGNING_TIME)
        .map_err(duplicate)?
        .and_then(|(_, der)| x509_cert::time::Time::from_der(der).ok())
        .map(|t| crate::time::unix(&t.to_unix_duration()));
    // The signature covers the DER SET OF the attributes (RFC 5652 §5.4): the bytes as
    // received, retagged.
    Ok((der.into(), signing_time))
}
