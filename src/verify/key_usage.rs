//! Step 6, key usage: the signer's key is a signing key, not an authentication-only key, and
//! carries the role the policy requires.

use super::cert::Cert;
use super::report::{Check, SubIndication};

const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";

/// NCA RK role OIDs (in the EKU) by name.
pub const ROLES: &[(&str, &str)] = &[
    ("1.2.398.3.3.4.1.1", "individual"),
    ("1.2.398.3.3.4.1.2", "legal_entity"),
    ("1.2.398.3.3.4.1.2.1", "first_head"),
    ("1.2.398.3.3.4.1.2.2", "signing_right"),
    ("1.2.398.3.3.4.1.2.3", "financial_signer"),
    ("1.2.398.3.3.4.1.2.4", "hr"),
    ("1.2.398.3.3.4.1.2.5", "employee"),
    ("1.2.398.3.3.4.1.2.6", "information_system"),
    ("1.2.398.5.19.1.2.2.1", "treasury_client"),
];

/// Role names, and dotted OIDs for roles under NCA's arc without a name.
pub fn roles(cert: &Cert) -> Vec<String> {
    cert.extended_key_usage()
        .iter()
        .filter_map(|oid| match ROLES.iter().find(|(o, _)| o == oid) {
            Some((_, name)) => Some((*name).to_owned()),
            None if oid.starts_with("1.2.398.") => Some(oid.clone()),
            None => None,
        })
        .collect()
}

/// "sign", "auth" or "other", as NCA distinguishes its key pairs.
pub fn key_kind(cert: &Cert) -> &'static str {
    let eku = cert.extended_key_usage();
    let ku = cert.key_usage();
    let non_repudiation = ku.is_some_and(|k| k.non_repudiation());
    let digital_signature = ku.is_some_and(|k| k.digital_signature());
    let auth_only = eku.iter().any(|e| e == CLIENT_AUTH)
        && !eku.iter().any(|e| e == EMAIL_PROTECTION)
        && !non_repudiation;
    if auth_only {
        "auth"
    } else if non_repudiation || digital_signature || ku.is_none() {
        "sign"
    } else {
        "other"
    }
}

/// `required_role`: a role name or OID the signer must carry (e.g. first_head), if the policy asks.
pub fn check(signer: &Cert, required_role: Option<&str>) -> Check {
    let id = "key_usage";
    match key_kind(signer) {
        "auth" => {
            return Check::failed(
                id,
                SubIndication::SigConstraintsFailure,
                "AUTH_KEY",
                "the certificate is an authentication (AUTH) key: clientAuth without emailProtection; documents must be signed with the signing key (RSA/GOST ЭЦП для подписи)",
            )
        }
        "other" => {
            return Check::failed(id, SubIndication::SigConstraintsFailure, "NOT_A_SIGNING_KEY", "keyUsage allows neither digitalSignature nor nonRepudiation")
        }
        _ => {}
    }
    if let Some(role) = required_role {
        let roles = roles(signer);
        let oid_of = ROLES.iter().find(|(_, n)| *n == role).map(|(o, _)| *o);
        let has = roles.iter().any(|r| r == role)
            || signer
                .extended_key_usage()
                .iter()
                .any(|e| Some(e.as_str()) == oid_of || e == role);
        if !has {
            return Check::failed(
                id,
                SubIndication::SigConstraintsFailure,
                "ROLE_MISSING",
                format!("the policy requires the role {role}; the certificate has {roles:?}"),
            );
        }
    }
    Check::passed(id, format!("a signing key; roles {:?}", roles(signer)))
}
