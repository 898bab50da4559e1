//! The CloudTrail source through `aws-sdk-cloudtrail` against the demo
//! endpoint: rotations driven through Secrets Manager show up as the events
//! AWS would record, and LookupEvents pages, filters and refuses like AWS.

use crate::domain::rotation_history::{
    failure_since, last_success, RotationEvent, RotationEventKind,
};
use crate::domain::Timestamp;
use crate::server::aws::client::sdk_config;
use crate::server::aws::RotationTrail;
use crate::server::config::{AwsSettings, CloudTrailSettings, Config};
use crate::server::error::ErrorKind;
use aws_sdk_cloudtrail as ct;
use aws_sdk_secretsmanager as sm;
use ct::error::ProvideErrorMetadata;
use ct::primitives::DateTime;
use ct::types::{LookupAttribute, LookupAttributeKey};
use secretsmanager_emulator::{
    self as local, LocalOptions, RotationOutcome, RunningEndpoint, Scenario,
};
use std::collections::BTreeSet;
use std::time::Duration;
use RotationEventKind::*;

const NOW: i64 = 1_795_000_000;
const BROKEN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRotation-broken-ct-test";

fn settings(url: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(url.to_string()),
        region: Some("us-east-1".into()),
        max_attempts: 3,
        ..AwsSettings::default()
    }
}

async fn start(step: Duration) -> RunningEndpoint {
    local::spawn(
        LocalOptions {
            seed_secrets: 300,
            seed: 42,
            now: Some(NOW),
            rotation_step: step,
            ..LocalOptions::default()
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap()
}

pub(super) async fn trail(ep: &RunningEndpoint) -> RotationTrail {
    RotationTrail::build(
        &settings(&ep.url()),
        &CloudTrailSettings {
            enabled: true,
            ..CloudTrailSettings::default()
        },
    )
    .await
}

async fn sm_client(ep: &RunningEndpoint) -> sm::Client {
    super::source_for(&ep.url(), 3).await.client
}

async fn ct_client(ep: &RunningEndpoint) -> ct::Client {
    ct::Client::new(&sdk_config(&settings(&ep.url())).await)
}

fn pick(ep: &RunningEndpoint, scenario: Scenario) -> local::PlannedSecret {
    ep.endpoint
        .plan()
        .into_iter()
        .find(|p| !p.hostile && p.scenario == scenario)
        .expect("the seed plans such a secret")
}

use secretsmanager_emulator::testing::finished_rotation as finished;

fn kinds(events: &[RotationEvent]) -> Vec<RotationEventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn attr(key: &str, value: &str) -> LookupAttribute {
    LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::from(key))
        .attribute_value(value)
        .build()
        .unwrap()
}

fn err_code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().unwrap_or("<no code>").to_string(),
    }
}

#[tokio::test]
async fn a_broken_lambda_rotation_reads_back_as_started_then_failed_with_its_message() {
    let ep = start(Duration::from_millis(20)).await;
    let p = pick(&ep, Scenario::Healthy);
    let rotated = sm_client(&ep)
        .await
        .rotate_secret()
        .secret_id(&p.name)
        .rotation_lambda_arn(BROKEN)
        .send()
        .await
        .unwrap();
    let record = finished(&ep.endpoint, &p.name).await;
    assert_eq!(record.outcome, RotationOutcome::Failed);
    let failed_at = record.finished.unwrap();

    let t = trail(&ep).await;
    let events = t.history(&p.name, Timestamp::new(NOW)).await.unwrap();
    assert_eq!(
        kinds(&events),
        [Failed, Started, RotateRequested],
        "newest first; the seeded rotation before NOW is outside the window"
    );
    let failed = &events[0];
    assert_eq!(failed.secret_arn, p.arn);
    assert_eq!(failed.secret_name.as_deref(), Some(p.name.as_str()));
    assert_eq!(failed.message, record.message, "the Lambda's failure text");
    assert!(failed
        .message
        .as_deref()
        .unwrap()
        .contains("SecretsManagerRotation-broken-ct-test failed at setSecret"));
    assert_eq!(failed.at, Timestamp::new(failed_at.div_euclid(1000)));
    assert_eq!(
        failed.actor.as_deref(),
        Some("secretsmanager.amazonaws.com")
    );
    assert_eq!(
        events[1].at,
        Timestamp::new(record.started.div_euclid(1000))
    );

    let asked = &events[2];
    assert_eq!(asked.version_id.as_deref(), rotated.version_id());
    assert_eq!(asked.actor.as_deref(), Some("secretscope-demo"));
    assert!(asked.message.is_none());

    // The pages' question: the failure of the rotation started with that version.
    let f = failure_since(&events, asked.at).unwrap();
    assert_eq!(f.event_id, failed.event_id);

    // The same events by ARN, and none for a secret that does not exist.
    assert_eq!(
        t.history(&p.arn, Timestamp::new(NOW)).await.unwrap(),
        events
    );
    assert!(t
        .history("no/such/secret", Timestamp::new(NOW))
        .await
        .unwrap()
        .is_empty());

    // The on-call lookup sees it, and since NOW only it (seeded failures are older).
    let failures = t.recent_failures(Timestamp::new(NOW)).await.unwrap();
    assert_eq!(failures, vec![failed.clone()]);
}

#[tokio::test]
async fn a_succeeding_rotation_reads_back_as_succeeded() {
    let ep = start(Duration::from_millis(20)).await;
    let p = pick(&ep, Scenario::Healthy);
    sm_client(&ep)
        .await
        .rotate_secret()
        .secret_id(&p.arn)
        .send()
        .await
        .unwrap();
    let record = finished(&ep.endpoint, &p.name).await;
    assert_eq!(record.outcome, RotationOutcome::Succeeded);

    let events = trail(&ep)
        .await
        .history(&p.name, Timestamp::new(NOW))
        .await
        .unwrap();
    assert_eq!(kinds(&events), [Succeeded, Started, RotateRequested]);
    assert!(events.iter().all(|e| e.message.is_none()));
    assert_eq!(
        last_success(&events).unwrap().at,
        Timestamp::new(record.finished.unwrap().div_euclid(1000))
    );
}

#[tokio::test]
async fn cancelling_reads_back_as_cancel_and_abandoned() {
    // Steps far apart, so that the cancel lands while the rotation runs.
    let ep = start(Duration::from_millis(500)).await;
    let c = sm_client(&ep).await;
    let t = trail(&ep).await;

    let h = pick(&ep, Scenario::Healthy);
    c.rotate_secret().secret_id(&h.name).send().await.unwrap();
    c.cancel_rotate_secret()
        .secret_id(&h.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        finished(&ep.endpoint, &h.name).await.outcome,
        RotationOutcome::Cancelled
    );
    let events = t.history(&h.name, Timestamp::new(NOW)).await.unwrap();
    assert_eq!(
        kinds(&events),
        [Abandoned, CancelRequested, Started, RotateRequested]
    );

    // A cancel with nothing running is still a call on record, naming the
    // stuck AWSPENDING version.
    let f = pick(&ep, Scenario::RotationFailed);
    let r = c
        .cancel_rotate_secret()
        .secret_id(&f.arn)
        .send()
        .await
        .unwrap();
    let events = t.history(&f.name, Timestamp::new(NOW)).await.unwrap();
    assert_eq!(kinds(&events), [CancelRequested]);
    assert_eq!(events[0].version_id.as_deref(), r.version_id());
    assert!(r.version_id().is_some());
}

#[tokio::test]
async fn seeded_failed_rotations_have_their_failure_on_record() {
    let ep = start(Duration::from_secs(1)).await;
    let t = trail(&ep).await;
    let c = sm_client(&ep).await;
    let since = t.since(Timestamp::new(NOW));
    assert_eq!(
        since,
        Timestamp::new(NOW - 30 * 86_400),
        "30 days by default"
    );
    let since = Timestamp::new(NOW - 90 * 86_400);

    let failures = t.recent_failures(since).await.unwrap();
    assert!(failures
        .iter()
        .all(|e| e.kind == Failed && e.message.is_some()));
    let failed_arns: BTreeSet<&str> = failures.iter().map(|e| e.secret_arn.as_str()).collect();

    let plan = ep.endpoint.plan();
    let stuck: Vec<_> = plan
        .iter()
        .filter(|p| {
            matches!(
                p.scenario,
                Scenario::RotationFailed | Scenario::RotationFlaky
            )
        })
        .collect();
    assert!(!stuck.is_empty());
    for p in stuck {
        assert!(
            failed_arns.contains(p.arn.as_str()),
            "{} has a RotationFailed",
            p.name
        );
        let history = t.history(&p.name, since).await.unwrap();
        // The failure belongs to the version AWSPENDING is stuck on.
        let pending = super::stuck_version(&c, &p.name).await;
        let created = Timestamp::new(pending.created_date().unwrap().secs());
        let f = failure_since(&history, created)
            .unwrap_or_else(|| panic!("{}: no failure since {created:?} in {history:?}", p.name));
        let record = ep
            .endpoint
            .rotation_history(&p.name)
            .unwrap()
            .into_iter()
            .rfind(|r| r.outcome == RotationOutcome::Failed)
            .unwrap();
        assert_eq!(f.message, record.message, "{}", p.name);
        assert!(
            history.iter().any(|e| e.kind == Started && e.at <= f.at),
            "{}: the failed rotation started",
            p.name
        );
    }
}

/// Every page of a lookup through the raw client, checking each page.
async fn all_pages(
    c: &ct::Client,
    attribute: Option<LookupAttribute>,
    page: i32,
) -> (Vec<ct::types::Event>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let resp = c
            .lookup_events()
            .set_lookup_attributes(attribute.clone().map(|a| vec![a]))
            .max_results(page)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(resp.events().len() <= page as usize);
        out.extend(resp.events().iter().cloned());
        match resp.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return (out, pages),
        }
    }
}

#[tokio::test]
async fn lookup_events_pages_newest_first_without_gaps_or_repeats() {
    let ep = start(Duration::from_secs(1)).await;
    let c = ct_client(&ep).await;
    // The write events only: the seeded rotations' (the simulated
    // applications' GetSecretValue reads are ReadOnly=true).
    let source = attr("ReadOnly", "false");

    let (small, pages) = all_pages(&c, Some(source.clone()), 7).await;
    let (big, big_pages) = all_pages(&c, Some(source), 50).await;
    let ids = |v: &[ct::types::Event]| -> Vec<String> {
        v.iter()
            .map(|e| e.event_id().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&small), ids(&big), "the same events in the same order");
    assert_eq!(pages, small.len().div_ceil(7));
    assert_eq!(big_pages, big.len().div_ceil(50));
    assert!(big_pages > 1, "enough seeded events for several pages");
    let unique: BTreeSet<String> = ids(&big).into_iter().collect();
    assert_eq!(unique.len(), big.len(), "no event twice");
    let times: Vec<i64> = big.iter().map(|e| e.event_time().unwrap().secs()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Exactly the events the seeded records imply: for each scheduled
    // rotation a RotationStarted and, once over, its outcome.
    let expected: usize = ep
        .endpoint
        .plan()
        .iter()
        .filter_map(|p| ep.endpoint.rotation_history(&p.name))
        .flatten()
        .map(|r| 1 + usize::from(r.finished.is_some()))
        .sum();
    assert_eq!(big.len(), expected);
    for e in &big {
        let r = e.resources();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].resource_type(), Some("AWS::SecretsManager::Secret"));
        assert!(r[0]
            .resource_name()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:"));
        let record: serde_json::Value =
            serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap();
        assert_eq!(record["eventID"], e.event_id().unwrap());
        assert_eq!(record["eventType"], "AwsServiceEvent");
        assert_eq!(
            record["additionalEventData"]["SecretId"],
            r[0].resource_name().unwrap()
        );
    }

    // EventName and EventId lookups.
    let (failed, _) = all_pages(&c, Some(attr("EventName", "RotationFailed")), 50).await;
    assert!(!failed.is_empty());
    assert!(failed
        .iter()
        .all(|e| e.event_name() == Some("RotationFailed")));
    let one = &failed[0];
    let (by_id, _) = all_pages(&c, Some(attr("EventId", one.event_id().unwrap())), 50).await;
    assert_eq!(by_id, vec![one.clone()]);
}

#[tokio::test]
async fn time_ranges_are_inclusive_at_both_ends() {
    let ep = start(Duration::from_secs(1)).await;
    let c = ct_client(&ep).await;
    let (all, _) = all_pages(&c, Some(attr("EventName", "RotationStarted")), 50).await;
    assert!(all.len() >= 3);
    // Seeded times have milliseconds; bounds taken from events hit them exactly.
    let ms = |t: &DateTime| t.secs() * 1000 + i64::from(t.subsec_nanos() / 1_000_000);
    let times: Vec<i64> = all.iter().map(|e| ms(e.event_time().unwrap())).collect();
    // At most one page between the bounds.
    let (hi, lo) = (1, (times.len() / 2).min(41));
    let resp = c
        .lookup_events()
        .lookup_attributes(attr("EventName", "RotationStarted"))
        .start_time(*all[lo].event_time().unwrap())
        .end_time(*all[hi].event_time().unwrap())
        .send()
        .await
        .unwrap();
    let inside = |t: &i64| (times[lo]..=times[hi]).contains(t);
    let expected = times.iter().filter(|t| inside(t)).count();
    assert!(expected >= 2 && expected < times.len());
    assert!(resp.next_token().is_none());
    assert_eq!(resp.events().len(), expected);
    assert!(resp
        .events()
        .iter()
        .all(|e| inside(&ms(e.event_time().unwrap()))));
    let got: Vec<&str> = resp
        .events()
        .iter()
        .map(|e| e.event_id().unwrap())
        .collect();
    assert_eq!(
        got.first(),
        all[hi].event_id().as_ref(),
        "the end bound is in"
    );
    assert_eq!(
        got.last(),
        all[lo].event_id().as_ref(),
        "the start bound is in"
    );
}

#[tokio::test]
async fn invalid_lookups_get_cloudtrail_error_codes() {
    let ep = start(Duration::from_secs(1)).await;
    let c = ct_client(&ep).await;
    for n in [0, 51] {
        assert_eq!(
            err_code(c.lookup_events().max_results(n).send().await),
            "InvalidMaxResultsException",
            "MaxResults {n}"
        );
    }
    assert_eq!(
        err_code(
            c.lookup_events()
                .lookup_attributes(attr("EventName", "RotationFailed"))
                .lookup_attributes(attr("EventSource", "secretsmanager.amazonaws.com"))
                .send()
                .await
        ),
        "InvalidLookupAttributesException",
        "only one attribute"
    );
    assert_eq!(
        err_code(
            c.lookup_events()
                .lookup_attributes(attr("SecretId", "x"))
                .send()
                .await
        ),
        "InvalidLookupAttributesException",
        "unknown key"
    );
    assert_eq!(
        err_code(
            c.lookup_events()
                .start_time(DateTime::from_secs(NOW))
                .end_time(DateTime::from_secs(NOW - 1))
                .send()
                .await
        ),
        "InvalidTimeRangeException"
    );
    assert_eq!(
        err_code(c.lookup_events().next_token("not-a-token").send().await),
        "InvalidNextTokenException"
    );
    // A token is only good for the parameters it came from.
    let first = c.lookup_events().max_results(1).send().await.unwrap();
    let token = first.next_token().unwrap();
    assert_eq!(
        err_code(
            c.lookup_events()
                .lookup_attributes(attr("EventName", "RotationFailed"))
                .max_results(1)
                .next_token(token)
                .send()
                .await
        ),
        "InvalidNextTokenException"
    );
    assert!(c
        .lookup_events()
        .max_results(1)
        .next_token(token)
        .send()
        .await
        .is_ok());
}

#[tokio::test]
async fn config_turns_it_on_and_errors_are_sentences() {
    let ep = start(Duration::from_secs(1)).await;
    let mut config = Config {
        aws: settings(&ep.url()),
        ..Config::default()
    };
    assert!(
        RotationTrail::from_config(&config).await.is_none(),
        "off by default"
    );
    config.cloudtrail.enabled = true;
    let t = RotationTrail::from_config(&config).await.unwrap();
    assert_eq!(
        t.endpoint,
        ep.url(),
        "defaults to the Secrets Manager endpoint"
    );
    assert!(!t
        .recent_failures(Timestamp::new(NOW - 90 * 86_400))
        .await
        .unwrap()
        .is_empty());
    assert!(t.counters.values().attempts >= 1);

    // An endpoint that is down: a sentence naming CloudTrail, not a panic.
    ep.endpoint.set_down(true);
    config.aws.max_attempts = 1;
    let t = RotationTrail::from_config(&config).await.unwrap();
    let err = t.history("prod/x", Timestamp::new(NOW)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Aws, "{err:?}");
    assert!(err.user.contains("CloudTrail"), "{}", err.user);
    ep.endpoint.set_down(false);

    // A separate CloudTrail endpoint wins over the Secrets Manager one.
    config.cloudtrail.endpoint_url = Some("http://127.0.0.1:9".into());
    let t = RotationTrail::from_config(&config).await.unwrap();
    assert_eq!(t.endpoint, "http://127.0.0.1:9");
    let err = t.history("prod/x", Timestamp::new(NOW)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err:?}");
}
