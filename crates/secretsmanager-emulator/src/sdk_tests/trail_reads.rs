//! The simulated reads on CloudTrail, through `aws-sdk-cloudtrail` as the
//! dashboard reads them: each planned reader's GetSecretValue events,
//! exactly, with its identity, request and error; BatchGetSecretValue's
//! double record; paging; every lookup attribute; and the endpoint itself
//! still refusing to serve a value.

use super::*;
use crate::seed::reads::FOREIGN_ACCOUNT;
use crate::seed::{EpochMs, PlannedReader, ReaderKind};
use aws_sdk_cloudtrail as ct;
use ct::primitives::DateTime;
use ct::types::{Event, LookupAttribute, LookupAttributeKey};
use serde_json::Value;

const NOW_MS: EpochMs = NOW * 1000;
const DAY_MS: EpochMs = 86_400_000;

pub(super) async fn trail(url: &str) -> ct::Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    ct::Client::new(&conf)
}

pub(super) fn ms(e: &Event) -> EpochMs {
    let t = e.event_time().unwrap();
    t.secs() * 1000 + i64::from(t.subsec_nanos() / 1_000_000)
}

pub(super) fn record(e: &Event) -> Value {
    serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap()
}

/// A lookup: one attribute, a time range, a page size.
#[derive(Clone)]
pub(super) struct Q<'a> {
    pub attr: Option<(LookupAttributeKey, &'a str)>,
    pub start: Option<EpochMs>,
    pub end: Option<EpochMs>,
    pub page: i32,
}

impl<'a> Q<'a> {
    pub fn window(
        attr: Option<(LookupAttributeKey, &'a str)>,
        start: EpochMs,
        end: EpochMs,
    ) -> Self {
        Q {
            attr,
            start: Some(start),
            end: Some(end),
            page: 50,
        }
    }
}

/// Every page of a lookup: no event twice, newest first, pages within size.
pub(super) async fn lookup_all(c: &ct::Client, q: &Q<'_>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut ids = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = c
            .lookup_events()
            .max_results(q.page)
            .set_next_token(token.take());
        if let Some((k, v)) = &q.attr {
            req = req.lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(k.clone())
                    .attribute_value(*v)
                    .build()
                    .unwrap(),
            );
        }
        if let Some(s) = q.start {
            req = req.start_time(DateTime::from_millis(s));
        }
        if let Some(e) = q.end {
            req = req.end_time(DateTime::from_millis(e));
        }
        let page = req.send().await.expect("LookupEvents");
        assert!(page.events().len() <= q.page as usize);
        for e in page.events() {
            assert!(
                ids.insert(e.event_id().unwrap().to_string()),
                "no event twice"
            );
            out.push(e.clone());
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    assert!(
        out.windows(2).all(|w| ms(&w[0]) >= ms(&w[1])),
        "newest first"
    );
    out
}

fn is_read(e: &Event) -> bool {
    matches!(
        e.event_name(),
        Some("GetSecretValue" | "BatchGetSecretValue")
    )
}

/// (time, event name, Username, principal, errorCode) of one read event.
type ReadKey = (EpochMs, String, String, String, Option<String>);

/// What the readers' reads in `[start, end]` are on CloudTrail.
fn expected(readers: &[PlannedReader], start: EpochMs, end: EpochMs) -> Vec<ReadKey> {
    let mut out = Vec::new();
    for r in readers {
        let code = r.error.as_ref().map(|e| e.0.clone());
        for t in r.times(start, end) {
            let key = |name: &str, code: Option<String>| {
                (
                    t,
                    name.to_string(),
                    r.session.clone(),
                    r.principal.clone(),
                    code,
                )
            };
            out.push(key("GetSecretValue", code.clone()));
            if r.batch {
                out.push(key("BatchGetSecretValue", None));
            }
        }
    }
    out.sort();
    out
}

fn principal_of(record: &Value) -> String {
    let id = &record["userIdentity"];
    match id["type"].as_str() {
        Some("AssumedRole") => id["sessionContext"]["sessionIssuer"]["arn"].as_str(),
        _ => id["arn"].as_str(),
    }
    .unwrap_or_default()
    .to_string()
}

fn actual(events: &[Event]) -> Vec<ReadKey> {
    let mut out: Vec<ReadKey> = events
        .iter()
        .filter(|e| is_read(e))
        .map(|e| {
            let r = record(e);
            (
                ms(e),
                e.event_name().unwrap().to_string(),
                e.username().unwrap().to_string(),
                principal_of(&r),
                r["errorCode"].as_str().map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

/// One read event's envelope and record, against the reader that made it.
fn check_event(e: &Event, r: &PlannedReader, p: &PlannedSecret) {
    let rec = record(e);
    let name = e.event_name().unwrap();
    assert_eq!(e.read_only(), Some("true"));
    assert_eq!(e.event_source(), Some("secretsmanager.amazonaws.com"));
    assert_eq!(e.access_key_id(), Some(r.access_key_id().as_str()));
    assert_eq!(e.username(), Some(r.session.as_str()));
    let res = &e.resources()[0];
    assert_eq!(res.resource_type(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(res.resource_name(), Some(p.arn.as_str()));
    for (field, want) in [
        ("eventType", "AwsApiCall"),
        ("eventSource", "secretsmanager.amazonaws.com"),
        ("eventCategory", "Management"),
        ("recipientAccountId", ACCOUNT),
        ("awsRegion", REGION),
    ] {
        assert_eq!(rec[field], want, "{field}");
    }
    assert_eq!(rec["readOnly"], true);
    assert_eq!(rec["eventName"], name);
    assert_eq!(rec["eventID"], e.event_id().unwrap());
    assert!(rec["responseElements"].is_null());
    assert!(rec["requestID"].as_str().is_some_and(|s| s.len() == 36));
    let id = &rec["userIdentity"];
    assert_eq!(id["accountId"], r.account.as_str());
    assert_eq!(id["accessKeyId"], r.access_key_id().as_str());
    let (kind, who) = r.principal_type().unwrap();
    if kind == crate::seed::reads::PrincipalType::Role {
        assert_eq!(id["type"], "AssumedRole");
        let arn = format!(
            "arn:aws:sts::{}:assumed-role/{who}/{}",
            r.account, r.session
        );
        assert_eq!(id["arn"], arn.as_str());
        assert!(id["principalId"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{}", r.session)));
        let issuer = &id["sessionContext"]["sessionIssuer"];
        assert_eq!(issuer["type"], "Role");
        assert_eq!(issuer["arn"], r.principal.as_str());
        assert_eq!(issuer["accountId"], r.account.as_str());
        assert_eq!(issuer["userName"], who);
    } else {
        assert_eq!(id["type"], "IAMUser");
        assert_eq!(id["arn"], r.principal.as_str());
        assert_eq!(id["userName"], who);
    }
    let params = &rec["requestParameters"];
    if name == "BatchGetSecretValue" {
        assert_eq!(params["secretIdList"], serde_json::json!([p.arn]));
        assert!(rec.get("errorCode").is_none());
        return;
    }
    let secret_id = params["secretId"].as_str().unwrap();
    assert!(secret_id == p.arn || secret_id == p.name, "{secret_id}");
    assert_eq!(params["versionStage"].as_str(), r.stage.as_deref());
    assert_eq!(params["versionId"].as_str(), r.version_id.as_deref());
    match &r.error {
        Some((code, message)) => {
            assert_eq!(rec["errorCode"], code.as_str());
            assert_eq!(rec["errorMessage"], message.as_str());
        }
        None => assert!(rec.get("errorCode").is_none() && rec.get("errorMessage").is_none()),
    }
}

/// The events of `p`'s readers in `[start, end]` by ResourceName are
/// exactly their planned reads, each shaped as its reader says.
async fn check_secret(c: &ct::Client, p: &PlannedSecret, id: &str, start: EpochMs, end: EpochMs) {
    let q = Q::window(Some((LookupAttributeKey::ResourceName, id)), start, end);
    let events = lookup_all(c, &q).await;
    assert_eq!(
        actual(&events),
        expected(&p.readers, start, end),
        "{}",
        p.name
    );
    for e in events.iter().filter(|e| is_read(e)) {
        let rec = record(e);
        let code = rec["errorCode"].as_str();
        let batch = e.event_name() == Some("BatchGetSecretValue");
        let r = p
            .readers
            .iter()
            .find(|r| {
                r.session == e.username().unwrap()
                    && r.principal == principal_of(&rec)
                    && (batch || r.error.as_ref().map(|x| x.0.as_str()) == code)
                    && r.times(ms(e), ms(e)).next().is_some()
            })
            .expect("the reader of this event");
        check_event(e, r, p);
    }
}

fn with_reader(plan: &[PlannedSecret], f: impl Fn(&PlannedReader) -> bool) -> &PlannedSecret {
    pick(plan, |p| p.readers.iter().any(&f))
}

/// User guide, "Get secrets from AWS Secrets Manager": "Secrets Manager
/// generates a CloudTrail log entry when you retrieve a secret."
/// LookupEvents, API reference: "The events list is sorted by time. The
/// most recent event is listed first." Every kind of planned reader: its
/// reads in a window are exactly its events, by the secret's ARN or name.
#[tokio::test]
async fn resource_name_lookups_return_each_readers_reads_exactly() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let plan = ep.endpoint.plan();
    let picks = [
        with_reader(&plan, |r| r.kind == ReaderKind::Previous),
        with_reader(&plan, |r| r.kind == ReaderKind::AfterDeletion),
        with_reader(&plan, |r| r.kind == ReaderKind::Denied),
        with_reader(&plan, |r| r.kind == ReaderKind::DecryptFailed),
        with_reader(&plan, |r| r.kind == ReaderKind::Newcomer),
        with_reader(&plan, |r| r.batch),
        with_reader(&plan, |r| r.principal.contains(":user/")),
        with_reader(&plan, |r| r.account == FOREIGN_ACCOUNT),
    ];
    for p in picks {
        check_secret(&c, p, &p.arn, NOW_MS - 90 * DAY_MS, NOW_MS).await;
        // A narrower window, by name: the same reads, cut to it.
        let (a, b) = (NOW_MS - 20 * DAY_MS, NOW_MS - 5 * DAY_MS - 1234);
        check_secret(&c, p, &p.name, a, b).await;
    }
}

/// BatchGetSecretValue, API reference: "Secrets Manager generates
/// CloudTrail GetSecretValue log entries for each secret you request when
/// you call this action." A read through it is a BatchGetSecretValue event
/// (naming the secret in secretIdList) and a GetSecretValue event, at the
/// same instant, one request.
#[tokio::test]
async fn a_batch_read_is_recorded_twice() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let plan = ep.endpoint.plan();
    let p = with_reader(&plan, |r| r.batch);
    let r = p.readers.iter().find(|r| r.batch).unwrap();
    let start = NOW_MS - 30 * DAY_MS;
    let q = Q::window(
        Some((LookupAttributeKey::ResourceName, &p.arn)),
        start,
        NOW_MS,
    );
    let events = lookup_all(&c, &q).await;
    let times: Vec<EpochMs> = r.times(start, NOW_MS).collect();
    assert!(!times.is_empty());
    for t in &times {
        let at: Vec<&Event> = events
            .iter()
            .filter(|e| ms(e) == *t && e.username() == Some(r.session.as_str()))
            .collect();
        let names: Vec<_> = at.iter().map(|e| e.event_name().unwrap()).collect();
        // Same instant: the call, then the entry it generates, newest first.
        assert_eq!(names, ["GetSecretValue", "BatchGetSecretValue"], "{t}");
        assert_eq!(record(at[0])["requestID"], record(at[1])["requestID"]);
        assert_eq!(
            record(at[1])["requestParameters"]["secretIdList"],
            serde_json::json!([p.arn])
        );
    }
    // EventName=BatchGetSecretValue finds the calls alone.
    let q = Q::window(
        Some((LookupAttributeKey::EventName, "BatchGetSecretValue")),
        start,
        NOW_MS,
    );
    let batch = lookup_all(&c, &q).await;
    let all_batch: u64 = plan
        .iter()
        .flat_map(|p| &p.readers)
        .filter(|r| r.batch)
        .map(|r| r.count(start, NOW_MS))
        .sum();
    assert_eq!(batch.len() as u64, all_batch);
    assert!(batch
        .iter()
        .all(|e| e.event_name() == Some("BatchGetSecretValue")));
}

/// LookupEvents, API reference, NextToken: "The token to use to get the
/// next page of results after a previous API call. If the token does not
/// appear, there are no more results to return. The token must be passed
/// in with the same parameters as the previous call." Over many pages of
/// reads: every event once, in the same order whatever the page size, and
/// a token replayed gives the same page.
#[tokio::test]
async fn paging_over_reads_is_complete_and_stable() {
    let ep = start(300).await;
    let c = trail(&ep.url()).await;
    let plan = ep.endpoint.plan();
    let (start, end) = (NOW_MS - 2 * DAY_MS, NOW_MS);
    let q = Q::window(
        Some((LookupAttributeKey::EventName, "GetSecretValue")),
        start,
        end,
    );
    let fifty = lookup_all(&c, &q).await;
    let all: u64 = plan
        .iter()
        .flat_map(|p| &p.readers)
        .map(|r| r.count(start, end))
        .sum();
    assert!(all > 500, "{all}");
    assert_eq!(fifty.len() as u64, all);
    assert!(fifty
        .iter()
        .all(|e| e.event_name() == Some("GetSecretValue")));
    let seven = lookup_all(
        &c,
        &Q {
            page: 7,
            ..q.clone()
        },
    )
    .await;
    let ids = |v: &[Event]| -> Vec<String> {
        v.iter()
            .map(|e| e.event_id().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&fifty), ids(&seven));

    // The same token twice: the same page.
    let first = c
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value("GetSecretValue")
                .build()
                .unwrap(),
        )
        .max_results(50)
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    let again = |token: String| {
        c.lookup_events()
            .lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(LookupAttributeKey::EventName)
                    .attribute_value("GetSecretValue")
                    .build()
                    .unwrap(),
            )
            .max_results(50)
            .next_token(token)
            .send()
    };
    let a = again(token.clone()).await.unwrap();
    let b = again(token.clone()).await.unwrap();
    assert_eq!(ids(a.events()), ids(b.events()));
    assert_eq!(a.events().len(), 50);
    // With other parameters, the token is refused.
    let other = c
        .lookup_events()
        .max_results(50)
        .next_token(token)
        .send()
        .await;
    assert_eq!(code(other), "InvalidNextTokenException");
}
