//! Layer 3 of the guard: the rate limit, which runs before anything touches the database.
//!
//! A request is charged to one bucket: its presented API key's (known by the key's hash, so no
//! secret is kept) or, when it presents none, its address's. That alone would let made-up keys
//! through, each bringing a fresh bucket and each costing a database lookup and an audit row.
//! So every address also has an allowance of failed authentications, and a key not yet known
//! to be good is let through only while its address has some left. Keys that authenticated are
//! remembered (by hash) and pass without it, so a flood of made-up keys from a shared address
//! (a NAT, a proxy) does not hold back the callers already working through it; a key that is
//! new there waits, like the flood, for the allowance to refill.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use zeroize::Zeroizing;

use crate::security::RateLimiter;

/// Most keys remembered as good; past it the memory starts afresh (a good key is remembered
/// again at its next request).
const MAX_VOUCHED: usize = 10_000;

/// An `Authorization` header as presented: the bearer token (empty when the header is not
/// `Bearer …`, the scheme in any case as RFC 7235 has it, or not text, which authentication
/// refuses as malformed) and its SHA-256. A request with two such headers is refused before
/// this is consulted (see [`super::Call`]).
pub(super) struct Presented {
    token: Zeroizing<String>,
    hash: [u8; 32],
}

impl Presented {
    /// None when the request has no `Authorization` header: an anonymous call.
    pub(super) fn from_headers(headers: &HeaderMap) -> Option<Presented> {
        let value = headers.get(header::AUTHORIZATION)?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
            .map(|(_, token)| token.trim())
            .unwrap_or_default();
        Some(Presented {
            hash: crate::crypto::sha256(token.as_bytes()),
            token: Zeroizing::new(token.to_owned()),
        })
    }

    pub(super) fn token(&self) -> &str {
        &self.token
    }
}

pub(super) struct Throttle {
    limiter: RateLimiter,
    vouched: Mutex<HashSet<[u8; 32]>>,
}

impl Throttle {
    /// `per_minute` requests a minute per bucket, and as many failed authentications per
    /// address; 0 turns the limit off.
    pub(super) fn new(per_minute: u32) -> Throttle {
        Throttle {
            limiter: RateLimiter::new(per_minute),
            vouched: Mutex::default(),
        }
    }

    /// Takes one request from the caller's bucket; Err(wait) to refuse it.
    pub(super) fn admit(
        &self,
        presented: Option<&Presented>,
        address: Option<IpAddr>,
    ) -> Result<(), Duration> {
        let Some(presented) = presented else {
            return self.limiter.check(&bucket("address", address));
        };
        if !self.vouched().contains(&presented.hash) {
            // Before the key's own bucket is made: made-up keys cannot fill the limiter's
            // memory (which, full, starts afresh and would forget this allowance too).
            self.limiter.room(&bucket("failed", address))?;
        }
        self.limiter
            .check(&format!("key:{}", hex::encode(presented.hash)))
    }

    /// The key authenticated: it no longer needs its address's allowance.
    pub(super) fn vouch(&self, presented: &Presented) {
        let mut vouched = self.vouched();
        if vouched.len() >= MAX_VOUCHED && !vouched.contains(&presented.hash) {
            vouched.clear();
        }
        vouched.insert(presented.hash);
    }

    /// The key was refused (malformed, unknown, revoked): one failure against its address.
    pub(super) fn failed(&self, presented: &Presented, address: Option<IpAddr>) {
        self.vouched().remove(&presented.hash);
        // Already looked up and about to be answered: running out only affects what follows.
        let _ = self.limiter.check(&bucket("failed", address));
    }

    fn vouched(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        // A poisoned lock only means another request panicked mid-update; the set is still
        // usable (at worst a key is asked to authenticate once more).
        self.vouched.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn bucket(kind: &str, address: Option<IpAddr>) -> String {
    match address {
        Some(ip) => format!("{kind}:{ip}"),
        None => format!("{kind}:unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presented(value: &str) -> Presented {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().expect("header"));
        Presented::from_headers(&headers).expect("presented")
    }

    #[test]
    fn the_header_gives_the_bearer_token_or_nothing_usable() {
        assert!(Presented::from_headers(&HeaderMap::new()).is_none());
        assert_eq!(presented("Bearer  qlt_x ").token(), "qlt_x");
        assert_eq!(presented("Basic dXNlcjpwYXNz").token(), "");
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for scheme in ["bearer", "BEARER", "bEaReR"] {
            assert_eq!(presented(&format!("{scheme} qlt_x")).token(), "qlt_x");
        }
        assert_eq!(presented("Bearerqlt_x").token(), "");
        assert_eq!(presented("Bearer2 qlt_x").token(), "");
    }

    #[test]
    fn only_keys_known_good_pass_once_an_address_has_used_its_failures() {
        let throttle = Throttle::new(2);
        let here = Some(IpAddr::from([192, 0, 2, 1]));
        let elsewhere = Some(IpAddr::from([192, 0, 2, 2]));
        let (good, bad) = (presented("Bearer good"), presented("Bearer bad"));
        assert!(throttle.admit(Some(&good), here).is_ok());
        throttle.vouch(&good);
        for _ in 0..2 {
            assert!(throttle.admit(Some(&bad), here).is_ok());
            throttle.failed(&bad, here);
        }
        assert!(throttle.admit(Some(&bad), here).is_err());
        assert!(throttle
            .admit(Some(&presented("Bearer new")), here)
            .is_err());
        assert!(throttle
            .admit(Some(&presented("Bearer other")), elsewhere)
            .is_ok());
        assert!(
            throttle.admit(None, here).is_ok(),
            "anonymous calls: their own bucket"
        );
        assert!(
            throttle.admit(Some(&good), here).is_ok(),
            "a key known good passes"
        );
        // Refused later (revoked): it is no longer known good.
        throttle.failed(&good, here);
        assert!(throttle.admit(Some(&good), here).is_err());
        let open = Throttle::new(0);
        for _ in 0..5 {
            assert!(open.admit(Some(&bad), here).is_ok(), "no limit at all");
            open.failed(&bad, here);
        }
    }
}
