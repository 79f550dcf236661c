//! RSA key generation (FIPS 186-5 A.1.3's conditions): two random probable primes of half the
//! modulus length, each at least √2·2^(k−1) so the modulus has exactly the asked length, at least
//! 2^(k−100) apart, e = 65537.
//!
//! Why not `rsa::RsaPrivateKey::new`: it accepts a prime after 20 Miller–Rabin rounds in
//! num-bigint-dig's generic Montgomery arithmetic, 0.3–0.5 s of CPU per RSA-2048 key on the
//! 2-core machine; every certificate the PKI issues with a server-made key waits for that. Here a
//! sieve over small primes discards most candidates, and the survivors take the Baillie–PSW test
//! (a Miller–Rabin round to base 2 and a strong Lucas test, no known counterexample) plus one
//! Miller–Rabin round to a random base, in crypto-bigint's fixed-width arithmetic (the
//! `crypto-primes` crate, the prime generator of RustCrypto's `rsa` 0.10).

use crypto_bigint::{Encoding, Uint, U1024, U1536, U2048};
use crypto_primes::hazmat::{random_odd_uint, Sieve};
use crypto_primes::is_prime_with_rng;
use rand_core::OsRng;
use rsa::{BigUint, RsaPrivateKey};
use zeroize::{Zeroize, Zeroizing};

use super::CryptoError;

/// Public exponent F4, what NCA's and every common RSA key uses.
const PUBLIC_EXPONENT: u32 = 65_537;

/// Draws of (p, q) before giving up: a draw fails only when p and q are too close (chance about
/// 2^−99) or e divides p − 1 or q − 1 (about 2 in 65,537), so reaching this means the random
/// source is broken.
const MAX_DRAWS: usize = 64;

/// A fresh RSA key of `bits` (2048, 3072 or 4096) with its CRT parameters.
pub(super) fn generate(bits: usize) -> Result<RsaPrivateKey, CryptoError> {
    match bits {
        2048 => generate_with::<{ U1024::LIMBS }>(bits),
        3072 => generate_with::<{ U1536::LIMBS }>(bits),
        4096 => generate_with::<{ U2048::LIMBS }>(bits),
        other => Err(CryptoError::KeyGeneration(format!(
            "RSA-{other} (2048, 3072 or 4096 bits)"
        ))),
    }
}

/// `L` limbs hold one prime of exactly `bits / 2` bits.
fn generate_with<const L: usize>(bits: usize) -> Result<RsaPrivateKey, CryptoError>
where
    Uint<L>: Encoding,
{
    let half = bits / 2;
    for _ in 0..MAX_DRAWS {
        let p = prime::<L>(half);
        let q = prime::<L>(half);
        // FIPS 186-5 A.1.3 (2)(d): |p − q| > 2^(k/2 − 100), else n falls to Fermat's method.
        let distance = if *p > *q {
            p.wrapping_sub(&q)
        } else {
            q.wrapping_sub(&p)
        };
        if distance.bits() <= half - 100 {
            continue;
        }
        let (p, q) = (to_biguint(&p), to_biguint(&q));
        // Fails when e shares a factor with p − 1 or q − 1 (no private exponent): draw again.
        let Ok(mut key) = RsaPrivateKey::from_p_q(p, q, BigUint::from(PUBLIC_EXPONENT)) else {
            continue;
        };
        key.validate()
            .and_then(|()| key.precompute())
            .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
        return Ok(key);
    }
    Err(CryptoError::KeyGeneration(
        "no RSA key after 64 draws of primes: is the random source broken?".into(),
    ))
}

/// A random probable prime of exactly `bits` bits whose two top bits are set, so p is at least
/// 1.5·2^(bits−1), above √2·2^(bits−1), and the product of two has exactly 2·bits bits. The
/// sieve walks upward from a random odd start, so every candidate keeps those bits; it ends
/// where the bit length would grow, and a new start is drawn.
fn prime<const L: usize>(bits: usize) -> Zeroizing<Uint<L>> {
    let mut rng = OsRng;
    loop {
        let start =
            Zeroizing::new(random_odd_uint::<L>(&mut rng, bits) | (Uint::<L>::ONE << (bits - 2)));
        for candidate in Sieve::new(&start, bits, false) {
            let candidate = Zeroizing::new(candidate);
            if is_prime_with_rng(&mut rng, &*candidate) {
                return candidate;
            }
        }
    }
}

fn to_biguint<const L: usize>(value: &Uint<L>) -> BigUint
where
    Uint<L>: Encoding,
{
    let mut bytes = value.to_be_bytes();
    let value = BigUint::from_bytes_be(bytes.as_ref());
    bytes.as_mut().zeroize();
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};

    /// Every size the PKI offers: exact modulus length, F4, two primes of half the length with
    /// their top two bits set, far apart, and a key ring accepts (ring checks p·q = n, d·e ≡ 1
    /// and the CRT parameters itself).
    #[test]
    fn keys_have_the_asked_length_and_fips_shape() {
        for bits in [2048, 3072, 4096] {
            let key = generate(bits).expect("key");
            assert_eq!(key.n().bits(), bits, "modulus length");
            assert_eq!(key.e(), &BigUint::from(PUBLIC_EXPONENT));
            let primes = key.primes();
            assert_eq!(primes.len(), 2);
            let half = bits / 2;
            for p in primes {
                assert_eq!(p.bits(), half, "prime length");
                assert_eq!(p >> (half - 2), BigUint::from(3u8), "top two bits");
            }
            let (p, q) = (&primes[0], &primes[1]);
            let distance = if *p > *q { p - q } else { q - p };
            assert!(distance.bits() > half - 100, "p and q too close");
            use rsa::pkcs8::EncodePrivateKey;
            let pkcs8 = key.to_pkcs8_der().expect("pkcs8");
            ring::signature::RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).expect("ring accepts");
        }
    }

    #[test]
    fn other_sizes_are_refused() {
        for bits in [1024, 2047, 8192] {
            assert!(matches!(generate(bits), Err(CryptoError::KeyGeneration(_))));
        }
    }

    /// Two keys never share a prime (a broken random source would show here first).
    #[test]
    fn keys_share_no_prime() {
        let a = generate(2048).expect("a");
        let b = generate(2048).expect("b");
        for p in a.primes() {
            assert!(!b.primes().contains(p));
        }
    }
}
