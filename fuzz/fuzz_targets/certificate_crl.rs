//! Arbitrary bytes as a certificate (`Cert::from_der`, `read_certificate`) and as a CRL
//! (`Crl::parse`), then every accessor the pipeline uses, CRL lookups and signature checks.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qoltanba::verify::read_certificate;
use qoltanba::x509::crl::{self, Crl};
use qoltanba::x509::{Cert, KeyProfile};

const RSA_CA: &[u8] = include_bytes!("../../fixtures/nca/rsa/nca_rsa_test.crt");
const GOST_CA: &[u8] = include_bytes!("../../fixtures/nca/gost/nca_gost2022_test.cer");
/// NCA's GOST 34.310-2004 issuing CA (PEM): CRL signatures checked with the 2004 row too.
const GOST_2004_CA: &[u8] = include_bytes!("../../fixtures/kalkan/pki/nca_gost_test.crt");

fn issuers() -> &'static [Cert] {
    static ISSUERS: OnceLock<Vec<Cert>> = OnceLock::new();
    ISSUERS.get_or_init(|| {
        [RSA_CA, GOST_CA, GOST_2004_CA]
            .iter()
            .map(|b| read_certificate(b).expect("fixture CA certificate"))
            .collect()
    })
}

fn exercise_cert(cert: &Cert) {
    let _ = cert.serial_hex();
    let _ = cert.subject();
    let _ = cert.issuer();
    let _ = cert.not_before();
    let _ = cert.not_after();
    let _ = cert.is_self_issued();
    let _ = cert.key_usage();
    let _ = cert.extended_key_usage();
    let _ = cert.basic_constraints();
    let _ = cert.subject_key_id();
    let _ = cert.authority_key_id();
    let _ = cert.aia_uris(const_oid::db::rfc5280::ID_AD_CA_ISSUERS);
    let _ = cert.aia_uris(const_oid::db::rfc5280::ID_AD_OCSP);
    let _ = cert.crl_distribution_uris();
    let _ = cert.freshest_crl_uris();
    let _ = cert.unknown_critical_extensions();
    let _ = KeyProfile::of(cert);
}

fn exercise_crl(crl: &Crl, data: &[u8]) {
    let _ = format!("{crl:?}");
    let _ = crl.issuer_der();
    let _ = crl.issuer().to_string();
    let _ = (crl.version(), crl.this_update(), crl.next_update());
    let _ = (crl.number(), crl.delta_base(), crl.is_delta());
    let _ = crl.authority_key_id();
    let _ = crl.freshest_crl_urls();
    let _ = crl.scope();
    let _ = (
        crl.len(),
        crl.is_empty(),
        crl.fingerprint(),
        crl.heap_size(),
    );
    // Serials taken from the input itself (often the very bytes the index holds).
    for window in [1usize, 2, 8, 16, 20] {
        for chunk in data.chunks(window).take(64) {
            let _ = crl.lookup(chunk);
        }
    }
    let _ = crl.lookup(&[]);
    let _ = crl::status(crl, None, &[1]);
    let _ = crl::status(crl, Some(crl), &[1]);
    for issuer in issuers() {
        let _ = crl.verify_signature(&issuer.parsed.tbs_certificate.subject_public_key_info);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = Cert::from_der(data) {
        // The bytes are kept exactly as given: signatures are checked over them.
        assert_eq!(cert.der, data);
        exercise_cert(&cert);
    }
    if let Ok(cert) = read_certificate(data) {
        exercise_cert(&cert);
    }
    if let Ok(crl) = Crl::parse(data) {
        exercise_crl(&crl, data);
    }
});
