//! How CMS names signature algorithms, mapped onto the algorithm table.
//!
//! A SignerInfo gives a digest algorithm and a signature algorithm separately; the signature
//! algorithm may be the bare key algorithm (rsaEncryption, id-ecPublicKey) with the digest
//! implied, a combined one (sha256WithRSAEncryption), RSASSA-PSS with parameters, or Ed25519.

use const_oid::db::{rfc5912, rfc8410};
use der::asn1::ObjectIdentifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::algorithm::{
    GOST_2004_DIGEST, GOST_2004_PUBLIC_KEY, GOST_2004_SIGNATURE, GOST_512_DIGEST,
    GOST_512_PUBLIC_KEY, GOST_512_SIGNATURE,
};
use super::gost::Suite;
use super::CryptoError;

const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const MD5: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
const MD5_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4");
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// Digests a signature may be made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha384,
    Sha512,
    /// GOST R 34.11-2012 (Streebog), 512-bit, NCA's OID; the bytes as the hash function gives
    /// them (the order GOST signatures read as little-endian).
    Streebog512,
    /// GOST R 34.11-94 with the Test S-boxes (NCA's OID 1.2.398.3.10.1.3.1), the digest of
    /// GOST 34.310-2004; bytes as the hash function gives them.
    Gost94,
    /// Recognised only to be refused by policy.
    Sha1,
    Md5,
}

impl Digest {
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Digest> {
        Some(match *oid {
            rfc5912::ID_SHA_256 => Digest::Sha256,
            rfc5912::ID_SHA_384 => Digest::Sha384,
            rfc5912::ID_SHA_512 => Digest::Sha512,
            GOST_512_DIGEST => Digest::Streebog512,
            GOST_2004_DIGEST => Digest::Gost94,
            rfc5912::ID_SHA_1 => Digest::Sha1,
            MD5 => Digest::Md5,
            _ => return None,
        })
    }

    /// The OID a digestAlgorithm field names this digest by.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Digest::Sha256 => rfc5912::ID_SHA_256,
            Digest::Sha384 => rfc5912::ID_SHA_384,
            Digest::Sha512 => rfc5912::ID_SHA_512,
            Digest::Streebog512 => GOST_512_DIGEST,
            Digest::Gost94 => GOST_2004_DIGEST,
            Digest::Sha1 => rfc5912::ID_SHA_1,
            Digest::Md5 => MD5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha256 => "SHA-256",
            Digest::Sha384 => "SHA-384",
            Digest::Sha512 => "SHA-512",
            Digest::Streebog512 => "GOST R 34.11-2012 (Streebog-512)",
            Digest::Gost94 => "GOST R 34.11-94",
            Digest::Sha1 => "SHA-1",
            Digest::Md5 => "MD5",
        }
    }

    /// Too weak for signatures (ETSI TS 119 312): SHA-1 and MD5.
    pub fn is_weak(self) -> bool {
        matches!(self, Digest::Sha1 | Digest::Md5)
    }

    /// The digest of `data`; None for MD5, which nothing here computes.
    pub fn digest(self, data: &[u8]) -> Option<Vec<u8>> {
        let alg = match self {
            Digest::Sha256 => &ring::digest::SHA256,
            Digest::Sha384 => &ring::digest::SHA384,
            Digest::Sha512 => &ring::digest::SHA512,
            Digest::Streebog512 => return Some(Suite::Gost2015.hash(data)),
            Digest::Gost94 => return Some(Suite::Gost2004.hash(data)),
            Digest::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Md5 => return None,
        };
        Some(ring::digest::digest(alg, data).as_ref().to_vec())
    }
}

/// A CMS signature algorithm, resolved against the signer's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmsSignature {
    RsaPkcs1(Digest),
    RsaPss(Digest),
    Ecdsa {
        digest: Digest,
        p384: bool,
    },
    Ed25519,
    /// NCA's GOST signatures: 34.10-2015 (512) with Streebog-512, 34.310-2004 with GOST R 34.11-94.
    Gost(Suite),
}

impl CmsSignature {
    /// Resolves (digestAlgorithm, signatureAlgorithm) for a key. Weak digests are returned, not
    /// refused, so the caller can report them as a policy failure rather than a format error.
    pub fn resolve(
        digest_algorithm: &ObjectIdentifier,
        signature_algorithm: &AlgorithmIdentifierOwned,
        key: &SubjectPublicKeyInfoOwned,
    ) -> Result<CmsSignature, CryptoError> {
        let unsupported = || CryptoError::UnsupportedSignature(signature_algorithm.oid.to_string());
        let digest = Digest::from_oid(digest_algorithm).ok_or_else(|| {
            CryptoError::UnsupportedSignature(format!("digest {digest_algorithm}"))
        })?;
        let combined = |d: Digest| -> Result<Digest, CryptoError> {
            // A combined identifier must agree with the digestAlgorithm field.
            if d == digest {
                Ok(d)
            } else {
                Err(CryptoError::UnsupportedSignature(format!(
                    "signature algorithm {} disagrees with digest {}",
                    signature_algorithm.oid,
                    digest.name()
                )))
            }
        };
        let alg = match signature_algorithm.oid {
            rfc5912::RSA_ENCRYPTION => CmsSignature::RsaPkcs1(digest),
            rfc5912::SHA_256_WITH_RSA_ENCRYPTION => {
                CmsSignature::RsaPkcs1(combined(Digest::Sha256)?)
            }
            rfc5912::SHA_384_WITH_RSA_ENCRYPTION => {
                CmsSignature::RsaPkcs1(combined(Digest::Sha384)?)
            }
            rfc5912::SHA_512_WITH_RSA_ENCRYPTION => {
                CmsSignature::RsaPkcs1(combined(Digest::Sha512)?)
            }
            rfc5912::SHA_1_WITH_RSA_ENCRYPTION => CmsSignature::RsaPkcs1(combined(Digest::Sha1)?),
            MD5_WITH_RSA => CmsSignature::RsaPkcs1(combined(Digest::Md5)?),
            RSASSA_PSS => CmsSignature::RsaPss(digest),
            rfc5912::ID_EC_PUBLIC_KEY => CmsSignature::Ecdsa {
                digest,
                p384: false,
            },
            rfc5912::ECDSA_WITH_SHA_256 => CmsSignature::Ecdsa {
                digest: combined(Digest::Sha256)?,
                p384: false,
            },
            rfc5912::ECDSA_WITH_SHA_384 => CmsSignature::Ecdsa {
                digest: combined(Digest::Sha384)?,
                p384: false,
            },
            rfc5912::ECDSA_WITH_SHA_512 => CmsSignature::Ecdsa {
                digest: combined(Digest::Sha512)?,
                p384: false,
            },
            ECDSA_WITH_SHA_1 => CmsSignature::Ecdsa {
                digest: combined(Digest::Sha1)?,
                p384: false,
            },
            rfc8410::ID_ED_25519 => CmsSignature::Ed25519,
            // NCA names the signature, or (like rsaEncryption) the bare key algorithm.
            GOST_512_SIGNATURE | GOST_512_PUBLIC_KEY => gost(Suite::Gost2015, digest)?,
            GOST_2004_SIGNATURE | GOST_2004_PUBLIC_KEY => gost(Suite::Gost2004, digest)?,
            _ => return Err(unsupported()),
        };
        let alg = alg.for_key(key)?;
        if let CmsSignature::RsaPss(d) = alg {
            check_pss_parameters(signature_algorithm, d)?;
        }
        Ok(alg)
    }

    /// The algorithm checked against the signer's key: the key must be of the kind the
    /// algorithm names (an identifier cannot lie), and an ECDSA key's curve picks P-256/P-384.
    /// CMS identifiers and XMLDSig URIs (`xml_algorithms`) both end here.
    pub fn for_key(self, key: &SubjectPublicKeyInfoOwned) -> Result<CmsSignature, CryptoError> {
        let alg = self;
        let key_oid = key.algorithm.oid;
        let expected_key = match alg {
            CmsSignature::RsaPkcs1(_) | CmsSignature::RsaPss(_) => rfc5912::RSA_ENCRYPTION,
            CmsSignature::Ecdsa { .. } => rfc5912::ID_EC_PUBLIC_KEY,
            CmsSignature::Ed25519 => rfc8410::ID_ED_25519,
            CmsSignature::Gost(Suite::Gost2015) => GOST_512_PUBLIC_KEY,
            CmsSignature::Gost(Suite::Gost2004) => GOST_2004_PUBLIC_KEY,
        };
        if key_oid != expected_key
            && !(key_oid == RSASSA_PSS && matches!(alg, CmsSignature::RsaPss(_)))
        {
            return Err(CryptoError::UnsupportedSignature(format!(
                "{} does not fit a {key_oid} key",
                alg.name()
            )));
        }
        if let CmsSignature::Ecdsa { digest, .. } = alg {
            let curve: Option<ObjectIdentifier> = key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok());
            let p384 = match curve {
                Some(rfc5912::SECP_256_R_1) => false,
                Some(rfc5912::SECP_384_R_1) => true,
                _ => {
                    return Err(CryptoError::UnsupportedKey(
                        "EC curve other than P-256/P-384".into(),
                    ))
                }
            };
            return Ok(CmsSignature::Ecdsa { digest, p384 });
        }
        Ok(alg)
    }

    pub fn digest(self) -> Option<Digest> {
        match self {
            CmsSignature::RsaPkcs1(d) | CmsSignature::RsaPss(d) => Some(d),
            CmsSignature::Ecdsa { digest, .. } => Some(digest),
            CmsSignature::Ed25519 => None,
            CmsSignature::Gost(Suite::Gost2015) => Some(Digest::Streebog512),
            CmsSignature::Gost(Suite::Gost2004) => Some(Digest::Gost94),
        }
    }

    /// The name reports show: "RSA SHA-256", "ECDSA P-256 SHA-256", "GOST 34.310-2004", ….
    pub fn name(self) -> String {
        let digest = |d: Digest| d.name();
        match self {
            CmsSignature::RsaPkcs1(d) => format!("RSA {}", digest(d)),
            CmsSignature::RsaPss(d) => format!("RSA-PSS {}", digest(d)),
            CmsSignature::Ecdsa { digest: d, p384 } => {
                let curve = if p384 { "P-384" } else { "P-256" };
                format!("ECDSA {curve} {}", digest(d))
            }
            CmsSignature::Ed25519 => "Ed25519".into(),
            CmsSignature::Gost(suite) => suite.name().into(),
        }
    }

    /// Verifies a signature over `message` (the DER signed attributes, or the content).
    pub fn verify(
        self,
        key: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        use ring::signature as sig;
        if let CmsSignature::Gost(suite) = self {
            // One table for certificates, CRLs and CMS: the GOST row verifies it.
            let row = match suite {
                Suite::Gost2015 => super::SignatureAlgorithm::Gost512,
                Suite::Gost2004 => super::SignatureAlgorithm::Gost2004,
            };
            return super::verify_signature(&row.identifier(), key, message, signature);
        }
        let ring_alg: &'static dyn sig::VerificationAlgorithm = match self {
            CmsSignature::RsaPkcs1(Digest::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
            CmsSignature::RsaPkcs1(Digest::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
            CmsSignature::RsaPkcs1(Digest::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
            CmsSignature::RsaPss(Digest::Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
            CmsSignature::RsaPss(Digest::Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
            CmsSignature::RsaPss(Digest::Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
            CmsSignature::Ecdsa {
                digest: Digest::Sha256,
                p384: false,
            } => &sig::ECDSA_P256_SHA256_ASN1,
            CmsSignature::Ecdsa {
                digest: Digest::Sha384,
                p384: false,
            } => &sig::ECDSA_P256_SHA384_ASN1,
            CmsSignature::Ecdsa {
                digest: Digest::Sha256,
                p384: true,
            } => &sig::ECDSA_P384_SHA256_ASN1,
            CmsSignature::Ecdsa {
                digest: Digest::Sha384,
                p384: true,
            } => &sig::ECDSA_P384_SHA384_ASN1,
            CmsSignature::Ed25519 => &sig::ED25519,
            other => {
                return Err(CryptoError::UnsupportedSignature(other.name()));
            }
        };
        let key_bytes = key
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CryptoError::BadPublicKey("public key is not whole bytes".into()))?;
        sig::UnparsedPublicKey::new(ring_alg, key_bytes)
            .verify(message, signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// A GOST signature named in CMS: its digestAlgorithm must be the suite's own hash.
fn gost(suite: Suite, digest: Digest) -> Result<CmsSignature, CryptoError> {
    let alg = CmsSignature::Gost(suite);
    if alg.digest() != Some(digest) {
        return Err(CryptoError::UnsupportedSignature(format!(
            "{} with {} (it signs {} digests)",
            suite.name(),
            digest.name(),
            alg.digest().map_or("other", Digest::name)
        )));
    }
    Ok(alg)
}

/// ring verifies PSS with MGF1 over the same digest, a salt as long as the digest and the
/// trailer 0xBC: accept exactly those parameters (what every CMS producer we know writes), each
/// one checked, and refuse others — a signature must not claim parameters other than the ones
/// it was verified with (RFC 4055 §3.1; RFC 8017 A.2.3 allows trailerField 1 only).
fn check_pss_parameters(alg: &AlgorithmIdentifierOwned, digest: Digest) -> Result<(), CryptoError> {
    let refuse = |what: &str| {
        CryptoError::UnsupportedSignature(format!(
            "RSASSA-PSS {what} (only MGF1 with the signature's digest, a digest-length salt and trailerField 1 are accepted)"
        ))
    };
    let (digest_oid, salt_len) = match digest {
        Digest::Sha256 => (rfc5912::ID_SHA_256, 32),
        Digest::Sha384 => (rfc5912::ID_SHA_384, 48),
        Digest::Sha512 => (rfc5912::ID_SHA_512, 64),
        _ => return Err(refuse(&format!("with {}", digest.name()))),
    };
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| refuse("without parameters"))?;
    let der = der::Encode::to_der(params).map_err(|_| refuse("parameters unreadable"))?;
    // pkcs1 refuses any trailerField other than 1 while decoding.
    let params = pkcs1::RsaPssParams::try_from(der.as_slice())
        .map_err(|e| refuse(&format!("parameters malformed: {e}")))?;
    // An absent or NULL parameter of a SHA-2 identifier is the same algorithm (RFC 5754 §2).
    let sha2 = |ai: &spki::AlgorithmIdentifierRef<'_>| {
        ai.oid == digest_oid && ai.parameters.is_none_or(|p| p.is_null())
    };
    if !sha2(&params.hash) {
        return Err(refuse(&format!("hash {}", params.hash.oid)));
    }
    let mgf1_hash = params.mask_gen.parameters.as_ref();
    if params.mask_gen.oid != rfc5912::ID_MGF_1 || !mgf1_hash.is_some_and(sha2) {
        return Err(refuse("mask generation function"));
    }
    if params.salt_len != salt_len {
        return Err(refuse(&format!("salt length {}", params.salt_len)));
    }
    Ok(())
}

/// Size of an RSA key's modulus in bits, for the key-size policy.
pub fn rsa_modulus_bits(key: &SubjectPublicKeyInfoOwned) -> Option<usize> {
    if key.algorithm.oid != rfc5912::RSA_ENCRYPTION && key.algorithm.oid != RSASSA_PSS {
        return None;
    }
    let bytes = key.subject_public_key.as_bytes()?;
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    let mut reader = der::SliceReader::new(bytes).ok()?;
    let modulus: der::asn1::UintRef<'_> = der::Reader::sequence(&mut reader, |r| {
        let m: der::asn1::UintRef<'_> = der::Decode::decode(r)?;
        let _e: der::asn1::UintRef<'_> = der::Decode::decode(r)?;
        Ok(m)
    })
    .ok()?;
    let m = modulus.as_bytes();
    let lead = m.first().copied().unwrap_or(0);
    Some(m.len() * 8 - lead.leading_zeros() as usize)
}
