//! What every format shares before it is read: the bound on its size and the certificates
//! already parsed. (The transport encoding, DER, PEM or base64, is `x509::decode_der`'s.)

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
