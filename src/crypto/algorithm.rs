//! Key and signature algorithms by name and by OID.

use const_oid::db::{rfc5912, rfc8410};
use der::asn1::{Any, ObjectIdentifier};
use spki::AlgorithmIdentifierOwned;
use std::fmt;
use std::str::FromStr;

use super::{CryptoError, Digest};

/// The key types this service can generate, named as the CLI and API spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    #[default]
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
    Ed25519,
    /// GOST R 34.10-2012 (NCA's "GOST 34.10-2015") on id-tc26-gost-3410-12-512-paramSetA, under
    /// Kazakhstan's OIDs, as NCA RK's current hierarchy uses.
    #[serde(rename = "gost2015")]
    Gost2015,
    /// NCA's older "GOST 34.310-2004": GOST R 34.10-2001 on the CryptoPro-A curve with
    /// GOST R 34.11-94 (Test S-boxes), under Kazakhstan's OIDs.
    #[serde(rename = "gost2004")]
    Gost2004,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 7] = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
        KeyAlgorithm::P256,
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::Gost2015,
        KeyAlgorithm::Gost2004,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::Rsa3072 => "rsa3072",
            KeyAlgorithm::Rsa4096 => "rsa4096",
            KeyAlgorithm::P256 => "p256",
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::Gost2015 => "gost2015",
            KeyAlgorithm::Gost2004 => "gost2004",
        }
    }

    /// Modulus size for RSA keys.
    pub(crate) fn rsa_bits(self) -> Option<usize> {
        match self {
            KeyAlgorithm::Rsa2048 => Some(2048),
            KeyAlgorithm::Rsa3072 => Some(3072),
            KeyAlgorithm::Rsa4096 => Some(4096),
            KeyAlgorithm::P256
            | KeyAlgorithm::Ed25519
            | KeyAlgorithm::Gost2015
            | KeyAlgorithm::Gost2004 => None,
        }
    }

    /// The signature algorithm a key of this type signs with. SHA-256 for RSA and ECDSA, as NCA
    /// RK's RSA certificates use; Streebog-512 for GOST-2015, GOST R 34.11-94 for GOST-2004.
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                SignatureAlgorithm::RsaPkcs1Sha256
            }
            KeyAlgorithm::P256 => SignatureAlgorithm::EcdsaP256Sha256,
            KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
            KeyAlgorithm::Gost2015 => SignatureAlgorithm::Gost512,
            KeyAlgorithm::Gost2004 => SignatureAlgorithm::Gost2004,
        }
    }

    /// The digest a CMS signature by this key puts in messageDigest: SHA-512 with Ed25519
    /// (RFC 8419), the suite's own with GOST (as NCA signs), SHA-256 otherwise.
    pub fn cms_digest(self) -> Digest {
        match self {
            KeyAlgorithm::Ed25519 => Digest::Sha512,
            KeyAlgorithm::Gost2015 => Digest::Streebog512,
            KeyAlgorithm::Gost2004 => Digest::Gost94,
            _ => Digest::Sha256,
        }
    }

    /// The GOST suite of a GOST key type.
    pub(crate) fn gost_suite(self) -> Option<super::gost::Suite> {
        match self {
            KeyAlgorithm::Gost2015 => Some(super::gost::Suite::Gost2015),
            KeyAlgorithm::Gost2004 => Some(super::gost::Suite::Gost2004),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                CryptoError::UnsupportedKey(format!(
                    "{s:?} (expected one of {})",
                    KeyAlgorithm::ALL.map(KeyAlgorithm::name).join(", ")
                ))
            })
    }
}

/// Signature algorithms this service produces and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    EcdsaP256Sha256,
    EcdsaP384Sha384,
    Ed25519,
    /// GOST R 34.10-2012, 512-bit, with Streebog-512, under Kazakhstan's OID (NCA's GOST-2015).
    Gost512,
    /// GOST R 34.10-2001 (CryptoPro-A) with GOST R 34.11-94, Kazakhstan's OID (GOST 34.310-2004).
    Gost2004,
}

/// Kazakhstan's OIDs for NCA's GOST-2015 keys and signatures.
pub(super) const GOST_512_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.3.2");
pub(super) const GOST_512_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2");
/// The key's parameters: the curve (id-tc26-gost-3410-12-512-paramSetA under NCA's arc).
pub(super) const GOST_512_PARAMETERS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2.1");
/// Streebog-512 (GOST 34.11-2015) under NCA's arc.
pub(super) const GOST_512_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.3");

/// Kazakhstan's OIDs for NCA's GOST 34.310-2004 keys and signatures.
pub(super) const GOST_2004_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.2");
pub(super) const GOST_2004_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.1");
/// The curve (GOST R 34.10-2001 CryptoPro-A under NCA's arc).
pub(super) const GOST_2004_PARAMETERS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.1.1");
/// The digest parameters a GOST 34.310-2004 key names (GOST R 34.11-94, Test S-boxes).
pub(super) const GOST_2004_DIGEST_PARAMETERS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1.1.0");
/// GOST R 34.11-94 (GOST 34.311-95) under NCA's arc.
pub(super) const GOST_2004_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1");

impl SignatureAlgorithm {
    /// Every row, for lookups by OID.
    pub const ALL: [SignatureAlgorithm; 8] = [
        SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureAlgorithm::RsaPkcs1Sha384,
        SignatureAlgorithm::RsaPkcs1Sha512,
        SignatureAlgorithm::EcdsaP256Sha256,
        SignatureAlgorithm::EcdsaP384Sha384,
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::Gost512,
        SignatureAlgorithm::Gost2004,
    ];

    /// The name reports and logs show: how NCA RK and its users call the algorithm.
    pub fn display_name(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => "RSA SHA-256",
            SignatureAlgorithm::RsaPkcs1Sha384 => "RSA SHA-384",
            SignatureAlgorithm::RsaPkcs1Sha512 => "RSA SHA-512",
            SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 SHA-256",
            SignatureAlgorithm::EcdsaP384Sha384 => "ECDSA P-384 SHA-384",
            SignatureAlgorithm::Ed25519 => "Ed25519",
            SignatureAlgorithm::Gost512 => super::gost::Suite::Gost2015.name(),
            SignatureAlgorithm::Gost2004 => super::gost::Suite::Gost2004.name(),
        }
    }

    /// The GOST suite this row verifies with, if it is a GOST row.
    pub(crate) fn gost_suite(self) -> Option<super::gost::Suite> {
        match self {
            SignatureAlgorithm::Gost512 => Some(super::gost::Suite::Gost2015),
            SignatureAlgorithm::Gost2004 => Some(super::gost::Suite::Gost2004),
            _ => None,
        }
    }

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::RsaPkcs1Sha384 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::RsaPkcs1Sha512 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::EcdsaP256Sha256 => rfc5912::ECDSA_WITH_SHA_256,
            SignatureAlgorithm::EcdsaP384Sha384 => rfc5912::ECDSA_WITH_SHA_384,
            SignatureAlgorithm::Ed25519 => rfc8410::ID_ED_25519,
            SignatureAlgorithm::Gost512 => GOST_512_SIGNATURE,
            SignatureAlgorithm::Gost2004 => GOST_2004_SIGNATURE,
        }
    }

    /// The AlgorithmIdentifier as certificates, CRLs and OCSP responses carry it: RSA with an
    /// explicit NULL parameter (RFC 4055), and GOST too (as NCA's certificates and CRLs do);
    /// ECDSA and Ed25519 with none (RFC 5758, RFC 8410).
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        let parameters = match self {
            SignatureAlgorithm::RsaPkcs1Sha256
            | SignatureAlgorithm::RsaPkcs1Sha384
            | SignatureAlgorithm::RsaPkcs1Sha512
            | SignatureAlgorithm::Gost512
            | SignatureAlgorithm::Gost2004 => Some(Any::null()),
            _ => None,
        };
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters,
        }
    }

    pub fn from_identifier(id: &AlgorithmIdentifierOwned) -> Result<Self, CryptoError> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.oid() == id.oid)
            .ok_or_else(|| CryptoError::UnsupportedSignature(id.oid.to_string()))
    }
}
