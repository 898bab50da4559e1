//! The demo endpoint, driven through the real `aws-sdk-secretsmanager` client
//! exactly as the dashboard drives AWS.

use crate::seed::{self, PlannedSecret, SeedSecret};
use crate::{
    spawn, Faults, LambdaBehaviour, LocalEndpoint, LocalOptions, RotationOutcome, RunningEndpoint,
    Scenario,
};
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager as sm;
use sm::config::{Credentials, Region};
use sm::error::ProvideErrorMetadata;
use sm::types::{Filter, FilterNameStringType, SortByType, SortOrderType, Tag};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

pub(crate) use crate::testing::finished_rotation;

const NOW: i64 = 1_760_000_000;
const SEED: u64 = 42;
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn options(n: usize) -> LocalOptions {
    LocalOptions {
        seed_secrets: n,
        seed: SEED,
        now: Some(NOW),
        rotation_step: Duration::from_millis(20),
        ..LocalOptions::default()
    }
}

async fn start_with(opts: LocalOptions) -> RunningEndpoint {
    spawn(opts, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the demo endpoint starts")
}

async fn start(n: usize) -> RunningEndpoint {
    start_with(options(n)).await
}

/// A client with explicit region and credentials (nothing probes instance metadata).
async fn client_with(url: &str, max_attempts: u32) -> sm::Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .load()
        .await;
    sm::Client::new(&conf)
}

async fn client(ep: &RunningEndpoint) -> sm::Client {
    client_with(&ep.url(), 3).await
}

fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().unwrap_or("<no code>").to_string(),
    }
}

fn seeds(n: usize) -> Vec<SeedSecret> {
    seed::generate(n, SEED, NOW, ACCOUNT, REGION)
}

fn pick(plan: &[PlannedSecret], f: impl Fn(&PlannedSecret) -> bool) -> &PlannedSecret {
    plan.iter()
        .find(|p| !p.hostile && f(p))
        .expect("the seed plans such a secret")
}

/// Every page of ListSecrets, by name, in the order returned.
async fn list_all(
    c: &sm::Client,
    page: i32,
    include_deleted: bool,
    filters: Vec<Filter>,
    sort: Option<(SortByType, SortOrderType)>,
) -> Vec<sm::types::SecretListEntry> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = c
            .list_secrets()
            .max_results(page)
            .include_planned_deletion(include_deleted)
            .set_filters(if filters.is_empty() {
                None
            } else {
                Some(filters.clone())
            })
            .set_next_token(token.clone());
        if let Some((by, order)) = &sort {
            req = req.sort_by(by.clone()).sort_order(order.clone());
        }
        let resp = req.send().await.expect("ListSecrets");
        assert!(resp.secret_list().len() <= page as usize);
        out.extend(resp.secret_list().iter().cloned());
        match resp.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
}

fn names(entries: &[sm::types::SecretListEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.name().unwrap().to_string())
        .collect()
}

fn filter(key: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .key(FilterNameStringType::from(key))
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

async fn stages(c: &sm::Client, id: &str) -> HashMap<String, Vec<String>> {
    c.describe_secret()
        .secret_id(id)
        .send()
        .await
        .expect("DescribeSecret")
        .version_ids_to_stages()
        .cloned()
        .unwrap_or_default()
}

fn holder(stages: &HashMap<String, Vec<String>>, label: &str) -> Option<String> {
    stages
        .iter()
        .find(|(_, l)| l.iter().any(|x| x == label))
        .map(|(v, _)| v.clone())
}

#[tokio::test]
async fn paging_returns_exactly_the_seeded_set() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    assert_eq!(plan.len(), 300);
    assert_eq!(ep.endpoint.secret_count(), 300);

    let listed = names(&list_all(&c, 7, false, vec![], None).await);
    let unique: BTreeSet<_> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "no secret twice");
    let expected: BTreeSet<_> = plan
        .iter()
        .filter(|p| !p.deleted)
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(unique, expected);

    let all = names(&list_all(&c, 7, true, vec![], None).await);
    let expected_all: BTreeSet<_> = plan.iter().map(|p| p.name.clone()).collect();
    assert_eq!(all.len(), 300);
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), expected_all);

    // The default page is 100.
    let first = c.list_secrets().send().await.unwrap();
    assert_eq!(first.secret_list().len(), 100);
    assert!(first.next_token().is_some());
}

#[tokio::test]
async fn list_entries_carry_the_aws_fields() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let by_name: HashMap<String, SeedSecret> = seeds(300)
        .into_iter()
        .map(|s| (s.data.name.clone(), s))
        .collect();
    for e in list_all(&c, 100, true, vec![], None).await {
        let s = &by_name[e.name().unwrap()];
        assert_eq!(e.arn(), Some(s.data.arn.as_str()));
        assert_eq!(
            e.kms_key_id().is_none(),
            s.plan.kms_default,
            "KmsKeyId omitted for the default key"
        );
        assert_eq!(e.rotation_enabled(), Some(s.data.rotation_enabled));
        assert_eq!(e.deleted_date().is_some(), s.plan.deleted);
        assert_eq!(e.owning_service(), s.data.owning_service.as_deref());
        assert_eq!(e.primary_region(), Some(REGION));
        assert_eq!(e.created_date().unwrap().secs(), s.data.created / 1000);
        if let Some(t) = e.last_accessed_date() {
            assert_eq!(
                t.secs() % 86_400,
                0,
                "LastAccessedDate is truncated to the day"
            );
        }
        let labelled = s
            .data
            .versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .count();
        assert_eq!(
            e.secret_versions_to_stages().map(|m| m.len()).unwrap_or(0),
            labelled
        );
        assert_eq!(e.tags().len(), s.data.tags.len());
    }
}

/// A straightforward re-statement of AWS's filter rules over the seed data.
fn reference(s: &seed::SecretData, key: &str, value: &str) -> bool {
    let (neg, v) = match value.strip_prefix('!') {
        Some(v) => (true, v),
        None => (false, value),
    };
    // Words end at punctuation, at lower→upper case and between letters and digits.
    let words = |t: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut prev: Option<char> = None;
        for c in t.chars() {
            let boundary = match prev {
                _ if !c.is_ascii_alphanumeric() => true,
                Some(p) => {
                    (p.is_ascii_lowercase() && c.is_ascii_uppercase())
                        || p.is_ascii_digit() != c.is_ascii_digit()
                }
                None => false,
            };
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if c.is_ascii_alphanumeric() {
                cur.push(c.to_ascii_lowercase());
                prev = Some(c);
            } else {
                prev = None;
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    };
    let word_match = |t: &str| {
        let tw = words(t);
        words(v)
            .iter()
            .all(|w| tw.iter().any(|x| x.starts_with(w.as_str())))
    };
    let hit = match key {
        "name" => s.name.starts_with(v),
        "tag-key" => s.tags.iter().any(|t| t.key.starts_with(v)),
        "tag-value" => s.tags.iter().any(|t| t.value.starts_with(v)),
        "primary-region" => s
            .primary_region
            .as_deref()
            .is_some_and(|r| r.starts_with(v)),
        "owning-service" => s
            .owning_service
            .as_deref()
            .is_some_and(|r| r.starts_with(v)),
        "description" => s.description.as_deref().is_some_and(word_match),
        "all" => {
            word_match(&s.name)
                || s.description.as_deref().is_some_and(word_match)
                || s.tags
                    .iter()
                    .any(|t| word_match(&t.key) || word_match(&t.value))
        }
        _ => unreachable!(),
    };
    hit != neg
}

#[tokio::test]
async fn every_filter_key_matches_the_reference() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let data = seeds(300);
    let cases: Vec<Vec<(&str, Vec<&str>)>> = vec![
        vec![("name", vec!["prod/"])],
        vec![("name", vec!["prod/payments", "staging/search"])],
        vec![("name", vec!["Prod/"])],
        vec![("name", vec!["!prod/"])],
        vec![("tag-key", vec!["owner"])],
        vec![("tag-key", vec!["!owner"])],
        vec![("tag-key", vec!["cost"])],
        vec![("tag-value", vec!["payments", "search"])],
        vec![("tag-value", vec!["confidential"])],
        vec![("description", vec!["owner"])],
        vec![("description", vec!["MANAGED by"])],
        vec![("description", vec!["!owner"])],
        vec![("primary-region", vec!["us-east"])],
        vec![("primary-region", vec!["eu-"])],
        vec![("owning-service", vec!["rds"])],
        vec![("owning-service", vec!["!rds"])],
        vec![("all", vec!["payments"])],
        vec![("all", vec!["PROD db"])],
        vec![("all", vec!["alice"])],
        vec![("tag-key", vec!["team"]), ("name", vec!["prod/"])],
        vec![("tag-key", vec!["!owner"]), ("all", vec!["payments"])],
    ];
    for case in cases {
        let filters: Vec<Filter> = case.iter().map(|(k, v)| filter(k, v)).collect();
        let got: BTreeSet<String> = names(&list_all(&c, 50, false, filters, None).await)
            .into_iter()
            .collect();
        let expected: BTreeSet<String> = data
            .iter()
            .filter(|s| s.data.deleted.is_none())
            .filter(|s| {
                case.iter()
                    .all(|(k, vals)| vals.iter().any(|v| reference(&s.data, k, v)))
            })
            .map(|s| s.data.name.clone())
            .collect();
        assert_eq!(got, expected, "filters {case:?}");
        assert!(
            expected.len() < 300,
            "filters {case:?} should not be trivially everything"
        );
    }
    // Sanity: the cases above are not vacuous.
    let owners = list_all(&c, 100, false, vec![filter("tag-key", &["!owner"])], None).await;
    assert!(!owners.is_empty());
    assert!(owners
        .iter()
        .all(|e| e.tags().iter().all(|t| t.key() != Some("owner"))));
}

#[tokio::test]
async fn sorting_by_each_key_and_order() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let by_name: HashMap<String, SeedSecret> = seeds(300)
        .into_iter()
        .map(|s| (s.data.name.clone(), s))
        .collect();

    let asc = names(
        &list_all(
            &c,
            30,
            false,
            vec![],
            Some((SortByType::Name, SortOrderType::Asc)),
        )
        .await,
    );
    let mut sorted = asc.clone();
    sorted.sort();
    assert_eq!(asc, sorted);
    let desc = names(
        &list_all(
            &c,
            30,
            false,
            vec![],
            Some((SortByType::Name, SortOrderType::Desc)),
        )
        .await,
    );
    sorted.reverse();
    assert_eq!(desc, sorted);

    let created = list_all(
        &c,
        30,
        false,
        vec![],
        Some((SortByType::CreatedDate, SortOrderType::Asc)),
    )
    .await;
    assert!(created
        .windows(2)
        .all(|w| w[0].created_date().unwrap() <= w[1].created_date().unwrap()));
    // The default order is creation order.
    assert_eq!(
        names(&created),
        names(&list_all(&c, 30, false, vec![], None).await)
    );

    let changed = list_all(
        &c,
        30,
        false,
        vec![],
        Some((SortByType::LastChangedDate, SortOrderType::Desc)),
    )
    .await;
    assert!(changed
        .windows(2)
        .all(|w| w[0].last_changed_date().unwrap() >= w[1].last_changed_date().unwrap()));

    let accessed = list_all(
        &c,
        30,
        true,
        vec![],
        Some((SortByType::LastAccessedDate, SortOrderType::Asc)),
    )
    .await;
    assert_eq!(accessed.len(), 300);
    let key = |e: &sm::types::SecretListEntry| {
        by_name[e.name().unwrap()]
            .data
            .last_accessed
            .map(|t| t.div_euclid(86_400_000))
            .unwrap_or(i64::MIN)
    };
    assert!(accessed.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
    assert!(
        accessed[0].last_accessed_date().is_none(),
        "never-accessed secrets sort first"
    );
}

#[tokio::test]
async fn bad_list_parameters_get_aws_error_codes() {
    let ep = start(50).await;
    let c = client(&ep).await;
    assert_eq!(
        code(c.list_secrets().max_results(0).send().await),
        "ValidationException"
    );
    assert_eq!(
        code(c.list_secrets().max_results(101).send().await),
        "ValidationException"
    );
    assert_eq!(
        code(c.list_secrets().next_token("not-a-token!").send().await),
        "InvalidNextTokenException"
    );
    assert_eq!(
        code(
            c.list_secrets()
                .filters(filter("colour", &["red"]))
                .send()
                .await
        ),
        "ValidationException"
    );
    let eleven: Vec<&str> = vec!["a"; 11];
    assert_eq!(
        code(
            c.list_secrets()
                .filters(filter("name", &eleven))
                .send()
                .await
        ),
        "ValidationException"
    );
    // A token from one sort order is not valid for another.
    let page = c.list_secrets().max_results(5).send().await.unwrap();
    let token = page.next_token().unwrap().to_string();
    assert_eq!(
        code(
            c.list_secrets()
                .max_results(5)
                .sort_by(SortByType::Name)
                .next_token(token)
                .send()
                .await
        ),
        "InvalidNextTokenException"
    );
    assert_eq!(
        code(c.list_secret_version_ids().secret_id("nope").send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(c.get_secret_value().secret_id("x").send().await),
        "InvalidRequestException"
    );
}

#[tokio::test]
async fn describe_by_name_full_and_partial_arn() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::ReplicaFailed);
    let by_name = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    let by_arn = c.describe_secret().secret_id(&p.arn).send().await.unwrap();
    let partial = &p.arn[..p.arn.len() - 7];
    let by_partial = c.describe_secret().secret_id(partial).send().await.unwrap();
    for d in [&by_name, &by_arn, &by_partial] {
        assert_eq!(d.arn(), Some(p.arn.as_str()));
        assert_eq!(d.name(), Some(p.name.as_str()));
    }
    let replicas = by_name.replication_status();
    assert_eq!(replicas.len(), p.replica_regions.len());
    let failed: Vec<_> = replicas
        .iter()
        .filter(|r| r.status() == Some(&sm::types::StatusType::Failed))
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].status_message().is_some());
    let stages = by_name.version_ids_to_stages().unwrap();
    assert_eq!(
        stages
            .values()
            .filter(|l| l.iter().any(|x| x == "AWSCURRENT"))
            .count(),
        1
    );

    let deleted = pick(&plan, |p| p.deleted);
    let d = c
        .describe_secret()
        .secret_id(&deleted.name)
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date().is_some());

    assert_eq!(
        code(c.describe_secret().secret_id("no/such/secret").send().await),
        "ResourceNotFoundException"
    );
    let wrong_suffix = format!("{partial}-ZZZZZZ");
    assert_eq!(
        code(c.describe_secret().secret_id(wrong_suffix).send().await),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn version_ids_with_and_without_deprecated() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.deprecated_versions > 0 && !p.deleted);
    let current = c
        .list_secret_version_ids()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.versions().len(), p.versions - p.deprecated_versions);
    assert!(current
        .versions()
        .iter()
        .all(|v| !v.version_stages().is_empty()));
    assert_eq!(current.arn(), Some(p.arn.as_str()));
    let all = c
        .list_secret_version_ids()
        .secret_id(&p.name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), p.versions);
    assert_eq!(
        all.versions()
            .iter()
            .filter(|v| v.version_stages().is_empty())
            .count(),
        p.deprecated_versions
    );
    assert!(all
        .versions()
        .iter()
        .all(|v| !v.kms_key_ids().is_empty() && v.created_date().is_some()));

    // Paging one version at a time gives the same list.
    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let r = c
            .list_secret_version_ids()
            .secret_id(&p.arn)
            .include_deprecated(true)
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        paged.extend(
            r.versions()
                .iter()
                .map(|v| v.version_id().unwrap().to_string()),
        );
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let ids: Vec<String> = all
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap().to_string())
        .collect();
    assert_eq!(paged, ids);
}

#[tokio::test]
async fn rotation_with_an_ok_lambda_moves_the_labels() {
    // Steps far enough apart that the checks made while it runs see it running.
    let ep = start_with(LocalOptions {
        rotation_step: Duration::from_millis(500),
        ..options(300)
    })
    .await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::Healthy);
    let before = stages(&c, &p.name).await;
    let old_current = holder(&before, "AWSCURRENT").unwrap();

    let r = c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    let new_version = r.version_id().unwrap().to_string();
    assert_eq!(r.arn(), Some(p.arn.as_str()));
    let during = stages(&c, &p.name).await;
    assert_eq!(
        holder(&during, "AWSPENDING").as_deref(),
        Some(new_version.as_str())
    );
    assert_eq!(holder(&during, "AWSCURRENT"), Some(old_current.clone()));

    // A second rotation while the first runs is refused.
    let again = c.rotate_secret().secret_id(&p.name).send().await;
    let err = again.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err
        .message()
        .unwrap()
        .contains("previous rotation isn't complete"));

    let record = finished_rotation(&ep.endpoint, &p.name).await;
    assert_eq!(record.outcome, RotationOutcome::Succeeded);
    assert_eq!(record.steps.len(), 4);
    assert!(record.steps.iter().all(|s| s.ok));

    let after = stages(&c, &p.name).await;
    assert_eq!(holder(&after, "AWSCURRENT"), Some(new_version.clone()));
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(old_current));
    assert_eq!(holder(&after, "AWSPENDING"), None);
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert!(d.last_rotated_date().unwrap().secs() >= NOW);
    assert!(d.next_rotation_date().unwrap().secs() > NOW);
    assert_eq!(d.rotation_enabled(), Some(true));
}

/// Removes AWSPENDING from the version holding it (the first half of the
/// dashboard's "Retry rotation"): RotateSecret may start again after it.
async fn clear_pending(c: &sm::Client, id: &str) -> String {
    let stuck = holder(&stages(c, id).await, "AWSPENDING").expect("a version holds AWSPENDING");
    c.update_secret_version_stage()
        .secret_id(id)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&stuck)
        .send()
        .await
        .unwrap();
    stuck
}

/// "If the AWSPENDING staging label is present but not attached to the same
/// version as AWSCURRENT, then any later invocation of RotateSecret assumes
/// that a previous rotation request is still in progress and returns an
/// error." (RotateSecret, API reference.) So a seeded failed rotation is
/// retried by removing AWSPENDING first; the broken Lambda then fails again
/// and its new version keeps AWSPENDING.
#[tokio::test]
async fn a_broken_lambda_leaves_awspending_stuck() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::RotationFailed);
    assert_eq!(
        p.lambda_behaviour,
        Some(LambdaBehaviour::Broken),
        "the first failed rotation of the seed is broken at setSecret"
    );
    let before = stages(&c, &p.name).await;
    let current = holder(&before, "AWSCURRENT").unwrap();
    let stuck = holder(&before, "AWSPENDING").unwrap();
    assert_ne!(current, stuck);
    let history = ep.endpoint.rotation_history(&p.name).unwrap().len();

    let err = c
        .rotate_secret()
        .secret_id(&p.arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert_eq!(
        err.message(),
        Some("A previous rotation isn't complete. That rotation will be reattempted.")
    );
    assert_eq!(stages(&c, &p.name).await, before, "nothing changed");
    assert_eq!(
        ep.endpoint.rotation_history(&p.name).unwrap().len(),
        history,
        "no rotation started"
    );

    assert_eq!(clear_pending(&c, &p.arn).await, stuck);
    let v = c.rotate_secret().secret_id(&p.arn).send().await.unwrap();
    let new_version = v.version_id().unwrap().to_string();
    let record = finished_rotation(&ep.endpoint, &p.name).await;
    assert_eq!(record.outcome, RotationOutcome::Failed);
    assert!(record
        .steps
        .iter()
        .any(|s| !s.ok && s.step == crate::RotationStep::SetSecret));
    assert!(record
        .message
        .unwrap()
        .contains("failed at setSecret: Unable to log into database"));

    let after = stages(&c, &p.name).await;
    assert_eq!(
        holder(&after, "AWSCURRENT"),
        Some(current),
        "AWSCURRENT unchanged"
    );
    assert_eq!(
        holder(&after, "AWSPENDING"),
        Some(new_version),
        "the failed attempt's version keeps AWSPENDING"
    );
    assert!(
        !after.contains_key(&stuck),
        "the earlier stuck version is now deprecated"
    );
    // And that blocks the next RotateSecret in turn.
    assert_eq!(
        code(c.rotate_secret().secret_id(&p.arn).send().await),
        "InvalidRequestException"
    );
}

#[tokio::test]
async fn a_flaky_lambda_fails_then_succeeds() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| {
        p.scenario == Scenario::RotationFlaky && p.lambda_behaviour == Some(LambdaBehaviour::Flaky)
    });
    let current = holder(&stages(&c, &p.name).await, "AWSCURRENT").unwrap();

    clear_pending(&c, &p.name).await;
    c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &p.name).await.outcome,
        RotationOutcome::Failed
    );
    assert_eq!(
        holder(&stages(&c, &p.name).await, "AWSCURRENT"),
        Some(current.clone())
    );

    clear_pending(&c, &p.name).await;
    let retry = c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &p.name).await.outcome,
        RotationOutcome::Succeeded
    );
    let after = stages(&c, &p.name).await;
    assert_eq!(holder(&after, "AWSCURRENT").as_deref(), retry.version_id());
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(current));
    assert_eq!(holder(&after, "AWSPENDING"), None);
}

#[tokio::test]
async fn a_rotation_whose_lambda_was_fixed_succeeds_once_pending_is_cleared() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    // Stuck after a timeout; its Lambda works now.
    let p = pick(&plan, |p| {
        p.scenario == Scenario::RotationFlaky && p.lambda_behaviour == Some(LambdaBehaviour::Ok)
    });
    assert!(holder(&stages(&c, &p.name).await, "AWSPENDING").is_some());
    clear_pending(&c, &p.name).await;
    let rotated = c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &p.name).await.outcome,
        RotationOutcome::Succeeded
    );
    assert_eq!(
        holder(&stages(&c, &p.name).await, "AWSCURRENT").as_deref(),
        rotated.version_id()
    );
}

#[tokio::test]
async fn a_missing_lambda_is_access_denied_and_no_lambda_is_invalid() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::LambdaMissing);
    let before = stages(&c, &p.name).await;
    let err = c
        .rotate_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err
        .message()
        .unwrap()
        .contains("secretsmanager.amazonaws.com"));
    assert_eq!(stages(&c, &p.name).await, before, "nothing changed");

    let never = pick(&plan, |p| p.scenario == Scenario::NeverRotated);
    assert_eq!(
        code(c.rotate_secret().secret_id(&never.name).send().await),
        "InvalidRequestException"
    );
    // Giving a Lambda configures rotation.
    let ok_lambda = seed::lambda_arn(REGION, ACCOUNT, crate::LambdaBehaviour::Ok, "test");
    c.rotate_secret()
        .secret_id(&never.name)
        .rotation_lambda_arn(&ok_lambda)
        .rotation_rules(
            sm::types::RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &never.name).await.outcome,
        RotationOutcome::Succeeded
    );
    let d = c
        .describe_secret()
        .secret_id(&never.name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.rotation_lambda_arn(), Some(ok_lambda.as_str()));
    assert_eq!(
        d.rotation_rules().unwrap().automatically_after_days(),
        Some(30)
    );
}

#[tokio::test]
async fn client_request_token_makes_rotation_idempotent() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::Healthy);
    let token = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let history_before = ep.endpoint.rotation_history(&p.name).unwrap().len();
    let first = c
        .rotate_secret()
        .secret_id(&p.name)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.version_id(), Some(token));
    // The same token while the rotation runs and after it ended: same answer.
    let second = c
        .rotate_secret()
        .secret_id(&p.name)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.version_id(), Some(token));
    finished_rotation(&ep.endpoint, &p.name).await;
    let third = c
        .rotate_secret()
        .secret_id(&p.name)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(third.version_id(), Some(token));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        ep.endpoint.rotation_history(&p.name).unwrap().len(),
        history_before + 1
    );
    assert_eq!(
        holder(&stages(&c, &p.name).await, "AWSCURRENT").as_deref(),
        Some(token)
    );

    assert_eq!(
        code(
            c.rotate_secret()
                .secret_id(&p.name)
                .client_request_token("short")
                .send()
                .await
        ),
        "ValidationException"
    );
}

#[tokio::test]
async fn cancel_rotation_keeps_configuration_and_pending_label() {
    // Steps far enough apart that the checks made while it runs see it running.
    let ep = start_with(LocalOptions {
        rotation_step: Duration::from_millis(500),
        ..options(300)
    })
    .await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::RotationFailed);
    let before = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    let pending = holder(before.version_ids_to_stages().unwrap(), "AWSPENDING").unwrap();
    let r = c
        .cancel_rotate_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(r.version_id(), Some(pending.as_str()));
    assert_eq!(r.arn(), Some(p.arn.as_str()));
    let after = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(after.rotation_enabled(), Some(false));
    assert_eq!(after.rotation_lambda_arn(), before.rotation_lambda_arn());
    assert_eq!(after.rotation_rules(), before.rotation_rules());
    assert_eq!(
        holder(after.version_ids_to_stages().unwrap(), "AWSPENDING"),
        Some(pending)
    );

    // Cancelling a running rotation stops it where it is.
    let h = pick(&plan, |p| p.scenario == Scenario::Healthy);
    let current = holder(&stages(&c, &h.name).await, "AWSCURRENT");
    c.rotate_secret().secret_id(&h.name).send().await.unwrap();
    c.cancel_rotate_secret()
        .secret_id(&h.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &h.name).await.outcome,
        RotationOutcome::Cancelled
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let s = stages(&c, &h.name).await;
    assert_eq!(holder(&s, "AWSCURRENT"), current);
    assert!(holder(&s, "AWSPENDING").is_some());
}

#[tokio::test]
async fn update_version_stage_rolls_back() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| {
        p.scenario == Scenario::Healthy && p.versions >= 2 && p.custom_labels.is_empty()
    });
    let before = stages(&c, &p.name).await;
    let current = holder(&before, "AWSCURRENT").unwrap();
    let previous = holder(&before, "AWSPREVIOUS").unwrap();

    let err = c
        .update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&previous)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(err.message().unwrap().contains("RemoveFromVersionId"));

    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&previous)
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    let after = stages(&c, &p.name).await;
    assert_eq!(holder(&after, "AWSCURRENT"), Some(previous.clone()));
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(current.clone()));
    assert_eq!(after[&previous], vec!["AWSCURRENT".to_string()]);

    // A custom label, then removed: the version left without labels becomes deprecated.
    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("blue")
        .move_to_version_id(&current)
        .send()
        .await
        .unwrap();
    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("AWSPREVIOUS")
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("blue")
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    assert!(!stages(&c, &p.name).await.contains_key(&current));
    let all = c
        .list_secret_version_ids()
        .secret_id(&p.name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert!(all
        .versions()
        .iter()
        .any(|v| v.version_id() == Some(current.as_str()) && v.version_stages().is_empty()));
    // The service model gives MoveToVersionId and RemoveFromVersionId
    // (SecretVersionIdType) a length of 32 to 64 characters: a shorter id
    // is a ValidationException, before the secret is looked up; a
    // well-formed id the secret does not have is not found.
    assert_eq!(
        code(
            c.update_secret_version_stage()
                .secret_id(&p.name)
                .version_stage("AWSCURRENT")
                .move_to_version_id("no-such-version")
                .remove_from_version_id(&previous)
                .send()
                .await
        ),
        "ValidationException"
    );
    assert_eq!(
        code(
            c.update_secret_version_stage()
                .secret_id(&p.name)
                .version_stage("AWSCURRENT")
                .move_to_version_id("00000000-0000-4000-8000-000000000000")
                .remove_from_version_id(&previous)
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn delete_and_restore() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::NeverRotated);
    assert_eq!(
        code(
            c.delete_secret()
                .secret_id(&p.name)
                .recovery_window_in_days(3)
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    assert_eq!(
        code(
            c.delete_secret()
                .secret_id(&p.name)
                .recovery_window_in_days(7)
                .force_delete_without_recovery(true)
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    let d = c
        .delete_secret()
        .secret_id(&p.name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert!(d.deletion_date().unwrap().secs() >= NOW + 7 * 86_400);
    let visible = names(&list_all(&c, 100, false, vec![], None).await);
    assert!(!visible.contains(&p.name));
    assert!(names(&list_all(&c, 100, true, vec![], None).await).contains(&p.name));
    assert!(c
        .describe_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap()
        .deleted_date()
        .is_some());
    let err = c
        .tag_resource()
        .secret_id(&p.name)
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err.message().unwrap().contains("marked for deletion"));
    assert_eq!(
        code(c.delete_secret().secret_id(&p.name).send().await),
        "InvalidRequestException"
    );

    c.restore_secret().secret_id(&p.name).send().await.unwrap();
    assert!(c
        .describe_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap()
        .deleted_date()
        .is_none());
    assert_eq!(
        code(c.restore_secret().secret_id(&p.name).send().await),
        "InvalidRequestException"
    );

    c.delete_secret()
        .secret_id(&p.arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(c.describe_secret().secret_id(&p.name).send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(ep.endpoint.secret_count(), 299);
    // Forcing the delete of a secret that is gone is not an error.
    c.delete_secret()
        .secret_id(&p.name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn resource_policies() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| !p.deleted && !p.has_resource_policy);
    let none = c
        .get_resource_policy()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(none.resource_policy(), None);
    assert_eq!(none.arn(), Some(p.arn.as_str()));

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    c.put_resource_policy()
        .secret_id(&p.name)
        .resource_policy(policy)
        .block_public_policy(true)
        .send()
        .await
        .unwrap();
    let got = c
        .get_resource_policy()
        .secret_id(&p.arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.resource_policy(), Some(policy));

    assert_eq!(
        code(
            c.put_resource_policy()
                .secret_id(&p.name)
                .resource_policy("{not json")
                .send()
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    assert_eq!(
        code(
            c.put_resource_policy()
                .secret_id(&p.name)
                .resource_policy(r#"{"Version":"2012-10-17"}"#)
                .send()
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    let public = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    assert_eq!(
        code(
            c.put_resource_policy()
                .secret_id(&p.name)
                .resource_policy(public)
                .block_public_policy(true)
                .send()
                .await
        ),
        "PublicPolicyException"
    );
    c.put_resource_policy()
        .secret_id(&p.name)
        .resource_policy(public)
        .block_public_policy(false)
        .send()
        .await
        .unwrap();

    c.delete_resource_policy()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_resource_policy()
            .secret_id(&p.name)
            .send()
            .await
            .unwrap()
            .resource_policy(),
        None
    );
    let seeded = pick(&plan, |p| !p.deleted && p.has_resource_policy);
    assert!(c
        .get_resource_policy()
        .secret_id(&seeded.name)
        .send()
        .await
        .unwrap()
        .resource_policy()
        .is_some());
}

#[tokio::test]
async fn tag_and_untag() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| {
        !p.deleted && !p.has_owner_tag && p.owning_service.is_none()
    });
    c.tag_resource()
        .secret_id(&p.name)
        .tags(Tag::builder().key("owner").value("zoe@example.com").build())
        .tags(Tag::builder().key("team").value("payments").build())
        .send()
        .await
        .unwrap();
    let tags =
        |d: &sm::operation::describe_secret::DescribeSecretOutput| -> HashMap<String, String> {
            d.tags()
                .iter()
                .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
                .collect()
        };
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        tags(&d).get("owner").map(String::as_str),
        Some("zoe@example.com")
    );
    assert_eq!(tags(&d).get("team").map(String::as_str), Some("payments"));
    let filtered =
        names(&list_all(&c, 100, false, vec![filter("tag-value", &["zoe@"])], None).await);
    assert!(filtered.contains(&p.name));
    // The cached orders follow the change: it is now the most recently changed secret.
    let newest = c
        .list_secrets()
        .sort_by(SortByType::LastChangedDate)
        .sort_order(SortOrderType::Desc)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(names(newest.secret_list()), vec![p.name.clone()]);
    let by_changed = list_all(
        &c,
        13,
        false,
        vec![],
        Some((SortByType::LastChangedDate, SortOrderType::Asc)),
    )
    .await;
    assert_eq!(by_changed.last().unwrap().name(), Some(p.name.as_str()));
    assert!(by_changed
        .windows(2)
        .all(|w| w[0].last_changed_date().unwrap() <= w[1].last_changed_date().unwrap()));

    c.untag_resource()
        .secret_id(&p.name)
        .tag_keys("owner")
        .send()
        .await
        .unwrap();
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert!(!tags(&d).contains_key("owner"));
    assert_eq!(tags(&d).get("team").map(String::as_str), Some("payments"));
}

#[tokio::test]
async fn create_secret_holds_no_value() {
    let ep = start(10).await;
    let c = client(&ep).await;
    let token = "11111111-2222-3333-4444-555555555555";
    let created = c
        .create_secret()
        .name("test/created/api-key")
        .description("Owner: test@example.com")
        .secret_string("this value is dropped")
        .client_request_token(token)
        .tags(Tag::builder().key("owner").value("test").build())
        .send()
        .await
        .unwrap();
    assert_eq!(created.version_id(), Some(token));
    assert!(created
        .arn()
        .unwrap()
        .starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:test/created/api-key-"));
    let s = stages(&c, "test/created/api-key").await;
    assert_eq!(s.get(token), Some(&vec!["AWSCURRENT".to_string()]));
    // The same token again is the same request.
    let again = c
        .create_secret()
        .name("test/created/api-key")
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.arn(), created.arn());
    assert_eq!(
        code(c.create_secret().name("test/created/api-key").send().await),
        "ResourceExistsException"
    );
    assert_eq!(
        code(c.create_secret().name("bad name <x>").send().await),
        "InvalidParameterException"
    );
    assert_eq!(ep.endpoint.secret_count(), 11);
    let by_name = names(
        &list_all(
            &c,
            4,
            true,
            vec![],
            Some((SortByType::Name, SortOrderType::Asc)),
        )
        .await,
    );
    assert_eq!(by_name.len(), 11);
    assert!(by_name.windows(2).all(|w| w[0] < w[1]));
    assert!(by_name.contains(&"test/created/api-key".to_string()));
    assert_eq!(
        code(
            c.get_secret_value()
                .secret_id("test/created/api-key")
                .send()
                .await
        ),
        "InvalidRequestException"
    );
}

#[tokio::test]
async fn throttling_fails_the_call_and_light_faults_are_retried_through() {
    let ep = start_with(LocalOptions {
        faults: Faults {
            throttle_rate: 1.0,
            ..Faults::default()
        },
        ..options(300)
    })
    .await;
    let c = client_with(&ep.url(), 2).await;
    let err = c.list_secrets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.message(), Some("Rate exceeded"));

    ep.endpoint.set_faults(Faults {
        throttle_rate: 0.2,
        error_rate: 0.05,
        latency_ms: 1,
    });
    let patient = client_with(&ep.url(), 12).await;
    let listed = list_all(&patient, 20, true, vec![], None).await;
    assert_eq!(listed.len(), 300);

    ep.endpoint.set_faults(Faults::default());
    ep.endpoint.set_down(true);
    let err = c.list_secrets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    ep.endpoint.set_down(false);
    assert_eq!(
        c.list_secrets().send().await.unwrap().secret_list().len(),
        100
    );
}

#[tokio::test]
async fn control_routes_and_unknown_operations() {
    use axum::body::Body;
    use tower::ServiceExt;
    let ep = LocalEndpoint::new(options(40));
    let call = |method: &str, uri: &str, target: Option<&str>, body: &str| {
        let mut b = axum::http::Request::builder().method(method).uri(uri);
        if let Some(t) = target {
            b = b
                .header("x-amz-target", t)
                .header("content-type", "application/x-amz-json-1.1");
        } else if method == "POST" {
            b = b.header("content-type", "application/json");
        }
        let req = b.body(Body::from(body.to_string())).unwrap();
        let router = ep.router();
        async move {
            let resp = router.oneshot(req).await.unwrap();
            let status = resp.status();
            let error_type = resp
                .headers()
                .get("x-amzn-ErrorType")
                .map(|v| v.to_str().unwrap().to_string());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                error_type,
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
            )
        }
    };

    let (status, kind, body) = call("POST", "/", Some("secretsmanager.Frobnicate"), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(kind.as_deref(), Some("UnknownOperationException"));
    assert_eq!(body["__type"], "UnknownOperationException");

    let (status, _, body) = call("POST", "/", Some("secretsmanager.ListSecrets"), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["SecretList"].as_array().unwrap().len(),
        40 - ep.plan().iter().filter(|p| p.deleted).count()
    );

    let (status, _, plan) = call("GET", "/__secretscope/plan", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(plan.as_array().unwrap().len(), 40);
    assert!(plan[0]["scenario"].is_string());

    let (status, _, _) = call(
        "POST",
        "/__secretscope/faults",
        None,
        r#"{"throttle_rate": 1.0}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ep.faults().throttle_rate, 1.0);
    let (_, kind, _) = call("POST", "/", Some("secretsmanager.ListSecrets"), "{}").await;
    assert_eq!(kind.as_deref(), Some("ThrottlingException"));
    let (status, _, _) = call(
        "POST",
        "/__secretscope/faults",
        None,
        r#"{"throttle_rate": 2}"#,
    )
    .await;
    assert_eq!(status, 400);
    call("POST", "/__secretscope/faults", None, "{}").await;

    // How Secrets Manager retries failed rotations: an hour apart by default.
    let (status, _, retries) = call("GET", "/__secretscope/service-retries", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        retries,
        serde_json::json!({"delay_ms": 3_600_000, "retries": 3})
    );
    let (status, _, retries) = call(
        "POST",
        "/__secretscope/service-retries",
        None,
        r#"{"delay_ms": 50}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(retries, serde_json::json!({"delay_ms": 50, "retries": 3}));
    assert_eq!(
        ep.service_retries(),
        crate::ServiceRetries {
            delay_ms: 50,
            retries: 3
        }
    );

    // A control POST that does not say JSON (what a web page can send
    // cross-origin without a preflight) is refused and changes nothing.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let req = axum::http::Request::post("/__secretscope/down")
            .header("content-type", content_type)
            .body(Body::from(r#"{"down": true}"#))
            .unwrap();
        let resp = ep.router().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 415, "{content_type}");
        assert!(!ep.is_down());
    }
    call("POST", "/__secretscope/down", None, r#"{"down": true}"#).await;
    let (status, kind, _) = call("POST", "/", Some("secretsmanager.ListSecrets"), "{}").await;
    assert_eq!(status, 503);
    assert_eq!(kind.as_deref(), Some("ServiceUnavailable"));
    call("POST", "/__secretscope/down", None, r#"{"down": false}"#).await;
    assert!(!ep.is_down());

    let (status, _, body) =
        call("POST", "/", Some("secretsmanager.ListSecrets"), "{bad json").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");

    let name = &ep.plan()[0].name;
    let uri = format!(
        "/__secretscope/rotations?secret_id={}",
        name.replace('/', "%2F")
    );
    if !name.contains(['<', '>', '"', ' ']) {
        let (status, _, history) = call("GET", &uri, None, "").await;
        assert_eq!(status, 200);
        assert!(history.is_array());
    }
}

#[test]
fn seeds_are_deterministic_and_scale() {
    let a = seed::generate(300, SEED, NOW, ACCOUNT, REGION);
    let b = seed::generate(300, SEED, NOW, ACCOUNT, REGION);
    assert_eq!(a, b);
    let arns: Vec<_> = a.iter().map(|s| (&s.plan.name, &s.plan.arn)).collect();
    let arns_b: Vec<_> = b.iter().map(|s| (&s.plan.name, &s.plan.arn)).collect();
    assert_eq!(arns, arns_b);
    let other = seed::generate(300, SEED + 1, NOW, ACCOUNT, REGION);
    assert_ne!(a[0].plan.arn, other[0].plan.arn);
    for s in &a {
        let suffix = &s.data.arn[s.data.arn.len() - 7..];
        assert!(suffix.starts_with('-') && suffix[1..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(s.data.arn.starts_with(&format!(
            "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{}",
            s.data.name
        )));
        if let Some(k) = &s.data.kms_key_id {
            assert!(k.starts_with(&format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/")));
        }
    }

    let n = 100_000;
    let big = seed::generate(n, SEED, NOW, ACCOUNT, REGION);
    assert_eq!(big.len(), n);
    let unique: std::collections::HashSet<_> = big.iter().map(|s| s.data.name.as_str()).collect();
    assert_eq!(unique.len(), n);
    let mut folders = std::collections::HashSet::new();
    for s in &big {
        let parts: Vec<&str> = s.data.name.split('/').collect();
        for k in 1..parts.len() {
            folders.insert(parts[..k].join("/"));
        }
    }
    assert!(
        (1_000..20_000).contains(&folders.len()),
        "{} folders",
        folders.len()
    );
    let mut counts: HashMap<Scenario, usize> = HashMap::new();
    for s in &big {
        *counts.entry(s.plan.scenario).or_default() += 1;
    }
    for (s, c) in &counts {
        assert!(*c >= n / 100, "{s:?}: {c}");
    }
    assert_eq!(counts.len(), 12);
}

#[tokio::test]
async fn a_large_store_pages_by_any_order() {
    let ep = start(100_000).await;
    let c = client(&ep).await;
    let first = c
        .list_secrets()
        .sort_by(SortByType::Name)
        .sort_order(SortOrderType::Desc)
        .send()
        .await
        .unwrap();
    assert_eq!(first.secret_list().len(), 100);
    let second = c
        .list_secrets()
        .sort_by(SortByType::Name)
        .sort_order(SortOrderType::Desc)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let a = names(first.secret_list());
    let b = names(second.secret_list());
    assert!(a.last().unwrap() > b.first().unwrap());
    let filtered = c
        .list_secrets()
        .filters(filter("name", &["prod/payments/ledger/db/"]))
        .send()
        .await
        .unwrap();
    assert!(filtered
        .secret_list()
        .iter()
        .all(|e| e.name().unwrap().starts_with("prod/payments/ledger/db/")));
}

#[tokio::test]
async fn rotate_later_only_tests_the_configuration() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::DisabledWithRules);
    let before = stages(&c, &p.name).await;
    let r = c
        .rotate_secret()
        .secret_id(&p.name)
        .rotate_immediately(false)
        .send()
        .await
        .unwrap();
    assert!(r.version_id().is_some());
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert!(d.next_rotation_date().unwrap().secs() > NOW);
    assert_eq!(stages(&c, &p.name).await, before, "labels unchanged");
    let last = ep
        .endpoint
        .rotation_history(&p.name)
        .unwrap()
        .pop()
        .unwrap();
    assert!(!last.immediate);
    assert_eq!(last.outcome, RotationOutcome::Succeeded);
    assert_eq!(last.steps.len(), 1);
}

#[tokio::test]
async fn hostile_metadata_is_served_verbatim() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let hostile: Vec<&PlannedSecret> = plan.iter().filter(|p| p.hostile).collect();
    assert_eq!(hostile.len(), 5);
    assert!(hostile.iter().any(|p| p.name.contains("onerror=")));
    for p in hostile {
        let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
        assert_eq!(d.name(), Some(p.name.as_str()));
        let text = format!(
            "{} {:?}",
            d.description().unwrap_or_default(),
            d.tags()
                .iter()
                .map(|t| t.value().unwrap_or_default())
                .collect::<Vec<_>>()
        );
        assert!(
            seed::HOSTILE_PAYLOADS.iter().any(|h| text.contains(h)),
            "{text}"
        );
    }
}
