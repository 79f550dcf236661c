//! NCA RK's real GOST-2015 test material through the algorithm table: the certificate chain and
//! the CRL's own signature verify, and the revoked key store's certificate is on that CRL.

use der::{Decode, Encode, Reader};
use qoltanba::crypto::verify_signature;
use qoltanba::x509::crl::Crl;
use x509_cert::Certificate;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/nca/gost/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// The TBSCertificate exactly as signed.
fn tbs(der: &[u8]) -> Vec<u8> {
    let mut reader = der::SliceReader::new(der).expect("reader");
    let _outer = der::Header::decode(&mut reader).expect("header");
    reader.tlv_bytes().expect("tbs").to_vec()
}

fn signed_by(cert_der: &[u8], issuer: &Certificate) -> Result<(), qoltanba::crypto::CryptoError> {
    let cert = Certificate::from_der(cert_der).expect("certificate");
    verify_signature(
        &cert.signature_algorithm,
        &issuer.tbs_certificate.subject_public_key_info,
        &tbs(cert_der),
        cert.signature.as_bytes().expect("bytes"),
    )
}

fn store_certificate(name: &str) -> Vec<u8> {
    qoltanba::keystore::open_pkcs12(&fixture(name), "Qwerty12")
        .expect("NCA GOST key store")
        .certificate
}

#[test]
fn the_real_gost_chain_and_crl_verify_and_the_revoked_certificate_is_found() {
    let root_der = fixture("root_test_gost_2022.cer");
    let issuing_der = fixture("nca_gost2022_test.cer");
    let root = Certificate::from_der(&root_der).expect("root");
    let issuing = Certificate::from_der(&issuing_der).expect("issuing");
    signed_by(&root_der, &root).expect("the root's self-signature");
    signed_by(&issuing_der, &root).expect("the issuing CA, by the root");
    assert!(
        signed_by(&issuing_der, &issuing).is_err(),
        "not by its own key"
    );
    let valid = store_certificate("individual_valid.p12");
    let revoked = store_certificate("individual_revoked.p12");
    signed_by(&valid, &issuing).expect("individual_valid, by the issuing CA");
    signed_by(&revoked, &issuing).expect("individual_revoked, by the issuing CA");
    let mut tampered = valid.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    assert!(Certificate::from_der(&tampered).is_err() || signed_by(&tampered, &issuing).is_err());

    let crl = Crl::parse(&fixture("nca_gost2022_test.crl")).expect("CRL");
    crl.verify_signature(&issuing.tbs_certificate.subject_public_key_info)
        .expect("the CRL's own GOST signature verifies");
    assert!(crl
        .verify_signature(&root.tbs_certificate.subject_public_key_info)
        .is_err());
    let serial = |der: &[u8]| {
        Certificate::from_der(der)
            .expect("cert")
            .tbs_certificate
            .serial_number
            .as_bytes()
            .to_vec()
    };
    assert!(
        crl.lookup(&serial(&revoked)).is_some(),
        "individual_revoked is on the CRL"
    );
    assert!(
        crl.lookup(&serial(&valid)).is_none(),
        "individual_valid is not"
    );
    let _ = root.to_der();
}
