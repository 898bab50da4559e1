//! The health rules over the seeded demo inventory, read through the SDK the
//! way the dashboard reads it (ListSecrets, plus DescribeSecret for replica
//! status): every rule's set of secrets is checked against what the seed
//! planned.

use super::planned;
use crate::domain::health::{
    evaluate, worst, Finding, HealthConfig, ReplicaState, RuleId, Severity,
};
use crate::domain::{Secret, State, Timestamp};
use crate::server::aws::rate::RateLimiter;
use crate::server::aws::sync::fetch_replicas;
use crate::server::health::HealthView;
use crate::server::inventory::Snapshot;
use crate::server::selection::select;
use secretsmanager_emulator::Scenario;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const NOW: i64 = 1_795_000_000;
const DAY: i64 = 86_400;

type Names = BTreeSet<String>;

fn listed(secrets: &[Secret], f: impl Fn(&Secret) -> bool) -> Names {
    secrets
        .iter()
        .filter(|s| f(s))
        .map(|s| s.name.to_string())
        .collect()
}

#[tokio::test]
async fn the_seeded_inventory_yields_the_planned_findings() {
    let super::Seeded {
        // Kept alive: dropping it stops the endpoint.
        ep: _ep,
        source,
        secrets,
        plan,
    } = super::seeded(600, 23, NOW).await;
    assert_eq!(secrets.len(), plan.len(), "deleted secrets are listed too");
    let scenario: HashMap<&str, Scenario> =
        plan.iter().map(|p| (p.name.as_str(), p.scenario)).collect();

    // Replica status is only in DescribeSecret.
    let mut replicas: HashMap<String, Vec<ReplicaState>> = HashMap::new();
    let limiter = RateLimiter::new(0.0);
    for s in &secrets {
        let r = fetch_replicas(&source, &limiter, &s.arn, &s.name)
            .await
            .unwrap();
        replicas.insert(s.name.to_string(), r);
    }

    let cfg = HealthConfig::default();
    let now = Timestamp::new(NOW);
    let mut fired: BTreeMap<RuleId, Names> =
        RuleId::ALL.iter().map(|r| (*r, Names::new())).collect();
    let mut findings: HashMap<String, Vec<Finding>> = HashMap::new();
    for s in &secrets {
        let f = evaluate(s, Some(&replicas[&*s.name]), &cfg, now);
        for x in &f {
            assert!(!x.detail.is_empty());
            assert!(x.suppressed.is_none(), "the seed has no suppression tags");
            fired.get_mut(&x.rule).unwrap().insert(s.name.to_string());
        }
        assert!(
            f.windows(2).all(|w| w[0].severity >= w[1].severity),
            "{}: worst first",
            s.name
        );
        findings.insert(s.name.to_string(), f);
    }
    let by_name: HashMap<&str, &Secret> = secrets.iter().map(|s| (&*s.name, s)).collect();
    let is = |name: &str, want: &[Scenario]| want.contains(&scenario[name]);

    // Posture rules the plan states directly.
    assert_eq!(
        fired[&RuleId::DefaultKmsKey],
        planned(&plan, |p| p.kms_default)
    );
    assert_eq!(
        fired[&RuleId::MissingRequiredTags],
        planned(&plan, |p| !p.has_owner_tag)
    );
    assert_eq!(
        fired[&RuleId::ScheduledForDeletion],
        planned(&plan, |p| p.deleted)
    );
    // Without CloudTrail's reads the read rules are not evaluated: they
    // never fire, and say so for every secret they apply to.
    assert!(fired[&RuleId::AccessedAfterDeletion].is_empty());
    assert!(fired[&RuleId::NewReader].is_empty());
    assert!(fired[&RuleId::ReadPreviousAfterRotation].is_empty());
    for s in &secrets {
        let not = crate::domain::health::not_evaluated(s, &cfg);
        assert_eq!(
            not.contains(&RuleId::AccessedAfterDeletion),
            s.deleted.is_some(),
            "{}",
            s.name
        );
    }
    assert_eq!(
        fired[&RuleId::NoDescription],
        listed(&secrets, |s| s.description.is_none()),
        "the sync keeps an empty description as none"
    );

    // rotation-failed: AWSPENDING is left behind by the broken and the flaky
    // Lambdas alike. ListSecrets gives no version dates, so the rotation's
    // start is the secret's LastChangedDate; the seed sometimes changes a
    // secret after its rotation failed, and a change within the last hour
    // reads as a rotation still in progress.
    let failed = planned(&plan, |p| {
        matches!(
            p.scenario,
            Scenario::RotationFailed | Scenario::RotationFlaky
        )
    });
    let changed_within_grace = listed(&secrets, |s| {
        s.last_changed
            .is_some_and(|c| NOW - c.secs() <= cfg.pending_grace_secs)
    });
    assert_eq!(
        fired[&RuleId::RotationFailed],
        failed
            .difference(&changed_within_grace)
            .cloned()
            .collect::<Names>()
    );
    assert!(
        fired[&RuleId::RotationFailed].len() * 10 >= failed.len() * 8,
        "most failed rotations are reported: {} of {}",
        fired[&RuleId::RotationFailed].len(),
        failed.len()
    );
    assert!(fired[&RuleId::RotationFailed]
        .iter()
        .any(|n| is(n, &[Scenario::RotationFailed])));
    for name in &fired[&RuleId::RotationFailed] {
        let s = by_name[name.as_str()];
        assert_eq!(State::of(s, now), State::RotationStuck, "{name}");
        let f = &findings[name][0];
        assert_eq!(f.rule, RuleId::RotationFailed, "{name}: the worst finding");
        assert_eq!(worst(&findings[name]), Some(Severity::Critical));
        assert_eq!(f.since, s.last_changed, "{name}: version dates not fetched");
        let lambda = s.rotation_lambda_arn.as_deref().unwrap();
        assert!(f.detail.contains(lambda), "{}", f.detail);
        let pending = s.pending_version().unwrap();
        assert!(f.detail.contains(&pending.id.to_string()), "{}", f.detail);
    }

    // rotation-overdue: the Overdue scenario, and LambdaMissing, whose Lambda
    // Secrets Manager cannot invoke, so no rotation ever starts (no
    // AWSPENDING) and NextRotationDate slips into the past.
    assert_eq!(
        fired[&RuleId::RotationOverdue],
        planned(&plan, |p| {
            matches!(p.scenario, Scenario::Overdue | Scenario::LambdaMissing)
        })
    );
    assert!(fired[&RuleId::RotationOverdue].is_disjoint(&fired[&RuleId::RotationFailed]));

    // rotation-disabled: every listed secret with rotation off that is not
    // being deleted: NeverRotated and DisabledWithRules, plus the Unused and
    // replicated secrets the seed left without rotation and AppFlow's
    // managed secrets.
    let disabled = listed(&secrets, |s| !s.rotation_enabled && s.deleted.is_none());
    assert_eq!(fired[&RuleId::RotationDisabled], disabled);
    assert!(planned(&plan, |p| {
        matches!(
            p.scenario,
            Scenario::NeverRotated | Scenario::DisabledWithRules
        )
    })
    .is_subset(&disabled));
    assert!(fired[&RuleId::RotationDisabled].iter().all(|n| !is(
        n,
        &[
            Scenario::Healthy,
            Scenario::RotationFailed,
            Scenario::RotationFlaky,
            Scenario::Overdue,
            Scenario::LambdaMissing,
            Scenario::ScheduledForDeletion,
        ]
    )));
    assert_eq!(
        fired[&RuleId::RotationDisabledWithRules],
        planned(&plan, |p| p.scenario == Scenario::DisabledWithRules),
        "deleted secrets with leftover rotation settings are not reported"
    );

    // not-rotated-recently: last rotation (else creation) over 90 days ago.
    let stale = listed(&secrets, |s| {
        s.deleted.is_none()
            && s.last_rotated
                .or(s.created)
                .is_some_and(|t| NOW - t.secs() > 90 * DAY)
    });
    assert_eq!(fired[&RuleId::NotRotatedRecently], stale);
    assert!(fired[&RuleId::NotRotatedRecently]
        .iter()
        .all(|n| !is(n, &[Scenario::Healthy, Scenario::ScheduledForDeletion])));
    assert!(fired[&RuleId::NotRotatedRecently]
        .iter()
        .any(|n| is(n, &[Scenario::NeverRotated])));

    // The seed's intervals are 5 to 90 days: none is too long.
    assert!(fired[&RuleId::RotationIntervalTooLong].is_empty());
    let mut strict = cfg.clone();
    strict.max_interval_days = 29;
    let long = secrets
        .iter()
        .filter(|s| {
            evaluate(s, None, &strict, now)
                .iter()
                .any(|f| f.rule == RuleId::RotationIntervalTooLong)
        })
        .count();
    assert!(long > 0, "a 29-day maximum catches the 30-90 day schedules");

    // unused: only the Unused scenario. The seed reads those 90 to 400 days
    // ago (or never); AWS keeps only the day, and a read on day D counts as
    // use until D ends, so the few read on the 90th day before now are not
    // yet unused.
    let unused_plan = planned(&plan, |p| p.scenario == Scenario::Unused);
    let day_end = |t: Timestamp| t.secs() - t.secs().rem_euclid(DAY) + DAY;
    let unused_listed = listed(&secrets, |s| {
        s.deleted.is_none() && s.last_accessed.is_none_or(|t| NOW > day_end(t) + 90 * DAY)
    });
    assert_eq!(fired[&RuleId::Unused], unused_listed);
    assert!(fired[&RuleId::Unused].is_subset(&unused_plan));
    assert!(fired[&RuleId::Unused].len() * 10 >= unused_plan.len() * 9);

    // replica-failed: exactly the ReplicaFailed scenario; never without
    // replica status.
    assert_eq!(
        fired[&RuleId::ReplicaFailed],
        planned(&plan, |p| p.scenario == Scenario::ReplicaFailed)
    );
    assert!(secrets.iter().all(|s| evaluate(s, None, &cfg, now)
        .iter()
        .all(|f| f.rule != RuleId::ReplicaFailed)));

    // Every rule the seed can exercise did fire.
    // (The read rules need CloudTrail's reads: see tests::readers.)
    let read_rules = [
        RuleId::AccessedAfterDeletion,
        RuleId::ReadPreviousAfterRotation,
        RuleId::NewReader,
    ];
    for (rule, names) in &fired {
        if *rule != RuleId::RotationIntervalTooLong && !read_rules.contains(rule) {
            assert!(!names.is_empty(), "{rule} never fired");
        }
    }
    // The whole-inventory view the pages read agrees secret by secret, and
    // each `rule:` search selects exactly the secrets the rule fired for.
    let by_arn: HashMap<std::sync::Arc<str>, Vec<ReplicaState>> = secrets
        .iter()
        .map(|s| (s.arn.clone(), replicas[&*s.name].clone()))
        .collect();
    let snapshot = Snapshot::new(
        secrets.iter().cloned().map(std::sync::Arc::new).collect(),
        Some(now),
    );
    let view = HealthView::compute(std::sync::Arc::new(snapshot), &cfg, now, &by_arn);
    for (rule, names) in &fired {
        assert_eq!(view.counts.active[*rule as usize], names.len(), "{rule}");
        let sel = select(&view, &format!("rule:{rule}"), "", "");
        let got: Names = sel.matched.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(&got, names, "rule:{rule}");
    }
    for sev in [None, Some(Severity::Critical), Some(Severity::Low)] {
        let want = findings.values().filter(|f| worst(f) == sev).count();
        assert_eq!(view.counts.with_worst(sev), want, "{sev:?}");
        let q = format!("health:{}", sev.map_or("ok", |s| s.as_str()));
        assert_eq!(select(&view, &q, "", "").matched.len(), want, "{q}");
    }

    let counts: Vec<String> = fired
        .iter()
        .map(|(r, n)| format!("{r}={}", n.len()))
        .collect();
    eprintln!(
        "findings per rule over {} secrets: {}",
        secrets.len(),
        counts.join(" ")
    );
}
