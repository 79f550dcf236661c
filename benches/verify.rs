//! Verification throughput against raw RSA: `cargo bench --bench verify`.
//!
//! Verifies one attached RSA-2048 CMS (signed by OpenSSL) against our issuing CA with a
//! 100,000-entry CRL, many times, and prints the rate beside raw ring RSA-2048 verifications of
//! the same signature measured in the same run. Goal: ratio >= 0.6 — chain and CRL work cached,
//! one public-key operation per request.

mod support;
use support::rate;

use std::process::Command;
use std::time::Instant;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};
use qoltanba::pki::{Declarations, IssueRequest, Pki};
use qoltanba::store::Store;
use qoltanba::verify::{Request, Settings, Verdict, Verifier};

const CRL_ENTRIES: usize = 100_000;

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let (pki, signature, crl) = runtime.block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let (pki, _) = Pki::init(store, Declarations::load(None).expect("decl"), "http://127.0.0.1:9", b"bench")
            .await
            .expect("pki");
        let issued = pki
            .issue(&IssueRequest {
                profile: "individual-sign".into(),
                iin: Some("900517312343".into()),
                surname: Some("ТЕСТОВ".into()),
                given_name: Some("ТЕСТ".into()),
                password: Some(zeroize::Zeroizing::new("bench".into())),
                ..IssueRequest::default()
            }, None)
            .await
            .expect("issue");
        // 100,000 revoked certificates of the issuing CA, straight into the table, then one
        // CRL cut by the real publisher.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
        let mut tx = pool.begin().await.expect("tx");
        for i in 0..CRL_ENTRIES {
            sqlx::query(
                "INSERT INTO certificates (serial, issuer_id, profile, subject, key_algorithm, not_before, \
                 not_after, certificate, status, revoked_at, revocation_reason, status_seq, created_at) \
                 VALUES ($1, $2, 'bench', 'CN=bench', 'rsa2048', 0, 0, $3, 'revoked', 1700000000, 'keyCompromise', 1, 0)",
            )
            .bind(format!("7F{i:038X}"))
            .bind(&pki.issuing().id)
            .bind(vec![0u8])
            .execute(&mut *tx)
            .await
            .expect("insert");
        }
        tx.commit().await.expect("commit");
        let issuing = pki.issuing().id.clone();
        pki.publish_crls(&issuing, qoltanba::time::now()).await.expect("publish");
        let crl = pki.crl(&issuing, false).await.expect("crl");
        let p12 = dir.path().join("s.p12");
        std::fs::write(&p12, &issued.pkcs12).expect("p12");
        let p12 = p12.to_str().expect("utf-8");
        let key = openssl(&["pkcs12", "-in", p12, "-passin", "pass:bench", "-nocerts", "-nodes"]);
        let cert = openssl(&["pkcs12", "-in", p12, "-passin", "pass:bench", "-clcerts", "-nokeys"]);
        let (key_path, cert_path, content) = (dir.path().join("k.pem"), dir.path().join("c.pem"), dir.path().join("req.json"));
        std::fs::write(&key_path, key).expect("key");
        std::fs::write(&cert_path, cert).expect("cert");
        std::fs::write(&content, br#"{"applicant":{"iin":"900517312343"}}"#).expect("content");
        let signature = openssl(&[
            "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-in", content.to_str().expect("p"),
            "-signer", cert_path.to_str().expect("p"), "-inkey", key_path.to_str().expect("p"),
        ]);
        (pki, signature, crl)
    });
    println!("CRL: {CRL_ENTRIES} entries, {} bytes", crl.len());

    let verifier = Verifier::new(Settings {
        anchors: vec![("issuing".into(), pki.issuing().certificate_der.clone())],
        crls: vec![("crl".into(), crl)],
        offline: true,
        ..Settings::default()
    })
    .expect("verifier");
    let request = Request {
        signature: signature.clone(),
        ..Request::default()
    };
    let first = Instant::now();
    let report = runtime.block_on(verifier.verify(&request));
    println!(
        "first verification (CRL signature checked, path built): {:.1} ms",
        first.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // The raw public-key operation: the same signature over the same signed attributes.
    let info = ContentInfo::from_der(&signature).expect("cms");
    let sd: SignedData = info.content.decode_as().expect("signed data");
    let si = sd.signer_infos.0.iter().next().expect("signer");
    let message = si
        .signed_attrs
        .as_ref()
        .expect("attrs")
        .to_der()
        .expect("der");
    let sig = si.signature.as_bytes().to_vec();
    let leaf = sd
        .certificates
        .as_ref()
        .and_then(|c| c.0.iter().next())
        .expect("cert");
    let cms::cert::CertificateChoices::Certificate(leaf) = leaf else {
        panic!("certificate")
    };
    let key = leaf
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec();
    let ring_key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key);

    let iterations = support::iterations(3000);
    let raw = rate("ring RSA-2048 PKCS#1 verify (baseline)", iterations, || {
        ring_key.verify(&message, &sig).expect("verifies");
    });
    let ours = rate(
        "qoltanba verify (CMS, chain, 100k CRL, identity)",
        iterations,
        || {
            let report = runtime.block_on(verifier.verify(&request));
            assert_eq!(report.verdict, Verdict::Valid);
        },
    );
    println!("ratio {:.2} (goal >= 0.6)", ours / raw);
    // Where the rest goes (diagnostics).
    rate(
        "  of which: CMS ContentInfo + SignedData decode",
        iterations,
        || {
            let info = ContentInfo::from_der(&signature).expect("cms");
            let _sd: SignedData = info.content.decode_as().expect("sd");
        },
    );
    rate(
        "  of which: certificate re-encode + SHA-256",
        iterations,
        || {
            let der = leaf.to_der().expect("der");
            let _ = qoltanba::crypto::sha256(&der);
        },
    );
    rate("  of which: report to JSON", iterations, || {
        let _ = serde_json::to_vec(&report).expect("json");
    });
}
