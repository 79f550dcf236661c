//! GOST-2015 (GOST R 34.10-2012, 512-bit, Streebog-512) throughput on one core:
//! `cargo bench --bench gost`.
//!
//! Prints verifications/s and signatures/s of our pure-Rust GOST code over a 1 KiB message,
//! beside ring's ECDSA P-256 verifications and signatures of the same message measured in the
//! same run (the nearest elliptic-curve baseline on this machine), and the ratios. The issue's
//! goal is at least 1,000 GOST-512 verifications per second; a 512-bit curve does about eight
//! times the field work of P-256, so a ratio near 0.1 against ring is the expected shape.
//!
//! Then NCA's older GOST 34.310-2004 (GOST R 34.10-2001 on CryptoPro-A with GOST R 34.11-94,
//! Test S-boxes) through the service's own path (`SigningKey::sign`, `verify_signature`), the
//! 34.11-94 hash of the same 1 KiB alone, and ratios: against GOST-2015 through the same
//! `verify_signature` path (the GOST-512 line above calls the curve directly), and against ring.
//! The earlier lines keep their wording; other tools read them.
//!
//! Last, GOST-512 over a 64-byte digest (no Streebog), as OpenSSL's GOST engine peer
//! (`shared/bench/openssl_gost_speed.c`) measures it: the two lines `bench/gost.sh` sets beside
//! the engine's to give the ratios of issue #16, by the clock and per CPU-second of the process
//! (what one core does on a shared machine). `GOST_BENCH_DIGEST_ONLY=1` runs only those.

mod support;
use support::{iterations, rate};

use qoltanba::crypto::{gost, verify_signature, KeyAlgorithm, SigningKey};

fn main() {
    let message = vec![0x5au8; 1024];
    let n = iterations(2_000);
    if std::env::var("GOST_BENCH_DIGEST_ONLY").is_ok_and(|v| v == "1") {
        digest_only(n);
        return;
    }

    let gost_key = SigningKey::generate(KeyAlgorithm::Gost2015).expect("GOST key");
    let gost_public: [u8; 128] =
        gost::public_key_512_from_spki_bits(gost_key.public_key_bytes()).expect("512-bit key");
    let gost_signature: [u8; 128] = gost_key
        .sign(&message)
        .expect("sign")
        .try_into()
        .expect("128 bytes");
    assert!(gost::verify_512(&gost_public, &message, &gost_signature));

    let p256 = SigningKey::generate(KeyAlgorithm::P256).expect("P-256 key");
    let p256_spki = p256.public_key_info().expect("spki");
    let p256_id = p256.signature_algorithm().identifier();
    let p256_signature = p256.sign(&message).expect("sign");

    println!("one core, {n} iterations each, 1 KiB message");
    let ring_verify = rate("ring ECDSA P-256 verify (baseline)", n * 4, || {
        verify_signature(&p256_id, &p256_spki, &message, &p256_signature).expect("verifies");
    });
    let gost_verify = rate("GOST-512 verify (Streebog-512 + 34.10-2012)", n, || {
        assert!(gost::verify_512(&gost_public, &message, &gost_signature));
    });
    let ring_sign = rate("ring ECDSA P-256 sign (baseline)", n * 4, || {
        p256.sign(&message).expect("sign");
    });
    let gost_sign = rate("GOST-512 sign (constant-time, hedged nonce)", n, || {
        gost_key.sign(&message).expect("sign");
    });
    let streebog = rate("Streebog-512 of 1 KiB alone", n * 4, || {
        std::hint::black_box(gost::streebog512(&message));
    });
    println!();
    println!(
        "GOST-512 verify: {gost_verify:.0}/s (goal >= 1000/s: {}); ratio to ring P-256 verify {:.3}",
        if gost_verify >= 1000.0 { "met" } else { "NOT met" },
        gost_verify / ring_verify
    );
    println!(
        "GOST-512 sign: {gost_sign:.0}/s; ratio to ring P-256 sign {:.3}",
        gost_sign / ring_sign
    );
    println!(
        "Streebog share of one verification: {:.1}%",
        100.0 * gost_verify / streebog
    );
    gost_2004(&message, n, &gost_key, ring_verify, ring_sign, gost_sign);
    println!();
    digest_only(n);
}

/// GOST-512 sign and verify of a 64-byte digest: the work OpenSSL's engine peer measures.
fn digest_only(n: usize) {
    let key = gost::PrivateKey::generate(gost::Curve::tc26_512_a()).expect("GOST key");
    let public: [u8; 128] = key.public_key_xy_le().try_into().expect("128 bytes");
    let digest: [u8; 64] = std::array::from_fn(|i| (i * 7 + 1) as u8);
    let signature: [u8; 128] = key
        .sign_digest(&digest)
        .expect("sign")
        .try_into()
        .expect("128 bytes");
    assert!(gost::verify_digest_512(&public, &digest, &signature));
    let verify = rate(
        "GOST-512 verify of a 64-byte digest (no Streebog)",
        n,
        || {
            assert!(gost::verify_digest_512(&public, &digest, &signature));
        },
    );
    let sign = rate(
        "GOST-512 sign of a 64-byte digest (constant-time, no Streebog)",
        n,
        || {
            key.sign_digest(&digest).expect("sign");
        },
    );
    println!("GOST-512 digest-only: verify {verify:.0}/s, sign {sign:.0}/s");
    // The same per CPU-second of this process: what one core does, however many other
    // processes share the machine (bench/gost.sh compares it with the engine timed likewise).
    let verify_cpu = per_cpu_second(n, || {
        assert!(gost::verify_digest_512(&public, &digest, &signature));
    });
    let sign_cpu = per_cpu_second(n, || {
        key.sign_digest(&digest).expect("sign");
    });
    if let (Some(verify), Some(sign)) = (verify_cpu, sign_cpu) {
        println!("GOST-512 digest-only per CPU-second: verify {verify:.0}/s, sign {sign:.0}/s");
    }
}

/// Calls of `f` per CPU-second (user + system time of this process, from /proc/self/stat in
/// ticks of 1/100 s: about 1% resolution over a run of a second). None where /proc is missing.
fn per_cpu_second(n: usize, mut f: impl FnMut()) -> Option<f64> {
    let start = cpu_seconds()?;
    for _ in 0..n {
        f();
    }
    let used = cpu_seconds()? - start;
    (used > 0.0).then(|| n as f64 / used)
}

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): the state is the first; utime and
    // stime are fields 14 and 15 of the whole line.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// GOST 34.310-2004 beside GOST-2015 and ring P-256, all through `verify_signature`.
fn gost_2004(
    message: &[u8],
    n: usize,
    gost_key: &SigningKey,
    ring_verify: f64,
    ring_sign: f64,
    gost_sign: f64,
) {
    let key = SigningKey::generate(KeyAlgorithm::Gost2004).expect("GOST 2004 key");
    let spki = key.public_key_info().expect("spki");
    let id = key.signature_algorithm().identifier();
    let signature = key.sign(message).expect("sign");
    verify_signature(&id, &spki, message, &signature).expect("verifies");
    let gost_spki = gost_key.public_key_info().expect("spki");
    let gost_id = gost_key.signature_algorithm().identifier();
    let gost_signature = gost_key.sign(message).expect("sign");

    println!();
    let gost_verify = rate("GOST-512 verify via verify_signature", n, || {
        verify_signature(&gost_id, &gost_spki, message, &gost_signature).expect("verifies");
    });
    let verify = rate(
        "GOST 34.310-2004 verify (34.11-94 + 34.10-2001)",
        n * 2,
        || {
            verify_signature(&id, &spki, message, &signature).expect("verifies");
        },
    );
    let sign = rate(
        "GOST 34.310-2004 sign (constant-time, hedged nonce)",
        n * 2,
        || {
            key.sign(message).expect("sign");
        },
    );
    let hash = rate(
        "GOST R 34.11-94 (Test S-boxes) of 1 KiB alone",
        n * 4,
        || {
            std::hint::black_box(gost::gost94_test(message));
        },
    );
    println!();
    println!(
        "GOST 34.310-2004 verify: {verify:.0}/s; ratio to GOST-512 verify {:.2}, to ring P-256 verify {:.3}",
        verify / gost_verify,
        verify / ring_verify
    );
    println!(
        "GOST 34.310-2004 sign: {sign:.0}/s; ratio to GOST-512 sign {:.2}, to ring P-256 sign {:.3}",
        sign / gost_sign,
        sign / ring_sign
    );
    println!(
        "GOST R 34.11-94 share of one 2004 verification: {:.1}%",
        100.0 * verify / hash
    );
}
