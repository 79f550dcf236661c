//! Variable-time modular inversion, for public values only: verification's e⁻¹ mod q and the
//! one field inversion that makes its tables affine.
//!
//! Bernstein and Yang's "safegcd" (ePrint 2019/266) in the form of libsecp256k1's variable-time
//! `modinv64`: divsteps are done 62 at a time on the low limbs alone (giving a 2×2 transition
//! matrix scaled by 2^62), then applied to the full numbers f, g and to the Bézout coefficients
//! d, e, which are kept in (−2m, m) by adding a multiple of m that clears their low 62 bits.
//! Numbers are 9 signed limbs of 62 bits (558 bits: a 512-bit modulus and the sign). About ten
//! rounds for 512-bit inputs: several times faster than a bit-at-a-time binary extended
//! Euclid, and an order of magnitude faster than Fermat's a^(m−2).
//!
//! Everything branches on the values: never use it on a secret.

use crypto_bigint::U512;

const LIMBS: usize = 9;
const M62: u64 = u64::MAX >> 2;

/// A signed integer Σ v[i]·2^(62·i); limbs in [0, 2^62) except the top one, which carries the
/// sign (and any excess).
type Signed62 = [i64; LIMBS];

/// The transition matrix of 62 divsteps, times 2^62: [u v; q r].
struct Transition {
    u: i64,
    v: i64,
    q: i64,
    r: i64,
}

fn to_signed62(a: &U512) -> Signed62 {
    let words = a.as_words();
    let mut r = [0i64; LIMBS];
    for (i, limb) in r.iter_mut().enumerate() {
        let (word, shift) = (62 * i / 64, 62 * i % 64);
        let mut v = words[word] >> shift;
        if shift > 2 && word + 1 < words.len() {
            v |= words[word + 1] << (64 - shift);
        }
        *limb = (v & M62) as i64;
    }
    r
}

/// The U512 of a normalised value (every limb in [0, 2^62), below 2^512).
fn from_signed62(a: &Signed62) -> U512 {
    let mut words = [0u64; 8];
    for (i, &limb) in a.iter().enumerate() {
        let (word, shift) = (62 * i / 64, 62 * i % 64);
        let limb = limb as u64;
        words[word] |= limb << shift;
        if shift > 2 && word + 1 < words.len() {
            words[word + 1] |= limb >> (64 - shift);
        }
    }
    U512::from_words(words)
}

/// 62 divsteps on the low bits of f (odd) and g, several at once where g has trailing zeros
/// (libsecp256k1's `secp256k1_modinv64_divsteps_62_var`). eta is −delta.
fn divsteps_62(mut eta: i64, f0: u64, g0: u64) -> (i64, Transition) {
    // u·f0 + v·g0 = f·2^(62−i) and q·f0 + r·g0 = g·2^(62−i) throughout.
    let (mut u, mut v, mut q, mut r) = (1u64, 0u64, 0u64, 1u64);
    let (mut f, mut g) = (f0, g0);
    let mut i = 62u32;
    loop {
        // Zeros of g, counted up to i (the sentinel bit): that many divsteps just halve g.
        let zeros = (g | (u64::MAX << i)).trailing_zeros();
        g >>= zeros;
        u <<= zeros;
        v <<= zeros;
        eta -= i64::from(zeros);
        i -= zeros;
        if i == 0 {
            break;
        }
        // f and g are odd here.
        let limit = (eta + 1).min(i64::from(i)) as u32;
        let w = if eta < 0 {
            // Swap to (g, −f) and cancel up to 6 low bits of the new g with a multiple of f.
            eta = -eta;
            (f, g) = (g, f.wrapping_neg());
            (u, q) = (q, u.wrapping_neg());
            (v, r) = (r, v.wrapping_neg());
            let limit = (eta + 1).min(i64::from(i)) as u32;
            let mask = (u64::MAX >> (64 - limit)) & 63;
            // f·(f² − 2) is f⁻¹ mod 64; w = −g·f⁻¹.
            f.wrapping_mul(g)
                .wrapping_mul(f.wrapping_mul(f).wrapping_sub(2))
                & mask
        } else {
            // Up to 4 bits: f + ((f + 1) & 4)·2 is f⁻¹ mod 16.
            let mask = (u64::MAX >> (64 - limit)) & 15;
            let inverse = f.wrapping_add((f.wrapping_add(1) & 4) << 1);
            inverse.wrapping_neg().wrapping_mul(g) & mask
        };
        g = g.wrapping_add(f.wrapping_mul(w));
        q = q.wrapping_add(u.wrapping_mul(w));
        r = r.wrapping_add(v.wrapping_mul(w));
    }
    (
        eta,
        Transition {
            u: u as i64,
            v: v as i64,
            q: q as i64,
            r: r as i64,
        },
    )
}

/// (f, g) ← t·(f, g) / 2^62, exactly, on the low `len` limbs.
fn update_fg(len: usize, f: &mut Signed62, g: &mut Signed62, t: &Transition) {
    let (u, v, q, r) = (t.u as i128, t.v as i128, t.q as i128, t.r as i128);
    let mut cf = u * f[0] as i128 + v * g[0] as i128;
    let mut cg = q * f[0] as i128 + r * g[0] as i128;
    cf >>= 62;
    cg >>= 62;
    for i in 1..len {
        let (fi, gi) = (f[i] as i128, g[i] as i128);
        cf += u * fi + v * gi;
        cg += q * fi + r * gi;
        f[i - 1] = (cf as u64 & M62) as i64;
        g[i - 1] = (cg as u64 & M62) as i64;
        cf >>= 62;
        cg >>= 62;
    }
    f[len - 1] = cf as i64;
    g[len - 1] = cg as i64;
}

/// (d, e) ← (t·(d, e) + m·(md, me)) / 2^62 with md, me chosen to make the division exact and
/// to keep d and e in (−2m, m).
fn update_de(d: &mut Signed62, e: &mut Signed62, t: &Transition, modulus: &Modulus) {
    let (u, v, q, r) = (t.u, t.v, t.q, t.r);
    // Start md, me at the multiples that bring a negative d or e back up.
    let (sd, se) = (d[LIMBS - 1] >> 63, e[LIMBS - 1] >> 63);
    let mut md = (u & sd) + (v & se);
    let mut me = (q & sd) + (r & se);
    let (u, v, q, r) = (u as i128, v as i128, q as i128, r as i128);
    let mut cd = u * d[0] as i128 + v * e[0] as i128;
    let mut ce = q * d[0] as i128 + r * e[0] as i128;
    // Correct md, me so that the low 62 bits of t·(d, e) + m·(md, me) are zero.
    md -= (modulus
        .inverse_62
        .wrapping_mul(cd as u64)
        .wrapping_add(md as u64)
        & M62) as i64;
    me -= (modulus
        .inverse_62
        .wrapping_mul(ce as u64)
        .wrapping_add(me as u64)
        & M62) as i64;
    let (md, me) = (md as i128, me as i128);
    cd += modulus.limbs[0] as i128 * md;
    ce += modulus.limbs[0] as i128 * me;
    debug_assert!(cd as u64 & M62 == 0 && ce as u64 & M62 == 0);
    cd >>= 62;
    ce >>= 62;
    for i in 1..LIMBS {
        let (di, ei, mi) = (d[i] as i128, e[i] as i128, modulus.limbs[i] as i128);
        cd += u * di + v * ei + mi * md;
        ce += q * di + r * ei + mi * me;
        d[i - 1] = (cd as u64 & M62) as i64;
        e[i - 1] = (ce as u64 & M62) as i64;
        cd >>= 62;
        ce >>= 62;
    }
    d[LIMBS - 1] = cd as i64;
    e[LIMBS - 1] = ce as i64;
}

/// An odd modulus in signed limbs, with its inverse modulo 2^62.
struct Modulus {
    limbs: Signed62,
    inverse_62: u64,
}

/// Carries each limb's excess into the next, leaving limbs in [0, 2^62) below a signed top.
fn propagate(a: &mut Signed62) {
    for i in 0..LIMBS - 1 {
        a[i + 1] += a[i] >> 62;
        a[i] &= M62 as i64;
    }
}

/// a + m if a (propagated) is negative, propagated again.
fn add_if_negative(a: &mut Signed62, m: &Signed62) {
    if a[LIMBS - 1] < 0 {
        a.iter_mut().zip(m).for_each(|(limb, m)| *limb += m);
        propagate(a);
    }
}

/// a⁻¹ mod m for an odd m > 1 and 0 ≤ a < m, in variable time; None if a and m share a factor
/// (a = 0 included).
pub(super) fn invert(a: &U512, m: &U512) -> Option<U512> {
    if !m.bit_vartime(0) || m <= &U512::ONE || a >= m {
        return None;
    }
    let words = m.as_words();
    // Newton's iteration for m⁻¹ mod 2^64: m is its own inverse mod 8, and each step doubles
    // the correct bits (3, 6, 12, 24, 48, 96).
    let mut inverse = words[0];
    for _ in 0..5 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(words[0].wrapping_mul(inverse)));
    }
    let modulus = Modulus {
        limbs: to_signed62(m),
        inverse_62: inverse & M62,
    };
    let (mut d, mut e) = ([0i64; LIMBS], {
        let mut one = [0i64; LIMBS];
        one[0] = 1;
        one
    });
    let (mut f, mut g) = (modulus.limbs, to_signed62(a));
    let mut len = LIMBS;
    let mut eta = -1i64;
    loop {
        let (next, t) = divsteps_62(eta, f[0] as u64, g[0] as u64);
        eta = next;
        update_de(&mut d, &mut e, &t, &modulus);
        update_fg(len, &mut f, &mut g, &t);
        if g[0] == 0 && g[1..len].iter().all(|&limb| limb == 0) {
            break;
        }
        // Drop the top limb while it is 0 or −1 in both f and g (its sign moves down).
        let (fn_, gn) = (f[len - 1], g[len - 1]);
        if len > 1 && (fn_ ^ (fn_ >> 63)) == 0 && (gn ^ (gn >> 63)) == 0 {
            f[len - 2] |= ((fn_ as u64) << 62) as i64;
            g[len - 2] |= ((gn as u64) << 62) as i64;
            len -= 1;
        }
    }
    // Now f = ±gcd(a, m): the inverse exists only if that is ±1, and then it is ±d.
    let negative = f[len - 1] < 0;
    let mut gcd = [0i64; LIMBS];
    gcd[..len].copy_from_slice(&f[..len]);
    if negative {
        gcd.iter_mut().for_each(|limb| *limb = -*limb);
    }
    propagate(&mut gcd);
    if gcd[0] != 1 || gcd[1..].iter().any(|&limb| limb != 0) {
        return None;
    }
    // d is in (−2m, m): into (−m, m), negated if f = −1, then into [0, m).
    propagate(&mut d);
    add_if_negative(&mut d, &modulus.limbs);
    if negative {
        d.iter_mut().for_each(|limb| *limb = -*limb);
        propagate(&mut d);
    }
    add_if_negative(&mut d, &modulus.limbs);
    Some(from_signed62(&d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::gost::curve::Curve;
    use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
    use crypto_bigint::NonZero;

    /// The constant-time inversion of `crypto-bigint` is the reference.
    fn reference(a: &U512, m: &U512) -> Option<U512> {
        let (inverse, exists) = DynResidue::new(a, DynResidueParams::new(m)).invert();
        bool::from(exists).then(|| inverse.retrieve())
    }

    /// Edge values and pseudo-random ones (runs of all-zero and all-one words among them, where
    /// the divsteps take their longest jumps), for every curve's p and q and a few small moduli.
    #[test]
    fn agrees_with_constant_time_inversion() {
        let mut moduli = vec![
            U512::from_u8(3),
            U512::from_u8(9),
            U512::from_u64(0xffff_ffff_ffff_ffc5),
        ];
        for curve in [
            Curve::tc26_512_a(),
            Curve::tc26_256_a(),
            Curve::cryptopro_a(),
        ] {
            moduli.extend([curve.p, curve.q]);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for m in &moduli {
            let modulus = NonZero::new(*m).unwrap();
            let mut values = vec![
                U512::ZERO,
                U512::ONE,
                U512::from_u8(2),
                U512::from_u8(6),
                m.wrapping_sub(&U512::ONE),
                m.wrapping_sub(&U512::from_u8(2)),
                m.shr_vartime(1),
            ];
            for i in 0..300 {
                let words = std::array::from_fn(|j| match (i % 3, j % 2) {
                    (0, 0) => 0,
                    (1, _) => u64::MAX ^ (next() & 0xff),
                    _ => next(),
                });
                values.push(U512::from_words(words).shr_vartime(i % 64).rem(&modulus));
            }
            for a in &values {
                assert_eq!(invert(a, m), reference(a, m), "{a} mod {m}");
            }
        }
    }

    #[test]
    fn refuses_what_has_no_inverse() {
        let q = &Curve::tc26_512_a().q;
        assert_eq!(invert(&U512::ZERO, q), None);
        // A value at or above the modulus, an even modulus, a common factor.
        assert_eq!(invert(q, q), None);
        assert_eq!(invert(&U512::from_u8(3), &U512::from_u8(10)), None);
        assert_eq!(invert(&U512::from_u8(6), &U512::from_u8(9)), None);
        assert_eq!(invert(&U512::from_u8(2), &U512::ONE), None);
    }
}
