use super::*;
use crate::domain::secret::fixtures::secret;
use crate::domain::{Labels, Version};
use std::sync::Arc;

fn v(id: &str, labels: &[&str]) -> Version {
    Version {
        id: VersionId::parse(id),
        labels: labels.iter().map(|l| Label::parse(l)).collect::<Labels>(),
        created: Some(Timestamp::new(1_790_000_000)),
        last_accessed: None,
    }
}

fn rotating(name: &str) -> Secret {
    let mut s = secret(name);
    s.rotation_enabled = true;
    s.rotation_lambda_arn = Some(Arc::from(
        "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRotation-ok-db",
    ));
    s.versions = vec![
        v("v2", &["AWSCURRENT"]),
        v("v1", &["AWSPREVIOUS"]),
        v("v0", &[]),
    ];
    s
}

#[test]
fn seen_lists_labelled_versions_and_names_every_change() {
    let s = rotating("prod/db");
    let seen = Seen::of(&s);
    assert_eq!(
        seen.labels,
        vec![
            ("v1".to_string(), vec!["AWSPREVIOUS".to_string()]),
            ("v2".to_string(), vec!["AWSCURRENT".to_string()]),
        ]
    );
    assert_eq!(seen.holder("AWSCURRENT"), Some("v2"));
    assert!(seen.changes(&Seen::of(&s)).is_empty());

    let mut moved = s.clone();
    moved.versions = vec![
        v("v3", &["AWSCURRENT"]),
        v("v2", &["AWSPREVIOUS", "AWSPENDING"]),
        v("v1", &[]),
    ];
    moved.rotation_enabled = false;
    let changes = seen.changes(&Seen::of(&moved));
    assert_eq!(
        changes,
        vec![
            "automatic rotation was turned off",
            "AWSCURRENT moved from version v2 to v3",
            "AWSPENDING was added to version v2",
            "AWSPREVIOUS moved from version v1 to v2",
        ]
    );
    assert_eq!(seen.describe(), "v1: AWSPREVIOUS; v2: AWSCURRENT");
}

#[test]
fn replicas_are_acted_on_through_their_primary() {
    let mut replica = rotating("prod/db");
    replica.region = Arc::from("eu-west-1");
    replica.primary_region = Some(Arc::from("us-east-1"));
    for kind in ActionKind::ALL {
        let why = unavailable(kind, &replica, None).expect("refused");
        assert!(why.contains("replica of the secret in us-east-1"), "{why}");
    }
    // The primary itself reports PrimaryRegion too: it is not a replica.
    let mut primary = rotating("prod/db");
    primary.primary_region = Some(Arc::from("us-east-1"));
    assert_eq!(unavailable(ActionKind::Rotate, &primary, None), None);
}

#[test]
fn each_action_says_when_it_is_not_possible() {
    let now = Timestamp::new(1_795_000_000);
    let s = rotating("prod/db");
    assert_eq!(unavailable(ActionKind::Rotate, &s, None), None);
    assert_eq!(unavailable(ActionKind::CancelRotation, &s, None), None);
    assert_eq!(unavailable(ActionKind::Rollback, &s, None), None);
    assert!(unavailable(ActionKind::Restore, &s, None)
        .unwrap()
        .contains("nothing to restore"));

    let plain = secret("dev/x");
    assert!(unavailable(ActionKind::Rotate, &plain, None)
        .unwrap()
        .contains("Rotation is not configured for dev/x"));
    assert!(unavailable(ActionKind::CancelRotation, &plain, None)
        .unwrap()
        .contains("no rotation to cancel"));
    assert!(unavailable(ActionKind::Rollback, &plain, None)
        .unwrap()
        .contains("No version of dev/x holds AWSPREVIOUS"));

    // RotateSecret (API reference): "If the AWSPENDING staging label is
    // present but not attached to the same version as AWSCURRENT, then
    // any later invocation of RotateSecret assumes that a previous
    // rotation request is still in progress and returns an error." So
    // with AWSPENDING left on v9, Rotate now is refused with the way
    // through, and Retry rotation / Clear pending version are offered.
    let mut stuck = rotating("prod/db");
    let mut pending = v("v9", &["AWSPENDING"]);
    pending.created = Some(Timestamp::new(now.secs() - 3 * 86_400));
    stuck.versions.push(pending);
    let why = unavailable(ActionKind::Rotate, &stuck, None).unwrap();
    assert!(
        why.contains("version v9 holds AWSPENDING") && why.contains("Retry rotation"),
        "{why}"
    );
    assert_eq!(unavailable(ActionKind::RetryRotation, &stuck, None), None);
    assert_eq!(unavailable(ActionKind::ClearPending, &stuck, None), None);
    assert_eq!(unavailable(ActionKind::CancelRotation, &stuck, None), None);
    // Nothing pending: nothing to retry or clear.
    assert!(unavailable(ActionKind::RetryRotation, &s, None)
        .unwrap()
        .contains("nothing to retry"));
    assert!(unavailable(ActionKind::ClearPending, &s, None)
        .unwrap()
        .contains("nothing to clear"));
    // Turning rotation back on: only when it is off, configured, and
    // no AWSPENDING is left over (RotateSecret would refuse).
    assert!(unavailable(ActionKind::EnableRotation, &s, None)
        .unwrap()
        .contains("already on"));
    let mut cancelled = stuck.clone();
    cancelled.rotation_enabled = false;
    assert!(unavailable(ActionKind::EnableRotation, &cancelled, None)
        .unwrap()
        .contains("clear the pending version first"));
    cancelled.versions.retain(|v| v.id.to_string() != "v9");
    assert_eq!(
        unavailable(ActionKind::EnableRotation, &cancelled, None),
        None
    );

    let mut deleted = rotating("prod/db");
    deleted.deleted = Some(Timestamp::new(1_800_000_000));
    for k in [
        ActionKind::Rotate,
        ActionKind::CancelRotation,
        ActionKind::Rollback,
    ] {
        assert!(unavailable(k, &deleted, None)
            .unwrap()
            .contains("restore it first"));
    }
    assert_eq!(unavailable(ActionKind::Restore, &deleted, None), None);

    // A picked rollback target: any other version; not the current one.
    assert_eq!(unavailable(ActionKind::Rollback, &s, Some("v0")), None);
    assert!(unavailable(ActionKind::Rollback, &s, Some("v2"))
        .unwrap()
        .contains("already holds AWSCURRENT"));
    assert!(unavailable(ActionKind::Rollback, &s, Some("nope"))
        .unwrap()
        .contains("has no version nope"));
}

#[test]
fn plans_name_the_exact_change_and_production_asks_for_the_name() {
    let prod = vec!["prod/*".to_string()];
    let now = Timestamp::new(1_795_000_000);
    let s = rotating("prod/db");
    let p = plan(ActionKind::Rollback, &s, None, &prod, now).unwrap();
    assert!(p.effects[0].starts_with("AWSCURRENT moves from version v2 (created"));
    assert!(p.effects[0].contains("to version v1"));
    assert!(p.afterwards.contains("value of version v1"));
    assert!(p.type_name);
    assert!(!confirmed(&p, "prod/d"));
    assert!(!confirmed(&p, "PROD/DB"));
    assert!(confirmed(&p, " prod/db "));

    let r = plan(ActionKind::Rotate, &s, None, &prod, now).unwrap();
    assert!(r.effects[1].contains("SecretsManagerRotation-ok-db"));
    let dev = plan(ActionKind::Rotate, &rotating("dev/db"), None, &prod, now).unwrap();
    assert!(!dev.type_name && confirmed(&dev, ""));

    let mut deleted = rotating("prod/db");
    deleted.deleted = Some(Timestamp::new(1_795_500_000));
    let restore = plan(ActionKind::Restore, &deleted, None, &prod, now).unwrap();
    assert!(
        restore.effects[0].contains("deleted for good on"),
        "{restore:?}"
    );
    assert!(plan(ActionKind::Rotate, &deleted, None, &prod, now).is_err());
    assert!(is_production("PROD/Payments/db", &prod));
    assert!(!is_production("staging/prod/db", &prod));
}

#[test]
fn recovery_plans_name_the_leftover_version_and_what_becomes_of_it() {
    let now = Timestamp::new(1_795_000_000);
    let mut s = rotating("app/db");
    let mut p = v("v9", &["AWSPENDING"]);
    p.created = Some(Timestamp::new(now.secs() - 600));
    s.versions.push(p);
    let retry = plan(ActionKind::RetryRotation, &s, None, &[], now).unwrap();
    assert!(
        retry.effects[0].starts_with("AWSPENDING is removed from version v9 (created")
            && retry.effects[0].contains("deprecated"),
        "{:?}",
        retry.effects
    );
    // Young and not seen failing: it may still be running.
    assert!(
        retry.effects[1].contains("still running"),
        "{:?}",
        retry.effects
    );
    assert!(retry.effects[2].contains("creates a new version"));
    // Seen failing: said, and no warning.
    s.failure = Some(Arc::new(crate::domain::rotation_failure::RotationFailure {
        at: Timestamp::new(now.secs() - 60),
        step: Some(crate::domain::rotation_failure::RotationStep::SetSecret),
        attempt: 2,
        message: None,
    }));
    let retry = plan(ActionKind::RetryRotation, &s, None, &[], now).unwrap();
    assert!(
        retry.effects[0].contains("retry failed at setSecret, attempt 2"),
        "{:?}",
        retry.effects
    );
    assert!(!retry.effects[1].contains("still running"));
    let clear = plan(ActionKind::ClearPending, &s, None, &[], now).unwrap();
    assert!(clear
        .effects
        .last()
        .unwrap()
        .contains("automatic rotation stays on"));
    // A cancelled rotation: the cancel says AWSPENDING stays.
    let cancel = plan(ActionKind::CancelRotation, &s, None, &[], now).unwrap();
    assert!(cancel.effects[1].contains("AWSPENDING stays on version v9"));
    let mut off = rotating("app/db");
    off.rotation_enabled = false;
    off.rotation_rules = Some(Arc::new(crate::domain::secret::RotationRules {
        automatically_after_days: Some(30),
        duration: Some("3h".into()),
        schedule_expression: None,
    }));
    let on = plan(ActionKind::EnableRotation, &off, None, &[], now).unwrap();
    assert!(
        on.effects[0].contains("SecretsManagerRotation-ok-db")
            && on.effects[0].contains("every 30 days, in a 3h window"),
        "{:?}",
        on.effects
    );
}

#[test]
fn a_followed_rotation_reaches_one_end_and_stays_there() {
    let t = |s: i64| Timestamp::new(1_790_000_000 + s);
    let labels = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let fresh = || RotationProgress::new("app/db", "v2", "operator", t(0));

    // Still pending: nothing new.
    let mut p = fresh();
    assert!(!p.observe(&labels(&["AWSPENDING"]), None, false, t(2)));
    assert_eq!((p.stage, p.steps.len()), (RotationStage::Pending, 1));
    // Promoted, and a later failure report does not undo it.
    assert!(p.observe(&labels(&["AWSCURRENT"]), None, false, t(4)));
    assert_eq!(p.stage, RotationStage::Promoted);
    assert!(!p.observe(&labels(&["AWSPENDING"]), Some("boom"), true, t(6)));
    assert_eq!((p.stage, p.steps.len()), (RotationStage::Promoted, 2));
    assert!(p.steps[1].1.contains("v2 holds AWSCURRENT"));

    // A failure while pending names the message and what to do.
    let mut p = fresh();
    assert!(p.observe(
        &labels(&["AWSPENDING"]),
        Some("x failed at setSecret"),
        false,
        t(3)
    ));
    assert_eq!(p.stage, RotationStage::Failed);
    assert!(
        p.steps[1].1.contains("x failed at setSecret") && p.steps[1].1.contains("Retry rotation")
    );
    // The step's guidance comes with it.
    assert!(
        p.steps[1].1.contains("The database or service refused"),
        "{}",
        p.steps[1].1
    );
    // Promotion wins over a failure seen at the same look (a retry).
    let mut p = fresh();
    p.observe(&labels(&["AWSCURRENT"]), Some("old failure"), false, t(3));
    assert_eq!(p.stage, RotationStage::Promoted);

    // AWSPENDING gone without AWSCURRENT: ended; time up while pending: stuck.
    let mut p = fresh();
    p.observe(&[], None, false, t(3));
    assert_eq!(p.stage, RotationStage::Ended);
    let mut p = fresh();
    p.observe(&labels(&["AWSPENDING"]), None, true, t(300));
    assert_eq!(p.stage, RotationStage::Stuck);
    assert!(p.finished());
}

#[test]
fn rollback_choices_put_awsprevious_first_and_leave_out_current_and_pending() {
    let mut s = rotating("app/db");
    let dated = |id: &str, labels: &[&str], at: i64| Version {
        created: Some(Timestamp::new(at)),
        ..v(id, labels)
    };
    s.versions = vec![
        dated("old", &["keep"], 100),
        dated("cur", &["AWSCURRENT"], 400),
        dated("pend", &["AWSPENDING"], 500),
        dated("prev", &["AWSPREVIOUS"], 200),
        dated("mid", &["canary"], 300),
    ];
    let ids = |s: &Secret| {
        rollback_choices(s)
            .iter()
            .map(|v| v.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&s), ["prev", "mid", "old"]);
    assert_eq!(rollback_default(&s).as_deref(), Some("prev"));
    let p = plan(
        ActionKind::Rollback,
        &s,
        Some("mid"),
        &[],
        Timestamp::new(600),
    )
    .unwrap();
    assert_eq!(p.to_version.as_deref(), Some("mid"));
    assert_eq!(p.choices.len(), 3);
    assert!(
        p.choices[1].1.starts_with("mid (canary, created"),
        "{:?}",
        p.choices
    );
    assert!(plan(
        ActionKind::Rollback,
        &s,
        Some("pend"),
        &[],
        Timestamp::new(600)
    )
    .unwrap_err()
    .contains("holds AWSPENDING"));
    // Without AWSPREVIOUS, the newest earlier version.
    s.versions.retain(|v| v.id.to_string() != "prev");
    assert_eq!(rollback_default(&s).as_deref(), Some("mid"));
}
