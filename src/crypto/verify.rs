//! Signature verification by algorithm identifier.

use const_oid::db::{rfc5912, rfc8410};
use ring::signature as sig;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::{CryptoError, SignatureAlgorithm};

/// Verifies `signature` over `message` made by the holder of `public_key` with `algorithm`.
///
/// The key's own algorithm must agree with the signature algorithm: an RSA key presented with an
/// ECDSA identifier is refused rather than tried, so an identifier cannot lie its way through.
pub fn verify_signature(
    algorithm: &AlgorithmIdentifierOwned,
    public_key: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let alg = SignatureAlgorithm::from_identifier(algorithm)?;
    let key_oid = public_key.algorithm.oid;
    let key_bytes = public_key
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| CryptoError::BadPublicKey("public key is not whole bytes".into()))?;
    // Every row: the key must be of the kind the signature algorithm names.
    let expected_key_oid = match alg {
        SignatureAlgorithm::RsaPkcs1Sha256
        | SignatureAlgorithm::RsaPkcs1Sha384
        | SignatureAlgorithm::RsaPkcs1Sha512 => rfc5912::RSA_ENCRYPTION,
        SignatureAlgorithm::EcdsaP256Sha256 | SignatureAlgorithm::EcdsaP384Sha384 => {
            rfc5912::ID_EC_PUBLIC_KEY
        }
        SignatureAlgorithm::Ed25519 => rfc8410::ID_ED_25519,
        SignatureAlgorithm::Gost512 => super::algorithm::GOST_512_PUBLIC_KEY,
        SignatureAlgorithm::Gost2004 => super::algorithm::GOST_2004_PUBLIC_KEY,
    };
    if key_oid != expected_key_oid {
        return Err(CryptoError::UnsupportedSignature(format!(
            "signature algorithm {} does not fit a {} key",
            algorithm.oid, key_oid
        )));
    }
    verify_raw(alg, key_bytes, message, signature)
}

/// Checks `signature` over `message` with a public key given as the raw bytes that would sit in
/// SubjectPublicKeyInfo's BIT STRING, for formats that carry keys without a certificate (the
/// log's signed notes).
pub fn verify_raw(
    alg: SignatureAlgorithm,
    key_bytes: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    if let Some(suite) = alg.gost_suite() {
        return verify_gost(suite, key_bytes, message, signature);
    }
    let ring_alg: &'static dyn sig::VerificationAlgorithm = match alg {
        SignatureAlgorithm::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        SignatureAlgorithm::RsaPkcs1Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        SignatureAlgorithm::RsaPkcs1Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        SignatureAlgorithm::EcdsaP256Sha256 => &sig::ECDSA_P256_SHA256_ASN1,
        SignatureAlgorithm::EcdsaP384Sha384 => &sig::ECDSA_P384_SHA384_ASN1,
        SignatureAlgorithm::Ed25519 => &sig::ED25519,
        SignatureAlgorithm::Gost512 | SignatureAlgorithm::Gost2004 => {
            return Err(CryptoError::UnsupportedSignature(alg.display_name().into()))
        }
    };
    sig::UnparsedPublicKey::new(ring_alg, key_bytes)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

/// The GOST rows of the table: NCA's key (little-endian X‖Y in an OCTET STRING) and signature
/// (r‖s, little-endian), checked by `gost` with the suite's curve and hash.
fn verify_gost(
    suite: super::gost::Suite,
    key_bits: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let key = suite.public_key_from_spki_bits(key_bits).ok_or_else(|| {
        CryptoError::BadPublicKey(format!("not a {}-bit GOST public key", suite.size() * 8))
    })?;
    if signature.len() != 2 * suite.size() {
        return Err(CryptoError::BadSignature);
    }
    if suite.verify(&key, message, signature) {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{KeyAlgorithm, SigningKey};

    #[test]
    fn every_generated_key_signs_and_verifies_and_rejects_a_changed_message() {
        for alg in [
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::P256,
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Gost2015,
            KeyAlgorithm::Gost2004,
        ] {
            let key = SigningKey::generate(alg).expect("generate");
            let spki = key.public_key_info().expect("spki");
            let id = key.signature_algorithm().identifier();
            let signature = key.sign(b"license 0001").expect("sign");
            verify_signature(&id, &spki, b"license 0001", &signature).expect("verifies");
            assert!(matches!(
                verify_signature(&id, &spki, b"license 0002", &signature),
                Err(CryptoError::BadSignature)
            ));
            let reloaded = SigningKey::from_pkcs8(key.pkcs8_der()).expect("reload");
            assert_eq!(reloaded.public_key_bytes(), key.public_key_bytes());
            assert_eq!(reloaded.algorithm(), alg);
        }
    }

    #[test]
    fn an_identifier_that_lies_about_the_key_type_is_refused() {
        let key = SigningKey::generate(KeyAlgorithm::P256).expect("generate");
        let spki = key.public_key_info().expect("spki");
        let signature = key.sign(b"x").expect("sign");
        let lie = SignatureAlgorithm::RsaPkcs1Sha256.identifier();
        assert!(matches!(
            verify_signature(&lie, &spki, b"x", &signature),
            Err(CryptoError::UnsupportedSignature(_))
        ));
    }
}
