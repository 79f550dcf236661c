//! A certificate as the pipeline handles it: parsed once, with its DER and fingerprint.

use const_oid::db::rfc5280;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Header, Reader, SliceReader, Tag};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::Certificate;

use crate::name;

#[derive(Debug)]
pub struct Cert {
    pub der: Vec<u8>,
    pub parsed: Certificate,
    /// SHA-256 of the DER: the key of every cache.
    pub fingerprint: [u8; 32],
    /// DER of the issuer and subject Names, compared byte for byte when building paths.
    pub issuer_der: Vec<u8>,
    pub subject_der: Vec<u8>,
    /// Readable names, rendered once (reports name certificates many times).
    subject_text: String,
    issuer_text: String,
}

/// Most elements read in one SET OF. The der crate sorts a SET OF as it decodes it, by
/// insertion sort: quadratic when the elements arrive in reverse order. 4,000 signed attributes
/// (72 KB) took 20 s to decode; the 12 MiB a `POST /v1/verify` body can carry would take days
/// (issue 6, `hostile::der_lengths::many_elements_in_a_set_of_are_refused_quickly`). Real SETs
/// hold a handful: a certificate's RDNs one attribute each, a CAdES signer a few attributes.
pub const MAX_SET_ELEMENTS: usize = 64;

/// How many elements the largest SET OF in `der` holds: universal SETs, and constructed
/// context-specific fields (the implicitly tagged SETs of CMS), down to 16 levels. Linear in the
/// input, so it can run before a decoder that is not.
pub fn widest_set(der: &[u8]) -> der::Result<usize> {
    fn walk(bytes: &[u8], depth: usize, widest: &mut usize) -> der::Result<usize> {
        let mut reader = SliceReader::new(bytes)?;
        let mut count = 0;
        while !reader.is_finished() {
            let header = Header::decode(&mut reader)?;
            let value = reader.read_slice(header.length)?;
            count += 1;
            if header.tag.is_constructed() && depth < 16 {
                let children = walk(value, depth + 1, widest)?;
                if header.tag == Tag::Set || header.tag.is_context_specific() {
                    *widest = (*widest).max(children);
                }
            }
        }
        Ok(count)
    }
    let mut widest = 0;
    walk(der, 0, &mut widest)?;
    Ok(widest)
}

/// Refuses DER holding a SET OF larger than [`MAX_SET_ELEMENTS`] (before it is decoded).
pub fn check_set_sizes(der: &[u8]) -> der::Result<()> {
    if widest_set(der)? > MAX_SET_ELEMENTS {
        return Err(der::Error::new(
            der::ErrorKind::Value { tag: Tag::Set },
            der::Length::ZERO,
        ));
    }
    Ok(())
}

impl Cert {
    /// Parses DER, keeping the bytes exactly as given (signatures are checked over them).
    pub fn from_der(der: &[u8]) -> Result<Cert, der::Error> {
        check_set_sizes(der)?;
        let parsed = Certificate::from_der(der)?;
        Self::build(der.to_vec(), parsed)
    }

    pub fn from_parsed(parsed: Certificate) -> Result<Cert, der::Error> {
        let der = parsed.to_der()?;
        Self::build(der, parsed)
    }

    fn build(der: Vec<u8>, parsed: Certificate) -> Result<Cert, der::Error> {
        Ok(Cert {
            fingerprint: crate::crypto::sha256(&der),
            issuer_der: parsed.tbs_certificate.issuer.to_der()?,
            subject_der: parsed.tbs_certificate.subject.to_der()?,
            subject_text: name::display(&parsed.tbs_certificate.subject),
            issuer_text: name::display(&parsed.tbs_certificate.issuer),
            der,
            parsed,
        })
    }

    pub fn serial_hex(&self) -> String {
        hex::encode_upper(self.parsed.tbs_certificate.serial_number.as_bytes())
    }

    pub fn subject(&self) -> String {
        self.subject_text.clone()
    }

    pub fn issuer(&self) -> String {
        self.issuer_text.clone()
    }

    pub fn not_before(&self) -> i64 {
        crate::time::unix(
            &self
                .parsed
                .tbs_certificate
                .validity
                .not_before
                .to_unix_duration(),
        )
    }

    pub fn not_after(&self) -> i64 {
        crate::time::unix(
            &self
                .parsed
                .tbs_certificate
                .validity
                .not_after
                .to_unix_duration(),
        )
    }

    pub fn is_self_issued(&self) -> bool {
        self.issuer_der == self.subject_der
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<(bool, &[u8])> {
        self.parsed
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid)
            .map(|e| (e.critical, e.extn_value.as_bytes()))
    }

    pub fn key_usage(&self) -> Option<KeyUsage> {
        self.extension(rfc5280::ID_CE_KEY_USAGE)
            .and_then(|(_, v)| KeyUsage::from_der(v).ok())
    }

    pub fn extended_key_usage(&self) -> Vec<ObjectIdentifier> {
        self.extension(rfc5280::ID_CE_EXT_KEY_USAGE)
            .and_then(|(_, v)| ExtendedKeyUsage::from_der(v).ok())
            .map(|eku| eku.0)
            .unwrap_or_default()
    }

    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.extension(rfc5280::ID_CE_BASIC_CONSTRAINTS)
            .and_then(|(_, v)| BasicConstraints::from_der(v).ok())
    }

    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        self.extension(rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)
            .and_then(|(_, v)| der::asn1::OctetString::from_der(v).ok())
            .map(|o| o.as_bytes().to_vec())
    }

    pub fn authority_key_id(&self) -> Option<Vec<u8>> {
        self.extension(rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER)
            .and_then(|(_, v)| x509_cert::ext::pkix::AuthorityKeyIdentifier::from_der(v).ok())
            .and_then(|aki| aki.key_identifier)
            .map(|k| k.as_bytes().to_vec())
    }

    /// URIs of one access method in AIA (OCSP: 1.3.6.1.5.5.7.48.1, caIssuers: .48.2).
    pub fn aia_uris(&self, method: ObjectIdentifier) -> Vec<String> {
        use x509_cert::ext::pkix::name::GeneralName;
        self.extension(rfc5280::ID_PE_AUTHORITY_INFO_ACCESS)
            .and_then(|(_, v)| x509_cert::ext::pkix::AuthorityInfoAccessSyntax::from_der(v).ok())
            .map(|aia| {
                aia.0
                    .iter()
                    .filter(|a| a.access_method == method)
                    .filter_map(|a| match &a.access_location {
                        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// CRL distribution point URIs (2.5.29.31), or Freshest CRL ones (2.5.29.46).
    pub fn distribution_uris(&self, oid: ObjectIdentifier) -> Vec<String> {
        use x509_cert::ext::pkix::crl::dp::DistributionPoint;
        use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
        self.extension(oid)
            .and_then(|(_, v)| Vec::<DistributionPoint>::from_der(v).ok())
            .map(|dps| {
                dps.iter()
                    .filter_map(|dp| match &dp.distribution_point {
                        Some(DistributionPointName::FullName(names)) => Some(names),
                        _ => None,
                    })
                    .flatten()
                    .filter_map(|n| match n {
                        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Critical extensions this verifier does not process: RFC 5280 §4.2 says such a
    /// certificate must be rejected.
    pub fn unknown_critical_extensions(&self) -> Vec<String> {
        const UNDERSTOOD: &[ObjectIdentifier] = &[
            rfc5280::ID_CE_KEY_USAGE,
            rfc5280::ID_CE_BASIC_CONSTRAINTS,
            rfc5280::ID_CE_EXT_KEY_USAGE,
            rfc5280::ID_CE_CERTIFICATE_POLICIES,
            rfc5280::ID_CE_SUBJECT_ALT_NAME,
            rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS,
        ];
        self.parsed
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.critical && !UNDERSTOOD.contains(&e.extn_id))
            .map(|e| e.extn_id.to_string())
            .collect()
    }
}
