//! The transparency log as an auditor meets it (issue 17), on SQLite and PostgreSQL: what the
//! service serves — the signed checkpoint, its key, the tiles and entry bundles, its inclusion
//! and consistency proofs — is accepted by Go's sumdb/tlog and sumdb/note; and a hash rewritten
//! in the database (triggers disabled, as a superuser would) fails `/readyz`, the start-up
//! check, the next checkpoint and the auditor's tiles.

use std::path::Path;
use std::process::Command;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::*;
use qoltanba::tlog::{tiles_at, MAX_TILE_LEVEL};

pub(crate) async fn get(app: &axum::Router, path: &str) -> (StatusCode, Vec<u8>) {
    let request = HttpRequest::builder()
        .uri(path)
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.to_vec())
}

pub(crate) async fn issue_documents(app: &axum::Router, token: &str, count: usize, tag: &str) {
    // In waves: more than the writer's queue (256) at once would be refused 503, as it should.
    for wave in (0..count).collect::<Vec<_>>().chunks(64) {
        issue_wave(app, token, wave, tag).await;
    }
}

async fn issue_wave(app: &axum::Router, token: &str, wave: &[usize], tag: &str) {
    let tasks: Vec<_> = wave
        .iter()
        .map(|i| {
            let (app, token, request_id) = (app.clone(), token.to_owned(), format!("{tag}-{i}"));
            tokio::spawn(
                async move { crate::documents_batch::issue(app, &token, request_id).await },
            )
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// Lets a database superuser change `table` as if the append-only triggers were not there.
pub(crate) async fn disable_append_only(pool: &sqlx::AnyPool, backend: Backend, table: &str) {
    let statements = match backend {
        Backend::Sqlite => vec![
            format!("DROP TRIGGER IF EXISTS {table}_no_update"),
            format!("DROP TRIGGER IF EXISTS {table}_no_delete"),
        ],
        Backend::Postgres => vec![format!(
            "ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
        )],
    };
    for statement in &statements {
        sqlx::query(statement).execute(pool).await.expect(statement);
    }
}

/// Flips the last byte of a stored document's signature (triggers already out of the way).
pub(crate) async fn change_stored_signature(pool: &sqlx::AnyPool, id: &str) {
    let mut cms: Vec<u8> = sqlx::query_scalar("SELECT cms FROM documents WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("cms");
    if let Some(last) = cms.last_mut() {
        *last ^= 1;
    }
    sqlx::query("UPDATE documents SET cms = $1 WHERE id = $2")
        .bind(cms)
        .bind(id)
        .execute(pool)
        .await
        .expect("change the document");
}

/// Rewrites stored hash 3 (leaf 2's own, the one hash its row keeps) as a superuser would.
pub(crate) async fn rewrite_leaf_hash(pool: &sqlx::AnyPool) {
    sqlx::query("UPDATE log_entries SET hashes = $1 WHERE idx = 2")
        .bind(vec![0x42u8; 32])
        .execute(pool)
        .await
        .expect("rewrite");
}

/// A proof's hashes as the peer's proofs file lists them: base64, space-separated.
fn hashes_of(proof: &Value) -> String {
    let hashes: Vec<&str> = proof["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    hashes.join(" ")
}

/// Downloads what an auditor needs into `dir`, as the Go peer reads it.
async fn download(app: &axum::Router, dir: &Path, old_checkpoint: &[u8]) -> u64 {
    let (status, key) = get(app, "/log/key").await;
    assert_eq!(status, StatusCode::OK);
    std::fs::write(dir.join("key"), key).expect("key");
    let (status, checkpoint) = get(app, "/log/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    let size: u64 = String::from_utf8_lossy(&checkpoint)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("size line");
    std::fs::write(dir.join("checkpoint"), &checkpoint).expect("checkpoint");
    std::fs::write(dir.join("old-checkpoint"), old_checkpoint).expect("old checkpoint");
    for level in (0..=MAX_TILE_LEVEL).map(Some).chain([None]) {
        for tile in tiles_at(level, size) {
            let path = tile.path();
            let (status, bytes) = get(app, &format!("/log/{path}")).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            let file = dir.join(&path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(file, bytes).expect("tile");
        }
    }
    // Some of the service's own proofs, for the peer to check.
    let old_size: u64 = String::from_utf8_lossy(old_checkpoint)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("old size");
    let mut proofs = String::new();
    for index in [0, 1, old_size, size / 2, size - 1] {
        let (status, body) = get(app, &format!("/v1/log/proof/inclusion?index={index}")).await;
        assert_eq!(status, StatusCode::OK);
        let proof: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(proof["size"], size);
        proofs.push_str(&format!("inclusion {index} {}\n", hashes_of(&proof)));
    }
    let (status, body) = get(app, &format!("/v1/log/proof/consistency?from={old_size}")).await;
    assert_eq!(status, StatusCode::OK);
    let proof: Value = serde_json::from_slice(&body).expect("json");
    proofs.push_str(&format!("consistency {}\n", hashes_of(&proof)));
    std::fs::write(dir.join("proofs"), proofs).expect("proofs");
    size
}

fn judge(dir: &Path) -> (bool, String) {
    let out = Command::new(crate::tlog_peer::peer())
        .arg(dir)
        .output()
        .expect("the peer runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

on_both_backends!(an_auditor_with_gos_sumdb_accepts_the_served_log_and_catches_a_rewrite);
async fn an_auditor_with_gos_sumdb_accepts_the_served_log_and_catches_a_rewrite(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let state = qoltanba::http::AppState {
        inline_evidence: false,
        ..t.state()
    };
    let app = qoltanba::http::router(state);
    issue_documents(&app, &t.admin_token, 5, "early").await;
    // The first checkpoint, as an auditor kept it.
    let (status, old_checkpoint) = get(&app, "/log/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    // Past a full tile of 256 entries.
    issue_documents(&app, &t.admin_token, 260, "later").await;
    t.pki
        .sign_log_checkpoint(qoltanba::time::now())
        .await
        .expect("checkpoint");

    let dir = tempfile::tempdir().expect("tempdir");
    let size = download(&app, dir.path(), &old_checkpoint).await;
    assert!(size > 265, "{size}");
    let (ok, text) = judge(dir.path());
    assert!(ok, "{text}");
    assert!(text.contains(&format!("{size} entries proved")), "{text}");
    assert!(text.contains("6 of the log's proofs checked"), "{text}");
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    // The key the peer trusted is published with the CA certificates, and named in the CPS.
    let (_, key) = get(&app, "/log/key").await;
    assert_eq!(
        get(&app, "/pki/log.pub").await,
        (StatusCode::OK, key.clone())
    );
    let (status, cps) = get(&app, "/pki/cps").await;
    assert_eq!(status, StatusCode::OK);
    let key = String::from_utf8_lossy(&key);
    assert!(
        String::from_utf8_lossy(&cps).contains(key.trim()),
        "{}",
        String::from_utf8_lossy(&cps)
    );

    // A document's record names its entry, proved in the newest checkpoint; its proof checks
    // with our verifier and with Go's (the peer reads the proofs file).
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    let id: String = sqlx::query_scalar("SELECT id FROM documents ORDER BY sequence LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("a document");
    let (status, body) = get(&app, &format!("/v1/documents/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let record: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(record["log"]["included"], true, "{}", record["log"]);
    assert_eq!(record["log"]["checkpoint_size"], size);
    let (status, body) = get(&app, &format!("/v1/documents/{id}/proof")).await;
    assert_eq!(status, StatusCode::OK);
    let proof: Value = serde_json::from_slice(&body).expect("json");
    let index = proof["index"].as_u64().expect("index");
    assert_eq!(record["log"]["index"], index);
    std::fs::write(
        dir.path().join("proofs"),
        format!("inclusion {index} {}\n", hashes_of(&proof)),
    )
    .expect("proofs");
    let (ok, text) = judge(dir.path());
    assert!(
        ok && text.contains("1 of the log's proofs checked"),
        "{text}"
    );
    assert!(proof["entry"]
        .as_str()
        .is_some_and(|e| e.starts_with("qoltanba-log-entry/1\ndocument ")));

    // One byte of the stored signature changed, past the triggers: the record says so.
    disable_append_only(&pool, backend, "documents").await;
    change_stored_signature(&pool, &id).await;
    let (_, body) = get(&app, &format!("/v1/documents/{id}")).await;
    let record: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(record["log"]["included"], false, "{}", record["log"]);
    assert!(
        record["log"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("was changed")),
        "{}",
        record["log"]
    );
    // The service's sweep of the registry finds it too (in steps, from where it stopped):
    // /readyz fails, naming the document.
    let (status, _) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "not swept yet");
    for _ in 0..3 {
        t.pki.sweep_registry(128).await.expect("sweep");
    }
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let readiness: Value = serde_json::from_slice(&body).expect("json");
    let detail = readiness["checks"]["registry"]["detail"]
        .as_str()
        .unwrap_or("");
    assert!(
        detail.contains(&format!("as stored is not what log entry {index} recorded")),
        "{readiness}"
    );

    // A tile beyond the checkpoint, a malformed path, an entry past the end: 404.
    for path in ["/log/tile/0/999", "/log/tile/0/01", "/log/entries/100000"] {
        assert_eq!(get(&app, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }

    // A superuser rewrites the hash of leaf 2, past the triggers.
    disable_append_only(&pool, backend, "log_entries").await;
    rewrite_leaf_hash(&pool).await;

    // The full check (at start, and the periodic audit) rebuilds the tree from the entries and
    // names the row; from then on `/readyz` fails.
    let found = t.pki.check_log(true).await;
    assert!(
        matches!(&found, Err(e) if e.to_string().contains("stored hash 3 (entry 2)")),
        "{found:?}"
    );
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let readiness: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(readiness["checks"]["log"]["ok"], false, "{readiness}");
    issue_documents(&app, &t.admin_token, 1, "after").await;
    assert!(
        t.pki
            .sign_log_checkpoint(qoltanba::time::now())
            .await
            .is_err(),
        "a rewritten log is never signed again"
    );
    // The auditor, with the checkpoints it holds, sees the tiles no longer match.
    let dir = tempfile::tempdir().expect("tempdir");
    download(&app, dir.path(), &old_checkpoint).await;
    let (ok, text) = judge(dir.path());
    assert!(!ok && text.starts_with("FAIL"), "{text}");
}
