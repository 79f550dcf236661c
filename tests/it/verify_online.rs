//! Revocation over the network, on loopback: OCSP from the certificate's AIA, CRLs from its CDP,
//! and failing closed when the responder or distribution point cannot be reached.

use qoltanba::crypto::KeyAlgorithm;
use qoltanba::verify::{Request, Settings, Verdict, Verifier};

use crate::common::*;
use crate::signing::Signer;

/// A verifier that knows nothing of the PKI's database: it must go to the network.
fn online_verifier(t: &TestPki) -> Verifier {
    Verifier::new(Settings {
        anchors: vec![("root".into(), t.pki.root().certificate_der.clone())],
        intermediates: vec![("issuing".into(), t.pki.issuing().certificate_der.clone())],
        fetch_timeout: Some(std::time::Duration::from_secs(5)),
        ..Settings::default()
    })
    .expect("verifier")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_on_loopback_says_good_then_revoked_and_the_issuing_ca_is_checked_by_cdp() {
    let (t, _base) = TestPki::served(Backend::Sqlite).await.expect("sqlite");
    let mut request = individual("individual-sign");
    request.key = Some(KeyAlgorithm::P256);
    let issued = t.issue(request).await;
    let signer = Signer::from_pkcs12(&issued.pkcs12, P12_PASSWORD, t.dir.path(), "online", false);
    let signature = signer.sign(br#"{"applicant":{}}"#, t.dir.path(), false, &[]);
    let verifier = online_verifier(&t);

    let report = verifier
        .verify(&Request {
            signature: signature.clone(),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let source = report.signers[0].revocation_source.clone().expect("source");
    assert!(source.starts_with("OCSP http://127.0.0.1:"), "{source}");
    let revocation = &report.checks[5].detail;
    assert!(
        revocation.contains("CRL #"),
        "the issuing CA is checked against the root's CRL from its CDP: {revocation}"
    );

    t.pki
        .revoke(
            &issued.record.serial,
            "keyCompromise".parse().expect("r"),
            None,
        )
        .await
        .expect("revoke");
    let report = verifier
        .verify(&Request {
            signature,
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    assert!(
        report.checks[5].detail.contains("OCSP"),
        "{:?}",
        report.checks[5]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_responder_and_distribution_point_make_it_indeterminate_never_valid() {
    // Certificates pointing at a port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let t = TestPki::with_public_url(Backend::Sqlite, &dead)
        .await
        .expect("sqlite");
    let mut request = individual("individual-sign");
    request.key = Some(KeyAlgorithm::P256);
    let issued = t.issue(request).await;
    let signer = Signer::from_pkcs12(&issued.pkcs12, P12_PASSWORD, t.dir.path(), "dead", false);
    let signature = signer.sign(br#"{"applicant":{}}"#, t.dir.path(), false, &[]);
    let report = online_verifier(&t)
        .verify(&Request {
            signature,
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("TRY_LATER"));
    let detail = &report.checks[5].detail;
    assert!(
        detail.contains("/pki/ocsp") && detail.contains(".crl"),
        "both sources were tried: {detail}"
    );
}
