//! The OCSP responder (RFC 6960): parses a request, answers from the database, signs with the
//! delegated responder certificate.

use const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
use der::asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use std::time::Duration;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use super::certificate::serial_hex;
use super::{Pki, PkiError};
use crate::store::CertificateStatus;
use crate::x509::RevocationReason;

/// More CertIDs than this in one request is refused as malformed: a cheap request must not buy
/// an expensive answer.
const MAX_REQUESTS: usize = 32;
/// RFC 8954: a nonce is 1 to 32 octets.
const MAX_NONCE: usize = 32;

fn generalized(unix: i64) -> Result<OcspGeneralizedTime, PkiError> {
    let secs = u64::try_from(unix).map_err(|_| PkiError::invalid("time before 1970"))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_unix_duration(
        Duration::from_secs(secs),
    )?))
}

fn digest_for(oid: &ObjectIdentifier) -> Option<&'static ring::digest::Algorithm> {
    use const_oid::db::rfc5912;
    match *oid {
        rfc5912::ID_SHA_1 => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
        rfc5912::ID_SHA_256 => Some(&ring::digest::SHA256),
        rfc5912::ID_SHA_384 => Some(&ring::digest::SHA384),
        rfc5912::ID_SHA_512 => Some(&ring::digest::SHA512),
        _ => None,
    }
}

fn encoded(response: &OcspResponse) -> Vec<u8> {
    // A bare status response always encodes; fall back to the fixed DER of internalError.
    response
        .to_der()
        .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02])
}

fn status_only(status: x509_ocsp::OcspResponseStatus) -> Vec<u8> {
    encoded(&OcspResponse {
        response_status: status,
        response_bytes: None,
    })
}

impl Pki {
    /// Answers a DER OCSPRequest with a DER OCSPResponse. Never fails: problems become the
    /// RFC 6960 statuses malformedRequest, unauthorized or internalError.
    pub async fn ocsp_respond(&self, request: &[u8], now: i64) -> Vec<u8> {
        use x509_ocsp::OcspResponseStatus as S;
        let Ok(request) = OcspRequest::from_der(request) else {
            return status_only(S::MalformedRequest);
        };
        let list = &request.tbs_request.request_list;
        if list.is_empty() || list.len() > MAX_REQUESTS {
            return status_only(S::MalformedRequest);
        }
        let nonce = request
            .tbs_request
            .request_extensions
            .as_ref()
            .and_then(|exts| {
                exts.iter()
                    .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
                    .cloned()
            });
        if let Some(n) = &nonce {
            // The extension value is an OCTET STRING holding the nonce (RFC 8954 §2.1); allow
            // its two header bytes. Longer nonces are refused rather than echoed.
            if n.extn_value.as_bytes().len() > MAX_NONCE + 2 {
                return status_only(S::MalformedRequest);
            }
        }
        let mut responses = Vec::with_capacity(list.len());
        let mut authoritative = false;
        for single in list {
            match self.single_response(&single.req_cert, now).await {
                Ok((response, ours)) => {
                    authoritative |= ours;
                    responses.push(response);
                }
                Err(e) => {
                    tracing::error!(error = %e, "OCSP lookup failed");
                    return status_only(S::InternalError);
                }
            }
        }
        if !authoritative {
            return status_only(S::Unauthorized);
        }
        match self.sign_ocsp(responses, nonce, now) {
            Ok(der) => der,
            Err(e) => {
                tracing::error!(error = %e, "OCSP signing failed");
                status_only(S::InternalError)
            }
        }
    }

    /// The answer for one CertID, and whether the CertID names our issuing CA.
    async fn single_response(
        &self,
        id: &CertId,
        now: i64,
    ) -> Result<(SingleResponse, bool), PkiError> {
        let issuer = &self.issuing;
        let ours = digest_for(&id.hash_algorithm.oid).is_some_and(|alg| {
            let name = issuer
                .certificate
                .tbs_certificate
                .subject
                .to_der()
                .unwrap_or_default();
            let key = issuer
                .certificate
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes();
            ring::digest::digest(alg, &name).as_ref() == id.issuer_name_hash.as_bytes()
                && ring::digest::digest(alg, key).as_ref() == id.issuer_key_hash.as_bytes()
        });
        let unknown = CertStatus::Unknown(Null);
        let status = if !ours {
            unknown
        } else {
            match self
                .store
                .certificate_status(&serial_hex(&id.serial_number))
                .await?
            {
                Some(rec) if rec.issuer_id == issuer.id => match rec.status {
                    CertificateStatus::Good => CertStatus::Good(Null),
                    CertificateStatus::Revoked | CertificateStatus::Hold => {
                        let reason = rec
                            .revocation_reason
                            .as_deref()
                            .and_then(|r| r.parse::<RevocationReason>().ok())
                            .map(|r| r.0)
                            .unwrap_or(CrlReason::Unspecified);
                        CertStatus::Revoked(RevokedInfo {
                            revocation_time: generalized(rec.revoked_at.unwrap_or(now))?,
                            revocation_reason: Some(reason),
                        })
                    }
                },
                _ => unknown,
            }
        };
        let next = now + 60 * i64::from(self.declarations.hierarchy.ocsp.next_update_minutes);
        Ok((
            SingleResponse {
                cert_id: id.clone(),
                cert_status: status,
                this_update: generalized(now)?,
                next_update: Some(generalized(next)?),
                single_extensions: None,
            },
            ours,
        ))
    }

    fn sign_ocsp(
        &self,
        responses: Vec<SingleResponse>,
        nonce: Option<x509_cert::ext::Extension>,
        now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        let responder = &self.responder;
        let key_hash = crate::crypto::sha1(responder.key.public_key_bytes());
        let data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new(key_hash)?),
            produced_at: generalized(now)?,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let algorithm = responder.key.signature_algorithm().identifier();
        let signature = responder.key.sign(&data.to_der()?)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: algorithm,
            signature: BitString::from_bytes(&signature)?,
            certs: Some(vec![responder.certificate.clone()]),
        };
        Ok(OcspResponse::successful(basic)?.to_der()?)
    }
}
