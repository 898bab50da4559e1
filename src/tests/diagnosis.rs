//! Rotation diagnosis against the demo endpoint, whose seed deals one
//! misconfiguration per cause (its Lambda, VPC, key, role or resource
//! policy), each of which makes its rotations fail the way AWS would. The
//! diagnosis must name the seeded cause from the metadata alone, pass the
//! healthy case, and say "could not be checked" with the permission when
//! the dashboard is refused a read.

use super::app::TestApp;
use crate::api::{ActionPreview, DiagnosisView, Oncall};
use crate::domain::diagnosis::{CauseId, CheckId, Status};
use crate::domain::health::RuleId;
use crate::domain::links::query_value;
use crate::server::config::Config;
use secretsmanager_emulator::{LambdaBehaviour, LocalOptions, PlannedSecret, Scenario};
use std::collections::{BTreeMap, BTreeSet};

/// 300 secrets of seed 42 (every cause dealt at least once), CloudTrail on
/// so the failures (their step and message) are learned.
async fn app(denied: &[&str]) -> TestApp {
    app_of(300, denied).await
}

async fn app_of(secrets: usize, denied: &[&str]) -> TestApp {
    let mut config = Config::default();
    config.cloudtrail.enabled = true;
    // The default budget (5 calls a second) is AWS's pace; here the test's.
    config.diagnosis.calls_per_second = 500.0;
    TestApp::builder()
        .config(config)
        .endpoint(LocalOptions {
            seed_secrets: secrets,
            seed: 42,
            denied_actions: denied.iter().map(|s| s.to_string()).collect(),
            ..LocalOptions::default()
        })
        .build()
        .await
}

fn failing(t: &TestApp) -> Vec<PlannedSecret> {
    t.ep.endpoint
        .plan()
        .into_iter()
        .filter(|p| !p.hostile && p.scenario == Scenario::RotationFailed)
        .collect()
}

async fn diagnosis(c: &super::client::Client, arn: &str) -> DiagnosisView {
    let res = c
        .post_form("/api/get_diagnosis", &format!("id={}", query_value(arn)))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

#[tokio::test]
async fn each_seeded_misconfiguration_is_found_with_its_evidence() {
    let t = app(&[]).await;
    let admin = t.signed_in("admin").await;
    // The queue learns the failures CloudTrail recorded (step, message).
    assert_eq!(admin.post_form("/api/get_oncall", "").await.status, 200);
    let mut found: BTreeSet<String> = BTreeSet::new();
    for p in failing(&t) {
        let v = diagnosis(&admin, &p.arn).await;
        let d = &v.diagnosis;
        let main = d.main_cause().map(|(c, _)| c.slug().to_string());
        assert_eq!(
            main, p.cause,
            "{} ({:?}): {:#?}",
            p.name, p.lambda_behaviour, d.checks
        );
        if let Some(cause) = &p.cause {
            let c = CauseId::parse(cause).unwrap();
            let check = d
                .checks
                .iter()
                .find(|x| x.id == c.check() && x.status == Status::Failed);
            let check = check.expect("the cause's check failed");
            assert!(
                !check.evidence.is_empty() && check.fix.is_some(),
                "{check:?}"
            );
            found.insert(cause.clone());
        }
        // Nothing was refused: every check could be made.
        assert!(
            d.missing_permissions().is_empty(),
            "{:?}",
            d.missing_permissions()
        );
    }
    let planned: BTreeSet<String> = failing(&t).into_iter().filter_map(|p| p.cause).collect();
    assert_eq!(found, planned);
    assert!(found.len() >= 9, "the seed deals the causes: {found:?}");
}

#[tokio::test]
async fn a_healthy_rotation_passes_and_the_strategy_is_read_from_the_template() {
    let t = app(&[]).await;
    let admin = t.signed_in("admin").await;
    let healthy: Vec<PlannedSecret> =
        t.ep.endpoint
            .plan()
            .into_iter()
            .filter(|p| !p.hostile && p.scenario == Scenario::Healthy)
            .filter(|p| p.lambda_behaviour == Some(LambdaBehaviour::Ok))
            .take(12)
            .collect();
    assert!(!healthy.is_empty());
    let mut strategies = BTreeSet::new();
    for p in &healthy {
        let d = diagnosis(&admin, &p.arn).await.diagnosis;
        assert_eq!(d.checks.len(), 14, "every check is made");
        for c in &d.checks {
            assert!(
                matches!(c.status, Status::Passed | Status::NotApplicable),
                "{}: {:?} {:?} {}",
                p.name,
                c.id,
                c.status,
                c.evidence
            );
        }
        strategies.insert(format!("{:?}", d.strategy.kind));
    }
    assert!(
        strategies.contains("SingleUser") && strategies.contains("Alternating"),
        "both templates are seeded: {strategies:?}"
    );
}

#[tokio::test]
async fn a_refused_read_says_could_not_be_checked_and_names_the_permission() {
    let t = app(&["iam:SimulatePrincipalPolicy", "ec2:DescribeVpcEndpoints"]).await;
    let admin = t.signed_in("admin").await;
    for p in failing(&t) {
        let d = diagnosis(&admin, &p.arn).await.diagnosis;
        let role = d
            .checks
            .iter()
            .find(|c| c.id == CheckId::RolePermissions)
            .unwrap();
        assert_eq!(
            role.status,
            Status::Unknown {
                permission: Some("iam:SimulatePrincipalPolicy".into())
            },
            "{}: {role:?}",
            p.name
        );
        assert!(d
            .missing_permissions()
            .contains(&"iam:SimulatePrincipalPolicy"));
        // The seeded role cause can no longer be seen; the others still are.
        if p.cause.as_deref() == Some("role-permission") {
            assert_eq!(d.main_cause(), None);
        }
    }
}

#[tokio::test]
async fn the_queue_groups_failures_into_incidents_and_cause_finds_them() {
    // Two rounds of the seed's deal of causes: the second reuses the
    // first's functions, so failures share a cause.
    let t = app_of(700, &[]).await;
    let admin = t.signed_in("admin").await;
    let res = admin.post_form("/api/get_oncall", "").await;
    assert_eq!(res.status, 200);
    let mut q: Oncall = res.json();
    if q.undiagnosed > 0 {
        // The rest were finished in the background; the next look has them.
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        q = admin.post_form("/api/get_oncall", "").await.json();
    }
    assert_eq!(q.undiagnosed, 0);
    let failed: Vec<_> = q
        .rows
        .iter()
        .filter(|r| r.problem == RuleId::RotationFailed)
        .collect();
    let in_incidents: usize = q.incidents.iter().map(|i| i.secrets.len()).sum();
    // Every failure is in one incident, and so is every overdue rotation
    // whose diagnosis found a cause (a function that cannot be invoked).
    let overdue_with_cause = q
        .rows
        .iter()
        .filter(|r| r.problem == RuleId::RotationOverdue)
        .filter(|r| r.cause.as_ref().is_some_and(|c| c.cause.is_some()))
        .count();
    assert!(
        overdue_with_cause > 0,
        "the seed's missing functions make rotations overdue"
    );
    assert_eq!(in_incidents, failed.len() + overdue_with_cause);
    let missing = q
        .incidents
        .iter()
        .find(|i| i.cause == Some(CauseId::LambdaMissing))
        .expect("the missing function is an incident");
    assert!(
        missing.secrets.len() > 1,
        "one missing function, several secrets: {missing:?}"
    );
    // The seed's secrets of one cause and one Lambda are one incident.
    // (Not lambda-changed: a change explains only the failures of secrets
    // that last rotated successfully before it, and the secrets sharing a
    // function rotated on different days.)
    let mut want: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in
        t.ep.endpoint
            .plan()
            .into_iter()
            .filter(|p| p.scenario == Scenario::RotationFailed)
    {
        if let (Some(c), Some(l)) = (p.cause, p.rotation_lambda) {
            if [
                "lambda-missing",
                "lambda-permission",
                "lambda-region",
                "lambda-timeout",
            ]
            .contains(&c.as_str())
            {
                *want.entry((c, l)).or_default() += 1;
            }
        }
    }
    for ((cause, lambda), n) in &want {
        let i = q
            .incidents
            .iter()
            .find(|i| i.cause.map(|c| c.slug()) == Some(cause.as_str()) && &i.subject == lambda)
            .unwrap_or_else(|| panic!("no incident {cause} {lambda}: {:#?}", q.incidents));
        assert_eq!(i.secrets.len(), *n, "{cause} {lambda}");
    }
    assert!(
        q.incidents.len() < failed.len(),
        "shared causes are grouped"
    );
    for r in &failed {
        assert!(r.cause.is_some(), "{} has its cause", r.name);
    }
    // cause: lists exactly the secrets diagnosed with it.
    let planned: BTreeSet<String> = t
        .ep
        .endpoint
        .plan()
        .into_iter()
        .filter(|p| p.scenario == Scenario::RotationFailed && p.cause.as_deref() == Some("network"))
        .map(|p| p.name)
        .collect();
    let res = admin.get("/export/secrets.json?q=cause%3Anetwork").await;
    assert_eq!(res.status, 200, "{}", res.body);
    let listed: serde_json::Value = res.json();
    let names: BTreeSet<String> = listed
        .as_array()
        .expect("an array of secrets")
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, planned);
}

#[tokio::test]
async fn roll_back_warns_for_a_single_user_secret_only() {
    let t = app(&[]).await;
    let admin = t.signed_in("admin").await;
    let mut seen = BTreeMap::new();
    for p in t.ep.endpoint.plan().into_iter().filter(|p| {
        !p.hostile
            && p.scenario == Scenario::Healthy
            && p.lambda_behaviour == Some(LambdaBehaviour::Ok)
    }) {
        let kind = format!(
            "{:?}",
            diagnosis(&admin, &p.arn).await.diagnosis.strategy.kind
        );
        if seen.contains_key(&kind) || kind == "Unknown" {
            continue;
        }
        let res = admin
            .post_form(
                "/api/preview_action",
                &format!("id={}&kind=rollback&to_version=", query_value(&p.arn)),
            )
            .await;
        if res.status != 200 {
            continue; // no earlier version to roll back to
        }
        let preview: ActionPreview = res.json();
        seen.insert(kind, preview.warning);
        if seen.len() == 2 {
            break;
        }
    }
    let single = seen.get("SingleUser").expect("a single-user secret");
    assert!(
        single.as_deref().is_some_and(|w| w.contains("AWSPREVIOUS")),
        "{single:?}"
    );
    assert_eq!(seen.get("Alternating"), Some(&None), "{seen:?}");
}
