//! The TSP client (RFC 3161 §3.4, over HTTP): asks a time-stamping authority for a token and
//! checks the reply before anything uses it — status granted, the nonce echoed, the imprint and
//! policy as asked, and the token itself through [`Verifier::check_time_stamp`] (TSA
//! signature, critical EKU timeStamping, chain to the configured anchors, validity,
//! revocation). A reply that fails any of these is not a time-stamp: it is retried, then an
//! error ([`PkiError::TimeStamp`]).

use std::sync::Arc;
use std::time::Duration;

use der::asn1::{Any, BitString, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use rand_core::RngCore;
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use super::PkiError;
use crate::crypto::Digest;
use crate::verify::{Fetcher, Status, Verifier};

/// Most bytes read from a TSA's reply: a token with its certificate is a few KiB.
const MAX_REPLY: usize = 256 * 1024;

/// A remote TSA and what its replies must satisfy.
#[derive(Clone)]
pub struct TspClient {
    /// http:// URL of the TSA (RFC 3161 §3.4: POST application/timestamp-query).
    pub url: String,
    /// The policy to ask for; a token under another policy is refused.
    pub policy: Option<ObjectIdentifier>,
    pub timeout: Duration,
    /// Further attempts after a failed one.
    pub retries: u32,
    /// Judges each token: its anchors are the TSAs trusted.
    verifier: Arc<Verifier>,
}

impl std::fmt::Debug for TspClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TspClient")
            .field("url", &self.url)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// PKIStatusInfo as read from a reply; statusString and failInfo only for the message.
#[derive(Sequence)]
struct StatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2), the token kept as encoded.
#[derive(Sequence)]
struct TimeStampResp {
    status: StatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

/// What a reply must echo: the request's imprint, nonce and policy.
pub(super) struct Asked {
    pub der: Vec<u8>,
    digest: Digest,
    imprint: Vec<u8>,
    nonce: Vec<u8>,
    policy: Option<ObjectIdentifier>,
}

fn failure(message: impl Into<String>) -> PkiError {
    PkiError::TimeStamp(message.into())
}

/// A TimeStampReq for `data` hashed with `digest`: a random 8-byte nonce, certReq (the token
/// carries the TSA's certificate, which the check needs), the policy when given.
pub(super) fn request(
    digest: Digest,
    data: &[u8],
    policy: Option<ObjectIdentifier>,
) -> Result<Asked, PkiError> {
    let imprint = digest
        .digest(data)
        .ok_or_else(|| failure(format!("{} is not computed here", digest.name())))?;
    let mut nonce = [0_u8; 8];
    rand_core::OsRng.fill_bytes(&mut nonce);
    // A positive INTEGER in its minimal form: high bit clear, first octet not zero.
    nonce[0] = (nonce[0] & 0x7f) | 0x01;
    let der = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid: digest.oid(),
                parameters: None,
            },
            hashed_message: OctetString::new(imprint.clone())?,
        },
        req_policy: policy,
        nonce: Some(Int::new(&nonce)?),
        cert_req: true,
        extensions: None,
    }
    .to_der()?;
    Ok(Asked {
        der,
        digest,
        imprint,
        nonce: nonce.to_vec(),
        policy,
    })
}

/// The token (DER ContentInfo) of a granted reply that answers `asked`; any other reply is an
/// error saying why.
pub(super) fn read_reply(reply: &[u8], asked: &Asked) -> Result<Vec<u8>, PkiError> {
    let response = TimeStampResp::from_der(reply)
        .map_err(|e| failure(format!("the reply is not a DER TimeStampResp: {e}")))?;
    // granted (0) or grantedWithMods (1), RFC 3161 §2.4.2.
    if response.status.status > 1 {
        let text = response
            .status
            .status_string
            .map(|s| s.join("; "))
            .unwrap_or_default();
        let bits = response
            .status
            .fail_info
            .map(|b| hex::encode(b.raw_bytes()))
            .unwrap_or_default();
        return Err(failure(format!(
            "the TSA refused: status {} failInfo {bits} {text:?}",
            response.status.status
        )));
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| failure("the reply is granted but carries no token"))?
        .to_der()?;
    let info = crate::verify::read_time_stamp_token(&token)
        .map_err(|e| failure(format!("the token cannot be read: {e}")))?;
    if info.nonce.as_deref() != Some(asked.nonce.as_slice()) {
        return Err(failure(
            "the token's nonce is not the request's: not an answer to this request",
        ));
    }
    if info.imprint_algorithm != asked.digest.oid() || info.imprint != asked.imprint {
        return Err(failure(
            "the token's message imprint is not the one asked for",
        ));
    }
    if let Some(policy) = asked.policy {
        if info.policy != policy {
            return Err(failure(format!(
                "the token is under policy {}, not the {policy} asked for",
                info.policy
            )));
        }
    }
    Ok(token)
}

impl TspClient {
    /// A client of the TSA at `url` whose tokens `verifier` judges (10 s, 2 retries).
    pub fn new(url: impl Into<String>, verifier: Arc<Verifier>) -> TspClient {
        TspClient {
            url: url.into(),
            policy: None,
            timeout: Duration::from_secs(10),
            retries: 2,
            verifier,
        }
    }

    /// A checked time-stamp token (DER ContentInfo) over `data`, hashed with `digest`.
    pub async fn stamp(&self, digest: Digest, data: &[u8]) -> Result<Vec<u8>, PkiError> {
        let mut last = failure("no attempt made");
        for attempt in 0..=self.retries {
            match self.attempt(digest, data).await {
                Ok(token) => return Ok(token),
                Err(e) => {
                    tracing::warn!(url = %self.url, attempt, error = %e, "time-stamp request failed");
                    last = e;
                }
            }
        }
        Err(match last {
            PkiError::TimeStamp(why) => failure(format!(
                "{why} (asked {}, {} attempts)",
                self.url,
                self.retries + 1
            )),
            other => other,
        })
    }

    async fn attempt(&self, digest: Digest, data: &[u8]) -> Result<Vec<u8>, PkiError> {
        let asked = request(digest, data, self.policy)?;
        let fetcher = Fetcher {
            timeout: self.timeout,
            max_bytes: MAX_REPLY,
        };
        let reply = fetcher
            .post(&self.url, "application/timestamp-query", asked.der.clone())
            .await
            .map_err(failure)?;
        let token = read_reply(&reply, &asked)?;
        let judged = self.verifier.check_time_stamp(&token, data).await;
        if judged.status != Status::Passed {
            return Err(failure(format!(
                "the token does not verify: {}",
                judged.detail
            )));
        }
        Ok(token)
    }
}
