//! The document registry.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::security::{self, AuditEvent};
use super::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct DocumentRecord {
    pub id: String,
    pub number: String,
    pub authority_bin: String,
    pub year: i64,
    pub sequence: i64,
    pub kind: String,
    /// The bytes whose SHA-256 is `sha256`: the canonical JSON (CMS) or the unsigned XML form.
    pub canonical: Vec<u8>,
    /// The signed artefact: CMS SignedData (DER), or the XML document with its signature.
    /// Kept in the column `cms`, named before there was XML.
    pub signed: Vec<u8>,
    /// `cms` or `xml` (`sign::document::Format`).
    pub format: String,
    pub detached: bool,
    pub sha256: String,
    pub signer_serial: String,
    pub supersedes: Option<String>,
    pub created_at: i64,
}

/// What signing produced for a number, to be stored with it.
pub struct SignedDocument {
    pub canonical: Vec<u8>,
    /// SHA-256 (hex) of `canonical`: what the registry finds it by.
    pub sha256: String,
    pub signed: Vec<u8>,
    pub format: &'static str,
    pub detached: bool,
    pub signer_serial: String,
    /// The signature's entry in the audit trail, appended in the same transaction.
    pub audit: Option<AuditEvent>,
}

const COLUMNS: &str = "id, number, authority_bin, year, sequence, kind, canonical, cms, detached, \
     sha256, signer_serial, supersedes, created_at, format";

fn record(row: &AnyRow) -> Result<DocumentRecord, StoreError> {
    Ok(DocumentRecord {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        authority_bin: row.try_get("authority_bin")?,
        year: row.try_get("year")?,
        sequence: row.try_get("sequence")?,
        kind: row.try_get("kind")?,
        canonical: row.try_get("canonical")?,
        signed: row.try_get("cms")?,
        format: row.try_get("format")?,
        detached: row.try_get::<i64, _>("detached")? != 0,
        sha256: row.try_get("sha256")?,
        signer_serial: row.try_get("signer_serial")?,
        supersedes: row.try_get("supersedes")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Registration numbers: `{authority BIN}-{year}-{sequence, 6 digits}`.
pub fn number(authority_bin: &str, year: i64, sequence: i64) -> String {
    format!("{authority_bin}-{year}-{sequence:06}")
}

impl Store {
    /// Reserves the next number of (authority, year), lets `sign` make the document for it, and
    /// stores the result and its audit entry — all in one transaction. If `sign` fails, nothing
    /// is stored and the number is not used up. Returns the stored record; only then may the
    /// caller acknowledge.
    pub async fn register_document<F, E>(
        &self,
        authority_bin: &str,
        year: i64,
        kind: &str,
        supersedes: Option<&str>,
        now: i64,
        sign: F,
    ) -> Result<Result<DocumentRecord, E>, StoreError>
    where
        F: FnOnce(&str) -> Result<SignedDocument, E>,
    {
        let mut tx = self.pool().begin().await?;
        // A write first, so SQLite takes its write lock before any read.
        sqlx::query(
            "INSERT INTO document_counters (authority_bin, year, value) VALUES ($1, $2, 0) \
             ON CONFLICT (authority_bin, year) DO NOTHING",
        )
        .bind(authority_bin)
        .bind(year)
        .execute(&mut *tx)
        .await?;
        let sequence: i64 = sqlx::query(
            "UPDATE document_counters SET value = value + 1 WHERE authority_bin = $1 AND year = $2 RETURNING value",
        )
        .bind(authority_bin)
        .bind(year)
        .fetch_one(&mut *tx)
        .await?
        .try_get("value")?;
        let number = number(authority_bin, year, sequence);
        let signed = match sign(&number) {
            Ok(s) => s,
            Err(e) => {
                tx.rollback().await?;
                return Ok(Err(e));
            }
        };
        let id = hex::encode(
            crate::crypto::random_bytes::<16>().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        sqlx::query(&format!(
            "INSERT INTO documents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&id)
        .bind(&number)
        .bind(authority_bin)
        .bind(year)
        .bind(sequence)
        .bind(kind)
        .bind(&signed.canonical)
        .bind(&signed.signed)
        .bind(i64::from(signed.detached))
        .bind(&signed.sha256)
        .bind(&signed.signer_serial)
        .bind(supersedes)
        .bind(now)
        .bind(signed.format)
        .execute(&mut *tx)
        .await?;
        if let Some(event) = &signed.audit {
            security::append(&mut *tx, event).await?;
        }
        tx.commit().await?;
        Ok(Ok(DocumentRecord {
            id,
            number,
            authority_bin: authority_bin.to_owned(),
            year,
            sequence,
            kind: kind.to_owned(),
            canonical: signed.canonical,
            signed: signed.signed,
            format: signed.format.to_owned(),
            detached: signed.detached,
            sha256: signed.sha256,
            signer_serial: signed.signer_serial,
            supersedes: supersedes.map(str::to_owned),
            created_at: now,
        }))
    }

    async fn document_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<DocumentRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM documents WHERE {column} = $1 ORDER BY created_at LIMIT 1"
        ))
        .bind(value)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    pub async fn document(&self, id: &str) -> Result<Option<DocumentRecord>, StoreError> {
        self.document_where("id", id).await
    }

    pub async fn document_by_number(
        &self,
        number: &str,
    ) -> Result<Option<DocumentRecord>, StoreError> {
        self.document_where("number", number).await
    }

    /// A registered document whose canonical bytes (JSON or unsigned XML) have this SHA-256
    /// (hex).
    pub async fn document_by_sha256(
        &self,
        sha256: &str,
    ) -> Result<Option<DocumentRecord>, StoreError> {
        self.document_where("sha256", sha256).await
    }
}
