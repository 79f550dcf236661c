//! The algorithm table: key generation, signing and verification.
//!
//! ring does every public-key operation and digest; the `rsa` crate is used only to *generate*
//! RSA keys, because ring cannot. Everything else in the crate goes through this door, so adding
//! an algorithm (GOST next) means one more row here, not a parallel code path.

mod algorithm;
mod cms_algorithms;
pub mod gost;
mod gost_pkcs8;
mod rsa_keygen;
mod signing_key;
mod verify;
mod xml_algorithms;

pub use algorithm::{KeyAlgorithm, SignatureAlgorithm};
pub use cms_algorithms::{rsa_modulus_bits, CmsSignature, Digest};
pub use signing_key::SigningKey;
pub use verify::{verify_raw, verify_signature};
pub use xml_algorithms::{xml_digest, xml_digest_uri, XmlFamily, XmlSignatureMethod};

/// Everything that can go wrong in this room.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("unsupported key algorithm: {0}")]
    UnsupportedKey(String),
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedSignature(String),
    #[error("the private key is malformed or does not match its algorithm: {0}")]
    BadPrivateKey(String),
    #[error("the public key is malformed: {0}")]
    BadPublicKey(String),
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    #[error("signing failed")]
    Signing,
    #[error("the signature does not verify")]
    BadSignature,
}

/// SHA-1 of `data`: used for key identifiers and OCSP CertIDs, where RFC 5280 / RFC 6960 name it,
/// never as a signature digest.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-256 of several pieces, as if concatenated.
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Cryptographically secure random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoError::KeyGeneration("the system random generator failed".into()))?;
    Ok(out)
}

/// Key identifier (RFC 5280 §4.2.1.2 method 1): SHA-1 of the subjectPublicKey bits.
pub fn key_identifier(spki: &spki::SubjectPublicKeyInfoOwned) -> [u8; 20] {
    sha1(spki.subject_public_key.raw_bytes())
}
