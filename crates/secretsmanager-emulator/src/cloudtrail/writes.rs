//! The management events of Secrets Manager's write operations, as
//! CloudTrail records them: each successful CreateSecret, DeleteSecret,
//! RestoreSecret, TagResource, UntagResource, PutSecretValue,
//! UpdateSecretVersionStage, PutResourcePolicy and DeleteResourcePolicy
//! call is kept (the newest [`KEEP`]) with its time, the secret's ARN and
//! name, and its request and response as CloudTrail writes them
//! (`requestParameters` / `responseElements`, camelCase keys, never a secret
//! value). RotateSecret and CancelRotateSecret are derived from the rotation
//! records instead (see the module above), so they are not kept twice.
//!
//! Unlike the rotation events, these outlive the secret: a secret deleted
//! without recovery is gone from the store, its DeleteSecret event is not
//! (CloudTrail keeps management events 90 days whatever happens to the
//! resource).
//!
//! User guide, "Log AWS Secrets Manager events with AWS CloudTrail":
//! "CloudTrail captures all API calls for Secrets Manager as events,
//! including calls from the Secrets Manager console and from code calls to
//! the Secrets Manager APIs."

use super::{iso, Key, DEMO_USER, EVENT_SOURCE, RESOURCE_TYPE};
use crate::protocol::{ts, Obj};
use crate::seed::EpochMs;
use crate::store::Store;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// Write events kept at most (the oldest go first).
pub(crate) const KEEP: usize = 10_000;
/// The access key the demo's API calls are recorded with.
pub(super) const ACCESS_KEY: &str = "AKIAEXAMPLESECRETSCOPE";
/// Request fields CloudTrail never records (the secret value).
const VALUES: [&str; 2] = ["SecretString", "SecretBinary"];

/// One write call as CloudTrail recorded it.
#[derive(Clone, Debug)]
pub(crate) struct WriteEvent {
    pub at: EpochMs,
    pub id: String,
    pub name: &'static str,
    pub arn: String,
    pub secret: String,
    pub request: Value,
    pub response: Value,
}

/// The event name of a write operation kept here, if `op` is one.
pub(crate) fn event_name(op: &str) -> Option<&'static str> {
    Some(match op {
        "CreateSecret" => "CreateSecret",
        "DeleteSecret" => "DeleteSecret",
        "RestoreSecret" => "RestoreSecret",
        "TagResource" => "TagResource",
        "UntagResource" => "UntagResource",
        "PutSecretValue" => "PutSecretValue",
        "UpdateSecretVersionStage" => "UpdateSecretVersionStage",
        "PutResourcePolicy" => "PutResourcePolicy",
        "DeleteResourcePolicy" => "DeleteResourcePolicy",
        _ => return None,
    })
}

/// `SecretId` → `secretId`, `ARN` → `arn`, recursively; epoch-second dates
/// of a response become RFC 3339 text as CloudTrail writes them.
fn camel(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !VALUES.contains(&k.as_str()))
                .map(|(k, v)| {
                    let key = if k == "ARN" {
                        "arn".to_string()
                    } else {
                        let mut c = k.chars();
                        c.next()
                            .map(|f| f.to_lowercase().chain(c).collect())
                            .unwrap_or_default()
                    };
                    let v = match v {
                        Value::Number(n) if k.ends_with("Date") => n
                            .as_f64()
                            .map(|s| Value::String(iso((s * 1000.0) as EpochMs)))
                            .unwrap_or(Value::Null),
                        other => camel(other),
                    };
                    (key, v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        other => other.clone(),
    }
}

impl WriteEvent {
    /// The event of write `name` on secret (`arn`, `secret`) at `at`, from
    /// the request and response bodies (both as sent on the wire).
    pub(crate) fn new(
        name: &'static str,
        (arn, secret): (String, String),
        request: &Value,
        response: &Value,
        at: EpochMs,
    ) -> WriteEvent {
        // TagResource and UntagResource answer nothing, and CloudTrail
        // records their responseElements as null.
        let response = match response {
            Value::Object(m) if m.is_empty() => Value::Null,
            other => camel(other),
        };
        WriteEvent {
            at,
            id: uuid::Uuid::new_v4().to_string(),
            name,
            arn,
            secret,
            request: camel(request),
            response,
        }
    }

    pub(super) fn key(&self) -> super::SortKey {
        (self.at, 0, self.id.clone())
    }

    /// Whether this event has lookup attribute `key` = `v`; `resolved` is
    /// the ARN the store resolves `v` to (a name or partial ARN), if any.
    pub(super) fn matches(&self, key: Key, v: &str, resolved: Option<&str>) -> bool {
        match key {
            Key::EventId => self.id == v,
            Key::EventName => self.name == v,
            Key::ReadOnly => v == "false",
            Key::Username => v == DEMO_USER,
            Key::ResourceType => v == RESOURCE_TYPE,
            Key::ResourceName => v == self.arn || v == self.secret || resolved == Some(&self.arn),
            Key::EventSource => v == EVENT_SOURCE,
            Key::AccessKeyId => v == ACCESS_KEY,
        }
    }
}

/// Keeps `e`, dropping the oldest past [`KEEP`].
pub(crate) fn keep(log: &mut VecDeque<WriteEvent>, e: WriteEvent) {
    log.push_back(e);
    while log.len() > KEEP {
        log.pop_front();
    }
}

/// One LookupEvents entry with its CloudTrailEvent record.
pub(crate) fn render(e: &WriteEvent, account: &str, region: &str) -> Value {
    let mut record = Obj::new();
    record
        .set("eventVersion", "1.08")
        .set("userIdentity", super::demo_identity(account))
        .set("eventTime", iso(e.at))
        .set("eventSource", EVENT_SOURCE)
        .set("eventName", e.name)
        .set("awsRegion", region)
        .set("sourceIPAddress", "127.0.0.1")
        .set("userAgent", "secretscope-demo")
        .set("requestParameters", e.request.clone())
        .set("responseElements", e.response.clone())
        .set("requestID", super::event_id(&e.arn, "request", 1, e.at))
        .set("eventID", e.id.clone())
        .set("readOnly", false)
        .set(
            "resources",
            json!([{"accountId": account, "type": RESOURCE_TYPE, "ARN": e.arn}]),
        )
        .set("eventType", "AwsApiCall")
        .set("managementEvent", true)
        .set("recipientAccountId", account)
        .set("eventCategory", "Management");
    let mut out = Obj::new();
    out.set("EventId", e.id.clone())
        .set("EventName", e.name)
        .set("ReadOnly", "false")
        .set("AccessKeyId", ACCESS_KEY)
        .set("EventTime", ts(e.at))
        .set("EventSource", EVENT_SOURCE)
        .set("Username", DEMO_USER)
        .set(
            "Resources",
            json!([{"ResourceType": RESOURCE_TYPE, "ResourceName": e.arn}]),
        )
        .set("CloudTrailEvent", record.done().to_string());
    out.done()
}

impl Store {
    /// Records successful write call `name` (request `body`, response
    /// `out`) as CloudTrail does. The secret is the response's ARN and name
    /// when it has them (a forced deletion leaves nothing to look up), else
    /// the one the request names.
    pub(crate) fn record_write(
        &mut self,
        name: &'static str,
        body: &[u8],
        out: &serde_json::Value,
        now: EpochMs,
    ) {
        let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let asked = request
            .get("SecretId")
            .or_else(|| request.get("Name"))
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let text = |k: &str| out.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let secret = match (text("ARN"), text("Name")) {
            (Some(arn), Some(name)) => (arn, name),
            _ => match self.data(asked) {
                Some(d) => (d.arn.clone(), d.name.clone()),
                None => return,
            },
        };
        keep(
            &mut self.writes,
            WriteEvent::new(name, secret, &request, out, now),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_are_camel_case_without_values() {
        let req =
            json!({"Name": "a", "SecretString": "hunter2", "Tags": [{"Key": "k", "Value": "v"}]});
        let resp = json!({"ARN": "arn:x", "Name": "a", "DeletionDate": 1_700_000_000.5});
        let e = WriteEvent::new("CreateSecret", ("arn:x".into(), "a".into()), &req, &resp, 0);
        assert_eq!(
            e.request,
            json!({"name": "a", "tags": [{"key": "k", "value": "v"}]})
        );
        assert!(!e.request.to_string().contains("hunter2"));
        assert_eq!(
            e.response,
            json!({"arn": "arn:x", "name": "a", "deletionDate": "2023-11-14T22:13:20Z"})
        );
        let tag = WriteEvent::new(
            "TagResource",
            ("arn:x".into(), "a".into()),
            &req,
            &json!({}),
            0,
        );
        assert_eq!(tag.response, Value::Null);
    }
}
