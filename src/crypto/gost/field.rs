//! Field elements for the curve arithmetic: one trait, two representations.
//!
//! - [`Montgomery`]: `crypto-bigint`'s Montgomery residues, for any odd modulus below 2^512 (the
//!   TC26 256-bit curve, the standard's example curves);
//! - [`PseudoMersenne`]: both of NCA's curves have a pseudo-Mersenne prime — p = 2^512 − 569
//!   (id-tc26-gost-3410-12-512-paramSetA, GOST 2015) and p = 2^256 − 617 (CryptoPro-A,
//!   GOST 34.310-2004) — which `crypto-bigint`'s `*_mod_special` operations reduce with a
//!   multiplication by C instead of a Montgomery reduction, on elements exactly as wide as p
//!   (and carrying no parameters). This is the path every NCA signature takes.
//!
//! Both are constant-time in their values (what the signing code needs): all of it is
//! branch-free arithmetic, inversion included — except [`FieldElement::invert_vartime`]
//! ([`super::modinv`]'s safegcd), which verification uses on public points only.

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::subtle::{Choice, ConditionallySelectable};
use crypto_bigint::{Word, U256, U512};

use super::modinv;
use super::pseudo_mersenne as pm;

// The limb code works on 64-bit words, as `crypto-bigint` does on 64-bit targets.
const _: () = assert!(Word::BITS == 64);

/// What the point formulas need from a field element.
pub(super) trait FieldElement: Copy + ConditionallySelectable + 'static {
    fn add(&self, other: &Self) -> Self;
    fn sub(&self, other: &Self) -> Self;
    fn mul(&self, other: &Self) -> Self;
    fn square(&self) -> Self;
    fn double(&self) -> Self {
        self.add(self)
    }
    /// k·self for a small constant k ≥ 1 (the point formulas' 3, 4 and 8).
    fn times(&self, k: u64) -> Self {
        // Double-and-add over k's bits, from the top.
        let mut r = *self;
        for bit in (0..63 - k.leading_zeros()).rev() {
            r = r.double();
            if (k >> bit) & 1 == 1 {
                r = r.add(self);
            }
        }
        r
    }
    /// self − 2^s·b for 1 ≤ s ≤ 3 (the doubling's M² − 2S and M·(S − X3) − 8·YY²).
    fn sub_shl(&self, b: &Self, s: u32) -> Self {
        self.sub(&b.times(1 << s))
    }
    /// self − b − c.
    fn sub2(&self, b: &Self, c: &Self) -> Self {
        self.sub(b).sub(c)
    }
    /// Variable-time: only for public values, or a final answer.
    fn is_zero(&self) -> bool;
    /// The inverse, in constant time; None for zero.
    fn invert(&self) -> Option<Self>;
    /// The inverse in variable time (public values only: verification's tables); None for
    /// zero.
    fn invert_vartime(&self) -> Option<Self>;
    /// The canonical integer in [0, p).
    fn retrieve(&self) -> U512;
}

/// A field: how integers become its elements.
pub(super) trait Field {
    type Element: FieldElement;
    /// `v` must be below p.
    fn element(&self, v: &U512) -> Self::Element;
    fn zero(&self) -> Self::Element {
        self.element(&U512::ZERO)
    }
    fn one(&self) -> Self::Element {
        self.element(&U512::ONE)
    }
}

/// Any odd modulus, in Montgomery form.
pub(super) struct Montgomery(pub(super) DynResidueParams<{ U512::LIMBS }>);

impl Field for Montgomery {
    type Element = DynResidue<{ U512::LIMBS }>;
    fn element(&self, v: &U512) -> Self::Element {
        DynResidue::new(v, self.0)
    }
}

impl FieldElement for DynResidue<{ U512::LIMBS }> {
    fn add(&self, other: &Self) -> Self {
        DynResidue::add(self, other)
    }
    fn sub(&self, other: &Self) -> Self {
        DynResidue::sub(self, other)
    }
    fn mul(&self, other: &Self) -> Self {
        DynResidue::mul(self, other)
    }
    fn square(&self) -> Self {
        DynResidue::square(self)
    }
    fn is_zero(&self) -> bool {
        // Zero in Montgomery form is zero.
        self.as_montgomery() == &U512::ZERO
    }
    fn invert(&self) -> Option<Self> {
        let (inverse, exists) = DynResidue::invert(self);
        bool::from(exists).then_some(inverse)
    }
    fn invert_vartime(&self) -> Option<Self> {
        let params = *self.params();
        let inverse = modinv::invert(&self.retrieve(), params.modulus())?;
        Some(DynResidue::new(&inverse, params))
    }
    fn retrieve(&self) -> U512 {
        DynResidue::retrieve(self)
    }
}

/// A pseudo-Mersenne prime field p = 2^(64·LIMBS) − C: NCA's 512-bit curve (p = 2^512 − 569)
/// and CryptoPro-A (p = 2^256 − 617, GOST 34.310-2004), on [`super::pseudo_mersenne`]'s limb
/// arithmetic. Elements are `LIMBS` wide, so the 256-bit curve does a quarter of the 512-bit
/// one's work per product.
pub(super) struct PseudoMersenne<const LIMBS: usize, const C: u64>;

/// A weakly reduced element (see [`super::pseudo_mersenne`]): compare only through
/// [`FieldElement::is_zero`] or [`FieldElement::retrieve`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Fp<const LIMBS: usize, const C: u64>(pub(super) [u64; LIMBS]);

/// NCA's 512-bit field and its prime.
pub(super) type Fp512Field = PseudoMersenne<{ U512::LIMBS }, 569>;
pub(super) type Fp512 = Fp<{ U512::LIMBS }, 569>;
pub(super) const P512: U512 = U512::ZERO.wrapping_sub(&U512::from_u64(569));
pub(super) const FP512: Fp512Field = PseudoMersenne;
/// CryptoPro-A's field and its prime.
pub(super) type Fp256Field = PseudoMersenne<{ U256::LIMBS }, 617>;
pub(super) type Fp256 = Fp<{ U256::LIMBS }, 617>;
pub(super) const P256_CRYPTOPRO: U512 = U512::ONE
    .shl_vartime(256)
    .wrapping_sub(&U512::from_u64(617));
pub(super) const FP256: Fp256Field = PseudoMersenne;

impl<const LIMBS: usize, const C: u64> Field for PseudoMersenne<LIMBS, C> {
    type Element = Fp<LIMBS, C>;
    /// `v` must be below p (so its limbs above `LIMBS` are zero).
    fn element(&self, v: &U512) -> Fp<LIMBS, C> {
        let mut words = [0u64; LIMBS];
        for (word, limb) in words.iter_mut().zip(v.as_words()) {
            *word = *limb;
        }
        Fp(words)
    }
}

impl<const LIMBS: usize, const C: u64> ConditionallySelectable for Fp<LIMBS, C> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        let mut out = a.0;
        for (o, w) in out.iter_mut().zip(b.0.iter()) {
            o.conditional_assign(w, choice);
        }
        Fp(out)
    }
}

impl<const LIMBS: usize, const C: u64> FieldElement for Fp<LIMBS, C> {
    #[inline]
    fn add(&self, other: &Self) -> Self {
        Fp(pm::add::<LIMBS, C>(&self.0, &other.0))
    }
    #[inline]
    fn sub(&self, other: &Self) -> Self {
        Fp(pm::sub::<LIMBS, C>(&self.0, &other.0))
    }
    // Inlined, as `pm::mul` and `pm::square` are: see there.
    #[inline(always)]
    fn mul(&self, other: &Self) -> Self {
        Fp(pm::mul::<LIMBS, C>(&self.0, &other.0))
    }
    #[inline(always)]
    fn square(&self) -> Self {
        Fp(pm::square::<LIMBS, C>(&self.0))
    }
    #[inline]
    fn double(&self) -> Self {
        Fp(pm::shl::<LIMBS, C>(&self.0, 1))
    }
    #[inline]
    fn times(&self, k: u64) -> Self {
        // k is one of the formulas' constants, never a secret: 2, 4 and 8 by shifting.
        match k {
            2 | 4 | 8 => Fp(pm::shl::<LIMBS, C>(&self.0, k.trailing_zeros())),
            _ => Fp(pm::scale::<LIMBS, C>(&self.0, k)),
        }
    }
    #[inline]
    fn sub_shl(&self, b: &Self, s: u32) -> Self {
        Fp(pm::sub_shl::<LIMBS, C>(&self.0, &b.0, s))
    }
    #[inline]
    fn sub2(&self, b: &Self, c: &Self) -> Self {
        Fp(pm::sub2::<LIMBS, C>(&self.0, &b.0, &c.0))
    }
    fn is_zero(&self) -> bool {
        pm::is_zero::<LIMBS, C>(&self.0)
    }
    fn invert(&self) -> Option<Self> {
        // The exponentiation is constant-time; only whether the input was zero is told.
        let inverse = Fp(pm::invert::<LIMBS, C>(&self.0));
        (!self.is_zero()).then_some(inverse)
    }
    fn invert_vartime(&self) -> Option<Self> {
        let p = U512::ONE
            .shl_vartime(64 * LIMBS)
            .wrapping_sub(&U512::from_u64(C));
        let inverse = modinv::invert(&self.retrieve(), &p)?;
        Some(PseudoMersenne::<LIMBS, C>.element(&inverse))
    }
    fn retrieve(&self) -> U512 {
        let mut words = [0 as Word; 8];
        for (word, limb) in words.iter_mut().zip(pm::canonical::<LIMBS, C>(&self.0)) {
            *word = limb;
        }
        U512::from_words(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast fields agree with the general Montgomery one, including at the edges where the
    /// folds carry (values near p, products near p²).
    #[test]
    fn fp512_agrees_with_montgomery_arithmetic() {
        agrees_with_montgomery(&FP512, P512, 569);
    }

    #[test]
    fn fp256_cryptopro_agrees_with_montgomery_arithmetic() {
        assert_eq!(
            P256_CRYPTOPRO,
            parse_hex_for_test("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97")
        );
        agrees_with_montgomery(&FP256, P256_CRYPTOPRO, 617);
    }

    /// The one-pass subtractions and shifts on weakly reduced inputs, ≥ p included (all-ones
    /// limbs, p, p + 1, 2^(64N) − C − 1…), where their folds carry or borrow twice: against the
    /// same sums on Montgomery residues of the inputs' canonical values.
    #[test]
    fn one_pass_ops_on_weakly_reduced_inputs() {
        weakly_reduced::<8, 569>(P512);
        weakly_reduced::<4, 617>(P256_CRYPTOPRO);
    }

    fn weakly_reduced<const N: usize, const C: u64>(p: U512) {
        let general = Montgomery(DynResidueParams::new(&p));
        let raw = |low: u64, rest: u64| {
            let mut limbs = [rest; N];
            limbs[0] = low;
            Fp::<N, C>(limbs)
        };
        let mut inputs = vec![
            raw(0, 0),
            raw(1, 0),
            raw(u64::MAX, u64::MAX),             // 2^(64N) − 1 ≡ C − 1
            raw(C.wrapping_neg(), u64::MAX),     // p ≡ 0
            raw(C.wrapping_neg() + 1, u64::MAX), // p + 1
            raw(C.wrapping_neg() - 1, u64::MAX), // p − 1
            raw(0, u64::MAX),
            raw(u64::MAX, 0),
            raw(1 << 63, 1 << 63),
            raw(7, 0x8000_0000_0000_0000),
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..12 {
            let mut limbs = [0u64; N];
            for limb in limbs.iter_mut() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *limb = x;
            }
            inputs.push(Fp(limbs));
        }
        let residue = |a: &Fp<N, C>| general.element(&a.retrieve());
        for a in &inputs {
            let ga = residue(a);
            for k in [2, 3, 4, 8] {
                assert_eq!(a.times(k).retrieve(), ga.times(k).retrieve());
            }
            for b in &inputs {
                let gb = residue(b);
                for shift in 1..=3 {
                    let fast = a.sub_shl(b, shift).retrieve();
                    assert_eq!(
                        fast,
                        ga.sub_shl(&gb, shift).retrieve(),
                        "{a:?} {b:?} {shift}"
                    );
                }
                for c in &inputs {
                    let gc = residue(c);
                    assert_eq!(a.sub2(b, c).retrieve(), ga.sub2(&gb, &gc).retrieve());
                }
                assert_eq!(a.mul(b).retrieve(), ga.mul(&gb).retrieve());
                assert_eq!(a.sub(b).retrieve(), ga.sub(&gb).retrieve());
                assert_eq!(a.add(b).retrieve(), ga.add(&gb).retrieve());
            }
            assert_eq!(a.square().retrieve(), ga.square().retrieve());
        }
    }

    fn parse_hex_for_test(s: &str) -> U512 {
        super::super::curve::parse_hex(s).expect("hex")
    }

    fn agrees_with_montgomery<F: Field>(fast: &F, p: U512, c: u64) {
        let general = Montgomery(DynResidueParams::new(&p));
        let p_minus = |k: u64| p.wrapping_sub(&U512::from_u64(k));
        let modulus = crypto_bigint::NonZero::new(p).unwrap();
        let mut values = vec![
            U512::ZERO,
            U512::ONE,
            U512::from_u64(c - 1),
            U512::from_u64(c),
            U512::from_u64(c + 1),
            p_minus(1),
            p_minus(2),
            p_minus(c),
            p.shr_vartime(1),
        ];
        // Pseudo-random values from a simple generator: enough spread for the carries.
        let mut x = U512::from_u64(0x9e37_79b9_7f4a_7c15);
        for _ in 0..40 {
            x = x
                .wrapping_mul(&U512::from_u64(6364136223846793005))
                .wrapping_add(&p_minus(12345));
            values.push(x.rem(&modulus));
        }
        for a in &values {
            let fa = fast.element(a);
            let ga = general.element(a);
            for b in &values {
                let (fb, gb) = (fast.element(b), general.element(b));
                assert_eq!(fa.mul(&fb).retrieve(), ga.mul(&gb).retrieve(), "{a} * {b}");
                assert_eq!(fa.add(&fb).retrieve(), ga.add(&gb).retrieve());
                assert_eq!(fa.sub(&fb).retrieve(), ga.sub(&gb).retrieve());
                for shift in 1..=3 {
                    let fast = fa.sub_shl(&fb, shift).retrieve();
                    assert_eq!(
                        fast,
                        ga.sub_shl(&gb, shift).retrieve(),
                        "{a} − 2^{shift}·{b}"
                    );
                }
                let (fc, gc) = (fa.mul(&fb), ga.mul(&gb));
                assert_eq!(fa.sub2(&fb, &fc).retrieve(), ga.sub2(&gb, &gc).retrieve());
            }
            assert_eq!(fa.square().retrieve(), ga.square().retrieve());
            for k in [2, 3, 4, 8] {
                assert_eq!(fa.times(k).retrieve(), ga.times(k).retrieve(), "{k}·{a}");
            }
            assert_eq!(fa.double().retrieve(), ga.double().retrieve());
            assert_eq!(fa.retrieve(), *a);
            if *a != U512::ZERO {
                let inverse = fa.invert().expect("invertible");
                assert_eq!(inverse.mul(&fa).retrieve(), U512::ONE);
                // The variable-time inverses (safegcd) of both fields agree with it.
                let vartime = fa.invert_vartime().expect("invertible");
                assert_eq!(vartime.retrieve(), inverse.retrieve());
                let general = ga.invert_vartime().expect("invertible");
                assert_eq!(general.retrieve(), inverse.retrieve());
            }
        }
        assert!(fast.zero().invert().is_none());
        assert!(fast.zero().invert_vartime().is_none());
        assert!(general.zero().invert_vartime().is_none());
    }
}
