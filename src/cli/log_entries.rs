//! `log audit`'s check of every entry: each reads (in the one spelling the log writes), every
//! document number appears once, and each authority's numbers of a year run 1, 2, 3, … with no
//! gap (a document removed from the registry would leave one).
//!
//! Reading a million entries took about 2–4 s on one core (bench/README.md, "Transparency
//! log"), so they are read on every core, in order-preserving chunks; the bookkeeping after is
//! one pass.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use super::CliError;
use crate::tlog;

/// What the bookkeeping needs of one entry: its kind and, for a document, its number.
type Read = (&'static str, Option<String>);

/// Reads `entries` (the log's, from index 0) and checks them; the line to print.
pub(super) fn check(entries: &[Vec<u8>]) -> Result<String, CliError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = entries.len().div_ceil(threads).max(1);
    let chunks: Vec<Result<Vec<Read>, CliError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = entries
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| scope.spawn(move || read_chunk(c * chunk, part)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker.join().unwrap_or_else(|_| {
                    Err(CliError::Failed(
                        "a thread reading the entries stopped".into(),
                    ))
                })
            })
            .collect()
    });
    let mut numbers: HashMap<String, u64> = HashMap::with_capacity(entries.len());
    let mut sequences: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut index: u64 = 0;
    // Chunks in order, each stopped at its first bad entry: the first error met is the lowest.
    for chunk in chunks {
        for (kind, number) in chunk? {
            *counts.entry(kind).or_default() += 1;
            if let Some(number) = number {
                let sequence = number
                    .rsplit_once('-')
                    .and_then(|(series, sequence)| Some((series, sequence.parse::<u64>().ok()?)));
                if let Some((series, sequence)) = sequence {
                    match sequences.get_mut(series) {
                        Some(seen) => seen.push(sequence),
                        None => {
                            sequences.insert(series.to_owned(), vec![sequence]);
                        }
                    }
                }
                match numbers.entry(number) {
                    Entry::Occupied(first) => {
                        return Err(CliError::Failed(format!(
                            "document {} is in the log twice: entries {} and {index}",
                            first.key(),
                            first.get()
                        )))
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(index);
                    }
                }
            }
            index += 1;
        }
    }
    for (series, mut seen) in sequences {
        seen.sort_unstable();
        if let Some(gap) = (1..).zip(&seen).find(|(want, got)| want != *got) {
            return Err(CliError::Failed(format!(
                "documents {series}: number {} is missing from the log",
                gap.0
            )));
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    Ok(format!(
        "ok: every entry reads ({}); every document number once, without gaps",
        summary.join(", ")
    ))
}

/// Reads the entries from index `first` on; the first that does not read is named.
fn read_chunk(first: usize, entries: &[Vec<u8>]) -> Result<Vec<Read>, CliError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let entry = tlog::Entry::parse(bytes)
                .map_err(|e| CliError::Failed(format!("entry {}: {e}", first + i)))?;
            let kind = entry.kind();
            Ok(match entry {
                tlog::Entry::Document { number, .. } => (kind, Some(number)),
                _ => (kind, None),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::tlog::Entry;

    fn document(number: &str) -> Vec<u8> {
        Entry::Document {
            number: number.into(),
            id: "id".into(),
            sha256: "00".into(),
            signed_sha256: "11".into(),
            time: 1_764_000_000,
        }
        .encode()
    }

    fn certificate(serial: &str) -> Vec<u8> {
        Entry::Certificate {
            serial: serial.into(),
            sha256: "22".into(),
            time: 1_764_000_000,
        }
        .encode()
    }

    /// A log of `n` documents of one series after two certificates: more entries than threads,
    /// so the chunks' order matters.
    fn log(n: u64) -> Vec<Vec<u8>> {
        let mut entries = vec![certificate("01"), certificate("02")];
        entries.extend((1..=n).map(|i| document(&format!("950341000052-2026-{i:06}"))));
        entries
    }

    #[test]
    fn a_whole_log_reads_with_its_counts() {
        let said = check(&log(1000)).unwrap();
        assert!(said.contains("(2 certificate, 1000 document)"), "{said}");
    }

    #[test]
    fn the_first_bad_entry_is_named_whichever_thread_read_it() {
        let mut entries = log(1000);
        entries[700] = b"qoltanba-log-entry/1\ndocument x\n".to_vec();
        entries[900] = b"not an entry".to_vec();
        let err = check(&entries).unwrap_err().to_string();
        assert!(err.contains("entry 700:"), "{err}");
    }

    #[test]
    fn a_number_twice_names_both_entries() {
        let mut entries = log(1000);
        entries[950] = document("950341000052-2026-000011");
        let err = check(&entries).unwrap_err().to_string();
        assert!(
            err.contains("950341000052-2026-000011 is in the log twice: entries 12 and 950"),
            "{err}"
        );
    }

    #[test]
    fn a_number_missing_from_a_series_is_named() {
        let mut entries = log(1000);
        entries.remove(500); // number 499 (entry 500 after the two certificates)
        let err = check(&entries).unwrap_err().to_string();
        assert!(err.contains("number 499 is missing"), "{err}");
    }
}
