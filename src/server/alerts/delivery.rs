//! The delivery task: POSTs the queued messages one at a time, in order,
//! with a timeout per attempt, retrying 5xx, 429 (after its `Retry-After`),
//! timeouts and connection errors with exponential backoff.

use super::Message;
use crate::server::metrics::Metrics;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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

/// Delivers queued messages; run it with [`Delivery::run`] on the runtime.
pub struct Delivery {
    rx: mpsc::Receiver<Message>,
    url: http::Uri,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    metrics: Arc<Metrics>,
    policy: RetryPolicy,
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
    pub(super) fn new(
        rx: mpsc::Receiver<Message>,
        url: http::Uri,
        metrics: Arc<Metrics>,
        policy: RetryPolicy,
    ) -> Delivery {
        Delivery {
            rx,
            url,
            client: Client::builder(TokioExecutor::new()).build(connector()),
            metrics,
            policy,
        }
    }
    /// A delivery that posts what it is handed ([`Delivery::deliver_as`]),
    /// with no queue of its own: the outbox's poster.
    pub(super) fn poster(url: http::Uri, metrics: Arc<Metrics>, policy: RetryPolicy) -> Delivery {
        Delivery::new(mpsc::channel(1).1, url, metrics, policy)
    }

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
        self.deliver_as(msg, None).await
    }

    /// [`Delivery::deliver`], with the outbox's id of the message in an
    /// `X-Secretscope-Delivery` header (the same on a repeat).
    pub async fn deliver_as(&self, msg: &Message, id: Option<i64>) -> bool {
        let body = Bytes::from(serde_json::to_vec(&msg.payload).unwrap_or_default());
        let mut backoff = self.policy.first_backoff;
        for attempt in 1..=self.policy.attempts.max(1) {
            let (detail, wait) = match self.attempt(body.clone(), id).await {
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

    async fn attempt(&self, body: Bytes, id: Option<i64>) -> Attempt {
        let mut req = http::Request::post(self.url.clone());
        if let Some(id) = id {
            req = req.header("x-secretscope-delivery", id);
        }
        let req = match req
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
