//! Hostile load against `qoltanba serve` (issue 12): `cargo bench --bench hostile`.
//!
//! Starts the release server on 127.0.0.1 (SQLite, its own test PKI) and measures a
//! legitimate `POST /v1/verify` (one P-256 signer of the service's own PKI) twice in the same
//! run: alone, as the baseline, and while `HOSTILE_CLIENTS` (8) clients send, back to back, the
//! worst requests the caps allow:
//!
//! - the costliest CMS (64 SignerInfos that each match 64 certificates, 64 candidate issuers);
//! - a 16 MiB body: 12 MB of attached content signed by 64 signers without signed attributes,
//!   so that every signature check hashes all of it;
//! - a 16 MiB body of the same content signed by 64 signers with signed attributes.
//!
//! It prints the legitimate request's p50 and p99 in both phases, their ratio, the hostile
//! requests answered, and the server's peak RSS (VmHWM). Goals: p99 under load < 50 ms, peak
//! RSS < 300 MB. `BENCH_SECONDS` (default 20) sets each phase's length.

#[allow(dead_code)]
#[path = "../tests/it/hostile_build.rs"]
mod build;

/// What `build`'s CRL maker asks of the test crate.
mod openssl_pki {
    pub(crate) fn unix_now() -> i64 {
        qoltanba::time::now()
    }
}

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use build::{repeated, Cms};
use qoltanba::crypto::{KeyAlgorithm, SigningKey};
use qoltanba::pki::{Declarations, IssueRequest, Pki};
use qoltanba::store::Store;
use qoltanba::verify::MAX_SIGNERS;

const PASSPHRASE: &str = "hostile bench passphrase";
const HOSTILE_CLIENTS: usize = 8;

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

/// One HTTP/1.1 request on a new connection; the status code, or 0 on a socket error.
fn post(addr: &str, path: &str, body: &[u8]) -> u16 {
    let attempt = || -> std::io::Result<u16> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let line = String::from_utf8_lossy(&answer[..answer.len().min(12)]).to_string();
        Ok(line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0))
    };
    attempt().unwrap_or(0)
}

fn verify_body(cms: &[u8]) -> Vec<u8> {
    let signature = base64::engine::general_purpose::STANDARD.encode(cms);
    serde_json::to_vec(&serde_json::json!({ "signature": signature })).expect("JSON")
}

/// Sets up a PKI in `dir` with the library, then serves it with the release binary.
fn start(dir: &std::path::Path) -> (Server, Vec<u8>) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("q.db").display());
    let addr = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let legit = runtime.block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let declarations = Declarations::load(None).expect("declarations");
        let public_url = format!("http://{addr}");
        let (pki, _) = Pki::init(store, declarations, &public_url, PASSPHRASE.as_bytes())
            .await
            .expect("PKI");
        let issued = pki
            .issue(
                &IssueRequest {
                    profile: "individual-sign".into(),
                    iin: Some("900517312343".into()),
                    surname: Some("ТЕСТОВ".into()),
                    given_name: Some("ТЕСТ".into()),
                    key: Some(KeyAlgorithm::P256),
                    password: Some(zeroize::Zeroizing::new("bench".into())),
                    ..IssueRequest::default()
                },
                None,
            )
            .await
            .expect("issue");
        let store = qoltanba::keystore::open_pkcs12(&issued.pkcs12, "bench").expect("p12");
        let key = SigningKey::from_pkcs8(&store.private_key_pkcs8).expect("key");
        let content = br#"{"iin":"900517312343","service":"license"}"#;
        pki.store().close().await;
        Cms::new(content, &store.certificate, &key).sign(&key)
    });
    let child = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .arg("serve")
        .env("QOLTANBA_DATABASE_URL", &url)
        .env("QOLTANBA_DATA_DIR", dir)
        .env("QOLTANBA_LISTEN", &addr)
        .env("QOLTANBA_PUBLIC_URL", format!("http://{addr}"))
        .env("QOLTANBA_CA_PASSPHRASE", PASSPHRASE)
        .env("QOLTANBA_RATE_LIMIT_PER_MINUTE", "0")
        .env("QOLTANBA_LOG", "warn")
        .env_remove("QOLTANBA_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start qoltanba serve");
    let server = Server { child, addr };
    let started = Instant::now();
    while post(&server.addr, "/v1/verify", b"{}") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, verify_body(&legit))
}

/// The hostile bodies, built once.
fn hostile_bodies() -> Vec<Vec<u8>> {
    let key = build::p256();
    let leaf = build::Authority::root("CN=HOSTILE LOAD,C=KZ").issue(
        &build::name("CN=HOSTILE SIGNER,C=KZ"),
        &key,
        1,
        build::leaf_extensions(),
    );
    // 12 MB of content: base64 of the CMS then fills a 16 MiB body.
    let content = vec![b'A'; 12 * 1024 * 1024 - 64 * 1024];
    let mut bare = Cms::new(&content, &leaf, &key);
    bare.signed_attrs = None;
    let with_attributes = Cms::new(&content, &leaf, &key);
    vec![
        verify_body(&build::costliest_within_the_caps(b"{}")),
        verify_body(&repeated(&bare.sign(&key), MAX_SIGNERS, 1)),
        verify_body(&repeated(&with_attributes.sign(&key), MAX_SIGNERS, 1)),
    ]
}

/// Times `legit` back to back for `seconds`; returns (p50, p99) in milliseconds.
fn latencies(addr: &str, legit: &[u8], seconds: u64) -> (f64, f64, usize) {
    let mut samples = Vec::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        let t = Instant::now();
        let status = post(addr, "/v1/verify", legit);
        assert_eq!(status, 200, "the legitimate verification must succeed");
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(5));
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.50), at(0.99), samples.len())
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, legit) = start(dir.path());
    let hostile = Arc::new(hostile_bodies());
    let sizes: Vec<String> = hostile
        .iter()
        .map(|b| format!("{} KiB", b.len() >> 10))
        .collect();
    println!("hostile bodies: {}", sizes.join(", "));

    let (base50, base99, n) = latencies(&server.addr, &legit, seconds);
    let rss_alone = server.peak_rss_mb();
    println!("legitimate verify alone:            p50 {base50:7.2} ms  p99 {base99:7.2} ms  ({n} requests)");

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..HOSTILE_CLIENTS)
        .map(|i| {
            let (stop, answered, hostile) = (
                Arc::clone(&stop),
                Arc::clone(&answered),
                Arc::clone(&hostile),
            );
            let addr = server.addr.clone();
            std::thread::spawn(move || {
                let mut k = i;
                while !stop.load(Ordering::Relaxed) {
                    if post(&addr, "/v1/verify", &hostile[k % hostile.len()]) != 0 {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    k += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let (load50, load99, n) = latencies(&server.addr, &legit, seconds);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let rss = server.peak_rss_mb();
    println!("legitimate verify, {HOSTILE_CLIENTS} hostile clients: p50 {load50:7.2} ms  p99 {load99:7.2} ms  ({n} requests)");
    println!(
        "hostile requests answered:          {}",
        answered.load(Ordering::Relaxed)
    );
    println!("p99 under load / alone:             {:.2}", load99 / base99);
    println!(
        "peak RSS: {rss_alone:.0} MB alone, {rss:.0} MB with the hostile load (goal < 300 MB)"
    );
    println!(
        "goal p99 < 50 ms under load: {}",
        if load99 < 50.0 { "met" } else { "NOT met" }
    );
}
