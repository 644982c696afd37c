//! A fixed-window rate limiter, per API token and per client address, with the numbers Okta
//! reports in `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset`.
//! Windows are one minute long, as Okta's are. Limits are per node.

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
    calls: AtomicU64,
}

const WINDOW_SECS: u64 = 60;

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            windows: DashMap::new(),
            calls: AtomicU64::new(0),
        }
    }

    /// Counts one request against its address and, if it carries one, its credential.
    /// The reported numbers are the credential's when there is one.
    pub fn check(
        &self,
        credential: Option<&str>,
        address: Option<&str>,
        now_secs: u64,
    ) -> Decision {
        self.sweep(now_secs);
        let by_address =
            address.map(|a| self.hit(&format!("a:{a}"), self.limits.per_address, now_secs));
        let by_token =
            credential.map(|t| self.hit(&format!("t:{t}"), self.limits.per_token, now_secs));
        let reported = by_token.or(by_address).unwrap_or(Decision {
            allowed: true,
            limit: self.limits.per_address,
            remaining: self.limits.per_address,
            reset: now_secs - now_secs % WINDOW_SECS + WINDOW_SECS,
        });
        let allowed = by_address.is_none_or(|d| d.allowed) && by_token.is_none_or(|d| d.allowed);
        Decision {
            allowed,
            ..reported
        }
    }

    fn hit(&self, key: &str, limit: u32, now_secs: u64) -> Decision {
        let window_start = now_secs - now_secs % WINDOW_SECS;
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

    /// Drops finished windows now and then, so memory stays bounded by the active keys.
    fn sweep(&self, now_secs: u64) {
        if self
            .calls
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(10_000)
        {
            let current = now_secs - now_secs % WINDOW_SECS;
            self.windows.retain(|_, (start, _)| *start >= current);
        }
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
}
