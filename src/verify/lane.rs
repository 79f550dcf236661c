//! Where verification's CPU work runs: tokio's blocking pool, a few units per core at a time,
//! units admitted in arrival order.
//!
//! On the runtime's own threads a request with 64 signers would hold a worker for its whole
//! run, and health checks and other requests queued behind it (issue 12: a legitimate
//! verification waited 25 s). Units are small (parsing, or one signer's signature and path
//! search) and admission is first come, first served, so a short request waits behind at most
//! a unit of each request in flight, never behind whole requests. More units than cores run at
//! once so that a unit of a millisecond is not held up by one that hashes 12 MB: the kernel
//! shares the cores among them. Measured with `benches/hostile.rs`: with one unit per core a
//! legitimate verification's p99 under hostile load was ~120 ms, with four ~33 ms.

use tokio::sync::Semaphore;

/// Units in flight per core.
const LANE_PER_CORE: usize = 4;

pub(super) struct Lane {
    turns: Semaphore,
}

impl Lane {
    pub(super) fn new() -> Lane {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Lane {
            turns: Semaphore::new(LANE_PER_CORE * cores),
        }
    }

    /// Runs `work` on the blocking pool in its turn. None only if the runtime is shutting down
    /// (the work was never run or was abandoned). A panic in `work` is a bug and stays one: it
    /// is resumed here, as if the work had run inline.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _turn = self.turns.acquire().await.ok()?;
        match tokio::task::spawn_blocking(work).await {
            Ok(done) => Some(done),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => None,
        }
    }
}
