//! Who may call what: API keys with scopes, a per-caller rate limit, and the audit trail's
//! vocabulary. The HTTP shell enforces these on every route (`http::access`); the CLI records
//! what it does in the same trail.
//!
//! Door: [`ApiKeys`] (create, authenticate, list, revoke), [`Scope`], [`RateLimiter`],
//! [`audit`], [`refusals`] (refusals in the trail, bounded under a flood).

pub mod audit;
mod key_cache;
mod rate_limit;
pub mod refusals;
mod token;

pub use key_cache::MAX_STALENESS as KEY_MAX_STALENESS;
pub use rate_limit::RateLimiter;
pub use token::Token;

use std::fmt;
use std::str::FromStr;

use crate::store::{ApiKeyRecord, Store, StoreError};

/// What a key may do. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Verify,
    Sign,
    PkiIssue,
    PkiRevoke,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Verify,
        Scope::Sign,
        Scope::PkiIssue,
        Scope::PkiRevoke,
        Scope::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Verify => "verify",
            Scope::Sign => "sign",
            Scope::PkiIssue => "pki:issue",
            Scope::PkiRevoke => "pki:revoke",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scope {
    type Err = SecurityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.name() == s)
            .ok_or_else(|| {
                SecurityError::Invalid(format!(
                    "unknown scope {s:?} (known: verify, sign, pki:issue, pki:revoke, admin)"
                ))
            })
    }
}

/// Everything that can go wrong in this room.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("{0}")]
    Invalid(String),
    #[error("an API key named {0:?} already exists")]
    NameTaken(String),
    #[error("no active API key named {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl Caller {
    /// Does this caller hold `scope` (or admin)?
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// How the audit trail names this caller.
    pub fn actor(&self) -> String {
        format!("key:{}", self.name)
    }
}

/// Why a presented token was not accepted (all look the same to the caller: 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Malformed,
    Unknown,
    Revoked,
}

/// API keys over the store, each believed for at most [`KEY_MAX_STALENESS`] after it was
/// read (clones share what they read).
#[derive(Clone, Debug)]
pub struct ApiKeys {
    store: Store,
    cache: std::sync::Arc<key_cache::KeyCache>,
}

impl ApiKeys {
    pub fn new(store: Store) -> Self {
        ApiKeys {
            store,
            cache: Default::default(),
        }
    }

    /// Creates a key; the returned token is the only time its secret exists outside the caller.
    pub async fn create(
        &self,
        name: &str,
        scopes: &[Scope],
        now: i64,
    ) -> Result<(Token, ApiKeyRecord), SecurityError> {
        let name = name.trim();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
        if !name_ok {
            return Err(SecurityError::Invalid(
                "a key name is 1-64 letters, digits, '-', '_', '.' or '@'".into(),
            ));
        }
        if scopes.is_empty() {
            return Err(SecurityError::Invalid("give at least one --scope".into()));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let token = Token::generate().map_err(|e| SecurityError::Invalid(e.to_string()))?;
        let record = ApiKeyRecord {
            id: token.id().to_owned(),
            name: name.to_owned(),
            secret_hash: token.secret_hash(),
            scopes: scopes
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(" "),
            created_at: now,
            revoked_at: None,
        };
        if !self.store.insert_api_key(&record).await? {
            return Err(SecurityError::NameTaken(name.to_owned()));
        }
        Ok((token, record))
    }

    /// The caller a bearer token belongs to. The key's row is read from the database at
    /// most every [`KEY_MAX_STALENESS`]: a key revoked elsewhere is refused within that time.
    pub async fn authenticate(&self, presented: &str) -> Result<Caller, Rejected> {
        let token = Token::parse(presented).ok_or(Rejected::Malformed)?;
        let record = match self.cache.get(token.id()) {
            Some(record) => record,
            None => {
                let read = std::time::Instant::now();
                let record = self
                    .store
                    .api_key(token.id())
                    .await
                    .ok()
                    .flatten()
                    .ok_or(Rejected::Unknown)?;
                self.cache.put(record.clone(), read);
                record
            }
        };
        if !token.matches_hash(&record.secret_hash) {
            return Err(Rejected::Unknown);
        }
        if record.revoked_at.is_some() {
            return Err(Rejected::Revoked);
        }
        Ok(Caller {
            key_id: record.id,
            name: record.name,
            scopes: record
                .scopes
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
        })
    }

    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>, SecurityError> {
        Ok(self.store.api_keys().await?)
    }

    /// Revokes a key: this process refuses it from now on (but for a lookup that read the row
    /// just before the revocation, at most [`KEY_MAX_STALENESS`]); other processes refuse it
    /// within [`KEY_MAX_STALENESS`].
    pub async fn revoke(&self, name: &str, now: i64) -> Result<(), SecurityError> {
        let revoked = self.store.revoke_api_key(name, now).await?;
        // After the write: a read racing with it may have kept the old row, not past this.
        self.cache.clear();
        if revoked {
            Ok(())
        } else {
            Err(SecurityError::NotFound(name.to_owned()))
        }
    }
}
