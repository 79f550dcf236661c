//! Signing (процесс 11): CAdES-BES CMS over any bytes, by the licensing official's key or an
//! imported PKCS#12.
//!
//! Door: [`cades::sign`] with a [`cades::SignerIdentity`], which [`identity_from_pkcs12`] makes
//! from a key store after checking it holds a usable signing key; [`xml::sign_enveloped`] and
//! [`xml::sign_wsse`] for XMLDSig as NCA RK's Kalkan makes it; [`document_xml`] for a document's
//! XML form; [`registry::find`] for which registered document a signature is over.

pub mod cades;
pub mod canonical;
pub mod document;
pub mod document_xml;
pub mod issue;
pub mod levels;
pub mod pdf;
pub mod registry;
pub mod xml;

use x509_cert::Certificate;

use crate::crypto::{CryptoError, SigningKey};
use crate::keystore::{self, KeyStoreError};
use crate::x509::Cert;

pub use cades::SignerIdentity;

/// Everything that can go wrong when signing.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("wrong password for the key store")]
    WrongPassword,
    #[error("{0}")]
    KeyStore(String),
    #[error("the key cannot sign: {0}")]
    UnusableKey(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("DER encoding failed: {0}")]
    Encoding(#[from] der::Error),
    #[error("internal error: {0}")]
    Internal(&'static str),
    #[error("the input is not XML: after an optional byte order mark and whitespace, an XML document starts with '<'")]
    NotXml,
    #[error("the input is not an XML document that can be signed: {0}")]
    Xml(#[from] crate::xml::XmlError),
    #[error("the input is not a SOAP message that can be signed with WS-Security: {0}")]
    Soap(String),
    #[error("the input is not a CMS signature that can be extended: {0}")]
    Cms(String),
}

impl From<KeyStoreError> for SignError {
    fn from(e: KeyStoreError) -> Self {
        match e {
            KeyStoreError::WrongPassword => SignError::WrongPassword,
            other => SignError::KeyStore(other.to_string()),
        }
    }
}

/// Opens a PKCS#12 (modern or NCA's legacy format) and checks that its key may sign documents
/// at `now`: a signing key (not AUTH), within its validity, matching its certificate.
pub fn identity_from_pkcs12(
    pfx: &[u8],
    password: &str,
    now: i64,
) -> Result<SignerIdentity, SignError> {
    let contents = keystore::open_pkcs12(pfx, password)?;
    let key = SigningKey::from_pkcs8(&contents.private_key_pkcs8).map_err(|e| match e {
        CryptoError::UnsupportedKey(oid) => SignError::UnusableKey(format!(
            "its key algorithm ({oid}) is not supported for signing (RSA, P-256, Ed25519 and NCA's GOST 34.10-2015 and GOST 34.310-2004 are)"
        )),
        other => SignError::Crypto(other),
    })?;
    let cert = Cert::from_der(&contents.certificate)
        .map_err(|e| SignError::KeyStore(format!("the certificate in the key store: {e}")))?;
    let spki = &cert.parsed.tbs_certificate.subject_public_key_info;
    if spki.subject_public_key.raw_bytes() != key.public_key_bytes() {
        return Err(SignError::UnusableKey(
            "the key does not match the certificate in the key store".into(),
        ));
    }
    if crate::x509::KeyProfile::of(&cert).kind == crate::x509::KeyKind::Auth {
        return Err(SignError::UnusableKey(
            "this is an authentication (AUTH) key; sign with the signing key (RSA/GOST for signature)".into(),
        ));
    }
    if now > cert.not_after() {
        return Err(SignError::UnusableKey(format!(
            "its certificate expired at {}",
            crate::time::rfc3339(cert.not_after())
        )));
    }
    if now < cert.not_before() {
        return Err(SignError::UnusableKey(format!(
            "its certificate is valid only from {}",
            crate::time::rfc3339(cert.not_before())
        )));
    }
    let certificate: Certificate = cert.parsed.clone();
    Ok(SignerIdentity {
        key,
        certificate,
        certificate_der: cert.der.clone(),
        chain: contents.chain,
    })
}
