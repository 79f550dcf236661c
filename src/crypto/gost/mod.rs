//! GOST signatures as NCA RK (the National Certification Authority of Kazakhstan) uses them under
//! its own OIDs, in pure Rust: verification, key generation and signing for both generations
//! ([`Suite`]): "GOST 34.10-2015 (512)" (GOST R 34.10-2012, Streebog-512) and the older
//! "GOST 34.310-2004" (GOST R 34.10-2001 on CryptoPro-A, GOST R 34.11-94 with the Test S-boxes).
//!
//! Byte order, as NCA (and every GOST X.509 profile) writes things:
//! - the Streebog digest bytes are read as a **little-endian** integer;
//! - the GOST R 34.11-94 digest likewise (measured on NCA's GOST 34.310-2004 certificates);
//! - the public key is X then Y, each little-endian, 64 bytes each for the 512-bit curves (in the
//!   certificate: the SubjectPublicKeyInfo BIT STRING holds a DER OCTET STRING of those 128 bytes);
//! - the signature is r then s, each little-endian, 64 bytes each;
//! - the private key (in NCA's PKCS#8) is the scalar d, 64 bytes little-endian, inside an OCTET
//!   STRING (measured: d·G of the individual_valid key store equals its certificate's key).
//!
//! Rooms: [`curve`] has the curves and verification; [`point`] the variable-time point
//! arithmetic verification uses (no secrets); [`constant_time`] the scalar multiplication used
//! with secrets, on [`complete`]'s complete addition formulas; [`fixed_base`] the tables of G
//! of NCA's two curves (signing's constant-time walk, verification's wide window); [`field`] the
//! field arithmetic all of it runs on, with [`pseudo_mersenne`]'s limb code for NCA's
//! p = 2^512 − 569 and 2^256 − 617, and [`modinv`]'s variable-time inversion for public values;
//! [`private_key`] signing; [`suite`] the two rows.

mod complete;
mod constant_time;
mod curve;
mod field;
mod fixed_base;
mod modinv;
mod point;
mod private_key;
mod pseudo_mersenne;
mod suite;

pub use crypto_bigint::U512;
pub use curve::{parse_hex, Curve};
pub use private_key::PrivateKey;
pub use suite::Suite;

use streebog::Digest as _;

/// NCA RK: GOST R 34.10-2015 (= 2012) 512-bit public key.
pub const OID_NCA_GOST_512_PUBLIC_KEY: &str = "1.2.398.3.10.1.1.2.2";
/// NCA RK: the public key parameters (the curve id-tc26-gost-3410-12-512-paramSetA).
pub const OID_NCA_GOST_512_PARAMS: &str = "1.2.398.3.10.1.1.2.2.1";
/// NCA RK: the GOST 34.11-2015 (Streebog) 512-bit digest.
pub const OID_NCA_GOST_512_DIGEST: &str = "1.2.398.3.10.1.3.3";
/// NCA RK: GOST 34.10-2015 512-bit signature with the Streebog-512 digest.
pub const OID_NCA_GOST_512_SIGNATURE: &str = "1.2.398.3.10.1.1.2.3.2";

/// A little-endian integer of at most 64 bytes as a U512; None if longer.
fn from_le(bytes: &[u8]) -> Option<U512> {
    if bytes.len() > 64 {
        return None;
    }
    let mut padded = [0u8; 64];
    padded[..bytes.len()].copy_from_slice(bytes);
    Some(U512::from_le_slice(&padded))
}

/// The low `size` bytes of `v`, little-endian.
fn to_le(v: &U512, size: usize) -> Vec<u8> {
    use crypto_bigint::Encoding as _;
    v.to_le_bytes()[..size].to_vec()
}

/// Streebog-512 (GOST R 34.11-2012) of `message`, in the byte order the `streebog` crate gives
/// (the standard's hexadecimal value reversed), which GOST signatures read as little-endian.
pub fn streebog512(message: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(&streebog::Streebog512::digest(message));
    out
}

/// GOST R 34.11-94 with the id-GostR3411-94-TestParamSet S-boxes and a zero IV (RFC 5831 §7.3.1),
/// the digest of NCA's GOST 34.310-2004, in the byte order the hash function gives.
pub fn gost94_test(message: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&gost94::Gost94Test::digest(message));
    out
}

/// GOST R 34.11-94 with the id-GostR3411-94-CryptoProParamSet S-boxes (RFC 4357 §11.2), as
/// OpenSSL's GOST engine and CryptoPro compute it: not NCA's, here for the known answers of
/// RFC 5831 and the interoperability tests.
pub fn gost94_cryptopro(message: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&gost94::Gost94CryptoPro::digest(message));
    out
}

/// Verify a GOST R 34.10-2012 512-bit signature (curve id-tc26-gost-3410-12-512-paramSetA) over
/// an already computed Streebog-512 digest, all in NCA's little-endian byte order.
pub fn verify_digest_512(
    public_key_xy_le: &[u8; 128],
    digest_le: &[u8; 64],
    signature_rs_le: &[u8; 128],
) -> bool {
    Curve::tc26_512_a().verify_le(public_key_xy_le, digest_le, signature_rs_le)
}

/// Verify a GOST R 34.10-2012 512-bit signature with Streebog-512 over `message`
/// (NCA RK signature OID 1.2.398.3.10.1.1.2.3.2).
pub fn verify_512(
    public_key_xy_le: &[u8; 128],
    message: &[u8],
    signature_rs_le: &[u8; 128],
) -> bool {
    verify_digest_512(public_key_xy_le, &streebog512(message), signature_rs_le)
}

/// The 128-byte little-endian X‖Y key from the contents of a SubjectPublicKeyInfo BIT STRING,
/// which NCA fills with a DER OCTET STRING. None if it is not an OCTET STRING of 128 bytes.
pub fn public_key_512_from_spki_bits(bits: &[u8]) -> Option<[u8; 128]> {
    use der::Decode as _;
    let octets = der::asn1::OctetStringRef::from_der(bits).ok()?;
    octets.as_bytes().try_into().ok()
}

/// The SubjectPublicKeyInfo BIT STRING contents for a GOST key: a DER OCTET STRING of X‖Y.
pub fn spki_bits(public_key_xy_le: &[u8]) -> Result<Vec<u8>, der::Error> {
    use der::Encode as _;
    der::asn1::OctetStringRef::new(public_key_xy_le)?.to_der()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_2004;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_timing;
