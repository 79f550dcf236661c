//! The hierarchy and certificate profiles as declared in `pki/` (TOML).
//!
//! The binary carries the repository's `pki/` files as defaults, so it works from any directory;
//! `pki_dir` in the configuration points at an edited copy. Changing a profile needs no code change.

use der::asn1::ObjectIdentifier;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

use super::log_key::LogDeclaration;
use super::PkiError;
use crate::crypto::KeyAlgorithm;

const BUILTIN_HIERARCHY: &str = include_str!("../../pki/hierarchy.toml");
const BUILTIN_PROFILES: &[(&str, &str)] = &[
    (
        "individual-sign",
        include_str!("../../pki/profiles/individual-sign.toml"),
    ),
    (
        "individual-auth",
        include_str!("../../pki/profiles/individual-auth.toml"),
    ),
    (
        "legal-head-sign",
        include_str!("../../pki/profiles/legal-head-sign.toml"),
    ),
    (
        "legal-signer-sign",
        include_str!("../../pki/profiles/legal-signer-sign.toml"),
    ),
    (
        "legal-financial-sign",
        include_str!("../../pki/profiles/legal-financial-sign.toml"),
    ),
    (
        "legal-hr-sign",
        include_str!("../../pki/profiles/legal-hr-sign.toml"),
    ),
    (
        "legal-employee-sign",
        include_str!("../../pki/profiles/legal-employee-sign.toml"),
    ),
    (
        "infosystem-sign",
        include_str!("../../pki/profiles/infosystem-sign.toml"),
    ),
    (
        "official-sign",
        include_str!("../../pki/profiles/official-sign.toml"),
    ),
    (
        "ocsp-responder",
        include_str!("../../pki/profiles/ocsp-responder.toml"),
    ),
    ("tsa", include_str!("../../pki/profiles/tsa.toml")),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hierarchy {
    pub root: CaDeclaration,
    pub issuing: CaDeclaration,
    pub ocsp: OcspDeclaration,
    /// The time-stamping authority; a hierarchy file from before it existed gets the built-in
    /// one with the issuing CA's key type ([`Hierarchy::tsa`]).
    #[serde(default)]
    tsa: Option<TsaDeclaration>,
    pub urls: UrlDeclaration,
    pub official: OfficialDeclaration,
    /// The transparency log's key type and origin (`log_key.rs`); Ed25519 and `<host>/log`
    /// when absent.
    #[serde(default)]
    pub log: LogDeclaration,
}

impl Hierarchy {
    /// The TSA as declared, or the built-in declaration with the issuing CA's key type.
    pub fn tsa(&self) -> TsaDeclaration {
        self.tsa.clone().unwrap_or_else(|| TsaDeclaration {
            profile: "tsa".into(),
            common_name: "СЕРВИС МЕТКИ ВРЕМЕНИ ҚОЛТАҢБА TEST".into(),
            key: self.issuing.key,
            validity_days: 2190,
            policy: DEFAULT_TSA_POLICY.into(),
            accuracy_seconds: 1,
        })
    }
}

/// The TSA policy of the built-in hierarchies: under 1.3.6.1.4.1.32473, the enterprise number
/// IANA reserves for documentation and examples (RFC 5612), which is the project's test arc —
/// it can never collide with NCA's 1.2.398 (NCA's own TSA policy is 1.2.398.3.3.2.6.1).
pub const DEFAULT_TSA_POLICY: &str = "1.3.6.1.4.1.32473.3161.1";

/// The time-stamping authority (RFC 3161): its certificate is issued by the issuing CA with
/// `profile` when the PKI is created, or at the first start of a PKI that has none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaDeclaration {
    pub profile: String,
    pub common_name: String,
    pub key: KeyAlgorithm,
    pub validity_days: u32,
    /// The TSA policy every token names (TSTInfo.policy); a request naming another is refused.
    pub policy: String,
    /// TSTInfo.accuracy, in seconds (0: no accuracy field).
    pub accuracy_seconds: u32,
}

/// The licensing authority's official who signs documents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialDeclaration {
    pub profile: String,
    pub authority_name: String,
    pub authority_bin: String,
    pub surname: String,
    pub given_name: String,
    #[serde(default)]
    pub patronymic: Option<String>,
    pub iin: String,
    pub key: KeyAlgorithm,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaDeclaration {
    pub id: String,
    /// Ordered (attribute, value) pairs, e.g. [["C","KZ"],["CN","…"]].
    pub subject: Vec<(String, String)>,
    pub key: KeyAlgorithm,
    pub validity_days: u32,
    #[serde(default)]
    pub policy: Option<String>,
    pub crl_period_hours: u32,
    /// 0 means no delta CRLs for this CA.
    #[serde(default)]
    pub delta_crl_period_hours: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcspDeclaration {
    pub profile: String,
    pub common_name: String,
    pub key: KeyAlgorithm,
    pub validity_days: u32,
    pub next_update_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlDeclaration {
    pub cps_path: String,
}

/// Subject attributes a profile may place, in the order it lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SubjectAttribute {
    CN,
    SURNAME,
    SERIALNUMBER,
    C,
    O,
    OU,
    GIVENNAME,
    UID,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyUsageBit {
    DigitalSignature,
    NonRepudiation,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    description: String,
    subject: Vec<SubjectAttribute>,
    key_usage: Vec<KeyUsageBit>,
    extended_key_usage: Vec<String>,
    #[serde(default)]
    policy: Option<String>,
    validity_days: u32,
    #[serde(default)]
    extended_key_usage_critical: bool,
    #[serde(default)]
    ocsp_nocheck: bool,
    #[serde(default = "yes")]
    crl_distribution_points: bool,
    #[serde(default = "yes")]
    authority_info_access: bool,
}

fn yes() -> bool {
    true
}

/// A certificate profile, checked and with its OIDs parsed.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub subject: Vec<SubjectAttribute>,
    pub key_usage: Vec<KeyUsageBit>,
    pub extended_key_usage: Vec<ObjectIdentifier>,
    /// Whether extendedKeyUsage is marked critical (a TSA's must be, RFC 3161 §2.3).
    pub extended_key_usage_critical: bool,
    pub policy: Option<ObjectIdentifier>,
    pub validity_days: u32,
    pub ocsp_nocheck: bool,
    pub crl_distribution_points: bool,
    pub authority_info_access: bool,
}

/// EKU names the profiles may use instead of dotted OIDs.
fn eku_oid(name: &str) -> Result<ObjectIdentifier, String> {
    use const_oid::db::rfc5280;
    Ok(match name {
        "serverAuth" => rfc5280::ID_KP_SERVER_AUTH,
        "clientAuth" => rfc5280::ID_KP_CLIENT_AUTH,
        "emailProtection" => rfc5280::ID_KP_EMAIL_PROTECTION,
        "OCSPSigning" => rfc5280::ID_KP_OCSP_SIGNING,
        "timeStamping" => rfc5280::ID_KP_TIME_STAMPING,
        dotted => ObjectIdentifier::new(dotted)
            .map_err(|_| format!("{dotted:?} is neither a known EKU name nor a dotted OID"))?,
    })
}

impl Profile {
    fn from_toml(name: &str, text: &str) -> Result<Profile, PkiError> {
        let bad = |msg: String| PkiError::Config(format!("profile {name}: {msg}"));
        let file: ProfileFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if file.subject.is_empty() {
            return Err(bad("subject lists no attributes".into()));
        }
        if file.key_usage.is_empty() {
            return Err(bad("key_usage is empty".into()));
        }
        if file.validity_days == 0 {
            return Err(bad("validity_days must be at least 1".into()));
        }
        let extended_key_usage = file
            .extended_key_usage
            .iter()
            .map(|e| eku_oid(e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let policy = file
            .policy
            .as_deref()
            .map(ObjectIdentifier::new)
            .transpose()
            .map_err(|e| bad(format!("policy: {e}")))?;
        Ok(Profile {
            name: name.to_owned(),
            description: file.description,
            subject: file.subject,
            key_usage: file.key_usage,
            extended_key_usage,
            extended_key_usage_critical: file.extended_key_usage_critical,
            policy,
            validity_days: file.validity_days,
            ocsp_nocheck: file.ocsp_nocheck,
            crl_distribution_points: file.crl_distribution_points,
            authority_info_access: file.authority_info_access,
        })
    }

    pub fn has(&self, attribute: SubjectAttribute) -> bool {
        self.subject.contains(&attribute)
    }
}

/// The hierarchy and all profiles by name.
#[derive(Debug, Clone)]
pub struct Declarations {
    pub hierarchy: Hierarchy,
    pub profiles: BTreeMap<String, Profile>,
}

impl Declarations {
    /// Built-in declarations, overlaid with `dir/hierarchy.toml` and `dir/profiles/*.toml`.
    pub fn load(dir: Option<&Path>) -> Result<Declarations, PkiError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| PkiError::Config(format!("{}: {e}", path.display())))
        };
        let mut hierarchy_text = BUILTIN_HIERARCHY.to_owned();
        let mut profile_texts: BTreeMap<String, String> = BUILTIN_PROFILES
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        if let Some(dir) = dir {
            let path = dir.join("hierarchy.toml");
            if path.exists() {
                hierarchy_text = read(&path)?;
            }
            let profiles_dir = dir.join("profiles");
            if profiles_dir.is_dir() {
                let entries = std::fs::read_dir(&profiles_dir)
                    .map_err(|e| PkiError::Config(format!("{}: {e}", profiles_dir.display())))?;
                for entry in entries {
                    let path = entry.map_err(|e| PkiError::Config(e.to_string()))?.path();
                    if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                        continue;
                    }
                    if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                        profile_texts.insert(name.to_owned(), read(&path)?);
                    }
                }
            }
        }
        let hierarchy: Hierarchy = toml::from_str(&hierarchy_text)
            .map_err(|e| PkiError::Config(format!("hierarchy.toml: {e}")))?;
        let profiles = profile_texts
            .iter()
            .map(|(name, text)| Ok((name.clone(), Profile::from_toml(name, text)?)))
            .collect::<Result<BTreeMap<_, _>, PkiError>>()?;
        if !profiles.contains_key(&hierarchy.ocsp.profile) {
            return Err(PkiError::Config(format!(
                "hierarchy.toml: OCSP profile {:?} is not declared",
                hierarchy.ocsp.profile
            )));
        }
        let tsa = hierarchy.tsa();
        if !profiles.contains_key(&tsa.profile) {
            return Err(PkiError::Config(format!(
                "hierarchy.toml: TSA profile {:?} is not declared",
                tsa.profile
            )));
        }
        ObjectIdentifier::new(&tsa.policy).map_err(|e| {
            PkiError::Config(format!(
                "hierarchy.toml: [tsa] policy {:?}: {e}",
                tsa.policy
            ))
        })?;
        hierarchy.log.check()?;
        for ca in [&hierarchy.root, &hierarchy.issuing] {
            let id_ok = !ca.id.is_empty()
                && ca
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                && !ca.id.ends_with("-delta");
            if !id_ok {
                return Err(PkiError::Config(format!(
                    "hierarchy.toml: CA id {:?} must be letters, digits, '_' or '-' and not end in -delta",
                    ca.id
                )));
            }
        }
        Ok(Declarations {
            hierarchy,
            profiles,
        })
    }

    pub fn profile(&self, name: &str) -> Result<&Profile, PkiError> {
        self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            PkiError::invalid(format!(
                "unknown profile {name:?}; known profiles: {}",
                known.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_declarations_load_with_every_required_profile() {
        let d = Declarations::load(None).expect("built-ins load");
        for name in [
            "individual-sign",
            "individual-auth",
            "legal-head-sign",
            "legal-signer-sign",
            "legal-financial-sign",
            "legal-hr-sign",
            "legal-employee-sign",
            "infosystem-sign",
            "official-sign",
            "ocsp-responder",
            "tsa",
        ] {
            assert!(d.profiles.contains_key(name), "{name} missing");
        }
        let head = d.profile("legal-head-sign").expect("head");
        assert!(head
            .extended_key_usage
            .contains(&ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.1")));
    }

    #[test]
    fn an_edited_profile_directory_overrides_and_adds_profiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("profiles")).expect("mkdir");
        std::fs::write(
            dir.path().join("profiles/custom.toml"),
            "description = \"x\"\nsubject = [\"CN\", \"C\"]\nkey_usage = [\"digitalSignature\"]\n\
             extended_key_usage = [\"1.2.3.4\"]\nvalidity_days = 30\n",
        )
        .expect("write");
        let d = Declarations::load(Some(dir.path())).expect("load");
        assert_eq!(d.profile("custom").expect("custom").validity_days, 30);
        assert!(d.profile("individual-sign").is_ok());
        std::fs::write(dir.path().join("profiles/broken.toml"), "subject = 3").expect("write");
        let err = Declarations::load(Some(dir.path())).expect_err("broken profile refused");
        assert!(err.to_string().contains("profile broken"), "{err}");
    }
}
