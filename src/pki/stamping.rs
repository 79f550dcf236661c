//! Taking CMS signatures up the CAdES baseline levels (EN 319 122-1): time-stamps from this
//! service's own TSA in process or from a configured remote one ([`TspClient`]), validation
//! data from this PKI's records, archive time-stamps. The byte work is `sign::levels`'; this
//! file obtains what goes in.

use std::sync::Arc;

use const_oid::db::rfc5912::ID_SHA_1;
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_ocsp::{CertId, OcspRequest, Request, TbsRequest, Version};

use super::{tsp_client, Pki, PkiError, TspClient};
use crate::crypto::Digest;
use crate::sign::levels::{self, Level};
use crate::sign::SignError;
use crate::x509::cms_archive::SignedData;

/// Where time-stamps come from.
#[derive(Debug, Clone, Default)]
pub enum TimeStamping {
    /// This service's own TSA, called in process (no HTTP to itself).
    #[default]
    Own,
    /// A remote TSA over RFC 3161 HTTP, each reply checked.
    Remote(TspClient),
}

/// The longest chain followed from a certificate to its root.
const MAX_CHAIN: usize = 8;

/// The digest of the time-stamps this service asks for.
const STAMP_DIGEST: Digest = Digest::Sha256;

fn refused(e: SignError) -> PkiError {
    PkiError::invalid(e.to_string())
}

impl Pki {
    /// The PKI with its time-stamps taken from `source`.
    pub fn with_time_stamping(mut self, source: TimeStamping) -> Pki {
        self.tsa.remote = match source {
            TimeStamping::Own => None,
            TimeStamping::Remote(client) => Some(Arc::new(client)),
        };
        self
    }

    /// A time-stamp token (DER ContentInfo) over `hashed` — the bytes whose `digest` the token's
    /// imprint carries — from the configured TSA, or this service's own in process at `now`.
    pub async fn time_stamp(
        &self,
        digest: Digest,
        hashed: &[u8],
        now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        if let Some(client) = &self.tsa.remote {
            return client.stamp(digest, hashed).await;
        }
        let asked = tsp_client::request(digest, hashed, None)?;
        let answer = self.tsp_respond(&asked.der, now, None).await;
        tsp_client::read_reply(&answer.der, &asked)
    }

    /// Takes a CMS signature (DER) at any level to `target`: T adds a signature time-stamp, LT
    /// the certificates of the signer's and the TSA's chains (to the root) and revocation
    /// values (this PKI's latest CRLs, an OCSP response for a signer it issued), LTA an
    /// archive-time-stamp-v3. A signature already at or above `target` comes back unchanged:
    /// nothing is time-stamped twice. `content`: the signed content of a detached signature
    /// (needed for LTA).
    pub async fn extend(
        &self,
        signed: &[u8],
        content: Option<&[u8]>,
        target: Level,
        now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        if crate::xml::looks_like_xml(signed) {
            return Err(PkiError::invalid(
                "XAdES levels are not built yet: only CMS signatures can be time-stamped",
            ));
        }
        let level = levels::level_of(signed).map_err(refused)?;
        if level >= target {
            return Ok(signed.to_vec());
        }
        let mut cms = signed.to_vec();
        if level < Level::T {
            let data = levels::signature_time_stamp_data(&cms).map_err(refused)?;
            let token = self.time_stamp(STAMP_DIGEST, &data, now).await?;
            cms = levels::with_signature_time_stamp(&cms, &token).map_err(refused)?;
        }
        if target >= Level::Lt && level < Level::Lt {
            cms = self.add_validation_data(&cms, now).await?;
        }
        if target >= Level::Lta {
            // Validation data was just added (or was there): stamp without adding it again.
            cms = self.stamp_archive(&cms, content, now).await?;
        }
        Ok(cms)
    }

    /// Adds one more archive-time-stamp-v3 to a CMS signature, whatever it has: evidence
    /// renewal (its ats-hash-index-v3 covers the earlier archive time-stamps). The current
    /// validation data goes in first (EN 319 122-1 §5.5.3): today's CRLs say the earlier TSAs
    /// were not revoked before this stamp, and speak for the new TSA at its genTime, when the
    /// CRLs carried from the signing time have long expired.
    pub async fn add_archive_time_stamp(
        &self,
        signed: &[u8],
        content: Option<&[u8]>,
        now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        let refreshed;
        let signed = if levels::level_of(signed).map_err(refused)? >= Level::T {
            refreshed = self.add_validation_data(signed, now).await?;
            refreshed.as_slice()
        } else {
            signed
        };
        self.stamp_archive(signed, content, now).await
    }

    /// The archive-time-stamp-v3 over the signature as it is.
    async fn stamp_archive(
        &self,
        signed: &[u8],
        content: Option<&[u8]>,
        now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        let (data, index) =
            levels::archive_time_stamp_data(signed, content, STAMP_DIGEST).map_err(refused)?;
        let token = self.time_stamp(STAMP_DIGEST, &data, now).await?;
        levels::with_archive_time_stamp(signed, &token, &index).map_err(refused)
    }

    /// CAdES-B-LT's validation data for a CMS with a signature time-stamp.
    async fn add_validation_data(&self, cms: &[u8], now: i64) -> Result<Vec<u8>, PkiError> {
        let signed = SignedData::from_content_info(cms).map_err(|e| refused(e.into()))?;
        let mut pool = carried(&signed);
        let mut tsa_certificate = None;
        for token in signature_time_stamps(&signed) {
            if let Ok(token) = SignedData::from_content_info(&token) {
                let certificates = carried(&token);
                tsa_certificate = tsa_certificate.or_else(|| signer_of(&token, &certificates));
                pool.extend(certificates);
            }
        }
        for der in [
            self.issuing.certificate_der.as_slice(),
            self.root.certificate_der.as_slice(),
            self.tsa_certificate(),
        ] {
            pool.push(Certificate::from_der(der)?);
        }
        let signer = signer_of(&signed, &pool);
        let mut certificates = Vec::new();
        for start in signer.iter().chain(tsa_certificate.iter()) {
            for certificate in chain(start, &pool) {
                let der = certificate.to_der()?;
                if !certificates.contains(&der) {
                    certificates.push(der);
                }
            }
        }
        // This PKI's CRLs, for the chains that pass through its CAs (a foreign signer's
        // revocation is its own CA's business; a remote TSA's too).
        let issued_by = |ca: &super::Authority| {
            let subject = &ca.certificate.tbs_certificate.subject;
            signer
                .iter()
                .chain(tsa_certificate.iter())
                .flat_map(|start| chain(start, &pool))
                .any(|c| c.tbs_certificate.issuer == *subject)
        };
        let mut crls = Vec::new();
        for ca in [&self.issuing, &self.root]
            .into_iter()
            .filter(|ca| issued_by(ca))
        {
            match self.crl(&ca.id, false).await {
                Ok(der) => crls.push(der),
                Err(PkiError::NotFound(why)) => tracing::warn!(%why, "no CRL for validation data"),
                Err(e) => return Err(e),
            }
        }
        let issuing = &self.issuing.certificate.tbs_certificate;
        let mut ocsp = Vec::new();
        if let Some(signer) = signer.filter(|s| s.tbs_certificate.issuer == issuing.subject) {
            let request = ocsp_request(&signer, &self.issuing.certificate)?;
            ocsp.push(self.ocsp_respond(&request, now).await);
        }
        levels::with_validation_data(cms, &certificates, &crls, &ocsp).map_err(refused)
    }
}

/// The certificates a SignedData carries.
fn carried(signed: &SignedData) -> Vec<Certificate> {
    signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// The signer's certificate among `pool`, by its IssuerAndSerialNumber.
fn signer_of(signed: &SignedData, pool: &[Certificate]) -> Option<Certificate> {
    let info = signed.signer(0).ok()?;
    let cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(sid) = &info.sid else {
        return None;
    };
    pool.iter()
        .find(|c| {
            c.tbs_certificate.issuer == sid.issuer
                && c.tbs_certificate.serial_number == sid.serial_number
        })
        .cloned()
}

/// The tokens of a signer's id-aa-signatureTimeStampToken attributes (DER).
fn signature_time_stamps(signed: &SignedData) -> Vec<Vec<u8>> {
    let Ok(info) = signed.signer(0) else {
        return Vec::new();
    };
    info.unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == levels::ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|a| a.values.iter())
        .filter_map(|v| v.to_der().ok())
        .collect()
}

/// `start` and its issuers found in `pool`, by name, up to a self-issued one.
fn chain(start: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut path = vec![start.clone()];
    while path.len() < MAX_CHAIN {
        let Some(last) = path.last() else { break };
        let tbs = &last.tbs_certificate;
        if tbs.issuer == tbs.subject {
            break;
        }
        let Some(issuer) = pool
            .iter()
            .find(|c| c.tbs_certificate.subject == tbs.issuer && !path.contains(c))
        else {
            break;
        };
        path.push(issuer.clone());
    }
    path
}

/// An OCSP request (RFC 6960) for `certificate` issued by `issuer`, CertID by SHA-1 as every
/// responder answers it.
fn ocsp_request(certificate: &Certificate, issuer: &Certificate) -> Result<Vec<u8>, PkiError> {
    let sha1 = |data: &[u8]| {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
            .as_ref()
            .to_vec()
    };
    let issuer_tbs = &issuer.tbs_certificate;
    let key = issuer_tbs
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: CertId {
                    hash_algorithm: spki::AlgorithmIdentifierOwned {
                        oid: ID_SHA_1,
                        parameters: Some(der::asn1::Any::encode_from(&Null)?),
                    },
                    issuer_name_hash: OctetString::new(sha1(&issuer_tbs.subject.to_der()?))?,
                    issuer_key_hash: OctetString::new(sha1(key))?,
                    serial_number: certificate.tbs_certificate.serial_number.clone(),
                },
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    Ok(request.to_der()?)
}
