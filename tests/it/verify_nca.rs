//! The real NCA RK test key stores: requests signed with them (by OpenSSL) verify as the
//! регламент expects, anchored at NCA's issuing CA with NCA's own CRL, offline, at past times.

use qoltanba::verify::{Report, Request, Settings, Verdict, Verifier};

use crate::signing::Signer;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/nca/rsa/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn nca_verifier() -> Verifier {
    Verifier::new(Settings {
        anchors: vec![("nca_rsa_test.crt".into(), fixture("nca_rsa_test.crt"))],
        crls: vec![("nca_rsa_test.crl".into(), fixture("nca_rsa_test.crl"))],
        offline: true,
        ..Settings::default()
    })
    .expect("verifier")
}

fn signed(store: &str, dir: &std::path::Path) -> Vec<u8> {
    let signer = Signer::from_pkcs12(&fixture(store), "Qwerty12", dir, store, true);
    // NCA's test subscribers carry IIN123456789011.
    signer.sign(br#"{"applicant":{"iin":"123456789011"}}"#, dir, false, &[])
}

fn at(text: &str) -> Option<i64> {
    Some(qoltanba::time::parse_rfc3339(text).expect("time"))
}

fn check<'a>(report: &'a Report, id: &str) -> &'a qoltanba::verify::report::Check {
    report.checks.iter().find(|c| c.id == id).expect("step")
}

#[tokio::test]
async fn individual_valid_sign_passes_every_check_in_2021_and_its_iin_is_flagged_not_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = signed("individual_valid_sign.p12", dir.path());
    let report = nca_verifier()
        .verify(&Request {
            signature,
            at: at("2021-06-01T00:00:00Z"),
            ..Request::default()
        })
        .await;
    // NCA's only CRL is from after the certificate expired: revocation in 2021 is unknown.
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);
    assert_eq!(
        report.expected_identity.iin.as_deref(),
        Some("123456789011")
    );
    assert_eq!(
        report.expected_identity.iin_check_digit_valid,
        Some(false),
        "flagged"
    );
    let signer = &report.signers[0];
    assert_eq!(signer.subject.iin.as_deref(), Some("123456789011"));
    assert_eq!(signer.subject.cn.as_deref(), Some("ТЕСТОВ ТЕСТ"));
    assert_eq!(signer.revocation_source, None, "{signer:?}");
    // The same signature after the certificate expired (2022-01-18) is not valid.
    let signature = signed("individual_valid_sign.p12", dir.path());
    let later = nca_verifier()
        .verify(&Request {
            signature,
            at: at("2022-06-01T00:00:00Z"),
            ..Request::default()
        })
        .await;
    assert_eq!(later.sub_indication, Some("EXPIRED"));
}

#[tokio::test]
async fn individual_sign_revoked_is_invalid_in_2022_for_revocation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = signed("individual_sign_revoked.p12", dir.path());
    let report = nca_verifier()
        .verify(&Request {
            signature,
            at: at("2022-06-01T00:00:00Z"),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    let detail = &check(&report, "revocation").detail;
    assert!(
        detail.contains("2022-01-18T04:40:24Z") && detail.contains("superseded"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_auth_key_is_invalid_for_key_usage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = signed("individual_auth_revoked.p12", dir.path());
    // Inside its validity and before its revocation (04:41:12): only the key usage is wrong.
    let report = nca_verifier()
        .verify(&Request {
            signature,
            at: at("2022-01-18T04:40:00Z"),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(check(&report, "key_usage").code, "AUTH_KEY");
    assert_eq!(check(&report, "revocation").code, "OK");
    assert_eq!(report.signers[0].key_kind, "auth");
}

#[tokio::test]
async fn without_the_crl_offline_the_verdict_is_indeterminate_never_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = signed("individual_valid_sign.p12", dir.path());
    let verifier = Verifier::new(Settings {
        anchors: vec![("nca_rsa_test.crt".into(), fixture("nca_rsa_test.crt"))],
        offline: true,
        ..Settings::default()
    })
    .expect("verifier");
    let report = verifier
        .verify(&Request {
            signature,
            at: at("2021-06-01T00:00:00Z"),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("TRY_LATER"));
    assert!(check(&report, "revocation").detail.contains("offline"));
}

#[tokio::test]
async fn a_stale_crl_still_proves_a_permanent_revocation() {
    // NCA's CRL: thisUpdate 2022-03-29, nextUpdate 2022-09-25. At 2022-12-01 it is stale and
    // proves nothing about good standing, but it lists this certificate as superseded, and a
    // revocation other than a hold is never undone.
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = signed("individual_sign_revoked.p12", dir.path());
    let report = nca_verifier()
        .verify(&Request {
            signature,
            at: at("2022-12-01T00:00:00Z"),
            ..Request::default()
        })
        .await;
    assert_eq!(report.sub_indication, Some("REVOKED"), "{report:#?}");
    assert!(report.signers[0]
        .revocation_source
        .as_deref()
        .is_some_and(|s| s.starts_with("stale CRL")));
}
