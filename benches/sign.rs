//! Signing throughput against raw RSA: `cargo bench --bench sign`.
//!
//! Documents signed per second through the library (canonical JSON + CAdES-BES by the
//! official's RSA-2048 key), beside raw ring RSA-2048 signatures in the same run (goal: ratio
//! >= 0.8); and, separately, documents issued per second with the registry on SQLite.

mod support;
use support::rate;
#[path = "support/pki.rs"]
mod fresh_pki;

use qoltanba::sign::canonical::canonical;
use qoltanba::sign::document::{document_json, Kind, Payload};

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (pki, _url) = runtime.block_on(fresh_pki::sqlite_pki(dir.path()));
    let official = pki.official();
    let payload: Payload = serde_json::from_value(serde_json::json!({
        "authority": {"name": "ЛИЦЕНЗИАР (ҚОЛТАҢБА ТЕСТ)", "bin": "950341000052"},
        "recipient": {"name": "ТОО \"Әлем Фарм\"", "bin": "940140000385"},
        "activity": "Фармацевтическая деятельность", "issued_on": "2026-11-23", "request_id": "REQ-1"
    }))
    .expect("payload");
    let now = qoltanba::time::now();
    let iterations = support::iterations(1000);
    let message = [0x5au8; 300];
    let raw = rate("ring RSA-2048 PKCS#1 sign (baseline)", iterations, || {
        official.key.sign(&message).expect("sign");
    });
    let mut n = 0u64;
    let ours = rate(
        "library: canonical JSON + CAdES-BES (RSA-2048)",
        iterations,
        || {
            n += 1;
            let doc = document_json(
                Kind::License,
                &format!("950341000052-2026-{n:06}"),
                "2026-11-23T00:00:00Z",
                &payload,
                None,
            );
            let bytes = canonical(&doc).expect("canonical");
            qoltanba::sign::cades::sign(&bytes, official, false, now).expect("cades");
        },
    );
    println!("ratio {:.2} (goal >= 0.8)", ours / raw);
    let store = pki.store().clone();
    rate(
        "issued and registered (SQLite, one transaction each)",
        iterations / 4,
        || {
            runtime
                .block_on(qoltanba::sign::issue::issue(
                    &store,
                    official,
                    &qoltanba::sign::issue::Order {
                        kind: Kind::License,
                        payload: &payload,
                        format: qoltanba::sign::document::Format::Cms,
                        detached: false,
                        supersedes: None,
                    },
                    now,
                    None,
                ))
                .expect("issue");
        },
    );
}
