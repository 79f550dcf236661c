//! The verifier the whole-pipeline targets (`cms_verify`, `xml_verify`) share: NCA RK test
//! anchors and CRLs, offline, and a current-thread runtime to drive it.

use std::sync::OnceLock;

use qoltanba::verify::{Report, Request, Settings, Verifier};

const RSA_CA: &[u8] = include_bytes!("../../../fixtures/nca/rsa/nca_rsa_test.crt");
const RSA_CRL: &[u8] = include_bytes!("../../../fixtures/nca/rsa/nca_rsa_test.crl");
const GOST_ROOT: &[u8] = include_bytes!("../../../fixtures/nca/gost/root_test_gost_2022.cer");
const GOST_CA: &[u8] = include_bytes!("../../../fixtures/nca/gost/nca_gost2022_test.cer");
const GOST_CRL: &[u8] = include_bytes!("../../../fixtures/nca/gost/nca_gost2022_test.crl");

/// Validation time 2021-06-01, when the NCA RSA test signer and its CA were valid (the GOST test
/// certificates were not yet: their seeds end "invalid" at the validity step, but every other
/// step still runs).
const AT: i64 = 1_622_505_600;

struct Setup {
    verifier: Verifier,
    runtime: tokio::runtime::Runtime,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let verifier = Verifier::new(Settings {
            anchors: vec![
                ("nca_rsa_test.crt".into(), RSA_CA.to_vec()),
                ("root_test_gost_2022.cer".into(), GOST_ROOT.to_vec()),
            ],
            intermediates: vec![("nca_gost2022_test.cer".into(), GOST_CA.to_vec())],
            crls: vec![
                ("nca_rsa_test.crl".into(), RSA_CRL.to_vec()),
                ("nca_gost2022_test.crl".into(), GOST_CRL.to_vec()),
            ],
            offline: true,
            ..Settings::default()
        })
        .expect("the fixture anchors and CRLs load");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        Setup { verifier, runtime }
    })
}

/// `signature` through the whole pipeline; the report must always serialise (the HTTP layer
/// returns it as JSON).
pub fn verify(signature: &[u8]) -> Report {
    let setup = setup();
    let request = Request {
        signature: signature.to_vec(),
        at: Some(AT),
        ..Request::default()
    };
    let report = setup.runtime.block_on(setup.verifier.verify(&request));
    let _ = serde_json::to_vec(&report).expect("a report serialises");
    report
}
