//! The write calls on CloudTrail, through `aws-sdk-cloudtrail` as the
//! dashboard's incremental sync reads them: every write operation the
//! endpoint serves is a management event with its name, source, secret,
//! resources, readOnly false and time; LookupEvents finds them by
//! ReadOnly, EventSource and ResourceName (after a forced deletion too),
//! within StartTime / EndTime, in pages of at most 50; and its quota.

use super::trail_reads::{lookup_all, ms, record, trail, Q};
use super::*;
use crate::seed::EpochMs;
use ct::types::LookupAttributeKey;

use aws_sdk_cloudtrail as ct;

async fn tag(sm: &sm::Client, name: &str, key: &str) {
    let tag = Tag::builder().key(key).value("v").build();
    sm.tag_resource()
        .secret_id(name)
        .tags(tag)
        .send()
        .await
        .unwrap();
}

/// User guide, "Log AWS Secrets Manager events with AWS CloudTrail":
/// "CloudTrail captures all API calls for Secrets Manager as events,
/// including calls from the Secrets Manager console and from code calls to
/// the Secrets Manager APIs." LookupEvents, API reference: "Lookup supports
/// the following attributes for management events: … Event source, Read
/// only, … Resource name"; ReadOnly: "Information about whether the event
/// is a write event or a read event."
#[tokio::test]
async fn every_write_call_is_a_management_event_found_by_read_only_false_and_source() {
    let ep = start(10).await;
    let sm = client(&ep).await;
    let c = trail(&ep.url()).await;
    let t0 = ep.endpoint.now_ms();
    let name = "trail/writes/db";
    let created = sm
        .create_secret()
        .name(name)
        .secret_string("never-kept")
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_string();
    tag(&sm, name, "team").await;
    sm.untag_resource()
        .secret_id(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    sm.put_secret_value()
        .secret_id(name)
        .secret_string("never-kept-either")
        .send()
        .await
        .unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:DescribeSecret","Resource":"*"}]}"#;
    sm.put_resource_policy()
        .secret_id(name)
        .resource_policy(policy)
        .send()
        .await
        .unwrap();
    sm.delete_resource_policy()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    sm.delete_secret().secret_id(name).send().await.unwrap();
    sm.restore_secret().secret_id(name).send().await.unwrap();
    sm.delete_secret()
        .secret_id(name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    // A refused call is no write: nothing is recorded for it.
    assert!(sm.tag_resource().secret_id(name).send().await.is_err());
    let t1 = ep.endpoint.now_ms() + 1000;

    let want = [
        "CreateSecret",
        "TagResource",
        "UntagResource",
        "PutSecretValue",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
        "DeleteSecret",
        "RestoreSecret",
        "DeleteSecret",
    ];
    let window = |k, v| Q::window(Some((k, v)), t0 - 1000, t1);
    // The secret was deleted without recovery: its events stay.
    let by_name = lookup_all(&c, &window(LookupAttributeKey::ResourceName, &arn)).await;
    let mut names: Vec<&str> = by_name.iter().filter_map(|e| e.event_name()).collect();
    names.reverse();
    assert_eq!(
        names, want,
        "oldest first here; LookupEvents is newest first"
    );
    for e in &by_name {
        let r = record(e);
        assert_eq!(e.event_source(), Some("secretsmanager.amazonaws.com"));
        assert_eq!(e.read_only(), Some("false"));
        assert_eq!(r["readOnly"], false);
        assert_eq!(r["eventSource"], "secretsmanager.amazonaws.com");
        assert_eq!(r["eventType"], "AwsApiCall");
        assert_eq!(r["eventName"], e.event_name().unwrap());
        assert_eq!(r["eventID"], e.event_id().unwrap());
        assert!(r["eventTime"].as_str().unwrap().ends_with('Z'));
        assert!(ms(e) >= t0 - 1000 && ms(e) <= t1);
        let resources: Vec<_> = e
            .resources()
            .iter()
            .filter_map(|r| r.resource_name())
            .collect();
        assert_eq!(resources, [arn.as_str()], "{:?}", e.event_name());
        assert_eq!(
            e.resources()[0].resource_type(),
            Some("AWS::SecretsManager::Secret")
        );
        let asked = r["requestParameters"]["secretId"]
            .as_str()
            .or(r["requestParameters"]["name"].as_str());
        assert!(asked == Some(name) || asked == Some(&arn), "{r}");
        assert!(!r.to_string().contains("never-kept"), "no value: {r}");
    }
    let create = record(by_name.last().unwrap());
    assert_eq!(create["responseElements"]["arn"], arn.as_str());
    // ReadOnly=false and EventSource find the same writes (among the
    // seeded rotations' events and, for the source, the reads).
    for (k, v) in [
        (LookupAttributeKey::ReadOnly, "false"),
        (
            LookupAttributeKey::EventSource,
            "secretsmanager.amazonaws.com",
        ),
    ] {
        let got = lookup_all(&c, &window(k.clone(), v)).await;
        let ours = got
            .iter()
            .filter(|e| {
                e.resources()
                    .iter()
                    .any(|r| r.resource_name() == Some(&arn))
            })
            .count();
        assert_eq!(ours, want.len(), "{k:?}");
    }
    // By name, too (the name no longer resolves to a secret).
    let again = lookup_all(&c, &window(LookupAttributeKey::ResourceName, name)).await;
    assert_eq!(again.len(), want.len());
}

/// LookupEvents, API reference: StartTime "Specifies that only events that
/// occur after or at the specified time are returned."; MaxResults "The
/// number of events to return. Possible values are 1 through 50. The
/// default is 50."; NextToken "The token to use to get the next page of
/// results after a previous API call."
#[tokio::test]
async fn writes_page_and_honour_the_time_range() {
    let ep = start(5).await;
    let sm = client(&ep).await;
    let c = trail(&ep.url()).await;
    let name = "trail/writes/paged";
    sm.create_secret().name(name).send().await.unwrap();
    let t0 = ep.endpoint.now_ms();
    for i in 0..7 {
        tag(&sm, name, &format!("k{i}")).await;
    }
    let t1: EpochMs = ep.endpoint.now_ms() + 1000;
    let mut q = Q::window(Some((LookupAttributeKey::ResourceName, name)), t0, t1);
    q.page = 3;
    let paged = lookup_all(&c, &q).await;
    // CreateSecret may share t0's second; every TagResource is there once.
    let tags = paged
        .iter()
        .filter(|e| e.event_name() == Some("TagResource"))
        .count();
    assert_eq!(tags, 7);
    // Nothing after the end: a window before the writes is empty.
    let before = Q::window(
        Some((LookupAttributeKey::ResourceName, name)),
        t0 - 3_600_000,
        t0 - 1_800_000,
    );
    assert!(lookup_all(&c, &before).await.is_empty());
    let r = c.lookup_events().max_results(51).send().await;
    assert!(r.is_err(), "MaxResults above 50 is refused");
}

/// LookupEvents, API reference: "The rate of lookup requests is limited to
/// two per second, per account, per Region. If this limit is exceeded, a
/// throttling error occurs."
#[tokio::test]
async fn lookups_past_two_a_second_are_throttled() {
    let ep = start_with(LocalOptions {
        lookup_events_per_second: 2.0,
        ..options(5)
    })
    .await;
    let c = trail(&ep.url()).await; // no retries
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = c.lookup_events().max_results(1).send().await;
        codes.push(r.err().map(|e| {
            use ct::error::ProvideErrorMetadata;
            e.code().unwrap_or_default().to_string()
        }));
    }
    assert_eq!(codes[..2], [None, None], "two within the second: {codes:?}");
    assert!(
        codes[2..]
            .iter()
            .all(|c| c.as_deref() == Some("ThrottlingException")),
        "{codes:?}"
    );
    // Paced at the quota, nothing is refused.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..4 {
        c.lookup_events().max_results(1).send().await.unwrap();
        tokio::time::sleep(Duration::from_millis(520)).await;
    }
    let calls = ep.endpoint.calls();
    assert_eq!(
        calls["cloudtrail:LookupEvents"], 8,
        "refused calls count too"
    );
}
