//! Variable-time point arithmetic for verification (no secret is involved): Jacobian
//! coordinates, and k1·G + k2·P by interleaved NAF — width 12 for G from a precomputed affine
//! table where [`super::fixed_base`] has one (about 39 mixed additions for 512 bits), width 5
//! for P (about 85), sharing one chain of doublings. P's eight odd multiples are made affine
//! by one variable-time inversion, so every addition is a mixed one (7M + 4S, against 11M + 3S
//! from Jacobian entries). The result is compared with r without an inversion.

use crypto_bigint::U512;

use super::complete::Affine;
use super::field::{Field, FieldElement};

/// A point with its Z² and Z³, which an addition of it would compute (Chudnovsky
/// coordinates): the public key's table saves a multiplication and a squaring per addition.
#[derive(Clone, Copy)]
struct Cached<E> {
    point: Jacobian<E>,
    zz: E,
    zzz: E,
}

impl<E: FieldElement> Cached<E> {
    fn new(point: &Jacobian<E>) -> Self {
        let zz = point.z.square();
        Cached {
            point: *point,
            zz,
            zzz: zz.mul(&point.z),
        }
    }
}

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
                // 3M + 5S in all (dbl-2001-b): Z3 below from (Y + Z)², not from Y·Z.
                // The subtractions of multiples are single passes (`sub_shl`, `sub2`).
                let m = self.x.sub(&zz).mul(&self.x.add(&zz)).times(3);
                let s = self.x.mul(&yy).times(4);
                let x3 = m.square().sub_shl(&s, 1);
                let y3 = m.mul(&s.sub(&x3)).sub_shl(&yy.square(), 3);
                let z3 = self.y.add(&self.z).square().sub2(&yy, &zz);
                return Jacobian {
                    x: x3,
                    y: y3,
                    z: z3,
                };
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
        self.add_cached(&Cached::new(other), a)
    }

    /// P + Q with Q's Z² and Z³ already known (a table entry used many times).
    fn add_cached(&self, cached: &Cached<E>, a: &CoefficientA<E>) -> Self {
        let other = &cached.point;
        if self.z.is_zero() {
            return *other;
        }
        if other.z.is_zero() {
            return *self;
        }
        let z1z1 = self.z.square();
        let u1 = self.x.mul(&cached.zz);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(&cached.zzz);
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

    /// P + Q for an affine Q (madd-2007-bl, 7M + 4S).
    fn add_affine<F: Field<Element = E>>(&self, f: &F, q: &Affine<E>, a: &CoefficientA<E>) -> Self {
        if self.z.is_zero() {
            return Jacobian {
                x: q.x,
                y: q.y,
                z: f.one(),
            };
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double(a)
            } else {
                Jacobian { z: h, ..*self }
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub_shl(&v, 1);
        let y3 = r.mul(&v.sub(&x3)).sub_shl(&self.y.mul(&j), 1);
        let z3 = self.z.add(&h).square().sub2(&z1z1, &hh);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Is the affine x coordinate, reduced modulo q, equal to r (with 0 < r < q)? Compares
    /// X with x·Z² for every candidate x = r, r + q, r + 2q, … below p (two at most on NCA's
    /// curves, where p < 2q; four on a curve with cofactor 4): no inversion.
    pub(super) fn x_mod_q_is<F: Field<Element = E>>(
        &self,
        f: &F,
        r: &U512,
        q: &U512,
        p: &U512,
    ) -> bool {
        if self.z.is_zero() {
            return false;
        }
        let zz = self.z.square();
        let mut x = *r;
        while &x < p {
            if self.x.sub(&f.element(&x).mul(&zz)).is_zero() {
                return true;
            }
            let (next, carry) = x.adc(q, crypto_bigint::Limb::ZERO);
            if carry.0 != 0 {
                return false;
            }
            x = next;
        }
        false
    }

    /// The affine x coordinate; None at infinity.
    #[cfg(test)]
    pub(super) fn x_affine(&self) -> Option<U512> {
        let inverse = self.z.square().invert()?;
        Some(self.x.mul(&inverse).retrieve())
    }
}

/// The affine forms of points none of which is at infinity (a table's), with one inversion:
/// Montgomery's trick, 3 multiplications a point, and a variable-time inversion. For public
/// points only. None if a point is at infinity after all.
pub(super) fn to_affine_batch<F: Field>(
    f: &F,
    points: &[Jacobian<F::Element>],
) -> Option<Vec<Affine<F::Element>>> {
    // prefix[i] = Z0·Z1·…·Z(i−1)
    let mut prefix = Vec::with_capacity(points.len());
    let mut product = f.one();
    for point in points {
        prefix.push(product);
        product = product.mul(&point.z);
    }
    let mut inverse = product.invert_vartime()?;
    let mut out = vec![
        Affine {
            x: f.zero(),
            y: f.zero()
        };
        points.len()
    ];
    for (i, point) in points.iter().enumerate().rev() {
        // inverse = 1/(Z0·…·Zi) here.
        let z_inv = inverse.mul(&prefix[i]);
        inverse = inverse.mul(&point.z);
        let zz_inv = z_inv.square();
        out[i] = Affine {
            x: point.x.mul(&zz_inv),
            y: point.y.mul(&zz_inv.mul(&z_inv)),
        };
    }
    Some(out)
}

/// Positions a width-`w` NAF of a scalar below 2^512 can use: 512 bits, and a carry out of
/// the top window (w ≤ 14).
const NAF_LEN: usize = 512 + 14 + 1;

/// Width-`w` NAF digits of `k` (2 ≤ w ≤ 14), least significant first: each digit is 0 or odd
/// in (−2^(w−1), 2^(w−1)), and any two non-zero digits are at least w positions apart. Also
/// returns one past the highest non-zero digit (0 for k = 0).
fn wnaf(k: &U512, w: u32) -> ([i16; NAF_LEN], usize) {
    // Two zero words above k: a window may read past bit 511, and a final carry lands there.
    let mut words = [0u64; 10];
    words[..8].copy_from_slice(k.as_words());
    let width = 1u64 << w;
    let mut digits = [0i16; NAF_LEN];
    let mut end = 0;
    let mut carry = 0u64;
    let mut pos = 0;
    while pos < NAF_LEN - 1 {
        let (word, bit) = (pos / 64, pos % 64);
        let bits = if bit + w as usize <= 64 {
            words[word] >> bit
        } else {
            (words[word] >> bit) | (words[word + 1] << (64 - bit))
        };
        let window = carry + (bits & (width - 1));
        if window & 1 == 0 {
            // Even (a carry may make it 2^w, whose low bit is zero too): one position on.
            pos += 1;
            continue;
        }
        // An odd window becomes a digit in (−2^(w−1), 2^(w−1)); a negative one borrows
        // 2^w from the positions above, to be repaid as a carry.
        let digit = if window < width / 2 {
            carry = 0;
            window as i16
        } else {
            carry = 1;
            window as i16 - width as i16
        };
        digits[pos] = digit;
        end = pos + 1;
        pos += w as usize;
    }
    (digits, end)
}

/// P, 3P, 5P, …, 15P.
fn odd_multiples<E: FieldElement>(p: &Jacobian<E>, a: &CoefficientA<E>) -> [Jacobian<E>; 8] {
    let twice = Cached::new(&p.double(a));
    let mut table = [*p; 8];
    for i in 1..8 {
        table[i] = table[i - 1].add_cached(&twice, a);
    }
    table
}

/// k1·P1 + k2·P2, sharing one chain of doublings (interleaved NAF), every addition a mixed one
/// of an affine table entry. `p1_odd`, if given, holds the affine odd multiples 1·P1, 3·P1, …,
/// (2^(w−1) − 1)·P1 for a width-`w` NAF of k1 (`w` = `p1_width`); otherwise P1's table, like
/// P2's, is its first eight odd multiples, made affine with P2's by one inversion.
///
/// The points must not have a small odd order (at most 15), which no point of a prime-order
/// group of more than 15 elements has: such a P2 is no valid public key, and the result is then
/// the point at infinity (which verifies nothing).
pub(super) fn linear_combination<F: Field>(
    f: &F,
    a: &CoefficientA<F::Element>,
    k1: &U512,
    p1: &Jacobian<F::Element>,
    p1_odd: Option<(&[Affine<F::Element>], u32)>,
    k2: &U512,
    p2: &Jacobian<F::Element>,
) -> Jacobian<F::Element> {
    let (naf1, end1) = wnaf(k1, p1_odd.map_or(5, |(_, w)| w));
    let (naf2, end2) = wnaf(k2, 5);
    let mut jacobian = Vec::with_capacity(16);
    jacobian.extend(odd_multiples(p2, a));
    if p1_odd.is_none() {
        jacobian.extend(odd_multiples(p1, a));
    }
    let Some(affine) = to_affine_batch(f, &jacobian) else {
        return Jacobian::infinity(f);
    };
    let (table2, table1) = affine.split_at(8);
    let table1 = p1_odd.map_or(table1, |(odd, _)| odd);
    let signed = |table: &[Affine<F::Element>], d: i16| {
        let entry = table[(d.unsigned_abs() / 2) as usize];
        if d > 0 {
            entry
        } else {
            Affine {
                y: f.zero().sub(&entry.y),
                ..entry
            }
        }
    };
    let mut acc = Jacobian::infinity(f);
    for i in (0..end1.max(end2)).rev() {
        acc = acc.double(a);
        if naf1[i] != 0 {
            acc = acc.add_affine(f, &signed(table1, naf1[i]), a);
        }
        if naf2[i] != 0 {
            acc = acc.add_affine(f, &signed(table2, naf2[i]), a);
        }
    }
    acc
}
