//! What every format shares before it is read: the input's transport encoding (DER, PEM or
//! base64) and the certificates already parsed.

use base64::Engine;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::x509::Cert;

/// Input larger than this is not a signed request.
pub(super) const MAX_SIGNATURE_BYTES: usize = 32 * 1024 * 1024;

/// Certificates seen before, by their DER: a portal sees the same signers and CAs again and
/// again, and parsing a certificate costs more than half an RSA verification.
#[derive(Default)]
pub(super) struct CertCache {
    certs: Mutex<HashMap<Vec<u8>, Arc<Cert>>>,
}

const CERT_CACHE_LIMIT: usize = 4096;

impl CertCache {
    pub(super) fn get(&self, der: &[u8]) -> Result<Arc<Cert>, crate::x509::CertError> {
        if let Some(hit) = self.certs.lock().ok().and_then(|c| c.get(der).cloned()) {
            return Ok(hit);
        }
        let cert = Arc::new(Cert::from_der(der)?);
        if let Ok(mut certs) = self.certs.lock() {
            if certs.len() >= CERT_CACHE_LIMIT {
                certs.clear();
            }
            certs.insert(der.to_vec(), Arc::clone(&cert));
        }
        Ok(cert)
    }
}

/// DER bytes from DER, PEM (any label) or base64 text.
pub(super) fn decode_input(input: &[u8]) -> Option<Vec<u8>> {
    if input.first() == Some(&0x30) {
        return Some(input.to_vec());
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    // PEM, possibly after other lines (OpenSSL writes "Bag Attributes" before it): the first block.
    if let Some(start) = text.find("-----BEGIN") {
        let block = &text[start..];
        let end = block
            .find("-----END")
            .and_then(|e| block[e + 8..].find("-----").map(|f| e + 8 + f + 5))?;
        return der::pem::decode_vec(&block.as_bytes()[..end])
            .ok()
            .map(|(_, der)| der);
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
        .filter(|der| der.first() == Some(&0x30))
}
