//! Published CRLs and the snapshots they are cut from.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::certificates::revoked_entry;
use super::{RevokedEntry, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlKind {
    Full,
    Delta,
}

impl CrlKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CrlKind::Full => "full",
            CrlKind::Delta => "delta",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CrlRecord {
    pub issuer_id: String,
    pub number: i64,
    pub kind: CrlKind,
    pub base_number: Option<i64>,
    pub as_of_seq: i64,
    pub this_update: i64,
    pub next_update: i64,
    pub der: Vec<u8>,
}

/// What a new CRL is cut from: its number and the entries it must list.
#[derive(Debug, Clone)]
pub struct CrlSnapshot {
    pub number: i64,
    pub as_of_seq: i64,
    pub entries: Vec<RevokedEntry>,
}

const CRL_COLUMNS: &str =
    "issuer_id, number, kind, base_number, as_of_seq, this_update, next_update, der";

fn crl_record(row: &AnyRow) -> Result<CrlRecord, StoreError> {
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "full" => CrlKind::Full,
        "delta" => CrlKind::Delta,
        other => return Err(StoreError::Corrupt(format!("unknown CRL kind {other:?}"))),
    };
    Ok(CrlRecord {
        issuer_id: row.try_get("issuer_id")?,
        number: row.try_get("number")?,
        kind,
        base_number: row.try_get("base_number")?,
        as_of_seq: row.try_get("as_of_seq")?,
        this_update: row.try_get("this_update")?,
        next_update: row.try_get("next_update")?,
        der: row.try_get("der")?,
    })
}

impl Store {
    /// Reserves the next CRL number of `issuer_id` (full and delta CRLs share one sequence,
    /// RFC 5280 §5.2.3) and reads what the CRL must list: for a full CRL every revoked or held
    /// certificate; for a delta CRL every status change after `since_seq`.
    pub async fn crl_snapshot(
        &self,
        issuer_id: &str,
        since_seq: Option<i64>,
    ) -> Result<CrlSnapshot, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(format!("crl:{issuer_id}"))
        .execute(&mut *tx)
        .await?;
        let number = Store::next_counter(&mut *tx, &format!("crl:{issuer_id}")).await?;
        // Read the sequence *before* the entries: a change committed in between then shows in
        // this CRL and again in the next delta, never in neither.
        let as_of_seq: i64 = sqlx::query("SELECT value FROM counters WHERE name = 'status_seq'")
            .fetch_one(&mut *tx)
            .await?
            .try_get("value")?;
        let rows = match since_seq {
            None => {
                sqlx::query(
                    "SELECT serial, status, revoked_at, revocation_reason FROM certificates \
                     WHERE issuer_id = $1 AND status <> 'good' ORDER BY revoked_at, serial",
                )
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?
            }
            Some(seq) => {
                sqlx::query(
                    "SELECT serial, status, revoked_at, revocation_reason FROM certificates \
                     WHERE issuer_id = $1 AND status_seq > $2 ORDER BY status_seq, serial",
                )
                .bind(issuer_id)
                .bind(seq)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        let entries = rows.iter().map(revoked_entry).collect::<Result<_, _>>()?;
        Ok(CrlSnapshot {
            number,
            as_of_seq,
            entries,
        })
    }

    pub async fn save_crl(&self, crl: &CrlRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO crls (issuer_id, number, kind, base_number, as_of_seq, this_update, next_update, der) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&crl.issuer_id)
        .bind(crl.number)
        .bind(crl.kind.as_str())
        .bind(crl.base_number)
        .bind(crl.as_of_seq)
        .bind(crl.this_update)
        .bind(crl.next_update)
        .bind(&crl.der)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The newest CRL of a kind for a CA, if any was published.
    pub async fn latest_crl(
        &self,
        issuer_id: &str,
        kind: CrlKind,
    ) -> Result<Option<CrlRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CRL_COLUMNS} FROM crls WHERE issuer_id = $1 AND kind = $2 ORDER BY number DESC LIMIT 1"
        ))
        .bind(issuer_id)
        .bind(kind.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(crl_record).transpose()
    }

    /// The base for a new delta CRL: the oldest full CRL still current until `valid_until`.
    /// Basing deltas on an older full CRL (not the newest) lets every client holding any
    /// unexpired full CRL apply them (RFC 5280 §5.2.4: the complete CRL's number must be at
    /// least the delta's base number).
    pub async fn delta_base(
        &self,
        issuer_id: &str,
        valid_until: i64,
    ) -> Result<Option<CrlRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CRL_COLUMNS} FROM crls WHERE issuer_id = $1 AND kind = 'full' AND next_update >= $2 \
             ORDER BY number ASC LIMIT 1"
        ))
        .bind(issuer_id)
        .bind(valid_until)
        .fetch_optional(self.pool())
        .await?;
        match row.as_ref().map(crl_record).transpose()? {
            Some(base) => Ok(Some(base)),
            None => self.latest_crl(issuer_id, CrlKind::Full).await,
        }
    }
}
