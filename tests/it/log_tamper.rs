//! Rows deleted from the registry past the append-only triggers, as a database superuser could
//! (issue 17), on SQLite and PostgreSQL: a document's row removed is named by `log audit
//! --documents` and by the service's registry sweep (`/readyz`); its log entry removed too is named by the service's full check, `/readyz`,
//! the tiles and `log audit`; and a log rolled back and regrown (checkpoints deleted as well,
//! so the service itself has nothing left to compare with) is caught by an auditor holding an
//! older checkpoint, through the consistency proof.

use axum::http::StatusCode;
use serde_json::Value;

use crate::common::*;
use crate::log_cli::{log_audit, log_verify, said, served_log};
use crate::log_http::{disable_append_only, get, issue_documents};

async fn execute(pool: &sqlx::AnyPool, sql: &str, value: i64) {
    sqlx::query(sql).bind(value).execute(pool).await.expect(sql);
}

on_both_backends!(deleted_rows_are_named_and_a_rolled_back_log_is_caught_by_an_older_checkpoint);
async fn deleted_rows_are_named_and_a_rolled_back_log_is_caught_by_an_older_checkpoint(
    backend: Backend,
) {
    let Some((t, app, base)) = served_log(backend).await else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();

    issue_documents(&app, &t.admin_token, 4, "kept").await;
    let kept = t
        .pki
        .sign_log_checkpoint(qoltanba::time::now())
        .await
        .expect("checkpoint");
    std::fs::write(dir.join("kept-checkpoint"), &kept.note).expect("kept");
    issue_documents(&app, &t.admin_token, 2, "later").await;
    t.pki
        .sign_log_checkpoint(qoltanba::time::now())
        .await
        .expect("checkpoint");

    // The second document of the registry, and its leaf.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    let number: String =
        sqlx::query_scalar("SELECT number FROM documents ORDER BY sequence LIMIT 1 OFFSET 1")
            .fetch_one(&pool)
            .await
            .expect("a document");
    let index: i64 = sqlx::query_scalar("SELECT idx FROM log_entries WHERE reference = $1")
        .bind(&number)
        .fetch_one(&pool)
        .await
        .expect("its entry");
    assert!((index as u64) < kept.size, "{index} {}", kept.size);

    // 1. Its row deleted from the registry: the log still names it.
    disable_append_only(&pool, backend, "documents").await;
    sqlx::query("DELETE FROM documents WHERE number = $1")
        .bind(&number)
        .execute(&pool)
        .await
        .expect("delete the document");
    let audit = log_audit(&base, &["--documents"], dir);
    assert_eq!(audit.status.code(), Some(1), "{}", said(&audit));
    assert!(
        said(&audit).contains(&format!("entry {index}: document {number} is not served")),
        "{}",
        said(&audit)
    );

    // The service's own sweep re-reads the registry against the log: /readyz fails and names
    // the document, while the log itself still adds up.
    t.pki.sweep_registry(10_000).await.expect("sweep");
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let readiness: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(readiness["checks"]["log"]["ok"], true, "{readiness}");
    assert_eq!(readiness["checks"]["registry"]["ok"], false, "{readiness}");
    assert!(
        readiness["checks"]["registry"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!(
                "document {number} (log entry {index}) is missing from the registry"
            ))),
        "{readiness}"
    );

    // 2. Its log entry deleted too: the full check names it, /readyz fails, and so does the
    //    tile an auditor downloads, saying which entry is gone.
    disable_append_only(&pool, backend, "log_entries").await;
    execute(&pool, "DELETE FROM log_entries WHERE idx = $1", index).await;
    let missing = format!("log entry {index} is missing");
    let found = t.pki.check_log(true).await;
    assert!(
        matches!(&found, Err(e) if e.to_string().contains(&missing)),
        "{found:?}"
    );
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let readiness: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(readiness["checks"]["log"]["ok"], false, "{readiness}");
    let (status, body) = get(&app, &format!("/log/tile/entries/000.p/{}", index + 1)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(error["error"]["code"], "log_damaged", "{error}");
    let audit = log_audit(&base, &[], dir);
    assert_eq!(audit.status.code(), Some(1), "{}", said(&audit));
    assert!(said(&audit).contains(&missing), "{}", said(&audit));

    // 3. Rolled back: every leaf from that entry on, its hashes and every checkpoint deleted.
    //    With nothing signed left to compare with, the service's own check passes (as it would
    //    at a restart) and it grows and signs the rewritten log. Only a kept checkpoint shows it.
    disable_append_only(&pool, backend, "log_checkpoints").await;
    execute(&pool, "DELETE FROM log_entries WHERE idx >= $1", index).await;
    execute(&pool, "DELETE FROM log_checkpoints WHERE size >= $1", 0).await;
    t.pki
        .check_log(true)
        .await
        .expect("nothing signed to compare");
    issue_documents(&app, &t.admin_token, 4, "rewritten").await;
    let rewritten = t
        .pki
        .sign_log_checkpoint(qoltanba::time::now())
        .await
        .expect("the service signs what it has");
    assert!(
        rewritten.size > kept.size,
        "{} {}",
        rewritten.size,
        kept.size
    );

    let out = dir.join("log").to_string_lossy().into_owned();
    let kept_arg = dir.join("kept-checkpoint").to_string_lossy().into_owned();
    let fork = format!("the previous checkpoint (size {})", kept.size);
    let audit = log_audit(
        &base,
        &["--out", &out, "--previous-checkpoint", &kept_arg],
        dir,
    );
    assert_eq!(audit.status.code(), Some(1), "{}", said(&audit));
    assert!(said(&audit).contains(&fork), "{}", said(&audit));
    // The same offline, from the files the audit kept.
    let key = dir.join("log/key").to_string_lossy().into_owned();
    let checkpoint = dir.join("log/checkpoint").to_string_lossy().into_owned();
    let verify = log_verify(
        &checkpoint,
        &key,
        &["--tiles", &out, "--previous-checkpoint", &kept_arg],
        dir,
    );
    assert_eq!(verify.status.code(), Some(1), "{}", said(&verify));
    assert!(said(&verify).contains(&fork), "{}", said(&verify));
    // Without the kept checkpoint the rewritten log adds up: that is what keeping one is for.
    let alone = log_verify(&checkpoint, &key, &["--tiles", &out], dir);
    assert_eq!(alone.status.code(), Some(0), "{}", said(&alone));
}
