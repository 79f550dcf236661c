//! CBC block ciphers with PKCS#7 padding, as PKCS#12 and PBES2 use them.

use aes::cipher::{
    block_padding::Pkcs7, BlockCipher, BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit,
};
use zeroize::Zeroizing;

use super::{invalid, KeyStoreError};

type Result<T> = std::result::Result<T, KeyStoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    /// Three-key triple DES (24-byte key).
    DesEde3,
    /// Two-key triple DES (16-byte key), pbeWithSHAAnd2-KeyTripleDES-CBC.
    DesEde2,
    /// RC2 with a key of `key_len` bytes and as many effective bits.
    Rc2 {
        key_len: usize,
    },
}

impl Cipher {
    pub(super) fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 => 24,
            Cipher::Aes256 => 32,
            Cipher::DesEde3 => 24,
            Cipher::DesEde2 => 16,
            Cipher::Rc2 { key_len } => key_len,
        }
    }

    pub(super) fn block_len(self) -> usize {
        match self {
            Cipher::Aes128 | Cipher::Aes192 | Cipher::Aes256 => 16,
            Cipher::DesEde3 | Cipher::DesEde2 | Cipher::Rc2 { .. } => 8,
        }
    }

    /// Decrypt and strip the padding. A bad padding is reported as `WrongPassword`: it is what
    /// a wrong key produces (callers that already verified a MAC turn it into `InvalidFormat`).
    pub(super) fn decrypt(
        self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.check(key, iv)?;
        if ciphertext.is_empty() || ciphertext.len() % self.block_len() != 0 {
            return Err(invalid(
                "encrypted data is not a whole number of cipher blocks",
            ));
        }
        let out = match self {
            Cipher::Aes128 => cbc_decrypt(new_cipher::<aes::Aes128>(key)?, iv, ciphertext),
            Cipher::Aes192 => cbc_decrypt(new_cipher::<aes::Aes192>(key)?, iv, ciphertext),
            Cipher::Aes256 => cbc_decrypt(new_cipher::<aes::Aes256>(key)?, iv, ciphertext),
            Cipher::DesEde3 => cbc_decrypt(new_cipher::<des::TdesEde3>(key)?, iv, ciphertext),
            Cipher::DesEde2 => cbc_decrypt(new_cipher::<des::TdesEde2>(key)?, iv, ciphertext),
            Cipher::Rc2 { key_len } => cbc_decrypt(
                rc2::Rc2::new_with_eff_key_len(key, key_len * 8),
                iv,
                ciphertext,
            ),
        };
        out.ok_or(KeyStoreError::WrongPassword)
    }

    /// Encrypt with PKCS#7 padding.
    pub(super) fn encrypt(self, key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        self.check(key, iv)?;
        match self {
            Cipher::Aes128 => cbc_encrypt(new_cipher::<aes::Aes128>(key)?, iv, plaintext),
            Cipher::Aes192 => cbc_encrypt(new_cipher::<aes::Aes192>(key)?, iv, plaintext),
            Cipher::Aes256 => cbc_encrypt(new_cipher::<aes::Aes256>(key)?, iv, plaintext),
            Cipher::DesEde3 => cbc_encrypt(new_cipher::<des::TdesEde3>(key)?, iv, plaintext),
            Cipher::DesEde2 => cbc_encrypt(new_cipher::<des::TdesEde2>(key)?, iv, plaintext),
            Cipher::Rc2 { key_len } => cbc_encrypt(
                rc2::Rc2::new_with_eff_key_len(key, key_len * 8),
                iv,
                plaintext,
            ),
        }
    }

    fn check(self, key: &[u8], iv: &[u8]) -> Result<()> {
        if key.len() != self.key_len() {
            return Err(KeyStoreError::Crypto(
                "cipher key of the wrong length".into(),
            ));
        }
        if iv.len() != self.block_len() {
            return Err(invalid("initialisation vector of the wrong length"));
        }
        Ok(())
    }
}

fn new_cipher<C: KeyInit>(key: &[u8]) -> Result<C> {
    C::new_from_slice(key)
        .map_err(|_| KeyStoreError::Crypto("cipher key of the wrong length".into()))
}

/// `None` when the padding is wrong. `iv` has been checked to be one block long.
fn cbc_decrypt<C>(inner: C, iv: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: BlockDecryptMut + BlockCipher,
{
    let mode = cbc::Decryptor::<C>::inner_iv_slice_init(inner, iv).ok()?;
    // Decrypt into a zeroizing buffer so no copy of the plaintext outlives it.
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = mode.decrypt_padded_mut::<Pkcs7>(&mut buf).ok()?.len();
    buf.truncate(len);
    Some(buf)
}

fn cbc_encrypt<C>(inner: C, iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>>
where
    C: BlockEncryptMut + BlockCipher,
{
    let mode = cbc::Encryptor::<C>::inner_iv_slice_init(inner, iv)
        .map_err(|_| KeyStoreError::Crypto("initialisation vector of the wrong length".into()))?;
    Ok(mode.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}
