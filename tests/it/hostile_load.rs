//! Issue 12: requests built to cost the verifier CPU or memory out of proportion to their
//! size are refused before the expensive work: at most `MAX_SIGNERS` SignerInfos are verified
//! and at most `MAX_CERTIFICATES` certificates are read from one CMS.

use std::time::Instant;

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{CertificateSet, SignedData, SignerInfos};
use der::{Decode, Encode};
use qoltanba::verify::{Request, Verdict, MAX_CERTIFICATES, MAX_SIGNERS};
use x509_cert::Certificate;

use super::build::*;
use super::check;
use crate::common::*;

/// `cms_der` with its one SignerInfo repeated `signers` times and `certificates` certificates
/// carried: the signer's and others (distinct: a SET OF certificates holds no duplicates).
fn repeated(cms_der: &[u8], signers: usize, certificates: usize) -> Vec<u8> {
    let mut info = ContentInfo::from_der(cms_der).expect("ContentInfo");
    let mut signed: SignedData = info.content.decode_as().expect("SignedData");
    let si = signed
        .signer_infos
        .0
        .iter()
        .next()
        .expect("a signer")
        .clone();
    signed.signer_infos = SignerInfos::try_from(vec![si; signers]).expect("SET OF SignerInfo");
    let mut certs = signed
        .certificates
        .take()
        .expect("certificates")
        .0
        .into_vec();
    for i in certs.len()..certificates {
        let other = Authority::root(&format!("CN=BYSTANDER {i},C=KZ")).der;
        certs.push(CertificateChoices::Certificate(
            Certificate::from_der(&other).expect("certificate"),
        ));
    }
    signed.certificates = Some(CertificateSet::try_from(certs).expect("SET OF certificates"));
    info.content = der::Any::encode_from(&signed).expect("content");
    info.to_der().expect("DER")
}

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
