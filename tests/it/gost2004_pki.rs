//! The test PKI made all-GOST-2004 (pki/gost2004: every key GOST 34.310-2004, shaped like NCA's
//! older "ҰКО 3.0 (GOST TEST)" hierarchy), held against NCA's real 2004 material: certificates,
//! CRLs and OCSP answers name the algorithms byte for byte as NCA's do, and key stores are NCA's
//! shape. The steps shared with pki/gost are in `gost_pki.rs`.

use der::{Decode, Encode};
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::pki::IssueRequest;
use qoltanba::sign::{cades, identity_from_pkcs12};
use qoltanba::x509::Cert;
use x509_cert::crl::CertificateList;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspRequest, OcspResponse, Request as OcspItem};

use crate::common::*;
use crate::gost_pki::{
    certificate_file, declarations, issues_signs_revokes_and_publishes, repo_file,
    the_official_signs_what_the_verifier_accepts,
};

const NCA_CERTIFICATE: &str = "fixtures/kalkan/pki/ceo_valid_sign_2004_gost.cer";

/// The BasicOCSPResponse inside an OCSPResponse.
fn basic_response(der: &[u8]) -> BasicOcspResponse {
    let response = OcspResponse::from_der(der).expect("an OCSP response");
    let bytes = response.response_bytes.expect("a successful answer");
    BasicOcspResponse::from_der(bytes.response.as_bytes()).expect("a BasicOCSPResponse")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_gost2004_pki_answers_in_ncas_2004_form() {
    let nca = certificate_file(NCA_CERTIFICATE);
    let done =
        issues_signs_revokes_and_publishes("pki/gost2004", KeyAlgorithm::Gost2004, &nca).await;
    let t = &done.t;
    // The issuing CA is named as NCA's: C=KZ, then CN.
    let issuing = Cert::from_der(&t.pki.issuing().certificate_der).expect("issuing CA");
    let nca_ca = Cert::from_der(&certificate_file("fixtures/kalkan/pki/nca_gost_test.crt"))
        .expect("NCA's CA");
    let kinds = |c: &Cert| -> Vec<String> {
        c.parsed
            .tbs_certificate
            .subject
            .0
            .iter()
            .map(|rdn| rdn.0.as_slice()[0].oid.to_string())
            .collect()
    };
    assert_eq!(kinds(&issuing), kinds(&nca_ca));
    assert!(
        issuing.subject().contains("ҰКО ҚОЛТАҢБА 3.0 (GOST TEST)"),
        "{}",
        issuing.subject()
    );

    // The verifier named the algorithm as NCA's users know it.
    let signature = done
        .valid
        .checks
        .iter()
        .find(|c| c.id == "signature")
        .expect("step");
    assert!(
        signature
            .detail
            .starts_with("GOST 34.310-2004 signature by"),
        "{}",
        signature.detail
    );

    // The CRL's signature AlgorithmIdentifier is NCA's CRL's (NULL parameters included).
    let algorithm = |der: &[u8]| {
        CertificateList::from_der(der)
            .expect("CRL")
            .signature_algorithm
            .to_der()
            .expect("der")
    };
    assert_eq!(
        algorithm(&done.crl),
        algorithm(&repo_file("fixtures/kalkan/pki/nca_gost_test.crl"))
    );

    // The OCSP answer about the revoked subscriber: revoked, signed GOST 34.310-2004 by a
    // GOST-2004 responder, named as NCA's test OCSP names it.
    let leaf = Cert::from_der(&done.issued.record.certificate).expect("leaf");
    let request = OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![OcspItem {
                req_cert: qoltanba::fuzzing::ocsp_cert_id(&leaf, &issuing).expect("CertID"),
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    let answer = t
        .pki
        .ocsp_respond(&request.to_der().expect("der"), qoltanba::time::now())
        .await;
    let ours = basic_response(&answer);
    let nca_answer = basic_response(&repo_file(
        "fixtures/kalkan/tsp_ocsp/ocsp_response_ceo_sign_2004_revoked.der",
    ));
    assert!(matches!(
        ours.tbs_response_data.responses[0].cert_status,
        CertStatus::Revoked(_)
    ));
    assert_eq!(
        ours.signature_algorithm.to_der().expect("der"),
        nca_answer.signature_algorithm.to_der().expect("der")
    );
    let responder = &ours.certs.as_ref().expect("the responder's certificate")[0];
    let nca_responder = &nca_answer.certs.as_ref().expect("NCA's responder")[0];
    let key = |c: &x509_cert::Certificate| c.tbs_certificate.subject_public_key_info.clone();
    assert_eq!(
        key(responder).algorithm.to_der().expect("der"),
        key(nca_responder).algorithm.to_der().expect("der")
    );
    qoltanba::crypto::verify_signature(
        &ours.signature_algorithm,
        &key(responder),
        &ours.tbs_response_data.to_der().expect("der"),
        ours.signature.raw_bytes(),
    )
    .expect("the answer's GOST-2004 signature verifies");
}

/// NCA's 2004 key stores are legacy PKCS#12 (3DES key, RC2-40 certificates, SHA-1 MAC) holding
/// the scalar as a DER INTEGER; `legacy` gives ours that shape, and ours open and sign here.
#[tokio::test]
async fn gost2004_key_stores_are_ncas_shape_and_sign_for_the_official_and_subscribers() {
    let t = TestPki::with_declarations(
        Backend::Sqlite,
        "http://127.0.0.1:9",
        declarations("pki/gost2004"),
    )
    .await
    .expect("sqlite");
    let private_key = |pfx: &[u8], password: &str| {
        let contents = qoltanba::keystore::open_pkcs12(pfx, password).expect("opens");
        let info =
            pkcs8::PrivateKeyInfo::try_from(contents.private_key_pkcs8.as_slice()).expect("PKCS#8");
        let algorithm = info.algorithm.to_der().expect("der");
        (algorithm, info.private_key.first().copied())
    };
    let nca = private_key(
        &repo_file("fixtures/kalkan/test_keys/KEY_CEO_SIGN_REVOKED_2004.p12"),
        "Qwerty12",
    );
    assert_eq!(nca.1, Some(0x02), "NCA's scalar is an INTEGER");
    for legacy in [true, false] {
        let issued = t
            .issue(IssueRequest {
                legacy,
                ..individual("individual-sign")
            })
            .await;
        assert_eq!(
            private_key(&issued.pkcs12, P12_PASSWORD),
            nca,
            "legacy {legacy}"
        );
        let now = qoltanba::time::now();
        let identity = identity_from_pkcs12(&issued.pkcs12, P12_PASSWORD, now).expect("opens");
        assert_eq!(identity.key.algorithm(), KeyAlgorithm::Gost2004);
        cades::sign(b"{}", &identity, false, now).expect("signs");
    }

    // The official's GOST-2004 key signs documents the service's own verifier accepts.
    the_official_signs_what_the_verifier_accepts(&t, KeyAlgorithm::Gost2004).await;
}
