//! CloudTrail LookupEvents on the demo endpoint, on the same listener as
//! Secrets Manager (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
//! or `CloudTrail_20131101.LookupEvents` as the Rust SDK sends it).
//!
//! Nothing is stored twice: the events are derived, on every call, from the
//! rotation records each secret keeps (see `rotation.rs`), from its
//! CancelRotateSecret calls, and from its readers (the seed's
//! [`PlannedReader`](crate::seed::PlannedReader)s and those added by
//! `POST /__secretscope/reads`). They are shaped like real CloudTrail records:
//!
//! - API calls (`RotateSecret`, `CancelRotateSecret`): `eventType`
//!   `AwsApiCall`, an IAM user, `requestParameters`, `responseElements`.
//! - Service events (`RotationStarted`, `RotationSucceeded`,
//!   `RotationFailed`, `RotationAbandoned`, and `TestRotationStarted` /
//!   `TestRotationSucceeded` for RotateImmediately=false): `eventType`
//!   `AwsServiceEvent`, `userIdentity.invokedBy` secretsmanager.amazonaws.com,
//!   `additionalEventData.SecretId` the ARN, `requestParameters` and
//!   `responseElements` null. A RotationFailed carries the rotation
//!   function's failure text in the top-level `errorMessage`, as AWS does.
//! - Reads (`GetSecretValue`, and for a reader through BatchGetSecretValue
//!   a `BatchGetSecretValue` event plus the `GetSecretValue` event it
//!   generates): `eventType` `AwsApiCall`, `readOnly` true, the reader's
//!   `AssumedRole` (with its `sessionContext.sessionIssuer`) or `IAMUser`
//!   identity in its own account, `requestParameters` with the secret and
//!   the `versionStage` / `versionId` asked for, `responseElements` null,
//!   `errorCode` / `errorMessage` when refused; envelope `ReadOnly` "true",
//!   `Username` the session (a user's name), `AccessKeyId`. See `reads.rs`.
//!
//! - Write calls (`CreateSecret`, `DeleteSecret`, `RestoreSecret`,
//!   `TagResource`, `UntagResource`, `PutSecretValue`,
//!   `UpdateSecretVersionStage`, `PutResourcePolicy`,
//!   `DeleteResourcePolicy`): kept as they succeed, see `writes.rs`; they
//!   outlive a secret deleted without recovery.
//!
//! LookupEvents' quota (2 calls a second per account and region on AWS) is
//! enforced when [`LocalOptions::lookup_events_per_second`](crate::LocalOptions)
//! sets it (`quota.rs`).
//!
//! Scheduled (seeded) rotations and Secrets Manager's retries of a failed
//! rotation have no RotateSecret call: Secrets Manager starts them itself.
//! Events are newest first, as LookupEvents returns them, none after the
//! endpoint's clock. A page is a merge: the rotation events (few a secret)
//! are made and sorted whole; the reads are made lazily, one stream per
//! reader that the lookup attribute can match, each from its newest read in
//! the time range and before the page token, so a page costs about one
//! event id per reader, whatever the number of reads; a lookup no read can
//! match (`EventName=RotationFailed`, `ReadOnly=false`) opens no stream.

use super::protocol::{ts, ApiError, Obj};
use super::rotation::{RotationOutcome, RotationRecord};
use super::seed::EpochMs;
use super::store::{Store, TrailSource};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::hash::{Hash, Hasher};

/// The JSON 1.1 target prefix of CloudTrail's operations, as boto3 and the
/// CLI send it.
pub(crate) const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
/// The same, as the Rust SDK sends it.
pub(crate) const SHORT_TARGET_PREFIX: &str = "CloudTrail_20131101.";

/// The CloudTrail operation an `X-Amz-Target` names, if it names one.
pub(crate) fn operation(target: &str) -> Option<&str> {
    target
        .strip_prefix(TARGET_PREFIX)
        .or_else(|| target.strip_prefix(SHORT_TARGET_PREFIX))
}

pub(crate) const EVENT_SOURCE: &str = "secretsmanager.amazonaws.com";
pub(crate) const RESOURCE_TYPE: &str = "AWS::SecretsManager::Secret";
/// The IAM user the demo's API calls are recorded under (the endpoint does
/// not verify signatures, so it does not know the real caller).
pub(crate) const DEMO_USER: &str = "secretscope-demo";

const MAX_RESULTS: i64 = 50;

/// An event's place in LookupEvents' order: time, then rank, then id
/// (newest first: all three descending).
type SortKey = (EpochMs, u8, String);

pub(crate) mod quota;
mod reads;
pub(crate) mod writes;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct LookupAttributeReq {
    pub attribute_key: Option<String>,
    pub attribute_value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct LookupEventsReq {
    pub lookup_attributes: Option<Vec<LookupAttributeReq>>,
    /// Epoch seconds, fractional allowed (the SDK sends `EpochSeconds`).
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub event_category: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// The operations of CloudTrail the endpoint serves.
pub(crate) fn dispatch(
    store: &Store,
    op: &str,
    body: &[u8],
    now: EpochMs,
) -> Result<Value, ApiError> {
    match op {
        "LookupEvents" => lookup_events(store, super::protocol::parse(body)?, now),
        _ => Err(ApiError::client(
            "UnknownOperationException",
            format!(
                "The CloudTrail operation {op} is not supported by the secretscope demo endpoint."
            ),
        )),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl Key {
    fn parse(s: &str) -> Option<Key> {
        Some(match s {
            "EventId" => Key::EventId,
            "EventName" => Key::EventName,
            "ReadOnly" => Key::ReadOnly,
            "Username" => Key::Username,
            "ResourceType" => Key::ResourceType,
            "ResourceName" => Key::ResourceName,
            "EventSource" => Key::EventSource,
            "AccessKeyId" => Key::AccessKeyId,
            _ => return None,
        })
    }
}

fn invalid_attributes(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidLookupAttributesException", message)
}

fn invalid_token() -> ApiError {
    ApiError::client(
        "InvalidNextTokenException",
        "Invalid NextToken. The token must come from a previous LookupEvents call with the same parameters.",
    )
}

/// Where a page ended, and the parameters it belongs to.
#[derive(Serialize, Deserialize)]
struct PageToken {
    /// The sort key of the last event returned.
    t: EpochMs,
    r: u8,
    i: String,
    /// A fingerprint of the lookup attribute and time range.
    q: u64,
}

/// One event before it is rendered: enough to filter and sort.
struct Draft<'a> {
    at: EpochMs,
    /// Tie-break within one millisecond: a call before the work it causes,
    /// a start before its outcome.
    rank: u8,
    name: &'static str,
    id: String,
    api_call: bool,
    src: &'a TrailSource<'a>,
    what: What<'a>,
}

enum What<'a> {
    Rotation(&'a RotationRecord),
    Cancel(Option<&'a str>),
}

fn event_id(arn: &str, name: &str, n: u64, at: EpochMs) -> String {
    let h = |salt: u64| {
        let mut s = std::collections::hash_map::DefaultHasher::new();
        (salt, arn, name, n, at).hash(&mut s);
        s.finish()
    };
    let v = ((h(1) as u128) << 64) | h(2) as u128;
    reads::uuid_shape(&format!("{v:032x}"))
}

/// Every event CloudTrail would hold for these secrets, unsorted.
fn drafts<'a>(sources: &'a [TrailSource<'a>]) -> Vec<Draft<'a>> {
    let mut out = Vec::new();
    for src in sources {
        let arn = src.data.arn.as_str();
        let mut push = |at: EpochMs, rank: u8, name: &'static str, n: u64, what: What<'a>| {
            out.push(Draft {
                at,
                rank,
                name,
                id: event_id(arn, name, n, at),
                api_call: matches!(name, "RotateSecret" | "CancelRotateSecret"),
                src,
                what,
            })
        };
        for r in src.history {
            // Seeded rotations and Secrets Manager's own retries were
            // started by the service, not by a call.
            if !r.seeded && !r.service_retry {
                push(r.started, 0, "RotateSecret", r.id, What::Rotation(r));
            }
            if !r.immediate {
                push(r.started, 1, "TestRotationStarted", r.id, What::Rotation(r));
                if let Some(f) = r.finished {
                    push(f, 3, "TestRotationSucceeded", r.id, What::Rotation(r));
                }
                continue;
            }
            push(r.started, 1, "RotationStarted", r.id, What::Rotation(r));
            let outcome = match r.outcome {
                RotationOutcome::InProgress => None,
                RotationOutcome::Succeeded => Some("RotationSucceeded"),
                RotationOutcome::Failed => Some("RotationFailed"),
                RotationOutcome::Cancelled => Some("RotationAbandoned"),
            };
            if let (Some(name), Some(at)) = (outcome, r.finished) {
                push(at, 3, name, r.id, What::Rotation(r));
            }
        }
        for (n, c) in src.cancels.iter().enumerate() {
            push(
                c.at,
                2,
                "CancelRotateSecret",
                n as u64,
                What::Cancel(c.version_id.as_deref()),
            );
        }
    }
    out
}

/// A LookupEvents request, checked.
struct Lookup {
    max: usize,
    attr: Option<(Key, String)>,
    start: Option<EpochMs>,
    end: Option<EpochMs>,
    /// The key of the last event of the previous page.
    after: Option<SortKey>,
    /// A fingerprint of the attribute and time range (page tokens carry it).
    fingerprint: u64,
    /// Insights events were asked for: none are recorded here.
    insight: bool,
}

impl Lookup {
    fn parse(req: LookupEventsReq) -> Result<Lookup, ApiError> {
        let max = req.max_results.unwrap_or(MAX_RESULTS);
        if !(1..=MAX_RESULTS).contains(&max) {
            return Err(ApiError::client(
                "InvalidMaxResultsException",
                format!("Value {max} for MaxResults is invalid. MaxResults must be between 1 and {MAX_RESULTS}."),
            ));
        }
        let attr = lookup_attribute(req.lookup_attributes.unwrap_or_default())?;
        if let Some(c) = req.event_category.as_deref() {
            if c != "insight" {
                return Err(ApiError::client(
                    "InvalidEventCategoryException",
                    format!("Invalid EventCategory '{c}'. The only valid value is insight."),
                ));
            }
        }
        let to_ms = |secs: f64| (secs * 1000.0).round() as EpochMs;
        let start = req.start_time.map(to_ms);
        let end = req.end_time.map(to_ms);
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                return Err(ApiError::client(
                    "InvalidTimeRangeException",
                    "Start time must be before end time.",
                ));
            }
        }
        let fingerprint = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (
                attr.as_ref().map(|(k, v)| (format!("{k:?}"), v.clone())),
                start,
                end,
            )
                .hash(&mut h);
            h.finish()
        };
        let after = match req.next_token.as_deref() {
            None => None,
            Some(t) => {
                let token: PageToken = URL_SAFE_NO_PAD
                    .decode(t.trim_end_matches('='))
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(invalid_token)?;
                if token.q != fingerprint {
                    return Err(invalid_token());
                }
                Some((token.t, token.r, token.i))
            }
        };
        Ok(Lookup {
            max: max as usize,
            attr,
            start,
            end,
            after,
            fingerprint,
            insight: req.event_category.is_some(),
        })
    }
}

/// One event of a page: a rotation's (or a cancel's), a write call's, or a
/// read's.
enum Item<'a> {
    Rotation(Draft<'a>),
    Write(&'a writes::WriteEvent),
    Read(reads::ReadEvent<'a>),
}

impl Item<'_> {
    fn key(&self) -> SortKey {
        match self {
            Item::Rotation(d) => (d.at, d.rank, d.id.clone()),
            Item::Write(w) => w.key(),
            Item::Read(r) => r.key(),
        }
    }
}

/// The newest `take` events of the rotation and write events (sorted
/// newest first) and of the read streams (each newest first), newest first.
fn merge<'a>(
    rotations: Vec<Item<'a>>,
    reads: Vec<reads::ReadStream<'a>>,
    take: usize,
) -> Vec<Item<'a>> {
    use std::collections::BinaryHeap;
    let streams = 1 + reads.len();
    let mut rotations = rotations.into_iter();
    let mut reads = reads;
    // The next event of stream `i` (0: the rotations, i: reads[i - 1]).
    let mut pull = |i: usize| -> Option<Item<'a>> {
        if i == 0 {
            rotations.next()
        } else {
            reads[i - 1].next().map(Item::Read)
        }
    };
    let mut heads: Vec<Option<Item<'a>>> = Vec::with_capacity(streams);
    let mut heap = BinaryHeap::with_capacity(streams);
    for i in 0..streams {
        let head = pull(i);
        if let Some(h) = &head {
            heap.push((h.key(), i));
        }
        heads.push(head);
    }
    let mut out = Vec::with_capacity(take);
    while out.len() < take {
        let Some((_, i)) = heap.pop() else { break };
        if let Some(item) = heads[i].take() {
            out.push(item);
        }
        heads[i] = pull(i);
        if let Some(h) = &heads[i] {
            heap.push((h.key(), i));
        }
    }
    out
}

fn lookup_events(store: &Store, req: LookupEventsReq, now: EpochMs) -> Result<Value, ApiError> {
    let q = Lookup::parse(req)?;
    if q.insight {
        // No Insights events are ever recorded here.
        return Ok(json!({"Events": []}));
    }
    // A ResourceName lookup reads one secret; anything else reads them all.
    let sources = match &q.attr {
        Some((Key::ResourceName, v)) => store.trail_sources(Some(v)),
        _ => store.trail_sources(None),
    };
    let (account, region) = store.account_region();
    // No event after the endpoint's clock.
    let lo = q.start.unwrap_or(EpochMs::MIN);
    let hi = q.end.map_or(now, |e| e.min(now));
    let before_token = |k: &SortKey| q.after.as_ref().is_none_or(|a| k < a);
    let mut rotations: Vec<Item> = drafts(&sources)
        .into_iter()
        .filter(|d| d.at >= lo && d.at <= hi)
        .filter(|d| q.attr.as_ref().is_none_or(|(key, v)| matches(d, *key, v)))
        .filter(|d| before_token(&(d.at, d.rank, d.id.clone())))
        .map(Item::Rotation)
        .collect();
    // The write calls, deleted secrets' included (a name or partial ARN
    // resolves to the secret it names now).
    let resolved = match &q.attr {
        Some((Key::ResourceName, v)) => store.data(v).map(|d| d.arn.as_str()),
        _ => None,
    };
    rotations.extend(
        store
            .writes
            .iter()
            .filter(|w| w.at >= lo && w.at <= hi)
            .filter(|w| {
                q.attr
                    .as_ref()
                    .is_none_or(|(key, v)| w.matches(*key, v, resolved))
            })
            .filter(|w| before_token(&w.key()))
            .map(Item::Write),
    );
    // Newest first: time, then rank, then id, all descending.
    rotations.sort_by_key(|i| std::cmp::Reverse(i.key()));
    let reads = reads::streams(&sources, q.attr.as_ref(), lo, hi, q.after.as_ref());
    let mut events = merge(rotations, reads, q.max + 1);
    let more = events.len() > q.max;
    events.truncate(q.max);
    let mut out = Obj::new();
    out.set(
        "Events",
        events
            .iter()
            .map(|e| match e {
                Item::Rotation(d) => render(d, account, region),
                Item::Write(w) => writes::render(w, account, region),
                Item::Read(r) => reads::render(r, account, region),
            })
            .collect::<Vec<_>>(),
    );
    if let (true, Some(last)) = (more, events.last()) {
        let (t, r, i) = last.key();
        let token = PageToken {
            t,
            r,
            i,
            q: q.fingerprint,
        };
        out.set(
            "NextToken",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("token serialises")),
        );
    }
    Ok(out.done())
}

/// The one lookup attribute of a request (if any), checked as CloudTrail
/// checks it.
fn lookup_attribute(attrs: Vec<LookupAttributeReq>) -> Result<Option<(Key, String)>, ApiError> {
    if attrs.len() > 1 {
        return Err(invalid_attributes(
            "You can specify only one lookup attribute per request.",
        ));
    }
    Ok(match attrs.into_iter().next() {
        None => None,
        Some(a) => {
            let key_text = a.attribute_key.unwrap_or_default();
            let key = Key::parse(&key_text).ok_or_else(|| {
                invalid_attributes(format!(
                    "Invalid lookup attribute key '{key_text}'. Valid keys are EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource and AccessKeyId."
                ))
            })?;
            let value = a.attribute_value.unwrap_or_default();
            if value.is_empty() || value.chars().count() > 2000 {
                return Err(invalid_attributes(format!(
                    "The value of lookup attribute {key_text} must be 1 to 2000 characters long."
                )));
            }
            if key == Key::ReadOnly && value != "true" && value != "false" {
                return Err(invalid_attributes(
                    "The value of lookup attribute ReadOnly must be true or false.",
                ));
            }
            Some((key, value))
        }
    })
}

/// Whether event `d` has lookup attribute `key` = `v`.
fn matches(d: &Draft, key: Key, v: &str) -> bool {
    match key {
        Key::EventId => d.id == v,
        Key::EventName => d.name == v,
        Key::ReadOnly => v == "false",
        Key::Username => d.api_call && v == DEMO_USER,
        Key::ResourceType => v == RESOURCE_TYPE,
        // Matched by lookup above: name, full or partial ARN.
        Key::ResourceName => true,
        Key::EventSource => v == EVENT_SOURCE,
        Key::AccessKeyId => false,
    }
}

/// The `userIdentity` of the demo's API calls: an IAM user of `account`.
fn demo_identity(account: &str) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLESECRETSCOPE",
        "arn": format!("arn:aws:iam::{account}:user/{DEMO_USER}"),
        "accountId": account,
        "accessKeyId": writes::ACCESS_KEY,
        "userName": DEMO_USER,
    })
}

/// RFC 3339 with seconds, as CloudTrail writes `eventTime`.
fn iso(ms: EpochMs) -> String {
    chrono::DateTime::from_timestamp(ms.div_euclid(1000), 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// One LookupEvents entry with its CloudTrailEvent record.
fn render(d: &Draft, account: &str, region: &str) -> Value {
    let data = d.src.data;
    let resources = json!([{"ResourceType": RESOURCE_TYPE, "ResourceName": data.arn}]);
    let mut record = Obj::new();
    record
        .set("eventVersion", "1.08")
        .set("eventTime", iso(d.at))
        .set("eventSource", EVENT_SOURCE)
        .set("eventName", d.name)
        .set("awsRegion", region);
    if d.api_call {
        record
            .set("userIdentity", demo_identity(account))
            .set("sourceIPAddress", "127.0.0.1")
            .set("userAgent", "secretscope-demo");
        let (params, response) = match &d.what {
            What::Rotation(r) => {
                let mut p = Obj::new();
                p.set("secretId", data.name.clone());
                p.opt("clientRequestToken", r.client_request_token.clone());
                p.set("rotateImmediately", r.immediate);
                (
                    p.done(),
                    json!({"arn": data.arn, "name": data.name, "versionId": r.version_id}),
                )
            }
            What::Cancel(version) => {
                let mut resp = Obj::new();
                resp.set("arn", data.arn.clone())
                    .set("name", data.name.clone());
                resp.opt("versionId", version.map(str::to_string));
                (json!({"secretId": data.name}), resp.done())
            }
        };
        record
            .set("requestParameters", params)
            .set("responseElements", response)
            .set("requestID", event_id(&data.arn, "request", 0, d.at))
            .set("eventID", d.id.clone())
            .set("readOnly", false)
            .set("eventType", "AwsApiCall");
    } else {
        record
            .set(
                "userIdentity",
                json!({"accountId": account, "invokedBy": EVENT_SOURCE}),
            )
            .set("sourceIPAddress", EVENT_SOURCE)
            .set("userAgent", EVENT_SOURCE);
        if let (What::Rotation(r), "RotationFailed") = (&d.what, d.name) {
            let message = r.message.clone().unwrap_or_else(|| {
                format!(
                    "Error when executing lambda {} during rotation",
                    r.lambda_arn.as_deref().unwrap_or("(managed rotation)")
                )
            });
            record.set("errorMessage", message);
        }
        record
            .set("requestParameters", Value::Null)
            .set("responseElements", Value::Null)
            .set("additionalEventData", json!({"SecretId": data.arn}))
            .set("requestID", format!("Rotation-{}-{}", data.arn, &d.id[..8]))
            .set("eventID", d.id.clone())
            .set("readOnly", false)
            .set("eventType", "AwsServiceEvent");
    }
    record
        .set("managementEvent", true)
        .set("recipientAccountId", account)
        .set("eventCategory", "Management");

    let mut e = Obj::new();
    e.set("EventId", d.id.clone())
        .set("EventName", d.name)
        .set("ReadOnly", "false")
        .set("EventTime", ts(d.at))
        .set("EventSource", EVENT_SOURCE);
    if d.api_call {
        e.set("AccessKeyId", "AKIAEXAMPLESECRETSCOPE")
            .set("Username", DEMO_USER);
    }
    e.set("Resources", resources)
        .set("CloudTrailEvent", record.done().to_string());
    e.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_uuid_shaped_and_stable() {
        let a = event_id("arn:x", "RotationFailed", 3, 1_700_000_000_000);
        assert_eq!(a, event_id("arn:x", "RotationFailed", 3, 1_700_000_000_000));
        assert_ne!(
            a,
            event_id("arn:x", "RotationStarted", 3, 1_700_000_000_000)
        );
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(a.split('-').map(str::len).eq([8, 4, 4, 4, 12].into_iter()));
    }

    #[test]
    fn event_times_are_rfc3339_seconds() {
        assert_eq!(iso(1_700_000_000_999), "2023-11-14T22:13:20Z");
    }
}
