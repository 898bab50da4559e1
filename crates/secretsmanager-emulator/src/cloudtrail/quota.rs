//! LookupEvents' quota. API reference, LookupEvents: "The rate of lookup
//! requests is limited to two per second, per account, per Region. If this
//! limit is exceeded, a throttling error occurs."
//!
//! A token bucket per endpoint (one account in one region) holding at most
//! one second of calls, refilled at the rate: a caller that keeps to the
//! rate is never refused, a burst above it is.

use std::time::Instant;

#[derive(Debug)]
pub(crate) struct Quota {
    per_sec: f64,
    tokens: f64,
    at: Instant,
}

impl Quota {
    /// `per_sec` ≤ 0 (or not finite): no quota.
    pub(crate) fn new(per_sec: f64) -> Quota {
        let per_sec = if per_sec.is_finite() {
            per_sec.max(0.0)
        } else {
            0.0
        };
        Quota {
            per_sec,
            tokens: per_sec,
            at: Instant::now(),
        }
    }

    pub(crate) fn per_sec(&self) -> f64 {
        self.per_sec
    }

    /// Takes one call's slot at `now`; false when the quota is spent.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        if self.per_sec <= 0.0 {
            return true;
        }
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * self.per_sec;
        self.tokens = (self.tokens + refill).min(self.per_sec.max(1.0));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn two_a_second_and_no_more() {
        let t0 = Instant::now();
        let mut q = Quota::new(2.0);
        assert!(q.take(t0) && q.take(t0), "a second's worth at once");
        assert!(!q.take(t0), "the third in the same instant is refused");
        assert!(!q.take(t0 + Duration::from_millis(400)));
        assert!(q.take(t0 + Duration::from_millis(500)));
        // Paced at the rate: never refused.
        let mut q = Quota::new(2.0);
        assert!((0..20).all(|i| q.take(t0 + Duration::from_millis(500 * i))));
        let mut none = Quota::new(0.0);
        assert!((0..1000).all(|_| none.take(t0)));
    }
}
