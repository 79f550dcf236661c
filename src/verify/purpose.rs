//! What a certificate is being judged for. A document signer, a time-stamping authority, an
//! OCSP responder and a CRL issuer each have their own rules; path building and the key-usage
//! check take the purpose instead of assuming a document signature.

use const_oid::db::rfc5280::{ID_KP_OCSP_SIGNING, ID_KP_TIME_STAMPING};
use der::asn1::ObjectIdentifier;

use crate::x509::Cert;

/// anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
const ANY_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// A signed document under NCA's rules: the signing key (not AUTH), with the policy's role.
    DocumentSignature,
    /// A time-stamp token (RFC 3161 §2.3: EKU id-kp-timeStamping).
    TimeStamping,
    /// A delegated OCSP responder (RFC 6960 §4.2.2.2: EKU id-kp-OCSPSigning).
    OcspSigning,
    /// A CRL issuer (RFC 5280 §4.2.1.3: keyUsage cRLSign when keyUsage is present).
    CrlSigning,
}

impl Purpose {
    /// The extendedKeyUsage the purpose requires of the end certificate, if any.
    pub fn required_eku(self) -> Option<ObjectIdentifier> {
        match self {
            Purpose::TimeStamping => Some(ID_KP_TIME_STAMPING),
            Purpose::OcspSigning => Some(ID_KP_OCSP_SIGNING),
            Purpose::DocumentSignature | Purpose::CrlSigning => None,
        }
    }

    /// May a CA with this certificate sit in a path for this purpose? A CA that restricts its
    /// own extendedKeyUsage restricts what it vouches for (as Windows and rustls-webpki read it).
    pub fn allowed_for_ca(self, ca: &Cert) -> bool {
        match (self.required_eku(), &ca.extensions().extended_key_usage) {
            (Some(required), Some(ekus)) => ekus.contains(&required) || ekus.contains(&ANY_EKU),
            _ => true,
        }
    }

    /// Is the end certificate's key usable for this purpose? (The document-signature rules,
    /// NCA's sign/AUTH distinction and roles, are the key-usage step's; this is the generic
    /// part every purpose shares.) `Err`: why not.
    pub fn check_end_certificate(self, cert: &Cert) -> Result<(), String> {
        let ku = cert.key_usage();
        if let Some(required) = self.required_eku() {
            if !cert.extended_key_usage().contains(&required) {
                return Err(format!(
                    "{} lacks extendedKeyUsage {required}",
                    cert.subject()
                ));
            }
        }
        let signs =
            |k: x509_cert::ext::pkix::KeyUsage| k.digital_signature() || k.non_repudiation();
        match self {
            Purpose::CrlSigning if ku.is_some_and(|k| !k.crl_sign()) => Err(format!(
                "{} may not sign CRLs (keyUsage lacks cRLSign)",
                cert.subject()
            )),
            Purpose::TimeStamping | Purpose::OcspSigning if ku.is_some_and(|k| !signs(k)) => {
                Err(format!(
                    "{} may not sign (keyUsage lacks digitalSignature and nonRepudiation)",
                    cert.subject()
                ))
            }
            _ => Ok(()),
        }
    }
}
