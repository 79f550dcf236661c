//! Arbitrary bytes as the body of `POST /pki/tsp` (a DER TimeStampReq): `Pki::tsp_respond`
//! on the built-in test PKI (SQLite in a temporary file), as the endpoint calls it. Every body
//! gets a DER TimeStampResp, never a panic; a granted answer carries a token whose imprint is
//! the request's.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qoltanba::pki::{Declarations, Pki};
use qoltanba::store::Store;

struct Tsa {
    runtime: tokio::runtime::Runtime,
    pki: Pki,
}

fn tsa() -> &'static Tsa {
    static TSA: OnceLock<Tsa> = OnceLock::new();
    TSA.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let path =
            std::env::temp_dir().join(format!("qoltanba-fuzz-tsp-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pki = runtime.block_on(async {
            let store = Store::connect(&url).await.expect("store");
            let declarations = Declarations::load(None).expect("declarations");
            Pki::init(store, declarations, "http://127.0.0.1:9", b"fuzz")
                .await
                .expect("pki")
                .0
        });
        Tsa { runtime, pki }
    })
}

fuzz_target!(|data: &[u8]| {
    let tsa = tsa();
    let answer = tsa
        .runtime
        .block_on(tsa.pki.tsp_respond(data, 1_767_225_600, None));
    // A DER SEQUENCE (TimeStampResp), whatever the body was.
    assert_eq!(answer.der.first(), Some(&0x30));
    if answer.granted {
        // Only a body that reads as a TimeStampReq can be granted.
        use der::Decode as _;
        assert!(x509_tsp::TimeStampReq::from_der(data).is_ok());
    }
});
