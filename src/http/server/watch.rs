//! What each connection is waiting for, and when it has waited too long.
//!
//! A connection is in one of four phases. Two of them wait for the client and are bounded:
//! `Head` (a request's headers, [`Timeouts::header_read`]) and `Idle` (kept alive between
//! requests, [`Timeouts::idle`]). `Responding` waits for the client to read on, and is bounded
//! by the idle timeout counted from the last byte that moved. `Handling` waits for the service,
//! which the request timeout already bounds, so the connection is left alone then.
//!
//! hyper's own `header_read_timeout` is not used: it starts when hyper begins waiting for a
//! request, so on a kept-alive connection it also cuts the wait between requests, and an idle
//! timeout longer than the header timeout could never take effect.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;

use crate::telemetry;

/// How long a connection may wait for its client.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    /// For a request's headers: from the connection's opening, or from the first byte of a
    /// request on a kept-alive connection.
    pub(super) header_read: Duration,
    /// Between requests, and for a client to read a response on.
    pub(super) idle: Duration,
}

/// Why the server closed a connection: the `reason` label of
/// [`telemetry::HTTP_CONNECTIONS_CLOSED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Closed {
    HeaderTimeout,
    IdleTimeout,
    /// All slots were taken and this connection had waited longest for its client.
    Evicted,
}

impl Closed {
    pub(super) fn label(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header_timeout",
            Closed::IdleTimeout => "idle_timeout",
            Closed::Evicted => "evicted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Handling,
    Responding,
    Idle,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// When the phase began.
    since: Instant,
    /// When a byte last moved either way.
    last_io: Instant,
    /// The accept loop asked for this connection's slot.
    evict: bool,
}

impl State {
    /// When this connection is due to be closed, and why; None while the service works.
    fn due(&self, timeouts: Timeouts) -> Option<(Instant, Closed)> {
        match self.phase {
            Phase::Head | Phase::Idle if self.evict => Some((self.since, Closed::Evicted)),
            Phase::Head => Some((self.since + timeouts.header_read, Closed::HeaderTimeout)),
            Phase::Idle => Some((self.since + timeouts.idle, Closed::IdleTimeout)),
            Phase::Responding => Some((self.last_io + timeouts.idle, Closed::IdleTimeout)),
            Phase::Handling => None,
        }
    }

    /// Since when this connection has been waiting for its client to start or finish a
    /// request (None when it is busy, or already asked to go).
    fn waiting_since(&self) -> Option<Instant> {
        match self.phase {
            Phase::Head | Phase::Idle if !self.evict => Some(self.since),
            _ => None,
        }
    }

    fn enter(&mut self, phase: Phase, now: Instant) {
        self.phase = phase;
        self.since = now;
        self.last_io = now;
        // A request that started meanwhile keeps its connection; the accept loop asks again.
        self.evict = false;
    }
}

/// One connection's phase, told by its IO (bytes moved), its service (a request began, its
/// response began, its response ended) and the accept loop (make room).
#[derive(Debug)]
pub(super) struct Tracker {
    state: Mutex<State>,
    changed: Notify,
}

impl Tracker {
    fn new() -> Tracker {
        let now = Instant::now();
        Tracker {
            state: Mutex::new(State {
                phase: Phase::Head,
                since: now,
                last_io: now,
                evict: false,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the plain fields half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes arrived: on an idle connection, the next request has begun.
    pub(super) fn read(&self) {
        let now = Instant::now();
        let mut state = self.state();
        if state.phase == Phase::Idle {
            state.enter(Phase::Head, now);
            drop(state);
            self.changed.notify_one();
        } else {
            state.last_io = now;
        }
    }

    /// Bytes left.
    pub(super) fn wrote(&self) {
        self.state().last_io = Instant::now();
    }

    /// A request's headers are in and the service has it.
    pub(super) fn handling(&self) {
        self.set(Phase::Handling);
    }

    /// The service answered; the response is being written.
    pub(super) fn responding(&self) {
        self.set(Phase::Responding);
    }

    /// The response is written; the connection waits for the next request.
    pub(super) fn idle(&self) {
        self.set(Phase::Idle);
    }

    fn set(&self, phase: Phase) {
        self.state().enter(phase, Instant::now());
        self.changed.notify_one();
    }

    /// Asks the connection to close if it is still waiting for its client.
    fn evict(&self) {
        self.state().evict = true;
        self.changed.notify_one();
    }

    /// Resolves when the connection has waited too long (or was asked to make room); the
    /// caller then closes it.
    pub(super) async fn expired(&self, timeouts: Timeouts) -> Closed {
        loop {
            let due = self.state().due(timeouts);
            match due {
                Some((at, why)) if at <= Instant::now() => return why,
                // Progress moves the deadline without a notification: the sleep ends, and the
                // deadline is read again.
                Some((at, _)) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = self.changed.notified() => {}
                },
                None => self.changed.notified().await,
            }
        }
    }
}

/// The connections being served.
#[derive(Debug, Default)]
pub(super) struct Registry {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Tracker>>>,
}

/// A connection's place in the [`Registry`] and its slot, given up when dropped: the place
/// first, so the connections counted never exceed the slots.
pub(super) struct Registered {
    registry: Arc<Registry>,
    id: u64,
    pub(super) tracker: Arc<Tracker>,
    _slot: OwnedSemaphorePermit,
}

impl Registry {
    fn open(&self) -> MutexGuard<'_, HashMap<u64, Arc<Tracker>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection in its slot, waiting for its first request's headers.
    pub(super) fn register(self: &Arc<Self>, slot: OwnedSemaphorePermit) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Tracker::new());
        self.open().insert(id, Arc::clone(&tracker));
        metrics::gauge!(telemetry::HTTP_CONNECTIONS).increment(1.0);
        Registered {
            registry: Arc::clone(self),
            id,
            tracker,
            _slot: slot,
        }
    }

    /// Asks the connection that has waited longest for its client to close; false when every
    /// connection is busy with a request.
    pub(super) fn evict_longest_waiting(&self) -> bool {
        let open = self.open();
        let longest = open
            .values()
            .filter_map(|t| Some((t.state().waiting_since()?, t)))
            .min_by_key(|(since, _)| *since);
        match longest {
            Some((_, tracker)) => {
                tracker.evict();
                true
            }
            None => false,
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.open().remove(&self.id);
        metrics::gauge!(telemetry::HTTP_CONNECTIONS).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(60),
    };

    fn due(tracker: &Tracker) -> Option<(Instant, Closed)> {
        tracker.state().due(T)
    }

    #[test]
    fn each_phase_has_its_deadline() {
        let t = Tracker::new();
        let opened = t.state().since;
        assert_eq!(
            due(&t),
            Some((opened + T.header_read, Closed::HeaderTimeout))
        );
        t.handling();
        assert_eq!(due(&t), None, "the request timeout bounds the service");
        t.responding();
        let (at, why) = due(&t).expect("responding is bounded");
        assert_eq!((at - t.state().last_io, why), (T.idle, Closed::IdleTimeout));
        t.idle();
        let idle_since = t.state().since;
        assert_eq!(due(&t), Some((idle_since + T.idle, Closed::IdleTimeout)));
        // The first byte of the next request starts the header clock.
        t.read();
        assert_eq!(t.state().phase, Phase::Head);
        assert_eq!(due(&t).map(|(_, why)| why), Some(Closed::HeaderTimeout));
    }

    #[test]
    fn eviction_takes_the_longest_waiting_and_spares_busy_connections() {
        let registry = Arc::new(Registry::default());
        let slots = Arc::new(tokio::sync::Semaphore::new(3));
        let slot = || Arc::clone(&slots).try_acquire_owned().expect("a slot");
        let busy = registry.register(slot());
        busy.tracker.handling();
        assert!(
            !registry.evict_longest_waiting(),
            "a busy connection is never cut"
        );
        let oldest = registry.register(slot());
        std::thread::sleep(Duration::from_millis(5));
        let newer = registry.register(slot());
        assert!(registry.evict_longest_waiting());
        assert_eq!(due(&oldest.tracker).map(|(_, w)| w), Some(Closed::Evicted));
        assert_eq!(
            due(&newer.tracker).map(|(_, w)| w),
            Some(Closed::HeaderTimeout)
        );
        // Asked already: the next eviction takes the next one.
        assert!(registry.evict_longest_waiting());
        assert_eq!(due(&newer.tracker).map(|(_, w)| w), Some(Closed::Evicted));
        // A request that begins before the connection goes keeps it.
        newer.tracker.handling();
        assert_eq!(due(&newer.tracker), None);
        drop((busy, oldest, newer));
        assert!(registry.open().is_empty());
        assert_eq!(slots.available_permits(), 3, "the slots are given back");
    }
}
