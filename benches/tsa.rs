//! Time-stamp issuance against raw RSA: `cargo bench --bench tsa`.
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
}
