//! Known answers and NCA's real material for GOST 34.310-2004: GOST R 34.11-94 (RFC 5831),
//! GOST R 34.10-2001 (RFC 5832) and the CryptoPro-A curve.

use super::curve::*;
use super::tests::{big, check_domain, example_curve_256, le_bytes, leak, unhex};
use super::*;
use der::{Decode as _, DecodePem as _, Encode as _};

/// RFC 5831 §10 (and the GOST R 34.11-94 examples it reproduces): the digests as the hash
/// function outputs them, for the Test S-boxes (§10.2) and the CryptoPro S-boxes (§10.3).
#[test]
fn rfc5831_known_answers_for_both_sbox_sets() {
    let fifty = b"Suppose the original message has length = 50 bytes";
    let thirty_two = b"This is message, length=32 bytes";
    assert_eq!(fifty.len(), 50);
    assert_eq!(thirty_two.len(), 32);
    let u128 = [b'U'; 128];
    let cases: [(&[u8], &str, &str); 8] = [
        (
            b"",
            "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d",
            "981e5f3ca30c841487830f84fb433e13ac1101569b9c13584ac483234cd656c0",
        ),
        (
            b"a",
            "d42c539e367c66e9c88a801f6649349c21871b4344c6a573f849fdce62f314dd",
            "e74c52dd282183bf37af0079c9f78055715a103f17e3133ceff1aacf2f403011",
        ),
        (
            b"abc",
            "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d",
            "b285056dbf18d7392d7677369524dd14747459ed8143997e163b2986f92fd42c",
        ),
        (
            b"message digest",
            "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d",
            "bc6041dd2aa401ebfa6e9886734174febdb4729aa972d60f549ac39b29721ba0",
        ),
        (
            &u128,
            "53a3a3ed25180cef0c1d85a074273e551c25660a87062a52d926a9e8fe5733a4",
            "1c4ac7614691bbf427fa2316216be8f10d92edfd37cd1027514c1008f649c4e8",
        ),
        (
            thirty_two,
            "b1c466d37519b82e8319819ff32595e047a28cb6f83eff1c6916a815a637fffa",
            "2cefc2f7b7bdc514e18ea57fa74ff357e7fa17d652c75f69cb1be7893ede48eb",
        ),
        (
            fifty,
            "471aba57a60a770d3a76130635c1fbea4ef14de51f78b4ae57dd893b62f55208",
            "c3730c5cbccacf915ac292676f21e8bd4ef75331d9405e5f1a61dc3130a65011",
        ),
        (
            b"The quick brown fox jumps over the lazy dog",
            "77b7fa410c9ac58a25f49bca7d0468c9296529315eaca76bd1a10f376d1f4294",
            "9004294a361a508c586fe53d1f1b02746765e71b765472786e4770d565830a76",
        ),
    ];
    for (message, test_set, cryptopro_set) in cases {
        let shown = String::from_utf8_lossy(&message[..message.len().min(20)]).into_owned();
        assert_eq!(hex::encode(gost94_test(message)), test_set, "Test: {shown}");
        assert_eq!(
            hex::encode(gost94_cryptopro(message)),
            cryptopro_set,
            "CryptoPro: {shown}"
        );
    }
    // A million 'a': the long-message case, across many blocks.
    let million = vec![b'a'; 1_000_000];
    assert_eq!(
        hex::encode(gost94_test(&million)),
        "5c00ccc2734cdd3332d3d4749576e3c1a7dbaf0e7ea74e9fa602413c90a129fa"
    );
    assert_eq!(
        hex::encode(gost94_cryptopro(&million)),
        "8693287aa62f9478f7cb312ec0866b6c4e4a0f11160441e8f4ffcd2715dd554f"
    );
    // The suite hashes with the Test set, as NCA does.
    assert_eq!(Suite::Gost2004.hash(b"abc"), gost94_test(b"abc").to_vec());
}

#[test]
fn cryptopro_a_domain() {
    let curve = Curve::cryptopro_a();
    check_domain(curve);
    // a = −3: the doubling shortcut applies.
    assert_eq!(curve.a.wrapping_add(&U512::from_u8(3)), curve.p);
}

/// RFC 5832 §7.1 (GOST R 34.10-2001's example, given there in decimal; GOST R 34.10-2012 kept
/// it as its 256-bit Example 1): the public key from d, the signature from the fixed k, and its
/// verification.
#[test]
fn rfc5832_example_signs_with_its_k_and_verifies() {
    let curve = leak(example_curve_256());
    let d = big("7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28");
    let k = big("77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3");
    let e = big("2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5");
    let qx = big("7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B");
    let qy = big("26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA");
    let r = big("41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493");
    let s = big("01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40");
    let key = PrivateKey::from_le_bytes(curve, &le_bytes(&d, 32)).unwrap();
    let public = [le_bytes(&qx, 32), le_bytes(&qy, 32)].concat();
    assert_eq!(key.public_key_xy_le(), &public[..]);
    let signature = key.sign_digest_with_k(&le_bytes(&e, 32), &k).unwrap();
    assert_eq!(signature, [le_bytes(&r, 32), le_bytes(&s, 32)].concat());
    assert!(curve.verify_integers(&e, &qx, &qy, &r, &s));
    assert!(!curve.verify_integers(&e.wrapping_add(&U512::ONE), &qx, &qy, &r, &s));
    assert!(!curve.verify_integers(&e, &qx, &qy, &r.wrapping_add(&U512::ONE), &s));
}

// ---- NCA's real GOST 34.310-2004 material (fixtures/kalkan/pki, from kalkan-samples) ----

const CA_PEM: &str = include_str!("../../../fixtures/kalkan/pki/nca_gost_test.crt");
const CEO_PEM: &str = include_str!("../../../fixtures/kalkan/pki/ceo_valid_sign_2004_gost.cer");
const CRL: &[u8] = include_bytes!("../../../fixtures/kalkan/pki/nca_gost_test.crl");

fn key_of(cert: &x509_cert::Certificate) -> Vec<u8> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    Suite::Gost2004
        .public_key_from_spki_bits(spki.subject_public_key.raw_bytes())
        .unwrap()
}

#[test]
fn ncas_2004_certificate_verifies_under_its_ca_and_only_there() {
    let ca = x509_cert::Certificate::from_pem(CA_PEM).unwrap();
    let ceo = x509_cert::Certificate::from_pem(CEO_PEM).unwrap();
    assert_eq!(
        ceo.signature_algorithm.oid.to_string(),
        "1.2.398.3.10.1.1.1.2"
    );
    let tbs = ceo.tbs_certificate.to_der().unwrap();
    let signature = ceo.signature.raw_bytes();
    assert_eq!(signature.len(), 64);
    assert!(Suite::Gost2004.verify(&key_of(&ca), &tbs, signature));
    // Not under the subject's own key, not over a changed certificate, not with Streebog.
    assert!(!Suite::Gost2004.verify(&key_of(&ceo), &tbs, signature));
    let mut changed = tbs.clone();
    changed[40] ^= 1;
    assert!(!Suite::Gost2004.verify(&key_of(&ca), &changed, signature));
    let streebog_256_digest = &streebog512(&tbs)[..32];
    assert!(!Curve::cryptopro_a().verify_le(&key_of(&ca), streebog_256_digest, signature));
}

#[test]
fn ncas_2004_crl_verifies_under_its_ca() {
    let ca = x509_cert::Certificate::from_pem(CA_PEM).unwrap();
    let crl = x509_cert::crl::CertificateList::from_der(CRL).unwrap();
    let tbs = crl.tbs_cert_list.to_der().unwrap();
    assert!(Suite::Gost2004.verify(&key_of(&ca), &tbs, crl.signature.raw_bytes()));
}

#[test]
fn a_2004_key_signs_verifiably_with_a_fresh_nonce_each_time() {
    let key = PrivateKey::generate(Curve::cryptopro_a()).unwrap();
    let digest = Suite::Gost2004.hash(b"license 0001");
    let a = key.sign_digest(&digest).unwrap();
    let b = key.sign_digest(&digest).unwrap();
    assert_eq!(a.len(), 64);
    assert_ne!(a, b);
    for signature in [&a, &b] {
        assert!(Suite::Gost2004.verify(key.public_key_xy_le(), b"license 0001", signature));
        assert!(!Suite::Gost2004.verify(key.public_key_xy_le(), b"license 0002", signature));
    }
    // Wrong lengths are refused, not read past.
    assert!(!Suite::Gost2004.verify(key.public_key_xy_le(), b"license 0001", &a[..63]));
    assert!(!Suite::Gost2004.verify(&key.public_key_xy_le()[..63], b"license 0001", &a));
    assert_eq!(
        Suite::Gost2004.public_key_from_spki_bits(&unhex("0401ff")),
        None
    );
}
