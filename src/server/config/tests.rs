//! The configuration's layers (file, environment, flags) and its checks.

use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn layers_defaults_file_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:4000\"\n[aws]\nregion = \"eu-west-1\"\n[sync]\ninterval_secs = 60\n",
    )
    .unwrap();
    let c = Config::load_from(
        Some(&file),
        env(&[("SECRETSCOPE_SYNC_INTERVAL_SECS", "30")]),
    )
    .unwrap();
    assert_eq!(c.bind.port(), 4000, "file over default");
    assert_eq!(c.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(c.sync.interval_secs, 30, "env over file");
    assert_eq!(c.sync.version_concurrency, 8, "default kept");
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "[sync]\nintervall = 3\n").unwrap();
    let err = Config::load_from(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("s.toml") && err.contains("intervall"), "{err}");
    let err = Config::load_from(None, env(&[("SECRETSCOPE_BIND", "nope")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("SECRETSCOPE_BIND"), "{err}");
    let missing = dir.path().join("absent.toml");
    assert!(Config::load_from(Some(&missing), env(&[])).is_err());
}

#[test]
fn redacts_userinfo() {
    let mut c = Config::default();
    c.aws.endpoint_url = Some("https://user:pw@example.test".into());
    let shown = c.to_redacted_toml();
    assert!(!shown.contains("pw"), "{shown}");
    assert!(shown.contains("[redacted]@example.test"));
    c.alerts.webhook_url = Some("https://hooks.slack.test/services/T0/B0/SECRETPART".into());
    let shown = c.to_redacted_toml();
    assert!(!shown.contains("SECRETPART"), "{shown}");
    assert!(
        shown.contains("https://hooks.slack.test/[redacted]"),
        "{shown}"
    );
    c.requests.smtp_url = Some("smtp://mailer:MAILPW@mail.example.test:587?tls=required".into());
    let shown = c.to_redacted_toml();
    assert!(!shown.contains("MAILPW"), "{shown}");
    c.auth.oidc.client_secret = Some("OIDC-CLIENT-SECRET".into());
    c.auth.metrics_token = Some("METRICS-TOKEN".into());
    assert!(!c.to_redacted_toml().contains("METRICS-TOKEN"));
    c.sources = vec![SourceSettings {
        name: "p".into(),
        role_arn: Some("arn:aws:iam::210987654321:role/r".into()),
        external_id: Some("EXTERNAL-ID".into()),
        regions: vec!["us-east-1".into()],
        ..Default::default()
    }];
    let shown = c.to_redacted_toml();
    assert!(!shown.contains("OIDC-CLIENT-SECRET"), "{shown}");
    assert!(!shown.contains("EXTERNAL-ID"), "{shown}");
    assert!(shown.contains("[[sources]]"), "{shown}");
    let back: Config = toml::from_str(&shown).unwrap();
    assert_eq!(back.sources[0].role_arn, c.sources[0].role_arn);
    assert!(
        shown.contains("smtp://[redacted]@mail.example.test:587"),
        "{shown}"
    );
}

#[test]
fn health_and_alert_settings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[health]\nnot_rotated_days = 30\ndisabled = [\"no-description\"]\n[health.severity_overrides]\ndefault-kms-key = \"high\"\n[cloudtrail]\nenabled = true\n",
    )
    .unwrap();
    let c = Config::load_from(
        Some(&file),
        env(&[
            ("SECRETSCOPE_HEALTH_REQUIRED_TAGS", "owner, team"),
            ("SECRETSCOPE_ALERTS_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
            (
                "SECRETSCOPE_ALERTS_DASHBOARD_URL",
                "https://dash.example.test",
            ),
        ]),
    )
    .unwrap();
    use crate::domain::health::{RuleId, Severity};
    assert_eq!(c.health.not_rotated_days, 30);
    assert!(!c.health.is_enabled(RuleId::NoDescription));
    assert_eq!(c.health.severity_of(RuleId::DefaultKmsKey), Severity::High);
    assert_eq!(c.health.required_tags, ["owner", "team"]);
    assert!(c.cloudtrail.enabled);
    assert_eq!(
        c.alerts.webhook_url.as_deref(),
        Some("http://127.0.0.1:9/hook")
    );
    assert_eq!(
        c.alerts.dashboard_url.as_deref(),
        Some("https://dash.example.test")
    );
    std::fs::write(&file, "[health]\nnot_rotated_dayz = 30\n").unwrap();
    let err = Config::load_from(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not_rotated_dayz"), "{err}");
}
