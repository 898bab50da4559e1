//! The read events: each [`PlannedReader`]'s reads as CloudTrail records
//! them, made lazily, newest first, one reader at a time.
//!
//! A read is a `GetSecretValue` event; a read through BatchGetSecretValue
//! is a `BatchGetSecretValue` event and a `GetSecretValue` event at the same
//! instant ("Secrets Manager generates CloudTrail GetSecretValue log entries
//! for each secret you request when you call this action." — API reference,
//! BatchGetSecretValue). Nothing is made for a lookup whose attribute no
//! read can match, and each reader starts at its newest read in the time
//! range (after the page token): a page costs one event id per reader and
//! one per event returned, however many reads a reader has made.
//!
//! Event ids: the first 8 hex digits are a hash of the secret, the reader's
//! place and the event name, so an EventId lookup walks only the reader
//! whose events start so.

use super::{ts, Key, Obj, SortKey, TrailSource, EVENT_SOURCE, RESOURCE_TYPE};
use crate::seed::reads::{fnv, PrincipalType};
use crate::seed::{EpochMs, PlannedReader, HOUR};
use serde_json::{json, Value};

const GET: &str = "GetSecretValue";
const BATCH: &str = "BatchGetSecretValue";

/// One read event, before it is rendered.
pub(super) struct ReadEvent<'a> {
    pub at: EpochMs,
    pub rank: u8,
    pub name: &'static str,
    pub id: String,
    src: &'a TrailSource<'a>,
    reader: &'a PlannedReader,
    index: usize,
}

impl ReadEvent<'_> {
    pub(super) fn key(&self) -> SortKey {
        (self.at, self.rank, self.id.clone())
    }
}

/// The events of one reader, newest first.
pub(super) struct ReadStream<'a> {
    src: &'a TrailSource<'a>,
    reader: &'a PlannedReader,
    index: usize,
    /// The events of one read, in the order returned (rank descending).
    names: Vec<(&'static str, u8)>,
    next: Option<EpochMs>,
    slot: usize,
    lo: EpochMs,
    /// Only the event of this id (an EventId lookup).
    want: Option<&'a str>,
    /// Only events before this key (the page token's).
    after: Option<&'a SortKey>,
}

impl<'a> Iterator for ReadStream<'a> {
    type Item = ReadEvent<'a>;

    fn next(&mut self) -> Option<ReadEvent<'a>> {
        loop {
            let at = self.next?;
            let (name, rank) = self.names[self.slot];
            self.slot += 1;
            if self.slot == self.names.len() {
                self.slot = 0;
                self.next = self.reader.before(at, self.lo);
            }
            let id = event_id(&self.src.data.arn, self.index, name, at);
            match self.want {
                Some(w) if w != id => continue,
                // Ids are unique: nothing further down can be it.
                Some(_) => self.next = None,
                None => {}
            }
            if let Some((t, r, i)) = self.after {
                if (at, rank, &id) >= (*t, *r, i) {
                    continue;
                }
            }
            return Some(ReadEvent {
                at,
                rank,
                name,
                id,
                src: self.src,
                reader: self.reader,
                index: self.index,
            });
        }
    }
}

/// Whether any read event can have lookup attribute `key` = `v`.
fn may_match(attr: Option<&(Key, String)>) -> bool {
    match attr {
        None => true,
        Some((key, v)) => match key {
            Key::EventName => v == GET || v == BATCH,
            Key::ReadOnly => v == "true",
            Key::ResourceType => v == RESOURCE_TYPE,
            Key::EventSource => v == EVENT_SOURCE,
            Key::EventId | Key::Username | Key::AccessKeyId | Key::ResourceName => true,
        },
    }
}

/// The read streams of `sources` for a lookup: the readers whose events
/// can match `attr`, each from its newest read in `[lo, hi]` before `after`.
pub(super) fn streams<'a>(
    sources: &'a [TrailSource<'a>],
    attr: Option<&'a (Key, String)>,
    lo: EpochMs,
    hi: EpochMs,
    after: Option<&'a SortKey>,
) -> Vec<ReadStream<'a>> {
    if !may_match(attr) {
        return Vec::new();
    }
    let hi = after.map_or(hi, |(t, _, _)| hi.min(*t));
    let mut out = Vec::new();
    for src in sources {
        for (index, reader) in src.readers.iter().enumerate() {
            let who = match attr {
                Some((Key::Username, v)) => reader.session == *v,
                Some((Key::AccessKeyId, v)) => reader.access_key_id() == *v,
                _ => true,
            };
            let Some(first) = reader.latest(lo, hi).filter(|_| who) else {
                continue;
            };
            let mut names = if reader.batch {
                vec![(GET, 1), (BATCH, 0)]
            } else {
                vec![(GET, 0)]
            };
            let mut want = None;
            match attr {
                Some((Key::EventName, v)) => names.retain(|(n, _)| n == v),
                Some((Key::EventId, v)) => {
                    let arn = &src.data.arn;
                    names.retain(|(n, _)| v.get(..8) == Some(&id_prefix(arn, index, n)));
                    want = Some(v.as_str());
                }
                _ => {}
            }
            if names.is_empty() {
                continue;
            }
            out.push(ReadStream {
                src,
                reader,
                index,
                names,
                next: Some(first),
                slot: 0,
                lo,
                want,
                after,
            });
        }
    }
    out
}

fn id_prefix(arn: &str, index: usize, name: &str) -> String {
    format!("{:08x}", fnv(&[arn, &index.to_string(), name]) as u32)
}

/// A read event's id: UUID-shaped, stable, its first 8 digits the reader's.
fn event_id(arn: &str, index: usize, name: &str, at: EpochMs) -> String {
    let (i, t) = (index.to_string(), at.to_string());
    let a = fnv(&[arn, &i, name, &t, "a"]);
    let b = fnv(&[arn, &i, name, &t, "b"]) as u32;
    let x = format!("{}{a:016x}{b:08x}", id_prefix(arn, index, name));
    uuid_shape(&x)
}

/// 32 hex digits as a version-4-shaped UUID (one digit dropped for the 4).
pub(super) fn uuid_shape(x: &str) -> String {
    format!(
        "{}-{}-4{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[13..16],
        &x[16..20],
        &x[20..32]
    )
}

/// What each read's call says about its caller: IP, user agent.
fn client(r: &PlannedReader, own: bool) -> (String, &'static str) {
    let h = fnv(&[&r.principal, &r.session]);
    let ip = if own {
        format!(
            "10.{}.{}.{}",
            (h >> 8) % 4,
            (h >> 16) & 255,
            1 + (h >> 24) % 254
        )
    } else {
        format!("203.0.113.{}", 1 + (h >> 24) % 254)
    };
    const SDKS: [&str; 4] = [
        "aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
        "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
        "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.28.6",
        "aws-sdk-nodejs/2.1600.0 linux/v18.19.1 exec-env/AWS_Lambda_nodejs18.x promise",
    ];
    let agent = match r.principal_type() {
        Some((PrincipalType::User, _)) => {
            "aws-cli/2.15.38 Python/3.11.8 Linux/5.10.213-201.855.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/secretsmanager.get-secret-value"
        }
        _ => SDKS[(h % SDKS.len() as u64) as usize],
    };
    (ip, agent)
}

/// The caller as CloudTrail records it: an assumed role's session, or a user.
fn user_identity(r: &PlannedReader, at: EpochMs) -> Value {
    let key = r.access_key_id();
    match r.principal_type() {
        Some((PrincipalType::User, name)) => json!({
            "type": "IAMUser",
            "principalId": r.principal_id(),
            "arn": r.principal,
            "accountId": r.account,
            "accessKeyId": key,
            "userName": name,
        }),
        other => {
            let role = other.map_or("unknown", |(_, n)| n);
            let id = r.principal_id();
            let session_start = at - at.rem_euclid(HOUR);
            json!({
                "type": "AssumedRole",
                "principalId": format!("{id}:{}", r.session),
                "arn": format!("arn:aws:sts::{}:assumed-role/{role}/{}", r.account, r.session),
                "accountId": r.account,
                "accessKeyId": key,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": id,
                        "arn": r.principal,
                        "accountId": r.account,
                        "userName": role,
                    },
                    "attributes": {
                        "creationDate": super::iso(session_start),
                        "mfaAuthenticated": "false",
                    },
                },
            })
        }
    }
}

/// The secret id a reader's calls name: its ARN, or (one reader in three)
/// its name, as applications are configured either way.
fn secret_id<'a>(e: &ReadEvent<'a>) -> &'a str {
    let data = e.src.data;
    if fnv(&[&e.reader.principal, &e.reader.session, "id"]).is_multiple_of(3) {
        &data.name
    } else {
        &data.arn
    }
}

/// One read event as LookupEvents returns it, its record a real one's shape.
pub(super) fn render(e: &ReadEvent, account: &str, region: &str) -> Value {
    let (data, r) = (e.src.data, e.reader);
    let (ip, agent) = client(r, r.account == account);
    let request_id = {
        let x = format!(
            "{:016x}{:016x}",
            fnv(&[
                &data.arn,
                &e.index.to_string(),
                &e.at.to_string(),
                "request"
            ]),
            fnv(&[&data.arn, &e.index.to_string(), &e.at.to_string(), "id"])
        );
        uuid_shape(&x)
    };
    let params = if e.name == BATCH {
        json!({"secretIdList": [data.arn]})
    } else {
        let mut p = Obj::new();
        p.set("secretId", if r.batch { &data.arn } else { secret_id(e) });
        p.opt("versionStage", r.stage.clone());
        p.opt("versionId", r.version_id.clone());
        p.done()
    };
    let mut record = Obj::new();
    record
        .set("eventVersion", "1.08")
        .set("userIdentity", user_identity(r, e.at))
        .set("eventTime", super::iso(e.at))
        .set("eventSource", EVENT_SOURCE)
        .set("eventName", e.name)
        .set("awsRegion", region)
        .set("sourceIPAddress", ip)
        .set("userAgent", agent);
    if let (Some((code, message)), GET) = (&r.error, e.name) {
        record
            .set("errorCode", code.clone())
            .set("errorMessage", message.clone());
    }
    record
        .set("requestParameters", params)
        .set("responseElements", Value::Null)
        .set("requestID", request_id)
        .set("eventID", e.id.clone())
        .set("readOnly", true)
        .set("eventType", "AwsApiCall")
        .set("managementEvent", true)
        .set("recipientAccountId", account)
        .set("eventCategory", "Management")
        .set(
            "tlsDetails",
            json!({
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": format!("secretsmanager.{region}.amazonaws.com"),
            }),
        );
    let mut out = Obj::new();
    out.set("EventId", e.id.clone())
        .set("EventName", e.name)
        .set("ReadOnly", "true")
        .set("AccessKeyId", r.access_key_id())
        .set("EventTime", ts(e.at))
        .set("EventSource", EVENT_SOURCE)
        .set("Username", r.session.clone())
        .set(
            "Resources",
            json!([{"ResourceType": RESOURCE_TYPE, "ResourceName": data.arn}]),
        )
        .set("CloudTrailEvent", record.done().to_string());
    out.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ids_are_uuid_shaped_and_start_with_their_readers_prefix() {
        let a = event_id("arn:x", 2, GET, 1_700_000_000_000);
        assert_eq!(a, event_id("arn:x", 2, GET, 1_700_000_000_000));
        assert_ne!(a, event_id("arn:x", 2, GET, 1_700_000_001_000));
        assert_ne!(a, event_id("arn:x", 2, BATCH, 1_700_000_000_000));
        assert!(a.starts_with(&id_prefix("arn:x", 2, GET)));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(a.split('-').map(str::len).eq([8, 4, 4, 4, 12].into_iter()));
    }
}
