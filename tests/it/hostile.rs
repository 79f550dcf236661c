//! Hostile input (issue 6): each case is refused with a clear report or error, never a panic,
//! with bounded memory and time. Where an older test already asserts a case it is named here
//! rather than duplicated.
//!
//! 1. CMS with zero SignerInfos: `verify_own::zero_signer_infos_is_never_valid` (format
//!    NO_SIGNER, every later step skipped, invalid).
//! 2. A SignerInfo whose certificate is swapped for another with the same issuer/serial:
//!    `hostile::a_certificate_with_the_same_issuer_and_serial_but_another_key_never_verifies`.
//! 3. Two messageDigest values (two attributes, or one attribute with two values):
//!    `hostile::two_message_digests_are_refused`.
//! 4. Signed contentType differing from eContentType:
//!    `hostile::a_content_type_that_differs_from_the_econtent_type_is_refused`.
//! 5. Algorithm identifiers that lie: in the CMS,
//!    `hostile::signature_algorithms_that_do_not_fit_the_key_are_refused`; in certificates,
//!    `hostile::chain::certificate_algorithms_that_lie_break_the_chain`.
//! 6. A certificate with an unknown critical extension:
//!    `hostile::chain::unknown_critical_extensions_in_the_signer_or_a_ca_are_refused`.
//! 7. A 30-level certificate chain: `hostile::chain::a_30_level_chain_is_refused_quickly`, and a
//!    wide one (many issuers per level): `hostile::chain::a_wide_chain_does_not_explode`.
//! 8. A CRL signed by the wrong CA:
//!    `verify_openssl::a_crl_signed_by_another_key_is_never_trusted_even_after_a_genuine_one`
//!    (TRY_LATER, never valid, even right after a genuine CRL was accepted).
//! 9. An OCSP response for another certificate, or with a replayed nonce:
//!    `hostile::ocsp::an_ocsp_answer_about_another_certificate_is_not_used` and
//!    `hostile::ocsp::a_replayed_ocsp_answer_is_not_used`.
//! 10. Deeply nested or huge DER lengths into the verifier, the certificate parser, the CRL
//!     parser and the PKCS#12 reader: `hostile::der_lengths::deep_nesting_and_huge_lengths_are_refused`
//!     and `hostile::der_lengths::the_certificate_crl_and_pkcs12_readers_refuse_them`; and a SET OF
//!     with thousands of elements (quadratic to decode):
//!     `hostile::der_lengths::many_elements_in_a_set_of_are_refused_quickly`.
//! 11. Invalid UTF-8 in the signer's subject:
//!     `hostile::chain::invalid_utf8_in_the_signers_name_does_not_panic`.
//! 12. A 50 MB body to POST /v1/verify: `hostile::a_50_mb_verify_body_gets_413`.
//!
//! And a short seeded run of mutations of a valid CMS, certificate, CRL and PKCS#12 through the
//! verifier and the parsers: `hostile::mutation`.

#[path = "hostile_build.rs"]
pub(crate) mod build;
#[path = "hostile_chain.rs"]
mod chain;
#[path = "hostile_der.rs"]
mod der_lengths;
#[path = "hostile_load.rs"]
mod load;
#[path = "hostile_mutation.rs"]
mod mutation;
#[path = "hostile_ocsp.rs"]
mod ocsp;
#[path = "hostile_review.rs"]
mod review;

use der::Decode;
use qoltanba::crypto::{KeyAlgorithm, SigningKey};
use qoltanba::verify::report::Check;
use qoltanba::verify::{Report, Request, Status, Verdict};
use x509_cert::Certificate;

use crate::common::*;
use build::*;

pub(crate) fn request_json() -> Vec<u8> {
    format!(
        r#"{{"service":"license","applicant":{{"iin":"{}","name":"ТЕСТОВ ТЕСТ"}}}}"#,
        valid_iin()
    )
    .into_bytes()
}

pub(crate) fn check<'a>(report: &'a Report, id: &str) -> &'a Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .expect("every step is reported")
}

/// A leaf of our own test PKI: its key and certificate (DER).
pub(crate) async fn own_leaf(t: &TestPki, key: KeyAlgorithm) -> (SigningKey, Vec<u8>) {
    let mut request = individual("individual-sign");
    request.key = Some(key);
    let issued = t.issue(request).await;
    let store = qoltanba::keystore::open_pkcs12(&issued.pkcs12, P12_PASSWORD).expect("p12");
    let key = SigningKey::from_pkcs8(&store.private_key_pkcs8).expect("key");
    (key, store.certificate)
}

pub(crate) async fn verify(t: &TestPki, signature: Vec<u8>) -> Report {
    t.state()
        .verifier
        .verify(&Request {
            signature,
            ..Request::default()
        })
        .await
}

/// Another CA with the genuine certificate's issuer name issues a certificate with its subject
/// and serial, for another key: the impostor and its key.
pub(crate) fn impostor_of(genuine: &[u8]) -> (Vec<u8>, SigningKey) {
    let real = Certificate::from_der(genuine)
        .expect("certificate")
        .tbs_certificate;
    let (stranger_ca, fake_key) = (p256(), p256());
    let fake = CertSpec {
        subject: real.subject.clone(),
        spki: fake_key.public_key_info().expect("spki"),
        issuer: real.issuer.clone(),
        issuer_key: &stranger_ca,
        serial: real.serial_number.as_bytes().to_vec(),
        extensions: leaf_extensions(),
        claimed_algorithm: None,
    }
    .sign();
    (fake, fake_key)
}

/// The signature step failed with `code`, and the whole report is invalid.
fn assert_signature_refused(report: &Report, code: &str, what: &str) {
    let signature = check(report, "signature");
    assert_eq!(
        (report.verdict, signature.status, signature.code.as_str()),
        (Verdict::Invalid, Status::Failed, code),
        "{what}: {report:#?}"
    );
}

#[tokio::test]
async fn a_certificate_with_the_same_issuer_and_serial_but_another_key_never_verifies() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, genuine) = own_leaf(&t, KeyAlgorithm::P256).await;
    let content = request_json();
    let report = verify(&t, Cms::new(&content, &genuine, &key).sign(&key)).await;
    assert_eq!(report.verdict, Verdict::Valid, "baseline: {report:#?}");

    let (fake, fake_key) = impostor_of(&genuine);

    // A genuine signature whose certificate was swapped: the signature no longer verifies.
    let mut swapped = Cms::new(&content, &genuine, &key);
    swapped.certificates = vec![fake.clone()];
    let report = verify(&t, swapped.sign(&key)).await;
    assert_signature_refused(
        &report,
        "SIG_CRYPTO_FAILURE",
        "genuine signature, fake cert",
    );

    // Signed with the fake key: the signature verifies, the chain cannot.
    let forged = Cms::new(&content, &fake, &fake_key).sign(&fake_key);
    let report = verify(&t, forged.clone()).await;
    assert_eq!(check(&report, "signature").status, Status::Passed);
    let chain = check(&report, "chain");
    assert_eq!(
        (report.verdict, chain.code.as_str()),
        (Verdict::Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"),
        "{report:#?}"
    );

    // With the genuine certificate supplied too, either certificate may be found first: the
    // verdict is never valid.
    let report = t
        .state()
        .verifier
        .verify(&Request {
            signature: forged,
            certificates: vec![genuine],
            ..Request::default()
        })
        .await;
    assert_ne!(report.verdict, Verdict::Valid, "{report:#?}");
}

#[tokio::test]
async fn two_message_digests_are_refused() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, cert) = own_leaf(&t, KeyAlgorithm::P256).await;
    let content = request_json();
    let right = octets(&sha256(&content));
    let wrong = octets(&sha256(b"another document"));
    let content_type = attribute(CONTENT_TYPE, vec![oid_value(ID_DATA)]);
    let cases = [
        (
            "two attributes, right then wrong",
            vec![
                content_type.clone(),
                attribute(MESSAGE_DIGEST, vec![right.clone()]),
                attribute(MESSAGE_DIGEST, vec![wrong.clone()]),
            ],
        ),
        (
            "one attribute with two values",
            vec![
                content_type.clone(),
                attribute(MESSAGE_DIGEST, vec![wrong.clone(), right.clone()]),
            ],
        ),
        (
            "two contentType attributes",
            vec![
                content_type.clone(),
                attribute(CONTENT_TYPE, vec![oid_value(ID_SIGNED_DATA)]),
                attribute(MESSAGE_DIGEST, vec![right.clone()]),
            ],
        ),
    ];
    for (what, attrs) in cases {
        let mut cms = Cms::new(&content, &cert, &key);
        cms.signed_attrs = Some(attrs);
        let report = verify(&t, cms.sign(&key)).await;
        assert_signature_refused(&report, "DUPLICATE_ATTRIBUTE", what);
        assert_eq!(report.sub_indication, Some("FORMAT_FAILURE"), "{what}");
        assert!(
            check(&report, "signature")
                .detail
                .contains("more than once"),
            "{what}: {:?}",
            check(&report, "signature")
        );
    }
}

#[tokio::test]
async fn a_content_type_that_differs_from_the_econtent_type_is_refused() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, cert) = own_leaf(&t, KeyAlgorithm::P256).await;
    let content = request_json();
    let digest = attribute(MESSAGE_DIGEST, vec![octets(&sha256(&content))]);
    let other = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

    let mut claims_signed_data = Cms::new(&content, &cert, &key);
    claims_signed_data.signed_attrs = Some(vec![
        attribute(CONTENT_TYPE, vec![oid_value(ID_SIGNED_DATA)]),
        digest.clone(),
    ]);
    let mut other_econtent = Cms::new(&content, &cert, &key);
    other_econtent.econtent_type = other;
    let mut no_attributes = Cms::new(&content, &cert, &key);
    no_attributes.econtent_type = other;
    no_attributes.signed_attrs = None;
    for (what, cms) in [
        (
            "signed contentType id-signedData, eContentType id-data",
            claims_signed_data,
        ),
        (
            "signed contentType id-data, eContentType TSTInfo",
            other_econtent,
        ),
        ("TSTInfo signed without signed attributes", no_attributes),
    ] {
        let report = verify(&t, cms.sign(&key)).await;
        assert_signature_refused(&report, "CONTENT_TYPE_MISMATCH", what);
    }

    let mut missing = Cms::new(&content, &cert, &key);
    missing.signed_attrs = Some(vec![digest]);
    let report = verify(&t, missing.sign(&key)).await;
    assert_signature_refused(&report, "MISSING_ATTRIBUTE", "no contentType");
}

#[tokio::test]
async fn signature_algorithms_that_do_not_fit_the_key_are_refused() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let content = request_json();
    let (ec_key, ec_cert) = own_leaf(&t, KeyAlgorithm::P256).await;
    let (rsa_key, rsa_cert) = own_leaf(&t, KeyAlgorithm::Rsa2048).await;
    for (key, cert) in [(&ec_key, &ec_cert), (&rsa_key, &rsa_cert)] {
        let report = verify(&t, Cms::new(&content, cert, key).sign(key)).await;
        assert_eq!(report.verdict, Verdict::Valid, "baseline: {report:#?}");
    }
    let lie = |key: &SigningKey, cert: &[u8], digest, signature| {
        let mut cms = Cms::new(&content, cert, key);
        cms.digest_algorithm = digest;
        cms.signature_algorithm = identifier(signature);
        cms.sign(key)
    };
    let cases = [
        (
            "P-256 key, RSA OID",
            lie(&ec_key, &ec_cert, SHA256, RSA_SHA256),
            "does not fit",
        ),
        (
            "P-256 key, Ed25519 OID",
            lie(&ec_key, &ec_cert, SHA256, ED25519),
            "does not fit",
        ),
        (
            "RSA key, ECDSA OID",
            lie(&rsa_key, &rsa_cert, SHA256, ECDSA_SHA256),
            "does not fit",
        ),
        (
            "digestAlgorithm SHA-384, ecdsa-with-SHA256",
            lie(&ec_key, &ec_cert, SHA384, ECDSA_SHA256),
            "disagrees",
        ),
    ];
    for (what, signature, detail) in cases {
        let report = verify(&t, signature).await;
        assert_signature_refused(&report, "UNSUPPORTED_ALGORITHM", what);
        assert_eq!(report.sub_indication, Some("CRYPTO_CONSTRAINTS_FAILURE"));
        let found = &check(&report, "signature").detail;
        assert!(found.contains(detail), "{what}: {found}");
    }
}

#[tokio::test]
async fn a_50_mb_verify_body_gets_413() {
    use axum::body::Body;
    use axum::http::{header, Request as HttpRequest, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    // Plausible JSON: a 50 MB base64 "signature".
    let mut body = br#"{"signature":""#.to_vec();
    body.resize(body.len() + 50 * 1024 * 1024, b'A');
    body.extend_from_slice(br#""}"#);
    let response = qoltanba::http::router(t.state())
        .oneshot(
            HttpRequest::post("/v1/verify")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, body.len())
                .body(Body::from(body))
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON error");
    let error = json["error"].as_object().expect("the error shape");
    assert_eq!(error.len(), 2, "{json}");
    assert_eq!(error["code"], "payload_too_large", "{json}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{json}"
    );
}
