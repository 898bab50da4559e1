//! Who reads each secret, from CloudTrail's GetSecretValue events: looked
//! up on demand for a page or a dialog (with progress while a long history
//! pages in), kept and read on top of, attached to the inventory for the
//! read rules and `reader:`, and read in the background for the
//! high-value search first ([`pass`]).
//!
//! Every lookup goes through the trail of the secret's account and region,
//! whose LookupEvents calls share `[cloudtrail] calls_per_second` (AWS
//! allows 2); the background pass takes at most `[readers]
//! background_share` of it.

mod lookup;
pub mod pass;
mod settings;

pub use lookup::{lookup, parse_read, Ask, Found, Loading, Tail, OVERLAP_SECS};
pub use settings::ReadersSettings;

use crate::domain::reads::Readers;
use crate::domain::{Secret, Timestamp};
use crate::server::auth::{Principal, ReadBudget};
use crate::server::error::AppError;
use crate::server::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What is known of one secret's readers.
#[derive(Default)]
struct Entry {
    /// The last finished lookup, and when it finished.
    done: Option<(Arc<Readers>, Timestamp)>,
    /// The ids of the events near its end (the next lookup's overlap).
    tail: lookup::Tail,
    /// A lookup in flight.
    loading: Option<Arc<Loading>>,
    /// The last lookup's failure, in words to act on, and when.
    error: Option<(String, Timestamp)>,
}

/// Readers by secret ARN, and the lookups in flight.
#[derive(Default)]
pub struct ReaderBook {
    entries: Mutex<HashMap<Arc<str>, Entry>>,
}

/// Secrets whose readers are kept at most (the least recently read go).
const KEEP: usize = 200_000;

impl ReaderBook {
    fn with<T>(&self, arn: &Arc<str>, f: impl FnOnce(&mut Entry) -> T) -> T {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= KEEP && !map.contains_key(arn) {
            if let Some(oldest) = map
                .iter()
                .filter(|(_, e)| e.loading.is_none())
                .min_by_key(|(_, e)| e.done.as_ref().map(|(_, at)| *at))
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        f(map.entry(arn.clone()).or_default())
    }

    /// When a lookup of `arn`'s readers last ended, whether it read them
    /// or failed.
    pub fn tried_at(&self, arn: &Arc<str>) -> Option<Timestamp> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.get(arn)?;
        let done = e.done.as_ref().map(|(_, at)| *at);
        let failed = e.error.as_ref().map(|(_, at)| *at);
        done.into_iter().chain(failed).max()
    }
}

/// Why readers cannot be read at all, if they cannot.
pub fn unavailable(state: &AppState, s: &Secret) -> Option<String> {
    if !state.config.cloudtrail.enabled {
        return Some("CloudTrail is not read ([cloudtrail] enabled = false): readers are unknown, and the read rules are not evaluated.".into());
    }
    if !state.config.readers.enabled {
        return Some("Readers are switched off ([readers] enabled = false): the read rules are not evaluated.".into());
    }
    if state.trail_of(s).is_none() {
        return Some("No CloudTrail is configured for this secret's account and region.".into());
    }
    None
}

/// Why the read rules of a secret without readers were not evaluated, and
/// what makes them run.
pub fn why_not_evaluated(state: &AppState) -> String {
    if !state.config.cloudtrail.enabled {
        "It needs CloudTrail's GetSecretValue events: set [cloudtrail] enabled = true (and allow cloudtrail:LookupEvents).".into()
    } else if !state.config.readers.enabled {
        "It needs CloudTrail's GetSecretValue events, and [readers] enabled = false.".into()
    } else {
        "Its readers have not been read from CloudTrail yet: the Readers section below reads them (the background pass reads high-value, deleted and recently rotated secrets on its own).".into()
    }
}

/// Starts a lookup of `s`'s readers unless one is in flight; returns it.
/// `share`: the background pass's part of the quota, when it asks.
pub(crate) fn start(
    state: &AppState,
    s: &Arc<Secret>,
    share: Option<Arc<crate::server::aws::rate::RateLimiter>>,
) -> Option<(Arc<Loading>, tokio::task::JoinHandle<()>)> {
    let trail = state.trail_of(s)?.clone();
    let now = crate::server::clock::now();
    let window_start = trail.trail.since(now);
    let (loading, previous) = state.readers.with(&s.arn, |e| {
        if e.loading.is_some() {
            return (None, None);
        }
        let l = Arc::new(Loading::new(window_start));
        e.loading = Some(l.clone());
        (
            Some(l),
            e.done.as_ref().map(|(r, _)| (r.clone(), e.tail.clone())),
        )
    });
    let loading = loading?;
    let (st, secret, l) = (state.clone(), s.clone(), loading.clone());
    let task = tokio::spawn(async move {
        let sources = st.sources.clone();
        let ours = move |a: &str| sources.all().iter().any(|s| s.account() == Some(a));
        let ask = lookup::Ask {
            arn: &secret.arn,
            previous,
            window_start,
            now,
            max_events: st.config.readers.max_events,
            share: share.as_deref(),
            ours: &ours,
        };
        let found = lookup::lookup(&trail.trail, ask, &l).await;
        let at = crate::server::clock::now();
        let readers = st.readers.with(&secret.arn, |e| {
            e.loading = None;
            match found {
                Ok(f) => {
                    e.done = Some((f.readers.clone(), at));
                    e.tail = f.tail;
                    e.error = None;
                    Some(f.readers)
                }
                Err(err) => {
                    tracing::warn!(secret = %secret.arn, detail = %err.detail, "CloudTrail readers lookup failed");
                    e.error = Some((err.user, at));
                    None
                }
            }
        });
        if let Some(r) = readers {
            st.inventory.note_reads(secret.arn.clone(), r);
            pass::alert_new_readers(&st, &secret.arn, at);
        }
    });
    Some((loading, task))
}

/// What is known of a secret's readers: the readers, the lookup's
/// progress while one runs, and the last lookup's failure.
pub type Known = (
    Option<Arc<Readers>>,
    Option<crate::domain::reads::ReadProgress>,
    Option<String>,
);

/// A failed lookup is not tried again on its own for this long.
const RETRY_SECS: i64 = 60;

/// The readers of `s` as known now, starting a lookup when they are older
/// than the cache period (or `refresh`), charged to `who`'s AWS reads.
pub fn current(
    state: &AppState,
    who: &Principal,
    s: &Arc<Secret>,
    refresh: bool,
    what: &str,
) -> Result<Known, AppError> {
    let now = crate::server::clock::now();
    let ttl = state.config.readers.cache_ttl_seconds as i64;
    let (done, loading, error) = state.readers.with(&s.arn, |e| {
        (e.done.clone(), e.loading.clone(), e.error.clone())
    });
    if let Some(l) = loading {
        let shown = l.partial().or(done.map(|(r, _)| r));
        return Ok((shown, Some(l.progress()), None));
    }
    let stale = done
        .as_ref()
        .is_none_or(|(_, at)| now.secs() - at.secs() >= ttl);
    let failed_lately = error
        .as_ref()
        .is_some_and(|(_, at)| now.secs() - at.secs() < RETRY_SECS);
    if refresh || (stale && !failed_lately) {
        crate::server::auth::take_aws_read(state, who, what, ReadBudget::Asked)?;
        if let Some((l, _)) = start(state, s, None) {
            return Ok((done.map(|(r, _)| r), Some(l.progress()), None));
        }
    }
    Ok((done.map(|(r, _)| r), None, error.map(|(e, _)| e)))
}
