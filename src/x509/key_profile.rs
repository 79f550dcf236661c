//! What a certificate says about its key, NCA's way: a signing key or an authentication (AUTH)
//! key, and the roles its extendedKeyUsage carries.

use const_oid::db::rfc5280::{ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION};
use der::asn1::ObjectIdentifier;

use super::oid::{KZ_ARC, NCA_ROLES as ROLES};
use super::Cert;

/// NCA's two key pairs per person: one signs documents, the other (AUTH) authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Sign,
    /// clientAuth without emailProtection or nonRepudiation: never for documents.
    Auth,
    /// keyUsage allows neither digitalSignature nor nonRepudiation.
    Other,
}

impl KeyKind {
    /// The report's spelling: "sign", "auth" or "other".
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Sign => "sign",
            KeyKind::Auth => "auth",
            KeyKind::Other => "other",
        }
    }
}

/// What the signer's certificate says about its key, worked out once per signer.
#[derive(Debug, Clone)]
pub struct KeyProfile {
    pub kind: KeyKind,
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
            KeyKind::Auth
        } else if non_repudiation || digital_signature || ku.is_none() {
            KeyKind::Sign
        } else {
            KeyKind::Other
        };
        let roles = eku
            .iter()
            .filter_map(|oid| match ROLES.iter().find(|(o, _)| o == oid) {
                Some((_, name)) => Some((*name).to_owned()),
                None if oid.as_bytes().starts_with(KZ_ARC.as_bytes()) => Some(oid.to_string()),
                None => None,
            })
            .collect();
        KeyProfile {
            kind,
            roles,
            eku: eku.to_vec(),
        }
    }

    /// Does the key carry this role (a name such as "first_head", or an OID)?
    pub fn has_role(&self, role: &str) -> bool {
        let by_name = ROLES.iter().find(|(_, n)| *n == role).map(|(o, _)| *o);
        let by_oid = ObjectIdentifier::new(role).ok();
        self.roles.iter().any(|r| r == role)
            || [by_name, by_oid]
                .iter()
                .flatten()
                .any(|o| self.eku.contains(o))
    }
}
