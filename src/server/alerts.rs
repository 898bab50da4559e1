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

use super::config::AlertSettings;
use super::health::{Alarm, AlertSink, HealthView, Transition};
use super::metrics::Metrics;
use crate::domain::health::{self, HealthConfig};
use crate::domain::{Secret, Timestamp};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
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

/// Retries and timeouts of the delivery.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per message, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
    /// Per attempt: connect, send, read the answer.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
        }
    }
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
    /// The dashboard's public base URL, for links; None: no links.
    pub dashboard_url: Option<String>,
}

/// Delivers queued messages; run it with [`Delivery::run`] on the runtime.
pub struct Delivery {
    rx: mpsc::Receiver<Message>,
    url: http::Uri,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    metrics: Arc<Metrics>,
    policy: RetryPolicy,
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
                dashboard_url: dashboard_url.clone(),
            },
            cfg,
            dashboard_url,
        };
        let delivery = Delivery {
            rx,
            url,
            client: Client::builder(TokioExecutor::new()).build(connector()),
            metrics,
            policy,
        };
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

    fn queue(&self, msg: Message) {
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
        if alarms == 0 {
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
        if changes.len() > MAX_MESSAGES_PER_EVALUATION {
            self.queue(Message {
                about: format!("digest of {} changes", changes.len()),
                payload: digest(view, &changes, self.dashboard_url.as_deref()),
            });
            return;
        }
        for t in &changes {
            let secret = view.snapshot.by_arn(&t.arn);
            let payload =
                transition_message(t, secret, &self.cfg, view.at, self.dashboard_url.as_deref());
            self.queue(Message {
                about: format!("{} {:?}", kind(t), &*t.name),
                payload,
            });
        }
    }
}

/// A rustls connector over the system's roots that also speaks plain http.
pub(crate) fn connector() -> hyper_rustls::HttpsConnector<HttpConnector> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match builder.with_provider_and_native_roots(provider.clone()) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "no system CA certificates: an https webhook will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("the provider supports the default protocol versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    builder.https_or_http().enable_http1().build()
}

/// How one attempt ended.
enum Attempt {
    Delivered,
    /// Worth another try, after `wait` if the server said so.
    Retry {
        detail: String,
        wait: Option<Duration>,
    },
    Permanent(String),
}

impl Delivery {
    /// Delivers until every sink is gone.
    pub async fn run(mut self) {
        self.metrics.alerts.enabled.store(1, Ordering::Relaxed);
        while let Some(msg) = self.rx.recv().await {
            self.deliver(&msg).await;
            // Counted until delivered or given up on: 0 means all is done.
            self.metrics.alerts.queued.fetch_sub(1, Ordering::Relaxed);
        }
        self.metrics.alerts.enabled.store(0, Ordering::Relaxed);
    }

    /// Sends one message, retrying; true when delivered.
    pub async fn deliver(&self, msg: &Message) -> bool {
        let body = Bytes::from(serde_json::to_vec(&msg.payload).unwrap_or_default());
        let mut backoff = self.policy.first_backoff;
        for attempt in 1..=self.policy.attempts.max(1) {
            let (detail, wait) = match self.attempt(body.clone()).await {
                Attempt::Delivered => {
                    self.metrics.alerts.sent.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(about = %msg.about, attempt, "webhook message delivered");
                    return true;
                }
                Attempt::Permanent(detail) => {
                    self.metrics.alerts.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(about = %msg.about, attempt, %detail, "webhook message rejected; not retried");
                    return false;
                }
                Attempt::Retry { detail, wait } => (detail, wait),
            };
            if attempt == self.policy.attempts.max(1) {
                self.metrics.alerts.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(about = %msg.about, attempts = attempt, %detail, "webhook message not delivered; giving up");
                return false;
            }
            let wait = wait
                .map(|w| w.min(self.policy.max_retry_after))
                .unwrap_or(backoff);
            self.metrics.alerts.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(about = %msg.about, attempt, %detail, wait_ms = wait.as_millis() as u64, "webhook delivery failed; retrying");
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(self.policy.max_backoff);
        }
        false
    }

    async fn attempt(&self, body: Bytes) -> Attempt {
        let req = match http::Request::post(self.url.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header(
                http::header::USER_AGENT,
                concat!("secretscope/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body))
        {
            Ok(r) => r,
            Err(e) => return Attempt::Permanent(format!("cannot build the request: {e}")),
        };
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| chain(&e))?;
            let status = resp.status();
            let retry_after = retry_after(resp.headers());
            // Slack answers a word ("ok", "invalid_payload"); keep a little.
            let text = match Limited::new(resp.into_body(), 4096).collect().await {
                Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
                Err(_) => String::new(),
            };
            Ok::<_, String>((status, retry_after, text))
        };
        match tokio::time::timeout(self.policy.timeout, exchange).await {
            Err(_) => Attempt::Retry {
                detail: format!("no answer within {} s", self.policy.timeout.as_secs_f64()),
                wait: None,
            },
            Ok(Err(detail)) => Attempt::Retry { detail, wait: None },
            Ok(Ok((status, _, _))) if status.is_success() => Attempt::Delivered,
            Ok(Ok((status, retry_after, text))) => {
                let detail = format!(
                    "HTTP {status}: {}",
                    text.trim().chars().take(200).collect::<String>()
                );
                if status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    Attempt::Retry {
                        detail,
                        wait: retry_after,
                    }
                } else {
                    Attempt::Permanent(detail)
                }
            }
        }
    }
}

/// An error and its sources, in one line (hyper's top-level message alone
/// says little: "client error (Connect)").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `Retry-After` in seconds (the form Slack sends); an HTTP date is not
/// read and falls back to the backoff.
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

// ---------------------------------------------------------------------------
// Messages

/// Text for Slack's mrkdwn: `&`, `<` and `>` become entities, so hostile
/// input can neither mention (`<!channel>`) nor link (`<https://…|…>`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// A name, clipped and escaped, for mrkdwn.
fn name_text(name: &str) -> String {
    escape(&clip(name, MAX_NAME))
}

fn alarm_words(a: Alarm) -> &'static str {
    match a {
        Alarm::RotationFailed => "rotation failed",
        Alarm::RotationOverdue => "rotation overdue",
    }
}

fn kind(t: &Transition) -> &'static str {
    match t.to {
        Some(Alarm::RotationFailed) => "rotation-failed",
        Some(Alarm::RotationOverdue) => "rotation-overdue",
        None => "recovered",
    }
}

/// A time in the reader's time zone (Slack's date token), with a UTC
/// fallback for clients that do not read it.
fn when(t: Timestamp) -> String {
    let fallback = t
        .to_datetime()
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| t.secs().to_string());
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{fallback}>",
        t.secs()
    )
}

/// `<url|label>` to a dashboard path, if a dashboard URL is configured.
fn link(dashboard_url: Option<&str>, path: &str, label: &str) -> Option<String> {
    dashboard_url.map(|base| format!("<{}|{}>", escape(&format!("{base}{path}")), label))
}

fn field(title: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": format!("*{title}*\n{value}")})
}

/// The message for one alarm change of one secret. `secret` is the
/// secret in the evaluated snapshot (None: it is gone); the detail sentence
/// is the rule's own, evaluated again for this secret at `at`.
pub fn transition_message(
    t: &Transition,
    secret: Option<&Secret>,
    cfg: &HealthConfig,
    at: Timestamp,
    dashboard_url: Option<&str>,
) -> Value {
    let name = name_text(&t.name);
    let finding = match (t.to, secret) {
        (Some(alarm), Some(s)) => health::evaluate(s, None, cfg, at)
            .into_iter()
            .find(|f| f.rule == alarm.rule() && f.is_active()),
        _ => None,
    };
    let was = t
        .from
        .map(|a| format!(" (was: {})", alarm_words(a)))
        .unwrap_or_default();
    let (emoji, headline, fallback) = match (t.to, secret) {
        (Some(Alarm::RotationFailed), _) => (
            ":red_circle:",
            format!("*Rotation failed*{was}: *{name}*"),
            format!("Rotation failed: {name}"),
        ),
        (Some(Alarm::RotationOverdue), _) => (
            ":large_orange_circle:",
            format!("*Rotation overdue*{was}: *{name}*"),
            format!("Rotation overdue: {name}"),
        ),
        (None, Some(_)) => (
            ":white_check_mark:",
            format!(
                "*Recovered*: *{name}* is no longer {}",
                t.from.map_or("alarmed", alarm_words)
            ),
            format!("Recovered: {name}"),
        ),
        (None, None) => (
            ":wastebasket:",
            format!(
                "*Gone from the inventory*: *{name}* ({}) was deleted or is no longer listed",
                t.from.map_or("alarmed", alarm_words)
            ),
            format!("Gone from the inventory: {name}"),
        ),
    };
    let mut text = format!("{emoji} {headline}");
    if let Some(f) = &finding {
        text.push('\n');
        text.push_str(&escape(&clip(&f.detail, MAX_DETAIL)));
    }
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": text},
    })];

    let mut fields = Vec::new();
    if let Some(s) = secret {
        fields.push(field("Account", &escape(&s.account)));
        fields.push(field("Region", &escape(&s.region)));
    }
    if let Some(f) = &finding {
        fields.push(field("Severity", f.severity.as_str()));
        if let Some(since) = f.since {
            fields.push(field("Since", &when(since)));
        }
    }
    if let Some(s) = secret {
        if let Some(arn) = s.rotation_lambda_arn.as_deref() {
            fields.push(field(
                "Lambda",
                &escape(&clip(crate::domain::secret::function_name(arn), MAX_NAME)),
            ));
        }
        if t.to.is_none() {
            if let Some(last) = s.last_rotated {
                fields.push(field("Last rotated", &when(last)));
            }
        }
    }
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let mut context = vec![format!(
        "secretscope · {} · evaluated {}",
        t.to.map_or("recovered", |a| a.rule().as_str()),
        when(at)
    )];
    if secret.is_some() {
        let href = crate::app::pages::secret::secret_href(&t.name);
        context.extend(link(dashboard_url, &href, "Open in secretscope"));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": context.join(" · ")}],
    }));
    json!({"text": fallback, "blocks": blocks})
}

/// The first evaluation's summary: what is already failed or overdue.
/// None when nothing is.
pub fn start_summary(view: &HealthView, dashboard_url: Option<&str>) -> Option<Value> {
    let mut failed = Vec::new();
    let mut overdue = Vec::new();
    for (s, sum) in view.snapshot.secrets().iter().zip(&view.summaries) {
        match Alarm::of(sum) {
            Some(Alarm::RotationFailed) => failed.push(&*s.name),
            Some(Alarm::RotationOverdue) => overdue.push(&*s.name),
            None => {}
        }
    }
    if failed.is_empty() && overdue.is_empty() {
        return None;
    }
    let headline = format!(
        ":rotating_light: secretscope started watching {} secrets: *{} rotations failed*, *{} overdue*.",
        view.counts.secrets,
        failed.len(),
        overdue.len()
    );
    let listed: Vec<(&str, Alarm)> = failed
        .iter()
        .map(|n| (*n, Alarm::RotationFailed))
        .chain(overdue.iter().map(|n| (*n, Alarm::RotationOverdue)))
        .collect();
    Some(list_message(
        &headline,
        &format!(
            "secretscope: {} rotations failed, {} overdue",
            failed.len(),
            overdue.len()
        ),
        &listed,
        view.at,
        dashboard_url,
        "Alerts follow for each secret that fails, becomes overdue or recovers from now on.",
    ))
}

/// One message for many transitions at once.
pub fn digest(view: &HealthView, changes: &[Transition], dashboard_url: Option<&str>) -> Value {
    let n = |f: fn(&Transition) -> bool| changes.iter().filter(|t| f(t)).count();
    let failed = n(|t| t.to == Some(Alarm::RotationFailed));
    let overdue = n(|t| t.to == Some(Alarm::RotationOverdue));
    let recovered = n(|t| t.to.is_none());
    let headline = format!(
        ":rotating_light: {} rotation alarms changed at once: *{failed} entered failed*, *{overdue} entered overdue*, *{recovered} recovered*.",
        changes.len()
    );
    let mut lines = String::new();
    for t in changes.iter().take(MAX_LISTED) {
        let to = t.to.map_or("recovered", alarm_words);
        lines.push_str(&format!("• *{}*: {to}\n", name_text(&t.name)));
    }
    if changes.len() > MAX_LISTED {
        lines.push_str(&format!("…and {} more\n", changes.len() - MAX_LISTED));
    }
    let mut context = vec![format!("secretscope · evaluated {}", when(view.at))];
    context.extend(link(dashboard_url, "/oncall", "Open the on-call view"));
    json!({
        "text": format!("secretscope: {} rotation alarms changed ({failed} failed, {overdue} overdue, {recovered} recovered)", changes.len()),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines.trim_end()}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]},
        ],
    })
}

fn list_message(
    headline: &str,
    fallback: &str,
    listed: &[(&str, Alarm)],
    at: Timestamp,
    dashboard_url: Option<&str>,
    footnote: &str,
) -> Value {
    let mut lines = String::new();
    for (name, alarm) in listed.iter().take(MAX_LISTED) {
        lines.push_str(&format!(
            "• *{}*: {}\n",
            name_text(name),
            alarm_words(*alarm)
        ));
    }
    if listed.len() > MAX_LISTED {
        lines.push_str(&format!("…and {} more\n", listed.len() - MAX_LISTED));
    }
    let mut context = vec![
        format!("secretscope · evaluated {}", when(at)),
        footnote.to_string(),
    ];
    context.extend(link(dashboard_url, "/oncall", "Open the on-call view"));
    json!({
        "text": fallback,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines.trim_end()}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]},
        ],
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Label, Version, VersionId};
    use crate::server::inventory::Snapshot;
    use std::collections::{HashMap, VecDeque};
    use std::sync::Mutex;

    const NOW: i64 = 1_800_000_000;

    /// Statuses to answer with, and their `Retry-After`.
    type Script = Arc<Mutex<VecDeque<(u16, Option<&'static str>)>>>;

    /// A webhook receiver on a free loopback port: records every POST body
    /// and answers with the scripted statuses, then 200 "ok".
    pub(crate) struct Receiver {
        pub url: String,
        pub bodies: Arc<Mutex<Vec<Value>>>,
        script: Script,
        server: tokio::task::JoinHandle<()>,
    }

    impl Receiver {
        pub(crate) async fn start() -> Receiver {
            use axum::http::StatusCode;
            use axum::response::IntoResponse;
            let bodies: Arc<Mutex<Vec<Value>>> = Default::default();
            let script: Script = Default::default();
            let (b, s) = (bodies.clone(), script.clone());
            let app = axum::Router::new().route(
                "/services/{*rest}",
                axum::routing::post(move |body: Bytes| {
                    let (b, s) = (b.clone(), s.clone());
                    async move {
                        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        b.lock().unwrap().push(v);
                        let (code, retry) = s.lock().unwrap().pop_front().unwrap_or((200, None));
                        let mut resp = (StatusCode::from_u16(code).unwrap(), "ok").into_response();
                        if let Some(r) = retry {
                            resp.headers_mut().insert("retry-after", r.parse().unwrap());
                        }
                        resp
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                axum::serve(listener, app).await.unwrap();
            });
            Receiver {
                url: format!("http://{addr}/services/T000/B000/credential"),
                bodies,
                script,
                server,
            }
        }

        pub(crate) fn answer(&self, statuses: &[(u16, Option<&'static str>)]) {
            self.script.lock().unwrap().extend(statuses.iter().copied());
        }

        pub(crate) fn bodies(&self) -> Vec<Value> {
            self.bodies.lock().unwrap().clone()
        }
    }

    impl Drop for Receiver {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            max_retry_after: Duration::from_millis(20),
            timeout: Duration::from_secs(10),
        }
    }

    fn settings(url: &str, dashboard: Option<&str>) -> AlertSettings {
        AlertSettings {
            webhook_url: Some(url.to_string()),
            dashboard_url: dashboard.map(String::from),
            ..AlertSettings::default()
        }
    }

    fn sink_for(url: &str, policy: RetryPolicy) -> (WebhookSink, Delivery, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        let (sink, delivery) = WebhookSink::new(
            &settings(url, Some("https://dash.example.test/")),
            HealthConfig::default(),
            metrics.clone(),
            policy,
        )
        .unwrap()
        .unwrap();
        (sink, delivery, metrics)
    }

    /// A secret whose rotation has been stuck for two hours.
    fn stuck(name: &str) -> Secret {
        let mut s = secret(name);
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rotate-<b>&co".into());
        s.last_rotated = Some(Timestamp::new(NOW - 86_400));
        s.versions.push(Version {
            id: VersionId::parse("pending-1"),
            labels: [Label::Pending].into_iter().collect(),
            created: Some(Timestamp::new(NOW - 7200)),
            last_accessed: None,
        });
        s
    }

    fn all_text(v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                Value::Object(o) => o.values().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        walk(v, &mut out);
        out
    }

    /// Only Slack's documented block shapes, and every `<` opens a token
    /// this module wrote (a date or a dashboard link).
    fn assert_slack_shape(v: &Value) {
        assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
        let blocks = v["blocks"].as_array().expect("blocks");
        assert!(!blocks.is_empty() && blocks.len() <= 50);
        for b in blocks {
            match b["type"].as_str() {
                Some("section") => {
                    if let Some(t) = b.get("text") {
                        assert_eq!(t["type"], "mrkdwn");
                        assert!(t["text"].as_str().unwrap().chars().count() <= 3000);
                    }
                    if let Some(f) = b.get("fields") {
                        let f = f.as_array().unwrap();
                        assert!(!f.is_empty() && f.len() <= 10);
                        for x in f {
                            assert_eq!(x["type"], "mrkdwn");
                            assert!(x["text"].as_str().unwrap().chars().count() <= 2000);
                        }
                    }
                    assert!(b.get("text").is_some() || b.get("fields").is_some());
                }
                Some("context") => {
                    let e = b["elements"].as_array().unwrap();
                    assert!(!e.is_empty() && e.len() <= 10);
                }
                other => panic!("unexpected block {other:?}"),
            }
        }
        for t in all_text(v) {
            for (i, _) in t.match_indices('<') {
                let rest = &t[i..];
                assert!(
                    rest.starts_with("<!date^") || rest.starts_with("<https://dash.example.test/"),
                    "a raw < that is not ours in {t:?}"
                );
            }
        }
    }

    #[test]
    fn escaping_follows_slacks_rules() {
        assert_eq!(
            escape("<!channel> & <https://evil.test|click>"),
            "&lt;!channel&gt; &amp; &lt;https://evil.test|click&gt;"
        );
        assert_eq!(escape("prod/db"), "prod/db");
        assert_eq!(
            escape("&amp;"),
            "&amp;amp;",
            "escaped once more, not trusted"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn a_failure_message_names_the_secret_and_escapes_it() {
        let s = stuck("prod/<!channel>&db");
        let t = Transition {
            arn: s.arn.clone(),
            name: s.name.clone(),
            from: None,
            to: Some(Alarm::RotationFailed),
        };
        let v = transition_message(
            &t,
            Some(&s),
            &HealthConfig::default(),
            Timestamp::new(NOW),
            Some("https://dash.example.test"),
        );
        assert_slack_shape(&v);
        let body = v.to_string();
        assert!(!body.contains("<!channel>"), "{body}");
        assert_eq!(v["text"], "Rotation failed: prod/&lt;!channel&gt;&amp;db");
        let head = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            head.starts_with(":red_circle: *Rotation failed*: *prod/&lt;!channel&gt;&amp;db*"),
            "{head}"
        );
        // The rule's own sentence, escaped (it names the Lambda and the version).
        let detail = health::evaluate(&s, None, &HealthConfig::default(), Timestamp::new(NOW))
            .into_iter()
            .find(|f| f.rule == crate::domain::health::RuleId::RotationFailed)
            .unwrap()
            .detail;
        assert!(head.contains(&escape(&detail)), "{head}");
        let fields = all_text(&v["blocks"][1]);
        assert!(
            fields.contains(&"*Account*\n123456789012".to_string()),
            "{fields:?}"
        );
        assert!(fields.contains(&"*Severity*\ncritical".to_string()));
        assert!(
            fields.contains(&"*Lambda*\nrotate-&lt;b&gt;&amp;co".to_string()),
            "{fields:?}"
        );
        assert!(fields
            .iter()
            .any(|f| f.starts_with(&format!("*Since*\n<!date^{}^", NOW - 7200))));
        let context = v["blocks"][2]["elements"][0]["text"].as_str().unwrap();
        assert!(
            context.contains(
                "<https://dash.example.test/secret/prod/%3C%21channel%3E%26db|Open in secretscope>"
            ),
            "{context}"
        );
        assert!(context.contains("rotation-failed"));
    }

    #[test]
    fn overdue_recovered_and_gone() {
        let cfg = HealthConfig::default();
        let mut s = secret("app/api-key");
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rot".into());
        s.last_rotated = Some(Timestamp::new(NOW - 40 * 86_400));
        s.next_rotation = Some(Timestamp::new(NOW - 5 * 86_400));
        let t = |from, to| Transition {
            arn: s.arn.clone(),
            name: s.name.clone(),
            from,
            to,
        };
        let overdue = transition_message(
            &t(Some(Alarm::RotationFailed), Some(Alarm::RotationOverdue)),
            Some(&s),
            &cfg,
            Timestamp::new(NOW),
            None,
        );
        assert_slack_shape(&overdue);
        let head = overdue["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            head.starts_with(
                ":large_orange_circle: *Rotation overdue* (was: rotation failed): *app/api-key*\n"
            ),
            "{head}"
        );
        assert!(
            !overdue.to_string().contains("Open in secretscope"),
            "no dashboard URL, no link"
        );

        let recovered = transition_message(
            &t(Some(Alarm::RotationFailed), None),
            Some(&s),
            &cfg,
            Timestamp::new(NOW),
            Some("https://dash.example.test"),
        );
        assert_slack_shape(&recovered);
        assert_eq!(recovered["text"], "Recovered: app/api-key");
        let head = recovered["blocks"][0]["text"]["text"].as_str().unwrap();
        assert_eq!(
            head,
            ":white_check_mark: *Recovered*: *app/api-key* is no longer rotation failed"
        );
        assert!(all_text(&recovered)
            .iter()
            .any(|x| x.starts_with("*Last rotated*")));

        let gone = transition_message(
            &t(Some(Alarm::RotationOverdue), None),
            None,
            &cfg,
            Timestamp::new(NOW),
            Some("https://dash.example.test"),
        );
        assert_slack_shape(&gone);
        assert_eq!(gone["text"], "Gone from the inventory: app/api-key");
        assert_eq!(
            gone["blocks"].as_array().unwrap().len(),
            2,
            "no fields, no link"
        );
    }

    fn view_of(secrets: Vec<Secret>) -> HealthView {
        let snap = Snapshot::new(
            secrets.into_iter().map(Arc::new).collect(),
            Some(Timestamp::new(NOW)),
        );
        HealthView::compute(
            Arc::new(snap),
            &HealthConfig::default(),
            Timestamp::new(NOW),
            &HashMap::new(),
        )
    }

    #[test]
    fn the_start_summary_is_sent_only_when_something_is_broken() {
        assert_eq!(start_summary(&view_of(vec![secret("fine")]), None), None);
        let many: Vec<Secret> = (0..25).map(|i| stuck(&format!("svc{i:02}/db"))).collect();
        let v = start_summary(&view_of(many), Some("https://dash.example.test")).unwrap();
        assert_slack_shape(&v);
        assert_eq!(v["text"], "secretscope: 25 rotations failed, 0 overdue");
        let list = v["blocks"][1]["text"]["text"].as_str().unwrap();
        assert_eq!(list.lines().count(), MAX_LISTED + 1);
        assert!(list.ends_with("…and 5 more"), "{list}");
        assert!(v.to_string().contains("<https://dash.example.test/oncall|"));
    }

    #[tokio::test]
    async fn the_sink_sends_one_message_per_change_and_a_digest_for_a_flood() {
        let (sink, delivery, metrics) = sink_for("http://127.0.0.1:9/services/x", fast());
        drop(delivery);
        let mut rx = {
            // Swap in a receiver we can read: rebuild with a live channel.
            let (tx, rx) = mpsc::channel(QUEUE);
            let sink = WebhookSink {
                out: Notifier {
                    tx,
                    ..sink.out.clone()
                },
                ..sink
            };
            let secrets: Vec<Secret> = (0..3).map(|i| stuck(&format!("s{i}"))).collect();
            let view = view_of(secrets.clone());
            let changes: Vec<Transition> = secrets
                .iter()
                .map(|s| Transition {
                    arn: s.arn.clone(),
                    name: s.name.clone(),
                    from: None,
                    to: Some(Alarm::RotationFailed),
                })
                .collect();
            sink.transitions(&view, changes.clone());
            let flood: Vec<Transition> = changes.iter().cycle().take(21).cloned().collect();
            sink.transitions(&view, flood);
            sink.baseline(&view, 0);
            rx
        };
        let mut got = Vec::new();
        while let Some(m) = rx.recv().await {
            got.push(m);
        }
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0].about, "rotation-failed \"s0\"");
        assert_eq!(got[3].about, "digest of 21 changes");
        assert_slack_shape(&got[3].payload);
        assert_eq!(metrics.alerts.queued.load(Ordering::Relaxed), 4);
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_without_waiting() {
        let (sink, _delivery, metrics) = sink_for("http://127.0.0.1:9/services/x", fast());
        for i in 0..QUEUE + 2 {
            sink.queue(Message {
                about: format!("m{i}"),
                payload: json!({"text": "x"}),
            });
        }
        assert_eq!(metrics.alerts.dropped.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.alerts.queued.load(Ordering::Relaxed), QUEUE as u64);
    }

    #[tokio::test]
    async fn retries_a_500_then_delivers_and_gives_up_on_a_400() {
        let rx = Receiver::start().await;
        let (_sink, delivery, metrics) = sink_for(&rx.url, fast());
        let msg = Message {
            about: "test".into(),
            payload: json!({"text": "hello", "blocks": []}),
        };
        rx.answer(&[(500, None), (429, Some("0"))]);
        assert!(delivery.deliver(&msg).await);
        let bodies = rx.bodies();
        assert_eq!(bodies.len(), 3, "500, 429, then ok");
        assert!(bodies.iter().all(|b| *b == msg.payload));
        let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        assert_eq!(count(&metrics.alerts.retries), 2);
        assert_eq!(count(&metrics.alerts.sent), 1);

        rx.answer(&[(400, None)]);
        assert!(!delivery.deliver(&msg).await);
        assert_eq!(rx.bodies().len(), 4, "a 400 is not retried");
        assert_eq!(count(&metrics.alerts.failed), 1);

        rx.answer(&[(503, None), (503, None), (503, None)]);
        assert!(!delivery.deliver(&msg).await);
        assert_eq!(rx.bodies().len(), 7, "three attempts, then give up");
        assert_eq!(count(&metrics.alerts.failed), 2);
    }

    #[tokio::test]
    async fn connection_errors_are_retried() {
        // A port that was free a moment ago: connection refused.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (_sink, delivery, metrics) =
            sink_for(&format!("http://127.0.0.1:{port}/services/x"), fast());
        let msg = Message {
            about: "test".into(),
            payload: json!({"text": "x"}),
        };
        assert!(!delivery.deliver(&msg).await);
        assert_eq!(metrics.alerts.retries.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.alerts.failed.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn https_urls_speak_tls() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let first = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 3];
            s.read_exact(&mut buf).await.unwrap();
            buf
        });
        let policy = RetryPolicy {
            attempts: 1,
            ..fast()
        };
        let (_sink, delivery, _) = sink_for(&format!("https://{addr}/services/x"), policy);
        let msg = Message {
            about: "test".into(),
            payload: json!({"text": "x"}),
        };
        let sent = tokio::spawn(async move { delivery.deliver(&msg).await });
        let record = first.await.unwrap();
        assert_eq!(record[0], 0x16, "a TLS handshake record, not plain HTTP");
        assert_eq!(record[1], 0x03);
        assert!(!sent.await.unwrap(), "nobody finished the handshake");
    }

    #[test]
    fn retry_after_and_bad_urls() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(http::header::RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None, "dates fall back to the backoff");

        let m = Arc::new(Metrics::new());
        for bad in ["hooks.slack.com/services/x", "ftp://x/y", "http:///nohost"] {
            let err = WebhookSink::new(
                &settings(bad, None),
                HealthConfig::default(),
                m.clone(),
                fast(),
            )
            .err()
            .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(!err.to_string().contains(bad), "the URL is not repeated");
        }
        let none = WebhookSink::new(
            &AlertSettings::default(),
            HealthConfig::default(),
            m,
            fast(),
        );
        assert!(matches!(none, Ok(None)));
    }
}
