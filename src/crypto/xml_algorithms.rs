//! How XMLDSig names algorithms (by URI), mapped onto the algorithm table: the one place that
//! knows the URIs, for verification (`verify`'s XML adapter) and for signing (`sign`).
//!
//! URIs: RFC 6931 (RSA, RSA-PSS with MGF1, ECDSA, digests), RFC 9231 (Ed25519), XMLDSig 1.1
//! (SHA-1, refused by policy), and NCA RK's own for GOST (`../shared/kalkan-samples/README.md`).

use der::{Decode, Encode};

use super::gost::Suite;
use super::{CmsSignature, CryptoError, Digest, SignatureAlgorithm};

/// The kind of signature a SignatureMethod names; its digest comes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlFamily {
    RsaPkcs1,
    /// RSASSA-PSS with MGF1 over the same digest and a digest-length salt (RFC 6931 §2.3.10).
    RsaPss,
    /// The value is r‖s of the curve's field size (XMLDSig §6.4.3), not DER.
    Ecdsa,
    Ed25519,
    /// NCA's GOST (both generations): r‖s little-endian, as in CMS.
    Gost,
}

/// One SignatureMethod row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlSignatureMethod {
    pub uri: &'static str,
    pub family: XmlFamily,
    /// None for Ed25519 (it hashes inside).
    pub digest: Option<Digest>,
}

const GOST_2015_512: &str =
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512";
const GOST_2015_512_DIGEST: &str =
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512";
const GOST_2004: &str = "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311";
const GOST_2004_DIGEST: &str = "http://www.w3.org/2001/04/xmldsig-more#gost34311";

macro_rules! rows {
    ($($uri:expr => $family:ident, $digest:expr;)*) => {
        &[$(XmlSignatureMethod { uri: $uri, family: XmlFamily::$family, digest: $digest },)*]
    };
}

const SIGNATURE_METHODS: &[XmlSignatureMethod] = rows! {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => RsaPkcs1, Some(Digest::Sha256);
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => RsaPkcs1, Some(Digest::Sha384);
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => RsaPkcs1, Some(Digest::Sha512);
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => RsaPkcs1, Some(Digest::Sha1);
    "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1" => RsaPss, Some(Digest::Sha256);
    "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1" => RsaPss, Some(Digest::Sha384);
    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1" => RsaPss, Some(Digest::Sha512);
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => Ecdsa, Some(Digest::Sha256);
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => Ecdsa, Some(Digest::Sha384);
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1" => Ecdsa, Some(Digest::Sha1);
    "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519" => Ed25519, None;
    GOST_2015_512 => Gost, Some(Digest::Streebog512);
    GOST_2004 => Gost, Some(Digest::Gost94);
};

const DIGEST_METHODS: &[(&str, Digest)] = &[
    ("http://www.w3.org/2001/04/xmlenc#sha256", Digest::Sha256),
    (
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        Digest::Sha384,
    ),
    ("http://www.w3.org/2001/04/xmlenc#sha512", Digest::Sha512),
    ("http://www.w3.org/2000/09/xmldsig#sha1", Digest::Sha1),
    (GOST_2015_512_DIGEST, Digest::Streebog512),
    (GOST_2004_DIGEST, Digest::Gost94),
];

impl XmlSignatureMethod {
    /// The row for a SignatureMethod Algorithm URI.
    pub fn from_uri(uri: &str) -> Option<&'static XmlSignatureMethod> {
        SIGNATURE_METHODS.iter().find(|m| m.uri == uri)
    }

    /// The row a key of this service signs XML with.
    pub fn for_signing(algorithm: SignatureAlgorithm) -> &'static XmlSignatureMethod {
        let uri = match algorithm {
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
            }
            SignatureAlgorithm::RsaPkcs1Sha384 => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
            }
            SignatureAlgorithm::RsaPkcs1Sha512 => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
            }
            SignatureAlgorithm::EcdsaP256Sha256 => {
                "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
            }
            SignatureAlgorithm::EcdsaP384Sha384 => {
                "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
            }
            SignatureAlgorithm::Ed25519 => "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
            SignatureAlgorithm::Gost512 => GOST_2015_512,
            SignatureAlgorithm::Gost2004 => GOST_2004,
        };
        // Every URI above is a row of SIGNATURE_METHODS (a unit test walks them all).
        SIGNATURE_METHODS
            .iter()
            .find(|m| m.uri == uri)
            .unwrap_or(&SIGNATURE_METHODS[0])
    }

    /// The algorithm checked against the signer's key, as the signature step verifies it.
    pub fn resolve(
        &self,
        key: &spki::SubjectPublicKeyInfoOwned,
    ) -> Result<CmsSignature, CryptoError> {
        let digest = || {
            self.digest
                .ok_or_else(|| CryptoError::UnsupportedSignature(self.uri.to_owned()))
        };
        let alg = match self.family {
            XmlFamily::RsaPkcs1 => CmsSignature::RsaPkcs1(digest()?),
            XmlFamily::RsaPss => CmsSignature::RsaPss(digest()?),
            XmlFamily::Ecdsa => CmsSignature::Ecdsa {
                digest: digest()?,
                p384: false,
            },
            XmlFamily::Ed25519 => CmsSignature::Ed25519,
            XmlFamily::Gost => match digest()? {
                Digest::Streebog512 => CmsSignature::Gost(Suite::Gost2015),
                Digest::Gost94 => CmsSignature::Gost(Suite::Gost2004),
                _ => return Err(CryptoError::UnsupportedSignature(self.uri.to_owned())),
            },
        };
        alg.for_key(key)
    }

    /// The SignatureValue bytes in the form `CmsSignature::verify` takes: ECDSA's r‖s becomes
    /// DER; every other family is used as it is.
    pub fn value_for_verification(&self, value: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.family {
            XmlFamily::Ecdsa => ecdsa_fixed_to_der(value),
            _ => Ok(value.to_vec()),
        }
    }

    /// A signature made by `SigningKey::sign` in the form SignatureValue carries (ECDSA: DER
    /// becomes r‖s of `field_len` bytes each).
    pub fn value_for_xml(
        &self,
        signature: &[u8],
        field_len: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        match self.family {
            XmlFamily::Ecdsa => ecdsa_der_to_fixed(signature, field_len),
            _ => Ok(signature.to_vec()),
        }
    }
}

/// The digest a DigestMethod Algorithm URI names. An unknown URI is an error naming it.
pub fn xml_digest(uri: &str) -> Result<Digest, CryptoError> {
    DIGEST_METHODS
        .iter()
        .find(|(u, _)| *u == uri)
        .map(|(_, d)| *d)
        .ok_or_else(|| CryptoError::UnsupportedSignature(format!("DigestMethod {uri}")))
}

/// The DigestMethod URI of a digest (None for MD5, which XMLDSig never names).
pub fn xml_digest_uri(digest: Digest) -> Option<&'static str> {
    DIGEST_METHODS
        .iter()
        .find(|(_, d)| *d == digest)
        .map(|(u, _)| *u)
}

fn ecdsa_fixed_to_der(value: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if value.is_empty() || value.len() % 2 != 0 || value.len() > 132 {
        return Err(CryptoError::BadSignature);
    }
    let (r, s) = value.split_at(value.len() / 2);
    let encode = || -> der::Result<Vec<u8>> {
        let body = [
            der::asn1::UintRef::new(r)?.to_der()?,
            der::asn1::UintRef::new(s)?.to_der()?,
        ]
        .concat();
        let mut der =
            der::Header::new(der::Tag::Sequence, der::Length::try_from(body.len())?)?.to_der()?;
        der.extend_from_slice(&body);
        Ok(der)
    };
    encode().map_err(|_| CryptoError::BadSignature)
}

fn ecdsa_der_to_fixed(der: &[u8], field_len: usize) -> Result<Vec<u8>, CryptoError> {
    let failed = |_| CryptoError::Signing;
    let mut reader = der::SliceReader::new(der).map_err(failed)?;
    let (r, s) = der::Reader::sequence(&mut reader, |seq| {
        let r = der::asn1::UintRef::decode(seq)?;
        let s = der::asn1::UintRef::decode(seq)?;
        Ok((r.as_bytes().to_vec(), s.as_bytes().to_vec()))
    })
    .map_err(failed)?;
    let mut out = vec![0u8; 2 * field_len];
    for (i, part) in [r, s].iter().enumerate() {
        if part.len() > field_len {
            return Err(CryptoError::Signing);
        }
        let end = (i + 1) * field_len;
        out[end - part.len()..end].copy_from_slice(part);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_signs_with_a_row_of_the_table() {
        for key in crate::crypto::KeyAlgorithm::ALL {
            let alg = key.signature_algorithm();
            let row = XmlSignatureMethod::for_signing(alg);
            assert_eq!(XmlSignatureMethod::from_uri(row.uri), Some(row), "{alg:?}");
        }
    }

    #[test]
    fn ecdsa_values_convert_both_ways() {
        let mut fixed = vec![0u8; 64];
        fixed[0] = 0x80; // r needs a leading zero in DER
        fixed[63] = 1; // s is short
        let row =
            XmlSignatureMethod::from_uri("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")
                .unwrap();
        let der = row.value_for_verification(&fixed).unwrap();
        assert_eq!(row.value_for_xml(&der, 32).unwrap(), fixed);
        assert!(row.value_for_verification(&fixed[..63]).is_err());
    }

    #[test]
    fn digests_by_uri() {
        assert_eq!(
            xml_digest("http://www.w3.org/2001/04/xmlenc#sha256").unwrap(),
            Digest::Sha256
        );
        assert_eq!(xml_digest(GOST_2004_DIGEST).unwrap(), Digest::Gost94);
        assert!(xml_digest("http://example.com/md5").is_err());
        assert_eq!(
            xml_digest_uri(Digest::Streebog512),
            Some(GOST_2015_512_DIGEST)
        );
    }
}
