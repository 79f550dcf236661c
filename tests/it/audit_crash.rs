//! SIGKILL during a burst of acts leaves no act without its audit entry and no entry without its
//! act (issue 12, item 3). The real binary signs documents, issues certificates and revokes them
//! from several connections at once; once some are acknowledged it is killed with requests in
//! flight. Then, read straight from the database: every acknowledged act is there, and the
//! entries of the acts (documents, certificates, revocations) are exactly the acts stored, one
//! each. The assertions hold wherever the kill lands; the entry written after the act's commit,
//! as before, left committed documents without one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::AnyPool;

use crate::common::*;
use crate::documents::license_payload;
use crate::documents_concurrency::http_as;
use crate::instances::Instance;

const DOCUMENT_WORKERS: usize = 6;
const CERTIFICATE_WORKERS: usize = 2;
/// Acknowledged documents before the kill.
const ACKNOWLEDGED: usize = 20;
/// The burst's longest run before the kill, whatever was acknowledged.
const LONGEST: Duration = Duration::from_secs(8);

/// What the burst saw answered.
#[derive(Default)]
struct Acknowledged {
    documents: Vec<String>,
    certificates: Vec<String>,
    revocations: Vec<String>,
    unexpected: Vec<String>,
}

type Shared = Arc<Mutex<Acknowledged>>;

fn note(shared: &Shared, update: impl FnOnce(&mut Acknowledged)) {
    update(&mut shared.lock().unwrap_or_else(|e| e.into_inner()));
}

/// One act; None once the server is gone (the connection failed or was cut).
async fn call(addr: &str, token: &str, path: &str, body: &Value) -> Option<(u16, Value)> {
    let (status, bytes) = http_as(addr, "POST", path, Some(body.to_string()), Some(token))
        .await
        .ok()?;
    Some((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

fn string(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_default().to_owned()
}

/// Signs documents until the server is gone.
async fn sign_documents(addr: String, token: String, seen: Shared, done: Arc<AtomicUsize>) {
    let body = json!({"kind": "license", "payload": license_payload()});
    while let Some((status, answer)) = call(&addr, &token, "/v1/documents", &body).await {
        match status {
            201 => {
                note(&seen, |a| a.documents.push(string(&answer, "id")));
                done.fetch_add(1, Ordering::SeqCst);
            }
            _ => note(&seen, |a| a.unexpected.push(format!("{status} {answer}"))),
        }
    }
}

/// Issues certificates and revokes each, until the server is gone.
async fn issue_and_revoke(addr: String, token: String, seen: Shared) {
    let request = json!({
        "profile": "individual-sign", "iin": valid_iin(), "surname": "ТЕСТОВ",
        "given_name": "ТЕСТ", "key": "p256", "password": P12_PASSWORD
    });
    let revocation = json!({"reason": "keyCompromise"});
    while let Some((status, issued)) = call(&addr, &token, "/v1/pki/certificates", &request).await {
        if status != 201 {
            note(&seen, |a| a.unexpected.push(format!("{status} {issued}")));
            continue;
        }
        let serial = string(&issued, "serial");
        note(&seen, |a| a.certificates.push(serial.clone()));
        let path = format!("/v1/pki/certificates/{serial}/revoke");
        match call(&addr, &token, &path, &revocation).await {
            Some((200, _)) => note(&seen, |a| a.revocations.push(serial)),
            Some((status, answer)) => {
                note(&seen, |a| a.unexpected.push(format!("{status} {answer}")))
            }
            None => return,
        }
    }
}

/// The serial or number an act's entry names: the word after `prefix`'s words.
fn named(detail: &str, prefix: &str) -> String {
    detail
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{detail:?} does not start with {prefix:?}"))
        .to_owned()
}

/// What the entries of one kind of act name (serials or numbers), sorted: one per entry.
async fn entries(pool: &AnyPool, action: &str, prefix: &str) -> Vec<String> {
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = $1 AND outcome = 'ok' ORDER BY seq",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .expect("audit entries");
    let mut names: Vec<String> = details.iter().map(|d| named(d, prefix)).collect();
    names.sort();
    names
}

/// The acts stored and what their entries name are the same, one entry each.
fn one_entry_each(what: &str, acts: &[String], entries: &[String]) {
    let without: Vec<&String> = acts.iter().filter(|a| !entries.contains(a)).collect();
    let unknown: Vec<&String> = entries.iter().filter(|e| !acts.contains(e)).collect();
    let mut twice = entries.to_vec();
    twice.dedup();
    assert!(
        without.is_empty() && unknown.is_empty() && twice.len() == entries.len(),
        "{what}: {} stored, {} entries; stored without an entry: {without:?}; entries for \
         none stored: {unknown:?}; named twice: {}",
        acts.len(),
        entries.len(),
        entries.len() - twice.len()
    );
}

async fn column(pool: &AnyPool, query: &str) -> Vec<String> {
    let mut values: Vec<String> = sqlx::query_scalar(query)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    values.sort();
    values
}

async fn a_crash_leaves_no_act_without_its_entry(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = database(backend, dir.path()).await else {
        return;
    };
    let mut server = Instance::start(&url, dir.path(), "crash");
    server.ready().await;
    let store = qoltanba::store::Store::connect(&url).await.expect("store");
    let (token, _) = qoltanba::security::ApiKeys::new(store.clone())
        .create("burst", &[qoltanba::security::Scope::Admin], 0)
        .await
        .expect("key");
    store.close().await;
    let token = token.reveal().to_string();

    let seen = Shared::default();
    let done = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..DOCUMENT_WORKERS {
        let (addr, token, seen, done) = (
            server.addr.clone(),
            token.clone(),
            seen.clone(),
            done.clone(),
        );
        workers.push(tokio::spawn(sign_documents(addr, token, seen, done)));
    }
    for _ in 0..CERTIFICATE_WORKERS {
        let (addr, token, seen) = (server.addr.clone(), token.clone(), seen.clone());
        workers.push(tokio::spawn(issue_and_revoke(addr, token, seen)));
    }
    let started = Instant::now();
    while done.load(Ordering::SeqCst) < ACKNOWLEDGED && started.elapsed() < LONGEST {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every worker has a request in flight or about to be: the kill cuts some mid-act.
    server.kill9();
    for worker in workers {
        worker.await.expect("worker");
    }
    let seen = Arc::try_unwrap(seen)
        .map_err(|_| "workers still hold the answers")
        .expect("answers")
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    assert!(seen.unexpected.is_empty(), "{:?}", seen.unexpected);
    assert!(
        !seen.documents.is_empty(),
        "no document acknowledged before the kill"
    );

    let pool = AnyPool::connect(&url).await.expect("pool");
    // Every acknowledged act is stored.
    let documents = column(&pool, "SELECT id FROM documents").await;
    for id in &seen.documents {
        assert!(
            documents.contains(id),
            "acknowledged document {id} is missing"
        );
    }
    let issued = column(
        &pool,
        "SELECT serial FROM certificates WHERE profile = 'individual-sign'",
    )
    .await;
    let revoked = column(
        &pool,
        "SELECT serial FROM certificates WHERE status = 'revoked'",
    )
    .await;
    for serial in &seen.certificates {
        assert!(issued.contains(serial), "acknowledged certificate {serial}");
    }
    for serial in &seen.revocations {
        assert!(revoked.contains(serial), "acknowledged revocation {serial}");
    }
    // The acts' entries are exactly the acts stored: one each, none for an act not stored.
    let numbers = column(&pool, "SELECT number FROM documents").await;
    let signed = entries(&pool, "POST /v1/documents", "signed document ").await;
    one_entry_each("documents", &numbers, &signed);
    let issued_entries = entries(&pool, "POST /v1/pki/certificates", "issued serial ").await;
    one_entry_each("certificates", &issued, &issued_entries);
    let revoked_entries = entries(
        &pool,
        "POST /v1/pki/certificates/{serial}/revoke",
        "revoked serial ",
    )
    .await;
    one_entry_each("revocations", &revoked, &revoked_entries);
    eprintln!(
        "{backend:?}: {} documents stored ({} acknowledged), {} certificates ({}), {} revocations ({})",
        numbers.len(),
        seen.documents.len(),
        issued.len(),
        seen.certificates.len(),
        revoked.len(),
        seen.revocations.len()
    );
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_leaves_no_act_without_its_entry_on_sqlite() {
    a_crash_leaves_no_act_without_its_entry(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_leaves_no_act_without_its_entry_on_postgresql() {
    a_crash_leaves_no_act_without_its_entry(Backend::Postgres).await;
}
