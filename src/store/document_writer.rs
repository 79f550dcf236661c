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
//!
//! **Overlap.** While one batch commits (the commit is its own task; the disk's flush takes
//! milliseconds), the writer takes the next batch and already asks its waiters to sign under
//! the numbers they will get if that commit succeeds: the counters as the committing batch
//! left them. Those numbers are only a guess, never used unchecked: the next transaction reads
//! the counters again, and a document signed under another number than the one it gets there
//! (the commit failed, another instance took numbers in between, a document before it failed)
//! is signed again under its own, as above. So signing no longer waits for the flush.

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
    /// Documents waiting at most, when set ([`Store::limit_document_queue`]); else [`QUEUE`].
    capacity: std::sync::atomic::AtomicUsize,
}

impl Store {
    /// Lets at most `capacity` (at least 1) documents wait for the writer; one more is refused
    /// with [`StoreError::Overloaded`] (HTTP 503 `overloaded`). The default is 256. It applies
    /// to a writer started after the call: call it before the first document.
    pub fn limit_document_queue(&self, capacity: usize) {
        self.writer
            .capacity
            .store(capacity.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// How many documents are waiting for the writer (not yet taken into a batch).
    pub fn documents_waiting(&self) -> usize {
        let sender = self.writer.sender.lock();
        match sender.as_deref() {
            Ok(Some(queue)) if !queue.is_closed() => queue.max_capacity() - queue.capacity(),
            _ => 0,
        }
    }

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
        let capacity = match self
            .writer
            .capacity
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => QUEUE,
            set => set,
        };
        let (tx, rx) = mpsc::channel(capacity);
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
    /// in the batch failed, or if it was signed ahead under a number it did not get), and
    /// returns the record once it is committed with its audit entry.
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

/// Counter values as the last batch handed to its commit left them: the numbers the next
/// batch signs ahead under. A guess, checked in the next transaction.
type Predicted = HashMap<(String, i64), i64>;

/// More (authority, year) pairs than this and the guesses are forgotten: memory stays bounded
/// whatever the authorities (one in practice: the official's).
const MAX_PREDICTED: usize = 1024;

async fn run(pool: AnyPool, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut predicted = Predicted::new();
    let mut committing: Option<tokio::task::JoinHandle<bool>> = None;
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut members: Vec<Member> = batch.drain(..).map(Member::new).collect();
        // Sign ahead while the previous batch commits; then wait for its commit, since this
        // batch's transaction would wait for its locks anyway.
        ask_ahead(&mut members, &predicted);
        if let Some(previous) = committing.take() {
            if !previous.await.unwrap_or(false) {
                predicted.clear();
            }
        }
        committing = write_batch(&pool, members, &mut predicted).await;
    }
    if let Some(previous) = committing {
        let _ = previous.await;
    }
}

/// Asks each member whose counter has a guess to sign under the number it would get.
fn ask_ahead(members: &mut [Member], predicted: &Predicted) {
    if predicted.is_empty() {
        return;
    }
    // Each counter's last number given so far in this batch.
    let mut next = predicted.clone();
    for m in members.iter_mut() {
        let key = (m.pending.authority_bin.clone(), m.pending.year);
        let Some(sequence) = next.get_mut(&key) else {
            continue;
        };
        *sequence += 1;
        let sequence = *sequence;
        m.ask(sequence);
    }
}

struct Member {
    pending: Pending,
    /// Gone: its signing failed or its caller went away. It has no number.
    out: bool,
    /// The sequence it was last asked to sign under, and its answer to come.
    asked: Option<(i64, oneshot::Receiver<Option<SignedDocument>>)>,
    /// The sequence it is signed under, and its signed document.
    signed: Option<(i64, SignedDocument)>,
}

impl Member {
    fn new(pending: Pending) -> Member {
        Member {
            pending,
            out: false,
            asked: None,
            signed: None,
        }
    }

    /// Asks the waiter to sign under `sequence` (a signature under another one is dropped).
    fn ask(&mut self, sequence: i64) {
        let number =
            super::documents::number(&self.pending.authority_bin, self.pending.year, sequence);
        let (reply, answer) = oneshot::channel();
        // A waiter gone already counts as a failure: its answer channel is closed.
        let _ = self.pending.inbox.send(ToWaiter::Sign { number, reply });
        self.asked = Some((sequence, answer));
        self.signed = None;
    }

    /// Signed, or being signed, under `sequence`.
    fn holds(&self, sequence: i64) -> bool {
        self.signed.as_ref().map(|s| s.0) == Some(sequence)
            || self.asked.as_ref().map(|a| a.0) == Some(sequence)
    }

    fn tell(&self, result: Result<DocumentRecord, StoreError>) {
        // A caller that went away is not told; its document is stored if it was signed.
        let _ = self.pending.inbox.send(ToWaiter::Done(Box::new(result)));
    }
}

/// Numbers and stores a batch; its commit runs as its own task (returned), which answers the
/// waiters once it is over and says whether it committed.
async fn write_batch(
    pool: &AnyPool,
    mut members: Vec<Member>,
    predicted: &mut Predicted,
) -> Option<tokio::task::JoinHandle<bool>> {
    let started = std::time::Instant::now();
    match numbered_and_stored(pool, &mut members).await {
        Ok((tx, records, counters)) => {
            if predicted.len() + counters.len() > MAX_PREDICTED {
                predicted.clear();
            }
            predicted.extend(counters);
            Some(tokio::spawn(commit(tx, members, records, started)))
        }
        Err(e) => {
            predicted.clear();
            fail(&members, &e);
            None
        }
    }
}

async fn commit(
    tx: sqlx::Transaction<'static, sqlx::Any>,
    members: Vec<Member>,
    records: Vec<(usize, DocumentRecord)>,
    started: std::time::Instant,
) -> bool {
    let committing = std::time::Instant::now();
    let result = tx.commit().await;
    tracing::debug!(
        documents = members.len(),
        stored = records.len(),
        elapsed_us = started.elapsed().as_micros(),
        commit_us = committing.elapsed().as_micros(),
        "batch of documents"
    );
    match result {
        Ok(()) => {
            for (i, record) in records {
                members[i].tell(Ok(record));
            }
            true
        }
        Err(e) => {
            fail(&members, &StoreError::Database(e));
            false
        }
    }
}

fn fail(members: &[Member], e: &StoreError) {
    tracing::error!(error = %e, documents = members.len(),
        "a batch of documents could not be stored; none of them was registered");
    for member in members.iter().filter(|m| !m.out) {
        member.tell(Err(StoreError::Batch(e.to_string())));
    }
}

/// One (authority, year) of the batch: its counter before the batch, its members in order.
struct Counter {
    authority_bin: String,
    year: i64,
    before: i64,
    members: Vec<usize>,
}

/// What a batch's transaction leaves to its commit: the transaction, each stored member (its
/// index) with its record, and the counters' values after it.
type Stored = (
    sqlx::Transaction<'static, sqlx::Any>,
    Vec<(usize, DocumentRecord)>,
    Vec<((String, i64), i64)>,
);

/// The batch's transaction, up to its commit.
async fn numbered_and_stored(pool: &AnyPool, members: &mut [Member]) -> Result<Stored, StoreError> {
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
    // Rounds: every member still in must be signed under the next free number of its counter.
    // One signed (or being signed) ahead under that very number is kept; any other is asked
    // (again). A member that fails drops out, and the next round moves every later one of its
    // counter up by one.
    let signing = std::time::Instant::now();
    loop {
        for c in &counters {
            let mut sequence = c.before;
            for &i in &c.members {
                if members[i].out {
                    continue;
                }
                sequence += 1;
                if !members[i].holds(sequence) {
                    members[i].ask(sequence);
                }
            }
        }
        let mut dropped = false;
        for m in members.iter_mut().filter(|m| !m.out) {
            let Some((sequence, answer)) = m.asked.take() else {
                continue;
            };
            match answer.await.ok().flatten() {
                Some(signed) => m.signed = Some((sequence, signed)),
                None => {
                    m.out = true;
                    m.signed = None;
                    dropped = true;
                }
            }
        }
        if !dropped {
            break;
        }
    }
    tracing::trace!(elapsed_us = signing.elapsed().as_micros(), "batch signed");
    // Every member not out is signed under its number by now; who is stored is decided here.
    let mut stored = Vec::new();
    let mut documents = Vec::new();
    for (i, m) in members.iter_mut().enumerate() {
        if let Some((sequence, signed)) = m.signed.take().filter(|_| !m.out) {
            stored.push(i);
            let p = &m.pending;
            documents.push((
                super::documents::NewDocument {
                    authority_bin: p.authority_bin.clone(),
                    year: p.year,
                    sequence,
                    kind: p.kind.clone(),
                    supersedes: p.supersedes.clone(),
                    created_at: p.now,
                },
                signed,
            ));
        }
    }
    let records = insert_documents(&mut tx, documents).await?;
    let mut after = Vec::with_capacity(counters.len());
    for counter in &counters {
        let taken = counter.members.iter().filter(|&&i| !members[i].out).count();
        let value = counter.before + i64::try_from(taken).unwrap_or(i64::MAX);
        after.push(((counter.authority_bin.clone(), counter.year), value));
        if taken == counter.members.len() {
            continue;
        }
        // Some failed: the counter ends at the last number actually given.
        sqlx::query(
            "UPDATE document_counters SET value = $3 WHERE authority_bin = $1 AND year = $2",
        )
        .bind(&counter.authority_bin)
        .bind(counter.year)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    }
    Ok((tx, stored.into_iter().zip(records).collect(), after))
}
