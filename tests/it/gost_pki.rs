//! The test PKI made all-GOST (pki/gost: every key GOST 34.10-2015, like NCA's current
//! hierarchy): certificates in NCA's GOST form, key stores that sign, CRLs and OCSP answers
//! signed with GOST, and the verifier taking them all through the same steps as RSA.

use std::path::Path;

use der::{Decode, Encode};
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::pki::Declarations;
use qoltanba::sign::{cades, identity_from_pkcs12};
use qoltanba::verify::{Request, Settings, Verdict, Verifier};
use x509_cert::Certificate;

use crate::common::*;

fn gost_declarations() -> Declarations {
    Declarations::load(Some(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("pki/gost"),
    ))
    .expect("pki/gost loads")
}

/// The DER of a certificate's signature AlgorithmIdentifier and of its key's.
fn algorithm_identifiers(der_bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let cert = Certificate::from_der(der_bytes).expect("certificate");
    (
        cert.signature_algorithm.to_der().expect("der"),
        cert.tbs_certificate
            .subject_public_key_info
            .algorithm
            .to_der()
            .expect("der"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_gost_pki_issues_signs_revokes_and_answers_crl_and_ocsp_in_gost() {
    let (t, _base) = TestPki::served_with(Backend::Sqlite, gost_declarations())
        .await
        .expect("sqlite");
    for authority in [t.pki.root(), t.pki.issuing()] {
        assert_eq!(authority.key.algorithm(), KeyAlgorithm::Gost2015);
    }
    // Certificates name the algorithms exactly as NCA's GOST certificates do.
    let nca = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nca/gost/nca_gost2022_test.cer"),
    )
    .expect("fixture");
    assert_eq!(
        algorithm_identifiers(&t.pki.issuing().certificate_der),
        algorithm_identifiers(&nca)
    );

    // No key named: the subscriber gets the issuing CA's key type.
    let issued = t.issue(individual("individual-sign")).await;
    assert_eq!(issued.record.key_algorithm, "gost2015");
    assert_eq!(
        algorithm_identifiers(&issued.record.certificate),
        algorithm_identifiers(&nca)
    );
    let now = qoltanba::time::now();
    let identity =
        identity_from_pkcs12(&issued.pkcs12, P12_PASSWORD, now).expect("the key store signs");
    let signature = cades::sign(br#"{"applicant":{}}"#, &identity, false, now).expect("sign");

    // A verifier that knows nothing of the database: OCSP (GOST-signed answers) for the
    // subscriber, the root's GOST-signed CRL from its CDP for the issuing CA.
    let verifier = Verifier::new(Settings {
        anchors: vec![("root".into(), t.pki.root().certificate_der.clone())],
        intermediates: vec![("issuing".into(), t.pki.issuing().certificate_der.clone())],
        fetch_timeout: Some(std::time::Duration::from_secs(5)),
        ..Settings::default()
    })
    .expect("verifier");
    let request = Request {
        signature,
        ..Request::default()
    };
    let report = verifier.verify(&request).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let source = report.signers[0].revocation_source.clone().expect("source");
    assert!(source.starts_with("OCSP http://127.0.0.1:"), "{source}");
    let revocation = report
        .checks
        .iter()
        .find(|c| c.id == "revocation")
        .expect("step");
    assert!(revocation.detail.contains("CRL #"), "{}", revocation.detail);

    t.pki
        .revoke(
            &issued.record.serial,
            "keyCompromise".parse().expect("reason"),
            None,
        )
        .await
        .expect("revoke");
    let report = verifier.verify(&request).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));

    // The issuing CA's full CRL, GOST-signed, lists the serial and verifies under its key only.
    let issuing_id = t.pki.issuing().id.clone();
    t.pki
        .publish_crls(&issuing_id, qoltanba::time::now())
        .await
        .expect("publish");
    let crl_der = t.pki.crl(&issuing_id, false).await.expect("the CRL");
    let crl = qoltanba::x509::crl::Crl::parse(&crl_der).expect("CRL");
    let issuing = Certificate::from_der(&t.pki.issuing().certificate_der).expect("issuing");
    crl.verify_signature(&issuing.tbs_certificate.subject_public_key_info)
        .expect("GOST-signed CRL");
    let serial = hex::decode(&issued.record.serial).expect("hex serial");
    assert!(crl.lookup(&serial).is_some());
}

#[tokio::test]
async fn the_gost_official_signs_documents_and_a_request_may_still_name_another_key() {
    let t = TestPki::with_declarations(Backend::Sqlite, "http://127.0.0.1:9", gost_declarations())
        .await
        .expect("sqlite");
    assert_eq!(t.pki.official().key.algorithm(), KeyAlgorithm::Gost2015);
    let signature =
        cades::sign(b"license", t.pki.official(), true, qoltanba::time::now()).expect("sign");
    let report = t
        .state()
        .verifier
        .verify(&Request {
            signature,
            content: Some(b"license".to_vec()),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    let mut request = individual("individual-sign");
    request.key = Some(KeyAlgorithm::P256);
    let issued = t.issue(request).await;
    assert_eq!(issued.record.key_algorithm, "p256");
}
