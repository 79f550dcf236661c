//! Configuration: defaults, then a TOML file (`--config FILE`), then `QOLTANBA_*` variables.

mod operations;
mod security;
mod setting;
mod timestamp;
mod verify;

pub use operations::OperationsConfig;
pub use security::SecurityConfig;
pub use timestamp::TimestampConfig;
pub use verify::VerifyConfig;

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error("CA passphrase: {0}")]
    Passphrase(String),
}

/// The config file's keys. Secrets are not accepted inline: name a file instead.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    ca_passphrase_file: Option<PathBuf>,
    pki_dir: Option<PathBuf>,
    log_format: Option<String>,
    #[serde(default)]
    verify: verify::VerifyFileConfig,
    #[serde(default)]
    sign: SignFileConfig,
    #[serde(default)]
    security: security::SecurityFileConfig,
    #[serde(default)]
    operations: operations::OperationsFileConfig,
    #[serde(default)]
    timestamp: timestamp::TimestampFileConfig,
}

/// `[sign]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignFileConfig {
    key_store: Option<PathBuf>,
    password_file: Option<PathBuf>,
}

/// The official's key the service signs documents with, if the operator imports one (PKCS#12,
/// modern or NCA's legacy format); otherwise the test PKI's official signs.
#[derive(Debug, Clone, Default)]
pub struct SignConfig {
    pub key_store: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
}

/// Where the CA passphrase comes from.
#[derive(Clone)]
pub enum PassphraseSource {
    /// `QOLTANBA_CA_PASSPHRASE`.
    Value(Zeroizing<String>),
    /// `QOLTANBA_CA_PASSPHRASE_FILE` or `ca_passphrase_file`.
    File(PathBuf),
    /// Nothing configured: a random passphrase kept in the data directory (mode 0600), created
    /// on first use. Fine for a test PKI; production sets one of the above.
    Generated(PathBuf),
}

impl std::fmt::Debug for PassphraseSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassphraseSource::Value(_) => f.write_str("Value(<redacted>)"),
            PassphraseSource::File(p) => write!(f, "File({})", p.display()),
            PassphraseSource::Generated(p) => write!(f, "Generated({})", p.display()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub ca_passphrase: PassphraseSource,
    /// An edited copy of `pki/` (hierarchy.toml, profiles/); None uses the built-in one.
    pub pki_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    pub verify: VerifyConfig,
    pub sign: SignConfig,
    pub security: SecurityConfig,
    pub operations: OperationsConfig,
    pub timestamp: TimestampConfig,
}

impl Config {
    /// Loads from the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_from(file, |name| std::env::var(name).ok())
    }

    /// Loads with an explicit environment (tests pass a map).
    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let from_file = match file {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e: toml::de::Error| {
                    // The message alone: toml's full rendering quotes the offending line,
                    // which may hold a secret someone pasted into the file.
                    let line = e
                        .span()
                        .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
                    ConfigError::Parse {
                        path: path.to_owned(),
                        message: match line {
                            Some(line) => format!("line {line}: {}", e.message()),
                            None => e.message().to_owned(),
                        },
                    }
                })?
            }
        };
        // Empty variables count as unset, as shells often leave them.
        let var = |name: &str| env(name).filter(|v| !v.is_empty());

        let listen_text = var("QOLTANBA_LISTEN")
            .or(from_file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| ConfigError::Invalid {
            name: "QOLTANBA_LISTEN",
            message: format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
        })?;
        let data_dir = var("QOLTANBA_DATA_DIR")
            .map(PathBuf::from)
            .or(from_file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = var("QOLTANBA_DATABASE_URL")
            .or(from_file.database_url)
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("qoltanba.db").display()
                )
            });
        let public_url = var("QOLTANBA_PUBLIC_URL")
            .or(from_file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || !public_url.is_ascii()
        {
            return Err(ConfigError::Invalid {
                name: "QOLTANBA_PUBLIC_URL",
                message: format!("{public_url:?} must be an ASCII http:// or https:// URL"),
            });
        }
        let ca_passphrase = if let Some(value) = env("QOLTANBA_CA_PASSPHRASE") {
            if value.is_empty() {
                return Err(ConfigError::Passphrase(
                    "QOLTANBA_CA_PASSPHRASE is set but empty".into(),
                ));
            }
            PassphraseSource::Value(Zeroizing::new(value))
        } else if let Some(path) = var("QOLTANBA_CA_PASSPHRASE_FILE")
            .map(PathBuf::from)
            .or(from_file.ca_passphrase_file)
        {
            PassphraseSource::File(path)
        } else {
            PassphraseSource::Generated(data_dir.join("ca-passphrase"))
        };
        let pki_dir = var("QOLTANBA_PKI_DIR")
            .map(PathBuf::from)
            .or(from_file.pki_dir);
        let log_format = match var("QOLTANBA_LOG_FORMAT")
            .or(from_file.log_format)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "QOLTANBA_LOG_FORMAT",
                    message: format!("{other:?} is not text or json"),
                })
            }
        };
        let verify = VerifyConfig::load(from_file.verify, var)?;
        let sign = SignConfig {
            key_store: var("QOLTANBA_SIGN_KEY_STORE")
                .map(PathBuf::from)
                .or(from_file.sign.key_store),
            password_file: var("QOLTANBA_SIGN_PASSWORD_FILE")
                .map(PathBuf::from)
                .or(from_file.sign.password_file),
        };
        if sign.key_store.is_some() != sign.password_file.is_some() {
            return Err(ConfigError::Invalid {
                name: "QOLTANBA_SIGN_KEY_STORE",
                message: "a signing key store needs its password file (QOLTANBA_SIGN_PASSWORD_FILE), and vice versa".into(),
            });
        }
        let security = SecurityConfig::load(from_file.security, var)?;
        let operations = OperationsConfig::load(from_file.operations, var)?;
        let timestamp = TimestampConfig::load(from_file.timestamp, var)?;
        Ok(Config {
            timestamp,
            security,
            operations,
            sign,
            verify,
            listen,
            database_url,
            data_dir,
            public_url,
            ca_passphrase,
            pki_dir,
            log_format,
        })
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Creates the data directory (mode 0700) if the configuration needs it.
    pub fn prepare_data_dir(&self) -> Result<(), ConfigError> {
        let needed =
            self.uses_sqlite() || matches!(self.ca_passphrase, PassphraseSource::Generated(_));
        if needed {
            create_private_dir(&self.data_dir).map_err(|e| ConfigError::Invalid {
                name: "QOLTANBA_DATA_DIR",
                message: format!("cannot create {}: {e}", self.data_dir.display()),
            })?;
        }
        Ok(())
    }

    /// Reads the CA passphrase, creating the generated one on first use.
    pub fn passphrase(&self) -> Result<Zeroizing<String>, ConfigError> {
        let read = |path: &Path| -> Result<Zeroizing<String>, ConfigError> {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                ConfigError::Passphrase(format!("cannot read {}: {e}", path.display()))
            })?);
            // A trailing newline from `echo … > file` is not part of the passphrase.
            let trimmed = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
            if trimmed.is_empty() {
                return Err(ConfigError::Passphrase(format!(
                    "{} is empty",
                    path.display()
                )));
            }
            Ok(trimmed)
        };
        match &self.ca_passphrase {
            PassphraseSource::Value(v) => Ok(v.clone()),
            PassphraseSource::File(path) => read(path),
            PassphraseSource::Generated(path) if path.exists() => read(path),
            PassphraseSource::Generated(path) => {
                let bytes = crate::crypto::random_bytes::<32>()
                    .map_err(|e| ConfigError::Passphrase(e.to_string()))?;
                let value = Zeroizing::new(hex::encode(bytes));
                write_private_file(path, value.as_bytes()).map_err(|e| {
                    ConfigError::Passphrase(format!("cannot write {}: {e}", path.display()))
                })?;
                tracing::warn!(
                    path = %path.display(),
                    "no CA passphrase configured: generated one (set QOLTANBA_CA_PASSPHRASE_FILE in production)"
                );
                Ok(value)
            }
        }
    }
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(path)
    }
}

/// Writes a secret with mode 0600, refusing to overwrite an existing file.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::load_from(None, env(&[])).expect("defaults");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.database_url, "sqlite://./data/qoltanba.db?mode=rwc");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(matches!(c.ca_passphrase, PassphraseSource::Generated(_)));
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("q.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"http://pki.test\"\n",
        )
        .expect("write");
        let c = Config::load_from(Some(&file), env(&[("QOLTANBA_LISTEN", "127.0.0.1:9100")]))
            .expect("load");
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.public_url, "http://pki.test");
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let err = Config::load_from(None, env(&[("QOLTANBA_LISTEN", "everywhere")]))
            .expect_err("bad listen");
        assert!(err.to_string().contains("QOLTANBA_LISTEN"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "ca_passphrase = \"inline secrets are refused\"\n").expect("write");
        let err = Config::load_from(Some(&file), env(&[])).expect_err("unknown key");
        assert!(err.to_string().contains("q.toml"), "{err}");
        assert!(
            !err.to_string().contains("inline secrets"),
            "secret echoed: {err}"
        );
    }

    #[test]
    fn connection_limits_have_documented_defaults_and_refuse_zero() {
        let c = Config::load_from(None, env(&[])).expect("defaults");
        assert_eq!(
            (
                c.security.header_read_timeout_seconds,
                c.security.idle_timeout_seconds,
                c.security.max_connections
            ),
            (10, 60, 1024)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("q.toml");
        std::fs::write(
            &file,
            "[security]\nmax_connections = 50\nidle_timeout_seconds = 5\n",
        )
        .expect("write");
        let c = Config::load_from(
            Some(&file),
            env(&[("QOLTANBA_HEADER_READ_TIMEOUT_SECONDS", "2")]),
        )
        .expect("load");
        assert_eq!(c.security.max_connections, 50);
        assert_eq!(c.security.idle_timeout_seconds, 5);
        assert_eq!(c.security.header_read_timeout_seconds, 2);
        for (name, value) in [
            ("QOLTANBA_MAX_CONNECTIONS", "0"),
            ("QOLTANBA_MAX_CONNECTIONS", "2000000"),
            ("QOLTANBA_IDLE_TIMEOUT_SECONDS", "0"),
            ("QOLTANBA_HEADER_READ_TIMEOUT_SECONDS", "soon"),
        ] {
            let err = Config::load_from(None, env(&[(name, value)])).expect_err(value);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn identity_pointers_come_from_the_verify_section_and_must_be_pointers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("q.toml");
        std::fs::write(
            &file,
            "[verify]\niin_pointers = [\"/request/declarant/iin\"]\n",
        )
        .expect("write");
        let c = Config::load_from(Some(&file), env(&[])).expect("load");
        assert_eq!(
            c.verify.iin_pointers,
            vec!["/request/declarant/iin".to_owned()]
        );
        std::fs::write(&file, "[verify]\nbin_pointers = [\"bin\"]\n").expect("write");
        let err = Config::load_from(Some(&file), env(&[])).expect_err("not a pointer");
        assert!(err.to_string().contains("JSON pointer"), "{err}");
    }

    #[test]
    fn the_generated_passphrase_is_private_and_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = Config::load_from(
            None,
            env(&[("QOLTANBA_DATA_DIR", dir.path().to_str().expect("utf8"))]),
        )
        .expect("load");
        let first = c.passphrase().expect("generate");
        assert_eq!(*first, *c.passphrase().expect("read back"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("ca-passphrase"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
