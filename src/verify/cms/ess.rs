//! The ESS signing-certificate attributes (RFC 2634 §5.4 signingCertificate, RFC 5035
//! signingCertificateV2): the hash of the signer's certificate, which binds that certificate to
//! the signature. RFC 3161 §2.4.1 requires one in every time-stamp token.

use const_oid::db::rfc5911::{ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V_2};
// SHA-1 is ESSCertID's hash; SHA-256 ESSCertIDv2's default.
use const_oid::db::rfc5912::{ID_SHA_1, ID_SHA_256};
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, SliceReader, Tag, Tagged};
use spki::AlgorithmIdentifierRef;

use super::attributes::{single_value, Attributes};
use crate::verify::evidence::CertHash;

/// The first ESSCertID(v2) of the signed attributes (the signer's own certificate), v2
/// preferred. `Ok(None)`: neither attribute is present.
pub(super) fn signing_certificate(attrs: &Attributes<'_>) -> Result<Option<CertHash>, String> {
    for (oid, v2) in [
        (ID_AA_SIGNING_CERTIFICATE_V_2, true),
        (ID_AA_SIGNING_CERTIFICATE, false),
    ] {
        if let Some((_, der)) = single_value(attrs, oid)? {
            return first_cert_id(der, v2)
                .map(Some)
                .map_err(|e| format!("malformed signingCertificate attribute: {e}"));
        }
    }
    Ok(None)
}

/// The body of a SEQUENCE, refusing anything else.
fn sequence_body<'a>(any: &AnyRef<'a>) -> der::Result<&'a [u8]> {
    any.tag().assert_eq(Tag::Sequence)?;
    Ok(any.value())
}

/// SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL };
/// ESSCertID ::= SEQUENCE { certHash OCTET STRING, issuerSerial OPTIONAL }; ESSCertIDv2 adds a
/// leading hashAlgorithm DEFAULT sha256.
/// `der`: the attribute value's DER.
fn first_cert_id(der: &[u8], v2: bool) -> der::Result<CertHash> {
    let outer = AnyRef::from_der(der)?;
    let certs = AnyRef::decode(&mut SliceReader::new(sequence_body(&outer)?)?)?;
    let first = AnyRef::decode(&mut SliceReader::new(sequence_body(&certs)?)?)?;
    let body = sequence_body(&first)?;
    let mut reader = SliceReader::new(body)?;
    let algorithm = if !v2 {
        ID_SHA_1
    } else if body.first() == Some(&0x30) {
        AlgorithmIdentifierRef::decode(&mut reader)?.oid
    } else {
        ID_SHA_256
    };
    let hash = OctetStringRef::decode(&mut reader)?;
    Ok(CertHash {
        algorithm,
        hash: hash.as_bytes().to_vec(),
    })
}
