//! CloudTrail reads for pages, cached: LookupEvents allows 2 calls a second
//! per account and region, and every on-call refresh and detail view would
//! otherwise call it.

use super::aws::RotationTrail;
use crate::domain::rotation_history::RotationEvent;
use crate::domain::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a lookup is reused.
const FRESH_SECS: i64 = 60;
/// Per-secret histories kept at most.
const MAX_HISTORIES: usize = 500;

type Events = Arc<Result<Vec<RotationEvent>, String>>;

pub struct TrailCache {
    pub trail: RotationTrail,
    failures: tokio::sync::Mutex<Option<(Timestamp, Events)>>,
    histories: Mutex<HashMap<Arc<str>, (Timestamp, Events)>>,
}

impl TrailCache {
    pub fn new(trail: RotationTrail) -> TrailCache {
        TrailCache {
            trail,
            failures: tokio::sync::Mutex::new(None),
            histories: Mutex::new(HashMap::new()),
        }
    }

    /// Every RotationFailed within the lookback, newest first; or the
    /// sentence saying why CloudTrail could not be read.
    pub async fn recent_failures(&self, now: Timestamp) -> Events {
        // One lookup at a time: concurrent refreshes wait for it and reuse it.
        let mut kept = self.failures.lock().await;
        if let Some((at, events)) = kept.as_ref() {
            if now.secs() - at.secs() < FRESH_SECS {
                return events.clone();
            }
        }
        let events = Arc::new(
            self.trail
                .recent_failures(self.trail.since(now))
                .await
                .map_err(|e| {
                    tracing::warn!(detail = %e.detail, "CloudTrail failures lookup failed");
                    e.user
                }),
        );
        *kept = Some((now, events.clone()));
        events
    }

    /// Drops the kept failures lookup: a rotation was just seen failing, and
    /// the next reader (the on-call queue) should find it.
    pub async fn forget_failures(&self) {
        *self.failures.lock().await = None;
    }

    /// One secret's rotation events; `refresh` skips the cache.
    pub async fn history(&self, arn: &Arc<str>, now: Timestamp, refresh: bool) -> Events {
        if !refresh {
            let map = self.histories.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, events)) = map.get(arn) {
                if now.secs() - at.secs() < FRESH_SECS {
                    return events.clone();
                }
            }
        }
        let events = Arc::new(
            self.trail
                .history(arn, self.trail.since(now))
                .await
                .map_err(|e| {
                    tracing::warn!(secret = %arn, detail = %e.detail, "CloudTrail history lookup failed");
                    e.user
                }),
        );
        let mut map = self.histories.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_HISTORIES {
            map.retain(|_, (at, _)| now.secs() - at.secs() < FRESH_SECS);
        }
        if map.len() < MAX_HISTORIES {
            map.insert(arn.clone(), (now, events.clone()));
        }
        events
    }
}
