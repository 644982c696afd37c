//! A fixed-window rate limiter, per API token and per client address, with the numbers Okta
//! reports in `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset`.
//! Windows are one minute long, as Okta's are. Limits are per node.
//!
//! Memory is bounded: the windows of past minutes are dropped once per minute, and the map never
//! holds more than [`MAX_KEYS`] keys (when it is full of live windows, the lightest users are
//! forgotten first). A request the address limit refuses creates no credential entry.

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per minute for one credential (token or session).
    pub per_token: u32,
    /// Requests per minute from one client address.
    pub per_address: u32,
}

/// What a request learned: whether it may go on, and the numbers for the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds when the window resets.
    pub reset: u64,
}

pub struct RateLimiter {
    limits: RateLimits,
    windows: DashMap<String, (u64, u32)>,
    max_keys: usize,
    /// Start of the window whose predecessors were last swept away.
    swept_window: AtomicU64,
}

const WINDOW_SECS: u64 = 60;
/// The most keys (addresses and credentials) the limiter remembers on one node.
pub const MAX_KEYS: usize = 100_000;

fn window_start(now_secs: u64) -> u64 {
    now_secs - now_secs % WINDOW_SECS
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter::with_max_keys(limits, MAX_KEYS)
    }

    /// A limiter that remembers at most `max_keys` keys (at least 1).
    pub fn with_max_keys(limits: RateLimits, max_keys: usize) -> RateLimiter {
        RateLimiter {
            limits,
            windows: DashMap::new(),
            max_keys: max_keys.max(1),
            swept_window: AtomicU64::new(0),
        }
    }

    /// How many keys (addresses and credentials) the limiter holds now.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Counts one request against its address and, if the address may go on and the request
    /// carries one, its credential. `credential` should already be normalised (see
    /// `credential_key` in the crate root), so that one token is one key. The reported numbers
    /// are the credential's when it was counted, else the address's.
    pub fn check(
        &self,
        credential: Option<&str>,
        address: Option<&str>,
        now_secs: u64,
    ) -> Decision {
        self.sweep(now_secs);
        let by_address =
            address.map(|a| self.hit(&format!("a:{a}"), self.limits.per_address, now_secs));
        if let Some(refused) = by_address.filter(|d| !d.allowed) {
            return refused;
        }
        let by_token =
            credential.map(|t| self.hit(&format!("t:{t}"), self.limits.per_token, now_secs));
        by_token.or(by_address).unwrap_or(Decision {
            allowed: true,
            limit: self.limits.per_address,
            remaining: self.limits.per_address,
            reset: window_start(now_secs) + WINDOW_SECS,
        })
    }

    fn hit(&self, key: &str, limit: u32, now_secs: u64) -> Decision {
        let window_start = window_start(now_secs);
        if !self.windows.contains_key(key) {
            self.make_room(now_secs);
        }
        let mut entry = self
            .windows
            .entry(key.to_string())
            .or_insert((window_start, 0));
        if entry.0 != window_start {
            *entry = (window_start, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(entry.1),
            reset: window_start + WINDOW_SECS,
        }
    }

    /// Drops the windows of past minutes, once per minute.
    fn sweep(&self, now_secs: u64) {
        let current = window_start(now_secs);
        let last = self.swept_window.load(Ordering::Relaxed);
        if last < current
            && self
                .swept_window
                .compare_exchange(last, current, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.windows.retain(|_, (start, _)| *start >= current);
        }
    }

    /// Before a new key goes in: when the map is full, drop past windows, then (all being live)
    /// the lightest users until a quarter of the room is free again, so this runs rarely.
    fn make_room(&self, now_secs: u64) {
        if self.windows.len() < self.max_keys {
            return;
        }
        let current = window_start(now_secs);
        self.windows.retain(|_, (start, _)| *start >= current);
        let low_water = self.max_keys - self.max_keys / 4 - 1;
        if self.windows.len() <= low_water {
            return;
        }
        let mut counts: Vec<u32> = self.windows.iter().map(|e| e.value().1).collect();
        let excess = counts.len().saturating_sub(low_water);
        if excess == 0 {
            return;
        }
        let (_, threshold, _) = counts.select_nth_unstable(excess - 1);
        let threshold = *threshold;
        self.windows.retain(|_, (_, n)| *n > threshold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_then_resets() {
        let rl = RateLimiter::new(RateLimits {
            per_token: 3,
            per_address: 100,
        });
        let t = 1_000_020;
        let d1 = rl.check(Some("tok"), Some("1.2.3.4"), t);
        assert!(d1.allowed);
        assert_eq!((d1.limit, d1.remaining, d1.reset), (3, 2, 1_000_080));
        assert!(rl.check(Some("tok"), Some("1.2.3.4"), t).allowed);
        assert!(rl.check(Some("tok"), Some("1.2.3.4"), t).allowed);
        let refused = rl.check(Some("tok"), Some("1.2.3.4"), t);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!(
            rl.check(Some("other"), Some("1.2.3.4"), t).allowed,
            "limits are per token"
        );
        assert!(
            rl.check(Some("tok"), Some("1.2.3.4"), t + 60).allowed,
            "next window"
        );
    }

    #[test]
    fn address_limit_applies_without_token() {
        let rl = RateLimiter::new(RateLimits {
            per_token: 100,
            per_address: 1,
        });
        assert!(rl.check(None, Some("9.9.9.9"), 0).allowed);
        assert!(!rl.check(None, Some("9.9.9.9"), 0).allowed);
        assert!(
            !rl.check(Some("tok"), Some("9.9.9.9"), 0).allowed,
            "address limit still applies"
        );
    }

    #[test]
    fn a_refused_address_creates_no_credential_entry() {
        let rl = RateLimiter::new(RateLimits {
            per_token: 100,
            per_address: 2,
        });
        assert!(rl.check(Some("t1"), Some("9.9.9.9"), 0).allowed);
        assert!(rl.check(Some("t1"), Some("9.9.9.9"), 0).allowed);
        assert_eq!(rl.len(), 2);
        for i in 0..50 {
            let d = rl.check(Some(&format!("junk{i}")), Some("9.9.9.9"), 0);
            assert!(!d.allowed);
            assert_eq!((d.limit, d.remaining), (2, 0));
        }
        assert_eq!(rl.len(), 2, "only the address and t1");
    }

    #[test]
    fn past_windows_are_swept_and_the_map_is_capped() {
        let limits = RateLimits {
            per_token: 100,
            per_address: 1_000_000,
        };
        let rl = RateLimiter::with_max_keys(limits, 100);
        for i in 0..50 {
            rl.check(Some(&format!("old{i}")), None, 0);
        }
        assert_eq!(rl.len(), 50);
        rl.check(Some("new"), None, 60);
        assert_eq!(rl.len(), 1, "the previous minute's windows are gone");
        // A heavy user survives a flood of one-shot keys; the map never exceeds its cap.
        for _ in 0..10 {
            rl.check(Some("heavy"), None, 60);
        }
        for i in 0..1_000 {
            rl.check(Some(&format!("flood{i}")), None, 60);
            assert!(rl.len() <= 100);
        }
        let d = rl.check(Some("heavy"), None, 60);
        assert_eq!(d.remaining, 100 - 11, "the heavy user's count was kept");
    }
}
