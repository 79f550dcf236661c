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

/// a − b − borrow → (difference, borrow out as 0 or 1).
#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128).wrapping_sub(b as u128 + borrow as u128);
    (t as u64, ((t >> 64) as u64) & 1)
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

pub(super) fn add<const N: usize, const C: u64>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut carry = 0;
    for i in 0..N {
        (r[i], carry) = adc(a[i], b[i], carry);
    }
    // 2^(64N) ≡ C; a second wrap leaves r < C, so the last C cannot carry.
    let top = add_small::<N, C>(&mut r, carry);
    r[0] = r[0].wrapping_add(top * C);
    r
}

pub(super) fn sub<const N: usize, const C: u64>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut borrow = 0;
    for i in 0..N {
        (r[i], borrow) = sbb(a[i], b[i], borrow);
    }
    // A borrow added 2^(64N) ≡ C too many: take C off. If that borrows again, r is now just
    // below 2^(64N) (its low limb at least 2^64 − C), so the second C comes off limb 0 alone.
    let (low, mut again) = sbb(r[0], borrow * C, 0);
    r[0] = low;
    for limb in r.iter_mut().skip(1) {
        (*limb, again) = sbb(*limb, 0, again);
    }
    r[0] = r[0].wrapping_sub(again * C);
    r
}

pub(super) fn mul<const N: usize, const C: u64>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut wide = [0u64; 16];
    for i in 0..N {
        let mut carry = 0;
        for j in 0..N {
            (wide[i + j], carry) = mac(wide[i + j], a[i], b[j], carry);
        }
        wide[i + N] = carry;
    }
    reduce_wide::<N, C>(&wide)
}

pub(super) fn square<const N: usize, const C: u64>(a: &[u64; N]) -> [u64; N] {
    let mut wide = [0u64; 16];
    // The cross products a[i]·a[j], i < j, once…
    for i in 0..N {
        let mut carry = 0;
        for j in (i + 1)..N {
            (wide[i + j], carry) = mac(wide[i + j], a[i], a[j], carry);
        }
        wide[i + N] = carry;
    }
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

/// a^(p−2) = a⁻¹ (zero for zero), by fixed 4-bit windows over the public exponent: the same
/// squarings and multiplications for every a.
pub(super) fn invert<const N: usize, const C: u64>(a: &[u64; N]) -> [u64; N] {
    let mut exponent = [u64::MAX; N];
    exponent[0] = 0u64.wrapping_sub(C + 2);
    let mut powers = [[0u64; N]; 16];
    powers[0][0] = 1;
    powers[1] = *a;
    for i in 2..16 {
        powers[i] = mul::<N, C>(&powers[i - 1], a);
    }
    let mut r = powers[0];
    for nibble in (0..N * 16).rev() {
        for _ in 0..4 {
            r = square::<N, C>(&r);
        }
        let digit = (exponent[nibble / 16] >> ((nibble % 16) * 4)) & 0xF;
        r = mul::<N, C>(&r, &powers[digit as usize]);
    }
    r
}
