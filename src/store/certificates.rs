//! Issued certificates and their revocation status.

use sqlx::any::AnyRow;
use sqlx::Row;

use std::sync::Arc;

use super::security::{self, AuditEvent};
use super::{Backend, Lookup, Store, StoreError};

/// Counts a status lookup by how it was answered.
fn counted(lookup: Lookup) {
    metrics::counter!(crate::telemetry::STATUS_LOOKUPS, "result" => lookup.as_str()).increment(1);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    Good,
    Revoked,
    /// Suspended with reason certificateHold: listed on CRLs, can be released.
    Hold,
}

impl CertificateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Good => "good",
            CertificateStatus::Revoked => "revoked",
            CertificateStatus::Hold => "hold",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "good" => Ok(CertificateStatus::Good),
            "revoked" => Ok(CertificateStatus::Revoked),
            "hold" => Ok(CertificateStatus::Hold),
            other => Err(StoreError::Corrupt(format!("unknown status {other:?}"))),
        }
    }
}

/// What is inserted on issuance.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub serial: String,
    pub issuer_id: String,
    pub profile: String,
    pub subject: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub key_algorithm: String,
    pub not_before: i64,
    pub not_after: i64,
    pub certificate: Vec<u8>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct CertificateRecord {
    pub serial: String,
    pub issuer_id: String,
    pub profile: String,
    pub subject: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub key_algorithm: String,
    pub not_before: i64,
    pub not_after: i64,
    pub certificate: Vec<u8>,
    pub status: CertificateStatus,
    pub revoked_at: Option<i64>,
    /// RFC 5280 reason name, e.g. "keyCompromise".
    pub revocation_reason: Option<String>,
    pub created_at: i64,
}

/// A line of a CRL: a revoked or held certificate, or (in a delta CRL) one released from hold.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    pub serial: String,
    pub status: CertificateStatus,
    pub revoked_at: Option<i64>,
    pub reason: Option<String>,
}

/// A requested change of status.
#[derive(Debug, Clone)]
pub enum StatusChange {
    /// Revoke (reason "certificateHold" puts the certificate on hold instead).
    Revoke { reason: String, at: i64 },
    /// Release from hold.
    Release,
}

pub(super) const COLUMNS: &str =
    "serial, issuer_id, profile, subject, iin, bin, key_algorithm, not_before, \
     not_after, certificate, status, revoked_at, revocation_reason, created_at";

pub(super) fn record(row: &AnyRow) -> Result<CertificateRecord, StoreError> {
    Ok(CertificateRecord {
        serial: row.try_get("serial")?,
        issuer_id: row.try_get("issuer_id")?,
        profile: row.try_get("profile")?,
        subject: row.try_get("subject")?,
        iin: row.try_get("iin")?,
        bin: row.try_get("bin")?,
        key_algorithm: row.try_get("key_algorithm")?,
        not_before: row.try_get("not_before")?,
        not_after: row.try_get("not_after")?,
        certificate: row.try_get("certificate")?,
        status: CertificateStatus::parse(&row.try_get::<String, _>("status")?)?,
        revoked_at: row.try_get("revoked_at")?,
        revocation_reason: row.try_get("revocation_reason")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn insert<'c, E>(executor: E, cert: &NewCertificate) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO certificates (serial, issuer_id, profile, subject, iin, bin, key_algorithm, \
         not_before, not_after, certificate, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'good', $11)",
    )
    .bind(&cert.serial)
    .bind(&cert.issuer_id)
    .bind(&cert.profile)
    .bind(&cert.subject)
    .bind(&cert.iin)
    .bind(&cert.bin)
    .bind(&cert.key_algorithm)
    .bind(cert.not_before)
    .bind(cert.not_after)
    .bind(&cert.certificate)
    .bind(cert.created_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// The transparency log's leaf of an issued certificate.
pub(super) fn log_entry(cert: &NewCertificate) -> crate::tlog::Entry {
    crate::tlog::Entry::Certificate {
        serial: cert.serial.clone(),
        sha256: hex::encode(crate::crypto::sha256(&cert.certificate)),
        time: cert.created_at,
    }
}

impl Store {
    /// Records an issued certificate, and its entry in the audit trail in the same transaction.
    /// The caller acknowledges issuance only after this returns.
    pub async fn insert_certificate(
        &self,
        cert: &NewCertificate,
        audit: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        insert(&mut *tx, cert).await?;
        super::log_append::append(&mut tx, &[log_entry(cert)], cert.created_at).await?;
        if let Some(event) = audit {
            security::append(&mut *tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificates WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// A certificate's record for a status decision (verification of our own certificates,
    /// OCSP): from memory when the status cache can prove it is current
    /// ([`super::MAX_STALENESS`]), else from the database.
    pub async fn certificate_status(
        &self,
        serial: &str,
    ) -> Result<Option<Arc<CertificateRecord>>, StoreError> {
        let ticket = match self.status.get(serial) {
            Ok(record) => {
                counted(Lookup::Hit);
                return Ok(Some(record));
            }
            Err(ticket) => ticket,
        };
        counted(if ticket.is_some() {
            Lookup::Miss
        } else {
            Lookup::Bypass
        });
        let Some(record) = self.certificate(serial).await?.map(Arc::new) else {
            // Not kept: a certificate issued a moment later must be found at once.
            return Ok(None);
        };
        if let Some(ticket) = ticket {
            self.status.keep(ticket, Arc::clone(&record));
        }
        Ok(Some(record))
    }

    /// Newest first.
    pub async fn list_certificates(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificates ORDER BY created_at DESC, serial LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Applies a status change if the current status allows it, atomically, with its entry in
    /// the audit trail (written only if the status changed); returns the record as it was before
    /// the change (the caller explains a refusal from it). `Ok(None)` means no such serial.
    pub async fn change_status(
        &self,
        serial: &str,
        change: &StatusChange,
        audit: Option<&AuditEvent>,
    ) -> Result<Option<(CertificateRecord, bool)>, StoreError> {
        let mut tx = self.pool().begin().await?;
        // The counter update comes first: it takes the write lock before anything is read, so
        // SQLite never has to upgrade a read lock (which could fail instead of waiting).
        let seq = Store::next_counter(&mut *tx, "status_seq").await?;
        let Some(before) = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificates WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(record)
        .transpose()?
        else {
            return Ok(None);
        };
        let result = match change {
            StatusChange::Revoke { reason, at } => {
                let status = if reason == "certificateHold" {
                    "hold"
                } else {
                    "revoked"
                };
                // A held certificate may be revoked for good; a revoked one never changes.
                // Revoking a held certificate keeps the original revocation time (RFC 5280 §5.3.1 leaves this open;
                // we keep the time the certificate stopped being trustworthy).
                sqlx::query(
                    "UPDATE certificates SET status = $1, revocation_reason = $2, \
                     revoked_at = COALESCE(revoked_at, $3), status_seq = $4 \
                     WHERE serial = $5 AND (status = 'good' OR (status = 'hold' AND $1 = 'revoked'))",
                )
                .bind(status)
                .bind(reason)
                .bind(*at)
                .bind(seq)
                .bind(serial)
                .execute(&mut *tx)
                .await?
            }
            StatusChange::Release => {
                sqlx::query(
                    "UPDATE certificates SET status = 'good', revocation_reason = NULL, \
                     revoked_at = NULL, status_seq = $1 WHERE serial = $2 AND status = 'hold'",
                )
                .bind(seq)
                .bind(serial)
                .execute(&mut *tx)
                .await?
            }
        };
        let changed = result.rows_affected() == 1;
        if changed {
            let (status, reason, time) = match change {
                StatusChange::Revoke { reason, at } if reason == "certificateHold" => {
                    ("hold", Some(reason.clone()), *at)
                }
                StatusChange::Revoke { reason, at } => ("revoked", Some(reason.clone()), *at),
                StatusChange::Release => ("good", None, crate::time::now()),
            };
            let entry = crate::tlog::Entry::Status {
                serial: serial.to_owned(),
                status: status.to_owned(),
                reason,
                time,
            };
            super::log_append::append(&mut tx, &[entry], crate::time::now()).await?;
        }
        if let (true, Some(event)) = (changed, audit) {
            security::append(&mut *tx, event).await?;
        }
        if changed && self.backend() == Backend::Postgres {
            // Heard by every instance's status watch when (and only if) this commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::status_watch::CHANNEL)
                .bind(serial)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if changed {
            self.status.invalidate(serial);
        }
        Ok(Some((before, changed)))
    }
}

pub(super) fn revoked_entry(row: &AnyRow) -> Result<RevokedEntry, StoreError> {
    Ok(RevokedEntry {
        serial: row.try_get("serial")?,
        status: CertificateStatus::parse(&row.try_get::<String, _>("status")?)?,
        revoked_at: row.try_get("revoked_at")?,
        reason: row.try_get("revocation_reason")?,
    })
}
