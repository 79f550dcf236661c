//! The GOST hierarchies' TSAs sign their tokens through the GOST rows of the algorithm table.

use super::*;

async fn a_gost_tsa_signs_through_the_algorithm_table(dir: &str, key: &str) {
    let declarations = crate::gost_pki::declarations(dir);
    let t = TestPki::with_declarations(Backend::Sqlite, "http://127.0.0.1:9", declarations)
        .await
        .expect("sqlite");
    let (info, signed) = granted(&t, der(&request(SHA256, &[4; 32]))).await;
    assert_eq!(info.policy.to_string(), POLICY);
    let cert = Certificate::from_der(t.pki.tsa_certificate()).expect("cert");
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let signer = signed.signer_infos.0.iter().next().expect("signer");
    let attributes = signer
        .signed_attrs
        .as_ref()
        .expect("attrs")
        .to_der()
        .expect("der");
    let algorithm = qoltanba::crypto::CmsSignature::resolve(
        &signer.digest_alg.oid,
        &signer.signature_algorithm,
        spki,
    )
    .expect("a GOST row of the table");
    assert_eq!(algorithm.name(), key);
    algorithm
        .verify(spki, &attributes, signer.signature.as_bytes())
        .expect("the GOST signature verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gost_2015_tsa_signs_its_tokens_in_gost() {
    let name = qoltanba::crypto::gost::Suite::Gost2015.name();
    a_gost_tsa_signs_through_the_algorithm_table("pki/gost", name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gost_2004_tsa_signs_its_tokens_in_gost() {
    let name = qoltanba::crypto::gost::Suite::Gost2004.name();
    a_gost_tsa_signs_through_the_algorithm_table("pki/gost2004", name).await;
}
