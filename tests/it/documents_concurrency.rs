//! Two service instances on one PostgreSQL database issue documents in parallel: every
//! acknowledged document has its own number, and the numbers have no gaps.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{json, Value};

use crate::common::*;
use crate::documents::license_payload;

struct Instance(Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
pub(crate) async fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, Vec<u8>), String> {
    http_as(addr, method, path, body, None).await
}

/// [`http`] with an API key.
pub(crate) async fn http_as(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    token: Option<&str>,
) -> Result<(u16, Vec<u8>), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, bytes.to_vec()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql_give_400_distinct_gap_free_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = database(Backend::Postgres, dir.path()).await else {
        return;
    };
    let passphrase = "concurrency test passphrase";
    let mut instances = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..2 {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .arg("serve")
            .env("QOLTANBA_DATABASE_URL", &url)
            .env("QOLTANBA_LISTEN", &addr)
            .env("QOLTANBA_CA_PASSPHRASE", passphrase)
            .env("QOLTANBA_DATA_DIR", dir.path().join(format!("data{i}")))
            .env("QOLTANBA_LOG", "warn")
            .env_remove("QOLTANBA_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qoltanba serve");
        instances.push(Instance(child));
        addrs.push(addr);
    }
    // Both start at once: one creates the PKI, the other finds it.
    for addr in &addrs {
        let mut ready = false;
        for _ in 0..300 {
            if let Ok((200, _)) = http(addr, "GET", "/healthz", None).await {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "{addr} did not come up");
    }
    // Signing needs an API key with the `sign` scope; both instances share the database.
    let store = qoltanba::store::Store::connect(&url).await.expect("store");
    let (token, _) = qoltanba::security::ApiKeys::new(store.clone())
        .create("licensing", &[qoltanba::security::Scope::Sign], 0)
        .await
        .expect("key");
    store.close().await;
    let token = token.reveal().to_string();
    let body = json!({"kind": "license", "payload": license_payload()}).to_string();
    let mut tasks = Vec::new();
    for addr in &addrs {
        for _ in 0..200 {
            let (addr, body, token) = (addr.clone(), body.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                http_as(&addr, "POST", "/v1/documents", Some(body), Some(&token)).await
            }));
        }
    }
    let mut sequences = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("join").expect("request");
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let doc: Value = serde_json::from_slice(&body).expect("json");
        let number = doc["number"].as_str().expect("number");
        sequences.push(
            number
                .rsplit('-')
                .next()
                .expect("sequence")
                .parse::<u32>()
                .expect("digits"),
        );
    }
    sequences.sort_unstable();
    assert_eq!(
        sequences,
        (1..=400).collect::<Vec<u32>>(),
        "400 distinct numbers, no gaps"
    );
    one_log_of_both_instances(&url, &addrs).await;
}

/// The transparency log of two instances (issue 17): one log with exactly the 400 document
/// leaves (and the PKI's), indexes without gaps, and every checkpoint either instance signed
/// consistent with every later one.
async fn one_log_of_both_instances(url: &str, addrs: &[String]) {
    use qoltanba::tlog::{self, Entry, Recipe};
    let store = qoltanba::store::Store::connect(url).await.expect("store");
    let size = store.log_size().await.expect("size");
    // Each instance signs a checkpoint within a second of the log growing.
    for addr in addrs {
        let mut covered = false;
        for _ in 0..100 {
            let (status, body) = http(addr, "GET", "/log/checkpoint", None)
                .await
                .expect("checkpoint");
            assert_eq!(status, 200);
            let signed: u64 = String::from_utf8_lossy(&body)
                .lines()
                .nth(1)
                .and_then(|l| l.parse().ok())
                .expect("size line");
            if signed == size {
                covered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            covered,
            "{addr} signed no checkpoint of the whole log ({size})"
        );
    }
    let entries = store.log_entries(0..size).await.expect("entries");
    assert_eq!(entries.len() as u64, size);
    let mut numbers = std::collections::HashSet::new();
    for (expected, (index, bytes)) in entries.iter().enumerate() {
        assert_eq!(*index, expected as u64, "indexes without gaps");
        if let Ok(Entry::Document { number, .. }) = Entry::parse(bytes) {
            assert!(numbers.insert(number.clone()), "{number} twice");
        }
    }
    assert_eq!(numbers.len(), 400, "exactly the 400 documents");
    let pool = sqlx::AnyPool::connect(url).await.expect("pool");
    let checkpoints: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT size, root FROM log_checkpoints ORDER BY size")
            .fetch_all(&pool)
            .await
            .expect("checkpoints");
    assert!(!checkpoints.is_empty());
    let root_at = |size: u64| {
        let store = store.clone();
        async move {
            let recipe = Recipe::for_ranges(std::slice::from_ref(&(0..size)));
            let stored = store.log_hashes(recipe.indexes()).await.expect("hashes");
            recipe.hashes(&stored).expect("fold")[0]
        }
    };
    // The stored hashes are the tree of the entries as stored, though each instance appended
    // onto leaves the other had just written (its guess of the size often wrong).
    let leaves: Vec<tlog::Hash> = entries.iter().map(|(_, b)| tlog::leaf_hash(b)).collect();
    assert_eq!(
        root_at(size).await,
        tlog::root_of(&leaves),
        "stored tree = entries"
    );
    let newest = checkpoints.last().expect("a checkpoint").0 as u64;
    let newest_root = root_at(newest).await;
    for (old, root) in &checkpoints {
        let old = *old as u64;
        let root = tlog::Hash::from_slice(root).expect("32 bytes");
        assert_eq!(
            root_at(old).await,
            root,
            "checkpoint {old} is the stored tree's"
        );
        let recipe = Recipe::for_ranges(&tlog::consistency_ranges(old, newest).expect("ranges"));
        let stored = store.log_hashes(recipe.indexes()).await.expect("hashes");
        let proof = recipe.hashes(&stored).expect("fold");
        assert_eq!(
            tlog::verify_consistency(old, newest, &root, &newest_root, &proof),
            Ok(()),
            "checkpoint {old} → {newest}"
        );
    }
    store.close().await;
}
