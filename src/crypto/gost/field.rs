//! Field elements for the curve arithmetic: one trait, two representations.
//!
//! - [`Montgomery`]: `crypto-bigint`'s Montgomery residues, for any odd modulus below 2^512 (the
//!   256-bit curves, the standard's example curves);
//! - [`Fp512`]: NCA's curve id-tc26-gost-3410-12-512-paramSetA has p = 2^512 − 569, a
//!   pseudo-Mersenne prime, which `crypto-bigint`'s `*_mod_special` operations reduce with a
//!   multiplication by 569 instead of a Montgomery reduction (and the elements carry no
//!   parameters). This is the path every NCA signature takes; it is about twice as fast.
//!
//! Both are constant-time in their values (what the signing code needs): all of it is
//! `crypto-bigint`'s branch-free arithmetic, inversion included.

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::subtle::{Choice, ConditionallySelectable};
use crypto_bigint::{Limb, U512};

/// What the point formulas need from a field element.
pub(super) trait FieldElement: Copy + ConditionallySelectable {
    fn add(&self, other: &Self) -> Self;
    fn sub(&self, other: &Self) -> Self;
    fn mul(&self, other: &Self) -> Self;
    fn square(&self) -> Self;
    fn double(&self) -> Self {
        self.add(self)
    }
    /// Variable-time: only for public values, or a final answer.
    fn is_zero(&self) -> bool;
    /// The inverse, in constant time; None for zero.
    fn invert(&self) -> Option<Self>;
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
    fn retrieve(&self) -> U512 {
        DynResidue::retrieve(self)
    }
}

/// 569: p = 2^512 − C for id-tc26-gost-3410-12-512-paramSetA.
const C: u64 = 569;

/// p = 2^512 − 569.
pub(super) const P512: U512 = U512::ZERO.wrapping_sub(&U512::from_u64(C));

/// The field of p = 2^512 − 569, elements canonical in [0, p).
pub(super) struct Fp512Field;

#[derive(Clone, Copy, Debug)]
pub(super) struct Fp512(U512);

impl Field for Fp512Field {
    type Element = Fp512;
    fn element(&self, v: &U512) -> Fp512 {
        Fp512(*v)
    }
}

impl ConditionallySelectable for Fp512 {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Fp512(U512::conditional_select(&a.0, &b.0, choice))
    }
}

impl FieldElement for Fp512 {
    fn add(&self, other: &Self) -> Self {
        Fp512(self.0.add_mod_special(&other.0, Limb::from_u64(C)))
    }
    fn sub(&self, other: &Self) -> Self {
        Fp512(self.0.sub_mod_special(&other.0, Limb::from_u64(C)))
    }
    fn mul(&self, other: &Self) -> Self {
        Fp512(self.0.mul_mod_special(&other.0, Limb::from_u64(C)))
    }
    fn square(&self) -> Self {
        self.mul(self)
    }
    fn is_zero(&self) -> bool {
        self.0 == U512::ZERO
    }
    fn invert(&self) -> Option<Self> {
        let (inverse, exists) = self.0.inv_odd_mod(&P512);
        bool::from(Choice::from(exists)).then_some(Fp512(inverse))
    }
    fn retrieve(&self) -> U512 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast field agrees with the general Montgomery one, including at the edges where the
    /// folds carry (values near p, products near p²).
    #[test]
    fn fp512_agrees_with_montgomery_arithmetic() {
        let general = Montgomery(DynResidueParams::new(&P512));
        let p_minus = |k: u64| P512.wrapping_sub(&U512::from_u64(k));
        let mut values = vec![
            U512::ZERO,
            U512::ONE,
            U512::from_u64(568),
            U512::from_u64(569),
            U512::from_u64(570),
            p_minus(1),
            p_minus(2),
            p_minus(569),
            U512::MAX.shr_vartime(1),
        ];
        // Pseudo-random values from a simple generator: enough spread for the carries.
        let mut x = U512::from_u64(0x9e37_79b9_7f4a_7c15);
        for _ in 0..40 {
            x = x
                .wrapping_mul(&U512::from_u64(6364136223846793005))
                .wrapping_add(&p_minus(12345));
            values.push(
                x.wrapping_sub(&U512::ZERO)
                    .rem(&crypto_bigint::NonZero::new(P512).unwrap()),
            );
        }
        for a in &values {
            for b in &values {
                let (fa, fb) = (Fp512(*a), Fp512(*b));
                let (ga, gb) = (general.element(a), general.element(b));
                assert_eq!(fa.mul(&fb).retrieve(), ga.mul(&gb).retrieve(), "{a} * {b}");
                assert_eq!(
                    fa.add(&fb).retrieve(),
                    FieldElement::add(&ga, &gb).retrieve()
                );
                assert_eq!(
                    fa.sub(&fb).retrieve(),
                    FieldElement::sub(&ga, &gb).retrieve()
                );
            }
            assert_eq!(
                Fp512(*a).square().retrieve(),
                general.element(a).square().retrieve()
            );
            if *a != U512::ZERO {
                let inverse = Fp512(*a).invert().expect("invertible");
                assert_eq!(inverse.mul(&Fp512(*a)).retrieve(), U512::ONE);
            }
        }
        assert!(Fp512(U512::ZERO).invert().is_none());
    }
}
