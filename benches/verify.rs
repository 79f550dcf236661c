//! Verification throughput against raw RSA: `cargo bench --bench verify`.
//!
//! Verifies one attached RSA-2048 CMS (signed by OpenSSL) against our issuing CA with a
//! 100,000-entry CRL, many times, and prints the rate beside raw ring RSA-2048 verifications of
//! the same signature measured in the same run, in alternating rounds (the machine is shared: a
//! busy moment then weighs on both). Goal: ratio >= 0.8 — chain and CRL work cached, one
//! public-key operation plus a few microseconds per request (issue 16). Then the same signer's ~5 KB XML request in Kalkan's
//! enveloped shape, beside the CMS rate (goal: XML >= 0.5 of CMS), and the XML room's parse and
//! C14N throughput in MB/s.

// The service binary's allocator (src/main.rs), so the rates are the service's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod support;
use support::rate;
#[path = "support/pki.rs"]
mod fresh_pki;

use std::process::Command;
use std::time::Instant;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};
use qoltanba::pki::IssueRequest;
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
    let (pki, signature, crl, xml) = runtime.block_on(async {
        let (pki, url) = fresh_pki::sqlite_pki(dir.path()).await;
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
        let official = qoltanba::sign::identity_from_pkcs12(&issued.pkcs12, "bench", qoltanba::time::now())
            .expect("identity");
        let xml = qoltanba::sign::xml::sign_enveloped(&kalkan_shaped_request(), &official).expect("xml");
        (pki, signature, crl, xml)
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
    let (raw, ours) = interleaved(
        ("ring RSA-2048 PKCS#1 verify (baseline)", &mut || {
            ring_key.verify(&message, &sig).expect("verifies");
        }),
        (
            "qoltanba verify (CMS, chain, 100k CRL, identity)",
            &mut || {
                let report = runtime.block_on(verifier.verify(&request));
                assert_eq!(report.verdict, Verdict::Valid);
            },
        ),
        iterations,
    );
    println!("ratio {:.2} (goal >= 0.8)", ours / raw);
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

    println!("XML request: {} bytes signed", xml.len());
    let xml_request = Request {
        signature: xml,
        ..Request::default()
    };
    let report = runtime.block_on(verifier.verify(&xml_request));
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let xml_rate = rate(
        "qoltanba verify (XML ~5 KB, enveloped, same chain)",
        iterations,
        || {
            let report = runtime.block_on(verifier.verify(&xml_request));
            assert_eq!(report.verdict, Verdict::Valid);
        },
    );
    println!("XML / CMS {:.2} (goal >= 0.5)", xml_rate / ours);
    xml_throughput();
}

/// The rates of two operations measured in 20 alternating rounds of `iterations` in all (after a
/// tenth as many of each to warm up), printed as `rate` prints them: a ratio of rates measured
/// one after the other moves with whatever else the machine does meanwhile.
fn interleaved(
    (first_label, first): (&str, &mut dyn FnMut()),
    (second_label, second): (&str, &mut dyn FnMut()),
    iterations: usize,
) -> (f64, f64) {
    const ROUNDS: usize = 20;
    let per_round = iterations.div_ceil(ROUNDS).max(1);
    for _ in 0..iterations / 10 {
        first();
        second();
    }
    let (mut first_time, mut second_time) = (0.0, 0.0);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..per_round {
            first();
        }
        first_time += start.elapsed().as_secs_f64();
        let start = Instant::now();
        for _ in 0..per_round {
            second();
        }
        second_time += start.elapsed().as_secs_f64();
    }
    let total = (ROUNDS * per_round) as f64;
    let (first_rate, second_rate) = (total / first_time, total / second_time);
    println!("{first_label:<52} {first_rate:>10.0} /s");
    println!("{second_label:<52} {second_rate:>10.0} /s");
    (first_rate, second_rate)
}

/// A licence request as the portal's form makes it, about 5 KB: applicant, address, contacts
/// and a list of attached documents.
fn kalkan_shaped_request() -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><request xmlns=\"urn:egov:license:request\">\
         <service>Выдача лицензии на фармацевтическую деятельность</service>\
         <applicant><iin>900517312343</iin><surname>ТЕСТОВ</surname><name>ТЕСТ</name>\
         <address>г. Астана, район Есиль, пр. Мәңгілік Ел, 55</address></applicant><documents>",
    );
    let mut i = 0;
    while xml.len() < 5000 {
        i += 1;
        xml += &format!(
            "<document n=\"{i}\"><kind>Справка</kind><number>KZ-{i:06}</number><issued>2026-11-0{}</issued></document>",
            i % 9 + 1
        );
    }
    xml += "</documents></request>";
    xml.into_bytes()
}

/// MB/s of `xml::Document::parse` and of inclusive C14N over a 4 MB document with namespaces,
/// attributes, references and comments.
fn xml_throughput() {
    use qoltanba::xml::c14n::{canonicalize, Method};
    use qoltanba::xml::{Document, Limits};
    let mut big = String::from("<r xmlns=\"urn:a\" xmlns:b=\"urn:b\">");
    let mut i = 0;
    while big.len() < 4 * 1024 * 1024 {
        i += 1;
        big += &format!(
            "<b:item z=\"{i}\" a=\"x &amp; y\"><!-- {i} --><name>Қолтаңба &#x41; {i}</name><v>{}</v></b:item>\n",
            i * 7
        );
    }
    big += "</r>";
    let megabytes = big.len() as f64 / (1024.0 * 1024.0);
    let runs = support::iterations(3000).div_ceil(300).max(3);
    let doc = Document::parse(big.as_bytes(), &Limits::default()).expect("parse");
    let parse = rate("  xml::Document::parse of 4 MB (documents/s)", runs, || {
        let _ = Document::parse(big.as_bytes(), &Limits::default()).expect("parse");
    });
    let mut out = Vec::with_capacity(big.len());
    let c14n = rate("  inclusive C14N of 4 MB (documents/s)", runs, || {
        out.clear();
        canonicalize(
            &doc,
            None,
            &[],
            &Method::Inclusive10 { comments: false },
            &mut out,
        );
    });
    println!(
        "XML parse {:.0} MB/s, C14N {:.0} MB/s",
        parse * megabytes,
        c14n * megabytes
    );
}
