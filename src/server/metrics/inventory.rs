//! The inventory part of a scrape: secrets and findings by place and rule,
//! the sync status, and each source's status and AWS call counters.

use super::exposition::{fmt_f64, Exposition};
use crate::domain::health::{HealthConfig, RuleId, Severity};
use crate::server::aws::client::CounterValues;
use crate::server::inventory::{SourceStatus, SyncStatus};
use std::collections::BTreeMap;

/// The health label values, in the order of `Counts::by_worst`.
const HEALTH: [&str; 6] = ["ok", "info", "low", "medium", "high", "critical"];

/// What the inventory part of a scrape reads.
pub struct Inputs<'a> {
    pub view: &'a crate::server::health::HealthView,
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

/// The inventory part of a scrape.
pub fn write_inventory(e: &mut Exposition, i: &Inputs<'_>) {
    write_health(e, i);
    write_sync(e, i);
    write_sources(e, i.sources);
}

/// Secrets by place and worst severity, findings by rule, the evaluation.
fn write_health(e: &mut Exposition, i: &Inputs<'_>) {
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
}

/// The inventory's sync status: ready, up, passes, last success and attempt.
fn write_sync(e: &mut Exposition, i: &Inputs<'_>) {
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
            "When the last successful pass, list or incremental, finished (Unix time).",
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
            "When the source's last successful pass, list or incremental, finished (Unix time).",
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
