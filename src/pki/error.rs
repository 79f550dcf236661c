use crate::crypto::CryptoError;
use crate::keystore::KeyStoreError;
use crate::store::StoreError;

/// Everything that can go wrong in the PKI room. A refused request lists every problem at once.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("invalid request: {}", .0.join("; "))]
    InvalidRequest(Vec<String>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the PKI is not initialised: run `qoltanba pki init` or start `qoltanba serve`")]
    NotInitialised,
    #[error("cannot unlock the CA keys: wrong CA passphrase (QOLTANBA_CA_PASSPHRASE / QOLTANBA_CA_PASSPHRASE_FILE)")]
    WrongPassphrase,
    #[error("PKI configuration error: {0}")]
    Config(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("DER encoding failed: {0}")]
    Encoding(#[from] der::Error),
    /// No usable time-stamp: the TSA unreachable, refusing, or its reply failing a check.
    #[error("time-stamping failed: {0}")]
    TimeStamp(String),
    /// The transparency log: a proof that cannot be made, or a stored log that no longer
    /// matches what it signed.
    #[error("transparency log: {0}")]
    Log(String),
}

impl PkiError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        PkiError::InvalidRequest(vec![message.into()])
    }
}

impl From<crate::x509::reason::UnknownReason> for PkiError {
    fn from(e: crate::x509::reason::UnknownReason) -> Self {
        PkiError::invalid(e.to_string())
    }
}

impl From<crate::x509::name::NameError> for PkiError {
    fn from(e: crate::x509::name::NameError) -> Self {
        match e {
            crate::x509::name::NameError::BadValue { .. } => {
                PkiError::InvalidRequest(vec![e.to_string()])
            }
            other => PkiError::Config(other.to_string()),
        }
    }
}
