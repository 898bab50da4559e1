//! Login throttling, per client address and per user name: after `max`
//! failed attempts within `window`, further attempts from that address (or
//! for that name) are refused until the oldest failure leaves the window.
//! In memory: a restart forgets, which only ever favours a locked-out user.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_per_name: usize,
    pub max_per_client: usize,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_per_name: 5,
            max_per_client: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Recent events per key (failed sign-ins, actions started), each kept for
/// a window.
#[derive(Debug, Default)]
pub(crate) struct Failures(HashMap<String, VecDeque<Instant>>);

impl Failures {
    /// Drops failures older than `window`; the time until the key may try
    /// again, when it already has `max`.
    pub(crate) fn wait(
        &mut self,
        key: &str,
        max: usize,
        window: Duration,
        now: Instant,
    ) -> Option<Duration> {
        let q = self.0.get_mut(key)?;
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.is_empty() {
            self.0.remove(key);
            return None;
        }
        (q.len() >= max).then(|| window.saturating_sub(now.duration_since(q[0])))
    }

    pub(crate) fn add(&mut self, key: &str, max: usize, now: Instant) {
        let q = self.0.entry(key.to_string()).or_default();
        q.push_back(now);
        while q.len() > max {
            q.pop_front();
        }
    }
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    limits: Limits,
    state: Mutex<(Failures, Failures)>,
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> LoginLimiter {
        LoginLimiter {
            limits,
            state: Mutex::default(),
        }
    }

    /// How long `client` or `name` must wait before trying again; `None`
    /// when it may try now. Names compare case-insensitively.
    pub fn wait(&self, client: &str, name: &str, now: Instant) -> Option<Duration> {
        let l = self.limits;
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let by_client = s.0.wait(client, l.max_per_client, l.window, now);
        let by_name =
            s.1.wait(&name.to_lowercase(), l.max_per_name, l.window, now);
        by_client.max(by_name)
    }

    pub fn failed(&self, client: &str, name: &str, now: Instant) {
        let l = self.limits;
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0.add(client, l.max_per_client, now);
        s.1.add(&name.to_lowercase(), l.max_per_name, now);
    }

    /// A successful login clears the name's failures (not the address's:
    /// one good password must not reset a guessing run over other names).
    pub fn succeeded(&self, name: &str) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.1 .0.remove(&name.to_lowercase());
    }
}

/// "try again in 42 s" / "in 3 min".
pub fn wait_text(d: Duration) -> String {
    crate::domain::time::wait_text(d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(Limits {
            max_per_name: 3,
            max_per_client: 5,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn a_name_is_locked_after_max_failures_until_the_window_passes() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.wait("10.0.0.1", "alice", t0), None, "attempt {i}");
            l.failed("10.0.0.1", "alice", t0 + Duration::from_secs(i));
        }
        // Locked for this name from any address, case-insensitively.
        let w = l
            .wait("10.0.0.9", "ALICE", t0 + Duration::from_secs(10))
            .unwrap();
        assert_eq!(w, Duration::from_secs(50));
        assert_eq!(
            l.wait("10.0.0.9", "bob", t0 + Duration::from_secs(10)),
            None
        );
        // The oldest failure leaves the window at t0+60.
        assert!(l
            .wait("10.0.0.1", "alice", t0 + Duration::from_secs(59))
            .is_some());
        assert_eq!(
            l.wait("10.0.0.1", "alice", t0 + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn an_address_is_locked_across_names() {
        let l = limiter();
        let t0 = Instant::now();
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            assert_eq!(l.wait("10.0.0.1", name, t0), None, "attempt {i}");
            l.failed("10.0.0.1", name, t0);
        }
        assert!(l.wait("10.0.0.1", "f", t0).is_some());
        assert_eq!(l.wait("10.0.0.2", "f", t0), None);
    }

    #[test]
    fn success_clears_the_name_only() {
        let l = limiter();
        let t0 = Instant::now();
        for _ in 0..3 {
            l.failed("10.0.0.1", "alice", t0);
        }
        l.succeeded("Alice");
        assert_eq!(l.wait("10.0.0.2", "alice", t0), None);
        assert_eq!(wait_text(Duration::from_secs(42)), "42 s");
        assert_eq!(wait_text(Duration::from_millis(10)), "1 s");
        assert_eq!(wait_text(Duration::from_secs(600)), "10 min");
    }
}
