//! PKCS#12 (RFC 7292) key stores and encryption of private keys at rest.
//!
//! * [`build_pkcs12`] writes a key store in one of two flavours: [`Pkcs12Flavour::Modern`]
//!   (PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, HMAC-SHA256 MAC — what OpenSSL 3 writes by
//!   default) or [`Pkcs12Flavour::Legacy`] (pbeWithSHAAnd3-KeyTripleDES-CBC for the key,
//!   pbeWithSHAAnd40BitRC2-CBC for the certificates, HMAC-SHA1 MAC — what NCA RK issues).
//! * [`open_pkcs12`] reads either flavour and what OpenSSL, Java and NCA tools write in general,
//!   including BER indefinite-length encodings. The MAC is verified before anything is
//!   decrypted. The private key comes back as the PKCS#8 `PrivateKeyInfo` exactly as stored:
//!   its algorithm is not interpreted (NCA GOST keys use Kazakh OIDs no crate knows).
//! * [`encrypt_private_key`] / [`decrypt_private_key`] protect a PKCS#8 key at rest as a DER
//!   `EncryptedPrivateKeyInfo` (PBES2 with scrypt and AES-256-CBC).
//!
//! Everything read is bounded (size, bag count, iteration counts, nesting depth) because key
//! stores arrive from applicants and must not be able to stall or crash the service.

mod at_rest;
mod cipher;
mod pbe;
mod pbes2;
mod read;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;

use std::fmt;

use zeroize::Zeroizing;

/// Which algorithms [`build_pkcs12`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pkcs12Flavour {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, HMAC-SHA256 MAC.
    #[default]
    Modern,
    /// 3DES key bag, 40-bit RC2 certificates, HMAC-SHA1 MAC (NCA RK style; OpenSSL 3 needs
    /// `-legacy` to open it).
    Legacy,
}

/// Why a key store could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("wrong password for the key store")]
    WrongPassword,
    #[error("not a valid PKCS#12 key store: {0}")]
    InvalidFormat(String),
    #[error("unsupported algorithm in the key store: {0}")]
    Unsupported(String),
    #[error("the key store holds no private key")]
    NoPrivateKey,
    #[error("the key store holds no certificate")]
    NoCertificate,
    #[error("cryptographic failure: {0}")]
    Crypto(String),
}

/// What a key store holds.
pub struct KeyStoreContents {
    /// The PKCS#8 `PrivateKeyInfo`, DER, as stored (algorithm not interpreted).
    pub private_key_pkcs8: Zeroizing<Vec<u8>>,
    /// The leaf certificate (DER): the one whose localKeyId matches the key's, else the first.
    pub certificate: Vec<u8>,
    /// The other certificates (DER), in file order.
    pub chain: Vec<Vec<u8>>,
    /// The friendlyName of the key bag (else of the leaf certificate bag), if any.
    pub friendly_name: Option<String>,
}

// By hand so that the private key can never end up in a log line.
impl fmt::Debug for KeyStoreContents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStoreContents")
            .field("private_key_pkcs8", &"<redacted>")
            .field(
                "certificate",
                &format_args!("<{} bytes>", self.certificate.len()),
            )
            .field(
                "chain",
                &format_args!("<{} certificates>", self.chain.len()),
            )
            .field("friendly_name", &self.friendly_name)
            .finish()
    }
}

/// Largest key store or encrypted key accepted (1 MiB).
pub const MAX_INPUT_LEN: usize = 1 << 20;
/// Most safe bags accepted in one key store.
pub const MAX_BAGS: usize = 64;
/// Largest iteration count accepted for any KDF or MAC: a guard against stores made to stall us.
pub const MAX_ITERATIONS: u64 = 1_000_000;
/// Iteration count of the PKCS#12 KDF (key, certificates and MAC) in the Legacy flavour.
/// NCA RK uses 1024; OpenSSL 3 uses 2048.
pub const LEGACY_ITERATIONS: u32 = 2048;
/// PBKDF2 iterations in the Modern flavour (OpenSSL 3's default).
pub const MODERN_PBKDF2_ITERATIONS: u32 = 2048;
/// MAC iterations (PKCS#12 KDF) in the Modern flavour (OpenSSL 3's default).
pub const MODERN_MAC_ITERATIONS: u32 = 2048;

/// Write a PKCS#12 key store holding one private key (PKCS#8 DER), its certificate (DER) and
/// the chain certificates (DER, issuing CA first). The password must not be empty.
pub fn build_pkcs12(
    private_key_pkcs8: &[u8],
    certificate: &[u8],
    chain: &[Vec<u8>],
    password: &str,
    friendly_name: Option<&str>,
    flavour: Pkcs12Flavour,
) -> Result<Vec<u8>, KeyStoreError> {
    write::build(
        private_key_pkcs8,
        certificate,
        chain,
        password,
        friendly_name,
        flavour,
    )
}

/// Open a PKCS#12 key store (DER or BER). A MAC that does not verify is [`KeyStoreError::WrongPassword`].
pub fn open_pkcs12(pfx: &[u8], password: &str) -> Result<KeyStoreContents, KeyStoreError> {
    read::open(pfx, password)
}

/// Encrypt a PKCS#8 private key for storage: DER `EncryptedPrivateKeyInfo`, PBES2 with scrypt
/// (N = 2^14, r = 8, p = 1 — the most OpenSSL accepts by default) and AES-256-CBC.
pub fn encrypt_private_key(
    private_key_pkcs8: &[u8],
    passphrase: &[u8],
) -> Result<Vec<u8>, KeyStoreError> {
    at_rest::encrypt(private_key_pkcs8, passphrase)
}

/// Decrypt a DER `EncryptedPrivateKeyInfo` (PBES2 with scrypt or PBKDF2, or a PKCS#12 PBE
/// scheme) back to the PKCS#8 `PrivateKeyInfo`.
pub fn decrypt_private_key(
    encrypted: &[u8],
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    at_rest::decrypt(encrypted, passphrase)
}

impl From<crate::x509::ber::BerError> for KeyStoreError {
    fn from(e: crate::x509::ber::BerError) -> Self {
        KeyStoreError::InvalidFormat(e.0)
    }
}

fn invalid(msg: impl Into<String>) -> KeyStoreError {
    KeyStoreError::InvalidFormat(msg.into())
}

/// Encoding our own structures fails only on absurd sizes; report it as a crypto failure.
fn encoding(e: der::Error) -> KeyStoreError {
    KeyStoreError::Crypto(format!("DER encoding failed: {e}"))
}
