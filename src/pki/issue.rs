//! Issuing subscriber certificates from a profile.

use serde::Deserialize;
use x509_cert::name::Name;
use zeroize::Zeroizing;

use super::authority::Authority;
use super::certificate::{self, CertificateContent};
use super::declared::{Profile, SubjectAttribute};
use super::{extensions as ext, name, PkiError, Urls};
use crate::crypto::{KeyAlgorithm, SigningKey};
use crate::identity::{Bin, IdentityError, Iin};
use crate::keystore::Pkcs12Flavour;

/// Longest validity anyone may ask for.
pub const MAX_DAYS: u32 = 3650;
const MAX_NAME_CHARS: usize = 128;
const MAX_ORG_CHARS: usize = 256;
const MAX_PASSWORD_CHARS: usize = 1024;

/// What the caller asks for. Field names are the JSON names of `POST /v1/pki/certificates`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub profile: String,
    #[serde(default)]
    pub iin: Option<String>,
    #[serde(default)]
    pub bin: Option<String>,
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    /// NCA puts the patronymic in GIVENNAME; the first name goes into CN only.
    #[serde(default)]
    pub patronymic: Option<String>,
    /// CN for profiles whose subject is not a person (information systems).
    #[serde(default)]
    pub common_name: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    /// The subscriber's key type; default: the issuing CA's (so pki/gost issues GOST-2015 keys,
    /// pki/gost2004 GOST-2004 ones, the built-in RSA hierarchy RSA-2048).
    #[serde(default)]
    pub key: Option<KeyAlgorithm>,
    #[serde(default)]
    pub days: Option<u32>,
    /// Accept an IIN/BIN whose check digit or structure is wrong (NCA's own test numbers are).
    #[serde(default)]
    pub allow_invalid_check_digit: bool,
    /// Password of the PKCS#12 key store returned.
    #[serde(default)]
    pub password: Option<Zeroizing<String>>,
    /// Produce the legacy 3DES/RC2 PKCS#12 real NCA key stores use.
    #[serde(default)]
    pub legacy: bool,
}

impl std::fmt::Debug for IssueRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueRequest")
            .field("profile", &self.profile)
            .field("iin", &self.iin)
            .field("bin", &self.bin)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A checked request: everything the certificate will say.
pub(super) struct Checked {
    pub subject: Name,
    pub subject_text: String,
    pub iin: Option<Iin>,
    pub bin: Option<Bin>,
    pub days: u32,
    pub password: Zeroizing<String>,
    pub flavour: Pkcs12Flavour,
}

fn text_field(
    problems: &mut Vec<String>,
    label: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value?.trim();
    if value.is_empty() {
        problems.push(format!("{label} is empty"));
        None
    } else if value.chars().count() > max {
        problems.push(format!("{label} is longer than {max} characters"));
        None
    } else if value.chars().any(char::is_control) {
        problems.push(format!("{label} contains control characters"));
        None
    } else {
        Some(value.to_owned())
    }
}

fn require(problems: &mut Vec<String>, profile: &str, what: &str, value: &Option<String>) {
    if value.is_none() {
        problems.push(format!("profile {profile} requires {what}"));
    }
}

/// Checks the request against the profile; lists every problem, changes nothing.
pub(super) fn check(request: &IssueRequest, profile: &Profile) -> Result<Checked, PkiError> {
    use SubjectAttribute as A;
    let mut problems = Vec::new();
    let p = profile.name.as_str();
    let surname = text_field(
        &mut problems,
        "surname",
        request.surname.as_deref(),
        MAX_NAME_CHARS,
    );
    let given = text_field(
        &mut problems,
        "given_name",
        request.given_name.as_deref(),
        MAX_NAME_CHARS,
    );
    let patronymic = text_field(
        &mut problems,
        "patronymic",
        request.patronymic.as_deref(),
        MAX_NAME_CHARS,
    );
    let org = text_field(&mut problems, "org", request.org.as_deref(), MAX_ORG_CHARS);
    let cn_given = text_field(
        &mut problems,
        "common_name",
        request.common_name.as_deref(),
        MAX_NAME_CHARS,
    );
    let uid = text_field(&mut problems, "uid", request.uid.as_deref(), MAX_NAME_CHARS);

    let strict = !request.allow_invalid_check_digit;
    // Would the allow flag have accepted the number? Then the refusal says so.
    let mut flag_would_help = false;
    let mut refuse = |e: IdentityError, problems: &mut Vec<String>| {
        flag_would_help |= !matches!(e, IdentityError::Malformed { .. });
        problems.push(e.to_string());
    };
    let iin = request.iin.as_deref().and_then(|s| {
        let parsed = Iin::parse(s).and_then(|iin| {
            if strict {
                iin.validate().map(|_| iin)
            } else {
                Ok(iin)
            }
        });
        parsed.map_err(|e| refuse(e, &mut problems)).ok()
    });
    let bin = request.bin.as_deref().and_then(|s| {
        let parsed = Bin::parse(s).and_then(|bin| {
            if strict {
                bin.validate().map(|_| bin)
            } else {
                Ok(bin)
            }
        });
        parsed.map_err(|e| refuse(e, &mut problems)).ok()
    });
    if flag_would_help {
        problems.push(
            "set allow_invalid_check_digit (CLI: --allow-invalid-check-digit) to issue for test numbers".into(),
        );
    }

    // Inputs the profile has no place for are refused: silently dropping them would issue a
    // certificate other than the one asked for.
    let unused = [
        (request.iin.is_some(), A::SERIALNUMBER, "an IIN"),
        (request.bin.is_some(), A::OU, "a BIN"),
        (request.org.is_some(), A::O, "an organisation"),
        (request.surname.is_some(), A::SURNAME, "a surname"),
        (request.patronymic.is_some(), A::GIVENNAME, "a patronymic"),
        (request.uid.is_some(), A::UID, "a UID"),
    ];
    for (given_value, attribute, what) in unused {
        if given_value && !profile.has(attribute) {
            problems.push(format!("profile {p} has no place for {what}; remove it"));
        }
    }

    let mut pairs: Vec<(&str, String)> = Vec::new();
    for attribute in &profile.subject {
        match attribute {
            A::CN => {
                let cn = cn_given.clone().or_else(|| match (&surname, &given) {
                    (Some(s), Some(g)) => Some(format!("{s} {g}")),
                    _ => None,
                });
                match cn {
                    Some(cn) => pairs.push(("CN", cn)),
                    None => {
                        // A missing surname is reported by SURNAME when the profile has it.
                        let mut missing = Vec::new();
                        if surname.is_none() && !profile.has(A::SURNAME) {
                            missing.push("surname");
                        }
                        if given.is_none() {
                            missing.push("given_name");
                        }
                        if !missing.is_empty() {
                            problems.push(format!(
                                "profile {p} requires {} (or common_name)",
                                missing.join(" and ")
                            ));
                        }
                    }
                }
            }
            A::SURNAME => {
                require(&mut problems, p, "surname", &surname);
                if let Some(s) = &surname {
                    pairs.push(("SURNAME", s.clone()));
                }
            }
            A::SERIALNUMBER => match (&iin, &request.iin) {
                (Some(iin), _) => pairs.push(("SERIALNUMBER", iin.to_subject_serial())),
                (None, None) => problems.push(format!("profile {p} requires an IIN")),
                (None, Some(_)) => {} // already reported as malformed
            },
            A::C => pairs.push(("C", "KZ".into())),
            A::O => {
                require(&mut problems, p, "org (the organisation's name)", &org);
                if let Some(o) = &org {
                    pairs.push(("O", o.clone()));
                }
            }
            A::OU => match (&bin, &request.bin) {
                (Some(bin), _) => pairs.push(("OU", bin.to_subject_ou())),
                (None, None) => problems.push(format!("profile {p} requires a BIN")),
                (None, Some(_)) => {}
            },
            A::GIVENNAME => {
                if let Some(pn) = &patronymic {
                    pairs.push(("GIVENNAME", pn.clone()));
                }
            }
            A::UID => {
                if let Some(u) = &uid {
                    pairs.push(("UID", u.clone()));
                }
            }
        }
    }

    let days = request.days.unwrap_or(profile.validity_days);
    if days == 0 || days > MAX_DAYS {
        problems.push(format!("days must be between 1 and {MAX_DAYS}, got {days}"));
    }
    let password = match &request.password {
        None => {
            problems.push("a password for the PKCS#12 key store is required".into());
            None
        }
        Some(pw) if pw.is_empty() => {
            problems.push("the PKCS#12 password is empty".into());
            None
        }
        Some(pw) if pw.chars().count() > MAX_PASSWORD_CHARS => {
            problems.push(format!(
                "the PKCS#12 password is longer than {MAX_PASSWORD_CHARS} characters"
            ));
            None
        }
        Some(pw) => Some(pw.clone()),
    };

    if !problems.is_empty() {
        return Err(PkiError::InvalidRequest(problems));
    }
    let pair_refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let subject = name::build(&pair_refs)?;
    Ok(Checked {
        subject_text: name::display(&subject),
        subject,
        iin,
        bin,
        days,
        password: password.unwrap_or_default(),
        flavour: if request.legacy {
            Pkcs12Flavour::Legacy
        } else {
            Pkcs12Flavour::Modern
        },
    })
}

/// Signs a subscriber certificate: the extension set and order of NCA's subscriber certificates
/// (keyUsage, EKU, AKI, SKI, policies, CDP, Freshest CRL, AIA), trimmed as the profile says.
pub(super) fn sign_with_profile(
    profile: &Profile,
    subject: Name,
    key: &SigningKey,
    issuer: &Authority,
    urls: &Urls,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, PkiError> {
    let public_key = key.public_key_info()?;
    let mut extensions = vec![ext::key_usage_from_profile(&profile.key_usage)?];
    if !profile.extended_key_usage.is_empty() {
        extensions.push(ext::extended_key_usage(
            &profile.extended_key_usage,
            profile.extended_key_usage_critical,
        )?);
    }
    extensions.push(ext::authority_key_identifier(&issuer.key_id)?);
    extensions.push(ext::subject_key_identifier(&certificate::key_identifier(
        &public_key,
    ))?);
    if let Some(policy) = profile.policy {
        extensions.push(ext::certificate_policies(policy, &urls.cps(), true)?);
    }
    if profile.crl_distribution_points {
        extensions.push(ext::crl_distribution_points(&urls.crl(&issuer.id))?);
        extensions.push(ext::freshest_crl(&urls.delta_crl(&issuer.id))?);
    }
    if profile.authority_info_access {
        extensions.push(ext::authority_info_access(
            &urls.ca_certificate(&issuer.id),
            Some(&urls.ocsp()),
        )?);
    }
    if profile.ocsp_nocheck {
        extensions.push(ext::ocsp_nocheck()?);
    }
    certificate::sign(
        CertificateContent {
            serial: certificate::random_serial()?,
            issuer: issuer.certificate.tbs_certificate.subject.clone(),
            subject,
            not_before,
            not_after,
            public_key,
            extensions,
        },
        &issuer.key,
    )
}
