//! `qoltanba log audit` and `qoltanba log verify` (issue 17), from outside the service: the
//! audit downloads the served log, rebuilds it and checks every entry and document; verify
//! works from the downloaded files alone. A changed document or a rewritten hash in the
//! database (SQLite and PostgreSQL, triggers disabled) makes the audit fail and name it.

use std::path::Path;
use std::process::{Command, Output};

use axum::http::StatusCode;

use crate::common::*;
use crate::log_http::{
    change_stored_signature, disable_append_only, get, issue_documents, rewrite_leaf_hash,
};

pub(crate) fn qoltanba(args: &[&str], dir: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qoltanba"));
    command
        .args(args)
        .current_dir(dir)
        .env("QOLTANBA_DATA_DIR", dir.join("data"))
        .env("QOLTANBA_LOG", "warn");
    for name in [
        "QOLTANBA_DATABASE_URL",
        "QOLTANBA_CONFIG",
        "QOLTANBA_PUBLIC_URL",
    ] {
        command.env_remove(name);
    }
    command.output().expect("qoltanba runs")
}

/// `qoltanba log verify --checkpoint … --key …` and `more`.
pub(crate) fn log_verify(checkpoint: &str, key: &str, more: &[&str], dir: &Path) -> Output {
    let mut args = vec!["log", "verify", "--checkpoint", checkpoint, "--key", key];
    args.extend_from_slice(more);
    qoltanba(&args, dir)
}

/// `qoltanba log audit --url base` and `more`.
pub(crate) fn log_audit(base: &str, more: &[&str], dir: &Path) -> Output {
    let mut args = vec!["log", "audit", "--url", base];
    args.extend_from_slice(more);
    qoltanba(&args, dir)
}

pub(crate) fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Serves `app` on a loopback port for the CLI to reach; its base URL.
pub(crate) async fn serve(app: &axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let served = app.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, served).await;
    });
    base
}

/// A test PKI's service (evidence left to the background job, so documents are quick), on a
/// loopback port for the CLI: the PKI, the router and the base URL.
pub(crate) async fn served_log(backend: Backend) -> Option<(TestPki, axum::Router, String)> {
    let t = TestPki::new(backend).await?;
    let app = qoltanba::http::router(qoltanba::http::AppState {
        inline_evidence: false,
        ..t.state()
    });
    let base = serve(&app).await;
    Some((t, app, base))
}

on_both_backends!(log_audit_and_verify_check_the_served_log_and_name_what_was_changed);
async fn log_audit_and_verify_check_the_served_log_and_name_what_was_changed(backend: Backend) {
    let Some((t, app, base)) = served_log(backend).await else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();

    issue_documents(&app, &t.admin_token, 4, "first").await;
    let (_, old) = get(&app, "/log/checkpoint").await;
    std::fs::write(dir.join("old-checkpoint"), &old).expect("old");
    issue_documents(&app, &t.admin_token, 3, "second").await;
    t.pki
        .sign_log_checkpoint(qoltanba::time::now())
        .await
        .expect("checkpoint");

    let out_dir = dir.join("log");
    let out_arg = out_dir.to_string_lossy().into_owned();
    let old_arg = dir.join("old-checkpoint").to_string_lossy().into_owned();
    let audit = log_audit(
        &base,
        &[
            "--out",
            &out_arg,
            "--previous-checkpoint",
            &old_arg,
            "--documents",
        ],
        dir,
    );
    assert_eq!(audit.status.code(), Some(0), "{}", said(&audit));
    assert!(
        said(&audit).contains("7 documents as stored are the ones"),
        "{}",
        said(&audit)
    );

    let key = out_dir.join("key").to_string_lossy().into_owned();
    let checkpoint = out_dir.join("checkpoint").to_string_lossy().into_owned();
    let verify = log_verify(
        &checkpoint,
        &key,
        &[
            "--tiles",
            &out_arg,
            "--entry",
            "2",
            "--previous-checkpoint",
            &old_arg,
        ],
        dir,
    );
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
    assert!(
        said(&verify).contains("ok: entry 2 is in the tree"),
        "{}",
        said(&verify)
    );

    // A document's signature file and its saved proof, checked offline.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    let (id, number): (String, String) =
        sqlx::query_as("SELECT id, number FROM documents ORDER BY sequence DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("a document");
    let (status, p7s) = get(&app, &format!("/v1/documents/{id}/signature.p7s")).await;
    assert_eq!(status, StatusCode::OK);
    std::fs::write(dir.join("doc.p7s"), &p7s).expect("p7s");
    let (status, proof) = get(&app, &format!("/v1/documents/{id}/proof")).await;
    assert_eq!(status, StatusCode::OK);
    std::fs::write(dir.join("proof.json"), &proof).expect("proof");
    let offline = log_verify(
        &checkpoint,
        &key,
        &["--document", "doc.p7s", "--proof", "proof.json"],
        dir,
    );
    assert_eq!(offline.status.code(), Some(0), "{}", said(&offline));
    assert!(
        said(&offline).contains(&format!("document {number} is entry")),
        "{}",
        said(&offline)
    );
    // The same from the tiles, without the saved proof.
    let from_tiles = log_verify(
        &checkpoint,
        &key,
        &["--document", "doc.p7s", "--tiles", &out_arg],
        dir,
    );
    assert_eq!(from_tiles.status.code(), Some(0), "{}", said(&from_tiles));
    // Another file is not the recorded one.
    std::fs::write(dir.join("other.p7s"), b"not the document").expect("other");
    let other = log_verify(
        &checkpoint,
        &key,
        &["--document", "other.p7s", "--proof", "proof.json"],
        dir,
    );
    assert_eq!(other.status.code(), Some(1), "{}", said(&other));

    // One byte of a stored document changed past the triggers: the audit names its entry.
    for table in ["documents", "log_entries"] {
        disable_append_only(&pool, backend, table).await;
    }
    change_stored_signature(&pool, &id).await;
    let audit = log_audit(&base, &["--documents"], dir);
    assert_eq!(audit.status.code(), Some(1), "{}", said(&audit));
    assert!(
        said(&audit).contains(&format!(
            "document {number} as stored is not what the log recorded"
        )),
        "{}",
        said(&audit)
    );

    // A stored hash rewritten: the log no longer adds up, for an auditor who holds nothing.
    rewrite_leaf_hash(&pool).await;
    let audit = log_audit(&base, &[], dir);
    assert_eq!(audit.status.code(), Some(1), "{}", said(&audit));
    assert!(
        said(&audit).contains("the log does not add up"),
        "{}",
        said(&audit)
    );
}
