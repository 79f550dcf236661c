//! Complete addition formulas in homogeneous projective coordinates, for the constant-time
//! scalar multiplications: Renes, Costello and Batina, "Complete addition formulas for prime
//! order elliptic curves" (ePrint 2015/1060). One formula gives the right sum for P + Q, for
//! P + P and with the point at infinity, so a secret-dependent case never picks a code path.
//!
//! - [`add`]: Algorithm 1, any `a` (12M + 3 multiplications by a + 2 by 3b);
//! - [`add_affine_minus3`]: Algorithm 5, a = −3, Q affine (11M + 2 multiplications by b) —
//!   the fixed-base signing loop, whose table of multiples of G is affine.
//!
//! The formulas are complete on curves without points of order two; on a curve with a cofactor
//! (the 256-bit set A has 4) they stay exact for points of the prime-order subgroup, which are
//! the only ones used here.

use crypto_bigint::subtle::{Choice, ConditionallySelectable};

use super::field::FieldElement;

/// (X : Y : Z) with x = X/Z, y = Y/Z; (0 : 1 : 0) is the point at infinity.
#[derive(Clone, Copy)]
pub(super) struct Projective<E> {
    pub(super) x: E,
    pub(super) y: E,
    pub(super) z: E,
}

/// An affine point (x, y) of a precomputed table; never the point at infinity.
#[derive(Clone, Copy)]
pub(super) struct Affine<E> {
    pub(super) x: E,
    pub(super) y: E,
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

impl<E: FieldElement> ConditionallySelectable for Affine<E> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Affine {
            x: E::conditional_select(&a.x, &b.x, choice),
            y: E::conditional_select(&a.y, &b.y, choice),
        }
    }
}

/// The curve constants Algorithm 1 needs.
pub(super) struct Constants<E> {
    pub(super) a: E,
    pub(super) b3: E,
}

/// 3·v by two additions.
fn triple<E: FieldElement>(v: &E) -> E {
    v.double().add(v)
}

/// P + Q by Algorithm 1 (any a).
pub(super) fn add<E: FieldElement>(
    c: &Constants<E>,
    p: &Projective<E>,
    q: &Projective<E>,
) -> Projective<E> {
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

/// The end of Algorithms 4 and 5 once the pairwise products are known: with
/// xx = X1X2, yy = Y1Y2, zz = Z1Z2, xy = X1Y2 + X2Y1, yz = Y1Z2 + Y2Z1, xz = X1Z2 + X2Z1.
fn finish_minus3<E: FieldElement>(
    b: &E,
    xx: E,
    yy: E,
    zz: E,
    xy: E,
    yz: E,
    xz: E,
) -> Projective<E> {
    // With a = −3 the a·(…) terms of Algorithm 1 become subtractions of 3·(…).
    let bzz = triple(&xz.sub(&b.mul(&zz)));
    let yy_minus = yy.sub(&bzz);
    let yy_plus = yy.add(&bzz);
    let zz3 = triple(&zz);
    let bxz = triple(&b.mul(&xz).sub(&zz3).sub(&xx));
    let xx3_minus_zz3 = triple(&xx).sub(&zz3);
    Projective {
        x: yy_plus.mul(&xy).sub(&yz.mul(&bxz)),
        y: yy_plus.mul(&yy_minus).add(&xx3_minus_zz3.mul(&bxz)),
        z: yy_minus.mul(&yz).add(&xy.mul(&xx3_minus_zz3)),
    }
}

/// P + Q by Algorithm 5 (a = −3, Q affine so Z2 = 1). Q must not be the point at infinity
/// (which has no affine form); P may be.
pub(super) fn add_affine_minus3<E: FieldElement>(
    b: &E,
    p: &Projective<E>,
    q: &Affine<E>,
) -> Projective<E> {
    let xx = p.x.mul(&q.x);
    let yy = p.y.mul(&q.y);
    let xy = p.x.add(&p.y).mul(&q.x.add(&q.y)).sub(&xx.add(&yy));
    let yz = q.y.mul(&p.z).add(&p.y);
    let xz = q.x.mul(&p.z).add(&p.x);
    finish_minus3(b, xx, yy, p.z, xy, yz, xz)
}
