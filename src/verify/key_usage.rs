//! Step 6, key usage: the signer's key is a signing key, not an authentication-only key, and
//! carries the role the policy requires.

use super::report::{Check, SubIndication};
use crate::x509::{KeyKind, KeyProfile};

/// `required_role`: a role name or OID the signer must carry (e.g. first_head), if the policy asks.
pub fn check(profile: &KeyProfile, required_role: Option<&str>) -> Check {
    let id = "key_usage";
    match profile.kind {
        KeyKind::Auth => {
            return Check::failed(
                id,
                SubIndication::SigConstraintsFailure,
                "AUTH_KEY",
                "the certificate is an authentication (AUTH) key: clientAuth without emailProtection; documents must be signed with the signing key",
            )
        }
        KeyKind::Other => {
            return Check::failed(id, SubIndication::SigConstraintsFailure, "NOT_A_SIGNING_KEY", "keyUsage allows neither digitalSignature nor nonRepudiation")
        }
        KeyKind::Sign => {}
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
