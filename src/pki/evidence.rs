//! The registry's evidence (issue 15): a document is stored at level B as signed, then
//! extended to LTA and kept provable by renewal — each step appended as a new version
//! (`store::document_evidence`), never written over the signed row.
//!
//! Issuance calls [`Pki::extend_document`] once right after the commit; the leader's periodic
//! job ([`Pki::advance_evidence`]) brings every document still below LTA up, and adds an
//! archive time-stamp to every document whose evidence nears its horizon or rests on a weak
//! hash.

use super::evidence_horizon::newest_time_stamp;
use super::extension::{level_of, Level};
use super::{Pki, PkiError};
use crate::crypto::Digest;
use crate::store::{DocumentRecord, EvidenceLevel, EvidenceRecord, NewEvidence};
use crate::telemetry;

/// Documents handled per run and step: bounds how long one run holds the periodic loop.
const BATCH: i64 = 100;
/// A run stops after this many failures in a row: the TSA is most likely down, and every
/// further document would only wait out its timeout again. The next run retries.
const MAX_FAILURES_IN_A_ROW: usize = 3;

/// How long issuance waits for the built-in TSA (in process: only the database can be slow).
const OWN_TSA_BOUND: std::time::Duration = std::time::Duration::from_secs(10);

/// How long issuance waits for its turn to extend before leaving it to the job.
const PERMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Extensions done inline with issuance at once, process-wide: one per core.
fn inline_extensions() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// What one run of the evidence job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Advanced {
    /// Documents brought to LTA.
    pub extended: usize,
    /// Documents given one more archive time-stamp.
    pub renewed: usize,
    /// Documents another instance had just extended or renewed (nothing stored twice).
    pub raced: usize,
    /// Documents left as they were because stamping failed; the next run retries.
    pub failed: usize,
}

/// What a document's current signature is: its newest evidence version, else the row as
/// signed (level B).
pub struct CurrentSignature {
    pub signed: Vec<u8>,
    /// B, T, LT or LTA.
    pub level: &'static str,
    /// Unix seconds until which the evidence holds; None at level B.
    pub horizon: Option<i64>,
}

impl CurrentSignature {
    pub fn of(document: &DocumentRecord, newest: Option<&EvidenceRecord>) -> CurrentSignature {
        match newest {
            Some(e) => CurrentSignature {
                signed: e.cms.clone(),
                level: e.level.as_str(),
                horizon: Some(e.horizon),
            },
            None => CurrentSignature {
                signed: document.signed.clone(),
                level: Level::B.as_str(),
                horizon: None,
            },
        }
    }
}

fn stored_level(level: Level) -> Option<EvidenceLevel> {
    match level {
        Level::B => None,
        Level::T => Some(EvidenceLevel::T),
        Level::Lt => Some(EvidenceLevel::Lt),
        Level::Lta => Some(EvidenceLevel::Lta),
    }
}

/// OIDs of every digest the algorithm table marks weak.
fn weak_digests() -> Vec<String> {
    use Digest::*;
    [Sha256, Sha384, Sha512, Streebog512, Gost94, Sha1, Md5]
        .into_iter()
        .filter(|d| d.is_weak())
        .map(|d| d.oid().to_string())
        .collect()
}

fn is_weak(oid: &str) -> bool {
    weak_digests().iter().any(|w| w == oid)
}

fn count(level: &'static str, status: &'static str) {
    metrics::counter!(telemetry::EVIDENCE_EXTENSIONS, "level" => level, "status" => status)
        .increment(1);
}

impl Pki {
    /// A document's current signature, level and horizon.
    pub async fn current_signature(
        &self,
        document: &DocumentRecord,
    ) -> Result<CurrentSignature, PkiError> {
        let newest = self.store().newest_evidence(&document.id).await?;
        Ok(CurrentSignature::of(document, newest.as_ref()))
    }

    /// Extends a registered CMS document to LTA and appends the result, waiting at most one
    /// TSA request's timeout (issuance calls this with its caller waiting). Ok(None): nothing
    /// stored — an XML document (its XAdES levels do not exist yet: it stays at B), one already
    /// at LTA, or one another instance extended meanwhile. Err: stamping failed (the TSA is
    /// down); the document stays where it was, for the job to retry.
    pub async fn extend_document(
        &self,
        document: &DocumentRecord,
        now: i64,
    ) -> Result<Option<EvidenceRecord>, PkiError> {
        if document.format != "cms" {
            return Ok(None);
        }
        // Extension costs several signatures and transactions (two time-stamps, an OCSP
        // answer) per document: under a burst of issuances, doing them all inline would push
        // every answer past the request timeout. A few at a time; whoever waits longer than
        // PERMIT_WAIT is answered at B and extended by the job.
        let permit = tokio::time::timeout(PERMIT_WAIT, inline_extensions().acquire()).await;
        let Ok(Ok(_permit)) = permit else {
            count(Level::Lta.as_str(), "deferred");
            return Err(PkiError::TimeStamp(
                "busy: left for the evidence job".into(),
            ));
        };
        let newest = self.store().newest_evidence(&document.id).await?;
        // The caller is waiting for its answer: one attempt's timeout at most, not the client's
        // retries too. The job retries later at its own pace.
        let bound = self
            .tsa
            .remote
            .as_ref()
            .map_or(OWN_TSA_BOUND, |c| c.timeout);
        match tokio::time::timeout(bound, self.extend_from(document, newest.as_ref(), now)).await {
            Ok(extended) => extended,
            Err(_) => {
                count(Level::Lta.as_str(), "failed");
                Err(PkiError::TimeStamp(format!(
                    "no time-stamp within {} s; left for the evidence job",
                    bound.as_secs()
                )))
            }
        }
    }

    async fn extend_from(
        &self,
        document: &DocumentRecord,
        newest: Option<&EvidenceRecord>,
        now: i64,
    ) -> Result<Option<EvidenceRecord>, PkiError> {
        if newest.is_some_and(|e| e.level == EvidenceLevel::Lta) {
            return Ok(None);
        }
        let current = CurrentSignature::of(document, newest);
        let content = document.detached.then_some(document.canonical.as_slice());
        let extended = match self.extend(&current.signed, content, Level::Lta, now).await {
            Ok(cms) => cms,
            Err(e) => {
                count(Level::Lta.as_str(), "failed");
                return Err(e);
            }
        };
        let stored = self.append(document, newest, &extended, now).await?;
        count(
            Level::Lta.as_str(),
            if stored.is_some() {
                "extended"
            } else {
                "raced"
            },
        );
        Ok(stored)
    }

    /// Appends an extended CMS as the version after `newest`, with its level and horizon.
    async fn append(
        &self,
        document: &DocumentRecord,
        newest: Option<&EvidenceRecord>,
        cms: &[u8],
        now: i64,
    ) -> Result<Option<EvidenceRecord>, PkiError> {
        let level = stored_level(level_of(cms)?).ok_or_else(|| {
            PkiError::Config(format!(
                "document {}: the extended signature carries no time-stamp",
                document.id
            ))
        })?;
        let horizon = newest_time_stamp(cms)?.ok_or_else(|| {
            PkiError::Config(format!(
                "document {}: the extended signature carries no time-stamp",
                document.id
            ))
        })?;
        let new = NewEvidence {
            level,
            cms,
            horizon: horizon.until,
            digest: &horizon.digest.to_string(),
        };
        let stored = self
            .store()
            .append_evidence(&document.id, newest, &new, now)
            .await?;
        if stored.is_none() {
            tracing::info!(id = %document.id, "another instance extended this document first; \
                this stamp is dropped");
        }
        Ok(stored)
    }

    /// One run of the evidence job (the leader's periodic work): every CMS document below LTA
    /// is extended to LTA, then every document whose evidence holds for less than
    /// `margin_seconds` after `now`, or rests on a weak hash, gets one more archive time-stamp.
    /// At most [`BATCH`] documents each; a run that meets failures in a row stops early.
    pub async fn advance_evidence(
        &self,
        now: i64,
        margin_seconds: i64,
    ) -> Result<Advanced, PkiError> {
        let mut done = Advanced::default();
        let mut in_a_row = 0;
        for (document, newest) in self.store().documents_below_lta(BATCH).await? {
            match self.extend_from(&document, newest.as_ref(), now).await {
                Ok(Some(_)) => done.extended += 1,
                Ok(None) => done.raced += 1,
                Err(e) => {
                    tracing::warn!(id = %document.id, error = %e, "could not extend a document to LTA");
                    done.failed += 1;
                    in_a_row += 1;
                    if in_a_row >= MAX_FAILURES_IN_A_ROW {
                        return Ok(done);
                    }
                    continue;
                }
            }
            in_a_row = 0;
        }
        let cutoff = now.saturating_add(margin_seconds);
        for (document, newest) in self
            .store()
            .evidence_due(cutoff, &weak_digests(), BATCH)
            .await?
        {
            match self.renew(&document, &newest, now).await {
                Ok(Some(_)) => {
                    done.renewed += 1;
                    in_a_row = 0;
                }
                Ok(None) => done.raced += 1,
                Err(e) => {
                    tracing::warn!(id = %document.id, error = %e, "could not renew a document's evidence");
                    done.failed += 1;
                    in_a_row += 1;
                    if in_a_row >= MAX_FAILURES_IN_A_ROW {
                        break;
                    }
                }
            }
        }
        Ok(done)
    }

    /// Adds one archive time-stamp to a document's newest (LTA) version — only if the new one
    /// holds longer or replaces a weak hash: a time-stamp from a TSA certificate that expires
    /// no later than the last one would be stored for nothing, and then again at every run.
    async fn renew(
        &self,
        document: &DocumentRecord,
        newest: &EvidenceRecord,
        now: i64,
    ) -> Result<Option<EvidenceRecord>, PkiError> {
        let content = document.detached.then_some(document.canonical.as_slice());
        let renewed = match self.add_archive_time_stamp(&newest.cms, content, now).await {
            Ok(cms) => cms,
            Err(e) => {
                count(Level::Lta.as_str(), "failed");
                return Err(e);
            }
        };
        let horizon = newest_time_stamp(&renewed)?;
        let better = horizon.as_ref().is_some_and(|h| {
            h.until > newest.horizon || (is_weak(&newest.digest) && !is_weak(&h.digest.to_string()))
        });
        if !better {
            count(Level::Lta.as_str(), "failed");
            return Err(PkiError::Config(format!(
                "the TSA's certificate does not outlive this evidence (until {}): renew the \
                 TSA's certificate",
                crate::time::rfc3339(newest.horizon)
            )));
        }
        let stored = self.append(document, Some(newest), &renewed, now).await?;
        count(
            Level::Lta.as_str(),
            if stored.is_some() { "renewed" } else { "raced" },
        );
        Ok(stored)
    }
}
