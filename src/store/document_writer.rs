//! Group commit of document registrations (issue 16).
//!
//! One writer task per store owns the queue of documents waiting for a number. It takes every
//! pending one (up to [`MAX_BATCH`]), opens ONE transaction, reads the counter of each
//! (authority, year) — which takes SQLite's write lock, or PostgreSQL's row lock that
//! serialises the batches of several instances — hands each waiter its number in arrival
//! order, and waits while the waiters sign, in parallel on their own tasks. Then it inserts
//! every row and audit entry, moves the counters on and commits once. Only then is each waiter
//! answered: an acknowledged document is committed, and when the commit fails every waiter of
//! the batch gets the error, so nothing uncommitted is claimed.
//!
//! A document whose signing fails (or whose caller went away: its future was dropped) gets no
//! number: the ones after it in its (authority, year) move up one and sign again with their
//! new number (the number is inside the signed content), so the numbers stay gap-free and in
//! arrival order. That is the rare path; the common one signs each document once.

use std::collections::HashMap;

use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::documents::{insert_documents, DocumentRecord, SignedDocument};
use super::{Store, StoreError};

/// Documents per transaction at most: bounds how long one transaction holds the lock.
const MAX_BATCH: usize = 64;
/// Documents waiting for the writer at most; one more is refused (`StoreError::Overloaded`)
/// rather than queued without bound. A few batches: at ~1,000 documents/s a fraction of a second.
const QUEUE: usize = 4 * MAX_BATCH;

/// What the writer tells a waiter.
enum ToWaiter {
    /// Sign the document under this number and answer (None: signing failed, no number).
    Sign {
        number: String,
        reply: oneshot::Sender<Option<SignedDocument>>,
    },
    /// The batch is over: the document as committed, or why nothing was.
    Done(Box<Result<DocumentRecord, StoreError>>),
}

/// A document waiting for its number.
struct Pending {
    authority_bin: String,
    year: i64,
    kind: String,
    supersedes: Option<String>,
    now: i64,
    inbox: mpsc::UnboundedSender<ToWaiter>,
}

/// The writer's queue. The task is started by the first registration (inside the caller's
/// runtime) and again if it has gone (its runtime ended); it ends when every `Store` clone is
/// dropped, since they hold the only sender.
#[derive(Debug, Default)]
pub(super) struct DocumentWriter {
    sender: std::sync::Mutex<Option<mpsc::Sender<Pending>>>,
}

impl Store {
    fn enqueue(&self, pending: Pending) -> Result<(), StoreError> {
        let mut sender = self
            .writer
            .sender
            .lock()
            .map_err(|_| StoreError::Batch("the document queue is poisoned".into()))?;
        let pending = match sender.as_ref() {
            Some(queue) => match queue.try_send(pending) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => return Err(StoreError::Overloaded),
                // The task has gone with the runtime that ran it: start another.
                Err(mpsc::error::TrySendError::Closed(p)) => p,
            },
            None => pending,
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        // The task gets the pool, not the store: a store would hold the sender, and the task
        // would never see its queue close.
        tokio::spawn(run(self.pool().clone(), rx));
        let result = tx
            .try_send(pending)
            .map_err(|_| StoreError::Batch("the document writer did not start".into()));
        *sender = Some(tx);
        result
    }

    /// Registers one document through the writer: reserves the next number of (authority,
    /// year), lets `sign` make the document for it (again with another number if one before it
    /// in the batch failed), and returns the record once it is committed with its audit entry.
    /// If `sign` fails, nothing is stored and the number is not used up.
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
        F: Fn(&str) -> Result<SignedDocument, E>,
    {
        let (inbox, mut messages) = mpsc::unbounded_channel();
        self.enqueue(Pending {
            authority_bin: authority_bin.to_owned(),
            year,
            kind: kind.to_owned(),
            supersedes: supersedes.map(str::to_owned),
            now,
            inbox,
        })?;
        while let Some(message) = messages.recv().await {
            match message {
                ToWaiter::Sign { number, reply } => match sign(&number) {
                    Ok(signed) => {
                        // The writer may have given up on the batch: then Done follows.
                        let _ = reply.send(Some(signed));
                    }
                    Err(e) => {
                        let _ = reply.send(None);
                        return Ok(Err(e));
                    }
                },
                ToWaiter::Done(result) => return (*result).map(Ok),
            }
        }
        Err(StoreError::Batch(
            "the document writer stopped before the batch ended".into(),
        ))
    }
}

async fn run(pool: AnyPool, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let members: Vec<Member> = batch.drain(..).map(Member::new).collect();
        write_batch(&pool, members).await;
    }
}

struct Member {
    pending: Pending,
    /// Gone: its signing failed or its caller went away. It has no number.
    out: bool,
    /// Its sequence and signed document once accepted.
    accepted: Option<(i64, SignedDocument)>,
}

impl Member {
    fn new(pending: Pending) -> Member {
        Member {
            pending,
            out: false,
            accepted: None,
        }
    }
}

async fn write_batch(pool: &AnyPool, mut members: Vec<Member>) {
    let started = std::time::Instant::now();
    let result = numbered_and_stored(pool, &mut members).await;
    tracing::debug!(
        documents = members.len(),
        stored = members.iter().filter(|m| !m.out).count(),
        elapsed_us = started.elapsed().as_micros(),
        "batch of documents"
    );
    match result {
        Ok(records) => {
            for (i, record) in records {
                // A caller that went away after signing is not told; its document is stored.
                let _ = members[i]
                    .pending
                    .inbox
                    .send(ToWaiter::Done(Box::new(Ok(record))));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, documents = members.len(),
                "a batch of documents could not be stored; none of them was registered");
            for member in members.iter().filter(|m| !m.out) {
                let _ =
                    member
                        .pending
                        .inbox
                        .send(ToWaiter::Done(Box::new(Err(StoreError::Batch(
                            e.to_string(),
                        )))));
            }
        }
    }
}

/// One (authority, year) of the batch: its counter before the batch, its members in order.
struct Counter {
    authority_bin: String,
    year: i64,
    before: i64,
    members: Vec<usize>,
}

/// The batch's transaction. Returns each stored member (its index) with its record.
async fn numbered_and_stored(
    pool: &AnyPool,
    members: &mut [Member],
) -> Result<Vec<(usize, DocumentRecord)>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut counters: Vec<Counter> = Vec::new();
    let mut index: HashMap<(&str, i64), usize> = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        let key = (m.pending.authority_bin.as_str(), m.pending.year);
        let at = *index.entry(key).or_insert_with(|| {
            counters.push(Counter {
                authority_bin: key.0.to_owned(),
                year: key.1,
                before: 0,
                members: Vec::new(),
            });
            counters.len() - 1
        });
        counters[at].members.push(i);
    }
    for counter in &mut counters {
        // A write first, so SQLite takes its write lock before any read; on PostgreSQL the
        // upsert locks the counter's row (created the first time) until the commit, so
        // another instance's batch waits for this one. It moves the counter on by the whole
        // batch at once (one round trip less in the common case); failures correct it below.
        let claimed = i64::try_from(counter.members.len()).unwrap_or(i64::MAX);
        let after: i64 = sqlx::query(
            "INSERT INTO document_counters (authority_bin, year, value) VALUES ($1, $2, $3) \
             ON CONFLICT (authority_bin, year) DO UPDATE \
             SET value = document_counters.value + $3 RETURNING value",
        )
        .bind(&counter.authority_bin)
        .bind(counter.year)
        .bind(claimed)
        .fetch_one(&mut *tx)
        .await?
        .try_get("value")?;
        counter.before = after - claimed;
    }
    // Rounds: every member still to sign gets the next free number of its counter; a failure
    // drops that member and sends every later one of its counter round again, renumbered.
    let signing = std::time::Instant::now();
    let mut to_sign: Vec<Vec<usize>> = counters.iter().map(|c| c.members.clone()).collect();
    while to_sign.iter().any(|t| !t.is_empty()) {
        let mut asked = Vec::new();
        for (c, waiting) in counters.iter().zip(&to_sign) {
            let taken = c
                .members
                .iter()
                .filter(|&&i| members[i].accepted.is_some())
                .count();
            let mut sequence = c.before + i64::try_from(taken).unwrap_or(i64::MAX);
            for &i in waiting {
                sequence += 1;
                let number = super::documents::number(&c.authority_bin, c.year, sequence);
                let (reply, answer) = oneshot::channel();
                // A waiter gone already counts as a failure: its answer channel is closed.
                let _ = members[i]
                    .pending
                    .inbox
                    .send(ToWaiter::Sign { number, reply });
                asked.push((i, sequence, answer));
            }
        }
        let mut answers = HashMap::new();
        for (i, sequence, answer) in asked {
            answers.insert(i, (sequence, answer.await.ok().flatten()));
        }
        for waiting in &mut to_sign {
            let mut again = Vec::new();
            let mut failed = false;
            for &i in waiting.iter() {
                match answers.remove(&i) {
                    Some((sequence, Some(signed))) if !failed => {
                        members[i].accepted = Some((sequence, signed));
                    }
                    // Signed under a number a failure before it has taken back.
                    Some((_, Some(_))) => again.push(i),
                    _ => {
                        members[i].out = true;
                        failed = true;
                    }
                }
            }
            *waiting = again;
        }
    }
    tracing::trace!(elapsed_us = signing.elapsed().as_micros(), "batch signed");
    // Every member not out is accepted by now; who is stored is decided here, once.
    let mut stored = Vec::new();
    let mut documents = Vec::new();
    for (i, m) in members.iter_mut().enumerate() {
        if let Some((sequence, signed)) = m.accepted.take() {
            stored.push(i);
            documents.push((&m.pending, sequence, signed));
        }
    }
    let records = insert_documents(
        &mut tx,
        documents
            .into_iter()
            .map(|(p, sequence, signed)| {
                (
                    super::documents::NewDocument {
                        authority_bin: p.authority_bin.clone(),
                        year: p.year,
                        sequence,
                        kind: p.kind.clone(),
                        supersedes: p.supersedes.clone(),
                        created_at: p.now,
                    },
                    signed,
                )
            })
            .collect(),
    )
    .await?;
    for counter in &counters {
        let taken = counter.members.iter().filter(|&&i| !members[i].out).count();
        if taken == counter.members.len() {
            continue;
        }
        // Some failed: the counter ends at the last number actually given.
        sqlx::query(
            "UPDATE document_counters SET value = $3 WHERE authority_bin = $1 AND year = $2",
        )
        .bind(&counter.authority_bin)
        .bind(counter.year)
        .bind(counter.before + i64::try_from(taken).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    let committing = std::time::Instant::now();
    tx.commit().await?;
    tracing::trace!(
        elapsed_us = committing.elapsed().as_micros(),
        "batch committed"
    );
    Ok(stored.into_iter().zip(records).collect())
}
