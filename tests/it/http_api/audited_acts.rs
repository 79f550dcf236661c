//! An act and its audit entry are one transaction (issue 12, item 3): each issuance,
//! revocation, release and signature leaves exactly one entry, written with the act, naming the
//! serial or number; an act whose entry cannot be written does not happen at all.

use qoltanba::store::AuditEvent;

use super::*;
use crate::documents::license_payload;

/// The one entry of the request that gave `reply`.
fn entry_of<'a>(trail: &'a [AuditEvent], reply: &Reply) -> &'a AuditEvent {
    let id = reply.header(HeaderName::from_static("x-request-id"));
    let entries: Vec<&AuditEvent> = trail.iter().filter(|e| e.request_id == id).collect();
    let [entry] = entries[..] else {
        panic!("one entry for request {id}: {entries:#?}");
    };
    entry
}

async fn each_act_leaves_one_entry_naming_it(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let issued = post_json(&t, CERTS, &with(individual_json(), "key", json!("p256"))).await;
    let serial = issued.ok_json(StatusCode::CREATED)["serial"]
        .as_str()
        .expect("serial")
        .to_owned();
    let revoke = |reason: &'static str| {
        let (t, serial) = (&t, serial.clone());
        async move {
            post_json(
                t,
                &format!("{CERTS}/{serial}/revoke"),
                &json!({ "reason": reason }),
            )
            .await
        }
    };
    let held = revoke("certificateHold").await;
    held.ok_json(StatusCode::OK);
    let released = post(&t, &format!("{CERTS}/{serial}/release"), Body::empty()).await;
    released.ok_json(StatusCode::OK);
    let revoked = revoke("keyCompromise").await;
    revoked.ok_json(StatusCode::OK);
    let again = revoke("keyCompromise").await;
    again.error(StatusCode::CONFLICT, "conflict");
    let signed = post_json(
        &t,
        "/v1/documents",
        &json!({"kind": "license", "payload": license_payload()}),
    )
    .await;
    let document = signed.ok_json(StatusCode::CREATED);

    let trail = t.trail().await;
    let expected = [
        (
            &issued,
            "POST /v1/pki/certificates",
            201,
            format!("issued serial {serial} profile individual-sign key "),
        ),
        (
            &held,
            "POST /v1/pki/certificates/{serial}/revoke",
            200,
            format!("revoked serial {serial} reason certificateHold"),
        ),
        (
            &released,
            "POST /v1/pki/certificates/{serial}/release",
            200,
            format!("released serial {serial} from hold"),
        ),
        (
            &revoked,
            "POST /v1/pki/certificates/{serial}/revoke",
            200,
            format!("revoked serial {serial} reason keyCompromise"),
        ),
        (
            &signed,
            "POST /v1/documents",
            201,
            format!(
                "signed document {} kind license sha256 {}",
                document["number"].as_str().expect("number"),
                document["sha256"].as_str().expect("sha256")
            ),
        ),
    ];
    for (reply, action, status, detail) in expected {
        let entry = entry_of(&trail, reply);
        assert_eq!(
            (
                entry.actor.as_str(),
                entry.action.as_str(),
                entry.outcome.as_str(),
                entry.status
            ),
            ("key:test-admin", action, "ok", status),
            "{entry:#?}"
        );
        assert!(entry.detail.starts_with(&detail), "{entry:#?}");
    }
    // The act that did not happen is recorded by the guard, as a refusal, naming no act.
    let refused = entry_of(&trail, &again);
    assert_eq!((refused.outcome.as_str(), refused.status), ("refused", 409));
    assert_eq!(refused.detail, "");
    // Five acts and one refusal: nothing is recorded twice.
    assert_eq!(trail.len(), 6, "{trail:#?}");
}

#[tokio::test]
async fn each_act_leaves_one_entry_naming_it_on_sqlite() {
    each_act_leaves_one_entry_naming_it(Backend::Sqlite).await;
}

#[tokio::test]
async fn each_act_leaves_one_entry_naming_it_on_postgresql() {
    each_act_leaves_one_entry_naming_it(Backend::Postgres).await;
}

/// Makes every write to the audit trail fail (`down`), or lets them through again.
async fn audit_trail_down(t: &TestPki, backend: Backend, down: bool) {
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    let statements: &[&str] = match (backend, down) {
        (Backend::Sqlite, true) => &["CREATE TRIGGER audit_log_down BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'the audit trail is down'); END"],
        (Backend::Sqlite, false) => &["DROP TRIGGER audit_log_down"],
        (Backend::Postgres, true) => &[
            "CREATE FUNCTION audit_log_down() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the audit trail is down'; END $$",
            "CREATE TRIGGER audit_log_down BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_down()",
        ],
        (Backend::Postgres, false) => &["DROP TRIGGER audit_log_down ON audit_log"],
    };
    for statement in statements {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    pool.close().await;
}

async fn count(t: &TestPki, table: &str) -> i64 {
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

async fn an_act_whose_entry_cannot_be_written_does_not_happen(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let serial = issue_p256(&t).await;
    let certificates = count(&t, "certificates").await;
    audit_trail_down(&t, backend, true).await;

    let issue = with(individual_json(), "key", json!("p256"));
    post_json(&t, CERTS, &issue)
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    post_json(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        &json!({"reason": "keyCompromise"}),
    )
    .await
    .error(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    let document = json!({"kind": "license", "payload": license_payload()});
    post_json(&t, "/v1/documents", &document)
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "internal");

    assert_eq!(count(&t, "certificates").await, certificates, "not issued");
    assert_eq!(count(&t, "documents").await, 0, "not signed");
    let status = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(status["status"], "good", "not revoked");

    // Back up: the acts happen, with their entries, and the first document takes the number
    // the failed one never used.
    audit_trail_down(&t, backend, false).await;
    let signed = post_json(&t, "/v1/documents", &document)
        .await
        .ok_json(StatusCode::CREATED);
    assert!(
        signed["number"]
            .as_str()
            .expect("number")
            .ends_with("-000001"),
        "{signed}"
    );
    assert_eq!(count(&t, "audit_log").await, 1, "{:#?}", t.trail().await);
}

#[tokio::test]
async fn an_act_whose_entry_cannot_be_written_does_not_happen_on_sqlite() {
    an_act_whose_entry_cannot_be_written_does_not_happen(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_act_whose_entry_cannot_be_written_does_not_happen_on_postgresql() {
    an_act_whose_entry_cannot_be_written_does_not_happen(Backend::Postgres).await;
}
