//! Step 6, key usage: the end certificate's key may be used for the purpose. For a document
//! signature (NCA's rules): a signing key, not an authentication-only key, carrying the role the
//! policy requires; for the other purposes, their own extendedKeyUsage and keyUsage.

use super::purpose::Purpose;
use super::report::{Check, Step, SubIndication};
use crate::x509::{Cert, KeyKind, KeyProfile};
use const_oid::db::rfc5280::{ID_KP_EMAIL_PROTECTION, ID_KP_OCSP_SIGNING, ID_KP_TIME_STAMPING};

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
    if let Some(service) = service_purpose(cert) {
        return Check::failed(
            id,
            SubIndication::SigConstraintsFailure,
            "NOT_FOR_PURPOSE",
            format!(
                "the certificate is {service}'s key (its extendedKeyUsage names that service and not emailProtection); it does not sign documents"
            ),
        );
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

/// A time-stamping authority's or an OCSP responder's certificate: its extendedKeyUsage names
/// that service (RFC 3161 §2.3 makes timeStamping a TSA key's only purpose) and not
/// emailProtection, which NCA's signing keys carry. Such a key vouches for times or statuses,
/// never for a document's content.
fn service_purpose(cert: &Cert) -> Option<&'static str> {
    let ekus = cert.extended_key_usage();
    if ekus.contains(&ID_KP_EMAIL_PROTECTION) {
        return None;
    }
    if ekus.contains(&ID_KP_TIME_STAMPING) {
        Some("a time-stamping authority")
    } else if ekus.contains(&ID_KP_OCSP_SIGNING) {
        Some("an OCSP responder")
    } else {
        None
    }
}
