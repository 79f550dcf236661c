//! How long a document's evidence holds: its newest time-stamp (a signature time-stamp, or an
//! archive-time-stamp-v3) is proof only while that time-stamp's TSA certificate is valid, so
//! the horizon is that certificate's notAfter. Read from the stored CMS, which this service
//! produced; anything unexpected is an error, never a guessed horizon.

use cms::cert::CertificateChoices;
use cms::signed_data::SignerIdentifier;
use der::asn1::ObjectIdentifier;
use der::Encode;

use super::PkiError;
use crate::verify::{read_time_stamp_token, ID_AA_SIGNATURE_TIME_STAMP_TOKEN};
// SignedData as the archive code reads it: its revocation values (OCSP responses as
// id-ri-ocsp-response, LT) kept as they are, which `cms`'s own type does not decode.
use crate::x509::cms_archive::SignedData;

/// id-aa-ets-archiveTimestampV3 (ETSI EN 319 122-1 §5.5.3).
pub(super) const ID_AA_ETS_ARCHIVE_TIMESTAMP_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.1733.2.4");

/// The newest time-stamp of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Horizon {
    /// Unix seconds: notAfter of the newest time-stamp's TSA certificate.
    pub until: i64,
    /// Its message imprint's hash algorithm.
    pub digest: ObjectIdentifier,
    /// Its genTime.
    pub gen_time: i64,
}

fn malformed(what: impl std::fmt::Display) -> PkiError {
    PkiError::Config(format!("stored evidence does not read: {what}"))
}

fn signed_data(der: &[u8]) -> Result<SignedData, PkiError> {
    SignedData::from_content_info(der).map_err(malformed)
}

/// notAfter of the certificate a token's SignerInfo names, among those it carries.
fn tsa_not_after(token: &[u8]) -> Result<i64, PkiError> {
    let data = signed_data(token)?;
    let signer = data
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| malformed("a time-stamp token without a signer"))?;
    let certificates = data.certificates.iter().flat_map(|set| set.0.iter());
    for choice in certificates {
        let CertificateChoices::Certificate(cert) = choice else {
            continue;
        };
        let tbs = &cert.tbs_certificate;
        let named = match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                let der = cert.to_der().map_err(malformed)?;
                crate::x509::Cert::from_der(&der)
                    .ok()
                    .and_then(|c| c.subject_key_id().map(|k| k == ski.0.as_bytes()))
                    .unwrap_or(false)
            }
        };
        if named {
            return Ok(crate::time::unix(
                &tbs.validity.not_after.to_unix_duration(),
            ));
        }
    }
    Err(malformed(
        "a time-stamp token without its TSA's certificate (certReq)",
    ))
}

/// The newest time-stamp in the first SignerInfo's unsigned attributes. None: the signature
/// carries no time-stamp (level B).
pub(super) fn newest_time_stamp(cms: &[u8]) -> Result<Option<Horizon>, PkiError> {
    let data = signed_data(cms)?;
    let signer = data
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| malformed("a signature without a signer"))?;
    let mut newest: Option<Horizon> = None;
    let attributes = signer.unsigned_attrs.iter().flat_map(|set| set.iter());
    for attribute in attributes {
        if attribute.oid != ID_AA_SIGNATURE_TIME_STAMP_TOKEN
            && attribute.oid != ID_AA_ETS_ARCHIVE_TIMESTAMP_V3
        {
            continue;
        }
        for value in attribute.values.iter() {
            let token = value.to_der().map_err(malformed)?;
            let info = read_time_stamp_token(&token).map_err(malformed)?;
            // The attributes are a SET (sorted by encoding), not in the order added: the
            // newest is the one with the latest genTime.
            if newest.as_ref().is_some_and(|n| n.gen_time > info.gen_time) {
                continue;
            }
            newest = Some(Horizon {
                until: tsa_not_after(&token)?,
                digest: info.imprint_algorithm,
                gen_time: info.gen_time,
            });
        }
    }
    Ok(newest)
}
