//! The fast paths of NCA's two curves agree with the generic ones: the fixed-base table walk of
//! signing with the windowed complete-formula multiplication, and verification's precomputed
//! width-12 table with plain double-and-add sums — at the scalars where the signed-digit recoding
//! carries (nibbles of 8 and 15, the top carry) and at random ones.

use crypto_bigint::U512;

use super::constant_time;
use super::curve::{invert_vartime, Curve, Scalar};

/// Scalars below q that exercise the recoding: 0, 1, small, all-8 and all-F nibbles, q − 1…
fn edge_scalars(curve: &Curve) -> Vec<U512> {
    let bits = 8 * curve.size;
    let top = |v: U512| v.shr_vartime(512 - bits);
    let all = |byte: u8| top(U512::from_be_slice(&[byte; 64]));
    let mut scalars = vec![
        U512::ZERO,
        U512::ONE,
        U512::from_u8(2),
        U512::from_u8(8),
        U512::from_u8(9),
        U512::from_u8(0xF8),
        all(0x88),
        all(0x8F),
        all(0x7F),
        curve.q.wrapping_sub(&U512::ONE),
        curve.q.wrapping_sub(&U512::from_u8(8)),
        curve.q.shr_vartime(1),
    ];
    // A simple generator: spread, not secrecy.
    let mut x = U512::from_u64(0x2545_f491_4f6c_dd1d);
    for _ in 0..12 {
        x = x
            .wrapping_mul(&U512::from_u64(6_364_136_223_846_793_005))
            .wrapping_add(&U512::from_u64(1_442_695_040_888_963_407));
        scalars.push(x.rem(&crypto_bigint::NonZero::new(curve.q).unwrap()));
    }
    scalars
}

fn fixed_base_agrees_with_windowed(curve: &Curve) {
    for k in edge_scalars(curve) {
        assert_eq!(
            constant_time::mul(curve, &k, &curve.gx, &curve.gy),
            constant_time::mul_without_tables(curve, &k, &curve.gx, &curve.gy),
            "k = {k}"
        );
    }
}

fn verification_table_agrees(curve: &Curve) {
    let scalars = edge_scalars(curve);
    // An arbitrary public point: 7·G, from the generic path.
    let (px, py) =
        constant_time::mul_without_tables(curve, &U512::from_u8(7), &curve.gx, &curve.gy).unwrap();
    for pair in scalars.windows(2) {
        let (k1, k2) = (&pair[0], &pair[1]);
        // k1·G + k2·(7G) = (k1 + 7·k2)·G
        let qp = curve.q_params.unwrap();
        let seven = Scalar::new(&U512::from_u8(7), qp);
        let sum = Scalar::new(k2, qp).mul(&seven).add(&Scalar::new(k1, qp));
        let expected =
            constant_time::mul_without_tables(curve, &sum.retrieve(), &curve.gx, &curve.gy)
                .map(|p| p.0);
        assert_eq!(
            curve.base_and_point_x(k1, k2, &px, &py),
            expected,
            "{k1} {k2}"
        );
    }
}

#[test]
fn gost_2015_fixed_base_agrees_with_windowed() {
    fixed_base_agrees_with_windowed(Curve::tc26_512_a());
}

#[test]
fn gost_2004_fixed_base_agrees_with_windowed() {
    fixed_base_agrees_with_windowed(Curve::cryptopro_a());
}

#[test]
fn gost_2015_verification_table_agrees() {
    verification_table_agrees(Curve::tc26_512_a());
}

#[test]
fn gost_2004_verification_table_agrees() {
    verification_table_agrees(Curve::cryptopro_a());
}

/// Verification's variable-time inverse modulo q agrees with the constant-time one.
#[test]
fn vartime_inverse_mod_q_agrees() {
    for curve in [Curve::tc26_512_a(), Curve::cryptopro_a()] {
        let qp = curve.q_params.unwrap();
        for a in edge_scalars(curve).into_iter().filter(|a| a != &U512::ZERO) {
            let expected = Scalar::new(&a, qp).invert().0.retrieve();
            assert_eq!(invert_vartime(&a, &curve.q), Some(expected), "{a}");
        }
        assert_eq!(invert_vartime(&U512::ZERO, &curve.q), None);
    }
    // A common factor has no inverse.
    assert_eq!(invert_vartime(&U512::from_u8(6), &U512::from_u8(9)), None);
}

/// Verification compares x_C mod q with r without an inversion, so it must try every x below p
/// congruent to r: on the 256-bit set A (cofactor 4, q ≈ p/4) x_C is usually r + q, r + 2q or
/// r + 3q. A signature whose x_C is at least 2q verifies (and a wrong r still fails).
#[test]
fn verification_finds_x_above_q() {
    let curve = Curve::tc26_256_a();
    let key = super::PrivateKey::from_le_bytes(curve, &[0x11; 32]).unwrap();
    let digest = [0x42u8; 32];
    let k = (1u8..)
        .map(U512::from_u8)
        .find(|k| {
            constant_time::mul(curve, k, &curve.gx, &curve.gy)
                .unwrap()
                .0
                >= curve.q
        })
        .unwrap();
    let mut signature = key.sign_digest_with_k(&digest, &k).unwrap();
    assert!(curve.verify_le(key.public_key_xy_le(), &digest, &signature));
    signature[0] ^= 1;
    assert!(!curve.verify_le(key.public_key_xy_le(), &digest, &signature));
}
