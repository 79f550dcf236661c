//! Constant-time `k·P` for signing and key generation, where `k` is a secret.
//!
//! Timing must not depend on `k`, so nothing here branches on it or indexes memory by it:
//! - points are in homogeneous projective coordinates and added with the *complete* formulas of
//!   Renes, Costello and Batina (ePrint 2015/1060, Algorithm 1, any `a`), which give the right
//!   answer for doubling and for the point at infinity without a special case;
//! - the scalar is read in fixed 4-bit windows, always as many as the curve's size (not as many
//!   as `k` has bits), and each table entry is chosen by a constant-time select over all 16;
//! - field arithmetic and inversion are `crypto-bigint`'s, which are constant-time.
//!
//! The formulas are complete for curves without points of order two; on a curve with a cofactor
//! (the 256-bit set A has 4) they stay exact for points of the prime-order subgroup, which are
//! the only ones used here.

use crypto_bigint::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use crypto_bigint::{Limb, Word, U512};

use super::curve::on_field;
use super::curve::Curve;
use super::field::{Field, FieldElement, Montgomery, FP256, FP512, P256_CRYPTOPRO, P512};

/// (X : Y : Z) with x = X/Z, y = Y/Z; (0 : 1 : 0) is the point at infinity.
#[derive(Clone, Copy)]
struct Projective<E> {
    x: E,
    y: E,
    z: E,
}

impl<E: FieldElement> ConditionallySelectable for Projective<E> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Projective {
            x: E::conditional_select(&a.x, &b.x, choice),
            y: E::conditional_select(&a.y, &b.y, choice),
            z: E::conditional_select(&a.z, &b.z, choice),
        }
    }
}

/// The curve constants the formulas need.
struct Constants<E> {
    a: E,
    b3: E,
}

/// P + Q by RCB Algorithm 1 (12M + 3·m_a + 2·m_3b): correct for P = Q and for infinity.
fn add<E: FieldElement>(c: &Constants<E>, p: &Projective<E>, q: &Projective<E>) -> Projective<E> {
    let (x1, y1, z1) = (&p.x, &p.y, &p.z);
    let (x2, y2, z2) = (&q.x, &q.y, &q.z);
    let mut t0 = x1.mul(x2);
    let mut t1 = y1.mul(y2);
    let mut t2 = z1.mul(z2);
    let mut t3 = x1.add(y1).mul(&x2.add(y2));
    let mut t4 = t0.add(&t1);
    t3 = t3.sub(&t4);
    t4 = x1.add(z1).mul(&x2.add(z2));
    let mut t5 = t0.add(&t2);
    t4 = t4.sub(&t5);
    t5 = y1.add(z1).mul(&y2.add(z2));
    let mut x3 = t1.add(&t2);
    t5 = t5.sub(&x3);
    let mut z3 = c.a.mul(&t4);
    x3 = c.b3.mul(&t2);
    z3 = x3.add(&z3);
    x3 = t1.sub(&z3);
    z3 = t1.add(&z3);
    let mut y3 = x3.mul(&z3);
    t1 = t0.add(&t0).add(&t0);
    t2 = c.a.mul(&t2);
    t4 = c.b3.mul(&t4);
    t1 = t1.add(&t2);
    t2 = c.a.mul(&t0.sub(&t2));
    t4 = t4.add(&t2);
    t0 = t1.mul(&t4);
    y3 = y3.add(&t0);
    t0 = t5.mul(&t4);
    x3 = t3.mul(&x3).sub(&t0);
    t0 = t3.mul(&t1);
    z3 = t5.mul(&z3).add(&t0);
    Projective {
        x: x3,
        y: y3,
        z: z3,
    }
}

/// `k·(x, y)` as an affine point, in constant time with respect to `k` (which must be below
/// 2^(8·size)). None when the result is the point at infinity (k ≡ 0 modulo the point's order)
/// or the curve is malformed; (x, y) must be a point of the curve's prime-order subgroup.
pub(super) fn mul(curve: &Curve, k: &U512, x: &U512, y: &U512) -> Option<(U512, U512)> {
    on_field!(curve, mul_on(curve, k, x, y)).flatten()
}

fn mul_on<F: Field>(curve: &Curve, f: &F, k: &U512, x: &U512, y: &U512) -> Option<(U512, U512)> {
    let constants = Constants {
        a: f.element(&curve.a),
        b3: f.element(&curve.b).mul(&f.element(&U512::from_u8(3))),
    };
    let infinity = Projective {
        x: f.zero(),
        y: f.one(),
        z: f.zero(),
    };
    let point = Projective {
        x: f.element(x),
        y: f.element(y),
        z: f.one(),
    };
    // table[i] = i·P for the 16 values of a window.
    let mut table = [infinity; 16];
    for i in 1..16 {
        table[i] = add(&constants, &table[i - 1], &point);
    }
    let words = k.as_words();
    let windows = curve.size * 2;
    let mut acc = infinity;
    for w in (0..windows).rev() {
        for _ in 0..4 {
            acc = add(&constants, &acc, &acc);
        }
        // The window's position is public; its value is not.
        let bit = w * 4;
        let nibble = (words[bit / Limb::BITS] >> (bit % Limb::BITS)) & 0xF;
        let mut entry = infinity;
        for (i, candidate) in table.iter().enumerate() {
            entry.conditional_assign(candidate, (i as Word).ct_eq(&nibble));
        }
        acc = add(&constants, &acc, &entry);
    }
    // At infinity Z = 0 has no inverse.
    let z_inv = acc.z.invert()?;
    Some((acc.x.mul(&z_inv).retrieve(), acc.y.mul(&z_inv).retrieve()))
}
