//! Issue 12: requests built to cost the verifier CPU or memory out of proportion to their
//! size are refused before the expensive work: at most `MAX_SIGNERS` SignerInfos are verified
//! and at most `MAX_CERTIFICATES` certificates are read from one CMS.

use std::time::Instant;

use qoltanba::verify::{
    Request, Verdict, MAX_CERTIFICATES, MAX_HASHED_BYTES, MAX_KEY_OPERATIONS, MAX_SIGNERS,
};

use super::build::*;
use super::check;
use crate::common::*;

fn request(signature: Vec<u8>) -> Request {
    Request {
        signature,
        ..Request::default()
    }
}

#[tokio::test]
async fn signers_and_certificates_beyond_the_caps_are_refused_before_any_work() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, leaf) = super::own_leaf(&t, qoltanba::crypto::KeyAlgorithm::P256).await;
    let one = Cms::new(&super::request_json(), &leaf, &key).sign(&key);
    let v = &t.state().verifier;

    // At the caps: every signer is verified, and the verdict is theirs.
    let report = v
        .verify(&request(repeated(&one, MAX_SIGNERS, MAX_CERTIFICATES)))
        .await;
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.checks);
    assert_eq!(report.signers.len(), MAX_SIGNERS);

    // One more signer, or one more certificate: refused as a format failure, no signer report.
    for (signers, certificates, code) in [
        (MAX_SIGNERS + 1, 1, "TOO_MANY_SIGNERS"),
        (1, MAX_CERTIFICATES + 1, "TOO_MANY_CERTIFICATES"),
    ] {
        let report = v
            .verify(&request(repeated(&one, signers, certificates)))
            .await;
        let format = check(&report, "format");
        assert_eq!(
            (report.verdict, format.code.as_str()),
            (Verdict::Invalid, code),
            "{signers} signers, {certificates} certificates"
        );
        assert!(report.signers.is_empty());
        assert!(report.refusal.is_some());
    }

    // 20,000 SignerInfos (issue 12's case took ~14 s of CPU): refused on counting alone.
    let flood = repeated(&one, 20_000, 1);
    let started = Instant::now();
    let report = v.verify(&request(flood)).await;
    assert_eq!(check(&report, "format").code, "TOO_MANY_SIGNERS");
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_costliest_cms_within_the_caps_is_bounded_per_request() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let v = &t.state().verifier;
    let report = v
        .verify(&request(costliest_within_the_caps(&super::request_json())))
        .await;
    // The first signers' signatures are checked and fail: the request is invalid.
    assert_eq!(report.verdict, Verdict::Invalid, "{:#?}", report.checks);
    assert_eq!(report.signers.len(), MAX_SIGNERS);
    // Each signer costs 64 signature checks and 64 candidate issuers: the first two spend them
    // all; from the third on the allowance is gone and nothing more is checked.
    let spent: Vec<usize> = (0..MAX_SIGNERS)
        .filter(|&i| {
            report.signers[i]
                .checks
                .iter()
                .any(|c| c.code == "VERIFICATION_BUDGET_SPENT")
        })
        .collect();
    assert_eq!(
        spent,
        (2..MAX_SIGNERS).collect::<Vec<_>>(),
        "{:#?}",
        report.signers[2]
    );
    assert_eq!(
        report.signers[2].checks[1].detail,
        format!(
            "stopped before a candidate certificate verified the signature: the request's \
             allowance of {MAX_KEY_OPERATIONS} public-key operations is spent"
        )
    );
    // The report stays small: names and problem lists are cut, not repeated without end.
    let size = serde_json::to_vec(&report).expect("JSON").len();
    assert!(size < 256 * 1024, "report of {size} bytes");
}

#[tokio::test]
async fn a_huge_name_is_cut_in_the_report() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let key = p256();
    let huge = format!("CN={},C=KZ", "Ж".repeat(60_000));
    let cert = Authority::root("CN=STRANGER,C=KZ").issue(&name(&huge), &key, 7, leaf_extensions());
    let cms = Cms::new(&super::request_json(), &cert, &key).sign(&key);
    let report = t
        .state()
        .verifier
        .verify(&request(repeated(&cms, MAX_SIGNERS, 1)))
        .await;
    let signer = &report.signers[0];
    let cn = signer.subject.cn.as_deref().unwrap_or_default();
    assert!(
        cn.starts_with("ЖЖЖ") && cn.ends_with('…'),
        "cut and marked: {cn}"
    );
    assert_eq!(cn.chars().count(), qoltanba::x509::MAX_NAME_CHARS + 1);
    let issuer = signer.issuer.as_deref().unwrap_or_default();
    assert_eq!(issuer, "C=KZ, CN=STRANGER");
    let size = serde_json::to_vec(&report).expect("JSON").len();
    assert!(size < 512 * 1024, "report of {size} bytes");
}

#[tokio::test]
async fn signers_without_attributes_hash_the_content_within_an_allowance() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, leaf) = super::own_leaf(&t, qoltanba::crypto::KeyAlgorithm::P256).await;
    // A 1 MiB content signed without signed attributes: each signature covers all of it.
    let content = vec![b'x'; 1 << 20];
    let mut cms = Cms::new(&content, &leaf, &key);
    cms.signed_attrs = None;
    let report = t
        .state()
        .verifier
        .verify(&request(repeated(&cms.sign(&key), MAX_SIGNERS, 1)))
        .await;
    let hashed_in_full = MAX_HASHED_BYTES / content.len();
    for (i, signer) in report.signers.iter().enumerate() {
        let signature = &signer.checks[1];
        if i < hashed_in_full {
            assert_eq!(signature.code, "OK", "signer {i}: {signature:#?}");
        } else {
            assert_eq!(signature.code, "VERIFICATION_BUDGET_SPENT", "signer {i}");
            assert!(
                signature.detail.contains("32 MiB of signed data"),
                "{signature:#?}"
            );
        }
    }
    assert_eq!(report.verdict, Verdict::Indeterminate);
}
