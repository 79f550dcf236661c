//! CMS SignedData with CAdES-BES signed attributes (ETSI EN 319 122-1): contentType,
//! messageDigest, signingTime and signingCertificateV2, attached or detached. [`signed_data`]
//! is the one builder: documents ([`sign`]) and the TSA's time-stamp tokens (`pki`) use it.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA,
    ID_SIGNING_TIME,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use std::time::Duration;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

use super::SignError;
use crate::crypto::SigningKey;

/// IssuerSerial (RFC 5035): the signer's certificate by issuer and serial.
#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// ESSCertIDv2 with the default hash algorithm (SHA-256), so it is omitted (RFC 5035 §4).
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// Who signs: the key, its certificate and the CA certificates to carry along.
pub struct SignerIdentity {
    pub key: SigningKey,
    pub certificate: Certificate,
    pub certificate_der: Vec<u8>,
    /// Issuing CA and upwards, DER; carried in the CMS so verifiers need only the root.
    pub chain: Vec<Vec<u8>>,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SignError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// Signs `content` at `signing_time` (unix seconds). Returns DER ContentInfo.
pub fn sign(
    content: &[u8],
    signer: &SignerIdentity,
    detached: bool,
    signing_time: i64,
) -> Result<Vec<u8>, SignError> {
    signed_data(
        &Content {
            content_type: ID_DATA,
            bytes: content,
            detached,
        },
        signer,
        Some(signing_time),
        Certificates::Chain,
    )
}

/// What a SignedData encapsulates: its eContentType (id-data for a document, id-ct-TSTInfo for
/// a time-stamp token), the bytes, and whether they are left out (detached).
pub struct Content<'a> {
    pub content_type: ObjectIdentifier,
    pub bytes: &'a [u8],
    pub detached: bool,
}

/// Which certificates SignedData.certificates carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certificates {
    /// The signer's and its chain: verifiers need only the root.
    Chain,
    /// The signer's only (a time-stamp token asked for with certReq, RFC 3161 §2.4.1).
    Signer,
    /// None (the field is left out).
    None,
}

/// CMS SignedData over `content` with the signed attributes contentType, messageDigest,
/// signingCertificateV2 (SHA-256 ESSCertIDv2, RFC 5035) and, when given, signingTime; signed
/// through the algorithm table with the digest that goes with the signer's key. DER ContentInfo.
pub fn signed_data(
    content: &Content<'_>,
    signer: &SignerIdentity,
    signing_time: Option<i64>,
    certificates: Certificates,
) -> Result<Vec<u8>, SignError> {
    // The algorithm table says which digest goes with the key (SHA-512 for Ed25519 by RFC 8419,
    // Streebog-512 for GOST, SHA-256 otherwise).
    let digest = signer.key.algorithm().cms_digest();
    let digest_oid = digest.oid();
    let message_digest = digest
        .digest(content.bytes)
        .ok_or(SignError::Internal("digest"))?;
    let tbs = &signer.certificate.tbs_certificate;
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(crate::crypto::sha256(&signer.certificate_der))?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                serial_number: tbs.serial_number.clone(),
            },
        }],
    };
    let mut attributes = vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&content.content_type)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest)?)?,
        )?,
        attribute(
            ID_AA_SIGNING_CERTIFICATE_V_2,
            Any::encode_from(&signing_certificate)?,
        )?,
    ];
    if let Some(at) = signing_time {
        let time =
            UtcTime::from_unix_duration(Duration::from_secs(u64::try_from(at).unwrap_or(0)))?;
        attributes.push(attribute(ID_SIGNING_TIME, Any::encode_from(&time)?)?);
    }
    let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(attributes)?;
    // The signature covers the DER SET OF the attributes (RFC 5652 §5.4).
    let signature = signer.key.sign(&signed_attrs.to_der()?)?;
    let digest_algorithm = AlgorithmIdentifierOwned {
        oid: digest_oid,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        digest_alg: digest_algorithm.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer.key.signature_algorithm().identifier(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut carried = Vec::new();
    if certificates != Certificates::None {
        carried.push(cms::cert::CertificateChoices::Certificate(
            signer.certificate.clone(),
        ));
    }
    if certificates == Certificates::Chain {
        for der in &signer.chain {
            carried.push(cms::cert::CertificateChoices::Certificate(
                Certificate::from_der(der)?,
            ));
        }
    }
    let signed_data = SignedData {
        // RFC 5652 §5.1: version 3 when the eContentType is not id-data.
        version: if content.content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content.content_type,
            econtent: if content.detached {
                None
            } else {
                Some(Any::encode_from(&OctetString::new(content.bytes)?)?)
            },
        },
        certificates: if carried.is_empty() {
            None
        } else {
            Some(CertificateSet(SetOfVec::try_from(carried)?))
        },
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?)
}
