//! Constant-time `k·P` for signing and key generation, where `k` is a secret.
//!
//! Timing must not depend on `k`, so nothing here branches on it or indexes memory by it:
//! - k·G on NCA's two curves (every signature, every key generated) is
//!   [`super::fixed_base`]'s table walk: no doubling, one complete mixed addition per 4 bits;
//! - any other point or curve: points are in homogeneous projective coordinates and added with
//!   the *complete* formulas of [`super::complete`], which give the right answer for doubling
//!   and for the point at infinity without a special case; the scalar is read in fixed 4-bit
//!   windows, always as many as the curve's size (not as many as `k` has bits), and each table
//!   entry is chosen by a constant-time select over all 16;
//! - field arithmetic and inversion never branch on values (see [`super::field`]).

use crypto_bigint::subtle::{ConditionallySelectable, ConstantTimeEq};
use crypto_bigint::{Limb, Word, U512};

use super::complete::{add, Constants, Projective};
use super::curve::on_field;
use super::curve::Curve;
use super::field::{Field, FieldElement, Montgomery, FP256, FP512, P256_CRYPTOPRO, P512};
use super::fixed_base;

/// `k·(x, y)` as an affine point, in constant time with respect to `k` (which must be below
/// 2^(8·size)). None when the result is the point at infinity (k ≡ 0 modulo the point's order)
/// or the curve is malformed; (x, y) must be a point of the curve's prime-order subgroup.
pub(super) fn mul(curve: &Curve, k: &U512, x: &U512, y: &U512) -> Option<(U512, U512)> {
    on_field!(curve, mul_on(curve, k, x, y)).flatten()
}

fn mul_on<F: Field>(curve: &Curve, f: &F, k: &U512, x: &U512, y: &U512) -> Option<(U512, U512)> {
    // Signing and key generation multiply G: NCA's curves have its table (the point compared
    // is public, the scalar is not looked at).
    if (x, y) == (&curve.gx, &curve.gy) {
        if let Some(tables) = fixed_base::base_tables::<F::Element>(curve) {
            return to_affine(&tables.mul(f, k));
        }
    }
    windowed(curve, f, k, x, y)
}

/// The generic path without the fixed-base table, for the tests that compare the two.
#[cfg(test)]
pub(super) fn mul_without_tables(
    curve: &Curve,
    k: &U512,
    x: &U512,
    y: &U512,
) -> Option<(U512, U512)> {
    on_field!(curve, windowed(curve, k, x, y)).flatten()
}

/// k·P by fixed 4-bit windows over a table of 0·P…15·P and the complete formulas of any a.
fn windowed<F: Field>(curve: &Curve, f: &F, k: &U512, x: &U512, y: &U512) -> Option<(U512, U512)> {
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
    to_affine(&acc)
}

/// (X/Z, Y/Z) by one constant-time inversion; None at infinity (Z = 0 has no inverse).
fn to_affine<E: FieldElement>(point: &Projective<E>) -> Option<(U512, U512)> {
    let z_inv = point.z.invert()?;
    Some((
        point.x.mul(&z_inv).retrieve(),
        point.y.mul(&z_inv).retrieve(),
    ))
}
