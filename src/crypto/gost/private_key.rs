//! A GOST R 34.10-2012 private key and signing (§6.1), with a nonce that cannot repeat.
//!
//! The nonce k is derived as in RFC 6979 §3.2 (HMAC-DRBG over the key and the digest, here with
//! HMAC-SHA-512) and *hedged* as §3.6 allows: 32 fresh random bytes are added to the seed. The
//! same message signed twice therefore gets different signatures, a broken random source still
//! cannot make k repeat across messages (the key and digest fix the stream), and a fault cannot
//! be replayed onto the same k.

use crypto_bigint::{Encoding as _, U512};
use ring::hmac;
use std::fmt;
use zeroize::{Zeroize as _, Zeroizing};

use super::curve::{digest_scalar, Curve, Scalar};
use super::field::FieldElement as _;
use super::{constant_time, from_le, to_le};
use crate::crypto::CryptoError;

/// A private key on one curve: the scalar d (1 ≤ d < q) and its public key d·G.
pub struct PrivateKey {
    curve: &'static Curve,
    /// d, little-endian, `curve.size` bytes: NCA's PKCS#8 byte order.
    d_le: Zeroizing<Vec<u8>>,
    /// X‖Y, each little-endian.
    public_xy_le: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("gost::PrivateKey")
            .field("size", &self.curve.size)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// A fresh key on `curve`: d uniform in [1, q) by rejection sampling.
    pub fn generate(curve: &'static Curve) -> Result<Self, CryptoError> {
        for _ in 0..64 {
            let mut bytes = Zeroizing::new(crate::crypto::random_bytes::<64>()?);
            bytes[curve.size..].fill(0);
            if let Ok(key) = Self::from_le_bytes(curve, &bytes[..curve.size]) {
                return Ok(key);
            }
            bytes.zeroize();
        }
        Err(CryptoError::KeyGeneration(
            "GOST: no valid scalar in 64 draws".into(),
        ))
    }

    /// A key from its little-endian scalar (as NCA's PKCS#8 holds it). Refuses d = 0, d ≥ q and
    /// a wrong length.
    pub fn from_le_bytes(curve: &'static Curve, d_le: &[u8]) -> Result<Self, CryptoError> {
        let bad = |why: &str| CryptoError::BadPrivateKey(format!("GOST private key: {why}"));
        if d_le.len() != curve.size {
            return Err(bad(&format!(
                "{} bytes, expected {}",
                d_le.len(),
                curve.size
            )));
        }
        let mut d = from_le(d_le).ok_or_else(|| bad("too long"))?;
        if d == U512::ZERO || d >= curve.q {
            d.zeroize();
            return Err(bad("the scalar is out of range"));
        }
        let public = constant_time::mul(curve, &d, &curve.gx, &curve.gy);
        d.zeroize();
        let (x, y) = public.ok_or_else(|| bad("the curve is malformed"))?;
        let mut public_xy_le = to_le(&x, curve.size);
        public_xy_le.extend_from_slice(&to_le(&y, curve.size));
        Ok(PrivateKey {
            curve,
            d_le: Zeroizing::new(d_le.to_vec()),
            public_xy_le,
        })
    }

    /// The scalar, little-endian. Handle with care: this is the secret.
    pub fn to_le_bytes(&self) -> &[u8] {
        &self.d_le
    }

    /// The public key X‖Y, each coordinate little-endian.
    pub fn public_key_xy_le(&self) -> &[u8] {
        &self.public_xy_le
    }

    /// Signs a digest given in GOST's little-endian byte order; returns r‖s, each little-endian.
    pub fn sign_digest(&self, digest_le: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let extra = Zeroizing::new(crate::crypto::random_bytes::<32>()?);
        self.sign_digest_hedged(digest_le, &extra[..])
    }

    /// Signing with the nonce's extra seed given: deterministic for a given `extra`.
    pub(super) fn sign_digest_hedged(
        &self,
        digest_le: &[u8],
        extra: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let curve = self.curve;
        let qp = curve.q_params.ok_or(CryptoError::Signing)?;
        let h = from_le(digest_le).ok_or(CryptoError::Signing)?;
        let e = digest_scalar(&h, qp);
        let mut d = Zeroizing::new(from_le(&self.d_le).ok_or(CryptoError::Signing)?);
        let mut nonces = NonceStream::new(curve, &d, &e.retrieve(), extra);
        // r = 0 or s = 0 happens with probability ~2^-511; the bound only guards a broken curve.
        for _ in 0..16 {
            let mut k = Zeroizing::new(nonces.next());
            if let Some(signature) = self.sign_with_nonce(&d, &e, &k) {
                d.zeroize();
                k.zeroize();
                return Ok(signature);
            }
        }
        Err(CryptoError::Signing)
    }

    /// §6.1 steps 4–6 for one nonce k: C = k·G, r = x_C mod q, s = (r·d + k·e) mod q.
    /// None if r or s is zero (the caller takes the next k).
    pub(super) fn sign_with_nonce(&self, d: &U512, e: &Scalar, k: &U512) -> Option<Vec<u8>> {
        let curve = self.curve;
        let qp = curve.q_params?;
        let (x, _) = constant_time::mul(curve, k, &curve.gx, &curve.gy)?;
        let r = Scalar::new(&x, qp);
        let s = r.mul(&Scalar::new(d, qp)).add(&Scalar::new(k, qp).mul(e));
        if r.is_zero() || s.is_zero() {
            return None;
        }
        let mut out = to_le(&r.retrieve(), curve.size);
        out.extend_from_slice(&to_le(&s.retrieve(), curve.size));
        Some(out)
    }

    /// Test hook: the signature for a given k (the RFC 7091 examples fix k).
    #[cfg(test)]
    pub(super) fn sign_digest_with_k(&self, digest_le: &[u8], k: &U512) -> Option<Vec<u8>> {
        let e = digest_scalar(&from_le(digest_le)?, self.curve.q_params?);
        let d = from_le(&self.d_le)?;
        self.sign_with_nonce(&d, &e, k)
    }
}

/// RFC 6979 §3.2 HMAC-DRBG (HMAC-SHA-512) yielding candidates k with 1 ≤ k < q.
struct NonceStream {
    key: hmac::Key,
    v: Zeroizing<[u8; 64]>,
    q: U512,
    qlen: u32,
}

impl NonceStream {
    /// Seeds with int2octets(d) ‖ bits2octets(e) ‖ extra, both integers as 64-byte big-endian.
    fn new(curve: &Curve, d: &U512, e: &U512, extra: &[u8]) -> Self {
        let d_be = Zeroizing::new(d.to_be_bytes());
        let e_be = e.to_be_bytes();
        let mut v = Zeroizing::new([1u8; 64]);
        let mut key = hmac::Key::new(hmac::HMAC_SHA512, &[0u8; 64]);
        for separator in [0u8, 1u8] {
            let mut ctx = hmac::Context::with_key(&key);
            for part in [&v[..], &[separator], &d_be[..], &e_be[..], extra] {
                ctx.update(part);
            }
            key = hmac::Key::new(hmac::HMAC_SHA512, ctx.sign().as_ref());
            let next = hmac::sign(&key, &v[..]);
            v.copy_from_slice(next.as_ref());
        }
        NonceStream {
            key,
            v,
            q: curve.q,
            qlen: curve.q.bits_vartime() as u32,
        }
    }

    /// The next k in [1, q). One HMAC output (512 bits) covers qlen ≤ 512; bits2int keeps its
    /// leftmost qlen bits.
    fn next(&mut self) -> U512 {
        loop {
            self.step_v();
            let k = U512::from_be_slice(&self.v[..]).shr_vartime(512 - self.qlen as usize);
            if k != U512::ZERO && k < self.q {
                return k;
            }
            let mut ctx = hmac::Context::with_key(&self.key);
            ctx.update(&self.v[..]);
            ctx.update(&[0u8]);
            self.key = hmac::Key::new(hmac::HMAC_SHA512, ctx.sign().as_ref());
            self.step_v();
        }
    }

    /// V = HMAC_K(V).
    fn step_v(&mut self) {
        let next = hmac::sign(&self.key, &self.v[..]);
        self.v.copy_from_slice(next.as_ref());
    }
}
