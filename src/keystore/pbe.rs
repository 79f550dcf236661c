//! Password-based encryption and MACs: the PKCS#12 KDF (RFC 7292 appendix B) with its PBE
//! schemes and MAC, and PBES2 (RFC 8018) with PBKDF2 or scrypt.

use std::num::NonZeroU32;

use const_oid::ObjectIdentifier;
use der::{asn1::OctetString, Any};
use pkcs12::kdf::{derive_key, Pkcs12KeyType};
use rand_core::{OsRng, RngCore};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::ber::{self, Tlv, TAG_INTEGER, TAG_SEQUENCE};
use super::cipher::Cipher;
use super::{invalid, KeyStoreError, MAX_ITERATIONS};

type Result<T> = std::result::Result<T, KeyStoreError>;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

pub(super) const PBE_SHA1_3DES: ObjectIdentifier = oid("1.2.840.113549.1.12.1.3");
const PBE_SHA1_2DES: ObjectIdentifier = oid("1.2.840.113549.1.12.1.4");
const PBE_SHA1_RC2_128: ObjectIdentifier = oid("1.2.840.113549.1.12.1.5");
pub(super) const PBE_SHA1_RC2_40: ObjectIdentifier = oid("1.2.840.113549.1.12.1.6");
const PBES2: ObjectIdentifier = oid("1.2.840.113549.1.5.13");
const PBKDF2: ObjectIdentifier = oid("1.2.840.113549.1.5.12");
const SCRYPT: ObjectIdentifier = oid("1.3.6.1.4.1.11591.4.11");
const HMAC_SHA1: ObjectIdentifier = oid("1.2.840.113549.2.7");
const HMAC_SHA256: ObjectIdentifier = oid("1.2.840.113549.2.9");
const HMAC_SHA384: ObjectIdentifier = oid("1.2.840.113549.2.10");
const HMAC_SHA512: ObjectIdentifier = oid("1.2.840.113549.2.11");
const AES128_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: ObjectIdentifier = oid("1.2.840.113549.3.7");
const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");

/// Total iterations one operation may spend on key derivation: a handful of maximal KDF runs.
const ITERATION_BUDGET: u64 = 4 * MAX_ITERATIONS;
/// Most memory (128·r·N·p bytes) accepted for scrypt when decrypting. OpenSSL refuses more
/// than 32 MiB by default, so nothing it writes comes near.
const MAX_SCRYPT_BYTES: u64 = 128 << 20;

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
    pub fn new() -> Self {
        Budget {
            remaining: ITERATION_BUDGET,
        }
    }

    /// Check one iteration count against the limits and charge it.
    pub fn spend(&mut self, iterations: u64) -> Result<u32> {
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
    pub fn from_digest_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            SHA1 => Some(Hash::Sha1),
            SHA256 => Some(Hash::Sha256),
            SHA384 => Some(Hash::Sha384),
            SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    pub fn digest_oid(self) -> ObjectIdentifier {
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
    pub fn pkcs12_kdf(
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

    fn pbkdf2(self) -> ring::pbkdf2::Algorithm {
        match self {
            Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha384 => ring::pbkdf2::PBKDF2_HMAC_SHA384,
            Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn from_hmac_oid(oid: ObjectIdentifier) -> Option<Self> {
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
        let key = Hash::Sha1.pkcs12_kdf(
            bmp,
            &salt,
            Pkcs12KeyType::EncryptionKey,
            iterations,
            cipher.key_len(),
        );
        let iv = Hash::Sha1.pkcs12_kdf(
            bmp,
            &salt,
            Pkcs12KeyType::Iv,
            iterations,
            cipher.block_len(),
        );
        return cipher.decrypt(&key, &iv, ciphertext);
    }
    if oid == PBES2 {
        let params = params.ok_or_else(|| invalid("PBES2 without parameters"))?;
        return pbes2_decrypt(&params, ciphertext, &password.utf8, budget);
    }
    Err(KeyStoreError::Unsupported(format!(
        "encryption scheme {oid}"
    )))
}

fn pbes2_decrypt(
    params: &Tlv<'_>,
    ciphertext: &[u8],
    password: &[u8],
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>> {
    let items = params.sequence("PBES2 parameters")?;
    let [kdf, scheme] = items.as_slice() else {
        return Err(invalid("malformed PBES2 parameters"));
    };
    let (scheme_oid, scheme_params) = ber::algorithm(scheme, "PBES2 encryption scheme")?;
    let cipher = match scheme_oid {
        AES128_CBC => Cipher::Aes128,
        AES192_CBC => Cipher::Aes192,
        AES256_CBC => Cipher::Aes256,
        DES_EDE3_CBC => Cipher::DesEde3,
        other => {
            return Err(KeyStoreError::Unsupported(format!(
                "PBES2 encryption scheme {other}"
            )))
        }
    };
    let iv = scheme_params
        .ok_or_else(|| invalid("PBES2 encryption scheme without an IV"))?
        .octet_string("PBES2 IV")?;
    let (kdf_oid, kdf_params) = ber::algorithm(kdf, "PBES2 key derivation function")?;
    let kdf_params = kdf_params.ok_or_else(|| invalid("PBES2 KDF without parameters"))?;
    let key = match kdf_oid {
        PBKDF2 => pbkdf2_key(&kdf_params, password, cipher.key_len(), budget)?,
        SCRYPT => scrypt_key(&kdf_params, password, cipher.key_len())?,
        other => return Err(KeyStoreError::Unsupported(format!("PBES2 KDF {other}"))),
    };
    cipher.decrypt(&key, &iv, ciphertext)
}

/// Check an optional keyLength against the cipher's key length.
fn check_key_length(key_length: Option<&Tlv<'_>>, expected: usize) -> Result<()> {
    if let Some(tlv) = key_length {
        if tlv.uint("KDF key length")? != expected as u64 {
            return Err(invalid("KDF key length does not fit the cipher"));
        }
    }
    Ok(())
}

fn pbkdf2_key(
    params: &Tlv<'_>,
    password: &[u8],
    key_len: usize,
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>> {
    let items = params.sequence("PBKDF2 parameters")?;
    let (salt, iterations, rest) = match items.as_slice() {
        [salt, iterations, rest @ ..] if rest.len() <= 2 => (salt, iterations, rest),
        _ => return Err(invalid("malformed PBKDF2 parameters")),
    };
    if salt.tag == TAG_SEQUENCE {
        return Err(KeyStoreError::Unsupported(
            "PBKDF2 salt from another source".into(),
        ));
    }
    let salt = salt.octet_string("PBKDF2 salt")?;
    let iterations = budget.spend(iterations.uint("PBKDF2 iteration count")?)?;
    let (key_length, prf) = match rest {
        [] => (None, None),
        [one] if one.tag == TAG_INTEGER => (Some(one), None),
        [one] => (None, Some(one)),
        [len, prf] => (Some(len), Some(prf)),
        _ => return Err(invalid("malformed PBKDF2 parameters")),
    };
    check_key_length(key_length, key_len)?;
    let hash = match prf {
        None => Hash::Sha1, // the DEFAULT of PBKDF2-params
        Some(prf) => {
            let (prf_oid, _) = ber::algorithm(prf, "PBKDF2 PRF")?;
            Hash::from_hmac_oid(prf_oid)
                .ok_or_else(|| KeyStoreError::Unsupported(format!("PBKDF2 PRF {prf_oid}")))?
        }
    };
    let iterations =
        NonZeroU32::new(iterations).ok_or_else(|| invalid("iteration count of zero"))?;
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    ring::pbkdf2::derive(hash.pbkdf2(), iterations, &salt, password, &mut key);
    Ok(key)
}

fn scrypt_key(params: &Tlv<'_>, password: &[u8], key_len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let items = params.sequence("scrypt parameters")?;
    let (salt, n, r, p, key_length) = match items.as_slice() {
        [salt, n, r, p] => (salt, n, r, p, None),
        [salt, n, r, p, len] => (salt, n, r, p, Some(len)),
        _ => return Err(invalid("malformed scrypt parameters")),
    };
    let salt = salt.octet_string("scrypt salt")?;
    let (n, r, p) = (
        n.uint("scrypt N")?,
        r.uint("scrypt r")?,
        p.uint("scrypt p")?,
    );
    check_key_length(key_length, key_len)?;
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 || r > 1024 || p > 1024 {
        return Err(invalid("malformed scrypt parameters"));
    }
    // Cost guard: memory (and time) grow with 128·r·N, time also with p.
    let cost = 128u64.saturating_mul(r).saturating_mul(n).saturating_mul(p);
    if cost > MAX_SCRYPT_BYTES {
        return Err(invalid(format!(
            "scrypt parameters (N={n}, r={r}, p={p}) exceed the limit"
        )));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| invalid("scrypt N out of range"))?;
    let params = pkcs5::scrypt::Params::new(log_n, r as u32, p as u32, key_len)
        .map_err(|_| invalid("malformed scrypt parameters"))?;
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    pkcs5::scrypt::scrypt(password, &salt, &params, &mut key)
        .map_err(|_| KeyStoreError::Crypto("scrypt failed".into()))?;
    Ok(key)
}

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    OsRng
        .try_fill_bytes(&mut out)
        .map_err(|_| KeyStoreError::Crypto("the system random generator failed".into()))?;
    Ok(out)
}

fn encoding(e: der::Error) -> KeyStoreError {
    KeyStoreError::Crypto(format!("DER encoding failed: {e}"))
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
    let key = Hash::Sha1.pkcs12_kdf(
        bmp,
        &salt,
        Pkcs12KeyType::EncryptionKey,
        iterations,
        cipher.key_len(),
    );
    let iv = Hash::Sha1.pkcs12_kdf(
        bmp,
        &salt,
        Pkcs12KeyType::Iv,
        iterations,
        cipher.block_len(),
    );
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

/// Key derivation for PBES2 encryption.
pub(super) enum Pbes2Kdf {
    Pbkdf2Sha256 { iterations: u32 },
    Scrypt { log_n: u8, r: u32, p: u32 },
}

/// Encrypt with PBES2 and AES-256-CBC; random 16-byte salt and IV.
pub(super) fn pbes2_encrypt(
    kdf: Pbes2Kdf,
    password: &[u8],
    plaintext: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>)> {
    let salt: [u8; 16] = random_bytes()?;
    let iv: [u8; 16] = random_bytes()?;
    let crypto = |e: pkcs5::Error| KeyStoreError::Crypto(format!("PBES2: {e}"));
    let params = match kdf {
        Pbes2Kdf::Pbkdf2Sha256 { iterations } => {
            pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, &salt, &iv)
        }
        Pbes2Kdf::Scrypt { log_n, r, p } => {
            let sp = pkcs5::scrypt::Params::new(log_n, r, p, 32)
                .map_err(|_| KeyStoreError::Crypto("bad scrypt parameters".into()))?;
            pkcs5::pbes2::Parameters::scrypt_aes256cbc(sp, &salt, &iv)
        }
    }
    .map_err(crypto)?;
    let ciphertext = params.encrypt(password, plaintext).map_err(crypto)?;
    let alg = AlgorithmIdentifierOwned {
        oid: PBES2,
        parameters: Some(Any::encode_from(&params).map_err(encoding)?),
    };
    Ok((alg, ciphertext))
}
