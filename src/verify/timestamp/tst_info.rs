//! A time-stamp token read (RFC 3161 §2.4.2): the CMS SignedData through the CMS adapter, its
//! eContent a TSTInfo decoded with `x509-tsp`.

use der::asn1::ObjectIdentifier;
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_tsp::TstInfo;

use super::super::cms;
use super::super::evidence::Parsed;
use super::super::input::CertCache;

/// id-ct-TSTInfo (RFC 3161 §2.4.2): the eContentType of a time-stamp token.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// What a TSTInfo says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampInfo {
    /// genTime, unix seconds.
    pub gen_time: i64,
    /// The TSA's policy under which the token was issued.
    pub policy: ObjectIdentifier,
    /// serialNumber, upper-case hex.
    pub serial_hex: String,
    /// messageImprint's hashAlgorithm.
    pub imprint_algorithm: ObjectIdentifier,
    /// messageImprint's hashedMessage.
    pub imprint: Vec<u8>,
    /// The optional tsa field, as text (a directoryName as a subject is shown; others by kind).
    pub tsa: Option<String>,
    /// The nonce the request carried, as its INTEGER bytes.
    pub nonce: Option<Vec<u8>>,
    /// The subject of the certificate the token carries for its signer (by the SignerInfo's
    /// identifier; not verified here): the TSA's name when the TSTInfo names none.
    pub signer: Option<String>,
}

/// Decodes a TSTInfo (DER). Its SETs are bounded before the decoder sorts them.
pub fn read_tst_info(der: &[u8]) -> Result<TimeStampInfo, String> {
    crate::x509::check_set_sizes(der).map_err(|e| format!("malformed TSTInfo: {e}"))?;
    let tst = TstInfo::from_der(der).map_err(|e| format!("malformed TSTInfo: {e}"))?;
    let gen_time = crate::time::unix(&tst.gen_time.to_unix_duration());
    let tsa = tst.tsa.as_ref().map(|name| match name {
        GeneralName::DirectoryName(name) => crate::x509::name::display(name),
        GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
        GeneralName::DnsName(dns) => dns.to_string(),
        other => format!("{other:?}"),
    });
    Ok(TimeStampInfo {
        gen_time,
        policy: tst.policy,
        serial_hex: hex::encode_upper(tst.serial_number.as_bytes()),
        imprint_algorithm: tst.message_imprint.hash_algorithm.oid,
        imprint: tst.message_imprint.hashed_message.as_bytes().to_vec(),
        tsa,
        nonce: tst.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
        signer: None,
    })
}

/// A token read: the SignedData as the CMS adapter reads any signature, and its TSTInfo.
pub(super) struct Token {
    pub parsed: Parsed,
    pub info: TimeStampInfo,
}

/// Reads a time-stamp token (a ContentInfo, DER): a SignedData of one signer whose eContent
/// is a TSTInfo. `Err`: why it is not one.
pub(super) fn read_token(der: &[u8], cache: &CertCache) -> Result<Token, String> {
    let (parsed, content_type) = cms::parse_token(der, cache)
        .map_err(|check| format!("not a time-stamp token: {}", check.detail))?;
    if content_type != ID_CT_TST_INFO {
        return Err(format!(
            "not a time-stamp token: its content is {content_type}, not a TSTInfo"
        ));
    }
    if parsed.signers.len() != 1 {
        return Err(format!(
            "a time-stamp token has one signer, this one {}",
            parsed.signers.len()
        ));
    }
    let content = parsed
        .content
        .as_deref()
        .ok_or("the time-stamp token carries no TSTInfo")?;
    let mut info = read_tst_info(content)?;
    info.signer = parsed.signers.first().and_then(|signer| {
        (parsed.certificates.iter())
            .find(|cert| signer.id.matches(cert))
            .map(|cert| cert.subject())
    });
    Ok(Token { parsed, info })
}

/// Reads NCA's or anyone's time-stamp token (a ContentInfo, DER or PEM/base64) without
/// verifying it: what its TSTInfo says.
pub fn read_time_stamp_token(token: &[u8]) -> Result<TimeStampInfo, String> {
    read_token(token, &CertCache::default()).map(|t| t.info)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NCA_TOKEN: &[u8] =
        include_bytes!("../../../fixtures/kalkan/tsp_ocsp/tsp_token_cms_gost2004_tsa.der");

    #[test]
    fn ncas_token_binds_its_tsa_certificate_by_an_ess_cert_id() {
        let token = read_token(NCA_TOKEN, &CertCache::default()).expect("NCA's token");
        let binding = (token.parsed.signers[0].signing_certificate.clone())
            .expect("well-formed")
            .expect("signingCertificate (v1) present");
        assert_eq!(binding.algorithm.to_string(), "1.3.14.3.2.26");
        let tsa = &token.parsed.certificates[0];
        assert_eq!(binding.hash, crate::crypto::sha1(&tsa.der));
        assert_eq!(token.info.signer, Some(tsa.subject()));
    }
}
