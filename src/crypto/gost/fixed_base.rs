//! Precomputed multiples of the base point G of NCA's two curves (both a = −3), computed once per
//! process, and the constant-time k·G that signing and key generation use.
//!
//! Signing (`k` secret) uses a fixed-window table with signed digits: for every 5-bit position
//! j of the scalar, the affine points i·32^j·G for i = 1…16. The scalar is recoded into digits
//! in [−16, 16), so k·G is one table addition per position and no doubling at all: 103 complete
//! mixed additions for the 512-bit curve. Each position's entry is read by a constant-time
//! select over all sixteen, negated by a select, and a zero digit discards the sum by a
//! select — the same instructions and memory accesses for every k.
//!
//! Verification (public data) uses the odd multiples 1·G, 3·G, …, 2047·G for a width-12 NAF of
//! u1, against width 5 for the public key, whose table is built per signature.
//!
//! Tables are affine (Z = 1), made from variable-time Jacobian arithmetic on G (public) and one
//! batched inversion. 103 × 16 + 1024 points of 128 bytes: about 330 KiB for the 512-bit curve.

use std::any::Any;
use std::sync::OnceLock;

use crypto_bigint::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use crypto_bigint::U512;

use super::complete::{add_affine_minus3, Affine, Projective};
use super::curve::Curve;
use super::field::{Field, FieldElement, Fp256, Fp512, FP256, FP512};
use super::point::{self, CoefficientA, Jacobian};

/// Signed digits of WINDOW bits: multiples 1…2^(WINDOW−1) of each position's power of
/// 2^WINDOW. Width 5 (16 entries, 103 positions for 512 bits) against width 4 (8 entries, 129
/// positions): 25 fewer additions for twice the entries scanned per position.
const WINDOW: usize = 5;
const ENTRIES: usize = 1 << (WINDOW - 1);
/// Width of the NAF of u1 in verification: odd multiples up to 2^11 − 1 (about 39 additions for
/// 512 bits, against 47 with width 10: 1.4% fewer instructions a verification measured; 1024
/// points, 128 KiB for the 512-bit curve, built once).
pub(super) const G_NAF_WIDTH: u32 = 12;

pub(super) struct BaseTables<E> {
    /// The curve's b (the complete a = −3 formulas need it).
    b: E,
    /// `comb[ENTRIES·j + i]` = (i + 1)·2^(WINDOW·j)·G.
    comb: Vec<Affine<E>>,
    /// `odd[i]` = (2i + 1)·G.
    pub(super) odd: Vec<Affine<E>>,
}

/// The tables of `curve`'s G on the field element type `E`, if `curve` is one of NCA's two curves
/// (built on first use); None for any other curve or field, which take the generic paths.
pub(super) fn base_tables<E: FieldElement>(curve: &Curve) -> Option<&'static BaseTables<E>> {
    let tables: &'static dyn Any = if same_curve(curve, Curve::tc26_512_a()) {
        static TABLES: OnceLock<Option<BaseTables<Fp512>>> = OnceLock::new();
        TABLES
            .get_or_init(|| BaseTables::new(&FP512, Curve::tc26_512_a()))
            .as_ref()?
    } else if same_curve(curve, Curve::cryptopro_a()) {
        static TABLES: OnceLock<Option<BaseTables<Fp256>>> = OnceLock::new();
        TABLES
            .get_or_init(|| BaseTables::new(&FP256, Curve::cryptopro_a()))
            .as_ref()?
    } else {
        return None;
    };
    tables.downcast_ref::<BaseTables<E>>()
}

fn same_curve(a: &Curve, b: &Curve) -> bool {
    // The static curves themselves are the usual case; otherwise compare the parameters.
    std::ptr::eq(a, b)
        || (a.p, a.a, a.b, a.q, a.gx, a.gy, a.size) == (b.p, b.a, b.b, b.q, b.gx, b.gy, b.size)
}

impl<E: FieldElement> BaseTables<E> {
    /// None only if a multiple of G came out at infinity (a broken curve constant; the tests
    /// check that the tables agree with the generic paths).
    fn new<F: Field<Element = E>>(f: &F, curve: &Curve) -> Option<Self> {
        let a = CoefficientA::MinusThree;
        // Digits for 8·size bits and two spare bits: the top window is then below 2^(W−2), so
        // with its carry in it stays below 2^(W−1) and never carries out.
        let positions = (8 * curve.size + 2).div_ceil(WINDOW);
        let mut points = Vec::with_capacity(positions * ENTRIES + (1 << (G_NAF_WIDTH - 2)));
        let mut base = Jacobian::affine(f, &curve.gx, &curve.gy);
        for _ in 0..positions {
            let mut multiple = base;
            for _ in 0..ENTRIES {
                points.push(multiple);
                multiple = multiple.add(&base, &a);
            }
            // 2^WINDOW·base doubles the last entry, 2^(WINDOW−1)·base.
            base = points[points.len() - 1].double(&a);
        }
        let g = Jacobian::affine(f, &curve.gx, &curve.gy);
        let twice = g.double(&a);
        let mut odd = g;
        for _ in 0..(1 << (G_NAF_WIDTH - 2)) {
            points.push(odd);
            odd = odd.add(&twice, &a);
        }
        let mut comb = point::to_affine_batch(f, &points)?;
        let odd = comb.split_off(positions * ENTRIES);
        Some(BaseTables {
            b: f.element(&curve.b),
            comb,
            odd,
        })
    }

    /// k·G in constant time with respect to k (k < 2^(8·size)); the point at infinity for
    /// k ≡ 0 (mod q).
    pub(super) fn mul<F: Field<Element = E>>(&self, f: &F, k: &U512) -> Projective<E> {
        let words = k.as_words();
        let mut acc = Projective {
            x: f.zero(),
            y: f.one(),
            z: f.zero(),
        };
        let mut carry = 0u64;
        for (j, row) in self.comb.chunks_exact(ENTRIES).enumerate() {
            // The position j is public; the window's value is not.
            let window = window_at(words, j * WINDOW);
            // v in [0, 2^W]; v ≥ 2^(W−1) becomes v − 2^W with a carry into the next position.
            let v = window + carry;
            carry = (v + ENTRIES as u64) >> WINDOW;
            let digit = v.wrapping_sub(carry << WINDOW); // in [−2^(W−1), 2^(W−1)), two's complement
            let negative = digit >> 63;
            let magnitude = (digit ^ 0u64.wrapping_sub(negative)).wrapping_add(negative);
            let mut entry = row[0];
            for (i, candidate) in row.iter().enumerate().skip(1) {
                entry.conditional_assign(candidate, (i as u64 + 1).ct_eq(&magnitude));
            }
            let negated = f.zero().sub(&entry.y);
            entry
                .y
                .conditional_assign(&negated, Choice::from(negative as u8));
            let sum = add_affine_minus3(&self.b, &acc, &entry);
            // A zero digit adds nothing: keep acc (the sum was computed all the same).
            acc = Projective::conditional_select(&sum, &acc, magnitude.ct_eq(&0));
        }
        acc
    }
}

/// WINDOW bits of the scalar from bit `start` (zero past its 512). `start` is public: the
/// branches are on positions, not on values.
fn window_at(words: &[u64; 8], start: usize) -> u64 {
    let (word, shift) = (start / 64, start % 64);
    if word >= words.len() {
        return 0;
    }
    let mut v = words[word] >> shift;
    if shift + WINDOW > 64 && word + 1 < words.len() {
        v |= words[word + 1] << (64 - shift);
    }
    v & ((1 << WINDOW) - 1)
}
