//! Arbitrary bytes as an OCSP responder's answer, through everything `verify::ocsp::query` does
//! with it (`ocsp::check_response`, reached through `qoltanba::fuzzing`): parse, responder and
//! delegation check, signature, nonce, certificate id, freshness, status.
//!
//! The certificate asked about and its issuer are a small RSA PKI made with openssl
//! (`fuzz/fixtures/ocsp/`); the seeds are genuine answers from `openssl ocsp` to a request
//! carrying `NONCE_VALUE`, signed by the CA itself and by a delegated responder, so mutations
//! start from answers that pass every check.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qoltanba::x509::Cert;

const CA: &[u8] = include_bytes!("../fixtures/ocsp/ca.der");
const LEAF: &[u8] = include_bytes!("../fixtures/ocsp/leaf.der");
/// The nonce extension value of the request the seed answers were made for (DER OCTET STRING).
const NONCE_VALUE: [u8; 18] = [
    0x04, 0x10, 0x00, 0xC7, 0x09, 0xBE, 0x37, 0x76, 0xD2, 0x02, 0x36, 0x8F, 0x7D, 0xCF, 0xC3, 0x1D,
    0x1A, 0xC5,
];
/// 2030-03-17: after the seeds' thisUpdate, before their nextUpdate.
const NOW: i64 = 1_900_000_000;

struct Setup {
    leaf: Cert,
    ca: Cert,
    debug: bool,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| Setup {
        leaf: Cert::from_der(LEAF).expect("fixture leaf"),
        ca: Cert::from_der(CA).expect("fixture CA"),
        debug: std::env::var_os("QOLTANBA_FUZZ_DEBUG").is_some(),
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let answer = qoltanba::fuzzing::ocsp_check_response(data, &s.leaf, &s.ca, &NONCE_VALUE, NOW);
    if s.debug {
        eprintln!("{answer:?}");
    }
    // The same answer with a nonce we did not send is never accepted.
    if answer.is_ok() {
        let other = qoltanba::fuzzing::ocsp_nonce_value(&[0u8; 16]).expect("nonce");
        assert!(
            qoltanba::fuzzing::ocsp_check_response(data, &s.leaf, &s.ca, &other, NOW).is_err(),
            "an answer was accepted with another request's nonce"
        );
    }
});
