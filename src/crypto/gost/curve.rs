//! The curves and variable-time verification arithmetic.
//!
//! Verification holds no secret, so its scalar loop is variable-time. Field and scalar
//! arithmetic is `crypto-bigint`'s Montgomery arithmetic on 512-bit integers (any odd modulus
//! below 2^512, so the 256-bit curves work too); points are in Jacobian coordinates and
//! `z1·P + z2·Q` uses Shamir's trick.

use std::sync::OnceLock;

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::U512;

use super::from_le;

/// An element of F_p (p below 2^512) in Montgomery form.
pub(super) type Fe = DynResidue<{ U512::LIMBS }>;
/// An integer modulo q, in Montgomery form (same representation, other modulus).
pub(super) type Scalar = Fe;
pub(super) type FieldParams = DynResidueParams<{ U512::LIMBS }>;

/// Short Weierstrass curve y² = x³ + a·x + b over F_p, with a base point (x, y) of prime order q.
#[derive(Debug, Clone)]
pub struct Curve {
    pub(super) p: U512,
    pub(super) a: U512,
    pub(super) b: U512,
    pub(super) q: U512,
    pub(super) gx: U512,
    pub(super) gy: U512,
    /// Size in bytes of a coordinate / of r and s (32 or 64).
    pub(super) size: usize,
}

/// Parse a big-endian hexadecimal number below 2^512; None if it is not one.
pub fn parse_hex(s: &str) -> Option<U512> {
    let digits = s.as_bytes();
    if digits.len() > 128 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 64];
    // Fill from the least significant end, two digits a byte.
    for (i, chunk) in digits.rchunks(2).enumerate() {
        let text = std::str::from_utf8(chunk).ok()?;
        out[63 - i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(U512::from_be_slice(&out))
}

/// A hexadecimal curve constant. The constants are fixed and tested (the base point must lie on
/// its curve), so a bad one shows up as a failing test, never as a panic.
fn hex(s: &str) -> U512 {
    parse_hex(s).unwrap_or(U512::ZERO)
}

/// Montgomery parameters for an odd modulus; None if it is even (`new` would panic).
pub(super) fn montgomery(modulus: &U512) -> Option<FieldParams> {
    if !modulus.bit_vartime(0) {
        return None;
    }
    Some(FieldParams::new(modulus))
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

    /// id-tc26-gost-3410-12-256-paramSetA (OID 1.2.643.7.1.2.1.1.1), RFC 7836 Appendix A.2 /
    /// R 50.1.114-2016, in its short Weierstrass form (cofactor 4, which verification does not
    /// need). Cross-checked with libgcrypt `ecc-curves.c` ("GOST2012-256-A") and libakrypt.
    pub fn tc26_256_a() -> &'static Curve {
        static CURVE: OnceLock<Curve> = OnceLock::new();
        CURVE.get_or_init(|| {
            Curve::from_hex(
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
                "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
                "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
                "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
                "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
                "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C",
                32,
            )
        })
    }

    /// Is the affine point (x, y) on the curve, with coordinates in [0, p)?
    pub fn contains(&self, x: &U512, y: &U512) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        let Some(params) = montgomery(&self.p) else {
            return false;
        };
        let (x, y) = (Fe::new(x, params), Fe::new(y, params));
        let (a, b) = (Fe::new(&self.a, params), Fe::new(&self.b, params));
        let rhs = x.square().mul(&x).add(&a.mul(&x)).add(&b);
        y.square() == rhs
    }

    fn double(&self, f: &Field, pt: &Jacobian) -> Jacobian {
        if is_zero(&pt.z) || is_zero(&pt.y) {
            return Jacobian::infinity(f.params);
        }
        let xx = pt.x.square();
        let yy = pt.y.square();
        let yyyy = yy.square();
        let zz = pt.z.square();
        // S = 4·X·YY, M = 3·XX + a·ZZ²
        let xyy = pt.x.mul(&yy);
        let s = xyy.add(&xyy).add(&xyy.add(&xyy));
        let m = xx.add(&xx).add(&xx).add(&f.a.mul(&zz.square()));
        // X3 = M² − 2S, Y3 = M·(S − X3) − 8·YYYY, Z3 = 2·Y·Z
        let x3 = m.square().sub(&s.add(&s));
        let y4 = yyyy.add(&yyyy);
        let y8 = y4.add(&y4);
        let y3 = m.mul(&s.sub(&x3)).sub(&y8.add(&y8));
        let yz = pt.y.mul(&pt.z);
        Jacobian {
            x: x3,
            y: y3,
            z: yz.add(&yz),
        }
    }

    fn add(&self, f: &Field, p1: &Jacobian, p2: &Jacobian) -> Jacobian {
        if is_zero(&p1.z) {
            return *p2;
        }
        if is_zero(&p2.z) {
            return *p1;
        }
        let z1z1 = p1.z.square();
        let z2z2 = p2.z.square();
        let u1 = p1.x.mul(&z2z2);
        let u2 = p2.x.mul(&z1z1);
        let s1 = p1.y.mul(&p2.z.mul(&z2z2));
        let s2 = p2.y.mul(&p1.z.mul(&z1z1));
        let h = u2.sub(&u1);
        let r = s2.sub(&s1);
        if is_zero(&h) {
            return if is_zero(&r) {
                self.double(f, p1)
            } else {
                Jacobian::infinity(f.params)
            };
        }
        let hh = h.square();
        let hhh = hh.mul(&h);
        let u1hh = u1.mul(&hh);
        let x3 = r.square().sub(&hhh).sub(&u1hh.add(&u1hh));
        let y3 = r.mul(&u1hh.sub(&x3)).sub(&s1.mul(&hhh));
        let z3 = h.mul(&p1.z.mul(&p2.z));
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// k1·P1 + k2·P2 (Shamir's trick), as an affine x coordinate; None at infinity.
    pub(super) fn double_mul_x(
        &self,
        f: &Field,
        k1: &U512,
        p1: &Jacobian,
        k2: &U512,
        p2: &Jacobian,
    ) -> Option<U512> {
        let sum = self.add(f, p1, p2);
        let bits = k1.bits_vartime().max(k2.bits_vartime());
        let mut acc = Jacobian::infinity(f.params);
        for i in (0..bits).rev() {
            acc = self.double(f, &acc);
            acc = match (k1.bit_vartime(i), k2.bit_vartime(i)) {
                (true, true) => self.add(f, &acc, &sum),
                (true, false) => self.add(f, &acc, p1),
                (false, true) => self.add(f, &acc, p2),
                (false, false) => acc,
            };
        }
        if is_zero(&acc.z) {
            return None;
        }
        // x = X / Z²
        let (inv, ok) = acc.z.square().invert();
        if !bool::from(ok) {
            return None;
        }
        Some(acc.x.mul(&inv).retrieve())
    }

    /// GOST R 34.10-2012 §6.2 verification, on integers: digest value `h` (already an integer),
    /// public key (qx, qy), signature (r, s).
    pub fn verify_integers(&self, h: &U512, qx: &U512, qy: &U512, r: &U512, s: &U512) -> bool {
        let q = &self.q;
        if r == &U512::ZERO || s == &U512::ZERO || r >= q || s >= q {
            return false;
        }
        if !self.contains(qx, qy) || !self.contains(&self.gx, &self.gy) {
            return false;
        }
        let (Some(qp), Some(pp)) = (montgomery(q), montgomery(&self.p)) else {
            return false;
        };
        // e = h mod q, or 1 if that is 0.
        let mut e = Scalar::new(h, qp);
        if is_zero(&e) {
            e = Scalar::one(qp);
        }
        // q is prime: the inverse exists for e ≠ 0.
        let (v, invertible) = e.invert();
        if !bool::from(invertible) {
            return false;
        }
        let z1 = Scalar::new(s, qp).mul(&v).retrieve();
        let z2 = Scalar::new(r, qp).mul(&v).neg().retrieve();
        let fe = |v: &U512| Fe::new(v, pp);
        let f = Field {
            params: pp,
            a: fe(&self.a),
        };
        let g = Jacobian::affine(fe(&self.gx), fe(&self.gy), pp);
        let pk = Jacobian::affine(fe(qx), fe(qy), pp);
        match self.double_mul_x(&f, &z1, &g, &z2, &pk) {
            // x_C mod q
            Some(x) => &Scalar::new(&x, qp).retrieve() == r,
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
        match (
            from_le(digest_le),
            from_le(x),
            from_le(y),
            from_le(r),
            from_le(s),
        ) {
            (Some(h), Some(x), Some(y), Some(r), Some(s)) => {
                self.verify_integers(&h, &x, &y, &r, &s)
            }
            _ => false,
        }
    }
}

/// A point in Jacobian coordinates (X/Z², Y/Z³) over F_p in Montgomery form; Z = 0 is the
/// point at infinity.
#[derive(Debug, Clone, Copy)]
pub(super) struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Jacobian {
    pub(super) fn infinity(params: FieldParams) -> Self {
        Jacobian {
            x: Fe::one(params),
            y: Fe::one(params),
            z: Fe::zero(params),
        }
    }

    pub(super) fn affine(x: Fe, y: Fe, params: FieldParams) -> Self {
        Jacobian {
            x,
            y,
            z: Fe::one(params),
        }
    }
}

/// F_p for one verification: the Montgomery parameters and the curve's `a`.
pub(super) struct Field {
    pub(super) params: FieldParams,
    pub(super) a: Fe,
}

/// Zero in Montgomery form is zero.
pub(super) fn is_zero(v: &Fe) -> bool {
    v.as_montgomery() == &U512::ZERO
}
