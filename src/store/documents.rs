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

pub(super) const COLUMNS: &str =
    "id, number, authority_bin, year, sequence, kind, canonical, cms, detached, \
     sha256, signer_serial, supersedes, created_at, format";

pub(super) fn record(row: &AnyRow) -> Result<DocumentRecord, StoreError> {
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

/// Where a document goes in the registry, besides what signing produced.
pub(super) struct NewDocument {
    pub authority_bin: String,
    pub year: i64,
    pub sequence: i64,
    pub kind: String,
    pub supersedes: Option<String>,
    pub created_at: i64,
}

/// Rows per INSERT: 14 parameters each, well under SQLite's and PostgreSQL's limits.
const ROWS_PER_INSERT: usize = 32;

/// Inserts the documents of a batch and their audit entries, in order, in `tx` (one statement
/// per [`ROWS_PER_INSERT`] rows: on PostgreSQL every statement is a round trip).
/// The transparency log's leaf of a registered document: recomputed from the row alone, so a
/// changed row no longer matches its leaf.
pub fn log_entry(d: &DocumentRecord) -> crate::tlog::Entry {
    crate::tlog::Entry::Document {
        number: d.number.clone(),
        id: d.id.clone(),
        sha256: d.sha256.clone(),
        signed_sha256: hex::encode(crate::crypto::sha256(&d.signed)),
        time: d.created_at,
    }
}

fn insert_sql(rows: usize) -> String {
    format!(
        "INSERT INTO documents ({COLUMNS}) VALUES {}",
        super::placeholders(rows, 14)
    )
}

/// Binds `chunk`'s rows to the parameters [`insert_sql`] numbers (owned: the statement may be
/// the log append's, built later).
fn bind_documents(mut query: super::Query<'_>, chunk: Vec<DocumentRecord>) -> super::Query<'_> {
    for d in chunk {
        query = query
            .bind(d.id)
            .bind(d.number)
            .bind(d.authority_bin)
            .bind(d.year)
            .bind(d.sequence)
            .bind(d.kind)
            .bind(d.canonical)
            .bind(d.signed)
            .bind(i64::from(d.detached))
            .bind(d.sha256)
            .bind(d.signer_serial)
            .bind(d.supersedes)
            .bind(d.created_at)
            .bind(d.format);
    }
    query
}

pub(super) async fn insert_documents(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    documents: Vec<(NewDocument, SignedDocument)>,
) -> Result<Vec<DocumentRecord>, StoreError> {
    let mut records = Vec::with_capacity(documents.len());
    let mut audit = Vec::new();
    for (new, signed) in documents {
        let id = hex::encode(
            crate::crypto::random_bytes::<16>().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        audit.extend(signed.audit);
        records.push(DocumentRecord {
            id,
            number: number(&new.authority_bin, new.year, new.sequence),
            authority_bin: new.authority_bin,
            year: new.year,
            sequence: new.sequence,
            kind: new.kind,
            canonical: signed.canonical,
            signed: signed.signed,
            format: signed.format.to_owned(),
            detached: signed.detached,
            sha256: signed.sha256,
            signer_serial: signed.signer_serial,
            supersedes: new.supersedes,
            created_at: new.created_at,
        });
    }
    // Up to the last chunk alone; the last one rides with the log's append (one statement on
    // PostgreSQL). The writer's batches (at most 64) are one chunk.
    let mut chunks: Vec<Vec<DocumentRecord>> =
        records.chunks(ROWS_PER_INSERT).map(<[_]>::to_vec).collect();
    let last = chunks.pop();
    for chunk in chunks {
        let sql = insert_sql(chunk.len());
        bind_documents(sqlx::query(&sql), chunk)
            .execute(&mut **tx)
            .await?;
    }
    let preceding = last.map(|chunk| super::log_append::Preceding {
        sql: insert_sql(chunk.len()),
        parameters: chunk.len() * 14,
        bind: Box::new(move |query| bind_documents(query, chunk)),
    });
    let entries: Vec<crate::tlog::Entry> = records.iter().map(log_entry).collect();
    let now = records.first().map_or(0, |d| d.created_at);
    super::log_append::append_after(tx, preceding, &entries, now).await?;
    security::append_all(tx, &audit).await?;
    Ok(records)
}

impl Store {
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

    /// The registered documents with these numbers (those that are there, in no set order).
    pub async fn documents_by_numbers(
        &self,
        numbers: &[String],
    ) -> Result<Vec<DocumentRecord>, StoreError> {
        let mut out = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(500) {
            let sql = format!(
                "SELECT {COLUMNS} FROM documents WHERE number IN ({})",
                super::in_list(chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for number in chunk {
                query = query.bind(number);
            }
            for row in query.fetch_all(self.pool()).await? {
                out.push(record(&row)?);
            }
        }
        Ok(out)
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
