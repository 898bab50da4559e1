//! Login throttling, decided atomically for each attempt before its
//! password is checked:
//! - per client address and name (the pair): after `max_per_pair` failures
//!   within `window`, that address may not try that name again until the
//!   oldest failure leaves the window;
//! - per client address: after `max_per_client` failures within `window`,
//!   over any names, that address waits the same way;
//! - per name, from any address: after `max_per_name` failures within
//!   `window`, attempts for the name are *slowed* to one per
//!   `name_interval`, never locked: an attacker spread over many addresses
//!   gets a few guesses a minute, and the owner still signs in (at most a
//!   few seconds later).
//!
//! An attempt counts as a failure from the moment it is let through, and a
//! sign-in that succeeds takes its count back: parallel wrong passwords can
//! not all pass the check before the first is recorded.
//! In memory: a restart forgets, which only ever favours a locked-out user.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_per_pair: usize,
    pub max_per_client: usize,
    pub max_per_name: usize,
    pub name_interval: Duration,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_per_pair: 5,
            max_per_client: 20,
            max_per_name: 5,
            name_interval: Duration::from_secs(3),
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
        let n = self.recent(key, window, now);
        let q = self.0.get(key)?;
        (n >= max).then(|| window.saturating_sub(now.duration_since(q[0])))
    }

    /// How many events `key` has within `window` (older ones are dropped).
    fn recent(&mut self, key: &str, window: Duration, now: Instant) -> usize {
        let Some(q) = self.0.get_mut(key) else {
            return 0;
        };
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.is_empty() {
            self.0.remove(key);
            return 0;
        }
        q.len()
    }

    pub(crate) fn add(&mut self, key: &str, max: usize, now: Instant) {
        let q = self.0.entry(key.to_string()).or_default();
        q.push_back(now);
        while q.len() > max {
            q.pop_front();
        }
    }

    /// Takes back the newest event of `key`.
    fn take_back(&mut self, key: &str) {
        if let Some(q) = self.0.get_mut(key) {
            q.pop_back();
            if q.is_empty() {
                self.0.remove(key);
            }
        }
    }
}

#[derive(Debug, Default)]
struct State {
    by_pair: Failures,
    by_client: Failures,
    by_name: Failures,
    /// When a slowed name may next be tried.
    name_next: HashMap<String, Instant>,
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    limits: Limits,
    state: Mutex<State>,
}

/// The keys of one attempt.
fn keys(client: &str, name: &str) -> (String, String) {
    let name = name.to_lowercase();
    (format!("{client}\u{0}{name}"), name)
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> LoginLimiter {
        LoginLimiter {
            limits,
            state: Mutex::default(),
        }
    }

    /// Lets an attempt of `client` for `name` through, counting it as a
    /// failure until [`LoginLimiter::succeeded`] takes it back; or how long
    /// to wait. Check and count are one step. Names compare
    /// case-insensitively.
    pub fn begin(&self, client: &str, name: &str, now: Instant) -> Result<(), Duration> {
        let l = self.limits;
        let (pair, name) = keys(client, name);
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let locked = s
            .by_pair
            .wait(&pair, l.max_per_pair, l.window, now)
            .max(s.by_client.wait(client, l.max_per_client, l.window, now));
        if let Some(wait) = locked {
            return Err(wait);
        }
        let slowed = s.by_name.recent(&name, l.window, now) >= l.max_per_name;
        if slowed {
            if let Some(next) = s.name_next.get(&name).filter(|t| now < **t) {
                return Err(next.duration_since(now));
            }
            s.name_next.insert(name.clone(), now + l.name_interval);
        } else {
            s.name_next.remove(&name);
        }
        s.by_pair.add(&pair, l.max_per_pair, now);
        s.by_client.add(client, l.max_per_client, now);
        // Kept a little past the slowing threshold: enough to know it is met.
        s.by_name.add(&name, l.max_per_name * 4, now);
        if s.name_next.len() > 100_000 {
            s.name_next.retain(|_, t| now < *t);
        }
        Ok(())
    }

    /// The attempt let through by `begin` was a good password: its count is
    /// taken back, and the name's failures from this address are cleared
    /// (not the address's others: one good password must not reset a
    /// guessing run over other names, nor the name's from elsewhere).
    pub fn succeeded(&self, client: &str, name: &str) {
        let (pair, name) = keys(client, name);
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.by_pair.0.remove(&pair);
        s.by_client.take_back(client);
        s.by_name.take_back(&name);
    }
}

/// A token bucket per user: `burst` calls at once, refilled at
/// `per_minute`. It paces every server function that reaches AWS on a
/// person's behalf (detail reads, refresh, previews, rotation progress), so
/// that no one person can spend the dashboard's AWS call budget.
#[derive(Debug)]
pub struct UserBuckets {
    burst: f64,
    per_sec: f64,
    state: Mutex<HashMap<String, (f64, Instant)>>,
}

impl UserBuckets {
    pub fn new(per_minute: u32, burst: u32) -> UserBuckets {
        UserBuckets {
            burst: f64::from(burst.max(1)),
            per_sec: f64::from(per_minute.max(1)) / 60.0,
            state: Mutex::default(),
        }
    }

    /// Takes one call from `user`'s bucket, or says how long until one is
    /// there.
    pub fn take(&self, user: &str, now: Instant) -> Result<(), Duration> {
        let mut m = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 10_000 {
            // Full buckets hold no information: forget them.
            let (burst, per_sec) = (self.burst, self.per_sec);
            m.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * per_sec < burst);
        }
        let (tokens, at) = m.entry(user.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_sec))
        }
    }
}

/// Anonymous refusals one client address may leave in the audit trail per
/// minute, one record each; the rest are counted into one record.
pub const ANON_DENIALS_PER_MINUTE: u64 = 10;

/// Per client address: when its minute began, refusals recorded, refusals
/// only counted.
#[derive(Debug, Default)]
pub struct DenialCounter(Mutex<HashMap<String, (Instant, u64, u64)>>);

impl DenialCounter {
    /// Notes one refusal from `client`: whether to record it, and the count
    /// of a finished minute's unrecorded refusals to write first, if any.
    pub fn note(&self, client: &str, now: Instant) -> (bool, Option<u64>) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(client.to_string()).or_insert((now, 0, 0));
        let mut summary = None;
        if now.duration_since(e.0) >= Duration::from_secs(60) {
            summary = (e.2 > 0).then_some(e.2);
            *e = (now, 0, 0);
        }
        if e.1 < ANON_DENIALS_PER_MINUTE {
            e.1 += 1;
            (true, summary)
        } else {
            e.2 += 1;
            (false, summary)
        }
    }

    /// The unrecorded counts of every finished minute, taken out.
    pub fn flush(&self, now: Instant) -> Vec<(String, u64)> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        m.retain(|client, e| {
            if now.duration_since(e.0) < Duration::from_secs(60) {
                return true;
            }
            if e.2 > 0 {
                out.push((client.clone(), e.2));
            }
            false
        });
        out
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
            max_per_pair: 3,
            max_per_client: 5,
            max_per_name: 4,
            name_interval: Duration::from_secs(2),
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn a_pair_is_locked_after_max_failures_until_the_window_passes() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(
                l.begin("10.0.0.1", "alice", t0 + Duration::from_secs(i)),
                Ok(()),
                "attempt {i}"
            );
        }
        // Locked for this address and name, case-insensitively…
        let w = l
            .begin("10.0.0.1", "ALICE", t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(w, Duration::from_secs(50));
        // …but the owner, from their own address, is not locked out.
        assert_eq!(
            l.begin("10.0.0.9", "alice", t0 + Duration::from_secs(10)),
            Ok(())
        );
        // The oldest failure leaves the window at t0+60.
        assert!(l
            .begin("10.0.0.1", "alice", t0 + Duration::from_secs(59))
            .is_err());
        assert_eq!(
            l.begin("10.0.0.1", "alice", t0 + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn the_check_and_the_count_are_one_step() {
        // Eight attempts at once, none finished: only the limit gets through.
        let l = limiter();
        let t0 = Instant::now();
        let through = (0..8)
            .filter(|_| l.begin("10.0.0.1", "alice", t0).is_ok())
            .count();
        assert_eq!(through, 3);
    }

    #[test]
    fn an_address_is_locked_across_names() {
        let l = limiter();
        let t0 = Instant::now();
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            assert_eq!(l.begin("10.0.0.1", name, t0), Ok(()), "attempt {i}");
        }
        assert!(l.begin("10.0.0.1", "f", t0).is_err());
        assert_eq!(l.begin("10.0.0.2", "f", t0), Ok(()));
    }

    #[test]
    fn a_name_under_attack_from_many_addresses_is_slowed_not_locked() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..4 {
            assert_eq!(l.begin(&format!("10.0.1.{i}"), "alice", t0), Ok(()));
        }
        // Past max_per_name: one attempt per name_interval, from anywhere.
        assert_eq!(l.begin("10.0.1.50", "alice", t0), Ok(()));
        assert_eq!(
            l.begin("10.0.1.51", "alice", t0 + Duration::from_millis(500)),
            Err(Duration::from_millis(1500))
        );
        // The owner waits seconds, not the window, and signs in.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(l.begin("192.168.7.7", "alice", t1), Ok(()));
        l.succeeded("192.168.7.7", "alice");
        // Other names are not slowed.
        assert_eq!(l.begin("10.0.1.52", "bob", t1), Ok(()));
    }

    #[test]
    fn anonymous_refusals_are_recorded_up_to_a_limit_and_the_rest_counted() {
        let c = DenialCounter::default();
        let t0 = Instant::now();
        let written = (0..100).filter(|_| c.note("6.6.6.6", t0).0).count();
        assert_eq!(written as u64, ANON_DENIALS_PER_MINUTE);
        // Another address has its own allowance.
        assert!(c.note("7.7.7.7", t0).0);
        // Nothing is flushed before the minute is over.
        assert!(c.flush(t0 + Duration::from_secs(30)).is_empty());
        // The next minute's first refusal brings the count of the last one.
        let (write, summary) = c.note("6.6.6.6", t0 + Duration::from_secs(61));
        assert!(write);
        assert_eq!(summary, Some(100 - ANON_DENIALS_PER_MINUTE));
        // A flush takes the counts of finished minutes out, once.
        for _ in 0..20 {
            c.note("6.6.6.6", t0 + Duration::from_secs(62));
        }
        assert_eq!(
            c.flush(t0 + Duration::from_secs(200)),
            vec![("6.6.6.6".to_string(), 11)]
        );
        assert!(c.flush(t0 + Duration::from_secs(300)).is_empty());
    }

    #[test]
    fn each_user_has_a_burst_then_a_steady_rate() {
        let b = UserBuckets::new(60, 20);
        let t0 = Instant::now();
        // 60 calls at once: the burst passes, the rest wait.
        let passed = (0..60).filter(|_| b.take("viewer", t0).is_ok()).count();
        assert_eq!(passed, 20);
        assert_eq!(b.take("viewer", t0), Err(Duration::from_secs(1)));
        // Another user is not held up by the first.
        assert_eq!(b.take("admin", t0), Ok(()));
        // One a second comes back.
        assert_eq!(b.take("viewer", t0 + Duration::from_secs(1)), Ok(()));
        assert!(b.take("viewer", t0 + Duration::from_secs(1)).is_err());
        assert_eq!(b.take("viewer", t0 + Duration::from_secs(30)), Ok(()));
    }

    #[test]
    fn success_takes_its_attempt_back_and_clears_the_pair() {
        let l = limiter();
        let t0 = Instant::now();
        for _ in 0..2 {
            l.begin("10.0.0.1", "alice", t0).unwrap();
        }
        l.begin("10.0.0.1", "Alice", t0).unwrap();
        l.succeeded("10.0.0.1", "Alice");
        for _ in 0..3 {
            assert_eq!(l.begin("10.0.0.1", "alice", t0), Ok(()));
        }
        assert_eq!(wait_text(Duration::from_secs(42)), "42 s");
        assert_eq!(wait_text(Duration::from_millis(10)), "1 s");
        assert_eq!(wait_text(Duration::from_secs(600)), "10 min");
    }
}
