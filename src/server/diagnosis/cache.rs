//! One cache per kind of resource: a read is kept for the TTL, and
//! concurrent readers of the same resource wait for one call instead of
//! each making it. A failed read is handed to whoever waited for it and
//! then dropped, so the next reader tries again.

use crate::domain::diagnosis::Read;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// Resources kept at most per cache; past it, expired ones go, and a read
/// that still finds no room is made without being kept.
const MAX_ENTRIES: usize = 10_000;

type Slot<T> = Arc<OnceCell<(Instant, Read<T>)>>;

pub(super) struct Cache<T> {
    ttl: Duration,
    entries: Mutex<HashMap<String, Slot<T>>>,
}

impl<T: Clone> Cache<T> {
    pub fn new(ttl: Duration) -> Cache<T> {
        Cache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The kept read of `key`, else the one in flight, else `read()`'s.
    pub async fn get<F, Fut>(&self, key: &str, read: F) -> Read<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Read<T>>,
    {
        let Some(slot) = self.slot(key) else {
            return read().await;
        };
        let (_, got) = slot
            .get_or_init(|| async { (Instant::now(), read().await) })
            .await;
        let got = got.clone();
        if let Read::Failed { .. } = got {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                map.remove(key);
            }
        }
        got
    }

    /// The slot to read `key` through: the kept one while fresh or in
    /// flight, else a new one; none when the cache is full.
    fn slot(&self, key: &str) -> Option<Slot<T>> {
        let now = Instant::now();
        let fresh = |s: &Slot<T>| s.get().is_none_or(|(at, _)| now - *at < self.ttl);
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.get(key).filter(|s| fresh(s)) {
            return Some(s.clone());
        }
        if map.len() >= MAX_ENTRIES && !map.contains_key(key) {
            map.retain(|_, s| fresh(s));
            if map.len() >= MAX_ENTRIES {
                return None;
            }
        }
        let slot: Slot<T> = Arc::default();
        map.insert(key.to_string(), slot.clone());
        Some(slot)
    }

    /// Resources kept (fresh, stale or in flight).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
