//! The rule catalogue: a healthy secret, severities, stable ids.

use super::*;

#[test]
fn a_healthy_secret_has_no_findings() {
    let s = healthy();
    assert_eq!(run(&s), vec![]);
    assert_eq!(worst(&run(&s)), None);
}

#[test]
fn severities_order_and_names() {
    assert!(Severity::Critical > Severity::High);
    assert!(Severity::High > Severity::Medium);
    assert!(Severity::Medium > Severity::Low);
    assert!(Severity::Low > Severity::Info);
    for s in Severity::ALL {
        assert_eq!(Severity::parse(s.as_str()), Some(s));
        assert_eq!(Severity::parse(&s.as_str().to_uppercase()), Some(s));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.as_str())
        );
        assert_eq!(s.to_string(), s.as_str());
    }
    assert!(Severity::ALL.windows(2).all(|w| w[0] > w[1]));
    assert_eq!(Severity::parse("severe"), None);
}

#[test]
fn rule_ids_are_stable_and_documented() {
    let want = [
        "rotation-failed",
        "rotation-overdue",
        "rotation-disabled",
        "rotation-disabled-with-rules",
        "not-rotated-recently",
        "rotation-interval-too-long",
        "unused",
        "default-kms-key",
        "missing-required-tags",
        "no-description",
        "scheduled-for-deletion",
        "accessed-after-deletion",
        "replica-failed",
        "read-previous-after-rotation",
        "new-reader",
    ];
    assert_eq!(RuleId::ALL.map(RuleId::as_str), want);
    for (k, id) in RuleId::ALL.into_iter().enumerate() {
        assert_eq!(RULES[k].info.id, id, "RULES follows RuleId::ALL");
        assert_eq!(RuleId::parse(id.as_str()), Some(id));
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", id.as_str())
        );
        let i = info(id);
        assert_eq!(i.id, id);
        for text in [i.title, i.why, i.fix, i.source] {
            assert!(text.len() > 5, "{id}: {text:?}");
        }
    }
    assert_eq!(RuleId::parse("nope"), None);
    use Severity::*;
    let defaults = [
        (RuleId::RotationFailed, Critical),
        (RuleId::RotationOverdue, High),
        (RuleId::AccessedAfterDeletion, High),
        (RuleId::ReplicaFailed, High),
        (RuleId::NewReader, High),
        (RuleId::ReadPreviousAfterRotation, Medium),
        (RuleId::RotationDisabled, Medium),
        (RuleId::NotRotatedRecently, Medium),
        (RuleId::ScheduledForDeletion, Medium),
        (RuleId::RotationIntervalTooLong, Low),
        (RuleId::Unused, Low),
        (RuleId::DefaultKmsKey, Low),
        (RuleId::MissingRequiredTags, Low),
        (RuleId::RotationDisabledWithRules, Low),
        (RuleId::NoDescription, Info),
    ];
    assert_eq!(defaults.len(), RuleId::ALL.len());
    for (id, sev) in defaults {
        assert_eq!(info(id).severity, sev, "{id}");
    }
}
