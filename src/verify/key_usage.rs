//! Step 6, key usage: the signer's key is a signing key, not an authentication-only key, and
//! carries the role the policy requires.

use const_oid::db::rfc5280::{ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION};
use der::asn1::ObjectIdentifier;

use super::cert::Cert;
use super::report::{Check, SubIndication};

/// NCA RK role OIDs (in the EKU) by name.
pub const ROLES: &[(ObjectIdentifier, &str)] = &[
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.1"),
        "individual",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2"),
        "legal_entity",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.1"),
        "first_head",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.2"),
        "signing_right",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.3"),
        "financial_signer",
    ),
    (ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.4"), "hr"),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.5"),
        "employee",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.6"),
        "information_system",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.5.19.1.2.2.1"),
        "treasury_client",
    ),
];

/// Kazakhstan's OID arc: unnamed roles under it are reported by number.
const KZ_ARC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398");

/// What the signer's certificate says about its key, worked out once per signer.
pub struct KeyProfile {
    /// "sign", "auth" or "other", as NCA distinguishes its key pairs.
    pub kind: &'static str,
    /// Role names, and dotted OIDs for roles under Kazakhstan's arc without a name.
    pub roles: Vec<String>,
    eku: Vec<ObjectIdentifier>,
}

impl KeyProfile {
    pub fn of(cert: &Cert) -> KeyProfile {
        let eku = cert.extended_key_usage();
        let ku = cert.key_usage();
        let non_repudiation = ku.is_some_and(|k| k.non_repudiation());
        let digital_signature = ku.is_some_and(|k| k.digital_signature());
        let auth_only = eku.contains(&ID_KP_CLIENT_AUTH)
            && !eku.contains(&ID_KP_EMAIL_PROTECTION)
            && !non_repudiation;
        let kind = if auth_only {
            "auth"
        } else if non_repudiation || digital_signature || ku.is_none() {
            "sign"
        } else {
            "other"
        };
        let roles = eku
            .iter()
            .filter_map(|oid| match ROLES.iter().find(|(o, _)| o == oid) {
                Some((_, name)) => Some((*name).to_owned()),
                None if oid.as_bytes().starts_with(KZ_ARC.as_bytes()) => Some(oid.to_string()),
                None => None,
            })
            .collect();
        KeyProfile { kind, roles, eku }
    }

    fn has_role(&self, role: &str) -> bool {
        let by_name = ROLES.iter().find(|(_, n)| *n == role).map(|(o, _)| *o);
        let by_oid = ObjectIdentifier::new(role).ok();
        self.roles.iter().any(|r| r == role)
            || [by_name, by_oid]
                .iter()
                .flatten()
                .any(|o| self.eku.contains(o))
    }
}

/// `required_role`: a role name or OID the signer must carry (e.g. first_head), if the policy asks.
pub fn check(profile: &KeyProfile, required_role: Option<&str>) -> Check {
    let id = "key_usage";
    match profile.kind {
        "auth" => {
            return Check::failed(
                id,
                SubIndication::SigConstraintsFailure,
                "AUTH_KEY",
                "the certificate is an authentication (AUTH) key: clientAuth without emailProtection; documents must be signed with the signing key",
            )
        }
        "other" => {
            return Check::failed(id, SubIndication::SigConstraintsFailure, "NOT_A_SIGNING_KEY", "keyUsage allows neither digitalSignature nor nonRepudiation")
        }
        _ => {}
    }
    if let Some(role) = required_role {
        if !profile.has_role(role) {
            return Check::failed(
                id,
                SubIndication::SigConstraintsFailure,
                "ROLE_MISSING",
                format!(
                    "the policy requires the role {role}; the certificate has {:?}",
                    profile.roles
                ),
            );
        }
    }
    Check::passed(id, format!("a signing key; roles {:?}", profile.roles))
}
