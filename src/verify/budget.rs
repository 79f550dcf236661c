//! What one request may cost: a bounded number of public-key operations, and an end when its
//! caller stops waiting.
//!
//! The caps on signers and certificates bound the input, not the work: within them a CMS can
//! make every SignerInfo match dozens of certificates and every path search check dozens of
//! candidate issuers, some 8,000 signature checks (seconds of CPU with GOST or RSA-8192 keys,
//! `hostile::load::the_costliest_cms_within_the_caps_is_bounded_per_request`). A genuine
//! request needs one check per signer plus a short path (cached after the first), so an
//! allowance of a few per signer never stands in its way. And when the HTTP request times out
//! and its future is dropped, the work on the blocking pool stops at its next operation instead
//! of running on for nobody.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::cms::MAX_SIGNERS;

/// Public-key operations (signature, certificate and CRL checks) one request may use.
pub const MAX_KEY_OPERATIONS: usize = 4 * MAX_SIGNERS;
/// Bytes the signature checks of one request may hash. A signature without signed attributes
/// covers the whole content, so 64 signers of a 12 MB content would hash 768 MB; two signers
/// of the largest document a request can carry fit.
pub const MAX_HASHED_BYTES: usize = 32 * 1024 * 1024;

/// Why no more work is done for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spent {
    /// The request used up [`MAX_KEY_OPERATIONS`].
    Operations,
    /// The request used up [`MAX_HASHED_BYTES`].
    Hashing,
    /// Its caller stopped waiting (the HTTP request's time ran out).
    Cancelled,
}

impl std::fmt::Display for Spent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spent::Operations => write!(
                f,
                "the request's allowance of {MAX_KEY_OPERATIONS} public-key operations is spent"
            ),
            Spent::Hashing => write!(
                f,
                "the request's allowance of {} MiB of signed data to hash is spent",
                MAX_HASHED_BYTES >> 20
            ),
            Spent::Cancelled => write!(f, "the request was abandoned by its caller"),
        }
    }
}

/// One request's allowance, shared by the work it runs on the blocking pool.
#[derive(Debug)]
pub(super) struct Budget {
    left: AtomicUsize,
    hashing_left: AtomicUsize,
    cancelled: Arc<AtomicBool>,
    ran_out: AtomicBool,
}

impl Budget {
    pub(super) fn new() -> Budget {
        Budget::of(MAX_KEY_OPERATIONS, MAX_HASHED_BYTES)
    }

    /// An allowance of `operations` over `hashed` bytes (a trial run's, say).
    pub(super) fn of(operations: usize, hashed: usize) -> Budget {
        Budget {
            left: AtomicUsize::new(operations),
            hashing_left: AtomicUsize::new(hashed),
            cancelled: Arc::new(AtomicBool::new(false)),
            ran_out: AtomicBool::new(false),
        }
    }

    /// Whether a spend was ever refused: the work it paid for did not finish.
    pub(super) fn ran_out(&self) -> bool {
        self.ran_out.load(Ordering::Relaxed)
    }

    /// Takes one operation over `hashed` bytes from the allowance, or says why there is none.
    pub(super) fn spend(&self, hashed: usize) -> Result<(), Spent> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(Spent::Cancelled);
        }
        let spent = take(&self.left, 1)
            .map_err(|()| Spent::Operations)
            .and_then(|()| take(&self.hashing_left, hashed).map_err(|()| Spent::Hashing));
        if spent.is_err() {
            self.ran_out.store(true, Ordering::Relaxed);
        }
        spent
    }

    /// A guard that cancels the request's remaining work when it is dropped, as the request's
    /// future is when its caller goes away or its time runs out.
    pub(super) fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Arc::clone(&self.cancelled))
    }
}

fn take(left: &AtomicUsize, amount: usize) -> Result<(), ()> {
    left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
        n.checked_sub(amount)
    })
    .map(drop)
    .map_err(drop)
}

pub(super) struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_runs_out_and_stays_out() {
        let budget = Budget::new();
        for _ in 0..MAX_KEY_OPERATIONS {
            assert_eq!(budget.spend(0), Ok(()));
        }
        assert_eq!(budget.spend(0), Err(Spent::Operations));
        assert_eq!(budget.spend(0), Err(Spent::Operations));
    }

    #[test]
    fn hashing_has_its_own_allowance() {
        let budget = Budget::new();
        assert_eq!(budget.spend(MAX_HASHED_BYTES - 10), Ok(()));
        assert_eq!(budget.spend(10), Ok(()));
        assert_eq!(budget.spend(1), Err(Spent::Hashing));
    }

    #[test]
    fn dropping_the_guard_cancels_what_is_left() {
        let budget = Budget::new();
        let guard = budget.cancel_on_drop();
        assert_eq!(budget.spend(0), Ok(()));
        drop(guard);
        assert_eq!(budget.spend(0), Err(Spent::Cancelled));
    }
}
