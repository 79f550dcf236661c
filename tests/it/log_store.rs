//! The transparency log as stored (issue 17), on SQLite and PostgreSQL: every certificate,
//! status change and document is a leaf appended in the transaction that stores it, exactly
//! once and without gaps; the stored hashes make the tree of those leaves; the log's tables
//! refuse UPDATE and DELETE.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::common::*;
use qoltanba::tlog::{self, Entry, Recipe};

async fn issue_document(app: axum::Router, token: String, request_id: String) -> Value {
    let (status, document) = crate::documents_batch::issue(app, &token, request_id).await;
    assert_eq!(status, StatusCode::CREATED, "{document}");
    document
}

on_both_backends!(every_certificate_status_and_document_is_one_leaf_of_one_tree);
async fn every_certificate_status_and_document_is_one_leaf_of_one_tree(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let issued = t.issue(individual("individual-sign")).await.record;
    t.issue(legal("legal-head-sign")).await;
    t.pki
        .revoke(
            &issued.serial,
            "keyCompromise".parse().expect("reason"),
            None,
        )
        .await
        .expect("revoke");
    let state = qoltanba::http::AppState {
        inline_evidence: false,
        ..t.state()
    };
    let app = qoltanba::http::router(state);
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            tokio::spawn(issue_document(
                app.clone(),
                t.admin_token.clone(),
                format!("log-{i}"),
            ))
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        let document = task.await.expect("task");
        numbers.push(document["number"].as_str().expect("number").to_string());
    }

    let store = t.pki.store();
    let size = store.log_size().await.expect("size");
    let rows = store.log_entries(0..size + 10).await.expect("entries");
    assert_eq!(rows.len() as u64, size, "no more rows than the size");
    let mut kinds: HashMap<&'static str, usize> = HashMap::new();
    let mut leaves = Vec::new();
    for (expected, (index, bytes)) in rows.iter().enumerate() {
        assert_eq!(*index, expected as u64, "indexes without gaps");
        let entry = Entry::parse(bytes).unwrap_or_else(|e| panic!("leaf {index}: {e}"));
        *kinds.entry(entry.kind()).or_default() += 1;
        leaves.push(tlog::leaf_hash(bytes));
    }
    let certificates = t.pki.list(1000, 0).await.expect("list").len();
    assert_eq!(kinds.get("certificate"), Some(&certificates), "{kinds:?}");
    assert_eq!(kinds.get("status"), Some(&1), "{kinds:?}");
    assert_eq!(kinds.get("document"), Some(&24), "{kinds:?}");
    for number in &numbers {
        assert_eq!(
            store.log_indexes_of(number).await.expect("indexes").len(),
            1,
            "{number} once"
        );
    }
    let revocations = store.log_indexes_of(&issued.serial).await.expect("indexes");
    assert_eq!(revocations.len(), 2, "issued, then revoked");

    // The stored hashes are exactly the tree's: every one there, and the root they give is the
    // root of the leaves as they read.
    let all: Vec<u64> = (0..tlog::stored_count(size)).collect();
    store.log_hashes(&all).await.expect("every stored hash");
    let recipe = Recipe::for_ranges(std::slice::from_ref(&(0..size)));
    let stored = store.log_hashes(recipe.indexes()).await.expect("hashes");
    assert_eq!(
        recipe.hashes(&stored).expect("fold")[0],
        tlog::root_of(&leaves)
    );

    // Append-only: as a client of the database, no row can be changed or removed.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    for statement in [
        "UPDATE log_entries SET reference = 'x' WHERE idx = 0",
        "DELETE FROM log_entries WHERE idx = 0",
        "UPDATE log_entries SET hashes = hashes WHERE idx = 0",
    ] {
        let refused = sqlx::query(statement).execute(&pool).await;
        assert!(refused.is_err(), "{statement} must be refused");
    }
    assert_eq!(store.log_size().await.expect("size"), size);
}

on_both_backends!(a_database_from_before_the_log_gets_everything_it_registered_once);
async fn a_database_from_before_the_log_gets_everything_it_registered_once(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let issued = t.issue(individual("individual-sign")).await.record;
    t.pki
        .revoke(
            &issued.serial,
            "certificateHold".parse().expect("reason"),
            None,
        )
        .await
        .expect("hold");
    let app = qoltanba::http::router(qoltanba::http::AppState {
        inline_evidence: false,
        ..t.state()
    });
    for i in 0..3 {
        issue_document(app.clone(), t.admin_token.clone(), format!("old-{i}")).await;
    }
    // As if the log had never been there: its rows gone, past the triggers.
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    let statements: Vec<String> = match backend {
        Backend::Sqlite => vec![
            "DROP TRIGGER log_entries_no_delete".to_owned(),
            "DELETE FROM log_entries".to_owned(),
        ],
        Backend::Postgres => vec![
            "ALTER TABLE log_entries DISABLE TRIGGER log_entries_append_only".to_owned(),
            "DELETE FROM log_entries".to_owned(),
        ],
    };
    for statement in &statements {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    let store = t.pki.store();
    assert_eq!(store.log_size().await.expect("size"), 0);

    let appended = store.backfill_log().await.expect("backfill");
    let certificates = t.pki.list(1000, 0).await.expect("list").len() as u64;
    assert_eq!(
        appended,
        certificates + 1 + 3,
        "certificates, the hold, documents"
    );
    assert_eq!(store.backfill_log().await.expect("again"), 0, "once");
    let rows = store.log_entries(0..appended).await.expect("entries");
    let mut documents = Vec::new();
    let mut leaves = Vec::new();
    for (_, bytes) in &rows {
        leaves.push(tlog::leaf_hash(bytes));
        match Entry::parse(bytes).expect("entry") {
            Entry::Document { number, .. } => documents.push(number),
            Entry::Status { serial, status, .. } => {
                assert_eq!(
                    (serial.as_str(), status.as_str()),
                    (issued.serial.as_str(), "hold")
                )
            }
            Entry::Certificate { .. } => {}
        }
    }
    let mut sorted = documents.clone();
    sorted.sort();
    assert_eq!(documents, sorted, "documents in registration order");
    let recipe = Recipe::for_ranges(std::slice::from_ref(&(0..appended)));
    let stored = store.log_hashes(recipe.indexes()).await.expect("hashes");
    assert_eq!(
        recipe.hashes(&stored).expect("fold")[0],
        tlog::root_of(&leaves)
    );
}
