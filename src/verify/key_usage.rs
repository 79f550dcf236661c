//! Step 6, key usage: the end certificate's key may be used for the purpose. For a document
//! signature (NCA's rules): a signing key, not an authentication-only key, carrying the role the
//! policy requires; for the other purposes, their own extendedKeyUsage and keyUsage.

use super::purpose::Purpose;
use super::report::{Check, Step, SubIndication};
use crate::x509::{Cert, KeyKind, KeyProfile};

/// `required_role`: a role name or OID a document signer must carry (e.g. first_head), if the
/// policy asks.
pub(super) fn check(
    cert: &Cert,
    profile: &KeyProfile,
    purpose: Purpose,
    required_role: Option<&str>,
) -> Check {
    let id = Step::KeyUsage;
    if purpose != Purpose::DocumentSignature {
        return match purpose.check_end_certificate(cert) {
            Ok(()) => Check::passed(id, format!("usable for {purpose:?}")),
            Err(why) => Check::failed(
                id,
                SubIndication::SigConstraintsFailure,
                "NOT_FOR_PURPOSE",
                why,
            ),
        };
    }
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
