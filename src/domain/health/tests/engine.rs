//! Suppression, summaries, schedule parsing, order and configuration.

use super::*;

#[test]
fn suppression_needs_a_reason() {
    let mut base = healthy();
    base.kms_key_id = None;
    base.description = None;
    let with = |v: &str| {
        let mut s = base.clone();
        tag(&mut s, "secretscope:suppress", v);
        run(&s)
    };

    let f = with("default-kms-key: shared with a partner account, CMK planned Q3");
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].rule, RuleId::NoDescription, "active findings first");
    assert_eq!(f[0].suppressed, None);
    assert_eq!(f[1].rule, RuleId::DefaultKmsKey);
    assert_eq!(
        f[1].suppressed.as_deref(),
        Some("shared with a partner account, CMK planned Q3")
    );
    assert_eq!(
        worst(&f),
        Some(Severity::Info),
        "suppressed findings do not count"
    );

    let f = with("no-description , default-kms-key: legacy, see TICKET-1");
    assert!(f
        .iter()
        .all(|f| f.suppressed.as_deref() == Some("legacy, see TICKET-1")));
    assert_eq!(worst(&f), None);

    let f = with("*: decommissioned next sprint");
    assert!(f.iter().all(|f| !f.is_active()));

    for no_reason in [
        "default-kms-key",
        "default-kms-key:",
        "*:   ",
        ": reason",
        "",
    ] {
        let f = with(no_reason);
        assert!(f.iter().all(Finding::is_active), "{no_reason:?}");
        assert_eq!(f.len(), 2);
    }
    let f = with("unknown-rule: because");
    assert!(f.iter().all(Finding::is_active));

    // The key is the configured one.
    let mut s = base.clone();
    tag(&mut s, "suppress", "*: x");
    assert!(run(&s).iter().all(Finding::is_active));
    let mut c = cfg();
    c.suppression_tag = "suppress".into();
    assert!(evaluate(&s, None, &c, NOW).iter().all(|f| !f.is_active()));
}

#[test]
fn summaries_count_without_words() {
    let mut s = healthy();
    s.kms_key_id = None;
    s.description = None;
    s.rotation_enabled = false;
    tag(
        &mut s,
        "secretscope:suppress",
        "rotation-disabled: decommissioned in May",
    );
    let sum = summarize(&s, None, &cfg(), NOW);
    let fired: Vec<RuleId> = sum.fired.iter().collect();
    assert_eq!(
        fired,
        vec![
            RuleId::RotationDisabled,
            RuleId::RotationDisabledWithRules,
            RuleId::DefaultKmsKey,
            RuleId::NoDescription
        ]
    );
    assert_eq!(sum.fired.len(), 4);
    assert!(sum.suppressed.contains(RuleId::RotationDisabled));
    assert_eq!(sum.suppressed.len(), 1);
    assert!(!sum.active().contains(RuleId::RotationDisabled));
    assert_eq!(sum.worst, Some(Severity::Low), "medium is suppressed");
    assert_eq!(sum.worst, worst(&evaluate(&s, None, &cfg(), NOW)));
    let clean = summarize(&healthy(), None, &cfg(), NOW);
    assert!(clean.fired.is_empty() && clean.worst.is_none());
    // A check run alone without details leaves the detail empty.
    let input = Input {
        secret: &s,
        replicas: None,
        cfg: &cfg(),
        now: NOW,
        details: false,
    };
    let hit = RULES[RuleId::DefaultKmsKey as usize].check(&input).unwrap();
    assert!(hit.detail.is_empty());
}

#[test]
fn duration_parser() {
    for (s, want) in [
        ("3h", Some(3 * HOUR)),
        ("10h", Some(10 * HOUR)),
        ("24h", Some(24 * HOUR)),
        ("1h30m", Some(HOUR + 30 * 60)),
        ("90m", Some(90 * 60)),
        (" 2H ", Some(2 * HOUR)),
        ("0h30m", Some(30 * 60)),
        ("0h", None),
        ("", None),
        ("h", None),
        ("3", None),
        ("3h3", None),
        ("30m1h", None),
        ("3hh", None),
        ("3 h", None),
        ("-3h", None),
        ("1d", None),
        ("99999999999999999999h", None),
    ] {
        assert_eq!(parse_duration(s), want, "{s:?}");
    }
}

#[test]
fn interval_parser() {
    for (expr, want) in [
        ("rate(30 days)", Some(30 * DAY)),
        ("rate(1 day)", Some(DAY)),
        ("rate(4 hours)", Some(4 * HOUR)),
        ("rate(1 hour)", Some(HOUR)),
        (" rate( 10  days ) ", Some(10 * DAY)),
        ("rate(0 days)", None),
        ("rate(10 minutes)", None),
        ("rate(10)", None),
        ("rate(x days)", None),
        ("cron(0 16 1,15 * ? *)", None),
    ] {
        assert_eq!(parse_rate(expr), want, "{expr}");
    }
    let r = |d, e: Option<&str>| RotationRules {
        automatically_after_days: d,
        duration: None,
        schedule_expression: e.map(str::to_string),
    };
    assert_eq!(rotation_interval_secs(&r(Some(30), None)), Some(30 * DAY));
    assert_eq!(
        rotation_interval_secs(&r(Some(30), Some("rate(7 days)"))),
        Some(7 * DAY)
    );
    assert_eq!(
        rotation_interval_secs(&r(Some(30), Some("cron(0 0 * * ? *)"))),
        None
    );
    assert_eq!(
        rotation_interval_secs(&r(Some(30), Some(""))),
        Some(30 * DAY)
    );
    assert_eq!(rotation_interval_secs(&r(None, None)), None);
    assert_eq!(rotation_interval_secs(&r(Some(0), None)), None);

    assert_eq!(rotation_window_secs(None), DAY);
    assert_eq!(rotation_window_secs(Some(&r(Some(30), None))), DAY);
    assert_eq!(
        rotation_window_secs(Some(&r(None, Some("rate(6 hours)")))),
        HOUR
    );
    assert_eq!(
        rotation_window_secs(Some(&r(None, Some("rate(2 days)")))),
        DAY
    );
    let mut w = r(None, Some("rate(6 hours)"));
    w.duration = Some("2h".into());
    assert_eq!(rotation_window_secs(Some(&w)), 2 * HOUR);
    w.duration = Some("two hours".into());
    assert_eq!(
        rotation_window_secs(Some(&w)),
        HOUR,
        "unreadable: as absent"
    );
}

#[test]
fn sorted_worst_first() {
    let mut s = healthy();
    s.kms_key_id = None; // low
    s.description = None; // info
    s.rotation_enabled = false; // medium + low (rules left)
    s.last_rotated = Some(at(-200 * DAY)); // medium
    s.deleted = Some(at(-3 * DAY)); // medium; removes rotation rules
                                    // high: read (and refused) after deletion was scheduled
    s.reads = Some(super::reads::readers(&[super::reads::read(
        at(-DAY),
        super::reads::APP,
        crate::domain::reads::Asked::Default,
        Some(crate::domain::reads::ReadError::MarkedForDeletion),
    )]));
    let ids: Vec<(RuleId, Severity)> = run(&s).iter().map(|f| (f.rule, f.severity)).collect();
    assert_eq!(
        ids,
        vec![
            (RuleId::AccessedAfterDeletion, Severity::High),
            (RuleId::ScheduledForDeletion, Severity::Medium),
            (RuleId::DefaultKmsKey, Severity::Low),
            (RuleId::NoDescription, Severity::Info),
        ]
    );
    s.deleted = None;
    let ids: Vec<RuleId> = run(&s).iter().map(|f| f.rule).collect();
    assert_eq!(
        ids,
        vec![
            RuleId::RotationDisabled,
            RuleId::NotRotatedRecently,
            RuleId::RotationDisabledWithRules,
            RuleId::DefaultKmsKey,
            RuleId::NoDescription,
        ]
    );
}

#[test]
fn config_defaults_and_partial_files() {
    let c = HealthConfig::default();
    assert_eq!(c.pending_grace_secs, 3600);
    assert_eq!(
        (c.not_rotated_days, c.max_interval_days, c.unused_days),
        (90, 90, 90)
    );
    assert_eq!(c.required_tags, vec!["owner".to_string()]);
    assert_eq!(c.replica_grace_secs, 3600);
    assert_eq!(c.suppression_tag, "secretscope:suppress");
    let back: HealthConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let partial: HealthConfig = serde_json::from_str(
        r#"{"unused_days": 30, "disabled": ["no-description"],
            "severity_overrides": {"default-kms-key": "high"}}"#,
    )
    .unwrap();
    assert_eq!(partial.unused_days, 30);
    assert!(!partial.is_enabled(RuleId::NoDescription));
    assert_eq!(partial.severity_of(RuleId::DefaultKmsKey), Severity::High);
    assert_eq!(partial.severity_of(RuleId::Unused), Severity::Low);
    assert_eq!(partial.required_tags, c.required_tags);
}
