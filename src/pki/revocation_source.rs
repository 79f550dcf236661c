//! The service's own PKI as a revocation source for the verifier: certificates it issued are
//! answered from its database, always current, with no CRL or network involved.

use crate::store::CertificateStatus;
use crate::verify::{Answer, BoxFuture, RevocationSource};
use crate::x509::Cert;

use super::{certificate, Pki};

impl RevocationSource for Pki {
    fn status<'a>(&'a self, cert: &'a Cert, issuer: &'a Cert) -> BoxFuture<'a, Option<Answer>> {
        Box::pin(async move {
            const SOURCE: &str = "qoltanba database";
            if issuer.der == self.root.certificate_der && cert.der == self.issuing.certificate_der {
                // Our root revokes nothing: the issuing CA is in good standing while it is ours.
                return Some(Answer::Good {
                    source: SOURCE.into(),
                });
            }
            if issuer.der != self.issuing.certificate_der {
                return None;
            }
            let serial = certificate::serial_hex(&cert.parsed.tbs_certificate.serial_number);
            let record = match self.store.certificate_status(&serial).await {
                Ok(Some(r)) if r.certificate == cert.der => r,
                // Issued by our CA but not (or not so) in our records: not ours to vouch for.
                Ok(_) => return None,
                Err(e) => {
                    tracing::error!(error = %e, "revocation lookup failed");
                    return None;
                }
            };
            Some(match record.status {
                CertificateStatus::Good => Answer::Good {
                    source: SOURCE.into(),
                },
                CertificateStatus::Revoked | CertificateStatus::Hold => Answer::Revoked {
                    at: record.revoked_at.unwrap_or(record.created_at),
                    reason: record
                        .revocation_reason
                        .as_deref()
                        .and_then(|r| r.parse::<super::RevocationReason>().ok()),
                    source: SOURCE.into(),
                },
            })
        })
    }
}
