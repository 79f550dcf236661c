//! The registry against its log (issue 17): the log proves what was registered, but the
//! service answers from the `documents` table. A row changed or deleted there past the
//! triggers leaves the log intact, so the tree checks cannot see it. A sweep re-reads, a few
//! hundred entries at a time and round and round, every document the log names and requires
//! its row to give the same entry; `/readyz` fails while any does not.
//!
//! Why a sweep and not a pass at start: re-reading every signed document is reading the whole
//! registry (kilobytes each); at start it would delay every restart by that, every ten minutes
//! it would be a steady load. A bounded step each second costs little and still reaches every
//! document: a million entries at 256 a second in about an hour.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::tlog::Entry;

use super::{Pki, PkiError};

/// Where the sweep is, and what it found wrong and has not seen right since.
#[derive(Debug, Default)]
pub(super) struct Sweep {
    state: Mutex<SweepState>,
}

#[derive(Debug, Default)]
struct SweepState {
    /// The next log index to look at.
    next: u64,
    /// Complete passes over the log so far.
    passes: u64,
    /// By log index: why that document's row does not give its entry.
    faults: BTreeMap<u64, String>,
}

impl Pki {
    /// Compares the documents named by the next `count` log entries (from where the last call
    /// stopped, back to 0 past the newest checkpoint) with their entries. What does not match
    /// is remembered until the same entry is seen right again.
    pub async fn sweep_registry(&self, count: u64) -> Result<(), PkiError> {
        let size = self.log_checkpoint().await?.size;
        let start = {
            let mut state = self.sweep_state();
            if state.next >= size {
                state.passes += u64::from(state.next > 0);
                state.next = 0;
            }
            state.next
        };
        let end = start.saturating_add(count).min(size);
        let rows = self.store.log_entries(start..end).await?;
        let mut named: Vec<(u64, String, Vec<u8>)> = Vec::new();
        for (index, bytes) in rows {
            if let Ok(Entry::Document { number, .. }) = Entry::parse(&bytes) {
                named.push((index, number, bytes));
            }
        }
        let numbers: Vec<String> = named.iter().map(|(_, n, _)| n.clone()).collect();
        let stored: std::collections::HashMap<String, Vec<u8>> = self
            .store
            .documents_by_numbers(&numbers)
            .await?
            .iter()
            .map(|d| {
                (
                    d.number.clone(),
                    crate::store::document_log_entry(d).encode(),
                )
            })
            .collect();
        let mut state = self.sweep_state();
        for (index, number, entry) in named {
            match stored.get(&number) {
                Some(ours) if *ours == entry => {
                    state.faults.remove(&index);
                }
                Some(_) => {
                    state.faults.insert(
                        index,
                        format!(
                            "document {number} as stored is not what log entry {index} \
                             recorded: it was changed"
                        ),
                    );
                }
                None => {
                    state.faults.insert(
                        index,
                        format!(
                            "document {number} (log entry {index}) is missing from the \
                             registry: its row was deleted"
                        ),
                    );
                }
            }
        }
        state.next = end;
        Ok(())
    }

    /// What the sweep has found so far: Err naming the first document (and how many more)
    /// whose row does not give its entry; else how far it has come.
    pub fn registry_matches_log(&self) -> Result<String, String> {
        let state = self.sweep_state();
        if let Some((_, first)) = state.faults.iter().next() {
            let more = state.faults.len() - 1;
            return Err(if more == 0 {
                first.clone()
            } else {
                format!("{first} (and {more} more)")
            });
        }
        Ok(format!(
            "every document re-read so far gives its log entry ({} complete passes, now at \
             entry {})",
            state.passes, state.next
        ))
    }

    fn sweep_state(&self) -> std::sync::MutexGuard<'_, SweepState> {
        self.log
            .sweep
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}
