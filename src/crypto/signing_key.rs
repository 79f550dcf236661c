//! A private key that can sign: generated here or loaded from PKCS#8.

use const_oid::db::{rfc5912, rfc8410};
use der::asn1::{Any, BitString, ObjectIdentifier};
use der::{Decode, Encode};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::fmt;
use zeroize::Zeroizing;

use super::gost_pkcs8::{gost_key_algorithm, gost_key_from_pkcs8, gost_key_identifier, gost_pkcs8};
use super::{gost, CryptoError, KeyAlgorithm, SignatureAlgorithm};

enum Inner {
    Rsa(sig::RsaKeyPair),
    Ecdsa(sig::EcdsaKeyPair),
    Ed25519(sig::Ed25519KeyPair),
    /// The key, its suite (curve and hash) and its SubjectPublicKeyInfo BIT STRING contents
    /// (an OCTET STRING of X‖Y).
    Gost {
        key: gost::PrivateKey,
        suite: gost::Suite,
        spki_bits: Vec<u8>,
    },
}

/// A signing key. The PKCS#8 bytes are kept (zeroised on drop) so the key can be exported once
/// into a PKCS#12 or encrypted at rest; `Debug` never shows them.
pub struct SigningKey {
    algorithm: KeyAlgorithm,
    pkcs8: Zeroizing<Vec<u8>>,
    inner: Inner,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let pkcs8 = match algorithm.rsa_bits() {
            Some(bits) => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = super::rsa_keygen::generate(bits)?;
                let doc = key
                    .to_pkcs8_der()
                    .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
                Zeroizing::new(doc.as_bytes().to_vec())
            }
            None if algorithm.gost_suite().is_some() => {
                let suite = algorithm.gost_suite().ok_or(CryptoError::Signing)?;
                let key = gost::PrivateKey::generate(suite.curve())?;
                gost_pkcs8(suite, key.to_le_bytes())?
            }
            None if algorithm == KeyAlgorithm::P256 => {
                let doc =
                    sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                        .map_err(|_| CryptoError::KeyGeneration("P-256".into()))?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            None => {
                let doc = sig::Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| CryptoError::KeyGeneration("Ed25519".into()))?;
                // ring writes PKCS#8 v2 (with the public key), which OpenSSL 3.0 cannot read:
                // keep v1, which ring loads too.
                let mut info = pkcs8::PrivateKeyInfo::from_der(doc.as_ref())
                    .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
                info.public_key = None;
                Zeroizing::new(
                    info.to_der()
                        .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?,
                )
            }
        };
        Self::from_pkcs8(&pkcs8)
    }

    /// Loads a PKCS#8 PrivateKeyInfo (v1 or v2), recognising the algorithm from its OID.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der)
            .map_err(|e| CryptoError::BadPrivateKey(e.to_string()))?;
        let rng = SystemRandom::new();
        let bad = |e: ring::error::KeyRejected| CryptoError::BadPrivateKey(e.to_string());
        let oid = info.algorithm.oid;
        let (algorithm, inner) = if oid == rfc5912::RSA_ENCRYPTION {
            let pair = sig::RsaKeyPair::from_pkcs8(der).map_err(bad)?;
            let algorithm = match pair.public().modulus_len() * 8 {
                2048 => KeyAlgorithm::Rsa2048,
                3072 => KeyAlgorithm::Rsa3072,
                4096 => KeyAlgorithm::Rsa4096,
                other => {
                    return Err(CryptoError::UnsupportedKey(format!(
                        "RSA-{other} (2048, 3072 or 4096 bits)"
                    )))
                }
            };
            (algorithm, Inner::Rsa(pair))
        } else if oid == rfc5912::ID_EC_PUBLIC_KEY {
            let curve: Option<ObjectIdentifier> = info
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok());
            if curve != Some(rfc5912::SECP_256_R_1) {
                return Err(CryptoError::UnsupportedKey(
                    "EC keys other than P-256".into(),
                ));
            }
            let pair =
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
                    .map_err(bad)?;
            (KeyAlgorithm::P256, Inner::Ecdsa(pair))
        } else if oid == rfc8410::ID_ED_25519 {
            let pair = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(bad)?;
            (KeyAlgorithm::Ed25519, Inner::Ed25519(pair))
        } else if let Some(algorithm) = gost_key_algorithm(oid) {
            let suite = algorithm.gost_suite().ok_or(CryptoError::Signing)?;
            let key = gost_key_from_pkcs8(&info, suite)?;
            let spki_bits = gost::spki_bits(key.public_key_xy_le())
                .map_err(|e| CryptoError::BadPrivateKey(e.to_string()))?;
            let inner = Inner::Gost {
                key,
                suite,
                spki_bits,
            };
            (algorithm, inner)
        } else {
            return Err(CryptoError::UnsupportedKey(oid.to_string()));
        };
        Ok(SigningKey {
            algorithm,
            pkcs8: Zeroizing::new(der.to_vec()),
            inner,
            rng,
        })
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.algorithm.signature_algorithm()
    }

    /// The PKCS#8 encoding. Handle with care: this is the secret.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The raw public key as it sits in SubjectPublicKeyInfo's BIT STRING.
    pub fn public_key_bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Rsa(pair) => pair.public_key().as_ref(),
            Inner::Ecdsa(pair) => pair.public_key().as_ref(),
            Inner::Ed25519(pair) => pair.public_key().as_ref(),
            Inner::Gost { spki_bits, .. } => spki_bits,
        }
    }

    pub fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, CryptoError> {
        let algorithm = match self.algorithm {
            KeyAlgorithm::P256 => AlgorithmIdentifierOwned {
                oid: rfc5912::ID_EC_PUBLIC_KEY,
                parameters: Some(
                    Any::encode_from(&rfc5912::SECP_256_R_1)
                        .map_err(|e| CryptoError::BadPublicKey(e.to_string()))?,
                ),
            },
            KeyAlgorithm::Ed25519 => AlgorithmIdentifierOwned {
                oid: rfc8410::ID_ED_25519,
                parameters: None,
            },
            KeyAlgorithm::Gost2015 => gost_key_identifier(gost::Suite::Gost2015)?,
            KeyAlgorithm::Gost2004 => gost_key_identifier(gost::Suite::Gost2004)?,
            _ => AlgorithmIdentifierOwned {
                oid: rfc5912::RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            },
        };
        let subject_public_key = BitString::from_bytes(self.public_key_bytes())
            .map_err(|e| CryptoError::BadPublicKey(e.to_string()))?;
        Ok(SubjectPublicKeyInfoOwned {
            algorithm,
            subject_public_key,
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn public_key_info_der(&self) -> Result<Vec<u8>, CryptoError> {
        self.public_key_info()?
            .to_der()
            .map_err(|e| CryptoError::BadPublicKey(e.to_string()))
    }

    /// Signs `message` with this key's signature algorithm.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.inner {
            Inner::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public().modulus_len()];
                pair.sign(&sig::RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(|_| CryptoError::Signing)?;
                Ok(signature)
            }
            Inner::Ecdsa(pair) => pair
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CryptoError::Signing),
            Inner::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Inner::Gost { key, suite, .. } => key.sign_digest(&suite.hash(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nca_gost_pkcs8() -> Zeroizing<Vec<u8>> {
        let pfx = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/nca/gost/individual_valid.p12"
        ))
        .expect("fixture");
        crate::keystore::open_pkcs12(&pfx, "Qwerty12")
            .expect("key store")
            .private_key_pkcs8
    }

    /// Our GOST PKCS#8 is NCA's, byte for byte but for the 64 key bytes, and round-trips.
    #[test]
    fn gost_keys_are_written_in_ncas_pkcs8_form() {
        let nca = nca_gost_pkcs8();
        let ours = SigningKey::generate(KeyAlgorithm::Gost2015).expect("generate");
        let der = ours.pkcs8_der();
        assert_eq!(der.len(), nca.len());
        assert_eq!(der[..der.len() - 64], nca[..nca.len() - 64]);
        let again = SigningKey::from_pkcs8(der).expect("reload");
        assert_eq!(again.public_key_bytes(), ours.public_key_bytes());
        let real = SigningKey::from_pkcs8(&nca).expect("NCA's key loads");
        assert_eq!(real.algorithm(), KeyAlgorithm::Gost2015);
        assert_eq!(real.signature_algorithm(), SignatureAlgorithm::Gost512);
    }

    /// NCA's GOST 34.310-2004 key store: the key loads as gost2004, its public key is the one in
    /// its certificate, and our own 2004 keys are written in the same PKCS#8 form.
    #[test]
    fn ncas_2004_key_store_loads_and_our_2004_keys_match_its_form() {
        let pfx = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/kalkan/test_keys/KEY_CEO_SIGN_REVOKED_2004.p12"
        ))
        .expect("fixture");
        let contents = crate::keystore::open_pkcs12(&pfx, "Qwerty12").expect("key store");
        let nca = SigningKey::from_pkcs8(&contents.private_key_pkcs8).expect("NCA's key loads");
        assert_eq!(nca.algorithm(), KeyAlgorithm::Gost2004);
        assert_eq!(nca.signature_algorithm(), SignatureAlgorithm::Gost2004);
        let cert = x509_cert::Certificate::from_der(&contents.certificate).expect("certificate");
        let spki = &cert.tbs_certificate.subject_public_key_info;
        assert_eq!(nca.public_key_info().expect("spki"), *spki);
        let signature = nca.sign(b"license").expect("sign");
        let id = nca.signature_algorithm().identifier();
        crate::crypto::verify_signature(&id, spki, b"license", &signature).expect("verifies");

        // Ours: the same AlgorithmIdentifier and an INTEGER scalar, and they reload.
        let ours = SigningKey::generate(KeyAlgorithm::Gost2004).expect("generate");
        let parse = |der: &[u8]| {
            let info = pkcs8::PrivateKeyInfo::from_der(der).expect("PKCS#8");
            let integer = der::asn1::UintRef::from_der(info.private_key).is_ok();
            (info.algorithm.to_der().expect("der"), integer)
        };
        assert_eq!(parse(ours.pkcs8_der()), parse(&contents.private_key_pkcs8));
        assert!(parse(ours.pkcs8_der()).1);
        let again = SigningKey::from_pkcs8(ours.pkcs8_der()).expect("reload");
        assert_eq!(again.public_key_bytes(), ours.public_key_bytes());
    }

    #[test]
    fn malformed_gost_pkcs8_is_refused_with_a_reason() {
        let nca = nca_gost_pkcs8();
        // Another curve parameter OID (last arc .1 → .2): not a curve we know.
        let mut other_curve = nca.to_vec();
        let at = other_curve
            .windows(10)
            .position(|w| w == [0x06, 0x0a, 0x2a, 0x83, 0x0e, 0x03, 0x0a, 0x01, 0x01, 0x02])
            .expect("the parameters OID");
        other_curve[at + 11] = 0x02;
        assert!(matches!(
            SigningKey::from_pkcs8(&other_curve),
            Err(CryptoError::UnsupportedKey(_))
        ));
        // A zero scalar, and a scalar of q or more, are not keys.
        let mut zero = nca.to_vec();
        let len = zero.len();
        zero[len - 64..].fill(0);
        assert!(matches!(
            SigningKey::from_pkcs8(&zero),
            Err(CryptoError::BadPrivateKey(_))
        ));
        let mut too_big = nca.to_vec();
        too_big[len - 64..].fill(0xff);
        assert!(matches!(
            SigningKey::from_pkcs8(&too_big),
            Err(CryptoError::BadPrivateKey(_))
        ));
        // Truncated DER.
        assert!(SigningKey::from_pkcs8(&nca[..nca.len() - 1]).is_err());
    }
}
