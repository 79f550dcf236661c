//! Issue 15's headline: a license issued now through the API is verified five years ahead —
//! after the official's certificate, the issuing CA's current CRL and its OCSP answer have
//! long expired — from the stored signature alone: `qoltanba verify --offline --trust root`,
//! no database, no network. It is valid, judged at its proof of existence, from the evidence
//! it carries (CAdES-B-LTA: its time-stamps, certificates and revocation values).

use std::path::Path;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{write, Backend, TestPki};
use crate::documents::license_payload;
use crate::evidence::{call, json_of};
use crate::verify_cli::verify;

const YEAR: i64 = 365 * 86_400;

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = (0..body.len())
        .step_by(64)
        .map(|i| &body[i..(i + 64).min(body.len())])
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn run(dir: &Path, signature: &str, root: &str, at: i64) -> (i32, Value) {
    let at = qoltanba::time::rfc3339(at);
    let (code, out, err) = verify(&[
        "--signature",
        signature,
        "--trust",
        root,
        "--offline",
        "--at",
        &at,
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{e}: {out}{err} (in {})", dir.display()));
    (code, report)
}

#[tokio::test]
async fn a_license_issued_now_is_valid_five_years_ahead_from_its_own_evidence() {
    let Some(t) = TestPki::new(Backend::Sqlite).await else {
        return;
    };
    let state = t.state();
    let token = &t.admin_token;
    let body = json!({"kind": "license", "payload": license_payload(), "format": "cms"});
    let (status, created) = call(&state, token, "POST", "/v1/documents", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let record = json_of(&created);
    assert_eq!(record["level"], "LTA", "{record}");
    let id = record["id"].as_str().expect("id");
    let uri = format!("/v1/documents/{id}/signature.p7s");
    let (status, p7s) = call(&state, token, "GET", &uri, None).await;
    assert_eq!(status, StatusCode::OK);
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = write(&dir.path().join("license.p7s"), &p7s);
    let root = write(
        &dir.path().join("root.pem"),
        pem(&t.pki.root().certificate_der),
    );

    let now = qoltanba::time::now();
    let later = now + 5 * YEAR + 86_400;
    let official = &t.pki.official().certificate.tbs_certificate.validity;
    let official_until = qoltanba::time::unix(&official.not_after.to_unix_duration());
    assert!(
        official_until < later,
        "the official's certificate has expired by then"
    );

    let (code, report) = run(dir.path(), &signature, &root, later);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "valid", "{report:#}");
    let signer = &report["signers"][0];
    let poe = signer["proof_of_existence"]
        .as_str()
        .expect("proof of existence");
    let proven = qoltanba::time::parse_rfc3339(poe).expect("time");
    assert!((now - 120..=now + 5).contains(&proven), "{poe}");
    let checks = signer["checks"].as_array().expect("checks");
    let validity = checks
        .iter()
        .find(|c| c["id"] == "validity")
        .expect("validity");
    assert!(
        validity["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("validated at the proof of existence {poe}"))),
        "{validity:#}"
    );
    let kinds: Vec<(&str, &str)> = signer["timestamps"]
        .as_array()
        .expect("timestamps")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(kinds, [("signature", "passed"), ("archive", "passed")]);

    // The B signature as first signed (the registry keeps it) has nothing to go on then.
    let b = qoltanba::sign::levels::level_of(&p7s).expect("level");
    assert_eq!(b, qoltanba::sign::levels::Level::Lta);
    let stored: Vec<u8> = {
        let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
        let row = sqlx::query("SELECT cms FROM documents WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("row");
        sqlx::Row::get(&row, "cms")
    };
    let original = write(&dir.path().join("original.p7s"), &stored);
    let (code, report) = run(dir.path(), &original, &root, later);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["sub_indication"], "EXPIRED", "{report:#}");
}
