//! The serial index: an open-addressing hash table (linear probing) of 16-byte records.
//!
//! A record holds the decoded entry (revocation date, reason), 16 bits of the serial's hash, and
//! where the serial's bytes are inside the CRL's kept TBS: the serials are not copied. The table
//! has a power-of-two size with a load factor between 1/3 and 2/3, so a lookup reads one or two
//! adjacent records; a hit then compares the serial in the TBS (a second memory access), while a
//! miss almost never leaves the table (the 16-bit tag must match first).
//!
//! The hash is SipHash with a random key per CRL (std's `RandomState`): a CRL is parsed before
//! its signature can be checked, so whoever serves it must not be able to pick colliding serials.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::RevokedEntry;

/// Records indexed together by [`SerialIndex::insert`].
pub(super) const BATCH: usize = 32;

/// `Record::reason` when the entry has no reasonCode.
pub(super) const NO_REASON: u8 = u8::MAX;

/// One revoked entry, decoded. `serial_len == 0` marks an empty slot (serials are never empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Record {
    pub revoked_at: i64,
    /// Offset of the serial's (canonical) content bytes in the TBS.
    pub serial_at: u32,
    pub serial_len: u8,
    pub reason: u8,
    tag: u16,
}

impl Record {
    pub(super) fn new(revoked_at: i64, serial_at: u32, serial_len: u8, reason: u8) -> Record {
        Record {
            revoked_at,
            serial_at,
            serial_len,
            reason,
            tag: 0,
        }
    }

    fn entry(&self) -> RevokedEntry {
        RevokedEntry {
            revoked_at: self.revoked_at,
            reason: (self.reason != NO_REASON).then_some(self.reason),
        }
    }

    pub(super) fn serial<'t>(&self, tbs: &'t [u8]) -> Option<&'t [u8]> {
        let start = self.serial_at as usize;
        tbs.get(start..start.checked_add(usize::from(self.serial_len))?)
    }
}

/// Strips sign bytes that DER would not have written (`00` before a byte < 0x80, `FF` before one
/// >= 0x80), so a non-canonical encoding on either side still finds its entry.
pub(super) fn canonical(mut serial: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = serial {
        match rest.first() {
            Some(&next) if (*first == 0x00 && next < 0x80) || (*first == 0xFF && next >= 0x80) => {
                serial = rest
            }
            _ => break,
        }
    }
    serial
}

#[derive(Clone)]
pub(super) struct SerialIndex {
    hasher: RandomState,
    table: Box<[Record]>,
    /// Entries the CRL lists, duplicates included.
    entries: usize,
}

impl SerialIndex {
    /// An empty index sized for `n` entries (`None` if `n` is absurd).
    pub(super) fn with_capacity(n: usize) -> Option<SerialIndex> {
        let size = if n == 0 {
            0
        } else {
            n.checked_add(n / 2)?.max(4).checked_next_power_of_two()?
        };
        Some(SerialIndex {
            hasher: RandomState::new(),
            table: vec![Record::default(); size].into_boxed_slice(),
            entries: 0,
        })
    }

    fn start(&self, serial: &[u8]) -> (usize, u16) {
        let hash = self.hasher.hash_one(serial);
        let mask = self.table.len().wrapping_sub(1);
        (hash as usize & mask, (hash >> 48) as u16)
    }

    /// Adds `records`, whose serials are at their place in `tbs`. A serial listed twice keeps its
    /// first entry. Returns `false` (stopping there) if the table is full or a serial is not in
    /// `tbs`, which the caller's sizing rules out.
    ///
    /// Batches of [`BATCH`] go faster than single records: the table is far larger than the
    /// caches, and touching every batch's slots first lets the CPU fetch them in parallel instead
    /// of stalling on one cache miss per entry (this halves the time to index 1,000,000 entries).
    pub(super) fn insert(&mut self, tbs: &[u8], records: &[Record]) -> bool {
        for batch in records.chunks(BATCH) {
            let mut starts = [(0usize, 0u16); BATCH];
            for (start, record) in starts.iter_mut().zip(batch) {
                let Some(serial) = record.serial(tbs) else {
                    return false;
                };
                *start = self.start(serial);
            }
            // A tight loop of independent loads: the cache misses overlap.
            let mut touched = 0u8;
            for &(pos, _) in starts.iter().take(batch.len()) {
                touched ^= self.table.get(pos).map_or(0, |slot| slot.serial_len);
            }
            std::hint::black_box(touched);
            for (&(pos, tag), record) in starts.iter().zip(batch) {
                if !self.place(tbs, *record, pos, tag) {
                    return false;
                }
            }
        }
        true
    }

    fn place(&mut self, tbs: &[u8], mut record: Record, mut pos: usize, tag: u16) -> bool {
        let Some(serial) = record.serial(tbs) else {
            return false;
        };
        // One free slot must remain for probes to end.
        if record.serial_len == 0 || self.entries + 1 >= self.table.len() {
            return false;
        }
        record.tag = tag;
        let mask = self.table.len() - 1;
        loop {
            let Some(slot) = self.table.get_mut(pos) else {
                return false;
            };
            if slot.serial_len == 0 {
                *slot = record;
                break;
            }
            if slot.tag == tag && slot.serial(tbs) == Some(serial) {
                break; // a duplicate: the first entry stands
            }
            pos = (pos + 1) & mask;
        }
        self.entries += 1;
        true
    }

    pub(super) fn get(&self, tbs: &[u8], serial: &[u8]) -> Option<RevokedEntry> {
        if self.table.is_empty() {
            return None;
        }
        let serial = canonical(serial);
        let (mut pos, tag) = self.start(serial);
        let mask = self.table.len() - 1;
        loop {
            let slot = self.table.get(pos)?;
            if slot.serial_len == 0 {
                return None;
            }
            if slot.tag == tag && slot.serial(tbs) == Some(serial) {
                return Some(slot.entry());
            }
            pos = (pos + 1) & mask;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries
    }

    pub(super) fn heap_size(&self) -> usize {
        std::mem::size_of_val(&*self.table)
    }

    /// The distinct entries, in table order.
    #[cfg(test)]
    pub(super) fn records(&self) -> impl Iterator<Item = &Record> {
        self.table.iter().filter(|r| r.serial_len != 0)
    }
}
