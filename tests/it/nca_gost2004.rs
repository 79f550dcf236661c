//! NCA's real GOST 34.310-2004 material, each piece a test: the OCSP answer about the CEO's
//! revoked 2004 key, the time-stamp token of NCA's TSA, and CMS and XML signatures we make with
//! NCA's 2004 key store — judged by the same pipeline as every other signature.

use qoltanba::verify::{Answer, Report, Request, RevocationScope, Settings, Verdict, Verifier};
use qoltanba::x509::{Cert, RevocationReason};

use crate::verify_xml::{at, check, passed};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/kalkan/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).expect("fixture")
}

fn time(text: &str) -> i64 {
    qoltanba::time::parse_rfc3339(text).expect("time")
}

/// NCA's 2004 issuing CA "ҰКО 3.0 (GOST TEST)" (its root is not among the samples, so it is the
/// anchor and revocation is asked of the signer only) and its CRL, offline.
fn verifier() -> Verifier {
    Verifier::new(Settings {
        anchors: vec![("nca_gost_test.crt".into(), fixture("pki/nca_gost_test.crt"))],
        crls: vec![("nca_gost_test.crl".into(), fixture("pki/nca_gost_test.crl"))],
        offline: true,
        revocation_scope: RevocationScope::Leaf,
        ..Settings::default()
    })
    .expect("verifier")
}

async fn verify(signature: Vec<u8>, when: &str) -> Report {
    verifier()
        .verify(&Request {
            signature,
            at: at(when),
            ..Request::default()
        })
        .await
}

const STORE: &str = "test_keys/KEY_CEO_SIGN_REVOKED_2004.p12";
/// Inside the key's certificate validity (from 04:46:14) and before the CRL's revocation
/// (04:47:37) on 2022-01-18.
const WHILE_VALID: &str = "2022-01-18T04:47:00Z";
const AFTER_REVOCATION: &str = "2022-06-01T00:00:00Z";
const REQUEST: &[u8] = br#"{"applicant":{"iin":"123456789011","bin":"123456789021"}}"#;

fn identity() -> qoltanba::sign::SignerIdentity {
    qoltanba::sign::identity_from_pkcs12(&fixture(STORE), "Qwerty12", time(WHILE_VALID))
        .expect("NCA's 2004 key store signs while its certificate is valid")
}

#[test]
fn ncas_2004_ocsp_answer_verifies_and_reads_revoked_with_time_and_reason() {
    let contents = qoltanba::keystore::open_pkcs12(&fixture(STORE), "Qwerty12").expect("store");
    let cert = Cert::from_der(&contents.certificate).expect("the CEO's certificate");
    let issuer = qoltanba::verify::read_certificate(&fixture("pki/nca_gost_test.crt")).expect("CA");
    let response = fixture("tsp_ocsp/ocsp_response_ceo_sign_2004_revoked.der");
    // The nonce NCA's responder echoed (the request was Kalkan's), and a moment after it answered.
    let nonce = qoltanba::fuzzing::ocsp_nonce_value(&hex::decode("8B6B9F100D6B0005").unwrap())
        .expect("nonce");
    let now = time("2022-09-02T17:00:00Z");
    let answer = qoltanba::fuzzing::ocsp_check_response(&response, &cert, &issuer, &nonce, now)
        .expect("the GOST 34.310-2004 signature of NCA's responder verifies");
    match answer {
        Answer::Revoked { at, reason, .. } => {
            assert_eq!(qoltanba::time::rfc3339(at), "2022-01-18T06:30:55Z");
            assert_eq!(reason, RevocationReason::from_code(4), "superseded");
        }
        other => panic!("NCA says revoked, we read {other:?}"),
    }

    // One bit of the signature changed: refused as a signature failure.
    let basic = basic_signature(&response);
    let at_sig = response
        .windows(basic.len())
        .position(|w| w == basic.as_slice())
        .expect("signature bytes");
    let mut forged = response.clone();
    forged[at_sig + 10] ^= 0x01;
    let error = qoltanba::fuzzing::ocsp_check_response(&forged, &cert, &issuer, &nonce, now)
        .expect_err("a changed signature");
    assert!(error.contains("does not verify"), "{error}");
    // Another certificate of the same CA is not what this answer is about.
    let other = qoltanba::verify::read_certificate(&fixture("pki/ceo_valid_sign_2004_gost.cer"))
        .expect("certificate");
    let error = qoltanba::fuzzing::ocsp_check_response(&response, &other, &issuer, &nonce, now)
        .expect_err("another certificate");
    assert!(error.contains("another certificate"), "{error}");
}

/// The signature BIT STRING's bytes of a DER OCSPResponse.
fn basic_signature(response: &[u8]) -> Vec<u8> {
    use der::Decode as _;
    let outer = x509_ocsp::OcspResponse::from_der(response).expect("OCSP response");
    let bytes = outer.response_bytes.expect("body");
    let basic = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()).expect("basic");
    basic.signature.raw_bytes().to_vec()
}

#[tokio::test]
async fn ncas_time_stamp_token_is_a_cms_whose_2004_signature_verifies() {
    let token = fixture("tsp_ocsp/tsp_token_cms_gost2004_tsa.der");
    // genTime 2022-09-18T13:20:14Z, inside the TSA certificate's validity and the CRL's period.
    let report = verify(token.clone(), "2022-09-18T13:20:14Z").await;
    for step in ["format", "signature", "chain", "validity", "revocation"] {
        assert!(passed(&report.checks, step), "{step}: {:?}", report.checks);
    }
    let signer = &report.signers[0];
    assert_eq!(signer.algorithm.as_deref(), Some("GOST 34.310-2004"));
    assert_eq!(signer.subject.cn.as_deref(), Some("СЕРВИС МЕТКИ ВРЕМЕНИ"));
    assert!(
        check(&report.checks, "signature")
            .detail
            .starts_with("GOST 34.310-2004 signature by"),
        "{:?}",
        report.checks
    );
    // A time-stamping key (critical EKU timeStamping) is not a document signer's key.
    assert_eq!(report.verdict, Verdict::Invalid, "{:?}", report.checks);
    let key_usage = check(&report.checks, "key_usage");
    assert_eq!(key_usage.code, "NOT_FOR_PURPOSE", "{key_usage:?}");
    assert!(key_usage.detail.contains("time-stamping"), "{key_usage:?}");

    // One byte of the TSTInfo changed (inside the serial number): the messageDigest, a
    // GOST R 34.11-94 digest, no longer matches.
    let tst_info_serial = hex::decode("1465DAD126D32BF7AA5D3B95A5C7C331CDFF34DF").unwrap();
    let at_serial = token
        .windows(tst_info_serial.len())
        .position(|w| w == tst_info_serial.as_slice())
        .expect("the TSTInfo's message imprint");
    let mut changed = token;
    changed[at_serial + 5] ^= 0x01;
    let report = verify(changed, "2022-09-18T13:20:14Z").await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report.checks, "signature").code, "HASH_FAILURE");
}

#[tokio::test]
async fn a_cms_signed_with_ncas_2004_key_store_is_valid_then_revoked_per_the_crl() {
    let identity = identity();
    assert_eq!(
        identity.key.algorithm(),
        qoltanba::crypto::KeyAlgorithm::Gost2004
    );
    let cms =
        qoltanba::sign::cades::sign(REQUEST, &identity, false, time(WHILE_VALID)).expect("sign");
    let report = verify(cms.clone(), WHILE_VALID).await;
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", report.checks);
    assert_eq!(
        report.signers[0].algorithm.as_deref(),
        Some("GOST 34.310-2004")
    );

    let later = verify(cms, AFTER_REVOCATION).await;
    assert_eq!(later.verdict, Verdict::Invalid, "{:?}", later.checks);
    let revocation = check(&later.checks, "revocation");
    assert_eq!(revocation.code, "REVOKED", "{revocation:?}");
}

#[tokio::test]
async fn an_xml_request_signed_with_ncas_2004_key_uses_the_gost34310_uris_and_verifies() {
    let request = br#"<request><applicant><iin>123456789011</iin><bin>123456789021</bin></applicant></request>"#;
    let signed = qoltanba::sign::xml::sign_enveloped(request, &identity()).expect("sign XML");
    let text = String::from_utf8(signed.clone()).expect("UTF-8");
    assert!(text.contains(
        r#"SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311""#
    ));
    assert!(text
        .contains(r#"DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#gost34311""#));
    let report = verify(signed.clone(), WHILE_VALID).await;
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", report.checks);
    assert_eq!(
        report.signers[0].algorithm.as_deref(),
        Some("GOST 34.310-2004")
    );

    let changed = text.replace("123456789021", "123456789022");
    let report = verify(changed.into_bytes(), WHILE_VALID).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    let signature = check(&report.checks, "signature");
    assert_eq!(signature.code, "REFERENCE_DIGEST_MISMATCH", "{signature:?}");
}

/// `qoltanba sign` takes NCA's 2004 key store and names why it will not sign today: the
/// certificate expired (the algorithm itself is supported).
#[test]
fn the_cli_recognises_the_2004_key_and_refuses_it_only_for_its_expiry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("pw");
    std::fs::write(&password, "Qwerty12\n").expect("write");
    let input = dir.path().join("request.json");
    std::fs::write(&input, REQUEST).expect("write");
    let out = dir.path().join("request.p7s");
    let store = format!("{}/fixtures/kalkan/{STORE}", env!("CARGO_MANIFEST_DIR"));
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args(["sign", "--input"])
        .arg(&input)
        .args(["--key", &store, "--password-file"])
        .arg(&password)
        .arg("--out")
        .arg(&out)
        .env_remove("QOLTANBA_CONFIG")
        .env("QOLTANBA_DATA_DIR", "/nonexistent/qoltanba-test")
        .output()
        .expect("run qoltanba sign");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("expired at 2023-01-18"), "{stderr}");
    assert!(!stderr.contains("not supported"), "{stderr}");
    assert!(!out.exists(), "nothing is written when signing is refused");
}
