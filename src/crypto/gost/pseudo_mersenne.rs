//! Limb arithmetic modulo a pseudo-Mersenne prime p = 2^(64·N) − C (C < 2^32), N ≤ 8 limbs of
//! 64 bits, little-endian: NCA's p = 2^512 − 569 (N = 8) and CryptoPro-A's p = 2^256 − 617
//! (N = 4).
//!
//! Why our own: a product is 2N limbs and 2^(64·N) ≡ C (mod p), so the high half folds into the
//! low one with N multiplications by C (twice: the first fold leaves a carry word below C + 1),
//! instead of a Montgomery reduction (N² multiplications) or `crypto-bigint`'s generic special
//! reduction. Squaring computes each cross product once.
//!
//! Values are kept *weakly reduced*: any N-limb integer in [0, 2^(64·N)) congruent to the
//! element (so at most p + C − 1); [`canonical`] gives the one in [0, p). Every function here runs
//! the same instructions whatever the values: carries are added as numbers, never branched on,
//! and the one selection is by mask — the signing code relies on it.

/// a + b + carry → (sum, carry out).
#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// acc + a·b + carry → (low word, high word); never overflows 128 bits.
#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = acc as u128 + (a as u128) * (b as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// r + m·C (m < 2^32) with the carry propagated; returns the carry out of the top limb.
#[inline(always)]
fn add_small<const N: usize, const C: u64>(r: &mut [u64; N], m: u64) -> u64 {
    let (low, mut carry) = mac(r[0], m, C, 0);
    r[0] = low;
    for limb in r.iter_mut().skip(1) {
        (*limb, carry) = adc(*limb, 0, carry);
    }
    carry
}

/// Folds a 2N-limb value (in `wide[..2N]`) to N limbs: high·C + low, twice.
#[inline(always)]
fn reduce_wide<const N: usize, const C: u64>(wide: &[u64; 16]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut carry = 0;
    for i in 0..N {
        (r[i], carry) = mac(wide[i], wide[i + N], C, carry);
    }
    // Now value = r + carry·2^(64N) ≡ r + carry·C with carry ≤ C.
    let top = add_small::<N, C>(&mut r, carry);
    // If that wrapped, r < C² is tiny and one more C cannot carry.
    r[0] = r[0].wrapping_add(top * C);
    r
}

#[inline(always)]
pub(super) fn add<const N: usize, const C: u64>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut carry = false;
    for i in 0..N {
        let (sum, c1) = a[i].overflowing_add(b[i]);
        let (sum, c2) = sum.overflowing_add(carry as u64);
        r[i] = sum;
        carry = c1 | c2;
    }
    // 2^(64N) ≡ C; a second wrap leaves r < C, so the last C cannot carry.
    let mut fold = carry as u64 * C;
    for limb in r.iter_mut() {
        let (sum, c) = limb.overflowing_add(fold);
        *limb = sum;
        fold = c as u64;
    }
    r[0] = r[0].wrapping_add(fold * C);
    r
}

#[inline(always)]
pub(super) fn sub<const N: usize, const C: u64>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut borrow = false;
    for i in 0..N {
        let (diff, b1) = a[i].overflowing_sub(b[i]);
        let (diff, b2) = diff.overflowing_sub(borrow as u64);
        r[i] = diff;
        borrow = b1 | b2;
    }
    // A borrow added 2^(64N) ≡ C too many: take C off. If that borrows again, r is now just
    // below 2^(64N) (its low limb at least 2^64 − C), so the second C comes off limb 0 alone.
    let mut fold = borrow as u64 * C;
    for limb in r.iter_mut() {
        let (diff, b) = limb.overflowing_sub(fold);
        *limb = diff;
        fold = b as u64;
    }
    r[0] = r[0].wrapping_sub(fold * C);
    r
}

/// r − m·C for a borrow count m ≤ 2^4 (m·C < 2^32): what is left of an N-limb difference that
/// borrowed m times 2^(64N) ≡ C. If r < m·C this wraps to just below 2^(64N), one 2^(64N) ≡ C
/// too many, and the second C comes off limb 0 alone (it is then above 2^64 − 2^32).
#[inline(always)]
fn sub_folded<const N: usize, const C: u64>(r: &mut [u64; N], m: u64) {
    let mut fold = m * C;
    for limb in r.iter_mut() {
        let (diff, b) = limb.overflowing_sub(fold);
        *limb = diff;
        fold = b as u64;
    }
    r[0] = r[0].wrapping_sub(fold * C);
}

/// a − b·2^s for 1 ≤ s ≤ 3 in one pass: the doubling formulas' X3 = M² − 2S and
/// Y3 = M·(S − X3) − 8·YY², without the separate doubling passes and their folds. b·2^s runs
/// over b's limbs, shifted, inside the borrow chain; what is shifted out of the top and the
/// borrow out are both counts of 2^(64N), taken off as multiples of C.
#[inline(always)]
pub(super) fn sub_shl<const N: usize, const C: u64>(
    a: &[u64; N],
    b: &[u64; N],
    s: u32,
) -> [u64; N] {
    debug_assert!((1..=3).contains(&s));
    let mut r = [0u64; N];
    let mut borrow = false;
    let mut prev = 0;
    for i in 0..N {
        let shifted = (b[i] << s) | (prev >> (64 - s));
        prev = b[i];
        let (diff, b1) = a[i].overflowing_sub(shifted);
        let (diff, b2) = diff.overflowing_sub(borrow as u64);
        r[i] = diff;
        borrow = b1 | b2;
    }
    sub_folded::<N, C>(&mut r, (prev >> (64 - s)) + borrow as u64);
    r
}

/// a − b − c in one pass (Z3 = (Y + Z)² − YY − ZZ and its like): the two borrows of a limb
/// are counted together, and the count out of the top (0, 1 or 2) comes off as multiples of C.
#[inline(always)]
pub(super) fn sub2<const N: usize, const C: u64>(
    a: &[u64; N],
    b: &[u64; N],
    c: &[u64; N],
) -> [u64; N] {
    let mut r = [0u64; N];
    let mut borrow = 0u64;
    for i in 0..N {
        let t = (a[i] as u128)
            .wrapping_sub(b[i] as u128)
            .wrapping_sub(c[i] as u128)
            .wrapping_sub(borrow as u128);
        r[i] = t as u64;
        // The high word is 0, −1 or −2 as a two's complement: its negation is the count.
        borrow = ((t >> 64) as u64).wrapping_neg();
    }
    sub_folded::<N, C>(&mut r, borrow);
    r
}

/// a·2^s for 1 ≤ s ≤ 3 by shifting (the formulas' 2, 4 and 8): the bits shifted out of the top
/// are a count of 2^(64N) ≡ C, added back as in `scale`; cheaper than multiplying each limb.
#[inline(always)]
pub(super) fn shl<const N: usize, const C: u64>(a: &[u64; N], s: u32) -> [u64; N] {
    debug_assert!((1..=3).contains(&s));
    let mut r = [0u64; N];
    let mut prev = 0;
    for i in 0..N {
        r[i] = (a[i] << s) | (prev >> (64 - s));
        prev = a[i];
    }
    let top = add_small::<N, C>(&mut r, prev >> (64 - s));
    r[0] = r[0].wrapping_add(top * C);
    r
}

/// k·a for a small k (k < 2^16): one pass of multiplications by k, then the fold.
#[inline(always)]
pub(super) fn scale<const N: usize, const C: u64>(a: &[u64; N], k: u64) -> [u64; N] {
    let mut r = [0u64; N];
    let mut carry = 0;
    for i in 0..N {
        (r[i], carry) = mac(0, a[i], k, carry);
    }
    // carry < k: fold it, then a possible last wrap as in `add`.
    let top = add_small::<N, C>(&mut r, carry);
    r[0] = r[0].wrapping_add(top * C);
    r
}

/// Is a ≡ 0, i.e. a = 0 or a = p (the only multiples of p below 2^(64N))?
#[inline(always)]
pub(super) fn is_zero<const N: usize, const C: u64>(a: &[u64; N]) -> bool {
    let mut zero = a[0];
    let mut p = a[0] ^ 0u64.wrapping_sub(C);
    for limb in &a[1..] {
        zero |= limb;
        p |= !limb;
    }
    (zero == 0) | (p == 0)
}

/// `wide[i..=i + N] += a[i]·b`, the schoolbook product's row i (nothing when i ≥ N).
#[inline(always)]
fn mul_row<const N: usize>(wide: &mut [u64; 16], i: usize, a: &[u64; N], b: &[u64; N]) {
    if i < N {
        let mut carry = 0;
        for j in 0..N {
            (wide[i + j], carry) = mac(wide[i + j], a[i], b[j], carry);
        }
        wide[i + N] = carry;
    }
}

/// The cross products `a[i]·a[j]` for j > i (row i of a square's upper triangle).
#[inline(always)]
fn square_row<const N: usize>(wide: &mut [u64; 16], i: usize, a: &[u64; N]) {
    if i < N {
        let mut carry = 0;
        for j in (i + 1)..N {
            (wide[i + j], carry) = mac(wide[i + j], a[i], a[j], carry);
        }
        wide[i + N] = carry;
    }
}

/// Calls `$row(wide, i, …)` for i = 0…7 written out: a loop over rows stays a loop in the
/// compiled code, with the product in memory; written out, LLVM keeps it in registers (15%
/// faster measured).
macro_rules! rows {
    ($row:ident, $wide:ident, $($arg:expr),*) => {
        $row::<N>(&mut $wide, 0, $($arg),*);
        $row::<N>(&mut $wide, 1, $($arg),*);
        $row::<N>(&mut $wide, 2, $($arg),*);
        $row::<N>(&mut $wide, 3, $($arg),*);
        $row::<N>(&mut $wide, 4, $($arg),*);
        $row::<N>(&mut $wide, 5, $($arg),*);
        $row::<N>(&mut $wide, 6, $($arg),*);
        $row::<N>(&mut $wide, 7, $($arg),*);
    };
}

/// 4 × 4 limbs, schoolbook.
#[inline(always)]
fn mul4(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut w = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0;
        for j in 0..4 {
            (w[i + j], carry) = mac(w[i + j], a[i], b[j], carry);
        }
        w[i + 4] = carry;
    }
    w
}

/// |x − y| and an all-ones mask when x < y, without branching on the values.
#[inline(always)]
fn abs_diff4(x: &[u64; 4], y: &[u64; 4]) -> ([u64; 4], u64) {
    let mut d = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (t, b1) = x[i].overflowing_sub(y[i]);
        let (t, b2) = t.overflowing_sub(borrow as u64);
        d[i] = t;
        borrow = b1 | b2;
    }
    let mask = 0u64.wrapping_sub(borrow as u64);
    // Two's complement negation when x < y: (d ^ mask) + 1.
    let mut carry = mask & 1;
    for limb in d.iter_mut() {
        let (t, c) = (*limb ^ mask).overflowing_add(carry);
        *limb = t;
        carry = c as u64;
    }
    (d, mask)
}

/// The 8 × 8 limb product by one level of (subtractive) Karatsuba: three 4 × 4 products instead
/// of four, about 9% faster than the schoolbook measured here. With a = a0 + a1·2^256 and b
/// likewise, a0·b1 + a1·b0 = a0·b0 + a1·b1 + (a0 − a1)·(b1 − b0), the last term's sign applied
/// by masks. `a` and `b` have 8 limbs (the caller checks N = 8).
#[inline(always)]
fn karatsuba8(wide: &mut [u64; 16], a: &[u64], b: &[u64]) {
    let (a0, a1) = ([a[0], a[1], a[2], a[3]], [a[4], a[5], a[6], a[7]]);
    let (b0, b1) = ([b[0], b[1], b[2], b[3]], [b[4], b[5], b[6], b[7]]);
    let low = mul4(&a0, &b0);
    let high = mul4(&a1, &b1);
    let (da, negative_a) = abs_diff4(&a0, &a1);
    let (db, negative_b) = abs_diff4(&b1, &b0);
    let m = mul4(&da, &db);
    let negative = negative_a ^ negative_b;
    // middle = low + high ± m, in 9 limbs (it is a0·b1 + a1·b0 < 2^513).
    let mut middle = [0u64; 9];
    let mut carry = false;
    for i in 0..8 {
        let (t, c1) = low[i].overflowing_add(high[i]);
        let (t, c2) = t.overflowing_add(carry as u64);
        middle[i] = t;
        carry = c1 | c2;
    }
    middle[8] = carry as u64;
    let mut carry = negative & 1;
    for i in 0..9 {
        let term = if i < 8 { m[i] } else { 0 } ^ negative;
        let (t, c1) = middle[i].overflowing_add(term);
        let (t, c2) = t.overflowing_add(carry);
        middle[i] = t;
        carry = (c1 | c2) as u64;
    }
    // wide = low + middle·2^256 + high·2^512
    wide[..8].copy_from_slice(&low);
    wide[8..].copy_from_slice(&high);
    let mut carry = false;
    for i in 0..12 {
        let term = if i < 9 { middle[i] } else { 0 };
        let (t, c1) = wide[i + 4].overflowing_add(term);
        let (t, c2) = t.overflowing_add(carry as u64);
        wide[i + 4] = t;
        carry = c1 | c2;
    }
}

/// Inlined (like `square`) into the point formulas: the calls, with their copies of arguments
/// and results, were ~3 % of a verification's instructions (callgrind).
#[inline(always)]
pub(super) fn mul<const N: usize, const C: u64>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    const { assert!(N <= 8) };
    let mut wide = [0u64; 16];
    if N == 8 {
        karatsuba8(&mut wide, a, b);
    } else {
        rows!(mul_row, wide, a, b);
    }
    reduce_wide::<N, C>(&wide)
}

#[inline(always)]
pub(super) fn square<const N: usize, const C: u64>(a: &[u64; N]) -> [u64; N] {
    let mut wide = [0u64; 16];
    // The cross products a[i]·a[j], i < j, once…
    rows!(square_row, wide, a);
    // …doubled…
    let mut top = 0;
    for limb in wide.iter_mut().take(2 * N) {
        let next = *limb >> 63;
        *limb = (*limb << 1) | top;
        top = next;
    }
    // …plus the squares on the diagonal.
    let mut carry = 0;
    for i in 0..N {
        let (low, high) = mac(0, a[i], a[i], 0);
        (wide[2 * i], carry) = adc(wide[2 * i], low, carry);
        (wide[2 * i + 1], carry) = adc(wide[2 * i + 1], high, carry);
    }
    reduce_wide::<N, C>(&wide)
}

/// The representative in [0, p): a − p when a ≥ p, i.e. when a + C carries out.
pub(super) fn canonical<const N: usize, const C: u64>(a: &[u64; N]) -> [u64; N] {
    let mut minus_p = *a;
    let carry = add_small::<N, C>(&mut minus_p, 1);
    let mask = 0u64.wrapping_sub(carry);
    let mut r = [0u64; N];
    for i in 0..N {
        r[i] = (a[i] & !mask) | (minus_p[i] & mask);
    }
    r
}

/// a^(p−2) = a⁻¹ (zero for zero), in constant time: the exponent is public and fixed, so the
/// same squarings and multiplications run for every a. p − 2 = 2^(64N) − C − 2 is a long run of
/// ones above a few low bits: a^(2^run − 1) by an addition chain on the run's length (about
/// 2·log₂(run) multiplications), then the low bits one by one.
pub(super) fn invert<const N: usize, const C: u64>(a: &[u64; N]) -> [u64; N] {
    let low = 0u64.wrapping_sub(C + 2); // limb 0 of p − 2; the limbs above are all ones
    let highest_zero = 63 - (!low).leading_zeros();
    let run = 64 * N as u32 - 1 - highest_zero;
    let mut r = ones::<N, C>(a, run);
    for bit in (0..=highest_zero).rev() {
        r = square::<N, C>(&r);
        if (low >> bit) & 1 == 1 {
            r = mul::<N, C>(&r, a);
        }
    }
    r
}

/// a^(2^k − 1) for k ≥ 1: from a^(2^len − 1), squaring len times and multiplying doubles len;
/// one more squaring and a multiplication by a adds one.
fn ones<const N: usize, const C: u64>(a: &[u64; N], k: u32) -> [u64; N] {
    let mut r = *a;
    let mut len = 1;
    for bit in (0..31 - k.leading_zeros()).rev() {
        let mut t = r;
        for _ in 0..len {
            t = square::<N, C>(&t);
        }
        r = mul::<N, C>(&t, &r);
        len *= 2;
        if (k >> bit) & 1 == 1 {
            r = mul::<N, C>(&square::<N, C>(&r), a);
            len += 1;
        }
    }
    r
}
