//! API keys (hashes only) and the append-only audit trail.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// An API key as stored: never the secret, only its hash.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEvent {
    /// Position in the trail (assigned by the database; 0 before insertion).
    pub seq: i64,
    pub at: i64,
    pub request_id: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// "ok", "refused" or "failed".
    pub outcome: String,
    /// HTTP status, or the CLI's exit code.
    pub status: i64,
    pub detail: String,
}

/// An act's entry in the audit trail before the act words its detail: who, what, the target,
/// the outcome and the request id, bounded by `security::audit::act` before they get here. The
/// room doing the act (issuance, revocation, signature) adds the detail (the serial, the
/// number: its own values, short) and the store appends the entry in the act's transaction, so
/// the act and its entry are stored together or not at all (issue 12).
#[derive(Debug, Clone)]
pub struct ActAudit {
    pub request_id: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub status: i64,
}

impl ActAudit {
    /// The entry, written at `at`, with the act's `detail`.
    pub fn entry(&self, at: i64, detail: String) -> AuditEvent {
        AuditEvent {
            seq: 0,
            at,
            request_id: self.request_id.clone(),
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            outcome: self.outcome.clone(),
            status: self.status,
            detail,
        }
    }
}

/// Appends `event` (its `seq` is ignored) through `executor`: the pool, or an act's transaction.
pub(super) async fn append<'c, E>(executor: E, event: &AuditEvent) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    bind_event(
        sqlx::query(
            "INSERT INTO audit_log (at, request_id, actor, action, target, outcome, status, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ),
        event,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Binds an entry's 8 columns, in the order the INSERTs name them.
fn bind_event<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    event: &'q AuditEvent,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(event.at)
        .bind(&event.request_id)
        .bind(&event.actor)
        .bind(&event.action)
        .bind(&event.target)
        .bind(&event.outcome)
        .bind(event.status)
        .bind(&event.detail)
}

/// Appends `events` in order, in few statements (a batch of issued documents: on PostgreSQL
/// every statement is a round trip).
pub(super) async fn append_all(
    conn: &mut sqlx::AnyConnection,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    // 8 parameters a row.
    for chunk in events.chunks(64) {
        let sql = format!(
            "INSERT INTO audit_log (at, request_id, actor, action, target, outcome, status, \
             detail) VALUES {}",
            super::placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = bind_event(query, event);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub limit: i64,
    pub offset: i64,
    pub actor: Option<String>,
    pub outcome: Option<String>,
}

fn api_key(row: &AnyRow) -> Result<ApiKeyRecord, sqlx::Error> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        scopes: row.try_get("scopes")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn audit_event(row: &AnyRow) -> Result<AuditEvent, sqlx::Error> {
    Ok(AuditEvent {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        request_id: row.try_get("request_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        status: row.try_get("status")?,
        detail: row.try_get("detail")?,
    })
}

const KEY_COLUMNS: &str = "id, name, secret_hash, scopes, created_at, revoked_at";

impl Store {
    /// Stores a new key. Returns false if the name is taken.
    pub async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO api_keys (id, name, secret_hash, scopes, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(&key.scopes)
        .bind(key.created_at)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(api_key).transpose()?)
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, name"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(api_key).collect::<Result<_, _>>()?)
    }

    /// Revokes a key by name. Returns false if there is no such unrevoked key.
    pub async fn revoke_api_key(&self, name: &str, at: i64) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(name)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Appends an event to the audit trail (`seq` is ignored).
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        append(self.pool(), event).await
    }

    /// Events, newest first.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, request_id, actor, action, target, outcome, status, detail \
             FROM audit_log \
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR outcome = $2) \
             ORDER BY seq DESC LIMIT $3 OFFSET $4",
        )
        .bind(query.actor.clone().unwrap_or_default())
        .bind(query.outcome.clone().unwrap_or_default())
        .bind(query.limit)
        .bind(query.offset)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(audit_event).collect::<Result<_, _>>()?)
    }
}
