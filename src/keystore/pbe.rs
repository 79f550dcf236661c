//! Passwords, the PKCS#12 KDF (RFC 7292 appendix B) with its PBE schemes and MAC, and the
//! dispatch between those schemes and PBES2 (in `pbes2`).

use const_oid::ObjectIdentifier;
use der::{asn1::OctetString, Any};
use pkcs12::kdf::{derive_key, Pkcs12KeyType};
use rand_core::{OsRng, RngCore};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::cipher::Cipher;
use super::{encoding, invalid, pbes2, KeyStoreError, MAX_ITERATIONS};
use crate::x509::ber::{self, Tlv};

type Result<T> = std::result::Result<T, KeyStoreError>;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

pub(super) const PBE_SHA1_3DES: ObjectIdentifier = oid("1.2.840.113549.1.12.1.3");
const PBE_SHA1_2DES: ObjectIdentifier = oid("1.2.840.113549.1.12.1.4");
const PBE_SHA1_RC2_128: ObjectIdentifier = oid("1.2.840.113549.1.12.1.5");
pub(super) const PBE_SHA1_RC2_40: ObjectIdentifier = oid("1.2.840.113549.1.12.1.6");
pub(super) const PBES2: ObjectIdentifier = oid("1.2.840.113549.1.5.13");
const HMAC_SHA1: ObjectIdentifier = oid("1.2.840.113549.2.7");
const HMAC_SHA256: ObjectIdentifier = oid("1.2.840.113549.2.9");
const HMAC_SHA384: ObjectIdentifier = oid("1.2.840.113549.2.10");
const HMAC_SHA512: ObjectIdentifier = oid("1.2.840.113549.2.11");
const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");

/// Total iterations one operation may spend on key derivation: a handful of maximal KDF runs.
const ITERATION_BUDGET: u64 = 4 * MAX_ITERATIONS;

/// A password in the two forms the schemes need.
pub(super) struct Password {
    /// For PBES2 (PBKDF2, scrypt): the UTF-8 bytes, as OpenSSL passes them.
    pub utf8: Zeroizing<Vec<u8>>,
    /// For the PKCS#12 KDF: BMPString (UTF-16BE) plus two zero bytes; `None` if the password
    /// has no such form (bytes that are not UTF-8).
    pub bmp: Option<Zeroizing<Vec<u8>>>,
}

/// The PKCS#12 KDF form of a password: UTF-16BE and a two-byte terminator, as OpenSSL 3.
pub(super) fn bmp_password(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.len() * 2 + 2));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// Bounds the key-derivation work of one operation (iteration counts come from the input).
pub(super) struct Budget {
    remaining: u64,
}

impl Budget {
    pub(super) fn new() -> Self {
        Budget {
            remaining: ITERATION_BUDGET,
        }
    }

    /// Check one iteration count against the limits and charge it.
    pub(super) fn spend(&mut self, iterations: u64) -> Result<u32> {
        if iterations == 0 {
            return Err(invalid("iteration count of zero"));
        }
        if iterations > MAX_ITERATIONS {
            return Err(invalid(format!(
                "iteration count {iterations} exceeds the limit of {MAX_ITERATIONS}"
            )));
        }
        if iterations > self.remaining {
            return Err(invalid(
                "the key store asks for more key-derivation work than allowed",
            ));
        }
        self.remaining -= iterations;
        u32::try_from(iterations).map_err(|_| invalid("iteration count out of range"))
    }
}

/// Digests for the PKCS#12 KDF, its MAC and PBKDF2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(super) fn from_digest_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            SHA1 => Some(Hash::Sha1),
            SHA256 => Some(Hash::Sha256),
            SHA384 => Some(Hash::Sha384),
            SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    pub(super) fn digest_oid(self) -> ObjectIdentifier {
        match self {
            Hash::Sha1 => SHA1,
            Hash::Sha256 => SHA256,
            Hash::Sha384 => SHA384,
            Hash::Sha512 => SHA512,
        }
    }

    fn output_len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// RFC 7292 appendix B. `iterations` has passed the [`Budget`], so it fits an `i32`.
    pub(super) fn pkcs12_kdf(
        self,
        bmp_password: &[u8],
        salt: &[u8],
        id: Pkcs12KeyType,
        iterations: u32,
        len: usize,
    ) -> Zeroizing<Vec<u8>> {
        let rounds = i32::try_from(iterations).unwrap_or(i32::MAX);
        Zeroizing::new(match self {
            Hash::Sha1 => derive_key::<sha1::Sha1>(bmp_password, salt, id, rounds, len),
            Hash::Sha256 => derive_key::<sha2::Sha256>(bmp_password, salt, id, rounds, len),
            Hash::Sha384 => derive_key::<sha2::Sha384>(bmp_password, salt, id, rounds, len),
            Hash::Sha512 => derive_key::<sha2::Sha512>(bmp_password, salt, id, rounds, len),
        })
    }

    fn hmac_key(self, key: &[u8]) -> ring::hmac::Key {
        let alg = match self {
            Hash::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => ring::hmac::HMAC_SHA256,
            Hash::Sha384 => ring::hmac::HMAC_SHA384,
            Hash::Sha512 => ring::hmac::HMAC_SHA512,
        };
        ring::hmac::Key::new(alg, key)
    }

    pub(super) fn pbkdf2(self) -> ring::pbkdf2::Algorithm {
        match self {
            Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha384 => ring::pbkdf2::PBKDF2_HMAC_SHA384,
            Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    pub(super) fn from_hmac_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            HMAC_SHA1 => Some(Hash::Sha1),
            HMAC_SHA256 => Some(Hash::Sha256),
            HMAC_SHA384 => Some(Hash::Sha384),
            HMAC_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }
}

/// The PKCS#12 MAC (HMAC keyed by the PKCS#12 KDF with id 3) of `data`.
pub(super) fn pkcs12_mac(
    hash: Hash,
    bmp: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
) -> Vec<u8> {
    let key = hash.pkcs12_kdf(bmp, salt, Pkcs12KeyType::Mac, iterations, hash.output_len());
    ring::hmac::sign(&hash.hmac_key(&key), data)
        .as_ref()
        .to_vec()
}

/// Constant-time check of a PKCS#12 MAC.
pub(super) fn pkcs12_mac_verify(
    hash: Hash,
    bmp: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
    expected: &[u8],
) -> bool {
    let key = hash.pkcs12_kdf(bmp, salt, Pkcs12KeyType::Mac, iterations, hash.output_len());
    ring::hmac::verify(&hash.hmac_key(&key), data, expected).is_ok()
}

fn pkcs12_pbe_cipher(oid: ObjectIdentifier) -> Option<Cipher> {
    match oid {
        PBE_SHA1_3DES => Some(Cipher::DesEde3),
        PBE_SHA1_2DES => Some(Cipher::DesEde2),
        PBE_SHA1_RC2_128 => Some(Cipher::Rc2 { key_len: 16 }),
        PBE_SHA1_RC2_40 => Some(Cipher::Rc2 { key_len: 5 }),
        _ => None,
    }
}

/// Key and IV of the PKCS#12 PBE schemes: the SHA-1 PKCS#12 KDF with ids 1 and 2.
fn pkcs12_pbe_key_iv(
    cipher: Cipher,
    bmp: &[u8],
    salt: &[u8],
    iterations: u32,
) -> (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>) {
    let key = Hash::Sha1.pkcs12_kdf(
        bmp,
        salt,
        Pkcs12KeyType::EncryptionKey,
        iterations,
        cipher.key_len(),
    );
    let iv = Hash::Sha1.pkcs12_kdf(bmp, salt, Pkcs12KeyType::Iv, iterations, cipher.block_len());
    (key, iv)
}

/// Decrypt `ciphertext` under the AlgorithmIdentifier `alg`.
pub(super) fn decrypt(
    alg: &Tlv<'_>,
    ciphertext: &[u8],
    password: &Password,
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>> {
    let (oid, params) = ber::algorithm(alg, "encryption algorithm")?;
    if let Some(cipher) = pkcs12_pbe_cipher(oid) {
        let bmp = password.bmp.as_ref().ok_or_else(|| {
            KeyStoreError::Unsupported(format!("{oid} with a password that is not UTF-8"))
        })?;
        let params = params
            .ok_or_else(|| invalid("PKCS#12 PBE without parameters"))?
            .sequence("PKCS#12 PBE parameters")?;
        let [salt, iterations] = params.as_slice() else {
            return Err(invalid("malformed PKCS#12 PBE parameters"));
        };
        let salt = salt.octet_string("PBE salt")?;
        let iterations = budget.spend(iterations.uint("PBE iteration count")?)?;
        let (key, iv) = pkcs12_pbe_key_iv(cipher, bmp, &salt, iterations);
        return cipher.decrypt(&key, &iv, ciphertext);
    }
    if oid == PBES2 {
        let params = params.ok_or_else(|| invalid("PBES2 without parameters"))?;
        return pbes2::decrypt(&params, ciphertext, &password.utf8, budget);
    }
    Err(KeyStoreError::Unsupported(format!(
        "encryption scheme {oid}"
    )))
}

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    OsRng
        .try_fill_bytes(&mut out)
        .map_err(|_| KeyStoreError::Crypto("the system random generator failed".into()))?;
    Ok(out)
}

/// Encrypt with a PKCS#12 PBE scheme (3DES or RC2, SHA-1 KDF); random 16-byte salt.
pub(super) fn pkcs12_pbe_encrypt(
    scheme: ObjectIdentifier,
    bmp: &[u8],
    plaintext: &[u8],
    iterations: u32,
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>)> {
    let cipher = pkcs12_pbe_cipher(scheme)
        .ok_or_else(|| KeyStoreError::Unsupported(format!("encryption scheme {scheme}")))?;
    let salt: [u8; 16] = random_bytes()?;
    let (key, iv) = pkcs12_pbe_key_iv(cipher, bmp, &salt, iterations);
    let ciphertext = cipher.encrypt(&key, &iv, plaintext)?;
    let params = pkcs12::pbe_params::Pkcs12PbeParams {
        salt: OctetString::new(salt.to_vec()).map_err(encoding)?,
        iterations: i32::try_from(iterations)
            .map_err(|_| invalid("iteration count out of range"))?,
    };
    let alg = AlgorithmIdentifierOwned {
        oid: scheme,
        parameters: Some(Any::encode_from(&params).map_err(encoding)?),
    };
    Ok((alg, ciphertext))
}
