//! GOST R 34.10-2012 signature verification (with the Streebog / GOST R 34.11-2012 digest), as
//! NCA RK (the National Certification Authority of Kazakhstan) uses it under its own OIDs.
//!
//! Verification only: there is no secret here, so the arithmetic is plain (not constant-time)
//! big-integer arithmetic from `num-bigint-dig` (already in the tree through `rsa`), on Jacobian
//! coordinates, with Shamir's trick for `z1·P + z2·Q`.
//!
//! Byte order, as NCA (and every GOST X.509 profile) writes things:
//! - the Streebog digest bytes are read as a **little-endian** integer;
//! - the public key is X then Y, each little-endian, 64 bytes each for the 512-bit curves (in the
//!   certificate: the SubjectPublicKeyInfo BIT STRING holds a DER OCTET STRING of those 128 bytes);
//! - the signature is r then s, each little-endian, 64 bytes each.

use std::sync::OnceLock;

use num_bigint_dig::BigUint;
use num_traits::{One, Zero};
use streebog::Digest as _;

/// NCA RK: GOST R 34.10-2015 (= 2012) 512-bit public key.
pub const OID_NCA_GOST_512_PUBLIC_KEY: &str = "1.2.398.3.10.1.1.2.2";
/// NCA RK: the public key parameters (the curve id-tc26-gost-3410-12-512-paramSetA).
pub const OID_NCA_GOST_512_PARAMS: &str = "1.2.398.3.10.1.1.2.2.1";
/// NCA RK: the GOST 34.11-2015 (Streebog) 512-bit digest.
pub const OID_NCA_GOST_512_DIGEST: &str = "1.2.398.3.10.1.3.3";
/// NCA RK: GOST 34.10-2015 512-bit signature with the Streebog-512 digest.
pub const OID_NCA_GOST_512_SIGNATURE: &str = "1.2.398.3.10.1.1.2.3.2";

/// Short Weierstrass curve y² = x³ + a·x + b over F_p, with a base point (x, y) of prime order q.
#[derive(Debug, Clone)]
pub struct Curve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
    q: BigUint,
    gx: BigUint,
    gy: BigUint,
    /// Size in bytes of a coordinate / of r and s (32 or 64).
    size: usize,
}

/// Parse a hexadecimal constant. The constants are fixed and tested (the base point must lie on
/// its curve), so a bad one shows up as a failing test, never as a panic.
fn hex(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

impl Curve {
    /// Build a curve from hexadecimal (big-endian) p, a, b, q, x, y.
    pub fn from_hex(p: &str, a: &str, b: &str, q: &str, x: &str, y: &str, size: usize) -> Self {
        Curve {
            p: hex(p),
            a: hex(a),
            b: hex(b),
            q: hex(q),
            gx: hex(x),
            gy: hex(y),
            size,
        }
    }

    /// id-tc26-gost-3410-12-512-paramSetA (OID 1.2.643.7.1.2.1.2.1), RFC 7836 Appendix A.1 /
    /// TC26 R 1323565.1.024-2019. Values as published there (cross-checked with
    /// tls-attacker/TLS-Attacker `EllipticCurveGost2012SetA512.java`).
    pub fn tc26_512_a() -> &'static Curve {
        static CURVE: OnceLock<Curve> = OnceLock::new();
        CURVE.get_or_init(|| {
            Curve::from_hex(
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
                 FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
                 FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
                "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265\
                 EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
                 27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
                "3",
                "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921\
                 DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
                64,
            )
        })
    }

    /// Is the affine point (x, y) on the curve, with coordinates in [0, p)?
    pub fn contains(&self, x: &BigUint, y: &BigUint) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        let lhs = (y * y) % &self.p;
        let rhs = (x * x * x + &self.a * x + &self.b) % &self.p;
        lhs == rhs
    }

    fn add_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x + y) % &self.p
    }

    fn sub_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x + &self.p - y) % &self.p
    }

    fn mul_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x * y) % &self.p
    }

    fn double(&self, pt: &Jacobian) -> Jacobian {
        if pt.z.is_zero() || pt.y.is_zero() {
            return Jacobian::infinity();
        }
        let xx = self.mul_mod(&pt.x, &pt.x);
        let yy = self.mul_mod(&pt.y, &pt.y);
        let yyyy = self.mul_mod(&yy, &yy);
        let zz = self.mul_mod(&pt.z, &pt.z);
        let s = self.mul_mod(&(BigUint::from(4u32) * &pt.x), &yy);
        let m = self.add_mod(
            &(BigUint::from(3u32) * xx),
            &self.mul_mod(&self.a, &self.mul_mod(&zz, &zz)),
        );
        let x3 = self.sub_mod(
            &self.mul_mod(&m, &m),
            &((BigUint::from(2u32) * &s) % &self.p),
        );
        let y3 = self.sub_mod(
            &self.mul_mod(&m, &self.sub_mod(&s, &x3)),
            &((BigUint::from(8u32) * yyyy) % &self.p),
        );
        let z3 = self.mul_mod(&(BigUint::from(2u32) * &pt.y), &pt.z);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    fn add(&self, p1: &Jacobian, p2: &Jacobian) -> Jacobian {
        if p1.z.is_zero() {
            return p2.clone();
        }
        if p2.z.is_zero() {
            return p1.clone();
        }
        let z1z1 = self.mul_mod(&p1.z, &p1.z);
        let z2z2 = self.mul_mod(&p2.z, &p2.z);
        let u1 = self.mul_mod(&p1.x, &z2z2);
        let u2 = self.mul_mod(&p2.x, &z1z1);
        let s1 = self.mul_mod(&p1.y, &self.mul_mod(&p2.z, &z2z2));
        let s2 = self.mul_mod(&p2.y, &self.mul_mod(&p1.z, &z1z1));
        let h = self.sub_mod(&u2, &u1);
        let r = self.sub_mod(&s2, &s1);
        if h.is_zero() {
            return if r.is_zero() {
                self.double(p1)
            } else {
                Jacobian::infinity()
            };
        }
        let hh = self.mul_mod(&h, &h);
        let hhh = self.mul_mod(&hh, &h);
        let u1hh = self.mul_mod(&u1, &hh);
        let x3 = self.sub_mod(
            &self.sub_mod(&self.mul_mod(&r, &r), &hhh),
            &self.add_mod(&u1hh, &u1hh),
        );
        let y3 = self.sub_mod(
            &self.mul_mod(&r, &self.sub_mod(&u1hh, &x3)),
            &self.mul_mod(&s1, &hhh),
        );
        let z3 = self.mul_mod(&h, &self.mul_mod(&p1.z, &p2.z));
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// k1·P1 + k2·P2 (Shamir's trick), as an affine x coordinate; None at infinity.
    fn double_mul_x(
        &self,
        k1: &BigUint,
        p1: &Jacobian,
        k2: &BigUint,
        p2: &Jacobian,
    ) -> Option<BigUint> {
        let sum = self.add(p1, p2);
        let bits = k1.bits().max(k2.bits());
        let mut acc = Jacobian::infinity();
        for i in (0..bits).rev() {
            acc = self.double(&acc);
            let b1 = bit(k1, i);
            let b2 = bit(k2, i);
            acc = match (b1, b2) {
                (true, true) => self.add(&acc, &sum),
                (true, false) => self.add(&acc, p1),
                (false, true) => self.add(&acc, p2),
                (false, false) => acc,
            };
        }
        if acc.z.is_zero() {
            return None;
        }
        // x = X / Z², by Fermat (p is prime).
        let zz = self.mul_mod(&acc.z, &acc.z);
        let inv = zz.modpow(&(&self.p - BigUint::from(2u32)), &self.p);
        Some(self.mul_mod(&acc.x, &inv))
    }

    /// GOST R 34.10-2012 §6.2 verification, on integers: digest value `h` (already an integer),
    /// public key (qx, qy), signature (r, s).
    pub fn verify_integers(
        &self,
        h: &BigUint,
        qx: &BigUint,
        qy: &BigUint,
        r: &BigUint,
        s: &BigUint,
    ) -> bool {
        let q = &self.q;
        if q.is_zero() || r.is_zero() || s.is_zero() || r >= q || s >= q {
            return false;
        }
        if !self.contains(qx, qy) || !self.contains(&self.gx, &self.gy) {
            return false;
        }
        let mut e = h % q;
        if e.is_zero() {
            e = BigUint::one();
        }
        // q is prime: v = e^(q-2) mod q.
        let v = e.modpow(&(q - BigUint::from(2u32)), q);
        let z1 = (s * &v) % q;
        let z2 = (q - (r * &v) % q) % q;
        let g = Jacobian::affine(self.gx.clone(), self.gy.clone());
        let pk = Jacobian::affine(qx.clone(), qy.clone());
        match self.double_mul_x(&z1, &g, &z2, &pk) {
            Some(x) => &(x % q) == r,
            None => false,
        }
    }

    /// Verification with NCA's byte order: `digest_le` is the Streebog output read as a
    /// little-endian integer, `public_key_xy_le` is X‖Y and `signature_rs_le` is r‖s, every part
    /// `size` bytes little-endian. Wrong lengths give false.
    pub fn verify_le(
        &self,
        public_key_xy_le: &[u8],
        digest_le: &[u8],
        signature_rs_le: &[u8],
    ) -> bool {
        let n = self.size;
        if public_key_xy_le.len() != 2 * n || signature_rs_le.len() != 2 * n {
            return false;
        }
        let (x, y) = public_key_xy_le.split_at(n);
        let (r, s) = signature_rs_le.split_at(n);
        self.verify_integers(
            &BigUint::from_bytes_le(digest_le),
            &BigUint::from_bytes_le(x),
            &BigUint::from_bytes_le(y),
            &BigUint::from_bytes_le(r),
            &BigUint::from_bytes_le(s),
        )
    }
}

/// Bit `i` of `k`.
fn bit(k: &BigUint, i: usize) -> bool {
    ((k >> i) & BigUint::one()) == BigUint::one()
}

/// A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity.
#[derive(Debug, Clone)]
struct Jacobian {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

impl Jacobian {
    fn infinity() -> Self {
        Jacobian {
            x: BigUint::one(),
            y: BigUint::one(),
            z: BigUint::zero(),
        }
    }

    fn affine(x: BigUint, y: BigUint) -> Self {
        Jacobian {
            x,
            y,
            z: BigUint::one(),
        }
    }
}

/// Streebog-512 (GOST R 34.11-2012) of `message`, in the byte order the `streebog` crate gives
/// (the standard's hexadecimal value reversed), which GOST signatures read as little-endian.
pub fn streebog512(message: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(&streebog::Streebog512::digest(message));
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

#[cfg(test)]
#[path = "gost_tests.rs"]
mod tests;
