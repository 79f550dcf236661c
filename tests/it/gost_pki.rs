//! The test PKI made all-GOST (pki/gost: every key GOST 34.10-2015, like NCA's current
//! hierarchy): certificates in NCA's GOST form, key stores that sign, CRLs and OCSP answers
//! signed with GOST, and the verifier taking them all through the same steps as RSA. The steps
//! are shared with pki/gost2004 (`gost2004_pki.rs`).

use std::path::Path;

use der::{Decode, DecodePem, Encode};
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::pki::{Declarations, Issued};
use qoltanba::sign::{cades, identity_from_pkcs12};
use qoltanba::verify::{Report, Request, Settings, Verdict, Verifier};
use x509_cert::Certificate;

use crate::common::*;

/// A file of the repository.
pub(crate) fn repo_file(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A certificate of the repository (PEM or DER), as DER.
pub(crate) fn certificate_file(path: &str) -> Vec<u8> {
    let bytes = repo_file(path);
    if bytes.starts_with(b"-----") {
        Certificate::from_pem(&bytes)
            .and_then(|c| c.to_der())
            .expect("a PEM certificate")
    } else {
        bytes
    }
}

/// One of the repository's pki/ directories (pki/gost, pki/gost2004).
pub(crate) fn declarations(dir: &str) -> Declarations {
    Declarations::load(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)))
        .unwrap_or_else(|e| panic!("{dir} loads: {e}"))
}

/// The DER of a certificate's signature AlgorithmIdentifier and of its key's.
pub(crate) fn algorithm_identifiers(der_bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
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

/// What an all-GOST PKI did in [`issues_signs_revokes_and_publishes`].
pub(crate) struct AllGost {
    pub t: TestPki,
    /// The subscriber's certificate and key store; revoked (keyCompromise) by now.
    pub issued: Issued,
    /// The verifier's report on its signature while it was valid.
    pub valid: Report,
    /// The issuing CA's full CRL that lists it.
    pub crl: Vec<u8>,
}

/// An all-GOST PKI from `dir`, served on loopback: every key (CAs, responder, official,
/// subscribers by default) is `key`, and certificates name the algorithms exactly as
/// `nca_certificate` (DER) does. A subscriber's key store signs a CMS the verifier finds valid
/// (OCSP for the subscriber, the root's CRL for the issuing CA, all GOST-signed); revoked, the
/// signature is REVOKED and the issuing CA's GOST-signed CRL lists it.
/// The official's key is of `algorithm` and signs a document the service's own verifier judges
/// valid.
pub(crate) async fn the_official_signs_what_the_verifier_accepts(
    t: &TestPki,
    algorithm: KeyAlgorithm,
) {
    assert_eq!(t.pki.official().key.algorithm(), algorithm);
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
}

pub(crate) async fn issues_signs_revokes_and_publishes(
    dir: &str,
    key: KeyAlgorithm,
    nca_certificate: &[u8],
) -> AllGost {
    let (t, _base) = TestPki::served_with(Backend::Sqlite, declarations(dir))
        .await
        .expect("sqlite");
    for authority in [t.pki.root(), t.pki.issuing()] {
        assert_eq!(authority.key.algorithm(), key, "{}", authority.id);
    }
    assert_eq!(t.pki.official().key.algorithm(), key);
    // Certificates name the algorithms exactly as NCA's GOST certificates do.
    let nca = algorithm_identifiers(nca_certificate);
    assert_eq!(algorithm_identifiers(&t.pki.issuing().certificate_der), nca);

    // No key named: the subscriber gets the issuing CA's key type.
    let issued = t.issue(individual("individual-sign")).await;
    assert_eq!(issued.record.key_algorithm, key.name());
    assert_eq!(algorithm_identifiers(&issued.record.certificate), nca);
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
    let valid = verifier.verify(&request).await;
    assert_eq!(valid.verdict, Verdict::Valid, "{valid:#?}");
    let source = valid.signers[0].revocation_source.clone().expect("source");
    assert!(source.starts_with("OCSP http://127.0.0.1:"), "{source}");
    let revocation = valid
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
    let crl = t.pki.crl(&issuing_id, false).await.expect("the CRL");
    let parsed = qoltanba::x509::crl::Crl::parse(&crl).expect("CRL");
    let issuing = Certificate::from_der(&t.pki.issuing().certificate_der).expect("issuing");
    parsed
        .verify_signature(&issuing.tbs_certificate.subject_public_key_info)
        .expect("GOST-signed CRL");
    let serial = hex::decode(&issued.record.serial).expect("hex serial");
    assert!(parsed.lookup(&serial).is_some());
    AllGost {
        t,
        issued,
        valid,
        crl,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_gost_pki_issues_signs_revokes_and_answers_crl_and_ocsp_in_gost() {
    issues_signs_revokes_and_publishes(
        "pki/gost",
        KeyAlgorithm::Gost2015,
        &certificate_file("fixtures/nca/gost/nca_gost2022_test.cer"),
    )
    .await;
}

#[tokio::test]
async fn the_gost_official_signs_documents_and_a_request_may_still_name_another_key() {
    let t = TestPki::with_declarations(
        Backend::Sqlite,
        "http://127.0.0.1:9",
        declarations("pki/gost"),
    )
    .await
    .expect("sqlite");
    the_official_signs_what_the_verifier_accepts(&t, KeyAlgorithm::Gost2015).await;

    let mut request = individual("individual-sign");
    request.key = Some(KeyAlgorithm::P256);
    let issued = t.issue(request).await;
    assert_eq!(issued.record.key_algorithm, "p256");
}
