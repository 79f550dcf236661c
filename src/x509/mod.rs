//! The typed model of X.509 that every room above shares: a certificate parsed once with the
//! extensions qoltanba understands ([`Cert`]), CRLs ([`crl::Crl`]), names, revocation reasons,
//! the OIDs of NCA RK's profile, and the BER→DER normalisation streaming producers need.
//!
//! Nothing here knows about verification policy, the test PKI or the database: it reads and
//! describes. Verification (`verify`), the test PKI (`pki`) and signing (`sign`) build on it.

pub mod ber;
mod cert;
pub mod cms_archive;
pub mod crl;
mod der_limits;
mod extensions;
mod key_profile;
pub mod name;
pub mod oid;
pub mod pem;
pub mod reason;

pub use cert::{Cert, CertError, SubjectNumbers, SubjectSummary, MAX_NAME_CHARS};
pub use der_limits::{check_set_sizes, widest_set, MAX_SET_ELEMENTS};
pub use extensions::Extensions;
pub use key_profile::{KeyKind, KeyProfile};
pub use reason::RevocationReason;

/// The first element inside a signed SEQUENCE, exactly as received: the part a certificate's,
/// CRL's or OCSP response's signature covers. Signatures are checked over these bytes, never
/// over a re-encoding (which differs from them when the signer's encoding is not canonical).
pub fn signed_part(der: &[u8]) -> Option<&[u8]> {
    use der::{Decode, Reader};
    let mut reader = der::SliceReader::new(der).ok()?;
    // Step into the outer SEQUENCE; the signed part is its first element.
    der::Header::decode(&mut reader).ok()?;
    reader.tlv_bytes().ok()
}

/// Re-encodes a BER element (indefinite lengths, segmented OCTET STRINGs, as streaming producers
/// write CMS) as DER, so the DER-only decoders can read it. Bounded: nesting, and the input to
/// [`ber::MAX_NORMALISED_LEN`].
pub fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, ber::BerError> {
    if input.len() > ber::MAX_NORMALISED_LEN {
        return Err(ber::BerError("input too large".into()));
    }
    ber::to_der(input)
}

/// DER bytes from DER, PEM (any label) or base64 text: how signatures, certificates and CRLs
/// arrive from callers and files.
pub fn decode_der(input: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    if input.first() == Some(&0x30) {
        return Some(input.to_vec());
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    // PEM, possibly after other lines (OpenSSL writes "Bag Attributes" before it): the first block.
    if text.contains("-----BEGIN") {
        return pem::first_block(text).ok().map(|(_, der)| der);
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
        .filter(|der| der.first() == Some(&0x30))
}
