//! Evidence versions of registered documents: the signature as extended to T, LT and LTA and
//! renewed with archive time-stamps, one appended row per version (migration 0006). The
//! `documents` row is never changed; a document's current signature is its newest version.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{DocumentRecord, Store, StoreError};

/// The levels evidence is stored at (B is the `documents` row itself). Mirrors
/// `sign::levels::Level` without depending on it: the store sits below the signing room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EvidenceLevel {
    T,
    Lt,
    Lta,
}

impl EvidenceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceLevel::T => "T",
            EvidenceLevel::Lt => "LT",
            EvidenceLevel::Lta => "LTA",
        }
    }

    pub fn parse(text: &str) -> Option<EvidenceLevel> {
        Some(match text {
            "T" => EvidenceLevel::T,
            "LT" => EvidenceLevel::Lt,
            "LTA" => EvidenceLevel::Lta,
            _ => return None,
        })
    }
}

/// One stored evidence version.
#[derive(Debug, Clone)]
pub struct EvidenceRecord {
    pub document_id: String,
    pub generation: i64,
    pub level: EvidenceLevel,
    /// The extended CMS SignedData, DER.
    pub cms: Vec<u8>,
    /// Unix seconds until which this evidence holds (its newest time-stamp's TSA certificate
    /// notAfter).
    pub horizon: i64,
    /// OID of the newest time-stamp's imprint hash algorithm.
    pub digest: String,
    pub created_at: i64,
}

/// A version to append.
pub struct NewEvidence<'a> {
    pub level: EvidenceLevel,
    pub cms: &'a [u8],
    pub horizon: i64,
    pub digest: &'a str,
}

/// What the registry holds, by level, for metrics and readiness.
#[derive(Debug, Clone, Default)]
pub struct EvidenceStats {
    /// (level, documents): "B" for documents with no evidence version yet.
    pub by_level: Vec<(String, i64)>,
    /// The oldest horizon among documents' newest versions.
    pub oldest_horizon: Option<i64>,
}

const COLUMNS: &str = "document_id, generation, level, cms, horizon, digest, created_at";

/// Keeps a row only if it is its document's newest version.
const NEWEST: &str = "e.generation = (SELECT MAX(g.generation) FROM document_evidence g \
     WHERE g.document_id = e.document_id)";

fn record(row: &AnyRow) -> Result<EvidenceRecord, StoreError> {
    let level: String = row.try_get("level")?;
    Ok(EvidenceRecord {
        document_id: row.try_get("document_id")?,
        generation: row.try_get("generation")?,
        level: EvidenceLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("evidence level {level:?}")))?,
        cms: row.try_get("cms")?,
        horizon: row.try_get("horizon")?,
        digest: row.try_get("digest")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Appends the version that follows `previous` (None: the first). Returns None when that
    /// generation exists already: another instance extended the document meanwhile, and this
    /// version is dropped so that nothing is stamped twice.
    pub async fn append_evidence(
        &self,
        document_id: &str,
        previous: Option<&EvidenceRecord>,
        new: &NewEvidence<'_>,
        now: i64,
    ) -> Result<Option<EvidenceRecord>, StoreError> {
        let generation = previous.map_or(1, |p| p.generation + 1);
        let done = sqlx::query(&format!(
            "INSERT INTO document_evidence ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (document_id, generation) DO NOTHING"
        ))
        .bind(document_id)
        .bind(generation)
        .bind(new.level.as_str())
        .bind(new.cms)
        .bind(new.horizon)
        .bind(new.digest)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok((done.rows_affected() == 1).then(|| EvidenceRecord {
            document_id: document_id.to_owned(),
            generation,
            level: new.level,
            cms: new.cms.to_vec(),
            horizon: new.horizon,
            digest: new.digest.to_owned(),
            created_at: now,
        }))
    }

    /// A document's newest evidence version, if it has any.
    pub async fn newest_evidence(
        &self,
        document_id: &str,
    ) -> Result<Option<EvidenceRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM document_evidence WHERE document_id = $1 \
             ORDER BY generation DESC LIMIT 1"
        ))
        .bind(document_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Up to `limit` CMS documents with no LTA version yet, oldest first, each with its newest
    /// version.
    pub async fn documents_below_lta(
        &self,
        limit: i64,
    ) -> Result<Vec<(DocumentRecord, Option<EvidenceRecord>)>, StoreError> {
        let ids: Vec<String> = sqlx::query(
            "SELECT id FROM documents d WHERE format = 'cms' AND NOT EXISTS \
             (SELECT 1 FROM document_evidence e WHERE e.document_id = d.id AND e.level = 'LTA') \
             ORDER BY created_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(document) = self.document(&id).await? {
                found.push((document, self.newest_evidence(&id).await?));
            }
        }
        Ok(found)
    }

    /// Up to `limit` documents whose newest version is LTA and either holds until before
    /// `cutoff` or rests on a time-stamp whose imprint hash is one of `weak_digests` (OIDs),
    /// oldest horizon first.
    pub async fn evidence_due(
        &self,
        cutoff: i64,
        weak_digests: &[String],
        limit: i64,
    ) -> Result<Vec<(DocumentRecord, EvidenceRecord)>, StoreError> {
        // Placeholders $3… for the weak digests; an empty list is never weak.
        let weak = if weak_digests.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (0..weak_digests.len())
                .map(|i| format!("${}", i + 3))
                .collect();
            format!(" OR e.digest IN ({})", marks.join(", "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM document_evidence e WHERE {NEWEST} AND e.level = 'LTA' \
             AND (e.horizon < $1{weak}) ORDER BY e.horizon, e.document_id LIMIT $2"
        );
        let mut query = sqlx::query(&sql).bind(cutoff).bind(limit);
        for digest in weak_digests {
            query = query.bind(digest);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let evidence = record(row)?;
            let document = self.document(&evidence.document_id).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("evidence of no document {}", evidence.document_id))
            })?;
            found.push((document, evidence));
        }
        Ok(found)
    }

    /// Documents by the level of their newest version, and the oldest horizon.
    pub async fn evidence_stats(&self) -> Result<EvidenceStats, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT COALESCE(e.level, 'B') AS level, COUNT(*) AS n FROM documents d \
             LEFT JOIN document_evidence e ON e.document_id = d.id AND {NEWEST} \
             GROUP BY COALESCE(e.level, 'B') ORDER BY 1"
        ))
        .fetch_all(self.pool())
        .await?;
        let by_level = rows
            .iter()
            .map(|row| Ok((row.try_get("level")?, row.try_get("n")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let oldest_horizon: Option<i64> = sqlx::query(&format!(
            "SELECT MIN(e.horizon) AS oldest FROM document_evidence e WHERE {NEWEST}"
        ))
        .fetch_one(self.pool())
        .await?
        .try_get("oldest")?;
        Ok(EvidenceStats {
            by_level,
            oldest_horizon,
        })
    }
}
