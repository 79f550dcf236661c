//! Several `qoltanba serve` processes on one PostgreSQL database (issue 7): issuance and
//! revocation on both at once keep serials and CRL numbers unique; a revocation made on one is
//! reported by the other's OCSP and verification within the status cache's bound
//! (`store::MAX_STALENESS`; status_watch.rs holds the service to it); SIGKILL during a signing burst loses nothing acknowledged and
//! leaves nothing half-written; and when the leader dies another instance takes over the
//! periodic CRL work.
//!
//! These run on PostgreSQL only (SQLite is one instance by design) and are skipped, with a
//! note, when QOLTANBA_TEST_POSTGRES is unset outside CI.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use crate::common::*;
use crate::documents::license_payload;
use crate::documents_concurrency::http_as;

pub(crate) const PASSPHRASE: &str = "instances test passphrase";

/// A `qoltanba serve` process on 127.0.0.1, without a rate limit; SIGKILLed when dropped.
pub(crate) struct Instance {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// Where the process's stderr goes (warnings and errors: QOLTANBA_LOG=warn).
    stderr: std::path::PathBuf,
}

impl Instance {
    pub(crate) fn start(url: &str, dir: &std::path::Path, name: &str) -> Instance {
        Instance::start_with(url, dir, name, &[])
    }

    /// [`Instance::start`] with more settings in the environment.
    pub(crate) fn start_with(
        url: &str,
        dir: &std::path::Path,
        name: &str,
        settings: &[(&str, &str)],
    ) -> Instance {
        let addr = format!(
            "127.0.0.1:{}",
            std::net::TcpListener::bind("127.0.0.1:0")
                .expect("bind")
                .local_addr()
                .expect("addr")
                .port()
        );
        let child = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .arg("serve")
            .env("QOLTANBA_DATABASE_URL", url)
            .env("QOLTANBA_LISTEN", &addr)
            .env("QOLTANBA_PUBLIC_URL", format!("http://{addr}"))
            .env("QOLTANBA_CA_PASSPHRASE", PASSPHRASE)
            .env("QOLTANBA_DATA_DIR", dir.join(name))
            .env("QOLTANBA_CRL_REFRESH_SECONDS", "1")
            .env("QOLTANBA_RATE_LIMIT_PER_MINUTE", "0")
            .env("QOLTANBA_LOG", "warn")
            .env_remove("QOLTANBA_CONFIG")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.join(format!("{name}.stderr")))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("start qoltanba serve");
        Instance {
            child,
            addr,
            stderr: dir.join(format!("{name}.stderr")),
        }
    }

    /// Waits for `/healthz`. A minute: a first start makes the PKI's keys, and on a loaded CI
    /// machine (two cores shared with builds) that has taken over 30 s; a failure says what the
    /// service wrote.
    pub(crate) async fn ready(&self) {
        for _ in 0..600 {
            if let Ok((200, _)) = http_as(&self.addr, "GET", "/healthz", None, None).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let said = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: Vec<&str> = said.lines().rev().take(20).collect();
        panic!(
            "{} did not come up in 60 s; it wrote:\n{}",
            self.addr,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    pub(crate) fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> (u16, Value) {
        let (status, bytes) = http_as(
            &self.addr,
            method,
            path,
            body.map(|b| b.to_string()),
            Some(token),
        )
        .await
        .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", self.addr));
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// This instance's OCSP answer for a certificate (PEM, written as `{name}.pem` in `dir`)
    /// of the issuer `issuer_pem`, as the OpenSSL CLI prints it.
    pub(crate) fn ocsp(
        &self,
        dir: &std::path::Path,
        name: &str,
        leaf_pem: &str,
        issuer_pem: &str,
    ) -> String {
        let leaf = write(&dir.join(format!("{name}.pem")), leaf_pem);
        let issuer = write(&dir.join("issuer.pem"), issuer_pem);
        openssl_ok(&[
            "ocsp",
            "-issuer",
            &issuer,
            "-cert",
            &leaf,
            "-url",
            &format!("http://{}/pki/ocsp", self.addr),
            "-noverify",
        ])
    }

    /// The value of an unlabelled metric, if present.
    pub(crate) async fn metric(&self, name: &str) -> Option<f64> {
        let (_, bytes) = http_as(&self.addr, "GET", "/metrics", None, None)
            .await
            .ok()?;
        String::from_utf8_lossy(&bytes)
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Two instances on a fresh PostgreSQL database, and an admin token; None without PostgreSQL.
pub(crate) async fn two_instances(
    dir: &std::path::Path,
) -> Option<(Instance, Instance, String, String)> {
    let url = database(Backend::Postgres, dir).await?;
    let a = Instance::start(&url, dir, "a");
    let b = Instance::start(&url, dir, "b");
    a.ready().await;
    b.ready().await;
    let token = admin_token(&url).await;
    Some((a, b, url, token))
}

/// A `/v1/verify` body: `{}` signed (CMS, attached) with the key store of a certificate issued
/// over HTTP (its `pkcs12_base64`, password [`P12_PASSWORD`]).
pub(crate) fn verify_body_signed_by(issued: &Value) -> Value {
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(issued["pkcs12_base64"].as_str().expect("pkcs12"))
        .expect("base64");
    let now = qoltanba::time::now();
    let identity = qoltanba::sign::identity_from_pkcs12(&p12, P12_PASSWORD, now).expect("identity");
    let cms = qoltanba::sign::cades::sign(b"{}", &identity, false, now).expect("sign");
    json!({"signature": base64::engine::general_purpose::STANDARD.encode(&cms)})
}

/// An API key with the admin scope in the database at `url`: its token.
pub(crate) async fn admin_token(url: &str) -> String {
    let store = qoltanba::store::Store::connect(url).await.expect("store");
    let (token, _) = qoltanba::security::ApiKeys::new(store.clone())
        .create("operator", &[qoltanba::security::Scope::Admin], 0)
        .await
        .expect("key");
    store.close().await;
    token.reveal().to_string()
}

fn serial_of(issued: &Value) -> String {
    issued["serial"]
        .as_str()
        .or_else(|| issued["certificate"]["serial"].as_str())
        .expect("serial")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_issue_and_revoke_in_parallel_and_see_each_others_revocations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((a, b, url, token)) = two_instances(dir.path()).await else {
        return;
    };
    let request = json!({
        "profile": "individual-sign", "iin": valid_iin(), "surname": "ТЕСТОВ",
        "given_name": "ТЕСТ", "key": "p256", "password": P12_PASSWORD
    });
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (addr, request, token) = (
            if i % 2 == 0 { &a.addr } else { &b.addr }.clone(),
            request.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (status, body) = http_as(
                &addr,
                "POST",
                "/v1/pki/certificates",
                Some(request.to_string()),
                Some(&token),
            )
            .await
            .expect("issue");
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
            serde_json::from_slice::<Value>(&body).expect("json")
        }));
    }
    let mut issued = Vec::new();
    for task in tasks {
        issued.push(task.await.expect("join"));
    }
    let mut serials: Vec<String> = issued.iter().map(serial_of).collect();
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 24, "every serial is unique");

    // Revoke the first ten on both instances at once.
    let mut tasks = Vec::new();
    for (i, cert) in issued.iter().take(10).enumerate() {
        let addr = if i % 2 == 0 {
            a.addr.clone()
        } else {
            b.addr.clone()
        };
        let (serial, token) = (serial_of(cert), token.clone());
        tasks.push(tokio::spawn(async move {
            http_as(
                &addr,
                "POST",
                &format!("/v1/pki/certificates/{serial}/revoke"),
                Some(json!({"reason": "keyCompromise"}).to_string()),
                Some(&token),
            )
            .await
            .expect("revoke")
            .0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join"), 200);
    }
    // CRL numbers: unique, one sequence shared by both instances.
    let store = qoltanba::store::Store::connect(&url).await.expect("store");
    let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
    let issuing = store.authorities().await.expect("authorities");
    let issuing = issuing
        .iter()
        .find(|r| r.role == "issuing")
        .expect("issuing CA");
    let numbers: Vec<i64> =
        sqlx::query_scalar("SELECT number FROM crls WHERE issuer_id = $1 ORDER BY number")
            .bind(&issuing.id)
            .fetch_all(&pool)
            .await
            .expect("crl numbers");
    let mut distinct = numbers.clone();
    distinct.dedup();
    assert_eq!(
        distinct, numbers,
        "no CRL number of the issuing CA is used twice"
    );
    assert!(
        numbers.len() >= 20,
        "a full and a delta CRL per revocation: {numbers:?}"
    );

    // A revocation made on A: B's OCSP says revoked and B's verification refuses, within the
    // status cache's bound (status_watch.rs tests the bound itself).
    let victim = &issued[23];
    let serial = serial_of(victim);
    let verify_body = verify_body_signed_by(victim);
    let (status, report) = b
        .call("POST", "/v1/verify", Some(verify_body.clone()), &token)
        .await;
    assert_eq!(
        (status, report["verdict"].as_str()),
        (200, Some("valid")),
        "{report}"
    );
    let (status, _) = a
        .call(
            "POST",
            &format!("/v1/pki/certificates/{serial}/revoke"),
            Some(json!({"reason": "keyCompromise"})),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(qoltanba::store::MAX_STALENESS).await;
    let (_, report) = b
        .call("POST", "/v1/verify", Some(verify_body), &token)
        .await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(report["sub_indication"], "REVOKED");
    let leaf_pem = victim["certificate_pem"]
        .as_str()
        .or_else(|| victim["certificate"]["certificate_pem"].as_str())
        .expect("pem");
    let issuer_pem = qoltanba::pki::certificate::pem(&issuing.certificate).expect("pem");
    let ocsp = b.ocsp(dir.path(), "leaf", leaf_pem, &issuer_pem);
    assert!(ocsp.contains(": revoked"), "B's OCSP: {ocsp}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_signing_burst_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((mut a, b, url, token)) = two_instances(dir.path()).await else {
        return;
    };
    let body = json!({"kind": "license", "payload": license_payload()}).to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..150 {
        let (addr, body, token, done) = (a.addr.clone(), body.clone(), token.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let result = http_as(&addr, "POST", "/v1/documents", Some(body), Some(&token)).await;
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            result
        }));
    }
    // Once a few are acknowledged, kill A with the rest still in flight.
    for _ in 0..600 {
        if done.load(std::sync::atomic::Ordering::SeqCst) >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.kill9();
    let mut acknowledged = Vec::new();
    let mut cut_off = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok((201, bytes)) => {
                acknowledged.push(serde_json::from_slice::<Value>(&bytes).expect("json"))
            }
            Ok((status, bytes)) => {
                panic!("unexpected {status}: {}", String::from_utf8_lossy(&bytes))
            }
            Err(_) => cut_off += 1,
        }
    }
    assert!(
        !acknowledged.is_empty() && cut_off > 0,
        "the kill must land mid-burst: {} acknowledged, {cut_off} cut off",
        acknowledged.len()
    );
    // Every acknowledged document is there and verifies, seen from B.
    for doc in &acknowledged {
        let id = doc["id"].as_str().expect("id");
        let (status, check) = b
            .call(
                "GET",
                &format!("/v1/documents/{id}/verification"),
                None,
                &token,
            )
            .await;
        assert_eq!(status, 200, "{check}");
        assert_eq!(check["verdict"], "valid", "{check}");
    }
    // Every acknowledged document is in the transparency log, and B's next checkpoint (signed
    // within a second of the log growing) proves it (issue 17).
    for doc in &acknowledged {
        let id = doc["id"].as_str().expect("id");
        let mut log = Value::Null;
        for _ in 0..50 {
            let (status, record) = b
                .call("GET", &format!("/v1/documents/{id}"), None, &token)
                .await;
            assert_eq!(status, 200, "{record}");
            log = record["log"].clone();
            if log["included"] == true {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(log["included"], true, "document {id}: {log}");
    }
    // Nothing half-written: every stored document is whole and the numbers have no gaps.
    let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, sequence FROM documents ORDER BY sequence")
            .fetch_all(&pool)
            .await
            .expect("documents");
    assert!(stored.len() >= acknowledged.len());
    let sequences: Vec<i64> = stored.iter().map(|s| s.1).collect();
    assert_eq!(
        sequences,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "gap-free numbers"
    );
    for (id, _) in &stored {
        let (_, check) = b
            .call(
                "GET",
                &format!("/v1/documents/{id}/verification"),
                None,
                &token,
            )
            .await;
        assert_eq!(check["verdict"], "valid", "stored document {id}: {check}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_leader_dies_another_instance_takes_over_the_crl_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((mut a, mut b, _url, _token)) = two_instances(dir.path()).await else {
        return;
    };
    // Exactly one leads.
    let mut leaders = (0.0, 0.0);
    for _ in 0..100 {
        leaders = (
            a.metric("qoltanba_leader").await.unwrap_or(0.0),
            b.metric("qoltanba_leader").await.unwrap_or(0.0),
        );
        if leaders.0 + leaders.1 >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(leaders.0 + leaders.1, 1.0, "one leader: {leaders:?}");
    let (leader, follower) = if leaders.0 == 1.0 {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    assert_eq!(
        follower.metric("qoltanba_crl_refresh_runs_total").await,
        None,
        "the follower does no CRL work"
    );
    leader.kill9();
    let mut took_over = false;
    for _ in 0..100 {
        if follower.metric("qoltanba_leader").await == Some(1.0)
            && follower
                .metric("qoltanba_crl_refresh_runs_total")
                .await
                .unwrap_or(0.0)
                >= 1.0
        {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(took_over, "the follower took over the CRL work within 10 s");
    let (status, body) = http_as(&follower.addr, "GET", "/readyz", None, None)
        .await
        .expect("readyz");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}
