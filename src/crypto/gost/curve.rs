//! The curves (domain parameters) and GOST R 34.10-2012 §6.2 verification.
//!
//! Integers are 512-bit `crypto-bigint` values, so any curve with p, q below 2^512 works: NCA's
//! 512-bit set A, the 256-bit set A and the standard's example curves. Field arithmetic picks
//! [`super::field`]'s fast path for NCA's p and Montgomery residues otherwise; arithmetic modulo q
//! (a few operations per signature) is always Montgomery residues. Point arithmetic for
//! verification is in [`super::point`].

use std::sync::OnceLock;

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::U512;

use super::field::{Field, FieldElement, Montgomery, FP256, FP512, P256_CRYPTOPRO, P512};
use super::point::{self, CoefficientA, Jacobian};
use super::{fixed_base, from_le, modinv};

/// `$run(curve_args…, field, args…)` on the curve's field: the pseudo-Mersenne fast path for
/// NCA's two primes, Montgomery residues for any other odd p; `Some` of the result, or None if
/// p is even (no field). The field is passed as the second argument (after the curve).
macro_rules! on_field {
    ($curve:expr, $run:ident($first:expr, $($arg:expr),*)) => {
        if $curve.p == P512 {
            Some($run($first, &FP512, $($arg),*))
        } else if $curve.p == P256_CRYPTOPRO {
            Some($run($first, &FP256, $($arg),*))
        } else {
            $curve.p_params.map(|params| $run($first, &Montgomery(params), $($arg),*))
        }
    };
}
pub(super) use on_field;

/// An integer modulo q, in Montgomery form.
pub(super) type Scalar = DynResidue<{ U512::LIMBS }>;
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
    /// Montgomery parameters for p and q, computed once (None if a modulus is even: such a
    /// curve verifies nothing).
    pub(super) p_params: Option<FieldParams>,
    pub(super) q_params: Option<FieldParams>,
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
fn montgomery(modulus: &U512) -> Option<FieldParams> {
    if !modulus.bit_vartime(0) {
        return None;
    }
    Some(FieldParams::new(modulus))
}

impl Curve {
    /// Build a curve from hexadecimal (big-endian) p, a, b, q, x, y.
    pub fn from_hex(p: &str, a: &str, b: &str, q: &str, x: &str, y: &str, size: usize) -> Self {
        let (p, q) = (hex(p), hex(q));
        Curve {
            p,
            a: hex(a),
            b: hex(b),
            q,
            gx: hex(x),
            gy: hex(y),
            size,
            p_params: montgomery(&p),
            q_params: montgomery(&q),
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

    /// id-GostR3410-2001-CryptoPro-A-ParamSet (OID 1.2.643.2.2.35.1), RFC 4357 §11.4: the curve
    /// of NCA's GOST 34.310-2004 keys (NCA names it 1.2.398.3.10.1.1.1.1.1). a = −3,
    /// p = 2^256 − 617. Checked by NCA's real certificates verifying and by RFC 4357's base point
    /// lying on the curve with order q.
    pub fn cryptopro_a() -> &'static Curve {
        static CURVE: OnceLock<Curve> = OnceLock::new();
        CURVE.get_or_init(|| {
            Curve::from_hex(
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
                "A6",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
                "1",
                "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
                32,
            )
        })
    }

    /// Is the affine point (x, y) on the curve, with coordinates in [0, p)?
    pub fn contains(&self, x: &U512, y: &U512) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        fn on<F: Field>(curve: &Curve, f: &F, x: &U512, y: &U512) -> bool {
            let (x, y) = (f.element(x), f.element(y));
            let (a, b) = (f.element(&curve.a), f.element(&curve.b));
            let rhs = x.square().mul(&x).add(&a.mul(&x)).add(&b);
            y.square().sub(&rhs).is_zero()
        }
        on_field!(self, on(self, x, y)).unwrap_or(false)
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
        let Some(qp) = self.q_params else {
            return false;
        };
        let e = digest_scalar(h, qp);
        // q is prime: the inverse exists for e ≠ 0 (which digest_scalar guarantees).
        let Some(v) = invert_vartime(&e.retrieve(), q) else {
            return false;
        };
        let v = Scalar::new(&v, qp);
        let z1 = Scalar::new(s, qp).mul(&v).retrieve();
        let z2 = Scalar::new(r, qp).mul(&v).neg().retrieve();
        // C = z1·G + z2·Q; valid if x_C mod q = r.
        fn run<F: Field>(
            curve: &Curve,
            f: &F,
            (z1, z2): (&U512, &U512),
            (x, y): (&U512, &U512),
            r: &U512,
        ) -> bool {
            curve
                .base_and_point(f, z1, z2, x, y)
                .x_mod_q_is(f, r, &curve.q, &curve.p)
        }
        on_field!(self, run(self, (&z1, &z2), (qx, qy), r)).unwrap_or(false)
    }

    /// k1·G + k2·(x, y) in Jacobian coordinates (variable time), with G's precomputed table
    /// when the curve has one.
    fn base_and_point<F: Field>(
        &self,
        f: &F,
        k1: &U512,
        k2: &U512,
        x: &U512,
        y: &U512,
    ) -> Jacobian<F::Element> {
        let a = self.coefficient_a(f);
        let g = Jacobian::affine(f, &self.gx, &self.gy);
        let q = Jacobian::affine(f, x, y);
        let g_odd = fixed_base::base_tables::<F::Element>(self)
            .map(|tables| (&tables.odd[..], fixed_base::G_NAF_WIDTH));
        point::linear_combination(f, &a, k1, &g, g_odd, k2, &q)
    }

    /// k1·G + k2·(x, y) as an affine x coordinate (variable time), on the fast field for NCA's
    /// curves and on Montgomery residues for any other; None at infinity. (Verification compares
    /// without the inversion this takes; the tests check sums with it.)
    #[cfg(test)]
    pub(super) fn base_and_point_x(
        &self,
        k1: &U512,
        k2: &U512,
        x: &U512,
        y: &U512,
    ) -> Option<U512> {
        fn run<F: Field>(
            curve: &Curve,
            f: &F,
            k1: &U512,
            k2: &U512,
            x: &U512,
            y: &U512,
        ) -> Option<U512> {
            curve.base_and_point(f, k1, k2, x, y).x_affine()
        }
        on_field!(self, run(self, k1, k2, x, y)).flatten()
    }

    /// a as the doubling formula wants it (a = −3 has a shortcut).
    pub(super) fn coefficient_a<F: Field>(&self, f: &F) -> CoefficientA<F::Element> {
        if self.a.wrapping_add(&U512::from_u8(3)) == self.p {
            CoefficientA::MinusThree
        } else {
            CoefficientA::Other(f.element(&self.a))
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

/// a⁻¹ mod m for an odd m and 0 < a < m, in variable time ([`modinv`]'s safegcd), for public
/// values only (verification's e): an order of magnitude faster than the constant-time
/// inversion. None if a is 0 or shares a factor with m.
pub(super) fn invert_vartime(a: &U512, m: &U512) -> Option<U512> {
    modinv::invert(a, m)
}

/// e = h mod q, or 1 if that is 0 (GOST R 34.10-2012 §6.1 step 2 and §6.2 step 3).
pub(super) fn digest_scalar(h: &U512, q_params: FieldParams) -> Scalar {
    let e = Scalar::new(h, q_params);
    if e.is_zero() {
        Scalar::one(q_params)
    } else {
        e
    }
}
