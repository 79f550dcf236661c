//! Signing time must not depend on the key or the nonce: a statistical check in the style of
//! dudect (Reparaz, Balasch and Verbauwhede, "Dude, is my code constant time?", 2017).
//!
//! Two classes of inputs go through the signing primitive (k·G and s = r·d + k·e mod q, what
//! [`PrivateKey`] runs per nonce): a fixed, extreme one (d = 1, k = 1: every signed digit but one
//! is zero, the case a shortcut would speed up) and fresh random ones. Calls of the two classes
//! are interleaved in a random order, each one timed; Welch's t statistic compares the two
//! timing distributions, also cropped at several percentiles of the pooled timings (as dudect
//! does) to drop the long tail that interrupts and other processes add. |t| above 10 in every
//! one of up to three rounds is a leak (dudect calls 4.5 "probably leaky"; a shared, busy machine
//! needs the margin and the retries, and a real leak shows in every round).
//!
//! The check is bounded in time (a few seconds, fewer samples in a debug build) and is itself
//! tested: the same harness must flag a naive double-and-add that stops at k's top bit.

use std::time::{Duration, Instant};

use crypto_bigint::{NonZero, U512};

use super::curve::{digest_scalar, Curve};
use super::field::FP256;
use super::point::{CoefficientA, Jacobian};
use super::PrivateKey;

/// |t| above this is a leak.
const THRESHOLD: f64 = 10.0;

/// xorshift64*: the class order and the random inputs; quality is not the point, unpredictability
/// to the code under test is (it never sees the generator).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform enough in [1, q).
    fn scalar(&mut self, q: &U512) -> U512 {
        let words = std::array::from_fn(|_| self.next());
        let modulus = NonZero::new(q.wrapping_sub(&U512::ONE)).expect("q > 1");
        U512::from_words(words)
            .rem(&modulus)
            .wrapping_add(&U512::ONE)
    }
}

/// Welch's t statistic of two samples.
fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let moments = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let ((na, ma, va), (nb, mb, vb)) = (moments(a), moments(b));
    (ma - mb) / (va / na + vb / nb).sqrt()
}

/// The largest |t| between the two classes' timings, over the whole samples and the samples
/// below the pooled 50th, 75th, 90th and 99th percentiles.
fn max_t(times: &[Vec<f64>; 2]) -> f64 {
    let mut pooled: Vec<f64> = times.iter().flatten().copied().collect();
    pooled.sort_by(f64::total_cmp);
    let mut worst = 0f64;
    for percentile in [0.5, 0.75, 0.9, 0.99, 1.0] {
        let index = ((pooled.len() as f64 * percentile) as usize).min(pooled.len() - 1);
        let cut = pooled[index];
        let [a, b] = times
            .each_ref()
            .map(|t| t.iter().copied().filter(|v| *v <= cut).collect::<Vec<_>>());
        if a.len() > 5 && b.len() > 5 {
            worst = worst.max(welch_t(&a, &b).abs());
        }
    }
    worst
}

/// Times `op(class, i)` for randomly interleaved classes 0 and 1 until `samples` calls or `budget`
/// (whichever first, after a short warm-up); returns the largest |t| and the samples taken.
fn leakage(samples: usize, budget: Duration, mut op: impl FnMut(usize, usize)) -> (f64, usize) {
    let mut rng = Rng::new();
    for i in 0..4 {
        op(i % 2, i);
    }
    let mut times = [Vec::new(), Vec::new()];
    let started = Instant::now();
    for i in 0..samples {
        let class = (rng.next() >> 33) as usize & 1;
        let start = Instant::now();
        op(class, i);
        times[class].push(start.elapsed().as_nanos() as f64);
        if started.elapsed() > budget && i >= 40 {
            break;
        }
    }
    (max_t(&times), times[0].len() + times[1].len())
}

/// Whether every one of three rounds shows |t| > THRESHOLD, and (|t|, samples) of each round run.
fn leaks(
    samples: usize,
    budget: Duration,
    mut op: impl FnMut(usize, usize),
) -> (bool, Vec<(f64, usize)>) {
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let (t, taken) = leakage(samples, budget, &mut op);
        rounds.push(((t * 10.0).round() / 10.0, taken));
        if t <= THRESHOLD {
            return (false, rounds);
        }
    }
    (true, rounds)
}

/// Samples and time per round: many in a release build; in a debug build (where one 512-bit
/// signature costs milliseconds) fewer, which still shows any leak of a sizeable fraction.
fn budget() -> (usize, Duration) {
    if cfg!(debug_assertions) {
        (600, Duration::from_secs(3))
    } else {
        (20_000, Duration::from_secs(2))
    }
}

fn signing_time_does_not_depend_on_key_or_nonce(curve: &'static Curve) {
    let q = curve.q;
    let mut rng = Rng::new();
    let digest = super::tests::le_bytes(&rng.scalar(&q), curve.size);
    let e = digest_scalar(
        &super::from_le(&digest).expect("64 bytes"),
        curve.q_params.expect("q"),
    );
    let fixed = PrivateKey::from_le_bytes(curve, &super::tests::le_bytes(&U512::ONE, curve.size))
        .expect("d = 1");
    // Random keys and nonces made beforehand, so that making them is not timed.
    let random: Vec<(PrivateKey, U512, U512)> = (0..32)
        .map(|_| {
            let d = rng.scalar(&q);
            let key = PrivateKey::from_le_bytes(curve, &super::tests::le_bytes(&d, curve.size))
                .expect("key");
            (key, d, rng.scalar(&q))
        })
        .collect();
    let (samples, time) = budget();
    let (leaky, ts) = leaks(samples, time, |class, i| {
        let signature = if class == 0 {
            fixed.sign_with_nonce(&U512::ONE, &e, &U512::ONE)
        } else {
            let (key, d, k) = &random[i % random.len()];
            key.sign_with_nonce(d, &e, k)
        };
        std::hint::black_box(signature);
    });
    // Shown with --nocapture: how far from the threshold a run was.
    eprintln!(
        "signing, {} bits: (|t|, samples) per round {ts:?}",
        8 * curve.size
    );
    assert!(
        !leaky,
        "signing time depends on the key/nonce: (|t|, samples) = {ts:?}"
    );
}

#[test]
fn gost_2015_signing_time_does_not_depend_on_key_or_nonce() {
    signing_time_does_not_depend_on_key_or_nonce(Curve::tc26_512_a());
}

#[test]
fn gost_2004_signing_time_does_not_depend_on_key_or_nonce() {
    signing_time_does_not_depend_on_key_or_nonce(Curve::cryptopro_a());
}

/// The harness catches a leak: double-and-add that starts at k's top bit and adds only for
/// one bits, on 64-bit scalars of CryptoPro-A (cheap), k = 1 against random k.
#[test]
fn the_timing_check_flags_a_variable_time_multiplication() {
    let curve = Curve::cryptopro_a();
    let g = Jacobian::affine(&FP256, &curve.gx, &curve.gy);
    let a = CoefficientA::MinusThree;
    let mut rng = Rng::new();
    let randoms: Vec<u64> = (0..64).map(|_| rng.next() | (1 << 63)).collect();
    let naive = |k: u64| {
        let mut acc = Jacobian::infinity(&FP256);
        for bit in (0..64 - k.leading_zeros()).rev() {
            acc = acc.double(&a);
            if (k >> bit) & 1 == 1 {
                acc = acc.add(&g, &a);
            }
        }
        acc
    };
    let (leaky, ts) = leaks(400, Duration::from_secs(2), |class, i| {
        let k = if class == 0 {
            1
        } else {
            randoms[i % randoms.len()]
        };
        std::hint::black_box(naive(k));
    });
    eprintln!("naive double-and-add: (|t|, samples) per round {ts:?}");
    assert!(
        leaky,
        "a variable-time multiplication went unnoticed: (|t|, samples) = {ts:?}"
    );
}
