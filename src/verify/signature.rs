//! Step 2, signature: the signer's certificate, the signed attributes, the signature itself,
//! and the algorithm policy.

use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use std::sync::Arc;

use super::format::Parsed;
use super::report::{Check, SubIndication};
use crate::crypto::{rsa_modulus_bits, CmsSignature};
use crate::x509::Cert;

const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// Smallest RSA modulus accepted for a signature.
pub const MIN_RSA_BITS: usize = 2048;

pub struct Outcome {
    pub check: Check,
    pub signer: Option<Arc<Cert>>,
    pub signing_time: Option<i64>,
}

/// Finds the signer's certificate by issuerAndSerialNumber or subjectKeyIdentifier.
fn find_signer(sid: &SignerIdentifier, pool: &[Arc<Cert>]) -> Option<Arc<Cert>> {
    pool.iter()
        .find(|c| match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                c.parsed.tbs_certificate.issuer == ias.issuer
                    && c.parsed.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                let key = &c.parsed.tbs_certificate.subject_public_key_info;
                c.subject_key_id() == Some(ski.0.as_bytes())
                    || crate::crypto::key_identifier(key).as_slice() == ski.0.as_bytes()
            }
        })
        .cloned()
}

/// The single value of a signed attribute; an attribute present twice, or with several
/// values, is refused: which one would count?
fn single_value(si: &SignerInfo, oid: ObjectIdentifier) -> Result<Option<&der::Any>, String> {
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

/// `index`: the SignerInfo's position, to find its signed attributes as received.
pub fn check(index: usize, si: &SignerInfo, parsed: &Parsed, pool: &[Arc<Cert>]) -> Outcome {
    let fail = |sub, code: &str, detail: String| Outcome {
        check: Check::failed("signature", sub, code, detail),
        signer: None,
        signing_time: None,
    };
    let Some(signer) = find_signer(&si.sid, pool) else {
        return Outcome {
            check: Check::indeterminate(
                "signature",
                SubIndication::NoSigningCertificateFound,
                "NO_SIGNING_CERTIFICATE_FOUND",
                "the signer's certificate is neither in the CMS nor among the supplied certificates",
            ),
            signer: None,
            signing_time: None,
        };
    };
    let with_signer = |check: Check, signing_time| Outcome {
        check,
        signer: Some(Arc::clone(&signer)),
        signing_time,
    };
    let key = &signer.parsed.tbs_certificate.subject_public_key_info;
    let algorithm = match CmsSignature::resolve(&si.digest_alg.oid, &si.signature_algorithm, key) {
        Ok(a) => a,
        Err(e) => {
            let check = Check::failed(
                "signature",
                SubIndication::CryptoConstraintsFailure,
                "UNSUPPORTED_ALGORITHM",
                e.to_string(),
            );
            return with_signer(check, None);
        }
    };
    if let Some(digest) = algorithm.digest().filter(|d| d.is_weak()) {
        let check = Check::failed(
            "signature",
            SubIndication::CryptoConstraintsFailure,
            "WEAK_DIGEST",
            format!("{} is not allowed for signatures", digest.name()),
        );
        return with_signer(check, None);
    }
    if let Some(bits) = rsa_modulus_bits(key).filter(|b| *b < MIN_RSA_BITS) {
        let check = Check::failed(
            "signature",
            SubIndication::CryptoConstraintsFailure,
            "WEAK_KEY",
            format!("RSA-{bits} is below the {MIN_RSA_BITS}-bit minimum"),
        );
        return with_signer(check, None);
    }
    let Some(content) = parsed.content.as_deref() else {
        return fail(
            SubIndication::FormatFailure,
            "NO_CONTENT",
            "no content to verify".into(),
        );
    };
    let econtent_type = parsed.econtent_type;
    let (message, signing_time) = match &si.signed_attrs {
        None => {
            // RFC 5652 §5.3: without signed attributes only id-data may be signed.
            if econtent_type != ID_DATA {
                let check = Check::failed(
                    "signature",
                    SubIndication::FormatFailure,
                    "CONTENT_TYPE_MISMATCH",
                    format!("content type {econtent_type} signed without signed attributes"),
                );
                return with_signer(check, None);
            }
            (content.to_vec(), None)
        }
        Some(attrs) => {
            let attrs_check = (|| -> Result<(Vec<u8>, Option<i64>), Check> {
                let format_failure = |code: &str, d: String| {
                    Check::failed("signature", SubIndication::FormatFailure, code, d)
                };
                let content_type = single_value(si, CONTENT_TYPE)
                    .map_err(|d| format_failure("DUPLICATE_ATTRIBUTE", d))?
                    .ok_or_else(|| {
                        format_failure(
                            "MISSING_ATTRIBUTE",
                            "signed attributes lack contentType".into(),
                        )
                    })?;
                let content_type: ObjectIdentifier = content_type.decode_as().map_err(|e| {
                    format_failure("MALFORMED_ATTRIBUTE", format!("contentType: {e}"))
                })?;
                if content_type != econtent_type {
                    return Err(format_failure(
                        "CONTENT_TYPE_MISMATCH",
                        format!("the signed contentType {content_type} is not the content's type {econtent_type}"),
                    ));
                }
                let digest = single_value(si, MESSAGE_DIGEST)
                    .map_err(|d| format_failure("DUPLICATE_ATTRIBUTE", d))?
                    .ok_or_else(|| {
                        format_failure(
                            "MISSING_ATTRIBUTE",
                            "signed attributes lack messageDigest".into(),
                        )
                    })?;
                let digest: OctetString = digest.decode_as().map_err(|e| {
                    format_failure("MALFORMED_ATTRIBUTE", format!("messageDigest: {e}"))
                })?;
                let actual = algorithm
                    .digest()
                    .or_else(|| crate::crypto::Digest::from_oid(&si.digest_alg.oid))
                    .and_then(|d| d.digest(content))
                    .ok_or_else(|| {
                        format_failure("UNSUPPORTED_ALGORITHM", "digest not computable".into())
                    })?;
                if actual != digest.as_bytes() {
                    return Err(Check::failed(
                        "signature",
                        SubIndication::HashFailure,
                        "HASH_FAILURE",
                        "the content's digest does not match the signed messageDigest: the content was changed",
                    ));
                }
                let signing_time = single_value(si, SIGNING_TIME)
                    .map_err(|d| format_failure("DUPLICATE_ATTRIBUTE", d))?
                    .and_then(|v| x509_cert::time::Time::from_der(&v.to_der().ok()?).ok())
                    .map(|t| crate::time::unix(&t.to_unix_duration()));
                // The signature covers the DER SET OF the attributes (RFC 5652 §5.4): the bytes
                // as received, retagged (the decoder has already insisted they are DER).
                let der = match parsed.signed_attrs_der.get(index).cloned().flatten() {
                    Some(der) => der,
                    None => attrs
                        .to_der()
                        .map_err(|e| format_failure("MALFORMED_ATTRIBUTE", e.to_string()))?,
                };
                Ok((der, signing_time))
            })();
            match attrs_check {
                Ok(v) => v,
                Err(check) => return with_signer(check, None),
            }
        }
    };
    match algorithm.verify(key, &message, si.signature.as_bytes()) {
        Ok(()) => with_signer(
            Check::passed(
                "signature",
                format!("{algorithm:?} signature by {} verifies", signer.subject()),
            ),
            signing_time,
        ),
        Err(e) => with_signer(
            Check::failed(
                "signature",
                SubIndication::SigCryptoFailure,
                "SIG_CRYPTO_FAILURE",
                format!("the signature does not verify: {e}"),
            ),
            signing_time,
        ),
    }
}
