//! The call budget of each account and region, shared by every user: at
//! most `calls_per_second` diagnosis calls, spaced evenly
//! ([`RateLimiter`]). A read that would wait longer than `max_wait` for its
//! turn is refused instead ("over the call budget"), so a burst of
//! diagnoses degrades to "could not be checked" rather than queueing
//! without end.

use crate::server::aws::rate::RateLimiter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Budget {
    limiter: RateLimiter,
    /// Calls waiting for their turn.
    waiting: AtomicUsize,
}

pub(super) struct Budgets {
    per_second: f64,
    /// Calls that may wait at once: those whose turn comes within `max_wait`.
    max_waiting: usize,
    by_place: Mutex<HashMap<(String, String), Arc<Budget>>>,
}

/// Gives a waiting call's place back, whether it got its turn or was
/// dropped while waiting.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Budgets {
    pub fn new(per_second: f64, max_wait: Duration) -> Budgets {
        let max_waiting = (per_second * max_wait.as_secs_f64()).ceil();
        Budgets {
            per_second,
            max_waiting: if max_waiting.is_finite() && max_waiting >= 1.0 {
                max_waiting as usize
            } else {
                1
            },
            by_place: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a call's turn in `account` and `region`; false (at once)
    /// when its turn would come after `max_wait`.
    pub async fn spend(&self, account: &str, region: &str) -> bool {
        let budget = {
            let mut map = self.by_place.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((account.to_string(), region.to_string()))
                .or_insert_with(|| {
                    Arc::new(Budget {
                        limiter: RateLimiter::new(self.per_second),
                        waiting: AtomicUsize::new(0),
                    })
                })
                .clone()
        };
        let before = budget.waiting.fetch_add(1, Ordering::AcqRel);
        let _place = Waiting(&budget.waiting);
        if before >= self.max_waiting {
            return false;
        }
        budget.limiter.acquire().await;
        true
    }
}
