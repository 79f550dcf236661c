//! `[verify]`: what the verifier trusts and how strict it is.

use serde::Deserialize;
use std::path::PathBuf;

use super::setting::flag;
use super::ConfigError;

/// `[verify]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyFileConfig {
    #[serde(default)]
    trust: Vec<PathBuf>,
    #[serde(default)]
    intermediates: Vec<PathBuf>,
    #[serde(default)]
    crls: Vec<PathBuf>,
    offline: Option<bool>,
    required_role: Option<String>,
    /// "chain" (default) or "leaf": whose revocation status must be known.
    revocation_scope: Option<crate::verify::RevocationScope>,
    /// RFC 6901 pointers to the applicant's IIN/BIN in signed JSON (default /applicant/iin, /applicant/bin).
    #[serde(default)]
    iin_pointers: Vec<String>,
    #[serde(default)]
    bin_pointers: Vec<String>,
    /// Local names of the elements holding the applicant's IIN/BIN in signed XML (default
    /// iin, bin).
    #[serde(default)]
    iin_elements: Vec<String>,
    #[serde(default)]
    bin_elements: Vec<String>,
}

/// Verification settings: what to trust beyond the service's own root, extra intermediates and
/// CRLs, whether the network may be used, and a role the signer must hold.
#[derive(Debug, Clone, Default)]
pub struct VerifyConfig {
    pub trust: Vec<PathBuf>,
    pub intermediates: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    pub offline: bool,
    pub required_role: Option<String>,
    pub revocation_scope: crate::verify::RevocationScope,
    /// Where in signed JSON the applicant's IIN/BIN are (empty: the defaults).
    pub iin_pointers: Vec<String>,
    pub bin_pointers: Vec<String>,
    /// Which XML elements (local names) hold them (empty: the defaults).
    pub iin_elements: Vec<String>,
    pub bin_elements: Vec<String>,
}

impl VerifyConfig {
    pub(super) fn load(
        file: VerifyFileConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<VerifyConfig, ConfigError> {
        // Path lists in variables are separated like PATH.
        let paths = |name: &str, from_file: Vec<PathBuf>| match var(name) {
            Some(v) => std::env::split_paths(&v).collect(),
            None => from_file,
        };
        let offline = match var("QOLTANBA_VERIFY_OFFLINE") {
            None => file.offline.unwrap_or(false),
            Some(v) => flag("QOLTANBA_VERIFY_OFFLINE", &v)?,
        };
        let revocation_scope = match var("QOLTANBA_VERIFY_REVOCATION_SCOPE") {
            None => file.revocation_scope.unwrap_or_default(),
            Some(v) => v.parse().map_err(|message| ConfigError::Invalid {
                name: "QOLTANBA_VERIFY_REVOCATION_SCOPE",
                message,
            })?,
        };
        let verify = VerifyConfig {
            trust: paths("QOLTANBA_VERIFY_TRUST", file.trust),
            intermediates: paths("QOLTANBA_VERIFY_INTERMEDIATES", file.intermediates),
            crls: paths("QOLTANBA_VERIFY_CRLS", file.crls),
            offline,
            required_role: var("QOLTANBA_VERIFY_ROLE").or(file.required_role),
            revocation_scope,
            iin_pointers: file.iin_pointers,
            bin_pointers: file.bin_pointers,
            iin_elements: file.iin_elements,
            bin_elements: file.bin_elements,
        };
        for name in verify.iin_elements.iter().chain(&verify.bin_elements) {
            let ok = !name.is_empty()
                && !name.contains(':')
                && !name
                    .chars()
                    .any(|c| c.is_whitespace() || "<>&\"'/=".contains(c));
            if !ok {
                return Err(ConfigError::Invalid {
                    name: "verify.iin_elements / verify.bin_elements",
                    message: format!("{name:?} is not an XML local name (no prefix, no spaces)"),
                });
            }
        }
        for pointer in verify.iin_pointers.iter().chain(&verify.bin_pointers) {
            if !pointer.starts_with('/') {
                return Err(ConfigError::Invalid {
                    name: "verify.iin_pointers / verify.bin_pointers",
                    message: format!(
                        "{pointer:?} is not a JSON pointer (RFC 6901: it starts with '/')"
                    ),
                });
            }
        }
        Ok(verify)
    }
}
