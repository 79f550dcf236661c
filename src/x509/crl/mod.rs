//! Certificate revocation lists, parsed once into an index (RFC 5280 §5).
//!
//! A portal verifies many signatures per second against the same few CRLs, and production CRLs
//! run to hundreds of thousands of entries. So [`Crl::parse`] walks the DER once, keeps the
//! signed bytes for [`Crl::verify_signature`], and indexes every revoked serial in a hash table;
//! each [`Crl::lookup`] afterwards is O(1).
//!
//! The revoked list is never materialised as `x509_cert` values: `parse.rs` walks it with der's
//! `SliceReader`, decoding only the serial, the revocation date and the entry extensions that
//! matter. The serials stay where they are, inside the kept TBS bytes. The index (`index.rs`) is
//! an open-addressing table of 16-byte records (date, reason, 16 hash bits, where the serial is),
//! keyed by SipHash with a random key: a CRL is parsed before its signature is checked, so its
//! serials must not be able to choose their own hash collisions.
//!
//! Measured by `benches/crl.rs`: about 80 bytes per entry in all (47 of them the kept TBS) and
//! well under a second to parse and index 1,000,000 entries.

mod index;
mod parse;
#[cfg(test)]
mod test_builder;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_extensions;
#[cfg(test)]
mod tests_generated;

use std::fmt;

use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::name::Name;

use index::SerialIndex;

/// Largest CRL accepted, DER or PEM (der 0.7 cannot represent longer lengths anyway).
pub const MAX_CRL_BYTES: usize = 256 * 1024 * 1024;

/// RFC 5280 CRLReason removeFromCRL: in a delta CRL, the certificate is no longer revoked.
pub const REASON_REMOVE_FROM_CRL: u8 = 8;
/// RFC 5280 CRLReason certificateHold: suspended, may be released later.
pub const REASON_CERTIFICATE_HOLD: u8 = 6;

#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    #[error("not a CRL: {0}")]
    Malformed(String),
    /// CRL or entry level: an unknown critical extension, issuingDistributionPoint with
    /// onlySomeReasons or indirectCRL, a certificateIssuer entry extension (indirect CRLs).
    #[error("the CRL carries an unsupported critical extension {0}")]
    UnsupportedCritical(String),
    #[error("the CRL signature does not verify: {0}")]
    BadSignature(String),
    #[error("the CRL is too large ({0} bytes)")]
    TooLarge(usize),
}

/// One revoked certificate as a CRL lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedEntry {
    /// revocationDate, unix seconds.
    pub revoked_at: i64,
    /// RFC 5280 CRLReason code; `None` when the entry has no reasonCode extension.
    pub reason: Option<u8>,
}

impl RevokedEntry {
    /// The reason, typed; `None` without a reasonCode or with a code RFC 5280 does not define.
    pub fn revocation_reason(&self) -> Option<crate::x509::RevocationReason> {
        self.reason
            .and_then(crate::x509::RevocationReason::from_code)
    }
}

/// The scope an issuingDistributionPoint extension gives a CRL (RFC 5280 §5.2.5). A CRL whose
/// scope excludes a certificate (e.g. `only_ca_certs` for an end-entity certificate) says nothing
/// about it; the path validator must check this.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrlScope {
    /// URIs of the distributionPoint fullName.
    pub distribution_point_urls: Vec<String>,
    pub only_user_certs: bool,
    pub only_ca_certs: bool,
    pub only_attribute_certs: bool,
}

/// A parsed and indexed CRL. Its signature is not checked until [`Crl::verify_signature`].
#[derive(Clone)]
pub struct Crl {
    /// The DER TBSCertList, tag and length included: what the signature covers, and where the
    /// index finds the serials.
    tbs: Box<[u8]>,
    tbs_algorithm: AlgorithmIdentifierOwned,
    outer_algorithm: AlgorithmIdentifierOwned,
    signature: Box<[u8]>,
    version: u8,
    issuer: Name,
    issuer_der: Box<[u8]>,
    this_update: i64,
    next_update: Option<i64>,
    extensions: parse::CrlExtensions,
    index: SerialIndex,
    /// SHA-256 over the signed bytes and the signature.
    fingerprint: [u8; 32],
}

impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crl")
            .field("issuer", &self.issuer.to_string())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("number", &self.extensions.number)
            .field("delta_base", &self.extensions.delta_base)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

/// id-ce-expiredCertsOnCRL (X.509 (10/2012) §9.6.2.9): the CRL keeps the entries of
/// certificates that expired at or after the time it names.
pub const ID_CE_EXPIRED_CERTS_ON_CRL: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.60");

impl Crl {
    /// Parses DER, or PEM labelled "X509 CRL", and indexes the revoked serials. Refuses input
    /// over [`MAX_CRL_BYTES`] with [`CrlError::TooLarge`]. Does NOT verify the signature.
    pub fn parse(bytes: &[u8]) -> Result<Crl, CrlError> {
        parse::parse(bytes)
    }

    /// DER of the issuer Name exactly as the CRL encodes it, to byte-compare with a
    /// certificate's issuer field.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// 1 for a v1 CRL (no extensions), 2 for v2.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// thisUpdate, unix seconds.
    pub fn this_update(&self) -> i64 {
        self.this_update
    }

    /// nextUpdate, unix seconds.
    pub fn next_update(&self) -> Option<i64> {
        self.next_update
    }

    /// The CRL Number extension; `None` if absent or larger than `u64`.
    pub fn number(&self) -> Option<u64> {
        self.extensions.number
    }

    /// The Delta CRL Indicator's BaseCRLNumber; `None` for a full CRL, or a base beyond `u64`
    /// (then [`Crl::is_delta`] is still true).
    pub fn delta_base(&self) -> Option<u64> {
        self.extensions.delta_base
    }

    /// ExpiredCertsOnCRL: entries of certificates that expired at or after this time are kept.
    pub fn expired_certs_on_crl(&self) -> Option<i64> {
        self.extensions.expired_certs_on_crl
    }

    /// Does this CRL's silence about `cert` prove it was not revoked? Not when the CRL was
    /// issued after the certificate expired, unless it keeps expired certificates from before
    /// that expiry (ExpiredCertsOnCRL): a CA may drop the entries of expired certificates
    /// (RFC 5280 §3.3), so absence from a later CRL says nothing.
    pub fn covers_expiry_of(&self, not_after: i64) -> bool {
        self.this_update <= not_after
            || self
                .expired_certs_on_crl()
                .is_some_and(|since| since <= not_after)
    }

    pub fn is_delta(&self) -> bool {
        self.extensions.is_delta
    }

    /// The keyIdentifier of the Authority Key Identifier extension.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.extensions.authority_key_id.as_deref()
    }

    /// URIs of the Freshest CRL extension (where a full CRL's delta CRL is published).
    pub fn freshest_crl_urls(&self) -> &[String] {
        &self.extensions.freshest_crl_urls
    }

    /// The issuingDistributionPoint scope, if the CRL has one.
    pub fn scope(&self) -> Option<&CrlScope> {
        self.extensions.scope.as_ref()
    }

    /// Number of entries in revokedCertificates (a serial listed twice counts twice; lookups
    /// return its first entry).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// Bytes this value keeps on the heap (TBS copy, index, names), for capacity planning.
    /// SHA-256 over the signed bytes and the signature: identifies this CRL by content.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub fn heap_size(&self) -> usize {
        self.tbs.len()
            + self.signature.len()
            + self.issuer_der.len()
            + self.index.heap_size()
            + self
                .extensions
                .freshest_crl_urls
                .iter()
                .map(|u| u.capacity() + std::mem::size_of::<String>())
                .sum::<usize>()
    }

    /// The entry for a certificate serial: the serialNumber INTEGER's content bytes, as
    /// `x509_cert::serial_number::SerialNumber::as_bytes()` gives them. Redundant leading sign
    /// bytes (non-DER) are ignored on both sides. O(1).
    pub fn lookup(&self, serial: &[u8]) -> Option<RevokedEntry> {
        self.index.get(&self.tbs, serial)
    }

    /// Verifies the CRL's signature with the issuer's public key, through the crate's algorithm
    /// table. The outer signatureAlgorithm must equal the TBS signature field (RFC 5280 §5.1.1.2;
    /// absent parameters and NULL count as equal).
    pub fn verify_signature(&self, issuer: &SubjectPublicKeyInfoOwned) -> Result<(), CrlError> {
        if !same_algorithm(&self.outer_algorithm, &self.tbs_algorithm) {
            return Err(CrlError::BadSignature(format!(
                "signatureAlgorithm {} differs from the signature field {} inside the signed list",
                self.outer_algorithm.oid, self.tbs_algorithm.oid
            )));
        }
        crate::crypto::verify_signature(&self.tbs_algorithm, issuer, &self.tbs, &self.signature)
            .map_err(|e| CrlError::BadSignature(e.to_string()))
    }
}

fn same_algorithm(a: &AlgorithmIdentifierOwned, b: &AlgorithmIdentifierOwned) -> bool {
    a.oid == b.oid
        && match (&a.parameters, &b.parameters) {
            (None, None) => true,
            (Some(x), Some(y)) => x == y,
            (Some(p), None) | (None, Some(p)) => p.is_null(),
        }
}

/// A certificate's status from a full CRL and, optionally, a delta CRL on top of it
/// (RFC 5280 §5.2.4, §6.3.3).
///
/// The delta applies only when it is a delta CRL, `full` is not, both have the same issuer (and
/// the same authority key identifier and issuingDistributionPoint, when present), and its
/// BaseCRLNumber is at most the full CRL's number. A delta older than the full CRL (a smaller CRL
/// number) is refused too: the caller holds a stale delta. Otherwise an error explains which
/// condition failed (as [`CrlError::Malformed`]: the pair does not form one CRL).
///
/// An entry in the delta overrides the full CRL's. Reason removeFromCRL (8) means not revoked.
pub fn status(
    full: &Crl,
    delta: Option<&Crl>,
    serial: &[u8],
) -> Result<Option<RevokedEntry>, CrlError> {
    let not_removed = |e: RevokedEntry| (e.reason != Some(REASON_REMOVE_FROM_CRL)).then_some(e);
    if full.is_delta() {
        return Err(mismatch(
            "the CRL given as the full CRL is a delta CRL".into(),
        ));
    }
    let Some(delta) = delta else {
        return Ok(full.lookup(serial).and_then(not_removed));
    };
    check_delta_applies(full, delta)?;
    match delta.lookup(serial) {
        Some(entry) => Ok(not_removed(entry)),
        None => Ok(full.lookup(serial).and_then(not_removed)),
    }
}

fn mismatch(why: String) -> CrlError {
    CrlError::Malformed(format!("the delta CRL cannot be applied: {why}"))
}

fn check_delta_applies(full: &Crl, delta: &Crl) -> Result<(), CrlError> {
    if !delta.is_delta() {
        return Err(mismatch(
            "the CRL given as the delta has no Delta CRL Indicator".into(),
        ));
    }
    if full.issuer_der() != delta.issuer_der() {
        return Err(mismatch(format!(
            "issued by {}, but the full CRL by {}",
            delta.issuer(),
            full.issuer()
        )));
    }
    if let (Some(a), Some(b)) = (full.authority_key_id(), delta.authority_key_id()) {
        if a != b {
            return Err(mismatch(format!(
                "signed under key {}, but the full CRL under {}",
                hex::encode(b),
                hex::encode(a)
            )));
        }
    }
    if full.extensions.scope_der != delta.extensions.scope_der {
        return Err(mismatch(
            "its issuingDistributionPoint differs from the full CRL's".into(),
        ));
    }
    let Some(number) = full.number() else {
        return Err(mismatch(
            "the full CRL has no CRL number (or one beyond 64 bits)".into(),
        ));
    };
    let Some(base) = delta.delta_base() else {
        return Err(mismatch("its BaseCRLNumber is beyond 64 bits".into()));
    };
    if base > number {
        return Err(mismatch(format!(
            "it is based on CRL number {base}, newer than the full CRL's number {number}"
        )));
    }
    // RFC 5280 §5.2.3: full and delta CRLs share one number sequence; a delta issued with a full
    // CRL may carry the same number. A smaller one predates the full CRL.
    if let Some(delta_number) = delta.number() {
        if delta_number < number {
            return Err(mismatch(format!(
                "its CRL number {delta_number} is older than the full CRL's number {number}"
            )));
        }
    }
    Ok(())
}
