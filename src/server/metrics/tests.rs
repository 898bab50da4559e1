//! The exposition parsed back strictly, as Prometheus reads 0.0.4 text.

use super::*;
use crate::domain::health::{HealthConfig, RuleId, Severity};
use crate::domain::secret::fixtures::secret;
use crate::domain::Timestamp;
use crate::domain::{Label, Version, VersionId};
use crate::server::aws::client::CounterValues;
use crate::server::health::HealthView;
use crate::server::inventory::{ListStats, Snapshot};
use crate::server::inventory::{SourceStatus, SyncStatus};
use axum::http::Method;
use std::collections::BTreeMap;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

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
