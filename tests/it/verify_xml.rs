//! XML signatures made by NCA's own library (Kalkan): every sample passes the format and
//! signature steps, and is valid at a time inside its signer's validity, anchored at NCA's test
//! CAs with NCA's CRLs, offline. Then what the verifier must refuse in XML.

use qoltanba::verify::report::Check;
use qoltanba::verify::{Report, Request, RevocationScope, Settings, Verdict, Verifier};

pub(crate) fn kalkan(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/kalkan/xml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).expect("fixture")
}

fn nca(path: &str) -> (String, Vec<u8>) {
    let full = format!("{}/fixtures/nca/{path}", env!("CARGO_MANIFEST_DIR"));
    (path.to_owned(), std::fs::read(full).expect("fixture"))
}

/// NCA's RSA and GOST-2022 test CAs as anchors, their CRLs, offline; the GOST hierarchy's
/// root is not in the samples, so revocation is asked of the signer only.
pub(crate) fn nca_verifier() -> Verifier {
    Verifier::new(Settings {
        anchors: vec![
            nca("rsa/nca_rsa_test.crt"),
            nca("gost/nca_gost2022_test.cer"),
        ],
        crls: vec![
            nca("rsa/nca_rsa_test.crl"),
            nca("gost/nca_gost2022_test.crl"),
        ],
        offline: true,
        revocation_scope: RevocationScope::Leaf,
        ..Settings::default()
    })
    .expect("verifier")
}

pub(crate) fn at(text: &str) -> Option<i64> {
    Some(qoltanba::time::parse_rfc3339(text).expect("time"))
}

pub(crate) fn check<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks.iter().find(|c| c.id == id).expect("step")
}

pub(crate) fn passed(checks: &[Check], id: &str) -> bool {
    check(checks, id).code == "OK"
}

pub(crate) async fn verify(signature: Vec<u8>, when: &str) -> Report {
    nca_verifier()
        .verify(&Request {
            signature,
            at: at(when),
            ..Request::default()
        })
        .await
}

#[tokio::test]
async fn kalkans_enveloped_rsa_signature_passes_every_check_while_its_certificate_is_valid() {
    let report = verify(
        kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml"),
        "2021-06-01T00:00:00Z",
    )
    .await;
    // NCA's only CRL is from after the certificate expired: revocation in 2021 is unknown.
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);
    let format = check(&report.checks, "format");
    assert!(format.detail.starts_with("XML"), "{format:?}");
    let signer = &report.signers[0];
    assert_eq!(report.signers.len(), 1);
    assert_eq!(signer.covers, vec!["/a".to_owned()]);
    assert_eq!(signer.subject.iin.as_deref(), Some("123456789011"));
    // After the certificate expired, the same signature is not valid.
    let later = verify(
        kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml"),
        "2022-06-01T00:00:00Z",
    )
    .await;
    assert_eq!(later.sub_indication, Some("EXPIRED"), "{later:#?}");
}

#[tokio::test]
async fn kalkans_two_signers_are_two_signers_each_valid_in_its_own_year() {
    let file = "xml_enveloped_2signers_rsa-sha256_then_gost2015-512.xml";
    // The RSA certificate was valid in 2021, the GOST one from July 2022: no moment has both.
    let in_2021 = verify(kalkan(file), "2021-06-01T00:00:00Z").await;
    let in_2022 = verify(kalkan(file), "2022-10-01T00:00:00Z").await;
    for report in [&in_2021, &in_2022] {
        assert_eq!(report.signers.len(), 2, "{report:#?}");
        for signer in &report.signers {
            assert!(passed(&signer.checks, "format"), "{signer:#?}");
            assert!(passed(&signer.checks, "signature"), "{signer:#?}");
            assert_eq!(signer.covers, vec!["/a".to_owned()]);
        }
    }
    // Each passes every check in its own year but revocation, which NCA's CRLs (issued after
    // each certificate expired) cannot speak for.
    crate::common::assert_valid_but_for_crl_after_expiry(&in_2021.signers[0].checks);
    assert_eq!(in_2021.signers[1].verdict, Verdict::Invalid);
    assert_eq!(in_2022.signers[0].verdict, Verdict::Invalid);
    crate::common::assert_valid_but_for_crl_after_expiry(&in_2022.signers[1].checks);
    assert_eq!(
        in_2022.signers[1].subject.iin.as_deref(),
        Some("123456789012")
    );
    // The worst verdict wins.
    assert_eq!(in_2022.verdict, Verdict::Invalid);
}

#[tokio::test]
async fn the_gateways_ws_security_message_verifies_and_its_body_is_what_is_signed() {
    let file = "wsse_soap_rsa-sha256_exc-c14n_smartbridge.xml";
    let report = verify(kalkan(file), "2021-06-01T00:00:00Z").await;
    let signer = &report.signers[0];
    // Revocation in 2021 is unknown: NCA's only CRL is from after the certificate expired.
    assert_eq!(
        check(&signer.checks, "revocation").code,
        "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    );
    for step in ["format", "signature", "chain", "validity"] {
        assert!(passed(&signer.checks, step), "{step}: {report:#?}");
    }
    assert_eq!(signer.covers, vec!["/Envelope/Body".to_owned()]);
    // The Body names IIN 931002451325; the gateway's certificate is IIN123456789011's.
    assert_eq!(
        report.expected_identity.iin.as_deref(),
        Some("931002451325")
    );
    assert_eq!(check(&signer.checks, "identity").code, "IIN_MISMATCH");
    // With the caller's IIN, the identity matches; every check passes but revocation.
    let report = nca_verifier()
        .verify(&Request {
            signature: kalkan(file),
            at: at("2021-06-01T00:00:00Z"),
            iin: Some(qoltanba::identity::Iin::parse("123456789011").expect("iin")),
            ..Request::default()
        })
        .await;
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);
}

/// Replaces the first occurrence of `from` in a sample.
pub(crate) fn changed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(text.contains(from), "{from:?} not in the sample");
    text.replacen(from, to, 1).into_bytes()
}

#[tokio::test]
async fn a_changed_character_in_a_kalkan_sample_is_a_hash_failure() {
    let sample = kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    let report = verify(
        changed(&sample, "<b>test</b>", "<b>tesT</b>"),
        "2021-06-01T00:00:00Z",
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"), "{report:#?}");
    let soap = kalkan("wsse_soap_rsa-sha256_exc-c14n_smartbridge.xml");
    let report = verify(
        changed(&soap, "<iin>931002451325", "<iin>931002451326"),
        "2021-06-01T00:00:00Z",
    )
    .await;
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"), "{report:#?}");
}
