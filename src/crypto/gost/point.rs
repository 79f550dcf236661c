//! Variable-time point arithmetic for verification (no secret is involved): Jacobian
//! coordinates, and k1·P1 + k2·P2 by interleaved width-5 NAF (about 170 additions for two
//! 512-bit scalars instead of about 380 with plain double-and-add).

use crypto_bigint::U512;

use super::field::{Field, FieldElement};

/// (X : Y : Z) with x = X/Z², y = Y/Z³; Z = 0 is the point at infinity.
#[derive(Clone, Copy)]
pub(super) struct Jacobian<E> {
    x: E,
    y: E,
    z: E,
}

/// The curve's `a` as the doubling formula wants it.
pub(super) enum CoefficientA<E> {
    /// a = −3 (NCA's 512-bit curve): M = 3·(X − Z²)·(X + Z²) saves two multiplications.
    MinusThree,
    Other(E),
}

impl<E: FieldElement> Jacobian<E> {
    pub(super) fn infinity<F: Field<Element = E>>(f: &F) -> Self {
        Jacobian {
            x: f.one(),
            y: f.one(),
            z: f.zero(),
        }
    }

    pub(super) fn affine<F: Field<Element = E>>(f: &F, x: &U512, y: &U512) -> Self {
        Jacobian {
            x: f.element(x),
            y: f.element(y),
            z: f.one(),
        }
    }

    fn negate<F: Field<Element = E>>(&self, f: &F) -> Self {
        Jacobian {
            y: f.zero().sub(&self.y),
            ..*self
        }
    }

    pub(super) fn double(&self, a: &CoefficientA<E>) -> Self {
        if self.z.is_zero() {
            return *self;
        }
        if self.y.is_zero() {
            // A point of order two doubles to infinity: Z = 0 (Y is zero, so take it).
            return Jacobian { z: self.y, ..*self };
        }
        let yy = self.y.square();
        let zz = self.z.square();
        let m = match a {
            CoefficientA::MinusThree => {
                let t = self.x.sub(&zz).mul(&self.x.add(&zz));
                t.double().add(&t)
            }
            CoefficientA::Other(a) => {
                let xx = self.x.square();
                xx.double().add(&xx).add(&a.mul(&zz.square()))
            }
        };
        // S = 4·X·YY; X3 = M² − 2S; Y3 = M·(S − X3) − 8·YY²; Z3 = 2·Y·Z
        let s = self.x.mul(&yy).double().double();
        let x3 = m.square().sub(&s.double());
        let y3 = m
            .mul(&s.sub(&x3))
            .sub(&yy.square().double().double().double());
        Jacobian {
            x: x3,
            y: y3,
            z: self.y.mul(&self.z).double(),
        }
    }

    pub(super) fn add(&self, other: &Self, a: &CoefficientA<E>) -> Self {
        if self.z.is_zero() {
            return *other;
        }
        if other.z.is_zero() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(&other.z.mul(&z2z2));
        let s2 = other.y.mul(&self.z.mul(&z1z1));
        let h = u2.sub(&u1);
        let r = s2.sub(&s1);
        if h.is_zero() {
            return if r.is_zero() {
                self.double(a)
            } else {
                Jacobian { z: h, ..*self }
            };
        }
        let hh = h.square();
        let hhh = hh.mul(&h);
        let u1hh = u1.mul(&hh);
        let x3 = r.square().sub(&hhh).sub(&u1hh.double());
        let y3 = r.mul(&u1hh.sub(&x3)).sub(&s1.mul(&hhh));
        Jacobian {
            x: x3,
            y: y3,
            z: h.mul(&self.z.mul(&other.z)),
        }
    }

    /// The affine x coordinate; None at infinity.
    pub(super) fn x_affine(&self) -> Option<U512> {
        let inverse = self.z.square().invert()?;
        Some(self.x.mul(&inverse).retrieve())
    }
}

/// Width-5 NAF digits of `k`, least significant first: each digit is 0 or odd in [−15, 15],
/// and any two non-zero digits are at least 5 positions apart.
fn wnaf(k: &U512) -> Vec<i8> {
    let mut digits = Vec::with_capacity(514);
    let mut k = *k;
    let mut extra = false; // a carry out of bit 511 (k + 16 may exceed 2^512)
    while k != U512::ZERO || extra {
        let low = (k.as_words()[0] & 0x1f) as i8;
        if k.bit_vartime(0) {
            let digit = if low >= 16 { low - 32 } else { low };
            digits.push(digit);
            // k −= digit: for a negative digit that is an addition, which may carry out.
            if digit > 0 {
                k = k.wrapping_sub(&U512::from_u8(digit as u8));
            } else {
                let (sum, carry) = k.adc(&U512::from_u8((-digit) as u8), crypto_bigint::Limb::ZERO);
                k = sum;
                extra |= carry.0 != 0;
            }
        } else {
            digits.push(0);
        }
        k = k.shr_vartime(1);
        if extra {
            k = k.bitor(&U512::ONE.shl_vartime(511));
            extra = false;
        }
    }
    digits
}

/// P, 3P, 5P, …, 15P.
fn odd_multiples<E: FieldElement>(p: &Jacobian<E>, a: &CoefficientA<E>) -> [Jacobian<E>; 8] {
    let twice = p.double(a);
    let mut table = [*p; 8];
    for i in 1..8 {
        table[i] = table[i - 1].add(&twice, a);
    }
    table
}

/// k1·P1 + k2·P2 as an affine x coordinate; None at infinity.
pub(super) fn linear_combination_x<F: Field>(
    f: &F,
    a: &CoefficientA<F::Element>,
    k1: &U512,
    p1: &Jacobian<F::Element>,
    k2: &U512,
    p2: &Jacobian<F::Element>,
) -> Option<U512> {
    let (naf1, naf2) = (wnaf(k1), wnaf(k2));
    let (table1, table2) = (odd_multiples(p1, a), odd_multiples(p2, a));
    let mut acc = Jacobian::infinity(f);
    for i in (0..naf1.len().max(naf2.len())).rev() {
        acc = acc.double(a);
        for (naf, table) in [(&naf1, &table1), (&naf2, &table2)] {
            match naf.get(i).copied().unwrap_or(0) {
                0 => {}
                d if d > 0 => acc = acc.add(&table[(d / 2) as usize], a),
                d => acc = acc.add(&table[(-d / 2) as usize].negate(f), a),
            }
        }
    }
    acc.x_affine()
}
