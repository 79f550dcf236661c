//! The certificate extensions qoltanba acts on, read once when the certificate is read.
//!
//! A certificate whose understood extension is malformed, or that carries any extension twice
//! (RFC 5280 §4.2: "a certificate MUST NOT include more than one instance of a particular
//! extension"), is refused as a whole: reading a malformed keyUsage as absent would let a CA
//! certificate that restricts its key pass as one that does not.

use const_oid::db::rfc5280;
use der::asn1::{ObjectIdentifier, OctetString};
use der::Decode;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage,
};
use x509_cert::ext::Extension;

use super::cert::CertError;

/// Critical extensions a certificate may carry and still be used: those read below, and the
/// policy and alternative-name extensions NCA marks critical in some profiles.
const UNDERSTOOD_CRITICAL: &[ObjectIdentifier] = &[
    rfc5280::ID_CE_KEY_USAGE,
    rfc5280::ID_CE_BASIC_CONSTRAINTS,
    rfc5280::ID_CE_EXT_KEY_USAGE,
    rfc5280::ID_CE_CERTIFICATE_POLICIES,
    rfc5280::ID_CE_SUBJECT_ALT_NAME,
    rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS,
];

/// What a certificate's extensions say, as far as qoltanba acts on it.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    pub key_usage: Option<KeyUsage>,
    /// None: no extendedKeyUsage extension (any purpose); Some: exactly these.
    pub extended_key_usage: Option<Vec<ObjectIdentifier>>,
    pub basic_constraints: Option<BasicConstraints>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// authorityInfoAccess URIs: (access method, URI).
    pub access: Vec<(ObjectIdentifier, String)>,
    /// cRLDistributionPoints full-name URIs.
    pub crl_distribution: Vec<String>,
    /// freshestCRL (delta CRL) full-name URIs.
    pub freshest_crl: Vec<String>,
    /// Critical extensions this verifier does not process (RFC 5280 §4.2: reject).
    pub unknown_critical: Vec<ObjectIdentifier>,
}

fn malformed(oid: ObjectIdentifier, name: &'static str) -> impl Fn(der::Error) -> CertError {
    move |e| CertError::MalformedExtension {
        oid,
        name,
        problem: e.to_string(),
    }
}

fn uris<'a>(
    names: impl Iterator<Item = &'a GeneralName> + 'a,
) -> impl Iterator<Item = String> + 'a {
    names.filter_map(|n| match n {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    })
}

fn distribution_uris(points: &[DistributionPoint]) -> Vec<String> {
    let full_names = points.iter().filter_map(|dp| match &dp.distribution_point {
        Some(DistributionPointName::FullName(names)) => Some(names),
        _ => None,
    });
    uris(full_names.flatten()).collect()
}

impl Extensions {
    pub(super) fn read(extensions: Option<&[Extension]>) -> Result<Extensions, CertError> {
        let mut read = Extensions::default();
        let all = extensions.unwrap_or_default();
        for (i, ext) in all.iter().enumerate() {
            if all[..i]
                .iter()
                .any(|earlier| earlier.extn_id == ext.extn_id)
            {
                return Err(CertError::DuplicateExtension(ext.extn_id));
            }
            let value = ext.extn_value.as_bytes();
            let oid = ext.extn_id;
            match oid {
                rfc5280::ID_CE_KEY_USAGE => {
                    let ku = KeyUsage::from_der(value).map_err(malformed(oid, "keyUsage"))?;
                    read.key_usage = Some(ku);
                }
                rfc5280::ID_CE_EXT_KEY_USAGE => {
                    let eku = ExtendedKeyUsage::from_der(value)
                        .map_err(malformed(oid, "extendedKeyUsage"))?;
                    read.extended_key_usage = Some(eku.0);
                }
                rfc5280::ID_CE_BASIC_CONSTRAINTS => {
                    let bc = BasicConstraints::from_der(value)
                        .map_err(malformed(oid, "basicConstraints"))?;
                    read.basic_constraints = Some(bc);
                }
                rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER => {
                    let ski = OctetString::from_der(value)
                        .map_err(malformed(oid, "subjectKeyIdentifier"))?;
                    read.subject_key_id = Some(ski.as_bytes().to_vec());
                }
                rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    let aki = AuthorityKeyIdentifier::from_der(value)
                        .map_err(malformed(oid, "authorityKeyIdentifier"))?;
                    read.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                rfc5280::ID_PE_AUTHORITY_INFO_ACCESS => {
                    let aia = AuthorityInfoAccessSyntax::from_der(value)
                        .map_err(malformed(oid, "authorityInfoAccess"))?;
                    for ad in &aia.0 {
                        let method = ad.access_method;
                        read.access.extend(
                            uris(std::iter::once(&ad.access_location)).map(|u| (method, u)),
                        );
                    }
                }
                rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS => {
                    let dps = Vec::<DistributionPoint>::from_der(value)
                        .map_err(malformed(oid, "cRLDistributionPoints"))?;
                    read.crl_distribution = distribution_uris(&dps);
                }
                rfc5280::ID_CE_FRESHEST_CRL => {
                    let dps = Vec::<DistributionPoint>::from_der(value)
                        .map_err(malformed(oid, "freshestCRL"))?;
                    read.freshest_crl = distribution_uris(&dps);
                }
                _ => {}
            }
            if ext.critical && !UNDERSTOOD_CRITICAL.contains(&oid) {
                read.unknown_critical.push(oid);
            }
        }
        Ok(read)
    }
}
