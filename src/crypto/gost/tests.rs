//! Tests of GOST R 34.10-2012 verification and Streebog.

use super::curve::*;
use super::*;
use crypto_bigint::Encoding as _;
use der::{Decode as _, Encode as _};

pub(super) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub(super) fn big(s: &str) -> U512 {
    parse_hex(s).unwrap()
}

// GOST R 34.11-2012 §A.1 / A.2 examples M1 and M2, 512-bit hashes. The standard writes message
// and hash as big-endian numbers; the byte strings here are those reversed (little-endian), as
// the streebog crate and GOST signatures use them.
#[test]
fn streebog512_standard_m1() {
    let m1 = b"012345678901234567890123456789012345678901234567890123456789012";
    let expected = "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa\
                    00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48";
    assert_eq!(streebog512(m1).to_vec(), unhex(expected));
}

#[test]
fn streebog512_standard_m2() {
    let m2 = unhex(
        "d1e520e2e5f2f0e82c20d1f2f0e8e1eee6e820e2edf3f6e82c20e2e5fef2fa20f1\
         20eceef0ff20f1f2f0e5ebe0ece820ede020f5f0e0e1f0fbff20efebfaeafb20c8e3eef0e5e2fb",
    );
    let expected = "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376\
                    035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28";
    assert_eq!(streebog512(&m2).to_vec(), unhex(expected));
}

/// GOST R 34.10-2012 Appendix A.1's 256-bit test curve (RFC 7091 §A.1): the same numbers as
/// GOST R 34.10-2001's example (RFC 5832 §7.1, there in decimal).
pub(super) fn example_curve_256() -> Curve {
    Curve::from_hex(
        "8000000000000000000000000000000000000000000000000000000000000431",
        "7",
        "5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E",
        "8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3",
        "2",
        "08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8",
        32,
    )
}

/// GOST R 34.10-2012 Appendix A.1 (= RFC 7091 §A.1), 256-bit test curve.
#[test]
fn rfc7091_example_256() {
    let curve = example_curve_256();
    let e = big("2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5");
    let qx = big("7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B");
    let qy = big("26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA");
    let r = big("41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493");
    let s = big("01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40");
    assert!(curve.verify_integers(&e, &qx, &qy, &r, &s));
    assert!(!curve.verify_integers(&e.wrapping_add(&U512::ONE), &qx, &qy, &r, &s));
    assert!(!curve.verify_integers(&e, &qx, &qy, &s, &r));

    // The same through the little-endian byte interface.
    let le = |v: &U512| v.to_le_bytes()[..32].to_vec();
    let key = [le(&qx), le(&qy)].concat();
    let sig = [le(&r), le(&s)].concat();
    assert!(curve.verify_le(&key, &le(&e), &sig));
    assert!(!curve.verify_le(&key[..63], &le(&e), &sig));
}

/// GOST R 34.10-2012 Appendix A.2 (= RFC 7091 §A.2), 512-bit test curve.
#[test]
fn rfc7091_example_512() {
    let curve = Curve::from_hex(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D\
         F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
        "7",
        "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43\
         61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D\
         A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
        "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762\
         FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
        "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C\
         83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E",
        64,
    );
    let e = big(
        "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C591\
                 7184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C",
    );
    let qx = big(
        "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD\
                  5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1",
    );
    let qy = big(
        "37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61\
                  EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC",
    );
    let r = big(
        "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD3\
                 5492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36",
    );
    let s = big(
        "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5\
                 823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A",
    );
    assert!(curve.verify_integers(&e, &qx, &qy, &r, &s));
    assert!(!curve.verify_integers(&e.wrapping_add(&U512::ONE), &qx, &qy, &r, &s));
}

#[test]
fn parse_hex_rejects_garbage() {
    assert_eq!(parse_hex("0x12"), None);
    assert_eq!(parse_hex(&"1".repeat(129)), None);
    assert_eq!(parse_hex("1ff"), Some(U512::from_u64(0x1ff)));
    assert_eq!(parse_hex("é"), None);
    assert_eq!(parse_hex("+1"), None);
}

/// The base point lies on the curve and has order q (q·G is the point at infinity).
pub(super) fn check_domain(c: &Curve) {
    assert!(c.contains(&c.gx, &c.gy));
    assert!(!c.contains(&c.gx, &c.gy.wrapping_add(&U512::ONE)));
    let (gx, gy) = (&c.gx, &c.gy);
    let q_minus_1 = c.q.wrapping_sub(&U512::ONE);
    // Variable-time (wNAF) and constant-time (fixed windows) multiplications.
    assert_eq!(c.base_and_point_x(&c.q, &U512::ZERO, gx, gy), None);
    assert_eq!(
        c.base_and_point_x(&q_minus_1, &U512::ZERO, gx, gy),
        Some(c.gx)
    );
    assert_eq!(constant_time::mul(c, &c.q, gx, gy), None);
    assert_eq!(
        constant_time::mul(c, &q_minus_1, gx, gy).map(|p| p.0),
        Some(c.gx)
    );
    // k·G + (q − k)·G is the point at infinity; k1·G + k2·G = (k1 + k2)·G; both ways agree.
    let mut k = c.q.shr_vartime(3).wrapping_add(&U512::from_u64(12345));
    for step in 0..6u64 {
        let other =
            c.q.shr_vartime(1 + step as usize)
                .wrapping_add(&U512::from_u64(step * 977));
        assert_eq!(c.base_and_point_x(&k, &c.q.wrapping_sub(&k), gx, gy), None);
        let sum = k.add_mod(&other, &c.q);
        let expected = constant_time::mul(c, &sum, gx, gy).map(|p| p.0);
        assert!(expected.is_some());
        assert_eq!(c.base_and_point_x(&k, &other, gx, gy), expected);
        assert_eq!(c.base_and_point_x(&sum, &U512::ZERO, gx, gy), expected);
        k = k
            .wrapping_mul(&U512::from_u64(0x5851_f42d_4c95_7f2d))
            .rem(&crypto_bigint::NonZero::new(c.q).unwrap());
    }
}

#[test]
fn tc26_512_a_domain() {
    check_domain(Curve::tc26_512_a());
}

#[test]
fn tc26_256_a_domain() {
    check_domain(Curve::tc26_256_a());
}

#[test]
fn malformed_input_is_rejected_without_panic() {
    let zero_key = [0u8; 128];
    let ones = [0xffu8; 128];
    assert!(!verify_512(&zero_key, b"x", &[0u8; 128]));
    assert!(!verify_512(&ones, b"x", &ones));
    assert!(!verify_digest_512(&ones, &[0u8; 64], &[1u8; 128]));
    assert_eq!(public_key_512_from_spki_bits(&[]), None);
    assert_eq!(public_key_512_from_spki_bits(&[0x04, 0x01, 0x00]), None);
    // A curve with an even or zero modulus must not panic either.
    let bad = Curve::from_hex("10", "1", "1", "7", "1", "1", 1);
    assert!(!bad.verify_le(&[1, 1], &[1], &[1, 1]));
    let zero = Curve::from_hex("0", "0", "0", "0", "0", "0", 1);
    assert!(!zero.verify_le(&[0, 0], &[0], &[1, 1]));
    assert!(!zero.contains(&U512::ZERO, &U512::ZERO));
}

// ---- The real NCA RK GOST chain (fixtures/nca/gost, from shared/nca-test/gost) ----

struct Parsed {
    tbs: Vec<u8>,
    signature: [u8; 128],
    key: [u8; 128],
    sig_alg: String,
    key_alg: String,
}

fn parse(der_bytes: &[u8]) -> Parsed {
    let cert = x509_cert::Certificate::from_der(der_bytes).unwrap();
    let spki = &cert.tbs_certificate.subject_public_key_info;
    Parsed {
        tbs: cert.tbs_certificate.to_der().unwrap(),
        signature: cert.signature.raw_bytes().try_into().unwrap(),
        key: public_key_512_from_spki_bits(spki.subject_public_key.raw_bytes()).unwrap(),
        sig_alg: cert.signature_algorithm.oid.to_string(),
        key_alg: spki.algorithm.oid.to_string(),
    }
}

const ROOT: &[u8] = include_bytes!("../../../fixtures/nca/gost/root_test_gost_2022.cer");
const CA: &[u8] = include_bytes!("../../../fixtures/nca/gost/nca_gost2022_test.cer");
const INDIVIDUAL: &[u8] = include_bytes!("../../../fixtures/nca/gost/individual_valid.cer");

#[test]
fn nca_oids_are_the_ones_in_the_certificates() {
    for der_bytes in [ROOT, CA, INDIVIDUAL] {
        let p = parse(der_bytes);
        assert_eq!(p.sig_alg, OID_NCA_GOST_512_SIGNATURE);
        assert_eq!(p.key_alg, OID_NCA_GOST_512_PUBLIC_KEY);
    }
}

#[test]
fn nca_root_is_self_signed() {
    let root = parse(ROOT);
    assert!(verify_512(&root.key, &root.tbs, &root.signature));
}

#[test]
fn nca_issuing_ca_is_signed_by_the_root() {
    let root = parse(ROOT);
    let ca = parse(CA);
    assert!(verify_512(&root.key, &ca.tbs, &ca.signature));
    assert!(!verify_512(&ca.key, &ca.tbs, &ca.signature));
}

#[test]
fn nca_individual_is_signed_by_the_issuing_ca() {
    let ca = parse(CA);
    let ind = parse(INDIVIDUAL);
    assert!(verify_512(&ca.key, &ind.tbs, &ind.signature));
    assert!(verify_digest_512(
        &ca.key,
        &streebog512(&ind.tbs),
        &ind.signature
    ));
}

#[test]
fn nca_tampered_tbs_or_signature_fails() {
    let ca = parse(CA);
    let ind = parse(INDIVIDUAL);
    let mut tbs = ind.tbs.clone();
    let middle = tbs.len() / 2;
    tbs[middle] ^= 0x01;
    assert!(!verify_512(&ca.key, &tbs, &ind.signature));
    let mut sig = ind.signature;
    sig[0] ^= 0x01;
    assert!(!verify_512(&ca.key, &ind.tbs, &sig));
}

// ---- Signing and key generation ----

/// A curve that lives as long as the test process, as `PrivateKey` wants.
pub(super) fn leak(curve: Curve) -> &'static Curve {
    Box::leak(Box::new(curve))
}

pub(super) fn le_bytes(v: &U512, size: usize) -> Vec<u8> {
    v.to_le_bytes()[..size].to_vec()
}

/// RFC 7091 §A.1 and §A.2 fix d and k: our key generation gives their public key and our
/// signing their (r, s) — known answers for the constant-time scalar multiplication too.
#[test]
fn rfc7091_signing_known_answers() {
    struct Example {
        curve: Curve,
        d: &'static str,
        k: &'static str,
        e: &'static str,
        qx: &'static str,
        r: &'static str,
        s: &'static str,
    }
    let examples = [
        Example {
            curve: example_curve_256(),
            d: "7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28",
            k: "77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3",
            e: "2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5",
            qx: "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B",
            r: "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493",
            s: "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40",
        },
        Example {
            curve: Curve::from_hex(
                "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D\
                 F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
                "7",
                "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43\
                 61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
                "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D\
                 A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
                "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762\
                 FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
                "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C\
                 83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E",
                64,
            ),
            d: "0BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B1020\
                72E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4",
            k: "0359E7F4B1410FEACC570456C6801496946312120B39D019D455986E364F3658\
                86748ED7A44B3E794434006011842286212273A6D14CF70EA3AF71BB1AE679F1",
            e: "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C591\
                7184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C",
            qx: "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD\
                 5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1",
            r: "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD3\
                5492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36",
            s: "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5\
                823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A",
        },
    ];
    for ex in examples {
        let size = ex.curve.size;
        let unspace = |s: &str| s.split_whitespace().collect::<String>();
        let curve = leak(ex.curve);
        let key = PrivateKey::from_le_bytes(curve, &le_bytes(&big(&unspace(ex.d)), size)).unwrap();
        assert_eq!(
            &key.public_key_xy_le()[..size],
            &le_bytes(&big(&unspace(ex.qx)), size)[..]
        );
        let e_le = le_bytes(&big(&unspace(ex.e)), size);
        let signature = key.sign_digest_with_k(&e_le, &big(&unspace(ex.k))).unwrap();
        let expected = [
            le_bytes(&big(&unspace(ex.r)), size),
            le_bytes(&big(&unspace(ex.s)), size),
        ]
        .concat();
        assert_eq!(signature, expected);
        // And the hedged, RFC 6979-style nonce path signs verifiably.
        let signature = key.sign_digest(&e_le).unwrap();
        assert!(curve.verify_le(key.public_key_xy_le(), &e_le, &signature));
    }
}

#[test]
fn the_real_nca_private_key_gives_its_certificates_public_key() {
    let pfx = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nca/gost/individual_valid.p12"
    ))
    .unwrap();
    let contents = crate::keystore::open_pkcs12(&pfx, "Qwerty12").unwrap();
    let pkcs8 = &contents.private_key_pkcs8;
    let d_le = &pkcs8[pkcs8.len() - 64..];
    let key = PrivateKey::from_le_bytes(Curve::tc26_512_a(), d_le).unwrap();
    let cert = parse(&contents.certificate);
    assert_eq!(key.public_key_xy_le(), &cert.key[..]);
    // A signature by the real key verifies under the certificate's key, and only over its message.
    let signature: [u8; 128] = key
        .sign_digest(&streebog512(b"license request"))
        .unwrap()
        .try_into()
        .unwrap();
    assert!(verify_512(&cert.key, b"license request", &signature));
    assert!(!verify_512(&cert.key, b"license request!", &signature));
}

#[test]
fn nonces_never_repeat_and_are_deterministic_only_for_the_same_seed() {
    let key = PrivateKey::generate(Curve::tc26_512_a()).unwrap();
    let digest = streebog512(b"document");
    let a = key.sign_digest(&digest).unwrap();
    let b = key.sign_digest(&digest).unwrap();
    // Fresh randomness in the seed: the same message signs differently (r differs, so k did).
    assert_ne!(a[..64], b[..64]);
    // Same key, digest and extra seed: the same k (the RFC 6979 part is deterministic) ...
    let c = key.sign_digest_hedged(&digest, b"seed").unwrap();
    let d = key.sign_digest_hedged(&digest, b"seed").unwrap();
    assert_eq!(c, d);
    // ... and another digest with the same extra seed gets another k.
    let other = key
        .sign_digest_hedged(&streebog512(b"other"), b"seed")
        .unwrap();
    assert_ne!(c[..64], other[..64]);
    for signature in [a, b, c, d] {
        let signature: [u8; 128] = signature.try_into().unwrap();
        let public: [u8; 128] = key.public_key_xy_le().try_into().unwrap();
        assert!(verify_digest_512(&public, &digest, &signature));
    }
}

#[test]
fn private_keys_out_of_range_are_refused() {
    let curve = Curve::tc26_512_a();
    assert!(PrivateKey::from_le_bytes(curve, &[0u8; 64]).is_err());
    assert!(PrivateKey::from_le_bytes(curve, &[1u8; 63]).is_err());
    assert!(PrivateKey::from_le_bytes(curve, &le_bytes(&curve.q, 64)).is_err());
    assert!(PrivateKey::from_le_bytes(curve, &[0xffu8; 64]).is_err());
    let q_minus_1 = curve.q.wrapping_sub(&U512::ONE);
    // (q−1)·G = −G: same x as G.
    let key = PrivateKey::from_le_bytes(curve, &le_bytes(&q_minus_1, 64)).unwrap();
    assert_eq!(&key.public_key_xy_le()[..64], &le_bytes(&curve.gx, 64)[..]);
    assert!(!format!("{key:?}").contains(&hex::encode(key.to_le_bytes())));
}

#[test]
fn the_256_bit_set_a_signs_and_verifies() {
    let curve = Curve::tc26_256_a();
    let key = PrivateKey::generate(curve).unwrap();
    let digest = [7u8; 32];
    let signature = key.sign_digest(&digest).unwrap();
    assert!(curve.verify_le(key.public_key_xy_le(), &digest, &signature));
    assert!(!curve.verify_le(key.public_key_xy_le(), &[8u8; 32], &signature));
}
