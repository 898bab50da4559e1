//! The report, the verdict and the arguments; the formats are pinned in
//! `formats.rs`.

mod formats;

use super::*;
use crate::domain::health::{HealthConfig, ReplicaState, RuleId, Severity};
use crate::domain::secret::fixtures::{secret, tagged};
use crate::domain::{Label, Version, VersionId};
use crate::domain::{Secret, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) const NOW: Timestamp = Timestamp::new(1_795_000_000);
const DAY: i64 = 86_400;

pub(super) fn ago(days: i64) -> Option<Timestamp> {
    Some(Timestamp::new(NOW.secs() - days * DAY))
}

/// Well kept, except that its rotation has been stuck for two days:
/// exactly one finding, rotation-failed (critical).
pub(super) fn stuck() -> Secret {
    let mut s = tagged("prod/payments/db", &[("owner", "payments")]);
    s.description = Some("Payments primary".into());
    s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:123456789012:key/k1"));
    s.rotation_enabled = true;
    s.rotation_lambda_arn = Some(Arc::from(
        "arn:aws:lambda:us-east-1:123456789012:function:rotate-pg",
    ));
    s.created = ago(300);
    s.last_rotated = ago(20);
    s.last_changed = ago(2);
    s.last_accessed = ago(1);
    s.next_rotation = ago(-10);
    s.versions.push(Version {
        id: VersionId::parse("pending-1"),
        labels: [Label::Pending].into_iter().collect(),
        created: ago(2),
        last_accessed: None,
    });
    s
}

/// Never looked after: rotation-disabled and not-rotated-recently
/// (medium), unused, default-kms-key and missing-required-tags (low),
/// no-description (info).
pub(super) fn sloppy() -> Secret {
    secret("legacy/jenkins-token")
}

pub(super) fn report(secrets: Vec<Secret>, fail_on: Option<Severity>) -> Report {
    let secrets: Vec<Arc<Secret>> = secrets.into_iter().map(Arc::new).collect();
    let mut r = Report::build(
        &secrets,
        None,
        HealthConfig::default(),
        NOW,
        FailOn(fail_on),
    );
    r.source = "http://127.0.0.1:4566".into();
    r.region = "us-east-1".into();
    r
}

pub(super) fn suppress(mut s: Secret, value: &str) -> Secret {
    s.tags
        .push(crate::domain::Tag::new("secretscope:suppress", value));
    s
}

fn rules_of(r: &Report) -> Vec<(&str, RuleId)> {
    r.rows
        .iter()
        .map(|row| (&*row.secret.name, row.finding.rule))
        .collect()
}

#[test]
fn fixtures_fire_what_they_say() {
    let r = report(vec![stuck(), sloppy()], None);
    assert_eq!(
        rules_of(&r),
        vec![
            ("prod/payments/db", RuleId::RotationFailed),
            ("legacy/jenkins-token", RuleId::RotationDisabled),
            ("legacy/jenkins-token", RuleId::NotRotatedRecently),
            ("legacy/jenkins-token", RuleId::Unused),
            ("legacy/jenkins-token", RuleId::DefaultKmsKey),
            ("legacy/jenkins-token", RuleId::MissingRequiredTags),
            ("legacy/jenkins-token", RuleId::NoDescription),
        ],
        "worst first across secrets, then by name and rule order"
    );
}

#[test]
fn exit_code_is_decided_by_fail_on() {
    use Severity::*;
    for (secrets, fail_on, want) in [
        (vec![stuck(), sloppy()], Some(Critical), EXIT_FAILED),
        (vec![stuck(), sloppy()], None, EXIT_PASSED),
        (vec![sloppy()], Some(Critical), EXIT_PASSED),
        (vec![sloppy()], Some(High), EXIT_PASSED),
        (vec![sloppy()], Some(Medium), EXIT_FAILED),
        (vec![sloppy()], Some(Info), EXIT_FAILED),
        (vec![], Some(Info), EXIT_PASSED),
    ] {
        let names: Vec<String> = secrets.iter().map(|s| s.name.to_string()).collect();
        let r = report(secrets, fail_on);
        assert_eq!(
            r.exit_code(),
            want,
            "{names:?} --fail-on {}",
            r.fail_on.as_str()
        );
    }
    let r = report(vec![sloppy()], Some(Medium));
    assert_eq!(r.failing(), 2, "the two medium findings");
    assert_eq!(
        report(vec![sloppy()], Some(Low)).failing(),
        5,
        "medium and low"
    );
}

#[test]
fn suppressed_findings_never_fail_but_are_kept() {
    let r = report(
        vec![suppress(stuck(), "rotation-failed: Lambda replaced, CHG-1")],
        Some(Severity::Info),
    );
    assert_eq!(r.exit_code(), EXIT_PASSED);
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.suppressed(), 1);
    assert!(r.counts().iter().all(|(_, n)| *n == 0));
    // Suppressed rows come after every active one, whatever their severity.
    let r = report(
        vec![suppress(stuck(), "*: decommissioned next week"), sloppy()],
        Some(Severity::Critical),
    );
    assert_eq!(r.exit_code(), EXIT_PASSED);
    let last = r.rows.last().unwrap();
    assert_eq!(last.finding.rule, RuleId::RotationFailed);
    assert!(!last.finding.is_active());
    assert_eq!(r.rows[0].finding.rule, RuleId::RotationDisabled);
    // A suppression without a reason suppresses nothing.
    let r = report(
        vec![suppress(stuck(), "rotation-failed")],
        Some(Severity::Critical),
    );
    assert_eq!(r.exit_code(), EXIT_FAILED);
}

#[test]
fn only_the_named_rules_run_even_if_disabled() {
    let mut cfg = HealthConfig::default();
    cfg.disabled.insert(RuleId::NoDescription);
    let only = rule_config(&cfg, &[RuleId::NoDescription, RuleId::Unused]);
    assert!(only.is_enabled(RuleId::NoDescription));
    assert!(only.is_enabled(RuleId::Unused));
    assert!(!only.is_enabled(RuleId::RotationFailed));
    assert_eq!(rule_config(&cfg, &[]), cfg, "no --rule: the configuration");
    let secrets = vec![Arc::new(sloppy())];
    let r = Report::build(&secrets, None, only, NOW, FailOn(Some(Severity::Low)));
    assert_eq!(
        rules_of(&r),
        vec![
            ("legacy/jenkins-token", RuleId::Unused),
            ("legacy/jenkins-token", RuleId::NoDescription),
        ]
    );
    assert_eq!(
        r.rules().collect::<Vec<_>>(),
        vec![RuleId::Unused, RuleId::NoDescription]
    );
    assert!(
        r.not_evaluated.is_empty(),
        "replica-failed was not asked for"
    );
}

#[test]
fn replica_rule_is_not_evaluated_without_replica_status() {
    let secrets = vec![Arc::new(stuck())];
    let r = Report::build(&secrets, None, HealthConfig::default(), NOW, FailOn(None));
    assert_eq!(r.not_evaluated[0].0, RuleId::ReplicaFailed);
    // check reads no CloudTrail: the read rule that applies is not evaluated.
    assert_eq!(
        r.not_evaluated[1..]
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [RuleId::ReadPreviousAfterRotation]
    );
    assert!(r.rules().all(|id| id != RuleId::ReplicaFailed));
    let mut status = HashMap::new();
    status.insert(
        secrets[0].arn.clone(),
        vec![ReplicaState {
            region: "eu-west-1".into(),
            status: "Failed".into(),
            message: Some("KMS key disabled".into()),
            last_accessed: None,
        }],
    );
    let r = Report::build(
        &secrets,
        Some(&status),
        HealthConfig::default(),
        NOW,
        FailOn(None),
    );
    assert!(r
        .not_evaluated
        .iter()
        .all(|(id, _)| *id != RuleId::ReplicaFailed));
    assert!(rules_of(&r).contains(&("prod/payments/db", RuleId::ReplicaFailed)));
}

#[test]
fn fail_on_and_rule_arguments() {
    assert_eq!("high".parse::<FailOn>(), Ok(FailOn(Some(Severity::High))));
    assert_eq!(" NONE ".parse::<FailOn>(), Ok(FailOn(None)));
    assert_eq!("Critical".parse::<FailOn>().unwrap().as_str(), "critical");
    let e = "severe".parse::<FailOn>().unwrap_err();
    assert!(e.contains("severe") && e.contains("none"), "{e}");
    assert_eq!(parse_rule("unused"), Ok(RuleId::Unused));
    let e = parse_rule("unsued").unwrap_err();
    assert!(e.contains("unsued") && e.contains("rotation-failed"), "{e}");
}
