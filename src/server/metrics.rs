//! `/metrics`: the Prometheus text exposition format (version 0.0.4),
//! written by hand.
//!
//! What a scrape reads:
//! - the health of the inventory from the monitor's current view
//!   ([`super::health::HealthMonitor::current`]: the kept view, or one new
//!   evaluation when the kept one is stale), counted by account and region,
//!   by rule and by worst severity;
//! - the sync status of the inventory and the AWS call counters of the source;
//! - the process's own counters kept here: HTTP requests (recorded by
//!   [`track`], an axum middleware) and webhook deliveries.
//!
//! Labels are bounded and never carry a secret's name: routes are mapped to
//! templates ([`route_of`]), methods to a fixed list, accounts and regions
//! are those of the inventory.

use super::aws::client::CounterValues;
use super::inventory::{SourceStatus, SyncStatus};
use super::AppState;
use crate::domain::health::{HealthConfig, RuleId, Severity};
use crate::domain::Timestamp;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the request duration histogram, seconds (Prometheus'
/// default buckets: pages render in milliseconds, a cold health
/// evaluation of a large inventory takes a second or more).
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The health label values, in the order of `Counts::by_worst`.
const HEALTH: [&str; 6] = ["ok", "info", "low", "medium", "high", "critical"];

/// The process's own counters.
#[derive(Default)]
pub struct Metrics {
    http: Mutex<HashMap<(&'static str, &'static str), RouteStats>>,
    pub alerts: AlertCounters,
}

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    buckets: [u64; DURATION_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// Webhook delivery counters, kept by [`super::alerts`].
#[derive(Default)]
pub struct AlertCounters {
    /// 1 when a webhook is configured and its delivery task runs.
    pub enabled: AtomicU64,
    /// Messages delivered (2xx).
    pub sent: AtomicU64,
    /// Messages given up on: a permanent error or the retries spent.
    pub failed: AtomicU64,
    /// Messages not queued: the queue was full.
    pub dropped: AtomicU64,
    /// Attempts after the first.
    pub retries: AtomicU64,
    /// Messages waiting for delivery or being delivered.
    pub queued: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one request.
    pub fn observe_http(
        &self,
        method: &'static str,
        route: &'static str,
        status: u16,
        took: Duration,
    ) {
        let secs = took.as_secs_f64();
        let slot = DURATION_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(DURATION_BUCKETS.len());
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let r = http.entry((method, route)).or_default();
        *r.by_status.entry(status).or_default() += 1;
        r.buckets[slot] += 1;
        r.sum += secs;
        r.count += 1;
    }

    fn write_http(&self, e: &mut Exposition) {
        let http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = http.keys().copied().collect();
        keys.sort_unstable();
        e.family(
            "secretscope_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status code.",
        );
        for k in &keys {
            for (status, n) in &http[k].by_status {
                e.sample(
                    "secretscope_http_requests_total",
                    &[
                        ("method", k.0),
                        ("route", k.1),
                        ("status", &status.to_string()),
                    ],
                    *n,
                );
            }
        }
        let name = "secretscope_http_request_duration_seconds";
        e.family(
            name,
            "histogram",
            "Time from receiving a request to sending its response head, by method and route template.",
        );
        for k in &keys {
            let r = &http[k];
            let mut cumulative = 0;
            for (i, n) in r.buckets.iter().enumerate() {
                cumulative += n;
                let le = DURATION_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| fmt_f64(*b));
                e.sample(
                    &format!("{name}_bucket"),
                    &[("method", k.0), ("route", k.1), ("le", &le)],
                    cumulative,
                );
            }
            e.sample(
                &format!("{name}_sum"),
                &[("method", k.0), ("route", k.1)],
                fmt_f64(r.sum),
            );
            e.sample(
                &format!("{name}_count"),
                &[("method", k.0), ("route", k.1)],
                r.count,
            );
        }
    }

    fn write_alerts(&self, e: &mut Exposition) {
        let a = &self.alerts;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        e.gauge(
            "secretscope_alerts_enabled",
            "1 when a webhook is configured and its delivery task runs.",
            load(&a.enabled),
        );
        e.family(
            "secretscope_alerts_sent_total",
            "counter",
            "Webhook messages by outcome: ok (delivered), error (a permanent error or the retries spent), dropped (the queue was full).",
        );
        for (result, c) in [
            ("ok", &a.sent),
            ("error", &a.failed),
            ("dropped", &a.dropped),
        ] {
            e.sample(
                "secretscope_alerts_sent_total",
                &[("result", result)],
                load(c),
            );
        }
        e.family(
            "secretscope_alerts_retries_total",
            "counter",
            "Webhook delivery attempts after the first (5xx, 429, timeouts, connection errors).",
        );
        e.sample("secretscope_alerts_retries_total", &[], load(&a.retries));
        e.gauge(
            "secretscope_alerts_queued",
            "Webhook messages waiting for delivery or being delivered.",
            load(&a.queued),
        );
    }
}

/// Maps a request path to a bounded route label.
pub fn route_of(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/secrets" => "/secrets",
        "/oncall" => "/oncall",
        "/metrics" => "/metrics",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        _ => {
            for (prefix, label) in [
                ("/secret/", "/secret/*"),
                ("/export/", "/export/*"),
                ("/api/", "/api/*"),
                ("/pkg/", "/pkg/*"),
            ] {
                if path.starts_with(prefix) {
                    return label;
                }
            }
            "other"
        }
    }
}

/// A bounded method label.
pub fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts every request by method, route template and status,
/// and observes its duration up to the response head.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = route_of(req.uri().path());
    let started = Instant::now();
    let resp = next.run(req).await;
    metrics.observe_http(method, route, resp.status().as_u16(), started.elapsed());
    resp
}

/// `GET /metrics`.
pub async fn handler(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.auth.settings.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
            return (
                axum::http::StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "The metrics need the bearer token set in auth.metrics_token.\n",
            )
                .into_response();
        }
    }
    let now = super::aws::sync::now();
    // `current` may evaluate the rules: CPU work, off the async workers.
    match tokio::task::spawn_blocking(move || render(&state, now)).await {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the metrics failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The whole exposition for `state` at `now`.
pub fn render(state: &AppState, now: Timestamp) -> String {
    let view = state.health.current(now);
    let sources: Vec<SourceMetrics> = state
        .inventory
        .sources()
        .into_iter()
        .map(|status| SourceMetrics {
            api: state
                .sources
                .all()
                .iter()
                .find(|s| s.id() == status.id)
                .map(|s| s.counters.values())
                .unwrap_or_default(),
            status,
        })
        .collect();
    let inputs = Inputs {
        view: &view,
        cfg: &state.health.cfg,
        status: &state.inventory.status(),
        ready: state.inventory.is_ready(),
        sources: &sources,
    };
    let mut e = Exposition::default();
    write_inventory(&mut e, &inputs);
    state.metrics.write_http(&mut e);
    state.metrics.write_alerts(&mut e);
    e.family(
        "secretscope_build_info",
        "gauge",
        "Always 1; the version is a label.",
    );
    e.sample(
        "secretscope_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    e.finish()
}

/// What the inventory part of a scrape reads.
pub struct Inputs<'a> {
    pub view: &'a super::health::HealthView,
    pub cfg: &'a HealthConfig,
    pub status: &'a SyncStatus,
    pub ready: bool,
    /// Each source's own status and AWS call counters.
    pub sources: &'a [SourceMetrics],
}

pub struct SourceMetrics {
    pub status: SourceStatus,
    pub api: CounterValues,
}

pub fn write_inventory(e: &mut Exposition, i: &Inputs<'_>) {
    let view = i.view;
    // Secrets by account, region and worst active severity.
    let mut places: BTreeMap<(&str, &str), [usize; 6]> = BTreeMap::new();
    for (s, sum) in view.snapshot.secrets().iter().zip(&view.summaries) {
        let slot = sum.worst.map_or(0, |w| w as usize + 1);
        places.entry((&s.account, &s.region)).or_default()[slot] += 1;
    }
    e.family(
        "secretscope_secrets",
        "gauge",
        "Secrets in the inventory (those scheduled for deletion included), by account and region.",
    );
    for ((account, region), by) in &places {
        e.sample(
            "secretscope_secrets",
            &[("account", account), ("region", region)],
            by.iter().sum::<usize>(),
        );
    }
    e.family(
        "secretscope_secrets_by_health",
        "gauge",
        "Secrets by account, region and worst active (not suppressed) finding severity; ok: none.",
    );
    for ((account, region), by) in &places {
        for (health, n) in HEALTH.iter().zip(by) {
            e.sample(
                "secretscope_secrets_by_health",
                &[("account", account), ("region", region), ("health", health)],
                *n,
            );
        }
    }
    e.family(
        "secretscope_findings",
        "gauge",
        "Secrets with an active (not suppressed) finding of each enabled rule, with the rule's configured severity.",
    );
    for id in RuleId::ALL.iter().filter(|id| i.cfg.is_enabled(**id)) {
        e.sample(
            "secretscope_findings",
            &[
                ("rule", id.as_str()),
                ("severity", i.cfg.severity_of(*id).as_str()),
            ],
            view.counts.active[*id as usize],
        );
    }
    e.family(
        "secretscope_findings_suppressed",
        "gauge",
        "Secrets whose finding of each enabled rule is suppressed by the suppression tag.",
    );
    for id in RuleId::ALL.iter().filter(|id| i.cfg.is_enabled(**id)) {
        e.sample(
            "secretscope_findings_suppressed",
            &[("rule", id.as_str())],
            view.counts.suppressed[*id as usize],
        );
    }
    e.gauge(
        "secretscope_health_evaluation_seconds",
        "How long the last health evaluation of the whole inventory took.",
        fmt_f64(view.took.as_secs_f64()),
    );
    if view.snapshot.taken_at.is_some() {
        e.gauge(
            "secretscope_health_evaluated_timestamp_seconds",
            "When the health shown was evaluated (Unix time).",
            view.at.secs(),
        );
    }

    let st = i.status;
    e.gauge(
        "secretscope_inventory_ready",
        "1 once a list pass has succeeded (what /readyz answers).",
        u8::from(i.ready),
    );
    e.gauge(
        "secretscope_sync_up",
        "1 when the last list pass succeeded, 0 when it failed or none has finished.",
        u8::from(st.last_success.is_some() && st.last_error.is_none()),
    );
    e.family(
        "secretscope_syncs_total",
        "counter",
        "List passes by result.",
    );
    e.sample("secretscope_syncs_total", &[("result", "ok")], st.syncs_ok);
    e.sample(
        "secretscope_syncs_total",
        &[("result", "error")],
        st.syncs_failed,
    );
    if let Some(t) = st.last_success {
        e.gauge(
            "secretscope_sync_last_success_timestamp_seconds",
            "When the last successful list pass finished (Unix time).",
            t.secs(),
        );
    }
    if let Some(t) = st.last_attempt {
        e.gauge(
            "secretscope_sync_last_attempt_timestamp_seconds",
            "When the last list pass started (Unix time).",
            t.secs(),
        );
    }
    if let Some(list) = &st.list {
        e.gauge(
            "secretscope_sync_last_duration_seconds",
            "How long the last successful list pass took.",
            fmt_f64(list.duration_ms as f64 / 1e3),
        );
        e.gauge(
            "secretscope_sync_last_pages",
            "ListSecrets pages read by the last successful list pass.",
            list.pages,
        );
    }
    e.gauge(
        "secretscope_sync_versions_missing",
        "Secrets whose version dates are not known yet (the version pass is behind).",
        st.versions_missing,
    );
    write_sources(e, i.sources);
}

/// Per source: up, passes, last success, secrets, duration, AWS calls.
fn write_sources(e: &mut Exposition, sources: &[SourceMetrics]) {
    let label = |s: &SourceMetrics| {
        [
            ("source", s.status.id.clone()),
            ("account", s.status.account.clone().unwrap_or_default()),
            ("region", s.status.region.clone()),
        ]
    };
    type Family = (
        &'static str,
        &'static str,
        &'static str,
        fn(&SourceMetrics) -> Option<String>,
    );
    let families: [Family; 8] = [
        (
            "secretscope_source_up",
            "gauge",
            "1 when the source's last list pass succeeded, 0 when it failed or none has finished.",
            |s| {
                Some(
                    u8::from(
                        s.status.status.last_success.is_some()
                            && s.status.status.last_error.is_none(),
                    )
                    .to_string(),
                )
            },
        ),
        (
            "secretscope_source_last_success_timestamp_seconds",
            "gauge",
            "When the source's last successful list pass finished (Unix time).",
            |s| s.status.status.last_success.map(|t| t.secs().to_string()),
        ),
        (
            "secretscope_source_secrets",
            "gauge",
            "Secrets the source's last successful list pass returned.",
            |s| s.status.status.list.as_ref().map(|l| l.secrets.to_string()),
        ),
        (
            "secretscope_source_last_duration_seconds",
            "gauge",
            "How long the source's last successful list pass took.",
            |s| {
                s.status
                    .status
                    .list
                    .as_ref()
                    .map(|l| fmt_f64(l.duration_ms as f64 / 1e3))
            },
        ),
        (
            "secretscope_source_failed_syncs_total",
            "counter",
            "The source's failed list passes.",
            |s| Some(s.status.status.syncs_failed.to_string()),
        ),
        (
            "secretscope_aws_api_calls_total",
            "counter",
            "Secrets Manager HTTP attempts by the source's sync client, retries included.",
            |s| Some(s.api.attempts.to_string()),
        ),
        (
            "secretscope_aws_throttled_total",
            "counter",
            "Secrets Manager attempts of the source answered with throttling.",
            |s| Some(s.api.throttled.to_string()),
        ),
        (
            "secretscope_aws_server_errors_total",
            "counter",
            "Secrets Manager attempts of the source answered with a 5xx.",
            |s| Some(s.api.server_errors.to_string()),
        ),
    ];
    for (name, kind, help, value) in families {
        e.family(name, kind, help);
        for s in sources {
            if let Some(v) = value(s) {
                let owned = label(s);
                let l: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
                e.sample(name, &l, v);
            }
        }
    }
}

/// Severity to its `secretscope_secrets_by_health` label value.
pub fn health_label(worst: Option<Severity>) -> &'static str {
    HEALTH[worst.map_or(0, |w| w as usize + 1)]
}

/// A text exposition being written: each family's HELP and TYPE, then its
/// samples.
#[derive(Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A gauge family with one unlabelled sample.
    pub fn gauge(&mut self, name: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value: backslash, double quote and line feed escaped.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: backslash and line feed escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A float as Prometheus reads it.
pub fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Label, Version, VersionId};
    use crate::server::health::HealthView;
    use crate::server::inventory::{ListStats, Snapshot};
    use std::collections::{BTreeSet, HashMap};

    const NOW: i64 = 1_800_000_000;

    /// One parsed sample line.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Sample {
        pub name: String,
        pub labels: BTreeMap<String, String>,
        pub value: f64,
    }

    /// Parses a text exposition strictly: every sample belongs to a family
    /// declared before it with HELP and TYPE, names and label names are
    /// valid, label values are unescaped, values are numbers, no family is
    /// declared twice and no series appears twice.
    pub(crate) fn parse(text: &str) -> Result<Vec<Sample>, String> {
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.chars().enumerate().all(|(i, c)| {
                    c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
                })
        };
        let mut types: HashMap<String, String> = HashMap::new();
        let mut helps: BTreeSet<String> = BTreeSet::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        if !text.ends_with('\n') {
            return Err("the exposition must end with a line feed".into());
        }
        for (n, line) in text.lines().enumerate() {
            let err = |m: &str| format!("line {}: {m}: {line:?}", n + 1);
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap_or("");
                if !valid_name(name) || !helps.insert(name.to_string()) {
                    return Err(err("bad or repeated HELP"));
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut parts = rest.split(' ');
                let (name, kind) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if !helps.contains(name) {
                    return Err(err("TYPE without HELP"));
                }
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                    || types.insert(name.to_string(), kind.to_string()).is_some()
                {
                    return Err(err("bad or repeated TYPE"));
                }
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                return Err(err("unexpected comment or blank line"));
            }
            let name_end = line.find(['{', ' ']).ok_or_else(|| err("no value"))?;
            let name = &line[..name_end];
            if !valid_name(name) {
                return Err(err("bad metric name"));
            }
            let mut labels = BTreeMap::new();
            let mut rest = &line[name_end..];
            if let Some(r) = rest.strip_prefix('{') {
                let mut chars = r.char_indices().peekable();
                loop {
                    let start = chars.peek().map(|(i, _)| *i).ok_or_else(|| err("open"))?;
                    if r[start..].starts_with('}') {
                        rest = &r[start + 1..];
                        break;
                    }
                    let eq = r[start..].find("=\"").ok_or_else(|| err("label"))? + start;
                    let key = &r[start..eq];
                    if !valid_name(key) || key.contains(':') {
                        return Err(err("bad label name"));
                    }
                    while chars.peek().is_some_and(|(i, _)| *i < eq + 2) {
                        chars.next();
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next().ok_or_else(|| err("unterminated value"))?.1 {
                            '\\' => match chars.next().ok_or_else(|| err("escape"))?.1 {
                                '\\' => value.push('\\'),
                                '"' => value.push('"'),
                                'n' => value.push('\n'),
                                _ => return Err(err("bad escape")),
                            },
                            '"' => break,
                            '\n' => return Err(err("raw line feed")),
                            c => value.push(c),
                        }
                    }
                    if labels.insert(key.to_string(), value).is_some() {
                        return Err(err("repeated label"));
                    }
                    if chars.peek().is_some_and(|(_, c)| *c == ',') {
                        chars.next();
                    }
                }
            }
            let value = rest.strip_prefix(' ').ok_or_else(|| err("no space"))?;
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().map_err(|_| err("bad value"))?,
            };
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            if !types.contains_key(family) {
                return Err(err("sample without TYPE"));
            }
            if !seen.insert(format!("{name}{labels:?}")) {
                return Err(err("repeated series"));
            }
            out.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        Ok(out)
    }

    /// The value of the one sample of `name` whose labels include `with`.
    pub(crate) fn value(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> Option<f64> {
        let found: Vec<&Sample> = samples
            .iter()
            .filter(|s| {
                s.name == name
                    && with
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        match found.as_slice() {
            [one] => Some(one.value),
            [] => None,
            many => panic!("{name} {with:?} matches {} samples", many.len()),
        }
    }

    fn stuck(name: &str, account: &str) -> Arc<crate::domain::Secret> {
        let mut s = secret(name);
        s.account = Arc::from(account);
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:1:function:rot".into());
        s.versions.push(Version {
            id: VersionId::parse("pending"),
            labels: [Label::Pending].into_iter().collect(),
            created: Some(Timestamp::new(NOW - 7200)),
            last_accessed: None,
        });
        Arc::new(s)
    }

    fn exposition(cfg: &HealthConfig, status: &SyncStatus) -> String {
        let hostile = "12\"3\\4\n5";
        let snap = Snapshot::new(
            vec![
                stuck("a", "111111111111"),
                Arc::new(secret("b")),
                stuck("prod/<secret-name>", hostile),
            ],
            Some(Timestamp::new(NOW)),
        );
        let view = HealthView::compute(Arc::new(snap), cfg, Timestamp::new(NOW), &HashMap::new());
        let mut e = Exposition::default();
        write_inventory(
            &mut e,
            &Inputs {
                view: &view,
                cfg,
                status,
                ready: true,
                sources: &[SourceMetrics {
                    status: SourceStatus {
                        id: "default/us-east-1".into(),
                        region: "us-east-1".into(),
                        account: Some("123456789012".into()),
                        status: status.clone(),
                        ..Default::default()
                    },
                    api: CounterValues {
                        attempts: 7,
                        throttled: 2,
                        server_errors: 1,
                    },
                }],
            },
        );
        let m = Metrics::new();
        m.observe_http("GET", "/secrets", 200, Duration::from_millis(3));
        m.observe_http("GET", "/secrets", 200, Duration::from_millis(30));
        m.observe_http("GET", "/secrets", 500, Duration::from_secs(60));
        m.observe_http("POST", "/api/*", 200, Duration::from_millis(1));
        m.alerts.sent.store(3, Ordering::Relaxed);
        m.write_http(&mut e);
        m.write_alerts(&mut e);
        e.finish()
    }

    #[test]
    fn the_exposition_parses_back_and_counts_right() {
        let cfg = HealthConfig::default();
        let status = SyncStatus {
            last_success: Some(Timestamp::new(NOW - 5)),
            last_attempt: Some(Timestamp::new(NOW - 6)),
            syncs_ok: 4,
            syncs_failed: 1,
            list: Some(ListStats {
                duration_ms: 1500,
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = exposition(&cfg, &status);
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(!text.contains("<secret-name>"), "no names in labels");

        let hostile = "12\"3\\4\n5";
        assert!(
            text.contains(r#"account="12\"3\\4\n5""#),
            "escaped per the format:\n{text}"
        );
        assert_eq!(
            value(&samples, "secretscope_secrets", &[("account", hostile)]),
            Some(1.0),
            "the escaped label value reads back unchanged"
        );
        assert_eq!(
            value(
                &samples,
                "secretscope_secrets",
                &[("account", "111111111111")]
            ),
            Some(1.0)
        );
        let by_health = |account: &str, h: &str| {
            value(
                &samples,
                "secretscope_secrets_by_health",
                &[("account", account), ("health", h), ("region", "us-east-1")],
            )
        };
        assert_eq!(by_health("111111111111", "critical"), Some(1.0));
        assert_eq!(by_health("111111111111", "ok"), Some(0.0), "zeros are kept");
        assert_eq!(
            value(
                &samples,
                "secretscope_findings",
                &[("rule", "rotation-failed"), ("severity", "critical")]
            ),
            Some(2.0)
        );
        assert_eq!(
            value(&samples, "secretscope_syncs_total", &[("result", "error")]),
            Some(1.0)
        );
        assert_eq!(
            value(&samples, "secretscope_sync_last_duration_seconds", &[]),
            Some(1.5)
        );
        assert_eq!(
            value(
                &samples,
                "secretscope_sync_last_success_timestamp_seconds",
                &[]
            ),
            Some((NOW - 5) as f64)
        );
        assert_eq!(value(&samples, "secretscope_sync_up", &[]), Some(1.0));
        assert_eq!(
            value(&samples, "secretscope_aws_throttled_total", &[]),
            Some(2.0)
        );

        // HTTP: counters by status, a cumulative histogram by route.
        let req = |status: &str| {
            value(
                &samples,
                "secretscope_http_requests_total",
                &[("method", "GET"), ("route", "/secrets"), ("status", status)],
            )
        };
        assert_eq!((req("200"), req("500")), (Some(2.0), Some(1.0)));
        let bucket = |le: &str| {
            value(
                &samples,
                "secretscope_http_request_duration_seconds_bucket",
                &[("route", "/secrets"), ("le", le)],
            )
        };
        assert_eq!(bucket("0.005"), Some(1.0));
        assert_eq!(bucket("0.05"), Some(2.0));
        assert_eq!(bucket("10"), Some(2.0));
        assert_eq!(bucket("+Inf"), Some(3.0));
        assert_eq!(
            value(
                &samples,
                "secretscope_http_request_duration_seconds_count",
                &[("route", "/secrets")]
            ),
            Some(3.0)
        );
        let buckets: Vec<f64> = samples
            .iter()
            .filter(|s| {
                s.name == "secretscope_http_request_duration_seconds_bucket"
                    && s.labels["route"] == "/secrets"
            })
            .map(|s| s.value)
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "cumulative");
        assert_eq!(
            value(
                &samples,
                "secretscope_alerts_sent_total",
                &[("result", "ok")]
            ),
            Some(3.0)
        );
    }

    #[test]
    fn disabled_rules_and_unknown_sync_state() {
        let mut cfg = HealthConfig::default();
        cfg.disabled.insert(RuleId::NoDescription);
        let text = exposition(&cfg, &SyncStatus::default());
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            value(
                &samples,
                "secretscope_findings",
                &[("rule", "no-description")]
            ),
            None
        );
        assert_eq!(value(&samples, "secretscope_sync_up", &[]), Some(0.0));
        assert_eq!(
            value(
                &samples,
                "secretscope_sync_last_success_timestamp_seconds",
                &[]
            ),
            None,
            "no sample rather than a made-up time"
        );
    }

    #[test]
    fn the_parser_rejects_what_prometheus_rejects() {
        let ok = "# HELP x a\n# TYPE x gauge\nx{a=\"b\"} 1\n";
        assert!(parse(ok).is_ok());
        for bad in [
            "x 1\n",
            "# HELP x a\n# TYPE x gauge\nx{a=\"b\\q\"} 1\n",
            "# HELP x a\n# TYPE x gauge\nx{a=\"b\"} one\n",
            "# HELP x a\n# TYPE x gauge\nx 1\nx 2\n",
            "# HELP x a\n# TYPE x gauge\nx 1",
            "# HELP h a\n# TYPE h gauge\nh_bucket{le=\"1\"} 1\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn routes_and_methods_are_bounded() {
        for (path, route) in [
            ("/", "/"),
            ("/secrets", "/secrets"),
            ("/secret/prod/payments/db", "/secret/*"),
            ("/secret/x%3Cy", "/secret/*"),
            ("/oncall", "/oncall"),
            ("/export/secrets.csv", "/export/*"),
            ("/api/list_secrets12345", "/api/*"),
            ("/pkg/secretscope.wasm", "/pkg/*"),
            ("/metrics", "/metrics"),
            ("/healthz", "/healthz"),
            ("/readyz", "/readyz"),
            ("/favicon.ico", "other"),
            ("/secrets/", "other"),
            ("/secret", "other"),
            ("/wp-admin.php", "other"),
        ] {
            assert_eq!(route_of(path), route, "{path}");
        }
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "other"
        );
        assert_eq!(health_label(None), "ok");
        assert_eq!(health_label(Some(Severity::Critical)), "critical");
    }
}
