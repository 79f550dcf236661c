//! Refusals (401, 403, 400) in the audit trail, bounded under a flood (issue 12). Each refusal
//! has its own entry until its source has had [`THRESHOLD`] in a minute; past that they are only
//! counted, and the count is written as one entry ("refusals aggregated") when the minute is
//! over. Without this, a caller who is refused (and so never charged beyond the rate limit)
//! could still append a row per request to a table that never shrinks.
//!
//! A minute's count is written at the source's next refusal after it, or within a second of
//! its end by a task that runs only while some count is pending. When the recorder is dropped
//! (the service stops), the counts of minutes still open are written by a last task, or, with
//! no runtime left to run it, logged with their text, so a shutdown loses none silently.
//!
//! Memory is bounded: at most [`MAX_SOURCES`] sources are followed at once; past that the
//! pending counts are written early (each as of the moment, still "in the minute starting T")
//! and the memory starts afresh, as the rate limiter's does.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::audit::{self, Entry};
use crate::store::Store;

/// Refusals a source may have recorded one by one in a minute.
pub const THRESHOLD: u32 = 20;
/// The action of an aggregated entry.
pub const AGGREGATED: &str = "refusals aggregated";
const WINDOW_SECONDS: i64 = 60;
/// Most sources followed at once.
const MAX_SOURCES: usize = 10_000;
/// How much of the first counted refusal an aggregated entry quotes.
const MAX_FIRST_CHARS: usize = 256;
/// How often pending counts are looked at while there are any.
const TICK: Duration = Duration::from_secs(1);

/// Where refusals come from: an IPv4 address, or an IPv6 /64, the share one subscriber usually
/// holds (counting its 2^64 addresses one by one would give it a fresh allowance per address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4(Ipv4Addr),
    V6Prefix(u64),
    Unknown,
}

impl Source {
    fn of(address: Option<IpAddr>) -> Source {
        match address.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(v4)) => Source::V4(v4),
            Some(IpAddr::V6(v6)) => Source::V6Prefix((v6.to_bits() >> 64) as u64),
            None => Source::Unknown,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::V4(v4) => write!(f, "{v4}"),
            Source::V6Prefix(prefix) => {
                write!(
                    f,
                    "{}/64",
                    std::net::Ipv6Addr::from_bits(u128::from(*prefix) << 64)
                )
            }
            Source::Unknown => f.write_str("an unknown address"),
        }
    }
}

/// The refusals counted (not recorded one by one) in a source's minute.
#[derive(Debug)]
struct Counted {
    count: u32,
    /// (status, how many), in order of first appearance.
    by_status: Vec<(i64, u32)>,
    /// The first counted refusal: its caller, status and a line about it.
    actor: String,
    status: i64,
    first: String,
}

/// One source's current minute.
#[derive(Debug)]
struct Window {
    start: i64,
    refusals: u32,
    counted: Option<Counted>,
}

impl Window {
    fn open(start: i64) -> Window {
        Window {
            start,
            refusals: 0,
            counted: None,
        }
    }

    fn is_over(&self, now: i64) -> bool {
        now >= self.start + WINDOW_SECONDS
    }

    /// Takes one refusal; true when it is to be recorded on its own.
    fn take(&mut self, refusal: &Entry<'_>) -> bool {
        self.refusals = self.refusals.saturating_add(1);
        if self.refusals <= THRESHOLD {
            return true;
        }
        let counted = self.counted.get_or_insert_with(|| Counted {
            count: 0,
            by_status: Vec::new(),
            actor: refusal.actor.to_owned(),
            status: refusal.status,
            first: audit::capped(
                &format!(
                    "{} ({}) → {}: {}",
                    refusal.action, refusal.target, refusal.status, refusal.detail
                ),
                MAX_FIRST_CHARS,
            ),
        });
        counted.count = counted.count.saturating_add(1);
        match counted
            .by_status
            .iter_mut()
            .find(|(status, _)| *status == refusal.status)
        {
            Some((_, n)) => *n = n.saturating_add(1),
            None => counted.by_status.push((refusal.status, 1)),
        }
        false
    }
}

/// A minute's count, ready to be written.
#[derive(Debug)]
struct Aggregate {
    source: Source,
    start: i64,
    refusals: u32,
    counted: Counted,
}

impl Aggregate {
    fn detail(&self) -> String {
        let statuses: Vec<String> = self
            .counted
            .by_status
            .iter()
            .map(|(status, n)| format!("{status} ×{n}"))
            .collect();
        format!(
            "{} refusals from {} in the minute starting {}: the first {THRESHOLD} recorded one \
             by one, {} counted here ({}); first counted: {}",
            self.refusals,
            self.source,
            crate::time::rfc3339(self.start),
            self.counted.count,
            statuses.join(", "),
            self.counted.first
        )
    }

    async fn write(self, store: &Store) {
        let (request_id, target, detail) =
            (audit::request_id(), self.source.to_string(), self.detail());
        audit::record(
            store,
            Entry {
                request_id: &request_id,
                actor: &self.counted.actor,
                action: AGGREGATED,
                target: &target,
                outcome: audit::REFUSED,
                status: self.counted.status,
                detail: &detail,
            },
        )
        .await;
    }
}

/// Every source's current minute.
#[derive(Debug, Default)]
struct Windows {
    by_source: HashMap<Source, Window>,
    /// A task is writing counts as their minutes end.
    ticking: bool,
}

impl Windows {
    /// Takes a refusal from `source` at `now`: whether to record it on its own, and counts due
    /// to be written first (its source's previous minute, or counts flushed to stay bounded).
    fn refuse(&mut self, source: Source, now: i64, refusal: &Entry<'_>) -> (bool, Vec<Aggregate>) {
        let mut due = Vec::new();
        if self.by_source.len() >= MAX_SOURCES && !self.by_source.contains_key(&source) {
            due = self.over(now);
            if self.by_source.len() >= MAX_SOURCES {
                due.extend(self.drain());
            }
        }
        let window = self
            .by_source
            .entry(source)
            .or_insert_with(|| Window::open(now));
        if window.is_over(now) {
            let over = std::mem::replace(window, Window::open(now));
            due.extend(aggregate(source, over));
        }
        (window.take(refusal), due)
    }

    /// Forgets the minutes that are over; the counts among them, to be written.
    fn over(&mut self, now: i64) -> Vec<Aggregate> {
        let mut due = Vec::new();
        self.by_source.retain(|source, window| {
            if !window.is_over(now) {
                return true;
            }
            let over = std::mem::replace(window, Window::open(now));
            due.extend(aggregate(*source, over));
            false
        });
        due
    }

    /// Forgets every minute; the counts, to be written.
    fn drain(&mut self) -> Vec<Aggregate> {
        self.by_source
            .drain()
            .filter_map(|(source, window)| aggregate(source, window))
            .collect()
    }

    fn pending(&self) -> bool {
        self.by_source.values().any(|w| w.counted.is_some())
    }
}

fn aggregate(source: Source, window: Window) -> Option<Aggregate> {
    let counted = window.counted?;
    Some(Aggregate {
        source,
        start: window.start,
        refusals: window.refusals,
        counted,
    })
}

/// Records refusals, one by one within [`THRESHOLD`] a minute per source, counted past it.
pub struct Refusals {
    store: Store,
    windows: Arc<Mutex<Windows>>,
}

impl Refusals {
    pub fn new(store: Store) -> Refusals {
        Refusals {
            store,
            windows: Arc::default(),
        }
    }

    /// Records the refusal of a caller at `address` (None: not known), or counts it.
    pub async fn record(&self, address: Option<IpAddr>, refusal: Entry<'_>) {
        let (own, due) = {
            let mut windows = lock(&self.windows);
            let (own, due) = windows.refuse(Source::of(address), crate::time::now(), &refusal);
            if !own && !windows.ticking {
                windows.ticking = true;
                tokio::spawn(tick(Arc::downgrade(&self.windows), self.store.clone()));
            }
            (own, due)
        };
        for aggregate in due {
            aggregate.write(&self.store).await;
        }
        if own {
            audit::record(&self.store, refusal).await;
        }
    }

    /// Writes every count still open, as a stopping service must before its store closes
    /// (dropping only spawns the writes, which may not run before the process ends).
    pub async fn flush(&self) {
        let due = lock(&self.windows).drain();
        for aggregate in due {
            aggregate.write(&self.store).await;
        }
    }
}

impl Drop for Refusals {
    fn drop(&mut self) {
        let due = lock(&self.windows).drain();
        if due.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let store = self.store.clone();
                runtime.spawn(async move {
                    for aggregate in due {
                        aggregate.write(&store).await;
                    }
                });
            }
            Err(_) => {
                for aggregate in due {
                    tracing::error!(
                        detail = aggregate.detail(),
                        "refusals counted but not written to the audit trail: no runtime left"
                    );
                }
            }
        }
    }
}

/// Writes counts as their minutes end, while any is pending; ends with the recorder.
async fn tick(windows: Weak<Mutex<Windows>>, store: Store) {
    loop {
        tokio::time::sleep(TICK).await;
        let Some(strong) = windows.upgrade() else {
            return;
        };
        let (due, pending) = {
            let mut windows = lock(&strong);
            let due = windows.over(crate::time::now());
            let pending = windows.pending();
            windows.ticking = pending;
            (due, pending)
        };
        // Not held while writing: dropping the recorder must not wait for this task.
        drop(strong);
        for aggregate in due {
            aggregate.write(&store).await;
        }
        if !pending {
            return;
        }
    }
}

fn lock(windows: &Mutex<Windows>) -> MutexGuard<'_, Windows> {
    // A poisoned lock only means a request panicked mid-update; the counts are still usable.
    windows.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: i64) -> Entry<'static> {
        Entry {
            request_id: "0",
            actor: "anonymous",
            action: "GET /v1/pki/certificates",
            target: "/v1/pki/certificates",
            outcome: audit::REFUSED,
            status,
            detail: "no API key",
        }
    }

    const HERE: Source = Source::V4(Ipv4Addr::new(192, 0, 2, 7));

    #[test]
    fn past_the_threshold_refusals_are_counted_and_the_count_is_due_when_the_minute_ends() {
        let mut windows = Windows::default();
        let start = 1_790_000_000;
        let mut recorded = 0;
        for i in 0..THRESHOLD + 25 {
            let status = if i % 5 == 0 { 403 } else { 401 };
            let (own, due) = windows.refuse(HERE, start + 10, &refusal(status));
            assert!(due.is_empty());
            recorded += u32::from(own);
        }
        assert_eq!(recorded, THRESHOLD);
        assert!(windows.pending());
        assert!(
            windows.over(start + 59).is_empty(),
            "the minute is not over"
        );
        let due = windows.over(start + 10 + WINDOW_SECONDS);
        assert_eq!(due.len(), 1);
        let detail = due[0].detail();
        assert!(
            detail.starts_with(&format!(
                "45 refusals from 192.0.2.7 in the minute starting {}: the first 20 recorded \
                 one by one, 25 counted here (403 ×5, 401 ×20); first counted: GET",
                crate::time::rfc3339(start + 10)
            )),
            "{detail}"
        );
        assert!(!windows.pending());
    }

    #[test]
    fn the_next_refusal_after_the_minute_brings_the_count_and_starts_a_new_minute() {
        let mut windows = Windows::default();
        for _ in 0..THRESHOLD + 3 {
            windows.refuse(HERE, 100, &refusal(401));
        }
        let (own, due) = windows.refuse(HERE, 160, &refusal(401));
        assert!(own, "a new minute: recorded on its own again");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].counted.count, 3);
        // A quiet minute (within the threshold) leaves nothing to write.
        let (_, due) = windows.refuse(HERE, 220, &refusal(401));
        assert!(due.is_empty());
    }

    #[test]
    fn memory_stays_bounded_and_no_count_is_lost_to_it() {
        let mut windows = Windows::default();
        for _ in 0..THRESHOLD + 1 {
            windows.refuse(HERE, 0, &refusal(401));
        }
        let mut written = Vec::new();
        for i in 0..MAX_SOURCES as u32 + 10 {
            let source = Source::of(Some(IpAddr::from((i + 1).to_be_bytes())));
            written.extend(windows.refuse(source, 1, &refusal(401)).1);
            assert!(windows.by_source.len() <= MAX_SOURCES);
        }
        assert_eq!(
            written.len(),
            1,
            "the flooding source's count, written early"
        );
        assert_eq!(written[0].counted.count, 1);
    }

    #[test]
    fn an_ipv6_slash_64_is_one_source_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("v6");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
        assert_eq!(Source::of(Some(a)), Source::of(Some(b)));
        assert_ne!(Source::of(Some(a)), Source::of(Some(c)));
        assert_eq!(Source::of(Some(a)).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("mapped");
        assert_eq!(Source::of(Some(mapped)), HERE);
        assert_eq!(Source::of(None).to_string(), "an unknown address");
    }
}
