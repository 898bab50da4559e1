//! The webhook when `serve` runs on a store, as one replica of several or
//! alone: every message is **recorded before it is posted**, and posted by
//! the lease holder only.
//!
//! - **Alarms** ([`Announcer`], on the lease holder): each round compares
//!   the current health view with the alarms announced so far (in the
//!   store, not in memory), and announces the differences in one
//!   transaction: a compare-and-set per secret on its announced alarm, and
//!   the message(s) of the changes whose set succeeded. A change is thus
//!   recorded once, whichever replica sees it and however often; one that
//!   happened while nobody held the lease is announced by the next holder
//!   (nothing is dropped); the start summary is said once per store.
//! - **Other messages** (access requests, new readers) are recorded by the
//!   replica that has them; a new reader with a key that makes it once-only.
//! - **Posting** ([`Poster`], on the lease holder): the pending messages
//!   in the order recorded, each marked delivered (or given up on after its
//!   retries) as soon as the webhook answered. A holder that dies between
//!   the webhook's answer and that mark leaves the message pending, and
//!   the next holder posts it again: delivery is at least once, and more
//!   than once only in that window (milliseconds). Each POST carries
//!   `X-Secretscope-Delivery: <id>`, the same on a repeat, so a receiver
//!   that cares can drop it.

use super::{start_summary, Delivery, Message, RetryPolicy};
use crate::domain::health::HealthConfig;
use crate::server::health::{transitions, Alarm, HealthMonitor, HealthView};
use crate::server::metrics::Metrics;
use crate::server::store::{AlarmChange, NewMessage, Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// How often the poster looks for messages other replicas recorded (its
/// own wake it at once).
const POLL: Duration = Duration::from_secs(1);
/// Messages read per query.
const BATCH: i64 = 32;

/// The notifier's switch to the store, and what its poster needs.
pub(crate) struct Ledger {
    outbox: OnceLock<Outbox>,
    url: http::Uri,
    policy: RetryPolicy,
}

impl Ledger {
    pub(crate) fn new(url: http::Uri, policy: RetryPolicy) -> Ledger {
        Ledger {
            outbox: OnceLock::new(),
            url,
            policy,
        }
    }

    pub(crate) fn outbox(&self) -> Option<&Outbox> {
        self.outbox.get()
    }

    pub(crate) fn install(&self, store: Store, metrics: Arc<Metrics>) -> Poster {
        let outbox = self
            .outbox
            .get_or_init(|| Outbox {
                store,
                wake: Arc::new(Notify::new()),
                metrics: metrics.clone(),
            })
            .clone();
        Poster {
            outbox,
            delivery: Arc::new(Delivery::poster(
                self.url.clone(),
                metrics,
                self.policy.clone(),
            )),
        }
    }
}

/// Records messages in the store.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    /// Tells this process's poster that something was recorded.
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl Outbox {
    /// Records `msg` (in a task: callers do not wait for the database).
    pub(crate) fn record_soon(&self, dedupe: Option<String>, msg: Message) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::error!(about = %msg.about, "webhook message dropped: no runtime to record it on");
            return;
        };
        let me = self.clone();
        rt.spawn(async move {
            let body = msg.payload.to_string();
            let at = crate::server::clock::now().secs();
            match me.store.record_message(dedupe.as_deref(), &msg.about, &body, at).await {
                Ok(true) => me.wake.notify_one(),
                Ok(false) => tracing::debug!(about = %msg.about, "webhook message recorded before; not again"),
                Err(e) => {
                    me.metrics.alerts.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(about = %msg.about, error = %e, "webhook message dropped: it could not be recorded");
                }
            }
        });
    }
}

/// Posts the recorded messages; run it under the lease.
pub struct Poster {
    outbox: Outbox,
    delivery: Arc<Delivery>,
}

impl Poster {
    /// The outbox it posts from, for the [`Announcer`].
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Posts pending messages until aborted.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.post_pending().await {
                Ok(0) => {
                    let _ = tokio::time::timeout(POLL, self.outbox.wake.notified()).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "pending webhook messages not read (will retry)");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Posts the oldest pending messages, each marked as soon as the
    /// webhook answered; returns how many were handled.
    pub async fn post_pending(&self) -> Result<usize, StoreError> {
        let store = &self.outbox.store;
        let rows = store.pending_messages(BATCH).await?;
        let queued = &self.outbox.metrics.alerts.queued;
        queued.store(rows.len() as u64, Ordering::Relaxed);
        for row in &rows {
            let msg = Message {
                about: row.about.clone(),
                payload: serde_json::from_str(&row.payload).unwrap_or_default(),
            };
            let delivered = self.delivery.deliver_as(&msg, Some(row.id)).await;
            let at = crate::server::clock::now().secs();
            queued.fetch_sub(1, Ordering::Relaxed);
            store.finish_message(row.id, delivered, at).await?;
        }
        Ok(rows.len())
    }
}

/// Announces alarm changes from the health view; run it under the lease.
pub struct Announcer {
    pub outbox: Outbox,
    pub health: Arc<HealthMonitor>,
    pub cfg: HealthConfig,
    pub dashboard_url: Option<String>,
}

/// The text form of an alarm in the store.
fn alarm_text(a: Alarm) -> &'static str {
    match a {
        Alarm::RotationFailed => "failed",
        Alarm::RotationOverdue => "overdue",
    }
}

fn alarm_of(text: &str) -> Option<Alarm> {
    match text {
        "failed" => Some(Alarm::RotationFailed),
        "overdue" => Some(Alarm::RotationOverdue),
        _ => None,
    }
}

impl Announcer {
    /// Announces every change of the health view from the first snapshot
    /// taken at or after `since` (the lease's start: an older one may be
    /// behind what the last holder announced, and would announce a flap).
    pub async fn run(self, since: crate::domain::Timestamp) {
        let mut last: Option<Arc<HealthView>> = None;
        loop {
            // The kept view, or a new evaluation off the async workers.
            let health = self.health.clone();
            let now = crate::server::clock::now();
            let Ok(view) = tokio::task::spawn_blocking(move || health.current(now)).await else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            let fresh = view.snapshot.taken_at.is_some_and(|t| t >= since);
            let changed = last.as_ref().is_none_or(|l| !Arc::ptr_eq(l, &view));
            if fresh && changed {
                match self.round(&view).await {
                    Ok(_) => last = Some(view),
                    Err(e) => {
                        tracing::warn!(error = %e, "alarm changes not announced (will retry)")
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Announces what changed between the alarms announced and `view`'s;
    /// returns how many changes this call announced.
    pub async fn round(&self, view: &HealthView) -> Result<usize, StoreError> {
        let store = &self.outbox.store;
        let after: HashMap<Arc<str>, Alarm> = view
            .snapshot
            .secrets()
            .iter()
            .zip(&view.summaries)
            .filter_map(|(s, sum)| Alarm::of(sum).map(|a| (s.arn.clone(), a)))
            .collect();
        let announced = store.announced().await?;
        let at = view.at.secs();
        let url = self.dashboard_url.as_deref();
        let n = if !announced.baseline {
            // The first view ever: what is broken already is said once, in
            // one summary, and each of it counts as announced.
            let changes: Vec<AlarmChange> = after
                .iter()
                .map(|(arn, a)| AlarmChange {
                    arn,
                    from: None,
                    to: Some(alarm_text(*a)),
                })
                .collect();
            let summary = (!after.is_empty())
                .then(|| start_summary(view, url))
                .flatten();
            store
                .announce(&changes, true, at, |_| {
                    summary
                        .map(|p| vec![(None, "start summary".to_string(), p.to_string())])
                        .unwrap_or_default()
                })
                .await?
        } else {
            let before: HashMap<Arc<str>, Alarm> = announced
                .alarms
                .iter()
                .filter_map(|(arn, a)| Some((Arc::from(arn.as_str()), alarm_of(a)?)))
                .collect();
            let changes = transitions(&before, &after, &view.snapshot);
            if changes.is_empty() {
                return Ok(0);
            }
            let sets: Vec<AlarmChange> = changes
                .iter()
                .map(|t| AlarmChange {
                    arn: &t.arn,
                    from: t.from.map(alarm_text),
                    to: t.to.map(alarm_text),
                })
                .collect();
            store
                .announce(&sets, false, at, |won| {
                    let won: Vec<_> = won.iter().map(|&i| changes[i].clone()).collect();
                    super::messages_for(view, &won, &self.cfg, url)
                        .into_iter()
                        .map(|m| -> NewMessage { (None, m.about, m.payload.to_string()) })
                        .collect()
                })
                .await?
        };
        if n > 0 {
            tracing::info!(changes = n, "alarm changes recorded for the webhook");
            self.outbox.wake.notify_one();
        }
        Ok(n)
    }
}
