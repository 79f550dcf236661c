//! X.509 extensions in the NCA RK profile.

use const_oid::db::rfc5280;
use const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;
use const_oid::AssociatedOid;
use der::asn1::{Any, Ia5String, ObjectIdentifier, OctetString, Utf8StringRef};
use der::{Encode, Sequence};
use flagset::FlagSet;
use x509_cert::ext::pkix::certpolicy::{PolicyInformation, PolicyQualifierInfo};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CertificatePolicies, CrlDistributionPoints, ExtendedKeyUsage, FreshestCrl, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;

use super::declared::KeyUsageBit;
use super::PkiError;

fn extension<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn uri(url: &str) -> Result<GeneralName, PkiError> {
    Ia5String::new(url)
        .map(GeneralName::UniformResourceIdentifier)
        .map_err(|_| PkiError::Config(format!("URL {url:?} is not ASCII")))
}

/// keyUsage, always critical (RFC 5280 recommends it; NCA marks it so).
pub(super) fn key_usage(bits: FlagSet<KeyUsages>) -> Result<Extension, PkiError> {
    extension(&KeyUsage(bits), true)
}

pub(super) fn key_usage_from_profile(bits: &[KeyUsageBit]) -> Result<Extension, PkiError> {
    let mut set = FlagSet::<KeyUsages>::default();
    for bit in bits {
        set |= match bit {
            KeyUsageBit::DigitalSignature => KeyUsages::DigitalSignature,
            KeyUsageBit::NonRepudiation => KeyUsages::NonRepudiation,
            KeyUsageBit::KeyEncipherment => KeyUsages::KeyEncipherment,
            KeyUsageBit::DataEncipherment => KeyUsages::DataEncipherment,
            KeyUsageBit::KeyAgreement => KeyUsages::KeyAgreement,
        };
    }
    key_usage(set)
}

pub(super) fn extended_key_usage(
    oids: &[ObjectIdentifier],
    critical: bool,
) -> Result<Extension, PkiError> {
    extension(&ExtendedKeyUsage(oids.to_vec()), critical)
}

pub(super) fn basic_constraints_ca(path_len: Option<u8>) -> Result<Extension, PkiError> {
    extension(
        &BasicConstraints {
            ca: true,
            path_len_constraint: path_len,
        },
        true,
    )
}

pub(super) fn subject_key_identifier(key_id: &[u8]) -> Result<Extension, PkiError> {
    extension(&SubjectKeyIdentifier(OctetString::new(key_id)?), false)
}

pub(super) fn authority_key_identifier(key_id: &[u8]) -> Result<Extension, PkiError> {
    extension(
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(key_id)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
        false,
    )
}

/// UserNotice carrying only explicitText as a UTF8String, as NCA writes it. (x509-cert 0.2's
/// own UserNotice mistypes noticeRef, so it is encoded here.)
#[derive(Sequence)]
struct ExplicitTextNotice<'a> {
    explicit_text: Utf8StringRef<'a>,
}

/// certificatePolicies with a CPS pointer; `user_notice` adds NCA's UserNotice repeating the CPS
/// URL (subscriber certificates carry it, CA certificates do not).
pub(super) fn certificate_policies(
    policy: ObjectIdentifier,
    cps_url: &str,
    user_notice: bool,
) -> Result<Extension, PkiError> {
    let mut qualifiers = vec![PolicyQualifierInfo {
        policy_qualifier_id: rfc5280::ID_QT_CPS,
        qualifier: Some(Any::encode_from(&Ia5String::new(cps_url)?)?),
    }];
    if user_notice {
        let notice = ExplicitTextNotice {
            explicit_text: Utf8StringRef::new(cps_url)?,
        };
        qualifiers.push(PolicyQualifierInfo {
            policy_qualifier_id: rfc5280::ID_QT_UNOTICE,
            qualifier: Some(Any::encode_from(&notice)?),
        });
    }
    extension(
        &CertificatePolicies(vec![PolicyInformation {
            policy_identifier: policy,
            policy_qualifiers: Some(qualifiers),
        }]),
        false,
    )
}

fn distribution_point(url: &str) -> Result<DistributionPoint, PkiError> {
    Ok(DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
        reasons: None,
        crl_issuer: None,
    })
}

pub(super) fn crl_distribution_points(url: &str) -> Result<Extension, PkiError> {
    extension(
        &CrlDistributionPoints(vec![distribution_point(url)?]),
        false,
    )
}

/// Freshest CRL: where the delta CRL is published (RFC 5280 §4.2.1.15).
pub(super) fn freshest_crl(url: &str) -> Result<Extension, PkiError> {
    extension(&FreshestCrl(vec![distribution_point(url)?]), false)
}

pub(super) fn authority_info_access(
    ca_issuers: &str,
    ocsp: Option<&str>,
) -> Result<Extension, PkiError> {
    let mut access = vec![AccessDescription {
        access_method: rfc5280::ID_AD_CA_ISSUERS,
        access_location: uri(ca_issuers)?,
    }];
    if let Some(ocsp) = ocsp {
        access.push(AccessDescription {
            access_method: rfc5280::ID_AD_OCSP,
            access_location: uri(ocsp)?,
        });
    }
    extension(&AuthorityInfoAccessSyntax(access), false)
}

pub(super) fn ocsp_nocheck() -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: ID_PKIX_OCSP_NOCHECK,
        critical: false,
        extn_value: OctetString::new(der::asn1::Null.to_der()?)?,
    })
}
