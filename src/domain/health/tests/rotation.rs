//! The rotation rules: failed, overdue, disabled, not rotated, interval.

use super::*;

#[test]
fn a_seen_failure_is_a_failure_within_the_grace() {
    use crate::domain::rotation_failure::{RotationFailure, RotationStep};
    let mut s = healthy();
    s.rotation_enabled = true;
    pending(&mut s, Some(at(-60)));
    assert!(
        fired(&s, RuleId::RotationFailed).is_none(),
        "young: running"
    );
    assert_eq!(
        crate::domain::state::State::of(&s, at(0)),
        crate::domain::state::State::Rotating
    );
    // A retry that failed again: CloudTrail recorded it after the
    // pending version was created.
    s.failure = Some(Arc::new(RotationFailure {
        at: at(-30),
        step: Some(RotationStep::TestSecret),
        attempt: 3,
        message: Some("f failed at testSecret: Unable to log into database".into()),
    }));
    let f = fired(&s, RuleId::RotationFailed).expect("seen failing: failed now");
    assert_eq!(f.since, Some(at(-60)));
    assert!(
        f.detail
            .starts_with("Retry failed at testSecret, attempt 3"),
        "{}",
        f.detail
    );
    assert!(
        f.detail.contains("Unable to log into database"),
        "{}",
        f.detail
    );
    assert_eq!(
        crate::domain::state::State::of(&s, at(0)),
        crate::domain::state::State::RotationStuck
    );
    // A failure from before this version (an earlier attempt) does not count.
    s.failure = Some(Arc::new(RotationFailure {
        at: at(-120),
        step: None,
        attempt: 1,
        message: None,
    }));
    assert!(fired(&s, RuleId::RotationFailed).is_none());
}

#[test]
fn rotation_failed_after_the_grace_period() {
    let mut s = healthy();
    pending(&mut s, Some(at(-PENDING_GRACE_SECS)));
    assert!(
        fired(&s, RuleId::RotationFailed).is_none(),
        "exactly at the grace: still rotating"
    );
    s.versions[1].created = Some(at(-PENDING_GRACE_SECS - 1));
    let f = fired(&s, RuleId::RotationFailed).expect("one second past the grace");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.since, Some(at(-PENDING_GRACE_SECS - 1)));
    assert!(f.detail.contains("function:rotate-db"), "{}", f.detail);
    assert!(
        f.detail.contains("0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("for 1 h"), "{}", f.detail);
    assert!(!f.detail.contains("not fetched"), "{}", f.detail);

    // AWSPENDING on AWSCURRENT is not a pending rotation.
    let mut t = healthy();
    t.versions[0].labels = [Label::Current, Label::Pending].into_iter().collect();
    t.last_changed = Some(at(-5 * DAY));
    assert!(fired(&t, RuleId::RotationFailed).is_none());

    // Deleted secrets cannot be rotated: not on-call's problem.
    s.deleted = Some(at(-DAY));
    assert!(fired(&s, RuleId::RotationFailed).is_none());
}

#[test]
fn rotation_failed_without_version_dates_uses_last_changed() {
    let mut s = healthy();
    s.rotation_lambda_arn = None;
    pending(&mut s, None);
    s.last_changed = None;
    assert!(
        fired(&s, RuleId::RotationFailed).is_none(),
        "no date at all: cannot tell"
    );
    s.last_changed = Some(at(-PENDING_GRACE_SECS));
    assert!(fired(&s, RuleId::RotationFailed).is_none());
    s.last_changed = Some(at(-2 * DAY));
    let f = fired(&s, RuleId::RotationFailed).unwrap();
    assert_eq!(f.since, Some(at(-2 * DAY)));
    assert!(f.detail.contains("no rotation Lambda"), "{}", f.detail);
    assert!(f.detail.contains("not fetched"), "{}", f.detail);
    assert!(f.detail.contains("2 days"), "{}", f.detail);
}

#[test]
fn rotation_overdue_after_the_window() {
    let mut s = healthy();
    // No Duration, AutomaticallyAfterDays: a 24 hour window.
    s.next_rotation = Some(at(-DAY));
    assert!(
        fired(&s, RuleId::RotationOverdue).is_none(),
        "window not over"
    );
    s.next_rotation = Some(at(-DAY - 1));
    let f = fired(&s, RuleId::RotationOverdue).unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.since, Some(at(-1)));
    assert!(f.detail.contains("function:rotate-db"), "{}", f.detail);
    assert!(f.detail.contains("1 day window"), "{}", f.detail);

    // Duration 3h.
    s.rotation_rules = Some(rules(Some(30), Some("3h"), Some("rate(30 days)")));
    s.next_rotation = Some(at(-3 * HOUR));
    assert!(fired(&s, RuleId::RotationOverdue).is_none());
    s.next_rotation = Some(at(-3 * HOUR - 1));
    assert_eq!(
        fired(&s, RuleId::RotationOverdue).unwrap().since,
        Some(at(-1))
    );

    // An hourly rate without Duration: a one hour window.
    s.rotation_rules = Some(rules(None, None, Some("rate(4 hours)")));
    s.next_rotation = Some(at(-HOUR));
    assert!(fired(&s, RuleId::RotationOverdue).is_none());
    s.next_rotation = Some(at(-HOUR - 1));
    assert!(fired(&s, RuleId::RotationOverdue).is_some());

    // Only for enabled rotation, and not for deleted secrets.
    let mut off = s.clone();
    off.rotation_enabled = false;
    assert!(fired(&off, RuleId::RotationOverdue).is_none());
    let mut del = s.clone();
    del.deleted = Some(at(-DAY));
    assert!(fired(&del, RuleId::RotationOverdue).is_none());
    let mut unknown = s.clone();
    unknown.next_rotation = None;
    assert!(fired(&unknown, RuleId::RotationOverdue).is_none());
}

#[test]
fn overdue_defers_to_a_running_or_failed_rotation() {
    let mut s = healthy();
    s.next_rotation = Some(at(-5 * DAY));
    pending(&mut s, Some(at(-60)));
    assert!(
        run(&s)
            .iter()
            .all(|f| f.rule != RuleId::RotationOverdue && f.rule != RuleId::RotationFailed),
        "a rotation is running"
    );
    s.versions[1].created = Some(at(-5 * DAY));
    let ids: Vec<RuleId> = run(&s).iter().map(|f| f.rule).collect();
    assert!(ids.contains(&RuleId::RotationFailed));
    assert!(
        !ids.contains(&RuleId::RotationOverdue),
        "one problem, one finding"
    );
    // With rotation-failed switched off, the missed deadline still shows.
    let mut c = cfg();
    c.disabled.insert(RuleId::RotationFailed);
    let ids: Vec<RuleId> = evaluate(&s, None, &c, NOW).iter().map(|f| f.rule).collect();
    assert_eq!(ids, vec![RuleId::RotationOverdue]);
}

#[test]
fn rotation_disabled_and_leftover_rules() {
    let mut s = healthy();
    s.rotation_enabled = false;
    let ids: Vec<RuleId> = run(&s).iter().map(|f| f.rule).collect();
    assert_eq!(
        ids,
        vec![RuleId::RotationDisabled, RuleId::RotationDisabledWithRules]
    );
    let f = fired(&s, RuleId::RotationDisabledWithRules).unwrap();
    assert!(f.detail.contains("function:rotate-db"), "{}", f.detail);
    assert!(f.detail.contains("every 30 days"), "{}", f.detail);
    assert!(fired(&s, RuleId::RotationDisabled)
        .unwrap()
        .detail
        .contains("last rotated on"));

    // Rules alone, Lambda alone.
    s.rotation_lambda_arn = None;
    assert!(fired(&s, RuleId::RotationDisabledWithRules).is_some());
    s.rotation_rules = None;
    assert!(fired(&s, RuleId::RotationDisabledWithRules).is_none());
    s.rotation_lambda_arn = Some(Arc::from("arn:aws:lambda:us-east-1:1:function:f"));
    assert!(fired(&s, RuleId::RotationDisabledWithRules).is_some());

    // Never configured: only rotation-disabled.
    let mut n = healthy();
    n.rotation_enabled = false;
    n.rotation_lambda_arn = None;
    n.rotation_rules = None;
    n.last_rotated = None;
    n.next_rotation = None;
    n.created = Some(at(-10 * DAY));
    let f = run(&n);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, RuleId::RotationDisabled);
    assert!(f[0].detail.contains("never been rotated"));

    // Deleted: neither.
    s.deleted = Some(at(-DAY));
    assert!(fired(&s, RuleId::RotationDisabled).is_none());
    assert!(fired(&s, RuleId::RotationDisabledWithRules).is_none());
}

#[test]
fn not_rotated_recently_boundaries() {
    let mut s = healthy();
    s.last_rotated = Some(at(-90 * DAY));
    s.next_rotation = Some(at(DAY));
    assert!(
        fired(&s, RuleId::NotRotatedRecently).is_none(),
        "exactly 90 days"
    );
    s.last_rotated = Some(at(-90 * DAY - 1));
    let f = fired(&s, RuleId::NotRotatedRecently).expect("a second more");
    assert_eq!(f.since, Some(at(-1)));
    assert!(f.detail.contains("Last rotated on"), "{}", f.detail);

    // Never rotated: counted from creation, whether or not rotation is on.
    s.last_rotated = None;
    s.created = Some(at(-90 * DAY));
    assert!(fired(&s, RuleId::NotRotatedRecently).is_none());
    s.created = Some(at(-90 * DAY - 1));
    assert!(fired(&s, RuleId::NotRotatedRecently)
        .unwrap()
        .detail
        .contains("Never rotated"));
    s.rotation_enabled = false;
    assert!(fired(&s, RuleId::NotRotatedRecently).is_some());
    s.created = None;
    assert!(fired(&s, RuleId::NotRotatedRecently).is_none(), "no dates");

    // Configurable; not for deleted secrets.
    let mut t = healthy();
    t.last_rotated = Some(at(-31 * DAY));
    let mut c = cfg();
    c.not_rotated_days = 30;
    assert!(evaluate(&t, None, &c, NOW)
        .iter()
        .any(|f| f.rule == RuleId::NotRotatedRecently));
    t.deleted = Some(at(-DAY));
    assert!(!evaluate(&t, None, &c, NOW)
        .iter()
        .any(|f| f.rule == RuleId::NotRotatedRecently));
}

#[test]
fn rotation_interval_boundaries() {
    let mut s = healthy();
    s.rotation_rules = Some(rules(Some(90), None, None));
    assert!(fired(&s, RuleId::RotationIntervalTooLong).is_none());
    s.rotation_rules = Some(rules(Some(91), None, None));
    let f = fired(&s, RuleId::RotationIntervalTooLong).unwrap();
    assert!(f.detail.contains("91 days"), "{}", f.detail);
    assert!(f.detail.contains("90 days"), "{}", f.detail);

    // The schedule expression wins over AutomaticallyAfterDays.
    s.rotation_rules = Some(rules(Some(30), None, Some("rate(120 days)")));
    assert!(fired(&s, RuleId::RotationIntervalTooLong).is_some());
    s.rotation_rules = Some(rules(Some(120), None, Some("rate(2160 hours)")));
    assert!(
        fired(&s, RuleId::RotationIntervalTooLong).is_none(),
        "90 days in hours"
    );
    s.rotation_rules = Some(rules(None, None, Some("rate(2161 hours)")));
    assert!(fired(&s, RuleId::RotationIntervalTooLong)
        .unwrap()
        .detail
        .contains("2161 hours"));
    // cron: skipped.
    s.rotation_rules = Some(rules(Some(365), None, Some("cron(0 16 1 * ? *)")));
    assert!(fired(&s, RuleId::RotationIntervalTooLong).is_none());
    // Rotation off: the configured interval is not in effect.
    s.rotation_rules = Some(rules(Some(365), None, None));
    assert!(fired(&s, RuleId::RotationIntervalTooLong).is_some());
    s.rotation_enabled = false;
    assert!(fired(&s, RuleId::RotationIntervalTooLong).is_none());
}
