//! Alerts: a Slack-compatible webhook told when a secret's rotation enters
//! "failed" or "overdue", and when it recovers.
//!
//! [`WebhookSink`] is the monitor's [`AlertSink`]. It turns each alarm
//! change into one message (`{"text", "blocks"}`, mrkdwn) and queues it on
//! a bounded channel; it never waits, so an evaluation is never held up by
//! the network. A [`Delivery`] task POSTs the messages one at a time, in
//! order, with a timeout per attempt, and retries 5xx, 429 (after its
//! `Retry-After`), timeouts and connection errors with exponential backoff.
//! Failures are logged with their detail and counted for `/metrics`.
//!
//! What is sent:
//! - one message per transition: entered "rotation failed", entered
//!   "rotation overdue", recovered (back to neither) or gone from the
//!   inventory;
//! - more than [`MAX_MESSAGES_PER_EVALUATION`] transitions in one
//!   evaluation (a mass event) become one digest message instead;
//! - at start (the first evaluation of a real snapshot) one summary, and
//!   only if something is already failed or overdue: what was broken
//!   before secretscope started is said once, not once per secret, and a
//!   restart with nothing broken is silent.
//!
//! Names, descriptions and Lambda ARNs are written by other people: every
//! piece of them is escaped per Slack's rules (`&`, `<`, `>`) so that a
//! name cannot mention `@channel` or forge a link. The webhook URL is a
//! credential and is never logged.
//!
//! Where it lives: the sink and the queue here; the messages (Slack's
//! blocks, escaping) in [`messages`]; the delivery task, its retries and
//! its HTTP client in [`delivery`].

mod delivery;
mod messages;
pub mod outbox;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use delivery::connector;
pub use delivery::{retry_after, Delivery, RetryPolicy};
pub use messages::{digest, escape, start_summary, transition_message};

use super::config::AlertSettings;
use super::health::{AlertSink, HealthView, Transition};
use super::metrics::Metrics;
use crate::domain::health::HealthConfig;
use messages::kind;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Messages waiting for delivery at most; more are dropped (and counted).
pub const QUEUE: usize = 256;
/// Above this many transitions in one evaluation, one digest is sent.
pub const MAX_MESSAGES_PER_EVALUATION: usize = 20;
/// Secrets named in a digest or the start summary at most.
const MAX_LISTED: usize = 20;
/// Characters of a name or a detail sentence kept (Slack caps a section's
/// text at 3000 and a field's at 2000).
const MAX_NAME: usize = 300;
const MAX_DETAIL: usize = 1200;

/// One queued webhook message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// What it is about, for the log: "rotation-failed prod/db", "start summary".
    pub about: String,
    pub payload: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// Deliberately without the URL: it is a credential.
    #[error("alerts.webhook_url is not an http:// or https:// URL with a host")]
    BadUrl,
}

/// The monitor's sink: builds messages and queues them.
pub struct WebhookSink {
    out: Notifier,
    cfg: HealthConfig,
    dashboard_url: Option<String>,
}

/// Queues messages on the webhook's delivery: the health monitor's, and
/// the access requests' (cloned into the app state).
#[derive(Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Message>,
    metrics: Arc<Metrics>,
    /// Where messages go instead of `tx` once `serve` records them in the
    /// store (see [`outbox`]), and what its poster needs.
    ledger: Arc<outbox::Ledger>,
    /// The dashboard's public base URL, for links; None: no links.
    pub dashboard_url: Option<String>,
}

impl WebhookSink {
    /// The sink and its delivery for `settings.webhook_url` (None when no
    /// URL is configured).
    pub fn new(
        settings: &AlertSettings,
        cfg: HealthConfig,
        metrics: Arc<Metrics>,
        policy: RetryPolicy,
    ) -> Result<Option<(WebhookSink, Delivery)>, AlertError> {
        let Some(url) = settings.webhook_url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let url: http::Uri = url.parse().map_err(|_| AlertError::BadUrl)?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(AlertError::BadUrl);
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let dashboard_url = settings
            .dashboard_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let sink = WebhookSink {
            out: Notifier {
                tx,
                metrics: metrics.clone(),
                ledger: Arc::new(outbox::Ledger::new(url.clone(), policy.clone())),
                dashboard_url: dashboard_url.clone(),
            },
            cfg,
            dashboard_url,
        };
        let delivery = Delivery::new(rx, url, metrics, policy);
        Ok(Some((sink, delivery)))
    }

    /// A handle that queues on the same delivery.
    pub fn notifier(&self) -> Notifier {
        self.out.clone()
    }

    fn queue(&self, msg: Message) {
        self.out.queue(msg)
    }
}

impl Notifier {
    /// Queues a plain message (`text` is escaped for Slack's mrkdwn).
    pub fn send(&self, about: String, text: &str) {
        self.queue(Message {
            about,
            payload: serde_json::json!({ "text": escape(text) }),
        });
    }

    /// Queues a plain message that is sent once ever for `key` (a new
    /// reader of a secret), whichever replica or restart sends it again;
    /// without the store, once per process (the caller remembers).
    pub fn send_once(&self, key: String, about: String, text: &str) {
        let msg = Message {
            about,
            payload: serde_json::json!({ "text": escape(text) }),
        };
        match self.ledger.outbox() {
            Some(o) => o.record_soon(Some(key), msg),
            None => self.queue(msg),
        }
    }

    /// Records every message in `store` from now on (before it is posted),
    /// and leaves the alarms to [`outbox::Announcer`]: returns the poster
    /// that posts what is recorded, to run under the lease.
    pub fn use_store(&self, store: crate::server::store::Store) -> outbox::Poster {
        self.ledger.install(store, self.metrics.clone())
    }

    fn queue(&self, msg: Message) {
        if let Some(o) = self.ledger.outbox() {
            return o.record_soon(None, msg);
        }
        self.metrics.alerts.queued.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.tx.try_send(msg) {
            self.metrics.alerts.queued.fetch_sub(1, Ordering::Relaxed);
            self.metrics.alerts.dropped.fetch_add(1, Ordering::Relaxed);
            let (why, msg) = match e {
                mpsc::error::TrySendError::Full(m) => ("the queue is full", m),
                mpsc::error::TrySendError::Closed(m) => ("the delivery task has stopped", m),
            };
            tracing::error!(about = %msg.about, "webhook message dropped: {why}");
        }
    }
}

impl AlertSink for WebhookSink {
    fn baseline(&self, view: &HealthView, alarms: usize) {
        // With the store, the lease holder's announcer says it, once.
        if alarms == 0 || self.out.ledger.outbox().is_some() {
            return;
        }
        if let Some(payload) = start_summary(view, self.dashboard_url.as_deref()) {
            self.queue(Message {
                about: "start summary".into(),
                payload,
            });
        }
    }

    fn transitions(&self, view: &HealthView, changes: Vec<Transition>) {
        if self.out.ledger.outbox().is_some() {
            return;
        }
        for msg in messages_for(view, &changes, &self.cfg, self.dashboard_url.as_deref()) {
            self.queue(msg);
        }
    }
}

/// The messages that announce `changes`: one each, or one digest when
/// there are more than [`MAX_MESSAGES_PER_EVALUATION`] (a mass event).
pub fn messages_for(
    view: &HealthView,
    changes: &[Transition],
    cfg: &HealthConfig,
    dashboard_url: Option<&str>,
) -> Vec<Message> {
    if changes.len() > MAX_MESSAGES_PER_EVALUATION {
        return vec![Message {
            about: format!("digest of {} changes", changes.len()),
            payload: digest(view, changes, dashboard_url),
        }];
    }
    changes
        .iter()
        .map(|t| Message {
            about: format!("{} {:?}", kind(t), &*t.name),
            payload: transition_message(
                t,
                view.snapshot.by_arn(&t.arn),
                cfg,
                view.at,
                dashboard_url,
            ),
        })
        .collect()
}
