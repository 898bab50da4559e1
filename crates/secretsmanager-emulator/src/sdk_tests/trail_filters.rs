//! Every LookupEvents attribute and the time range over the read events,
//! through `aws-sdk-cloudtrail`; and GetSecretValue / BatchGetSecretValue
//! sent to the endpoint itself, still refused and never recorded.

use super::trail_reads::{lookup_all, ms, record, trail, Q};
use super::*;
use crate::seed::{EpochMs, PlannedReader};
use ct::primitives::DateTime;
use ct::types::{Event, LookupAttributeKey};

use aws_sdk_cloudtrail as ct;

const NOW_MS: EpochMs = NOW * 1000;
const DAY_MS: EpochMs = 86_400_000;

fn reads_of<'a>(
    plan: &'a [PlannedSecret],
    f: impl Fn(&PlannedReader) -> bool + 'a,
) -> impl Iterator<Item = &'a PlannedReader> + 'a {
    plan.iter().flat_map(|p| &p.readers).filter(move |r| f(r))
}

/// Events (Get and Batch) the readers make in `[start, end]`.
fn events_of<'a>(
    readers: impl Iterator<Item = &'a PlannedReader>,
    start: EpochMs,
    end: EpochMs,
) -> u64 {
    readers
        .map(|r| r.count(start, end) * if r.batch { 2 } else { 1 })
        .sum()
}

/// A lookup of attribute `k` = `v` over the last day.
fn attr(k: LookupAttributeKey, v: &str) -> Q<'_> {
    Q::window(Some((k, v)), NOW_MS - DAY_MS, NOW_MS)
}

fn reads(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e.event_name(),
                Some("GetSecretValue" | "BatchGetSecretValue")
            )
        })
        .collect()
}

/// LookupEvents, API reference: "Lookup supports the following attributes
/// for management events: Event ID, Event name, Event source, Read only,
/// User name, Resource type, Resource name, AWS access key". Each one over
/// the reads: a read matches what its record says, and nothing else does.
#[tokio::test]
async fn every_lookup_attribute_selects_reads_as_their_records_say() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let plan = ep.endpoint.plan();
    let (start, end) = (NOW_MS - DAY_MS, NOW_MS);
    let all = events_of(reads_of(&plan, |_| true), start, end);

    // ReadOnly: "true" is every read and only reads; "false" no read.
    let ro = lookup_all(&c, &attr(LookupAttributeKey::ReadOnly, "true")).await;
    assert_eq!(ro.len() as u64, all);
    assert!(ro
        .iter()
        .all(|e| e.read_only() == Some("true") && record(e)["readOnly"] == true));
    let rw = lookup_all(&c, &attr(LookupAttributeKey::ReadOnly, "false")).await;
    assert!(reads(&rw).is_empty() && !rw.is_empty());
    // EventSource and ResourceType: every event here, reads included.
    for (k, v) in [
        (
            LookupAttributeKey::EventSource,
            "secretsmanager.amazonaws.com",
        ),
        (
            LookupAttributeKey::ResourceType,
            "AWS::SecretsManager::Secret",
        ),
    ] {
        let got = lookup_all(&c, &attr(k.clone(), v)).await;
        assert_eq!(reads(&got).len() as u64, all, "{k:?}");
        assert_eq!(got.len(), ro.len() + rw.len(), "{k:?}");
    }
    // An EventName no read has: not a single read (and no read is made).
    let failed = lookup_all(&c, &attr(LookupAttributeKey::EventName, "RotationFailed")).await;
    assert!(failed
        .iter()
        .all(|e| e.event_name() == Some("RotationFailed")));

    // Username and AccessKeyId: one reader's events, wherever it reads.
    let r = reads_of(&plan, |r| r.count(start, end) > 1).next().unwrap();
    let (session, key) = (r.session.as_str(), r.access_key_id());
    let key = key.as_str();
    let want = events_of(reads_of(&plan, |o| o.session == r.session), start, end);
    let by_user = lookup_all(&c, &attr(LookupAttributeKey::Username, session)).await;
    assert_eq!(by_user.len() as u64, want);
    assert!(by_user.iter().all(|e| e.username() == Some(session)));
    let want = events_of(reads_of(&plan, |o| o.access_key_id() == key), start, end);
    let by_key = lookup_all(&c, &attr(LookupAttributeKey::AccessKeyId, key)).await;
    assert_eq!(by_key.len() as u64, want);
    assert!(by_key.iter().all(|e| e.access_key_id() == Some(key)));

    // EventId: exactly that read; an id no event has: nothing.
    let one = &ro[ro.len() / 2];
    let id = one.event_id().unwrap();
    let by_id = lookup_all(&c, &attr(LookupAttributeKey::EventId, id)).await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].cloud_trail_event(), one.cloud_trail_event());
    let none = attr(
        LookupAttributeKey::EventId,
        "00000000-0000-4000-8000-000000000000",
    );
    assert!(lookup_all(&c, &none).await.is_empty());
}

/// LookupEvents, API reference: StartTime "Specifies that only events that
/// occur after or at the specified time are returned."; EndTime "Specifies
/// that only events that occur before or at the specified time are
/// returned."; MaxResults "The number of events to return. Possible values
/// are 1 through 50. The default is 50." And no event is in the future.
#[tokio::test]
async fn time_ranges_bound_reads_and_nothing_is_after_the_clock() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let plan = ep.endpoint.plan();
    let r = reads_of(&plan, |r| {
        r.error.is_none() && !r.batch && r.count(NOW_MS - DAY_MS, NOW_MS) > 2
    })
    .next()
    .unwrap();
    let t = r.times(NOW_MS - DAY_MS, NOW_MS).nth(1).unwrap();
    let user = Some((LookupAttributeKey::Username, r.session.as_str()));
    // [t, t]: exactly that read; [t + 1 ms, ...] and [..., t - 1 ms]: not it.
    let exact = lookup_all(&c, &Q::window(user.clone(), t, t)).await;
    assert_eq!(exact.iter().map(ms).collect::<Vec<_>>(), [t]);
    let after = lookup_all(&c, &Q::window(user.clone(), t + 1000, NOW_MS)).await;
    assert!(after.iter().all(|e| ms(e) > t));
    let before = lookup_all(&c, &Q::window(user.clone(), NOW_MS - DAY_MS, t - 1000)).await;
    assert!(before.iter().all(|e| ms(e) < t));
    assert_eq!(
        after.len() + before.len() + 1,
        r.count(NOW_MS - DAY_MS, NOW_MS) as usize
    );

    // However far the range reaches, nothing after the endpoint's clock.
    let far = lookup_all(
        &c,
        &Q::window(
            Some((LookupAttributeKey::ReadOnly, "true")),
            NOW_MS - DAY_MS,
            NOW_MS + 30 * DAY_MS,
        ),
    )
    .await;
    assert!(!far.is_empty());
    assert!(far.iter().all(|e| ms(e) <= ep.endpoint.now_ms()));

    for bad in [0, 51] {
        let r = c.lookup_events().max_results(bad).send().await;
        assert_eq!(code(r), "InvalidMaxResultsException", "{bad}");
    }
    let backwards = c
        .lookup_events()
        .start_time(DateTime::from_millis(NOW_MS))
        .end_time(DateTime::from_millis(NOW_MS - 1000))
        .send()
        .await;
    assert_eq!(code(backwards), "InvalidTimeRangeException");
    let default = c.lookup_events().send().await.unwrap();
    assert_eq!(default.events().len(), 50, "the default page is 50");
}

/// ResourceName, by the secret's name, full ARN or partial ARN: the same
/// events.
#[tokio::test]
async fn a_secret_is_found_by_name_arn_or_partial_arn() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.readers.len() >= 2 && !p.name.contains(' '));
    let partial = &p.arn[..p.arn.len() - 7];
    let mut seen = Vec::new();
    for id in [p.name.as_str(), p.arn.as_str(), partial] {
        let q = Q::window(
            Some((LookupAttributeKey::ResourceName, id)),
            NOW_MS - 10 * DAY_MS,
            NOW_MS,
        );
        let ids: Vec<String> = lookup_all(&c, &q)
            .await
            .iter()
            .map(|e| e.event_id().unwrap().to_string())
            .collect();
        assert!(!ids.is_empty());
        seen.push(ids);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

/// The endpoint holds no values: GetSecretValue and BatchGetSecretValue
/// sent to it are refused as before, and CloudTrail records no read for
/// them (its reads are the simulated applications').
#[tokio::test]
async fn the_endpoint_itself_still_refuses_to_serve_values() {
    let ep = start(300).await;
    let sm = client(&ep).await;
    let c = trail(&ep.url()).await;
    let p = pick(&ep.endpoint.plan(), |p| !p.deleted).clone();
    let count = || async {
        let q = Q {
            attr: Some((LookupAttributeKey::ResourceName, p.arn.as_str())),
            start: Some(ep.endpoint.now_ms() - 60_000),
            end: None,
            page: 50,
        };
        lookup_all(&c, &q).await.len()
    };
    let before = count().await;
    let got = sm.get_secret_value().secret_id(&p.arn).send().await;
    assert_eq!(code(got), "InvalidRequestException");
    let batch = sm
        .batch_get_secret_value()
        .secret_id_list(&p.arn)
        .send()
        .await;
    assert_eq!(code(batch), "InvalidRequestException");
    assert_eq!(count().await, before);
}
