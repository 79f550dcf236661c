//! SIGKILL during a burst of issuances while the TSA comes and goes (issue 15): the registry
//! (`qoltanba serve`) takes its time-stamps from a second `qoltanba serve` on the same database,
//! which is killed and restarted during the burst; then the registry itself is killed with
//! requests in flight. Every acknowledged document is stored, at level B or LTA as its answer
//! said; the evidence job then brings every one to LTA, and no document holds two versions of
//! one level (nothing stamped twice).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::documents::license_payload;
use crate::documents_concurrency::http_as;
use crate::evidence::evidence_rows;
use crate::instances::Instance;

const WORKERS: usize = 4;
const MARGIN: i64 = 90 * 86_400;

/// (id, level) of every acknowledged document.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn issue_until_gone(addr: String, token: String, seen: Seen, done: Arc<AtomicUsize>) {
    let body = json!({"kind": "license", "payload": license_payload()}).to_string();
    loop {
        let Ok((status, bytes)) = http_as(
            &addr,
            "POST",
            "/v1/documents",
            Some(body.clone()),
            Some(&token),
        )
        .await
        else {
            return; // the registry is gone
        };
        if status != 201 {
            continue; // cut mid-answer, or refused while dying: not acknowledged
        }
        let record: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let id = record["id"].as_str().unwrap_or_default().to_owned();
        let level = record["level"].as_str().unwrap_or_default().to_owned();
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, level));
        done.fetch_add(1, Ordering::SeqCst);
    }
}

async fn wait_for(done: &AtomicUsize, count: usize) {
    let started = Instant::now();
    while done.load(Ordering::SeqCst) < count && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The TSA instance on a fixed address, so the registry's `[timestamp] url` stays right
/// across restarts.
fn start_tsa(url: &str, dir: &std::path::Path, addr: &str) -> Instance {
    let public = format!("http://{addr}");
    let settings = [
        ("QOLTANBA_LISTEN", addr),
        ("QOLTANBA_PUBLIC_URL", public.as_str()),
    ];
    let mut tsa = Instance::start_with(url, dir, "tsa", &settings);
    tsa.addr = addr.to_owned();
    tsa
}

async fn a_crash_with_the_tsa_coming_and_going(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = database(backend, dir.path()).await else {
        return;
    };
    let tsa_addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").to_string()
    };
    let mut tsa = start_tsa(&url, dir.path(), &tsa_addr);
    tsa.ready().await;
    let tsp = format!("http://{tsa_addr}/pki/tsp");
    let settings = [
        ("QOLTANBA_TIMESTAMP_URL", tsp.as_str()),
        ("QOLTANBA_TIMESTAMP_TIMEOUT_SECONDS", "2"),
        ("QOLTANBA_TIMESTAMP_RETRIES", "0"),
    ];
    let mut registry = Instance::start_with(&url, dir.path(), "registry", &settings);
    registry.ready().await;
    let store = qoltanba::store::Store::connect(&url).await.expect("store");
    let (token, _) = qoltanba::security::ApiKeys::new(store.clone())
        .create("burst", &[qoltanba::security::Scope::Admin], 0)
        .await
        .expect("key");
    let token = token.reveal().to_string();

    let seen = Seen::default();
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (addr, token) = (registry.addr.clone(), token.clone());
            tokio::spawn(issue_until_gone(addr, token, seen.clone(), done.clone()))
        })
        .collect();
    wait_for(&done, 8).await;
    tsa.kill9(); // the TSA goes down mid-burst
    wait_for(&done, 20).await;
    let mut tsa = start_tsa(&url, dir.path(), &tsa_addr); // and comes back
    tsa.ready().await;
    wait_for(&done, 30).await;
    registry.kill9(); // requests in flight
    tsa.kill9();
    for worker in workers {
        worker.await.expect("worker");
    }
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(seen.len() >= 8, "only {} acknowledged", seen.len());
    let at_b = seen.iter().filter(|(_, level)| level == "B").count();
    assert!(seen.iter().all(|(_, l)| l == "B" || l == "LTA"), "{seen:?}");

    // Every acknowledged document is there, at least at the level its answer gave.
    for (id, level) in &seen {
        let document = store.document(id).await.expect("read");
        assert!(document.is_some(), "acknowledged document {id} is missing");
        if level == "LTA" {
            let newest = store
                .newest_evidence(id)
                .await
                .expect("read")
                .expect("evidence");
            assert_eq!(newest.level.as_str(), "LTA");
        }
    }
    // The job (the TSA in process now) brings every document to LTA.
    let declarations = qoltanba::pki::Declarations::load(None).expect("declarations");
    let pki = qoltanba::pki::Pki::open(
        store.clone(),
        declarations,
        "http://127.0.0.1:9",
        crate::instances::PASSPHRASE.as_bytes(),
    )
    .await
    .expect("open");
    let now = qoltanba::time::now();
    let mut extended = 0;
    for _ in 0..10 {
        // A run handles a bounded batch: as many runs as it takes.
        let done = pki.advance_evidence(now, MARGIN).await.expect("job");
        assert_eq!(done.failed, 0, "{done:?}");
        extended += done.extended;
        if done.extended == 0 {
            break;
        }
    }
    let again = pki.advance_evidence(now, MARGIN).await.expect("job");
    assert_eq!(again, Default::default());
    let below = "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM \
        document_evidence e WHERE e.document_id = d.id AND e.level = 'LTA')";
    assert_eq!(evidence_rows(&url, below).await, 0);
    let twice = "SELECT COUNT(*) FROM (SELECT document_id, level FROM document_evidence \
        GROUP BY document_id, level HAVING COUNT(*) > 1) AS x";
    assert_eq!(evidence_rows(&url, twice).await, 0);
    let stored = evidence_rows(&url, "SELECT COUNT(*) FROM documents").await;
    eprintln!(
        "{backend:?}: {} acknowledged ({at_b} at B), {stored} stored, {} brought to LTA by the job",
        seen.len(),
        extended
    );
    store.close().await;
}

on_both_backends!(a_crash_with_the_tsa_coming_and_going);
