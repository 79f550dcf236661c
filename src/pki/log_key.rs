//! The transparency log's key (issue 17): made with the PKI, of the type the PKI declaration
//! names (`[log]` in hierarchy.toml: Ed25519 by default, GOST 34.10-2015 as NCA's algorithm),
//! kept encrypted with the CA passphrase like the CA keys, under the log's origin (declared, or
//! `<public host>/log`). Once made it is the log's for good: auditors pin it, so a declaration
//! asking for another type or origin later is reported, never obeyed.

use serde::Deserialize;

use crate::crypto::{KeyAlgorithm, SigningKey};
use crate::keystore;
use crate::store::LogKeyRecord;
use crate::tlog::{self, NoteAlgorithm, NoteKey, TlogError};

use super::PkiError;

/// `[log]` in hierarchy.toml: the log key's type and the log's origin, used when the key is
/// made (with the PKI, or at the first start of a database from before the log).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogDeclaration {
    /// `ed25519` (C2SP signed-note type 0x01) or `gost2015` (GOST 34.10-2015, 512-bit).
    #[serde(default = "ed25519")]
    pub key: KeyAlgorithm,
    /// The log's name: its checkpoints' first line and its key's name. None: `<host>/log` of
    /// the public URL.
    #[serde(default)]
    pub origin: Option<String>,
}

fn ed25519() -> KeyAlgorithm {
    KeyAlgorithm::Ed25519
}

impl Default for LogDeclaration {
    fn default() -> Self {
        LogDeclaration {
            key: ed25519(),
            origin: None,
        }
    }
}

impl LogDeclaration {
    /// Whether the declaration can make a log key: a type notes are signed with, and an origin
    /// C2SP allows as a key name (non-empty, no spaces, no '+').
    pub fn check(&self) -> Result<(), PkiError> {
        if NoteAlgorithm::of_key(self.key).is_none() {
            return Err(PkiError::Config(format!(
                "hierarchy.toml: [log] key {:?}: a log key is \"ed25519\" or \"gost2015\"",
                self.key.name()
            )));
        }
        if let Some(origin) = &self.origin {
            tlog::check_key_name(origin).map_err(|_| {
                PkiError::Config(format!(
                    "hierarchy.toml: [log] origin {origin:?}: a log origin must be non-empty, \
                     without spaces, control characters or '+' (it names the log's key in C2SP \
                     signed notes), e.g. \"registry.example.kz/log\""
                ))
            })?;
        }
        Ok(())
    }

    /// The origin a new log gets: the declared one, else `<host>/log` of `public_url`.
    pub fn origin(&self, public_url: &str) -> String {
        self.origin
            .clone()
            .unwrap_or_else(|| origin_for(public_url))
    }
}

/// The log's key and name.
pub struct LogSigner {
    key: SigningKey,
    verifier: NoteKey,
    /// What the last full check found wrong, until one passes.
    pub(super) fault: std::sync::Mutex<Option<String>>,
    /// The documents table re-read against the log (`log_registry.rs`).
    pub(super) sweep: super::log_registry::Sweep,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("verifier", &self.verifier.encode())
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// The stored key, or a new one of the declared type stored now (another instance's if it
    /// was faster). A stored key is kept whatever the declaration says now; a difference is
    /// logged as a warning naming both.
    pub(super) async fn load_or_create(
        store: &crate::store::Store,
        declared: &LogDeclaration,
        public_url: &str,
        passphrase: &[u8],
        now: i64,
    ) -> Result<LogSigner, PkiError> {
        // A database from before the log: what it registered goes in first, once.
        store.backfill_log().await?;
        let origin = declared.origin(public_url);
        if let Some(record) = store.log_key().await? {
            return LogSigner::unlock(&record, passphrase, declared, &origin);
        }
        declared.check()?;
        let key = SigningKey::generate(declared.key)?;
        let verifier = NoteKey::for_signing_key(&origin, &key)?;
        let record = LogKeyRecord {
            name: verifier.name().to_owned(),
            verifier: verifier.encode(),
            encrypted_key: keystore::encrypt_private_key(key.pkcs8_der(), passphrase)?,
            created_at: now,
        };
        if store.insert_log_key(&record).await? {
            tracing::info!(
                origin = %record.name,
                algorithm = verifier.algorithm().display_name(),
                "created the transparency log's key"
            );
            return Ok(LogSigner {
                key,
                verifier,
                fault: Default::default(),
                sweep: Default::default(),
            });
        }
        let stored = store
            .log_key()
            .await?
            .ok_or_else(|| PkiError::Config("the log's key vanished while it was made".into()))?;
        LogSigner::unlock(&stored, passphrase, declared, &origin)
    }

    fn unlock(
        record: &LogKeyRecord,
        passphrase: &[u8],
        declared: &LogDeclaration,
        declared_origin: &str,
    ) -> Result<LogSigner, PkiError> {
        let pkcs8 = keystore::decrypt_private_key(&record.encrypted_key, passphrase)
            .map_err(|_| PkiError::WrongPassphrase)?;
        let key = SigningKey::from_pkcs8(&pkcs8)?;
        let verifier = NoteKey::for_signing_key(&record.name, &key)?;
        if verifier.encode() != record.verifier {
            return Err(PkiError::Config(
                "the log's stored verifier key is not its signing key's".into(),
            ));
        }
        if let Some(difference) = declared_difference(&verifier, declared.key, declared_origin) {
            tracing::warn!("{difference}");
        }
        Ok(LogSigner {
            key,
            verifier,
            fault: Default::default(),
            sweep: Default::default(),
        })
    }

    /// The note verifier key auditors pin: `<origin>+<id>+<key>`.
    pub fn verifier(&self) -> &NoteKey {
        &self.verifier
    }

    /// The log's origin (its checkpoints' first line and its key's name).
    pub fn origin(&self) -> &str {
        self.verifier.name()
    }

    /// `text` as a note signed by the log's key.
    pub(super) fn sign(&self, text: &str) -> Result<String, TlogError> {
        tlog::sign_note(text, &self.verifier, &self.key)
    }

    /// The text of a note the log's key signed; an error if it did not.
    pub(super) fn open<'a>(&self, note: &'a str) -> Result<&'a str, TlogError> {
        tlog::open_note(note, std::slice::from_ref(&self.verifier))
    }
}

/// What the declaration asks for that the stored key is not (None: nothing). The key stays: a
/// log that changed key or origin silently would look forged to every auditor who pinned it.
fn declared_difference(
    stored: &NoteKey,
    declared_key: KeyAlgorithm,
    declared_origin: &str,
) -> Option<String> {
    let stored_key = stored.algorithm().key_algorithm();
    if stored_key == declared_key && stored.name() == declared_origin {
        return None;
    }
    Some(format!(
        "the transparency log keeps its stored key ({}, origin {:?}) although the PKI \
         declaration asks for {} with origin {:?}: a log never changes key or origin (auditors \
         pin them); a new log on a new database takes the declared ones",
        stored_key.name(),
        stored.name(),
        declared_key.name(),
        declared_origin
    ))
}

/// `<host>/log` of the public URL: a C2SP origin is a schema-less URL.
fn origin_for(public_url: &str) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let host: String = host
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && *c != '+')
        .collect();
    if host.is_empty() {
        "qoltanba/log".to_owned()
    } else {
        format!("{host}/log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Declarations;

    fn hierarchy_with(dir: &std::path::Path, log: &str) -> Result<Declarations, PkiError> {
        let builtin = include_str!("../../pki/gost/hierarchy.toml");
        let without_log = builtin.split("\n[log]").next().unwrap_or(builtin);
        std::fs::write(dir.join("hierarchy.toml"), format!("{without_log}\n{log}"))
            .map_err(|e| PkiError::Config(e.to_string()))?;
        Declarations::load(Some(dir))
    }

    #[test]
    fn the_built_in_pki_declares_ed25519_and_pki_gost_declares_gost() {
        let builtin = Declarations::load(None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(builtin.hierarchy.log, LogDeclaration::default());
        let gost_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/pki/gost");
        let gost = Declarations::load(Some(std::path::Path::new(gost_dir)));
        let gost = gost.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gost.hierarchy.log.key, KeyAlgorithm::Gost2015);
        assert_eq!(
            gost.hierarchy
                .log
                .origin("https://licenses.example.kz:8443/app"),
            "licenses.example.kz:8443/log"
        );
    }

    #[test]
    fn a_declared_origin_and_key_are_read_and_bad_ones_are_config_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ok = hierarchy_with(
            dir.path(),
            "[log]\nkey = \"ed25519\"\norigin = \"registry.example.kz/log\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ok.hierarchy.log.origin("http://x"),
            "registry.example.kz/log"
        );
        assert_eq!(ok.hierarchy.log.key, KeyAlgorithm::Ed25519);
        for (log, says) in [
            ("[log]\norigin = \"registry example/log\"\n", "origin"),
            ("[log]\norigin = \"a+b/log\"\n", "origin"),
            ("[log]\norigin = \"\"\n", "origin"),
            ("[log]\nkey = \"rsa2048\"\n", "\"rsa2048\""),
            ("[log]\nkey = \"gost2004\"\n", "\"gost2004\""),
            ("[log]\nkey = \"ed448\"\n", "ed448"),
            ("[log]\nkeys = \"ed25519\"\n", "keys"),
        ] {
            let refused = hierarchy_with(dir.path(), log).map(|d| d.hierarchy.log);
            assert!(
                matches!(&refused, Err(PkiError::Config(why)) if why.contains(says)),
                "{log:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn a_declaration_other_than_the_stored_key_is_named_in_the_warning() {
        let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap_or_else(|e| panic!("{e}"));
        let stored = NoteKey::for_signing_key("a.example/log", &key);
        let stored = stored.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            declared_difference(&stored, KeyAlgorithm::Ed25519, "a.example/log"),
            None
        );
        let other_key = declared_difference(&stored, KeyAlgorithm::Gost2015, "a.example/log");
        let other_key = other_key.unwrap_or_default();
        assert!(
            other_key.contains("ed25519") && other_key.contains("gost2015"),
            "{other_key}"
        );
        let other_origin = declared_difference(&stored, KeyAlgorithm::Ed25519, "b.example/log");
        let other_origin = other_origin.unwrap_or_default();
        assert!(
            other_origin.contains("\"a.example/log\"")
                && other_origin.contains("\"b.example/log\""),
            "{other_origin}"
        );
    }

    #[test]
    fn the_default_origin_is_the_public_host() {
        assert_eq!(origin_for("http://127.0.0.1:8080"), "127.0.0.1:8080/log");
        assert_eq!(
            origin_for("https://e.example.kz/qoltanba/"),
            "e.example.kz/log"
        );
        assert_eq!(origin_for(""), "qoltanba/log");
    }
}
