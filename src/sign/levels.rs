//! CAdES baseline levels (ETSI EN 319 122-1): what level a CMS signature is at, and the pure
//! steps that take it up — a signature time-stamp (B-T), validation data (B-LT), an archive
//! time-stamp v3 (B-LTA).
//!
//! Two-phase so this room never reaches a TSA: `*_imprint` says what to time-stamp, the caller
//! obtains the token (`pki`), `with_*` puts it in. Every step re-encodes the SignedData around
//! the SignerInfo's signed attributes and signature, which are kept byte for byte (the
//! signature stays valid); only unsigned attributes, certificates and crls change.
//!
//! One signer: a CMS with several SignerInfos is refused by the steps (their SET is re-sorted
//! when one changes, so "the signer" would not stay put); [`level_of`] reports the lowest.

use cms::content_info::CmsVersion;
use cms::signed_data::{CertificateSet, SignerInfo, SignerInfos};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Tagged};
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

use super::SignError;
use crate::crypto::Digest;
use crate::x509::cms_archive::{
    self, ArchiveError, SignedData, ID_AA_ATS_HASH_INDEX_V3, ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
    ID_RI_OCSP_RESPONSE,
};

/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// A CAdES baseline level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    B,
    T,
    Lt,
    Lta,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::B => "B",
            Level::T => "T",
            Level::Lt => "LT",
            Level::Lta => "LTA",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        match s.to_ascii_uppercase().as_str() {
            "B" => Ok(Level::B),
            "T" => Ok(Level::T),
            "LT" => Ok(Level::Lt),
            "LTA" => Ok(Level::Lta),
            _ => Err(format!("{s:?} is not a level: B, T, LT or LTA")),
        }
    }
}

impl From<ArchiveError> for SignError {
    fn from(e: ArchiveError) -> Self {
        SignError::Cms(e.to_string())
    }
}

fn has(signer: &SignerInfo, oid: ObjectIdentifier) -> bool {
    signer
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .any(|a| a.oid == oid)
}

fn read(cms_der: &[u8]) -> Result<SignedData, SignError> {
    Ok(SignedData::from_content_info(cms_der)?)
}

/// The level of a CMS signature (DER ContentInfo): LTA with an archive-time-stamp-v3, LT with a
/// signature time-stamp and revocation values in SignedData.crls, T with a signature
/// time-stamp, else B. With several signers, the lowest of theirs.
pub fn level_of(cms_der: &[u8]) -> Result<Level, SignError> {
    let signed = read(cms_der)?;
    let has_revocation_values = signed.crls.as_ref().is_some_and(|c| !c.is_empty());
    signed
        .signer_infos
        .0
        .iter()
        .map(|signer| {
            if has(signer, ID_AA_ETS_ARCHIVE_TIMESTAMP_V3) {
                Level::Lta
            } else if has(signer, ID_AA_SIGNATURE_TIME_STAMP_TOKEN) && has_revocation_values {
                Level::Lt
            } else if has(signer, ID_AA_SIGNATURE_TIME_STAMP_TOKEN) {
                Level::T
            } else {
                Level::B
            }
        })
        .min()
        .ok_or_else(|| SignError::Cms("the SignedData has no SignerInfo".into()))
}

/// The one SignerInfo the steps work on.
fn only_signer(signed: &SignedData) -> Result<&SignerInfo, SignError> {
    match signed.signer_infos.0.len() {
        1 => Ok(signed.signer(0)?),
        n => Err(SignError::Cms(format!(
            "the SignedData has {n} SignerInfos; levels are added to a signature of one signer"
        ))),
    }
}

fn hash(digest: Digest, data: &[u8]) -> Result<Vec<u8>, SignError> {
    digest
        .digest(data)
        .ok_or_else(|| SignError::Cms(format!("{} is not computed here", digest.name())))
}

/// What a signature time-stamp covers: the SignerInfo's signature value (EN 319 122-1 §5.3).
pub fn signature_time_stamp_data(cms_der: &[u8]) -> Result<Vec<u8>, SignError> {
    let signed = read(cms_der)?;
    Ok(only_signer(&signed)?.signature.as_bytes().to_vec())
}

/// The message imprint a signature time-stamp must carry: the hash of the signature value.
pub fn signature_time_stamp_imprint(cms_der: &[u8], digest: Digest) -> Result<Vec<u8>, SignError> {
    hash(digest, &signature_time_stamp_data(cms_der)?)
}

/// The signer with one more unsigned attribute (a new Attribute of its own, so a second time-stamp
/// of the same type is a second attribute, as EN 319 122-1 adds them).
fn add_unsigned(
    signed: &mut SignedData,
    oid: ObjectIdentifier,
    value: Any,
) -> Result<(), SignError> {
    only_signer(signed)?;
    let mut signers = signed.signer_infos.0.clone().into_vec();
    let attribute = Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    };
    for signer in &mut signers {
        let mut attributes = signer.unsigned_attrs.take().unwrap_or_default();
        attributes.insert(attribute.clone())?;
        signer.unsigned_attrs = Some(attributes);
    }
    signed.signer_infos = SignerInfos(SetOfVec::try_from(signers)?);
    Ok(())
}

/// The CMS with `token_der` (an RFC 3161 TimeStampToken, DER ContentInfo) as its signer's
/// id-aa-signatureTimeStampToken.
pub fn with_signature_time_stamp(cms_der: &[u8], token_der: &[u8]) -> Result<Vec<u8>, SignError> {
    let mut signed = read(cms_der)?;
    add_unsigned(
        &mut signed,
        ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        Any::from_der(token_der)?,
    )?;
    Ok(signed.to_content_info()?)
}

/// The CMS with validation data (EN 319 122-1 §5.5.1, B-LT): `certificates` (DER) in
/// SignedData.certificates, `crls` (DER CertificateList) and `ocsp_responses` (DER
/// OCSPResponse, as `other` id-ri-ocsp-response, RFC 5940) in SignedData.crls. What is already
/// there is not added twice.
pub fn with_validation_data(
    cms_der: &[u8],
    certificates: &[Vec<u8>],
    crls: &[Vec<u8>],
    ocsp_responses: &[Vec<u8>],
) -> Result<Vec<u8>, SignError> {
    let mut signed = read(cms_der)?;
    let mut carried = signed.certificates.take().map(|c| c.0).unwrap_or_default();
    for der in certificates {
        let choice = cms::cert::CertificateChoices::Certificate(Certificate::from_der(der)?);
        if !carried.iter().any(|c| c == &choice) {
            carried.insert(choice)?;
        }
    }
    signed.certificates = (!carried.is_empty()).then_some(CertificateSet(carried));
    let mut revocation = signed.crls.take().unwrap_or_default();
    let mut values = Vec::new();
    for der in crls {
        // A CertificateList is the RevocationInfoChoice `crl` as it is.
        x509_cert::crl::CertificateList::from_der(der)?;
        values.push(Any::from_der(der)?);
    }
    for der in ocsp_responses {
        // OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OID, otherRevInfo ANY },
        // here as `[1] IMPLICIT`: its fields are the content of the [1].
        Any::from_der(der)?;
        let mut content = ID_RI_OCSP_RESPONSE.to_der()?;
        content.extend_from_slice(der);
        values.push(Any::new(
            der::Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber::N1,
            },
            content,
        )?);
    }
    for value in values {
        if !revocation.iter().any(|r| r == &value) {
            revocation.insert(value)?;
        }
    }
    let has_other = revocation.iter().any(|r| r.tag().is_context_specific());
    signed.crls = (!revocation.is_empty()).then_some(revocation);
    // RFC 5652 §5.1: a SignedData carrying an `other` RevocationInfoChoice is version 5.
    if has_other {
        signed.version = CmsVersion::V5;
    }
    Ok(signed.to_content_info()?)
}

/// What an archive-time-stamp-v3 covers (EN 319 122-1 §5.5.3), and the DER ATSHashIndexV3 that
/// goes with it. `detached_content`: the signed content when the CMS does not carry it.
pub fn archive_time_stamp_data(
    cms_der: &[u8],
    detached_content: Option<&[u8]>,
    digest: Digest,
) -> Result<(Vec<u8>, Vec<u8>), SignError> {
    let signed = read(cms_der)?;
    only_signer(&signed)?;
    let content_hash = match (&signed.encap_content_info.econtent, detached_content) {
        // The eContent's octets: the OCTET STRING's value (RFC 5652 §5.4).
        (Some(econtent), _) => hash(digest, econtent.decode_as::<OctetString>()?.as_bytes())?,
        (None, Some(content)) => hash(digest, content)?,
        (None, None) => {
            return Err(SignError::Cms(
                "the signature is detached: its content is needed for an archive time-stamp".into(),
            ))
        }
    };
    let index = cms_archive::ats_hash_index_v3(&signed, 0, digest)?.to_der()?;
    let data = cms_archive::archive_time_stamp_v3_input(&signed, 0, &content_hash, &index)?;
    Ok((data, index))
}

/// The message imprint an archive-time-stamp-v3 must carry, and the DER ATSHashIndexV3 to give
/// [`with_archive_time_stamp`].
pub fn archive_time_stamp_imprint(
    cms_der: &[u8],
    detached_content: Option<&[u8]>,
    digest: Digest,
) -> Result<(Vec<u8>, Vec<u8>), SignError> {
    let (data, index) = archive_time_stamp_data(cms_der, detached_content, digest)?;
    Ok((hash(digest, &data)?, index))
}

/// The CMS with `token_der` as an archive-time-stamp-v3 of its signer; `index_der` (from
/// [`archive_time_stamp_imprint`]) goes into the token's own SignerInfo as the unsigned
/// ats-hash-index-v3 attribute — outside what the TSA signed, where §5.5.3 puts it.
pub fn with_archive_time_stamp(
    cms_der: &[u8],
    token_der: &[u8],
    index_der: &[u8],
) -> Result<Vec<u8>, SignError> {
    let mut token = SignedData::from_content_info(token_der)?;
    add_unsigned(
        &mut token,
        ID_AA_ATS_HASH_INDEX_V3,
        Any::from_der(index_der)?,
    )?;
    let token = token.to_content_info()?;
    let mut signed = read(cms_der)?;
    add_unsigned(
        &mut signed,
        ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
        Any::from_der(&token)?,
    )?;
    Ok(signed.to_content_info()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_named_as_en_319_122_1_names_them() {
        let all = [Level::B, Level::T, Level::Lt, Level::Lta];
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["B", "T", "LT", "LTA"]);
        for level in all {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
        }
        assert!("LTV".parse::<Level>().is_err());
    }

    #[test]
    fn what_is_not_a_cms_signature_is_refused_not_guessed() {
        for input in [&b""[..], b"<a/>", &[0x30, 0x03, 0x02, 0x01, 0x01]] {
            assert!(
                matches!(level_of(input), Err(SignError::Cms(_))),
                "{input:?}"
            );
            assert!(signature_time_stamp_data(input).is_err());
        }
    }
}
