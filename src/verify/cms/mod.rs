//! The CMS adapter of step 1, format: CMS SignedData (DER, PEM or base64; DER or BER),
//! attached or detached, read into the format-neutral [`Parsed`] the later steps work from.
//! Its signed attributes (contentType, messageDigest, signingTime) are checked here, in
//! `attributes`: they are CMS's own integrity mechanism.

mod archive;
mod attributes;
mod ess;
mod quick_walk;
mod signer_info;

use std::borrow::Cow;
use std::sync::Arc;

use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::asn1::{ObjectIdentifier, OctetStringRef};
use der::{Decode, Header, Reader, SliceReader};

use super::evidence::{Parsed, RevocationValues};
use super::input::{CertCache, MAX_SIGNATURE_BYTES};
use super::report::{Check, Step, SubIndication};
use crate::x509::crl::Crl;
use crate::x509::decode_der;

/// Reads one TLV: its header and value bytes.
fn tlv<'a>(reader: &mut SliceReader<'a>) -> der::Result<(Header, &'a [u8])> {
    let header = Header::decode(reader)?;
    let value = reader.read_slice(header.length)?;
    Ok((header, value))
}

/// Reads one TLV and returns all of its bytes.
fn whole<'a>(reader: &mut SliceReader<'a>) -> der::Result<&'a [u8]> {
    reader.tlv_bytes()
}

fn context(header: &Header, number: u8) -> bool {
    header.tag.is_context_specific() && header.tag.number() == der::TagNumber::new(number)
}

/// Walks ContentInfo → SignedData without decoding the certificates (RFC 5652 §5.1).
struct Walked<'a> {
    econtent_type: ObjectIdentifier,
    econtent: Option<&'a [u8]>,
    certificates: Vec<&'a [u8]>,
    /// RevocationInfoChoices (RFC 5652 §10.2.1): each CRL's TLV, and the OCSPResponse of each
    /// `other` entry in id-ri-ocsp-response form (RFC 5940) — CAdES-LT's revocation values.
    crls: Vec<&'a [u8]>,
    ocsp_responses: Vec<&'a [u8]>,
    /// Each SignerInfo's TLV, not yet decoded (how many there are is bounded first).
    signer_infos: Vec<&'a [u8]>,
}

/// The `[0] IMPLICIT` signed attributes of a SignerInfo as received, retagged as a universal
/// SET.
fn raw_signed_attrs(signer_info: &[u8]) -> der::Result<Option<Vec<u8>>> {
    let mut outer = SliceReader::new(signer_info)?;
    let (_, body) = tlv(&mut outer)?;
    let mut si = SliceReader::new(body)?;
    for _ in 0..3 {
        whole(&mut si)?; // version, sid, digestAlgorithm
    }
    let next = whole(&mut si)?;
    if next.first() == Some(&0xA0) {
        let mut set = next.to_vec();
        set[0] = 0x31;
        Ok(Some(set))
    } else {
        Ok(None)
    }
}

fn walk(der: &[u8]) -> Result<Walked<'_>, String> {
    let e = |e: der::Error| e.to_string();
    let mut outer = SliceReader::new(der).map_err(e)?;
    let (_, content_info) = tlv(&mut outer).map_err(e)?;
    if !outer.is_finished() {
        return Err("trailing data after the ContentInfo".into());
    }
    let mut ci = SliceReader::new(content_info).map_err(e)?;
    let content_type = ObjectIdentifier::decode(&mut ci).map_err(e)?;
    if content_type != ID_SIGNED_DATA {
        return Err(format!("the CMS content is {content_type}, not SignedData"));
    }
    let (explicit, inner) = tlv(&mut ci).map_err(e)?;
    if !context(&explicit, 0) {
        return Err("SignedData is not in [0]".into());
    }
    let (_, signed_data) = tlv(&mut SliceReader::new(inner).map_err(e)?).map_err(e)?;
    let mut sd = SliceReader::new(signed_data).map_err(e)?;
    let _version = whole(&mut sd).map_err(e)?;
    let _digest_algorithms = whole(&mut sd).map_err(e)?;
    let (_, encap) = tlv(&mut sd).map_err(e)?;
    let mut ec = SliceReader::new(encap).map_err(e)?;
    let econtent_type = ObjectIdentifier::decode(&mut ec).map_err(e)?;
    let econtent = if ec.is_finished() {
        None
    } else {
        let (tag0, value) = tlv(&mut ec).map_err(e)?;
        if !context(&tag0, 0) {
            return Err("eContent is not in [0]".into());
        }
        // Borrowed: a 12 MB content is copied once, into what its signers share.
        Some(OctetStringRef::from_der(value).map_err(e)?.as_bytes())
    };
    let mut certificates = Vec::new();
    let (mut crls, mut ocsp_responses) = (Vec::new(), Vec::new());
    let mut signer_infos = Vec::new();
    while !sd.is_finished() {
        let (header, value) = tlv(&mut sd).map_err(e)?;
        if context(&header, 0) {
            let mut certs = SliceReader::new(value).map_err(e)?;
            while !certs.is_finished() {
                let raw = whole(&mut certs).map_err(e)?;
                // Only X.509 certificates (a SEQUENCE); other CertificateChoices are skipped.
                if raw.first() == Some(&0x30) {
                    certificates.push(raw);
                }
            }
        } else if context(&header, 1) {
            let mut choices = SliceReader::new(value).map_err(e)?;
            while !choices.is_finished() {
                let raw = whole(&mut choices).map_err(e)?;
                match raw.first() {
                    Some(0x30) => crls.push(raw),
                    // other [1] IMPLICIT OtherRevocationInfoFormat { format OID, info ANY }
                    Some(0xA1) => {
                        let mut other = SliceReader::new(raw).map_err(e)?;
                        let (_, body) = tlv(&mut other).map_err(e)?;
                        let mut fields = SliceReader::new(body).map_err(e)?;
                        let format = ObjectIdentifier::decode(&mut fields).map_err(e)?;
                        if format == ID_RI_OCSP_RESPONSE {
                            ocsp_responses.push(whole(&mut fields).map_err(e)?);
                        }
                    }
                    // Other forms (SCVP, …) are not read: they answer nothing here.
                    _ => {}
                }
            }
        } else if header.tag == der::Tag::Set {
            let mut set = SliceReader::new(value).map_err(e)?;
            while !set.is_finished() {
                signer_infos.push(whole(&mut set).map_err(e)?);
            }
        } else {
            return Err(format!("unexpected {} in SignedData", header.tag));
        }
    }
    Ok(Walked {
        econtent_type,
        econtent,
        certificates,
        crls,
        ocsp_responses,
        signer_infos,
    })
}

fn unreadable(detail: impl Into<String>) -> Check {
    Check::failed(
        Step::Format,
        SubIndication::FormatFailure,
        "UNREADABLE",
        detail,
    )
}

/// Most SignerInfos verified in one request. A licence request carries one or two; each costs
/// a public-key operation and a path, so 20,000 identical ones cost seconds of CPU (issue 12).
pub const MAX_SIGNERS: usize = 64;
/// Most certificates read from one CMS: NCA's carry the signer's and at most its chain.
pub const MAX_CERTIFICATES: usize = 128;
/// Most revocation values (CRLs and OCSP responses) read from one CMS: an LT signature carries
/// one or two per CA of its signer's and its TSA's paths.
pub const MAX_REVOCATION_VALUES: usize = 64;
/// id-ri-ocsp-response (RFC 5940 §4.1): an OCSPResponse as a RevocationInfoChoice.
const ID_RI_OCSP_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");

fn too_many(code: &'static str, detail: String) -> Check {
    Check::failed(Step::Format, SubIndication::FormatFailure, code, detail)
}

/// Reads a CMS signature. `Err`: the format check that fails (the input is not a usable
/// SignedData); `Ok` may still carry no signer or no content, which the format step reports.
pub(super) fn parse(
    signature: &[u8],
    detached_content: Option<&[u8]>,
    cache: &CertCache,
) -> Result<Parsed, Check> {
    read(signature, detached_content, cache).map(|(parsed, _)| parsed)
}

/// Reads a time-stamp token (RFC 3161 §2.4.2: a SignedData over a TSTInfo) as any signature is
/// read, with its eContentType, which the caller insists is id-ct-TSTInfo.
pub(in crate::verify) fn parse_token(
    token: &[u8],
    cache: &CertCache,
) -> Result<(Parsed, ObjectIdentifier), Check> {
    read(token, None, cache)
}

fn read(
    signature: &[u8],
    detached_content: Option<&[u8]>,
    cache: &CertCache,
) -> Result<(Parsed, ObjectIdentifier), Check> {
    if signature.len() > MAX_SIGNATURE_BYTES {
        return Err(unreadable(format!(
            "the signature is larger than {MAX_SIGNATURE_BYTES} bytes"
        )));
    }
    // DER is read where it lies; only PEM and base64 are decoded into a copy.
    let der: Cow<'_, [u8]> = if signature.first() == Some(&0x30) {
        Cow::Borrowed(signature)
    } else {
        decode_der(signature)
            .map(Cow::Owned)
            .ok_or_else(|| unreadable("the signature is neither DER, PEM nor base64 CMS"))?
    };
    // Streaming producers write BER (indefinite lengths): re-encode as DER and walk again.
    let normalised;
    let walked = quick_walk::walk(&der).map_or_else(|| walk(&der), Ok);
    let (walked, source): (Walked<'_>, &[u8]) = match walked {
        Ok(w) => (w, &der),
        Err(e) => {
            normalised = crate::x509::ber_to_der(&der)
                .map_err(|_| unreadable(format!("not a CMS SignedData (DER or BER): {e}")))?;
            let walked = walk(&normalised)
                .map_err(|e| unreadable(format!("not a CMS SignedData (DER or BER): {e}")))?;
            (walked, &normalised)
        }
    };
    if walked.signer_infos.len() > MAX_SIGNERS {
        return Err(too_many(
            "TOO_MANY_SIGNERS",
            format!(
                "the SignedData has {} SignerInfos; at most {MAX_SIGNERS} are verified",
                walked.signer_infos.len()
            ),
        ));
    }
    if walked.certificates.len() > MAX_CERTIFICATES {
        return Err(too_many(
            "TOO_MANY_CERTIFICATES",
            format!(
                "the SignedData carries {} certificates; at most {MAX_CERTIFICATES} are read",
                walked.certificates.len()
            ),
        ));
    }
    if walked.crls.len() + walked.ocsp_responses.len() > MAX_REVOCATION_VALUES {
        return Err(too_many(
            "TOO_MANY_REVOCATION_VALUES",
            format!(
                "the SignedData carries {} revocation values; at most {MAX_REVOCATION_VALUES} are read",
                walked.crls.len() + walked.ocsp_responses.len()
            ),
        ));
    }
    // A carried CRL that does not parse is only not used, as a supplied one: the revocation
    // step says what was missing.
    let revocation = RevocationValues {
        crls: (walked.crls.iter())
            .filter_map(|raw| Crl::parse(raw).ok().map(Arc::new))
            .collect(),
        ocsp_responses: walked.ocsp_responses.iter().map(|r| r.to_vec()).collect(),
    };
    let signer_infos = (walked.signer_infos.iter())
        .map(|raw| signer_info::decode(raw))
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    let certificates = walked
        .certificates
        .iter()
        .map(|raw| cache.get(raw))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(format!("a certificate in the CMS does not parse: {e}")))?;
    let (content, detached) = match (walked.econtent, detached_content) {
        (Some(inner), Some(outer)) if inner != outer => {
            return Err(Check::failed(
                Step::Format,
                SubIndication::HashFailure,
                "CONTENT_MISMATCH",
                "the content supplied differs from the content inside the signature",
            ))
        }
        (Some(inner), _) => (Some(inner), false),
        (None, Some(outer)) => (Some(outer), true),
        (None, None) => (None, true),
    };
    let summary = format!(
        "CMS SignedData, {} content, {} signer(s), {} certificate(s)",
        if detached { "detached" } else { "attached" },
        signer_infos.len(),
        certificates.len()
    );
    let mut shared = attributes::Shared::new(walked.econtent_type, content);
    let mut signers = Vec::with_capacity(signer_infos.len());
    for (index, decoded) in signer_infos.into_iter().enumerate() {
        let (mut signer, archived) = match decoded {
            signer_info::Decoded::Read(read) => {
                let attrs = Some((read.signed, read.unsigned));
                attributes::evidence(read.view, attrs, None, &mut shared)
            }
            signer_info::Decoded::Received(si) => attributes::evidence(si, None, None, &mut shared),
            signer_info::Decoded::Canonical { der, received } => {
                let reread = signer_info::SignerInfoRef::from_der(&der).map_err(|e| e.to_string());
                let received = raw_signed_attrs(received).map_err(|e| e.to_string());
                reread.and_then(|si| attributes::evidence(si, None, received?, &mut shared))
            }
        }
        .map_err(|e| unreadable(format!("malformed SignerInfo: {e}")))?;
        if archived {
            signer.archive_timestamps = archive::stamps(source, index, shared.content.as_deref());
        }
        signers.push(signer);
    }
    let parsed = Parsed {
        signers,
        certificates,
        content: shared.content,
        numbers: Default::default(),
        summary,
        revocation,
    };
    Ok((parsed, shared.econtent_type))
}
