//! Full and delta CRLs (RFC 5280 §5).

use der::asn1::{BitString, OctetString, Uint};
use der::Encode;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber, CrlReason};
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Version;

use super::authority::Authority;
use super::certificate::time;
use super::{extensions as ext, PkiError};
use crate::store::{CertificateStatus, RevokedEntry};
use crate::x509::RevocationReason;

fn ext_of<T: Encode + const_oid::AssociatedOid>(
    value: &T,
    critical: bool,
) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn crl_number(n: i64) -> Result<Uint, PkiError> {
    let n = u64::try_from(n).map_err(|_| PkiError::Config("negative CRL number".into()))?;
    Ok(Uint::new(&n.to_be_bytes())?)
}

fn entry(e: &RevokedEntry, this_update: i64) -> Result<RevokedCert, PkiError> {
    let serial_bytes = hex::decode(&e.serial)
        .map_err(|_| PkiError::Config(format!("stored serial {:?} is not hex", e.serial)))?;
    // A certificate back in good standing can only be in a delta CRL: released from hold.
    let (reason, date) = match e.status {
        CertificateStatus::Good => (CrlReason::RemoveFromCRL, this_update),
        _ => {
            let reason = e
                .reason
                .as_deref()
                .map(str::parse::<RevocationReason>)
                .transpose()?
                .map(|r| r.0)
                .unwrap_or(CrlReason::Unspecified);
            (reason, e.revoked_at.unwrap_or(this_update))
        }
    };
    // RFC 5280 §5.3.1: the reason code "unspecified" SHOULD be absent.
    let extensions = if reason == CrlReason::Unspecified {
        None
    } else {
        Some(vec![ext_of(&reason, false)?])
    };
    Ok(RevokedCert {
        serial_number: SerialNumber::new(&serial_bytes)?,
        revocation_date: time(date)?,
        crl_entry_extensions: extensions,
    })
}

/// What a CRL says besides its entries.
pub(super) struct CrlParams<'a> {
    pub number: i64,
    pub this_update: i64,
    pub next_update: i64,
    /// Some(base CRL number) makes this a delta CRL.
    pub delta_base: Option<i64>,
    /// On a full CRL: where the delta CRL is (Freshest CRL, RFC 5280 §5.2.6).
    pub freshest_url: Option<&'a str>,
}

pub(super) fn build(
    issuer: &Authority,
    params: &CrlParams<'_>,
    entries: &[RevokedEntry],
) -> Result<Vec<u8>, PkiError> {
    let revoked = entries
        .iter()
        .map(|e| entry(e, params.this_update))
        .collect::<Result<Vec<_>, _>>()?;
    let mut extensions = vec![
        ext_of(&CrlNumber(crl_number(params.number)?), false)?,
        ext::authority_key_identifier(&issuer.key_id)?,
    ];
    if let Some(base) = params.delta_base {
        extensions.push(ext_of(&BaseCrlNumber(crl_number(base)?), true)?);
    }
    if let Some(url) = params.freshest_url {
        extensions.push(ext::freshest_crl(url)?);
    }
    if params.delta_base.is_none() {
        // This CA never drops an entry, even once the certificate has expired: say so
        // (ExpiredCertsOnCRL, X.509 §9.6.2.9), so a full CRL issued after a certificate
        // expired still speaks for its status before (past signature validation, issue 15).
        let since = der::asn1::GeneralizedTime::from_unix_duration(
            std::time::Duration::from_secs(u64::try_from(issuer.not_before()).unwrap_or(0)),
        )?;
        extensions.push(Extension {
            extn_id: crate::x509::crl::ID_CE_EXPIRED_CERTS_ON_CRL,
            critical: false,
            extn_value: OctetString::new(since.to_der()?)?,
        });
    }
    let algorithm = issuer.key.signature_algorithm().identifier();
    let tbs = TbsCertList {
        version: Version::V2,
        signature: algorithm.clone(),
        issuer: issuer.certificate.tbs_certificate.subject.clone(),
        this_update: time(params.this_update)?,
        next_update: Some(time(params.next_update)?),
        // An empty list must be absent, not an empty SEQUENCE.
        revoked_certificates: if revoked.is_empty() {
            None
        } else {
            Some(revoked)
        },
        crl_extensions: Some(extensions),
    };
    let signature = issuer.key.sign(&tbs.to_der()?)?;
    Ok(CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    }
    .to_der()?)
}
