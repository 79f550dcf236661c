//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz) into code that is otherwise
//! private. Not an API: hidden from the docs, and nothing here changes behaviour — each function
//! only calls the code the service itself runs.

use crate::verify::Answer;
use crate::x509::Cert;

/// The DER of the nonce extension value `ocsp::query` sends for `nonce`: an OCTET STRING
/// wrapping the nonce bytes.
pub fn ocsp_nonce_value(nonce: &[u8]) -> Result<Vec<u8>, String> {
    use der::Encode;
    der::asn1::OctetString::new(nonce.to_vec())
        .and_then(|o| o.to_der())
        .map_err(|e| e.to_string())
}

/// The CertID `ocsp::query` asks about for `cert` issued by `issuer` (SHA-1 hashes, RFC 6960).
pub fn ocsp_cert_id(cert: &Cert, issuer: &Cert) -> Result<x509_ocsp::CertId, String> {
    crate::verify::ocsp::cert_id(cert, issuer)
}

/// What `ocsp::query` does with a responder's answer `response` about `cert` (issued by
/// `issuer`), given the nonce extension value it sent (`ocsp_nonce_value`) and the time `now`.
pub fn ocsp_check_response(
    response: &[u8],
    cert: &Cert,
    issuer: &Cert,
    nonce_value: &[u8],
    now: i64,
) -> Result<Answer, String> {
    let id = crate::verify::ocsp::cert_id(cert, issuer)?;
    crate::verify::ocsp::check_response(response, &id, nonce_value, issuer, "fuzz", now)
}

/// A TSA's reply to a fixed request (SHA-256 of "qoltanba", nonce 0x0102…08) through the TSP
/// client's checks (`pki::tsp_client::read_reply`): status, token, nonce, imprint. `Ok`: the
/// token the client would go on to verify.
pub fn tsp_read_reply(reply: &[u8]) -> Result<Vec<u8>, String> {
    let asked = crate::pki::tsp_client::request_with_nonce(
        crate::crypto::Digest::Sha256,
        b"qoltanba",
        None,
        [1, 2, 3, 4, 5, 6, 7, 8],
    )
    .map_err(|e| e.to_string())?;
    crate::pki::tsp_client::read_reply(reply, &asked).map_err(|e| e.to_string())
}
