//! Private keys at rest: PKCS#8 `EncryptedPrivateKeyInfo` with PBES2 (scrypt, AES-256-CBC).

use der::Encode;
use zeroize::Zeroizing;

use super::pbe::{self, bmp_password, Budget, Password};
use super::pbes2::{self, Pbes2Kdf};
use super::write::{octets, EncryptedPrivateKeyInfo};
use super::{encoding, invalid, KeyStoreError, MAX_INPUT_LEN};
use crate::x509::ber;

type Result<T> = std::result::Result<T, KeyStoreError>;

/// scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of milliseconds). OpenSSL's `pkey` and
/// `pkcs8` refuse scrypt needing more than 32 MiB by default, so 2^14 is as far as N can go
/// while OpenSSL can still open what we write.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

pub(super) fn encrypt(private_key_pkcs8: &[u8], passphrase: &[u8]) -> Result<Vec<u8>> {
    if passphrase.is_empty() {
        return Err(invalid("empty passphrase"));
    }
    if !ber::is_single_sequence(private_key_pkcs8) {
        return Err(invalid("the private key is not a DER PrivateKeyInfo"));
    }
    let kdf = Pbes2Kdf::Scrypt {
        log_n: SCRYPT_LOG_N,
        r: SCRYPT_R,
        p: SCRYPT_P,
    };
    let (alg, ciphertext) = pbes2::encrypt(kdf, passphrase, private_key_pkcs8)?;
    EncryptedPrivateKeyInfo {
        encryption_algorithm: alg,
        encrypted_data: octets(ciphertext)?,
    }
    .to_der()
    .map_err(encoding)
}

pub(super) fn decrypt(encrypted: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if encrypted.len() > MAX_INPUT_LEN {
        return Err(invalid("encrypted private key too large"));
    }
    let [alg, data] = ber::parse_exact(encrypted)?.sequence("EncryptedPrivateKeyInfo")?[..] else {
        return Err(invalid("malformed EncryptedPrivateKeyInfo"));
    };
    let ciphertext = data.octet_string("encrypted private key")?;
    let password = Password {
        utf8: Zeroizing::new(passphrase.to_vec()),
        bmp: std::str::from_utf8(passphrase).ok().map(bmp_password),
    };
    let key = pbe::decrypt(&alg, &ciphertext, &password, &mut Budget::new())?;
    // A wrong key gives valid padding about once in 256 tries: the structure tells for sure.
    if !ber::is_single_sequence(&key) {
        return Err(KeyStoreError::WrongPassword);
    }
    Ok(key)
}
