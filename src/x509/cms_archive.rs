//! CAdES archive time-stamps v3 (ETSI EN 319 122-1 §5.5.3): the ats-hash-index-v3 of a
//! SignerInfo and the exact bytes an archive-time-stamp-v3's message imprint covers, as pure
//! functions over a SignedData.
//!
//! The SignedData is [`SignedData`] here, not `cms::signed_data::SignedData`: cms 0.2 declares
//! `OtherRevocationInfoFormat.otherRevInfoFormat` as an AlgorithmIdentifier where RFC 5652 §10.2.1
//! has an OBJECT IDENTIFIER, so it can neither read nor write the OCSP responses a CAdES-B-LT
//! signature carries (id-ri-ocsp-response, RFC 5940). This one keeps each RevocationInfoChoice
//! as it was encoded and uses cms's types for everything else.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use const_oid::db::rfc5912::ID_SHA_256;
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Reader, Sequence};
use spki::AlgorithmIdentifierOwned;

use crate::crypto::Digest;

/// id-aa-ets-archiveTimestampV3 (EN 319 122-1 §5.5.3).
pub const ID_AA_ETS_ARCHIVE_TIMESTAMP_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.1733.2.4");
/// id-aa-ATSHashIndex-v3 (EN 319 122-1 §5.5.2): unsigned attribute of the archive time-stamp
/// token's own SignerInfo.
pub const ID_AA_ATS_HASH_INDEX_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.19122.1.5");
/// id-ri-ocsp-response (RFC 5940 §4.1): an OCSPResponse as an `other` RevocationInfoChoice.
pub const ID_RI_OCSP_RESPONSE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");

/// SignedData (RFC 5652 §5.1) with each RevocationInfoChoice kept as encoded (see the module
/// note on cms 0.2's `other`).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SignedData {
    pub version: CmsVersion,
    pub digest_algorithms: DigestAlgorithmIdentifiers,
    pub encap_content_info: EncapsulatedContentInfo,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub certificates: Option<CertificateSet>,
    /// RevocationInfoChoices: a CertificateList (SEQUENCE) or `[1] OtherRevocationInfoFormat`.
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub crls: Option<SetOfVec<Any>>,
    pub signer_infos: SignerInfos,
}

impl SignedData {
    /// Reads a DER ContentInfo holding a SignedData.
    pub fn from_content_info(der: &[u8]) -> Result<SignedData, ArchiveError> {
        let info = ContentInfo::from_der(der)?;
        if info.content_type != ID_SIGNED_DATA {
            return Err(ArchiveError::Invalid(format!(
                "the CMS content is {}, not SignedData",
                info.content_type
            )));
        }
        Ok(info.content.decode_as::<SignedData>()?)
    }

    /// The DER ContentInfo.
    pub fn to_content_info(&self) -> Result<Vec<u8>, ArchiveError> {
        Ok(ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(self)?,
        }
        .to_der()?)
    }

    /// The SignerInfo at `index` (in the order of the encoded SET).
    pub fn signer(&self, index: usize) -> Result<&SignerInfo, ArchiveError> {
        self.signer_infos
            .0
            .get(index)
            .ok_or_else(|| ArchiveError::Invalid(format!("the SignedData has no signer {index}")))
    }
}

/// What can go wrong reading or hashing a SignedData.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    #[error("{0}")]
    Invalid(String),
}

/// ATSHashIndexV3 (EN 319 122-1 §5.5.2).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AtsHashIndexV3 {
    /// None: the DEFAULT, `{algorithm id-sha256}`, which DER leaves out.
    pub hash_ind_algorithm: Option<AlgorithmIdentifierOwned>,
    pub certificates_hash_index: Vec<OctetString>,
    pub crls_hash_index: Vec<OctetString>,
    pub unsigned_attrs_hash_index: Vec<OctetString>,
}

// By hand rather than derived: hashIndAlgorithm and certificatesHashIndex are both SEQUENCEs,
// so the optional first field is told apart by what the first SEQUENCE holds (an OBJECT
// IDENTIFIER first: an AlgorithmIdentifier), which der's derive cannot do.
impl<'a> der::DecodeValue<'a> for AtsHashIndexV3 {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        reader.read_nested(header.length, |reader| {
            let first: Any = reader.decode()?;
            let is_algorithm = first
                .value()
                .first()
                .is_some_and(|tag| *tag == der::Tag::ObjectIdentifier.octet());
            let (hash_ind_algorithm, certificates_hash_index) = if is_algorithm {
                (Some(first.decode_as()?), reader.decode()?)
            } else {
                (None, first.decode_as()?)
            };
            Ok(AtsHashIndexV3 {
                hash_ind_algorithm,
                certificates_hash_index,
                crls_hash_index: reader.decode()?,
                unsigned_attrs_hash_index: reader.decode()?,
            })
        })
    }
}

impl der::EncodeValue for AtsHashIndexV3 {
    fn value_len(&self) -> der::Result<der::Length> {
        self.hash_ind_algorithm.encoded_len()?
            + self.certificates_hash_index.encoded_len()?
            + self.crls_hash_index.encoded_len()?
            + self.unsigned_attrs_hash_index.encoded_len()?
    }
    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        self.hash_ind_algorithm.encode(writer)?;
        self.certificates_hash_index.encode(writer)?;
        self.crls_hash_index.encode(writer)?;
        self.unsigned_attrs_hash_index.encode(writer)
    }
}

impl<'a> Sequence<'a> for AtsHashIndexV3 {}

impl AtsHashIndexV3 {
    /// hashIndAlgorithm's OID, the DEFAULT (SHA-256) when absent.
    pub fn hash_algorithm(&self) -> ObjectIdentifier {
        self.hash_ind_algorithm
            .as_ref()
            .map_or(ID_SHA_256, |a| a.oid)
    }
}

fn hash(digest: Digest, data: &[u8]) -> Result<OctetString, ArchiveError> {
    let value = digest
        .digest(data)
        .ok_or_else(|| ArchiveError::Invalid(format!("{} is not computed here", digest.name())))?;
    Ok(OctetString::new(value)?)
}

/// The octets each unsigned attribute contributes to unsignedAttrsHashIndex: one per value, the
/// DER of attrType followed by the DER of that AttributeValue. This is EN 319 122-1 v1.1.1's
/// rule for ats-hash-index-v3, and what EU DSS does for it (`getATSHashIndexV3OctetString`);
/// the whole Attribute's DER is the older rule of ats-hash-index (TS 101 733 v2.2.1) and
/// ats-hash-index-v2 (EN 319 122-1 v1.0.0), which DSS keeps for those OIDs only.
fn unsigned_attribute_octets(signer: &SignerInfo) -> Result<Vec<Vec<u8>>, ArchiveError> {
    let mut octets = Vec::new();
    for attribute in signer.unsigned_attrs.iter().flat_map(|a| a.iter()) {
        let attr_type = attribute.oid.to_der()?;
        for value in attribute.values.iter() {
            let mut bytes = attr_type.clone();
            bytes.extend_from_slice(&value.to_der()?);
            octets.push(bytes);
        }
    }
    Ok(octets)
}

/// DER elements, one per member of a SET OF.
type Elements = Vec<Vec<u8>>;

/// Each CertificateChoices' and each RevocationInfoChoice's full DER, in their SETs' order.
fn certificate_and_crl_octets(signed: &SignedData) -> Result<(Elements, Elements), ArchiveError> {
    let certificates = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()?;
    let crls = signed
        .crls
        .iter()
        .flat_map(|set| set.iter())
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()?;
    Ok((certificates, crls))
}

/// The ATSHashIndexV3 of signer `signer` with `digest` (which must be the archive
/// time-stamp's imprint algorithm, §5.5.2): hashes of every certificate, every
/// RevocationInfoChoice and every value of every unsigned attribute present now.
pub fn ats_hash_index_v3(
    signed: &SignedData,
    signer: usize,
    digest: Digest,
) -> Result<AtsHashIndexV3, ArchiveError> {
    let info = signed.signer(signer)?;
    let (certificates, crls) = certificate_and_crl_octets(signed)?;
    let all = |items: &[Vec<u8>]| {
        items
            .iter()
            .map(|item| hash(digest, item))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(AtsHashIndexV3 {
        hash_ind_algorithm: (digest.oid() != ID_SHA_256).then(|| AlgorithmIdentifierOwned {
            oid: digest.oid(),
            parameters: None,
        }),
        certificates_hash_index: all(&certificates)?,
        crls_hash_index: all(&crls)?,
        unsigned_attrs_hash_index: all(&unsigned_attribute_octets(info)?)?,
    })
}

/// The exact bytes an archive-time-stamp-v3's message imprint is the hash of (§5.5.3):
/// eContentType (TLV) ‖ the hash of the signed content ‖ the SignerInfo's version, sid,
/// digestAlgorithm, signedAttrs (with its `[0]` tag), signatureAlgorithm and signature, each
/// TLV as encoded, in order ‖ the ATSHashIndexV3's DER.
pub fn archive_time_stamp_v3_input(
    signed: &SignedData,
    signer: usize,
    content_hash: &[u8],
    index_der: &[u8],
) -> Result<Vec<u8>, ArchiveError> {
    let mut input = signed.encap_content_info.econtent_type.to_der()?;
    input.extend_from_slice(content_hash);
    // The fields as they are in the SignerInfo's encoding: every element but unsignedAttrs.
    let encoded = signed.signer(signer)?.to_der()?;
    let mut reader = der::SliceReader::new(&encoded)?;
    let header = der::Header::decode(&mut reader)?;
    let mut fields = reader.read_slice(header.length)?;
    while !fields.is_empty() {
        let mut inner = der::SliceReader::new(fields)?;
        let element = inner.tlv_bytes()?;
        fields = &fields[element.len()..];
        // unsignedAttrs is `[1] IMPLICIT`, constructed: 0xA1; it is last and left out.
        if element.first() == Some(&0xA1) {
            break;
        }
        input.extend_from_slice(element);
    }
    input.extend_from_slice(index_der);
    Ok(input)
}

/// For a verifier: every hash `index` lists is present now in `signed` (its certificates, its
/// RevocationInfoChoices, signer `signer`'s unsigned attribute values). Elements added after
/// the archive time-stamp (not in the index) are allowed; a listed one that is gone is not.
pub fn check_ats_hash_index_v3(
    signed: &SignedData,
    signer: usize,
    index: &AtsHashIndexV3,
) -> Result<(), String> {
    let algorithm = index.hash_algorithm();
    let digest = Digest::from_oid(&algorithm)
        .ok_or_else(|| format!("hashIndAlgorithm {algorithm} is not a known digest"))?;
    let info = signed.signer(signer).map_err(|e| e.to_string())?;
    let (certificates, crls) = certificate_and_crl_octets(signed).map_err(|e| e.to_string())?;
    let attributes = unsigned_attribute_octets(info).map_err(|e| e.to_string())?;
    let check = |what: &str, listed: &[OctetString], present: &[Vec<u8>]| {
        let hashes = present
            .iter()
            .map(|p| hash(digest, p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        match listed.iter().position(|l| !hashes.contains(l)) {
            None => Ok(()),
            Some(i) => Err(format!(
                "{what} hash {i} of the ats-hash-index-v3 ({}) matches nothing in the signature: \
                 an element time-stamped by the archive time-stamp was removed or changed",
                hex::encode(listed[i].as_bytes())
            )),
        }
    };
    check(
        "certificatesHashIndex",
        &index.certificates_hash_index,
        &certificates,
    )?;
    check("crlsHashIndex", &index.crls_hash_index, &crls)?;
    check(
        "unsignedAttrsHashIndex",
        &index.unsigned_attrs_hash_index,
        &attributes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::attr::Attribute;

    /// NCA's real time-stamp token: a SignedData with a certificate and a signer.
    const TOKEN: &[u8] =
        include_bytes!("../../fixtures/kalkan/tsp_ocsp/tsp_token_cms_gost2004_tsa.der");
    const OCSP: &[u8] =
        include_bytes!("../../fixtures/kalkan/tsp_ocsp/ocsp_response_ceo_sign_2004_revoked.der");

    fn with_ocsp(mut signed: SignedData) -> SignedData {
        let other = Any::new(
            der::Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber::N1,
            },
            [ID_RI_OCSP_RESPONSE.to_der().expect("oid"), OCSP.to_vec()].concat(),
        )
        .expect("other");
        signed.crls = Some(SetOfVec::try_from(vec![other]).expect("set"));
        signed
    }

    fn add_unsigned(signed: &mut SignedData, oid: &str, value: &[u8]) {
        let mut signers = signed.signer_infos.0.clone().into_vec();
        let attribute = Attribute {
            oid: ObjectIdentifier::new_unwrap(oid),
            values: SetOfVec::try_from(vec![Any::encode_from(
                &OctetString::new(value).expect("o"),
            )
            .expect("any")])
            .expect("set"),
        };
        let mut attrs = signers[0].unsigned_attrs.take().unwrap_or_default();
        attrs.insert(attribute).expect("insert");
        signers[0].unsigned_attrs = Some(attrs);
        signed.signer_infos = SignerInfos(SetOfVec::try_from(signers).expect("signers"));
    }

    #[test]
    fn an_index_lists_everything_and_checks_against_its_signature() {
        let mut signed = with_ocsp(SignedData::from_content_info(TOKEN).expect("token"));
        add_unsigned(&mut signed, "1.2.840.113549.1.9.16.2.14", b"a token");
        let index = ats_hash_index_v3(&signed, 0, Digest::Sha256).expect("index");
        assert_eq!(index.certificates_hash_index.len(), 1);
        assert_eq!(index.crls_hash_index.len(), 1);
        assert_eq!(index.unsigned_attrs_hash_index.len(), 1);
        // The default hashIndAlgorithm is left out of the DER and read back.
        let der = index.to_der().expect("der");
        assert_eq!(der[2], 0x30, "certificatesHashIndex comes first");
        assert_eq!(AtsHashIndexV3::from_der(&der).expect("read"), index);
        check_ats_hash_index_v3(&signed, 0, &index).expect("valid");
        // The unsigned attribute's hash is over attrType ‖ the value (EN 319 122-1 v1.1.1).
        let mut octets = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14")
            .to_der()
            .expect("oid");
        octets.extend_from_slice(
            &OctetString::new(&b"a token"[..])
                .expect("o")
                .to_der()
                .expect("d"),
        );
        assert_eq!(
            index.unsigned_attrs_hash_index[0].as_bytes(),
            crate::crypto::sha256(&octets)
        );

        // A later unsigned attribute (the next archive time-stamp) keeps the index valid.
        add_unsigned(&mut signed, "0.4.0.1733.2.4", b"an archive time-stamp");
        check_ats_hash_index_v3(&signed, 0, &index).expect("still valid");

        // A removed certificate or revocation value is found.
        let mut gone = signed.clone();
        gone.certificates = None;
        let why = check_ats_hash_index_v3(&gone, 0, &index).expect_err("removed");
        assert!(why.contains("certificatesHashIndex"), "{why}");
        let mut gone = signed.clone();
        gone.crls = None;
        assert!(check_ats_hash_index_v3(&gone, 0, &index).is_err());
    }

    #[test]
    fn the_imprint_input_is_the_signer_fields_without_unsigned_attributes() {
        let mut signed = SignedData::from_content_info(TOKEN).expect("token");
        let before = archive_time_stamp_v3_input(&signed, 0, b"HASH", b"INDEX").expect("input");
        add_unsigned(&mut signed, "1.2.840.113549.1.9.16.2.14", b"a token");
        let after = archive_time_stamp_v3_input(&signed, 0, b"HASH", b"INDEX").expect("input");
        assert_eq!(before, after, "unsigned attributes are not part of it");
        let content_type = signed
            .encap_content_info
            .econtent_type
            .to_der()
            .expect("oid");
        assert!(before.starts_with(&[content_type.as_slice(), b"HASH"].concat()));
        assert!(before.ends_with(b"INDEX"));
        let info = signed.signer(0).expect("signer");
        let signature = info.signature.to_der().expect("sig");
        assert!(before[..before.len() - 5].ends_with(&signature));
        // The signedAttrs keep their [0] tag.
        let signed_attrs = info
            .signed_attrs
            .as_ref()
            .expect("signed attributes")
            .to_der()
            .expect("d");
        let implicit = [&[0xA0_u8][..], &signed_attrs[1..]].concat();
        assert!(before
            .windows(implicit.len())
            .any(|w| w == implicit.as_slice()));
    }

    #[test]
    fn a_signed_data_reencodes_byte_for_byte() {
        let signed = SignedData::from_content_info(TOKEN).expect("token");
        assert_eq!(signed.to_content_info().expect("der"), TOKEN);
    }
}
