//! The process's own counters: HTTP requests by route and status with
//! their durations, and webhook deliveries.

use super::exposition::{fmt_f64, Exposition};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the request duration histogram, seconds (Prometheus'
/// default buckets: pages render in milliseconds, a cold health
/// evaluation of a large inventory takes a second or more).
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's own counters.
#[derive(Default)]
pub struct Metrics {
    http: Mutex<HashMap<(&'static str, &'static str), RouteStats>>,
    pub alerts: AlertCounters,
    /// 1 while this replica holds the background lease (`serve` sets it).
    pub lease_held: AtomicU64,
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

    pub(super) fn write_http(&self, e: &mut Exposition) {
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

    pub(super) fn write_alerts(&self, e: &mut Exposition) {
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
        e.gauge(
            "secretscope_lease_held",
            "1 while this replica holds the lease of the once-only background work (alerts, sweeps).",
            load(&self.lease_held),
        );
    }
}
