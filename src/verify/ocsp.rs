//! Asking an OCSP responder (RFC 6960) about one certificate, and trusting the answer only if
//! it is signed by the issuer or a responder the issuer delegated, fresh, and echoes our nonce.

use const_oid::db::rfc5912::ID_SHA_1;
use const_oid::db::rfc6960::{ID_PKIX_OCSP_BASIC, ID_PKIX_OCSP_NONCE};
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest,
};

use super::answer::Answer;
use super::chain::signed_by;
use super::fetch::Fetcher;
use super::purpose::Purpose;
use crate::x509::Cert;

/// The bits of a certificate's subjectPublicKey, which CertIDs and responder key ids hash.
fn key_bits(cert: &Cert) -> &[u8] {
    cert.parsed
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
}

/// Clock skew tolerated between us and the responder.
const SKEW: i64 = 300;

pub(crate) fn cert_id(cert: &Cert, issuer: &Cert) -> Result<CertId, String> {
    let e = |e: der::Error| e.to_string();
    let key = key_bits(issuer);
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: ID_SHA_1,
            parameters: Some(der::Any::encode_from(&Null).map_err(e)?),
        },
        issuer_name_hash: OctetString::new(crate::crypto::sha1(&issuer.subject_der)).map_err(e)?,
        issuer_key_hash: OctetString::new(crate::crypto::sha1(key)).map_err(e)?,
        serial_number: cert.parsed.tbs_certificate.serial_number.clone(),
    })
}

/// Does the responder's CertID name the certificate we asked about? A responder may hash the
/// issuer with another algorithm than our request did (NCA's answers Kalkan's SHA-256 requests
/// in SHA-256): the issuer's name and key are then hashed again with the response's algorithm,
/// any the table computes but MD5.
fn names_asked_cert(answered: &CertId, asked: &CertId, issuer: &Cert) -> bool {
    if answered.serial_number != asked.serial_number {
        return false;
    }
    if answered.hash_algorithm.oid == asked.hash_algorithm.oid {
        return answered.issuer_name_hash == asked.issuer_name_hash
            && answered.issuer_key_hash == asked.issuer_key_hash;
    }
    let Some(digest) = crate::crypto::Digest::from_oid(&answered.hash_algorithm.oid) else {
        return false;
    };
    let key = key_bits(issuer);
    match (digest.digest(&issuer.subject_der), digest.digest(key)) {
        (Some(name_hash), Some(key_hash)) => {
            answered.issuer_name_hash.as_bytes() == name_hash.as_slice()
                && answered.issuer_key_hash.as_bytes() == key_hash.as_slice()
        }
        _ => false,
    }
}

/// The certificate whose key signed the response: the issuer itself, or a delegated responder
/// certificate carried in the response, issued by the issuer, with EKU OCSPSigning, and valid
/// now (RFC 6960 §4.2.2.2: it is a certificate like any other; an expired responder key may
/// have been retired and leaked).
fn response_signer(
    basic: &BasicOcspResponse,
    issuer: &Cert,
    now: i64,
) -> Result<Option<Cert>, String> {
    let issuer_key_hash = crate::crypto::sha1(key_bits(issuer));
    let names_issuer = match &basic.tbs_response_data.responder_id {
        ResponderId::ByKey(hash) => hash.as_bytes() == issuer_key_hash,
        ResponderId::ByName(name) => *name == issuer.parsed.tbs_certificate.subject,
    };
    if names_issuer {
        return Ok(None);
    }
    for candidate in basic.certs.iter().flatten() {
        let cert = Cert::from_parsed(candidate.clone()).map_err(|e| e.to_string())?;
        let key_hash = crate::crypto::sha1(key_bits(&cert));
        let named = match &basic.tbs_response_data.responder_id {
            ResponderId::ByKey(hash) => hash.as_bytes() == key_hash,
            ResponderId::ByName(name) => *name == cert.parsed.tbs_certificate.subject,
        };
        if !named {
            continue;
        }
        signed_by(&cert, issuer)
            .map_err(|e| format!("the responder certificate is not issued by the CA: {e}"))?;
        Purpose::OcspSigning
            .check_end_certificate(&cert)
            .map_err(|e| format!("the responder certificate is not for OCSP: {e}"))?;
        if now < cert.not_before() - SKEW || now > cert.not_after() + SKEW {
            return Err(format!(
                "the responder certificate is not valid now: valid from {} to {}",
                crate::time::rfc3339(cert.not_before()),
                crate::time::rfc3339(cert.not_after())
            ));
        }
        return Ok(Some(cert));
    }
    Err("the response is signed by neither the CA nor a responder it delegated".into())
}

/// Queries `url` about `cert` (issued by `issuer`) at wall-clock time `now`.
pub(crate) async fn query(
    cert: &Cert,
    issuer: &Cert,
    url: &str,
    fetcher: &Fetcher,
    now: i64,
) -> Result<Answer, String> {
    let id = cert_id(cert, issuer)?;
    let nonce = crate::crypto::random_bytes::<16>().map_err(|e| e.to_string())?;
    let nonce_value = OctetString::new(nonce.to_vec())
        .and_then(|o| o.to_der())
        .map_err(|e| e.to_string())?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![Request {
                req_cert: id.clone(),
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![Extension {
                extn_id: ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(nonce_value.clone()).map_err(|e| e.to_string())?,
            }]),
        },
        optional_signature: None,
    };
    let body = request.to_der().map_err(|e| e.to_string())?;
    let answer = fetcher.post(url, "application/ocsp-request", body).await?;
    check_response(&answer, &id, &nonce_value, issuer, url, now)
}

/// Everything `query` does with the responder's bytes: parse, check the signer, the signature,
/// the nonce (`nonce_value`: the DER of the nonce extension we sent), the certificate id and
/// freshness. Separate from `query` only so the fuzz targets (`crate::fuzzing`) can reach it.
pub(crate) fn check_response(
    answer: &[u8],
    id: &CertId,
    nonce_value: &[u8],
    issuer: &Cert,
    url: &str,
    now: i64,
) -> Result<Answer, String> {
    let basic = authentic_basic(answer, issuer, url, now)?;
    // Our nonce, echoed: anything else may be a replayed answer.
    let echoed = basic
        .tbs_response_data
        .response_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
        .map(|e| e.extn_value.as_bytes() == nonce_value);
    match echoed {
        Some(true) => {}
        Some(false) => {
            return Err(format!(
                "{url}: the response carries another request's nonce (replay?)"
            ))
        }
        None => {
            return Err(format!(
                "{url}: the response does not echo our nonce (replay cannot be ruled out)"
            ))
        }
    }
    let single = single_for(&basic, id, issuer, url)?;
    let (this_update, next_update) = update_times(single);
    if this_update > now + SKEW {
        return Err(format!("{url}: the response's thisUpdate is in the future"));
    }
    if next_update.is_some_and(|next| next < now - SKEW) {
        return Err(format!("{url}: the response is stale (nextUpdate passed)"));
    }
    status_of(single, format!("OCSP {url}"), url)
}

/// An OCSP response carried with the signature (CAdES-LT revocation values) about `cert`, as
/// evidence of its status at `at` — a time that may be years before `now`. No nonce (it was
/// fetched by the signer); its responder is judged when the answer was produced. It speaks for
/// `at` when issued at or after it, or current then; a "good" issued after the certificate
/// expired proves nothing (a responder need not keep the status of expired certificates).
pub(crate) fn check_carried(
    answer: &[u8],
    cert: &Cert,
    issuer: &Cert,
    at: i64,
    now: i64,
) -> Result<Answer, String> {
    let url = "the carried OCSP response";
    let id = cert_id(cert, issuer)?;
    let produced = match OcspResponse::from_der(answer)
        .ok()
        .and_then(|r| r.response_bytes)
        .and_then(|b| BasicOcspResponse::from_der(b.response.as_bytes()).ok())
    {
        Some(basic) => crate::time::unix(&basic.tbs_response_data.produced_at.0.to_unix_duration()),
        None => return Err(format!("{url} is not a basic OCSP response")),
    };
    let basic = authentic_basic(answer, issuer, url, produced)?;
    let Ok(single) = single_for(&basic, &id, issuer, url) else {
        return Err(format!("{url} is about another certificate"));
    };
    let (this_update, next_update) = update_times(single);
    if this_update > now + SKEW {
        return Err(format!("{url}: its thisUpdate is in the future"));
    }
    let current_then = this_update <= at && next_update.is_some_and(|next| at < next);
    if this_update < at && !current_then {
        return Err(format!(
            "{url} of {} says nothing about {}",
            crate::time::rfc3339(this_update),
            crate::time::rfc3339(at)
        ));
    }
    let answer = status_of(
        single,
        format!(
            "carried OCSP response of {}",
            crate::time::rfc3339(this_update)
        ),
        url,
    )?;
    if matches!(answer, Answer::Good { .. }) && this_update > cert.not_after() {
        return Err(format!(
            "{url} of {} was given after the certificate expired: its \"good\" proves nothing",
            crate::time::rfc3339(this_update)
        ));
    }
    Ok(answer)
}

/// A successful basic response whose signature verifies with the issuer's key or a responder
/// the issuer delegated (valid at `signer_time`).
fn authentic_basic(
    answer: &[u8],
    issuer: &Cert,
    url: &str,
    signer_time: i64,
) -> Result<BasicOcspResponse, String> {
    let response =
        OcspResponse::from_der(answer).map_err(|e| format!("{url}: not an OCSP response: {e}"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "{url}: responder status {:?}",
            response.response_status
        ));
    }
    let bytes = response
        .response_bytes
        .ok_or("successful response without a body")?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(format!(
            "{url}: response type {} is not basic",
            bytes.response_type
        ));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| format!("{url}: {e}"))?;
    let signer = response_signer(&basic, issuer, signer_time)?;
    let signer_key = match &signer {
        Some(c) => &c.parsed.tbs_certificate.subject_public_key_info,
        None => &issuer.parsed.tbs_certificate.subject_public_key_info,
    };
    // The signed bytes as received, not a re-encoding of what was decoded from them.
    let tbs = crate::x509::signed_part(bytes.response.as_bytes())
        .ok_or_else(|| format!("{url}: the response's signed part is unreadable"))?;
    let signature = basic
        .signature
        .as_bytes()
        .ok_or("signature is not whole bytes")?;
    crate::crypto::verify_signature(&basic.signature_algorithm, signer_key, tbs, signature)
        .map_err(|e| format!("{url}: the response signature does not verify: {e}"))?;
    Ok(basic)
}

fn single_for<'b>(
    basic: &'b BasicOcspResponse,
    id: &CertId,
    issuer: &Cert,
    url: &str,
) -> Result<&'b x509_ocsp::SingleResponse, String> {
    basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| names_asked_cert(&r.cert_id, id, issuer))
        .ok_or_else(|| format!("{url}: the response is about another certificate"))
}

fn update_times(single: &x509_ocsp::SingleResponse) -> (i64, Option<i64>) {
    (
        crate::time::unix(&single.this_update.0.to_unix_duration()),
        (single.next_update.as_ref()).map(|n| crate::time::unix(&n.0.to_unix_duration())),
    )
}

fn status_of(
    single: &x509_ocsp::SingleResponse,
    source: String,
    url: &str,
) -> Result<Answer, String> {
    match &single.cert_status {
        CertStatus::Good(_) => Ok(Answer::Good { source }),
        CertStatus::Revoked(info) => Ok(Answer::Revoked {
            at: crate::time::unix(&info.revocation_time.0.to_unix_duration()),
            reason: info.revocation_reason.map(crate::x509::RevocationReason),
            source,
        }),
        CertStatus::Unknown(_) => Err(format!(
            "{url}: the responder does not know the certificate"
        )),
    }
}
