//! The posture rules: unused, KMS key, tags, description, deletion, replicas, switches.

use super::*;

#[test]
fn unused_counts_whole_days() {
    let mut s = healthy();
    // LastAccessedDate is midnight of the access day.
    let day = NOW.secs() - NOW.secs().rem_euclid(DAY) - 100 * DAY;
    s.last_accessed = Some(Timestamp::new(day));
    let end = day + DAY + 90 * DAY;
    assert!(
        !fires_at(&s, RuleId::Unused, Timestamp::new(end)),
        "90 full days"
    );
    assert!(fires_at(&s, RuleId::Unused, Timestamp::new(end + 1)));
    let f = evaluate(&s, None, &cfg(), Timestamp::new(end + 1))
        .into_iter()
        .find(|f| f.rule == RuleId::Unused)
        .unwrap();
    assert_eq!(f.since, Some(Timestamp::new(end)));
    assert!(
        f.detail.contains(&Day(Timestamp::new(day)).to_string()),
        "{}",
        f.detail
    );

    // Never accessed: counted from creation.
    s.last_accessed = None;
    s.created = Some(at(-90 * DAY));
    assert!(fired(&s, RuleId::Unused).is_none());
    s.created = Some(at(-90 * DAY - 1));
    assert!(fired(&s, RuleId::Unused)
        .unwrap()
        .detail
        .contains("Never accessed"));
    s.created = None;
    assert!(fired(&s, RuleId::Unused).is_none());

    // Not for secrets on their way out.
    s.created = Some(at(-200 * DAY));
    s.deleted = Some(at(-DAY));
    assert!(fired(&s, RuleId::Unused).is_none());
}

#[test]
fn default_kms_key() {
    let mut s = healthy();
    assert!(fired(&s, RuleId::DefaultKmsKey).is_none());
    s.kms_key_id = None;
    assert!(fired(&s, RuleId::DefaultKmsKey).is_some());
    s.kms_key_id = Some(Arc::from("alias/aws/secretsmanager"));
    assert_eq!(
        fired(&s, RuleId::DefaultKmsKey).unwrap().severity,
        Severity::Low
    );
    s.deleted = Some(at(-DAY));
    assert!(
        fired(&s, RuleId::DefaultKmsKey).is_some(),
        "still true of a secret that can be restored"
    );
}

#[test]
fn required_tags() {
    let mut s = healthy();
    s.tags.clear();
    let f = fired(&s, RuleId::MissingRequiredTags).unwrap();
    assert_eq!(f.detail, "Missing required tag: owner.");
    tag(&mut s, "owner", "  ");
    assert!(
        fired(&s, RuleId::MissingRequiredTags).is_some(),
        "blank value"
    );
    s.tags.clear();
    tag(&mut s, "Owner", "alice");
    assert!(
        fired(&s, RuleId::MissingRequiredTags).is_some(),
        "tag keys are case-sensitive"
    );
    let mut c = cfg();
    c.required_tags = vec!["Owner".into(), "team".into(), "cost-center".into()];
    let f = evaluate(&s, None, &c, NOW)
        .into_iter()
        .find(|f| f.rule == RuleId::MissingRequiredTags)
        .unwrap();
    assert_eq!(f.detail, "Missing required tags: team, cost-center.");
    tag(&mut s, "team", "x");
    tag(&mut s, "cost-center", "CC-1");
    assert!(evaluate(&s, None, &c, NOW).is_empty());
    c.required_tags.clear();
    s.tags.clear();
    assert!(evaluate(&s, None, &c, NOW).is_empty(), "no required tags");
}

#[test]
fn description() {
    let mut s = healthy();
    s.description = None;
    assert_eq!(
        fired(&s, RuleId::NoDescription).unwrap().severity,
        Severity::Info
    );
    s.description = Some(" \n ".into());
    assert!(fired(&s, RuleId::NoDescription).is_some());
    s.description = Some("x".into());
    assert!(fired(&s, RuleId::NoDescription).is_none());
}

#[test]
fn scheduled_for_deletion_names_the_deadline() {
    let mut s = healthy();
    s.deleted = Some(Timestamp::new(1_795_000_000));
    let f = fired(&s, RuleId::ScheduledForDeletion).unwrap();
    assert_eq!(f.since, s.deleted);
    assert!(f.detail.contains("2026-11-18 11:06 UTC"), "{}", f.detail);
    assert!(
        f.detail.contains("at the latest 2026-12-18 11:06 UTC"),
        "{}",
        f.detail
    );
    s.deleted = None;
    assert!(fired(&s, RuleId::ScheduledForDeletion).is_none());
}

#[test]
fn replica_failed_or_out_of_sync() {
    let mut s = healthy();
    let fail = [
        replica("us-west-2", "InSync", Some("Replication succeeded")),
        replica("eu-west-1", "Failed", Some("The KMS key is disabled.")),
    ];
    assert!(
        fired(&s, RuleId::ReplicaFailed).is_none(),
        "replicas unknown: the rule does not run"
    );
    let f = evaluate(&s, Some(&fail), &cfg(), NOW);
    let f = f.iter().find(|f| f.rule == RuleId::ReplicaFailed).unwrap();
    assert_eq!(
        f.detail,
        "The replica in eu-west-1 failed: The KMS key is disabled."
    );
    assert_eq!(f.since, None);
    let ok = [replica("us-west-2", "InSync", None)];
    assert!(evaluate(&s, Some(&ok), &cfg(), NOW).is_empty());
    assert!(evaluate(&s, Some(&[]), &cfg(), NOW).is_empty());

    let lag = [replica("ap-southeast-2", "InProgress", None)];
    s.last_changed = Some(at(-HOUR));
    assert!(
        evaluate(&s, Some(&lag), &cfg(), NOW).is_empty(),
        "within the grace"
    );
    s.last_changed = Some(at(-HOUR - 1));
    let f = evaluate(&s, Some(&lag), &cfg(), NOW);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].since, s.last_changed);
    assert!(
        f[0].detail.contains("ap-southeast-2 is InProgress 1 h"),
        "{}",
        f[0].detail
    );
    s.last_changed = None;
    assert!(
        evaluate(&s, Some(&lag), &cfg(), NOW).is_empty(),
        "no change date"
    );
}

#[test]
fn disabled_rules_and_severity_overrides() {
    let mut s = healthy();
    s.kms_key_id = None;
    s.description = None;
    let mut c = cfg();
    c.disabled.insert(RuleId::NoDescription);
    c.severity_overrides
        .insert(RuleId::DefaultKmsKey, Severity::Critical);
    let f = evaluate(&s, None, &c, NOW);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, RuleId::DefaultKmsKey);
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(worst(&f), Some(Severity::Critical));
    c.disabled.extend(RuleId::ALL);
    assert!(evaluate(&s, None, &c, NOW).is_empty());
}
