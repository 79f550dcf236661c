//! PBES2 (RFC 8018): PBKDF2 (HMAC-SHA1/256/384/512) or scrypt, with AES-CBC or DES-EDE3-CBC.

use std::num::NonZeroU32;

use const_oid::ObjectIdentifier;
use der::Any;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::cipher::Cipher;
use super::pbe::{random_bytes, Budget, Hash, PBES2};
use super::{encoding, invalid, KeyStoreError};
use crate::x509::ber::{self, Tlv, TAG_INTEGER, TAG_SEQUENCE};

type Result<T> = std::result::Result<T, KeyStoreError>;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

const PBKDF2: ObjectIdentifier = oid("1.2.840.113549.1.5.12");
const SCRYPT: ObjectIdentifier = oid("1.3.6.1.4.1.11591.4.11");
const AES128_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: ObjectIdentifier = oid("1.2.840.113549.3.7");

/// Most memory (128·r·N·p bytes) accepted for scrypt when decrypting. OpenSSL refuses more
/// than 32 MiB by default, so nothing it writes comes near.
const MAX_SCRYPT_BYTES: u64 = 128 << 20;

pub(super) fn decrypt(
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

/// Key derivation for PBES2 encryption.
pub(super) enum Pbes2Kdf {
    Pbkdf2Sha256 { iterations: u32 },
    Scrypt { log_n: u8, r: u32, p: u32 },
}

/// Encrypt with PBES2 and AES-256-CBC; random 16-byte salt and IV.
pub(super) fn encrypt(
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
