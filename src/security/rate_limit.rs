//! A token bucket per caller: `per_minute` requests a minute, with bursts up to the same number.
//! A refused request learns how long to wait (Retry-After). Memory is bounded: at most
//! `MAX_CALLERS` buckets, and full (idle) buckets are dropped first when that is reached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_CALLERS: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `per_minute` = 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request's token for `caller`; Err(wait) when none is left.
    pub fn check(&self, caller: &str) -> Result<(), Duration> {
        self.check_at(caller, Instant::now())
    }

    /// Whether `caller` has a token left, without taking it (nor making a bucket for a caller
    /// never seen, so asking costs no memory); Err(wait) when none is left.
    pub fn room(&self, caller: &str) -> Result<(), Duration> {
        self.room_at(caller, Instant::now())
    }

    fn check_at(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = self.capacity();
        let mut buckets = self.buckets();
        if buckets.len() >= MAX_CALLERS && !buckets.contains_key(caller) {
            buckets.retain(|_, b| self.refilled(b, now) < capacity);
            if buckets.len() >= MAX_CALLERS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        bucket.tokens = self.refilled(bucket, now);
        bucket.updated = now;
        let left = self.left(bucket.tokens);
        if left.is_ok() {
            bucket.tokens -= 1.0;
        }
        left
    }

    fn room_at(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        match self.buckets().get(caller) {
            Some(bucket) => self.left(self.refilled(bucket, now)),
            None => Ok(()),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    fn per_second(&self) -> f64 {
        self.capacity() / 60.0
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        // A poisoned lock only means another request panicked mid-update: the map is still
        // usable, so keep limiting rather than failing open or closed.
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bucket's tokens at `now`, refilled since its last use up to the capacity.
    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        (bucket.tokens + elapsed * self.per_second()).min(self.capacity())
    }

    /// Ok when a whole token is left, else how long until one is.
    fn left(&self, tokens: f64) -> Result<(), Duration> {
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_the_wait_then_refilled() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(limiter.check_at("a", start).is_ok());
        }
        let wait = limiter.check_at("a", start).expect_err("61st refused");
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        // Another caller has its own bucket.
        assert!(limiter.check_at("b", start).is_ok());
        // One token a second comes back.
        assert!(limiter
            .check_at("a", start + Duration::from_millis(1100))
            .is_ok());
        assert!(limiter
            .check_at("a", start + Duration::from_millis(1100))
            .is_err());
        assert!(RateLimiter::new(0).check("x").is_ok());
    }

    #[test]
    fn room_looks_without_taking_and_remembers_no_stranger() {
        let limiter = RateLimiter::new(2);
        let start = Instant::now();
        assert!(limiter.room_at("a", start).is_ok());
        assert!(limiter.buckets().is_empty(), "asking made no bucket");
        assert!(limiter.check_at("a", start).is_ok());
        assert!(limiter.room_at("a", start).is_ok());
        assert!(limiter.room_at("a", start).is_ok(), "looking took nothing");
        assert!(limiter.check_at("a", start).is_ok());
        let wait = limiter.room_at("a", start).expect_err("none left");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(limiter
            .room_at("a", start + Duration::from_secs(30))
            .is_ok());
        assert!(RateLimiter::new(0).room("x").is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_many_callers() {
        let limiter = RateLimiter::new(10);
        let now = Instant::now();
        for i in 0..(MAX_CALLERS + 500) {
            let _ = limiter.check_at(&format!("caller-{i}"), now);
        }
        let len = limiter.buckets().len();
        assert!(len <= MAX_CALLERS, "{len}");
    }
}
