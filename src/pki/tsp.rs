//! The time-stamping authority's protocol (RFC 3161, with RFC 5816's ESSCertIDv2): a
//! TimeStampReq in, a TimeStampResp out, its token a CMS SignedData over a TSTInfo, signed with
//! the TSA's key through the algorithm table.
//!
//! Every request gets a TimeStampResp, never an error of the transport: RFC 3161 §2.4.2 gives
//! the TSA a status for each way a request can be unusable, and a client always reads the
//! reply's status. A body that is not a TimeStampReq at all is `rejection` with `badDataFormat`
//! ("the data submitted has the wrong format") — still a reply the client can parse — as
//! OpenSSL's own TSA answers it; the HTTP layer refuses only what is not a time-stamp query by
//! its content type (415).

use cms::content_info::ContentInfo;
use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier, Utf8StringRef};
use der::{Decode, Encode, Sequence, Tagged};
use std::time::Duration;
use x509_cert::ext::pkix::name::GeneralName;
use x509_tsp::{Accuracy, TimeStampReq, TspVersion, TstInfo};

use super::{Pki, PkiError};
use crate::crypto::Digest;
use crate::sign::cades::{self, Certificates, Content};
use crate::store::ActAudit;

/// id-ct-TSTInfo (RFC 3161 §2.4.2): the eContentType of a time-stamp token.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// A nonce longer than this is refused (badDataFormat) rather than echoed: RFC 3161 means a
/// large random number, and a cheap request must not buy a large answer. OpenSSL sends 8 bytes.
const MAX_NONCE: usize = 64;

/// The TSA's answer: the DER TimeStampResp and whether it granted a token.
#[derive(Debug, Clone)]
pub struct TspAnswer {
    pub der: Vec<u8>,
    pub granted: bool,
}

/// PKIFailureInfo bits (RFC 3161 §2.4.2) this TSA answers with. Encoded here rather than
/// with `cmpv2`'s `PkiFailureInfo`: cmpv2 0.2.0 declares its flags with the bit *positions* as
/// flag *values* (unacceptedPolicy = 15 = 0b1111), so it puts the wrong bits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    BadAlg = 0,
    BadDataFormat = 5,
    UnacceptedPolicy = 15,
    UnacceptedExtension = 16,
    SystemFailure = 25,
}

impl Fail {
    /// The named BIT STRING with just this bit, trailing zero bits removed (X.690 §11.2.2).
    fn bits(self) -> Result<BitString, der::Error> {
        let bit = self as usize;
        let mut bytes = vec![0_u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        // Bits after ours in the last octet are unused.
        BitString::new(7 - (bit % 8) as u8, bytes)
    }
}

/// PKIStatus values a TSA gives (RFC 3161 §2.4.2).
const GRANTED: u8 = 0;
const REJECTION: u8 = 2;

/// PKIStatusInfo (RFC 3161 §2.4.2).
#[derive(Sequence)]
struct StatusInfo<'a> {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2).
#[derive(Sequence)]
struct TimeStampResp<'a> {
    status: StatusInfo<'a>,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

/// Why a request gets no token: the RFC 3161 failInfo bit and the statusString.
struct Refused {
    fail: Fail,
    text: String,
}

fn refused(fail: Fail, text: impl Into<String>) -> Refused {
    Refused {
        fail,
        text: text.into(),
    }
}

fn rejection(refusal: &Refused) -> TspAnswer {
    let text = Utf8StringRef::new(&refusal.text).ok();
    let encoded = refusal.fail.bits().and_then(|bits| {
        TimeStampResp {
            status: StatusInfo {
                status: REJECTION,
                status_string: text.map(|t| vec![t]),
                fail_info: Some(bits),
            },
            time_stamp_token: None,
        }
        .to_der()
    });
    // A bare status always encodes; fall back to the fixed DER of rejection/systemFailure.
    let der = encoded.unwrap_or_else(|_| {
        vec![
            0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40,
        ]
    });
    TspAnswer {
        der,
        granted: false,
    }
}

/// A positive INTEGER's minimal two's-complement content octets.
fn serial_int(serial: i64) -> Result<Int, der::Error> {
    let bytes = serial.to_be_bytes();
    let skip = bytes
        .windows(2)
        .take_while(|w| w[0] == 0 && w[1] < 0x80)
        .count();
    Int::new(&bytes[skip..])
}

/// The parts of a request the token depends on, once checked.
struct Checked {
    request: TimeStampReq,
}

impl Pki {
    /// Answers a DER TimeStampReq with a DER TimeStampResp at `now` (unix seconds). Never
    /// fails: an unusable request gets status rejection with its failInfo (badDataFormat,
    /// badAlg, unacceptedPolicy, unacceptedExtension), an internal failure systemFailure.
    /// `audit`: the issuance's entry in the audit trail, written with the serial it takes.
    pub async fn tsp_respond(
        &self,
        request: &[u8],
        now: i64,
        audit: Option<&ActAudit>,
    ) -> TspAnswer {
        let checked = match self.check_tsp(request) {
            Ok(checked) => checked,
            Err(refusal) => {
                metrics::counter!(crate::telemetry::TIME_STAMPS, "status" => "rejection")
                    .increment(1);
                return rejection(&refusal);
            }
        };
        match self.grant(&checked, now, audit).await {
            Ok(der) => {
                metrics::counter!(crate::telemetry::TIME_STAMPS, "status" => "granted")
                    .increment(1);
                TspAnswer { der, granted: true }
            }
            Err(e) => {
                tracing::error!(error = %e, "time-stamp issuance failed");
                metrics::counter!(crate::telemetry::TIME_STAMPS, "status" => "failure")
                    .increment(1);
                rejection(&refused(
                    Fail::SystemFailure,
                    "the time-stamp could not be issued; try again",
                ))
            }
        }
    }

    /// The request's checks, in RFC 3161's terms.
    fn check_tsp(&self, der: &[u8]) -> Result<Checked, Refused> {
        let request = TimeStampReq::from_der(der).map_err(|e| {
            refused(
                Fail::BadDataFormat,
                format!("the body is not a DER TimeStampReq (RFC 3161 §2.4.1): {e}"),
            )
        })?;
        if let Some(policy) = request.req_policy {
            if policy != self.tsa.policy {
                return Err(refused(
                    Fail::UnacceptedPolicy,
                    format!(
                        "policy {policy} is not this TSA's; it issues under {}",
                        self.tsa.policy
                    ),
                ));
            }
        }
        let imprint = &request.message_imprint;
        let algorithm = &imprint.hash_algorithm;
        let digest = Digest::from_oid(&algorithm.oid)
            .filter(|d| !d.is_weak())
            .ok_or_else(|| {
                refused(
                    Fail::BadAlg,
                    format!(
                        "hash algorithm {} is not accepted; use SHA-256, SHA-384, SHA-512, \
                         GOST R 34.11-2012 or GOST R 34.11-94",
                        algorithm.oid
                    ),
                )
            })?;
        // Parameters: absent or NULL (RFC 5754 §2; GOST digests take none).
        if algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.tag() != der::Tag::Null || !p.value().is_empty())
        {
            return Err(refused(
                Fail::BadAlg,
                "the hash algorithm's parameters must be absent or NULL",
            ));
        }
        let expected = digest.digest(b"").map_or(0, |d| d.len());
        let given = imprint.hashed_message.as_bytes().len();
        if given != expected {
            return Err(refused(
                Fail::BadDataFormat,
                format!(
                    "the message imprint is {given} bytes; a {} hash is {expected}",
                    digest.name()
                ),
            ));
        }
        if request
            .nonce
            .as_ref()
            .is_some_and(|n| n.as_bytes().len() > MAX_NONCE)
        {
            return Err(refused(
                Fail::BadDataFormat,
                format!("the nonce is longer than {MAX_NONCE} bytes"),
            ));
        }
        if request.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return Err(refused(
                Fail::UnacceptedExtension,
                "this TSA supports no request extensions",
            ));
        }
        Ok(Checked { request })
    }

    /// Takes the next serial and signs the token in one transaction with its audit entry.
    async fn grant(
        &self,
        checked: &Checked,
        now: i64,
        audit: Option<&ActAudit>,
    ) -> Result<Vec<u8>, PkiError> {
        self.store
            .with_time_stamp_serial(|serial| {
                let der = self.token(checked, serial, now)?;
                let event = audit.map(|a| {
                    a.entry(
                        now,
                        format!(
                            "issued time-stamp serial {serial} policy {} imprint {} {}",
                            self.tsa.policy,
                            checked.request.message_imprint.hash_algorithm.oid,
                            hex::encode(checked.request.message_imprint.hashed_message.as_bytes())
                        ),
                    )
                });
                Ok::<_, PkiError>((der, event))
            })
            .await
    }

    /// The granted TimeStampResp with its token (DER).
    fn token(&self, checked: &Checked, serial: i64, now: i64) -> Result<Vec<u8>, PkiError> {
        let request = &checked.request;
        let renewed = self.renewed_tsa();
        let signer = renewed.as_ref().map_or(&self.tsa.signer, |r| &r.signer);
        let seconds = u64::try_from(now).map_err(|_| PkiError::invalid("clock before 1970"))?;
        let info = TstInfo {
            version: TspVersion::V1,
            policy: self.tsa.policy,
            message_imprint: request.message_imprint.clone(),
            serial_number: serial_int(serial)?,
            gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(seconds))?,
            accuracy: (self.tsa.accuracy_seconds > 0).then(|| Accuracy {
                seconds: Some(u64::from(self.tsa.accuracy_seconds)),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: Some(GeneralName::DirectoryName(
                signer.certificate.tbs_certificate.subject.clone(),
            )),
            extensions: None,
        }
        .to_der()?;
        let token = cades::signed_data(
            &Content {
                content_type: ID_CT_TST_INFO,
                bytes: &info,
                detached: false,
            },
            signer,
            Some(now),
            if request.cert_req {
                Certificates::Signer
            } else {
                Certificates::None
            },
        )
        .map_err(|e| PkiError::Config(format!("signing the time-stamp token: {e}")))?;
        let response = TimeStampResp {
            status: StatusInfo {
                status: GRANTED,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(ContentInfo::from_der(&token)?),
        };
        Ok(response.to_der()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FALLBACK: [u8; 14] = [
        0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40,
    ];

    #[test]
    fn rejections_carry_the_one_failinfo_bit_rfc_3161_names() {
        // (bit, the DER of the BIT STRING): bit 0 is the first octet's high bit.
        for (fail, der) in [
            (Fail::BadAlg, vec![0x03, 0x02, 0x07, 0x80]),
            (Fail::BadDataFormat, vec![0x03, 0x02, 0x02, 0x04]),
            (Fail::UnacceptedPolicy, vec![0x03, 0x03, 0x00, 0x00, 0x01]),
            (
                Fail::UnacceptedExtension,
                vec![0x03, 0x04, 0x07, 0x00, 0x00, 0x80],
            ),
            (Fail::SystemFailure, FALLBACK[7..].to_vec()),
        ] {
            assert_eq!(
                fail.bits().expect("bits").to_der().expect("der"),
                der,
                "{fail:?}"
            );
        }
        // The fallback is rejection/systemFailure without a statusString.
        let bare = TimeStampResp {
            status: StatusInfo {
                status: REJECTION,
                status_string: None,
                fail_info: Some(Fail::SystemFailure.bits().expect("bits")),
            },
            time_stamp_token: None,
        };
        assert_eq!(bare.to_der().expect("der"), FALLBACK);
    }

    #[test]
    fn serials_are_minimal_positive_integers() {
        for (serial, bytes) in [
            (1_i64, vec![1_u8]),
            (127, vec![0x7f]),
            (128, vec![0x00, 0x80]),
            (65_536, vec![0x01, 0x00, 0x00]),
        ] {
            assert_eq!(
                serial_int(serial).expect("int").as_bytes(),
                bytes.as_slice()
            );
        }
    }
}
