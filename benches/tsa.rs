//! Time-stamp issuance against raw RSA, and what time-stamps cost a verifier:
//! `cargo bench --bench tsa`.
//!
//! Then one document signed by the official at each CAdES level (B, T, LT, LTA, made with
//! `Pki::extend`), each verified by the same offline verifier (this PKI's root trusted, its
//! CRLs configured), with the ratio of each to B: T adds the token's signature and the TSA's
//! path and revocation, LT reads its carried revocation values, LTA also recomputes the
//! archive time-stamp's input.
//!
//! Time-stamps issued per second by the built-in TSA (RSA-2048): a DER TimeStampReq parsed and
//! checked, a serial taken from the database counter with the token signed in its transaction
//! (SQLite), the TimeStampResp encoded — beside raw ring RSA-2048 signatures by the same key
//! type in the same run. The database transaction per token (the serial, and in the service its
//! audit entry) is part of the figure, as it is of every token the service issues.

mod support;
use support::rate;
#[path = "support/pki.rs"]
mod fresh_pki;

use der::asn1::{Any, Int, OctetString};
use der::Encode;
use qoltanba::sign::levels::Level;
use qoltanba::verify::{Request, Settings, Verdict, Verifier};
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (pki, _url) = runtime.block_on(fresh_pki::sqlite_pki(dir.path()));
    let query = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier::<Any> {
                oid: const_oid::db::rfc5912::ID_SHA_256,
                parameters: None,
            },
            hashed_message: OctetString::new([0x5a; 32]).expect("imprint"),
        },
        req_policy: None,
        nonce: Some(Int::new(&[0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x08]).expect("nonce")),
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .expect("query");
    let iterations = support::iterations(1000);
    let message = [0x5au8; 300];
    let official = pki.official();
    let raw = rate("ring RSA-2048 PKCS#1 sign (baseline)", iterations, || {
        official.key.sign(&message).expect("sign");
    });
    let now = qoltanba::time::now();
    let issued = rate(
        "time-stamps issued (RSA-2048, SQLite serial each)",
        iterations,
        || {
            let answer = runtime.block_on(pki.tsp_respond(&query, now, None));
            assert!(answer.granted);
        },
    );
    println!("ratio {:.2} of raw RSA-2048 signing", issued / raw);
    verification_by_level(&runtime, &pki, iterations);
}

fn verification_by_level(runtime: &tokio::runtime::Runtime, pki: &qoltanba::pki::Pki, n: usize) {
    let crl = |id: &str| runtime.block_on(pki.crl(id, false)).expect("crl");
    let verifier = Verifier::new(Settings {
        anchors: vec![("root".into(), pki.root().certificate_der.clone())],
        crls: vec![
            ("issuing".into(), crl(&pki.issuing().id)),
            ("root".into(), crl(&pki.root().id)),
        ],
        offline: true,
        ..Settings::default()
    })
    .expect("verifier");
    let content = br#"{"kind":"license","applicant":{"iin":"900517312343"}}"#;
    let now = qoltanba::time::now();
    let b = qoltanba::sign::cades::sign(content, pki.official(), false, now).expect("sign");
    let mut base = 0.0;
    for level in [Level::B, Level::T, Level::Lt, Level::Lta] {
        let cms = runtime
            .block_on(pki.extend(&b, None, level, now))
            .expect("extend");
        let request = Request {
            signature: cms,
            ..Request::default()
        };
        let report = runtime.block_on(verifier.verify(&request));
        assert_eq!(report.verdict, Verdict::Valid, "{level}: {report:?}");
        let per_second = rate(&format!("verify a {level} document (RSA-2048)"), n, || {
            runtime.block_on(verifier.verify(&request));
        });
        if level == Level::B {
            base = per_second;
        } else {
            println!("  ratio {:.2} of B", per_second / base);
        }
    }
}
