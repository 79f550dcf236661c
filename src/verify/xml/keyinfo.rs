//! Who signed: the certificates a signature's KeyInfo carries (X509Data/X509Certificate; for
//! WS-Security a BinarySecurityToken or a KeyIdentifier holding the certificate), or how it
//! names one to be found among the configured and supplied certificates (X509IssuerSerial,
//! X509SKI, a subject key identifier).

use crate::xml::names::{WSSE, WSSE_X509_SKI as X509_SKI, WSSE_X509_V3 as X509_V3};
use std::sync::Arc;

use super::signature::base64_text;
use super::{failed, DSIG};
use crate::verify::evidence::SignerId;
use crate::verify::input::CertCache;
use crate::verify::report::Check;
use crate::x509::Cert;
use crate::xml::{Document, NodeId};

/// Certificates one KeyInfo may carry (a signer and its chain).
const MAX_CARRIED: usize = 16;

pub(super) struct Carried {
    pub id: SignerId,
    pub certificates: Vec<Arc<Cert>>,
}

/// A decimal serial number as the content octets of its DER INTEGER (a leading zero when the
/// top bit is set), the form certificates compare by.
fn serial_bytes(decimal: &str) -> Option<Vec<u8>> {
    let decimal = decimal.trim();
    if decimal.is_empty() || decimal.len() > 100 || !decimal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut bytes: Vec<u8> = vec![0];
    for digit in decimal.bytes().map(|b| b - b'0') {
        let mut carry = u32::from(digit);
        for byte in bytes.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    while bytes.len() > 1 && bytes[0] == 0 && bytes[1] < 0x80 {
        bytes.remove(0);
    }
    if bytes[0] >= 0x80 {
        bytes.insert(0, 0);
    }
    Some(bytes)
}

fn bad(what: &str) -> Check {
    failed("XML_KEYINFO", format!("the signature's KeyInfo: {what}"))
}

fn certificate(doc: &Document, node: NodeId, cache: &CertCache) -> Result<Arc<Cert>, Check> {
    let der = base64_text(&doc.text(node)).ok_or_else(|| bad("a certificate is not base64"))?;
    cache
        .get(&der)
        .map_err(|e| bad(&format!("a certificate does not parse: {e}")))
}

/// Reads the KeyInfo of the ds:Signature `signature`.
pub(super) fn read(doc: &Document, signature: NodeId, cache: &CertCache) -> Result<Carried, Check> {
    let mut certificates = Vec::new();
    let mut named = None;
    let key_info = doc
        .child_elements(signature)
        .find(|c| doc.is(*c, DSIG, "KeyInfo"));
    // Everything under KeyInfo, in order; nested shapes (X509Data in a SecurityTokenReference)
    // are read the same way.
    for node in key_info.into_iter().flat_map(|k| doc.descendants(k)) {
        let Some(element) = doc.element(node) else {
            continue;
        };
        let ns = element.namespace.as_deref();
        match (ns, element.local.as_str()) {
            (Some(DSIG), "X509Certificate") => certificates.push(certificate(doc, node, cache)?),
            (Some(DSIG), "X509SKI") => {
                let ski =
                    base64_text(&doc.text(node)).ok_or_else(|| bad("X509SKI is not base64"))?;
                named.get_or_insert(SignerId::KeyId(ski));
            }
            (Some(DSIG), "X509SerialNumber") => {
                let serial = serial_bytes(&doc.text(node))
                    .ok_or_else(|| bad("X509SerialNumber is not a decimal number"))?;
                named.get_or_insert(SignerId::Serial(serial));
            }
            (Some(WSSE), "KeyIdentifier") => match doc.attribute(node, "ValueType") {
                Some(X509_V3) => certificates.push(certificate(doc, node, cache)?),
                Some(X509_SKI) => {
                    let ski = base64_text(&doc.text(node))
                        .ok_or_else(|| bad("the KeyIdentifier is not base64"))?;
                    named.get_or_insert(SignerId::KeyId(ski));
                }
                other => {
                    return Err(bad(&format!(
                        "a KeyIdentifier of ValueType {:?} is not read",
                        other.unwrap_or("(none)")
                    )))
                }
            },
            (Some(WSSE), "Reference") => {
                let uri = doc.attribute(node, "URI").unwrap_or_default();
                let token = uri
                    .strip_prefix('#')
                    .and_then(|id| doc.by_id(id))
                    .filter(|t| doc.is(*t, WSSE, "BinarySecurityToken"))
                    .ok_or_else(|| {
                        bad(&format!(
                            "the token reference {uri:?} names no BinarySecurityToken in the message"
                        ))
                    })?;
                certificates.push(certificate(doc, token, cache)?);
            }
            _ => {}
        }
        if certificates.len() > MAX_CARRIED {
            return Err(bad(&format!("more than {MAX_CARRIED} certificates")));
        }
    }
    let id = if certificates.is_empty() {
        named.unwrap_or(SignerId::Carried(Vec::new()))
    } else {
        SignerId::Carried(certificates.iter().map(|c| c.fingerprint).collect())
    };
    Ok(Carried { id, certificates })
}

#[cfg(test)]
mod tests {
    use super::serial_bytes;

    #[test]
    fn decimal_serials_become_der_integer_contents() {
        assert_eq!(serial_bytes("1"), Some(vec![1]));
        assert_eq!(serial_bytes("255"), Some(vec![0, 255]));
        assert_eq!(serial_bytes("256"), Some(vec![1, 0]));
        assert_eq!(serial_bytes("0"), Some(vec![0]));
        assert_eq!(serial_bytes("12a"), None);
        assert_eq!(serial_bytes(""), None);
    }
}
