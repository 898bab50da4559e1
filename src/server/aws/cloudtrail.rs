//! The optional CloudTrail source of rotation outcomes: LookupEvents through
//! `aws-sdk-cloudtrail`, turned into [`RotationEvent`]s.
//!
//! Off by default (`[cloudtrail] enabled`). Without it every page still
//! works from labels and dates; with it, a page can show when a rotation
//! failed and the rotation function's message. Needs `cloudtrail:LookupEvents`.
//!
//! CloudTrail's LookupEvents allows 2 calls a second per account and region,
//! 50 events a call, and keeps 90 days: every lookup here is bounded in
//! pages, and throttling is retried by the SDK like any other call.

use super::client::{counting, sdk_config, ApiCounters};
use super::rate::RateLimiter;
use crate::domain::rotation_history::{sort_newest_first, RotationEvent, RotationEventKind};
use crate::domain::Timestamp;
use crate::server::config::{AwsSettings, CloudTrailSettings, Config};
use crate::server::error::sdk::CLOUDTRAIL;
use crate::server::error::AppError;
use aws_sdk_cloudtrail::error::SdkError;
use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsError;
use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudtrail::Client;
use serde_json::Value;
use std::sync::Arc;

/// Events one lookup reads at most (20 pages of 50): at CloudTrail's 2 calls
/// a second that is about ten seconds, the most a page should wait.
pub const MAX_EVENTS: usize = 1000;
const PAGE: i32 = 50;

/// The CloudTrail client for the dashboard's source, and what it has done.
#[derive(Clone, Debug)]
pub struct RotationTrail {
    client: Client,
    /// What to name in messages: the endpoint URL, or "CloudTrail in REGION".
    pub endpoint: String,
    pub region: String,
    pub lookback_days: u32,
    pub counters: Arc<ApiCounters>,
    /// LookupEvents' quota in this account and region (`[cloudtrail]
    /// calls_per_second`, 2 by AWS's quota), shared by every lookup:
    /// rotation history, failures, readers and the background pass.
    pace: Arc<RateLimiter>,
    /// When lookups were sent (for the quota's test and the bench).
    pub calls: Arc<CallLog>,
}

/// The times LookupEvents calls were sent.
#[derive(Debug, Default)]
pub struct CallLog {
    times: std::sync::Mutex<Vec<std::time::Instant>>,
}

impl CallLog {
    fn note(&self) {
        let mut t = self.times.lock().unwrap_or_else(|p| p.into_inner());
        if t.len() < 100_000 {
            t.push(std::time::Instant::now());
        }
    }

    /// The calls sent, and the seconds from the first to the last.
    pub fn span(&self) -> (usize, f64) {
        let t = self.times.lock().unwrap_or_else(|p| p.into_inner());
        match (t.first(), t.last()) {
            (Some(a), Some(b)) => (t.len(), b.duration_since(*a).as_secs_f64()),
            _ => (0, 0.0),
        }
    }
}

/// One page of a LookupEvents answer.
pub struct LookupPage {
    pub events: Vec<Event>,
    pub next_token: Option<String>,
}

impl RotationTrail {
    /// The client when `[cloudtrail] enabled` is set, else `None`.
    pub async fn from_config(config: &Config) -> Option<RotationTrail> {
        if !config.cloudtrail.enabled {
            return None;
        }
        Some(Self::build(&config.aws, &config.cloudtrail).await)
    }

    /// A client for CloudTrail in `source`'s account and region, with its
    /// credentials (an assumed role's, when one is), at
    /// `trail.endpoint_url` when set.
    pub fn for_source(source: &super::Source, trail: &CloudTrailSettings) -> RotationTrail {
        let mut sdk = source.sdk.clone();
        if let Some(url) = &trail.endpoint_url {
            sdk = sdk.into_builder().endpoint_url(url).build();
        }
        let counters = Arc::new(ApiCounters::default());
        let conf = aws_sdk_cloudtrail::config::Builder::from(&sdk)
            .interceptor(counting(counters.clone()))
            .build();
        RotationTrail {
            client: Client::from_conf(conf),
            endpoint: sdk
                .endpoint_url()
                .map(str::to_string)
                .unwrap_or_else(|| format!("CloudTrail in {}", source.region)),
            region: source.region.clone(),
            lookback_days: trail.lookback_days,
            counters,
            pace: Arc::new(RateLimiter::new(trail.calls_per_second)),
            calls: Arc::default(),
        }
    }

    /// A client for CloudTrail with the region, profile, credentials,
    /// retries and timeouts of `aws` (as the Secrets Manager client has),
    /// at `trail.endpoint_url`, or else `aws.endpoint_url`, or else AWS's.
    pub async fn build(aws: &AwsSettings, trail: &CloudTrailSettings) -> RotationTrail {
        let settings = AwsSettings {
            endpoint_url: trail
                .endpoint_url
                .clone()
                .or_else(|| aws.endpoint_url.clone()),
            ..aws.clone()
        };
        let counters = Arc::new(ApiCounters::default());
        let sdk = sdk_config(&settings).await;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "(no region)".to_string());
        let conf = aws_sdk_cloudtrail::config::Builder::from(&sdk)
            .interceptor(counting(counters.clone()))
            .build();
        RotationTrail {
            client: Client::from_conf(conf),
            endpoint: settings
                .endpoint_url
                .clone()
                .unwrap_or_else(|| format!("CloudTrail in {region}")),
            region,
            lookback_days: trail.lookback_days,
            counters,
            pace: Arc::new(RateLimiter::new(trail.calls_per_second)),
            calls: Arc::default(),
        }
    }

    /// The start of the configured look-back window before `now` (at most
    /// the 90 days CloudTrail keeps).
    pub fn since(&self, now: Timestamp) -> Timestamp {
        Timestamp::new(now.secs() - i64::from(self.lookback_days.clamp(1, 90)) * 86_400)
    }

    /// The rotation events of one secret (name or ARN) since `since`, newest
    /// first: RotateSecret, RotationStarted, RotationSucceeded,
    /// RotationFailed, RotationAbandoned and CancelRotateSecret. Reads every
    /// page of a ResourceName lookup, up to [`MAX_EVENTS`] events read.
    pub async fn history(
        &self,
        secret_arn_or_name: &str,
        since: Timestamp,
    ) -> Result<Vec<RotationEvent>, AppError> {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::ResourceName)
            .attribute_value(secret_arn_or_name)
            .build()
            .map_err(|e| AppError::internal(format!("LookupAttribute: {e}")))?;
        self.lookup(attribute, since, secret_arn_or_name).await
    }

    /// Every RotationFailed in the account and region since `since`, newest
    /// first, up to [`MAX_EVENTS`]: for the on-call page.
    pub async fn recent_failures(&self, since: Timestamp) -> Result<Vec<RotationEvent>, AppError> {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(RotationEventKind::Failed.event_name())
            .build()
            .map_err(|e| AppError::internal(format!("LookupAttribute: {e}")))?;
        let mut events = self
            .lookup(attribute, since, &format!("the account in {}", self.region))
            .await?;
        events.retain(|e| e.kind == RotationEventKind::Failed);
        Ok(events)
    }

    async fn lookup(
        &self,
        attribute: LookupAttribute,
        since: Timestamp,
        target: &str,
    ) -> Result<Vec<RotationEvent>, AppError> {
        let mut out = Vec::new();
        let mut read = 0usize;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .page(attribute.clone(), since, None, token.take(), target)
                .await?;
            let page = LookupEvents {
                events: page.events,
                next_token: page.next_token,
            };
            read += page.events.len();
            out.extend(page.events.iter().filter_map(parse_event));
            match page.next_token.as_deref() {
                Some(t) if !t.is_empty() && read < MAX_EVENTS => token = Some(t.to_string()),
                Some(t) if !t.is_empty() => {
                    tracing::warn!(
                        target,
                        read,
                        "CloudTrail lookup stopped at {MAX_EVENTS} events; older rotation events are not shown"
                    );
                    break;
                }
                _ => break,
            }
        }
        // CloudTrail already returns newest first; the stable sort makes it
        // so for any source and keeps CloudTrail's order within a second.
        sort_newest_first(&mut out);
        Ok(out)
    }
}

struct LookupEvents {
    events: Vec<Event>,
    next_token: Option<String>,
}

impl RotationTrail {
    /// One LookupEvents page of `attribute` from `since` (to `until`), in
    /// the account and region's quota; `target` names what is looked up
    /// in errors.
    pub async fn page(
        &self,
        attribute: LookupAttribute,
        since: Timestamp,
        until: Option<Timestamp>,
        token: Option<String>,
        target: &str,
    ) -> Result<LookupPage, AppError> {
        use aws_sdk_cloudtrail::primitives::DateTime;
        self.pace.acquire().await;
        self.calls.note();
        let page = self
            .client
            .lookup_events()
            .lookup_attributes(attribute)
            .start_time(DateTime::from_secs(since.secs()))
            .set_end_time(until.map(|u| DateTime::from_secs(u.secs())))
            .max_results(PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| lookup_error(target, &self.endpoint, e))?;
        Ok(LookupPage {
            next_token: page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            events: page.events.unwrap_or_default(),
        })
    }
}

/// A LookupEvents failure as a sentence a person can act on.
fn lookup_error<R: std::fmt::Debug>(
    target: &str,
    endpoint: &str,
    err: SdkError<LookupEventsError, R>,
) -> AppError {
    CLOUDTRAIL.error("LookupEvents", target, endpoint, err)
}

/// One LookupEvents entry as a [`RotationEvent`], or `None` when it is not
/// a rotation event or names no secret. Missing or malformed fields of the
/// `CloudTrailEvent` record become `None`; nothing here panics.
pub fn parse_event(e: &Event) -> Option<RotationEvent> {
    let record = record_of(e);
    let kind = RotationEventKind::from_event_name(
        e.event_name().or_else(|| str_at(&record, &["eventName"]))?,
    )?;
    let at = time_of(e, &record)?;
    let event_id = e
        .event_id()
        .or_else(|| str_at(&record, &["eventID"]))?
        .to_string();

    let resource_arn = e
        .resources()
        .iter()
        .filter(|r| {
            r.resource_type()
                .is_none_or(|t| t == "AWS::SecretsManager::Secret")
        })
        .find_map(|r| r.resource_name())
        .filter(|n| n.starts_with("arn:"));
    let request_id = str_at(&record, &["requestParameters", "secretId"]);
    let secret_arn = resource_arn
        .or_else(|| str_at(&record, &["additionalEventData", "SecretId"]))
        .or_else(|| str_at(&record, &["responseElements", "arn"]))
        // Before February 2024 some records spelled it "aRN".
        .or_else(|| str_at(&record, &["responseElements", "aRN"]))
        .or(request_id)?
        .to_string();
    let secret_name = str_at(&record, &["responseElements", "name"])
        .or_else(|| request_id.filter(|id| !id.starts_with("arn:")))
        .map(str::to_string)
        .or_else(|| name_from_arn(&secret_arn));
    let version_id = str_at(&record, &["responseElements", "versionId"])
        .or_else(|| str_at(&record, &["additionalEventData", "VersionId"]))
        .or_else(|| str_at(&record, &["requestParameters", "clientRequestToken"]))
        .map(str::to_string);
    let message = str_at(&record, &["errorMessage"])
        .or_else(|| str_at(&record, &["additionalEventData", "errorMessage"]))
        .or_else(|| str_at(&record, &["serviceEventDetails", "errorMessage"]))
        .or_else(|| str_at(&record, &["errorCode"]))
        .filter(|m| !m.trim().is_empty())
        .map(str::to_string);
    let actor = e
        .username()
        .or_else(|| str_at(&record, &["userIdentity", "userName"]))
        .or_else(|| str_at(&record, &["userIdentity", "arn"]))
        .or_else(|| str_at(&record, &["userIdentity", "invokedBy"]))
        .map(str::to_string);
    Some(RotationEvent {
        event_id,
        at,
        kind,
        secret_arn,
        secret_name,
        version_id,
        message,
        actor,
    })
}

/// An event's `CloudTrailEvent` record (`Null` when absent or not JSON).
pub(crate) fn record_of(e: &Event) -> Value {
    e.cloud_trail_event()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// When the event happened: LookupEvents' `EventTime`, else the record's
/// `eventTime`.
pub(crate) fn time_of(e: &Event, record: &Value) -> Option<Timestamp> {
    e.event_time()
        .map(|t| Timestamp::new(t.secs()))
        .or_else(|| {
            str_at(record, &["eventTime"])
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| Timestamp::new(d.timestamp()))
        })
}

/// The string at `path` in a JSON record, if every step is there.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
}

/// `arn:aws:secretsmanager:R:A:secret:NAME-AbCdEf` → `NAME` (Secrets Manager
/// appends a hyphen and six characters to every secret's ARN).
fn name_from_arn(arn: &str) -> Option<String> {
    crate::domain::arn::Arn::parse(arn)?
        .secret_name()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::error::ErrorKind;
    use aws_sdk_cloudtrail::primitives::DateTime;
    use aws_sdk_cloudtrail::types::Resource;

    const ARN: &str = "arn:aws:secretsmanager:ap-southeast-2:843407916570:secret:prod/db-AbCdEf";

    /// A RotationFailed as AWS records it (shape of a real record, values made up).
    const FAILED: &str = r#"{
        "eventVersion": "1.08",
        "userIdentity": {"accountId": "843407916570", "invokedBy": "secretsmanager.amazonaws.com"},
        "eventTime": "2021-09-01T00:50:20Z",
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "RotationFailed",
        "awsRegion": "ap-southeast-2",
        "sourceIPAddress": "secretsmanager.amazonaws.com",
        "userAgent": "secretsmanager.amazonaws.com",
        "errorMessage": "Error when executing lambda arn:aws:lambda:ap-southeast-2:843407916570:function:rotator during createSecret step",
        "requestParameters": null,
        "responseElements": null,
        "additionalEventData": {"SecretId": "arn:aws:secretsmanager:ap-southeast-2:843407916570:secret:prod/db-AbCdEf"},
        "requestID": "Rotation-arn:aws:secretsmanager:ap-southeast-2:843407916570:secret:prod/db-AbCdEf-980c9c",
        "eventID": "e3b69cfe-b70e-4c94-baa9-9decc3c150b9",
        "readOnly": false,
        "eventType": "AwsServiceEvent",
        "managementEvent": true,
        "recipientAccountId": "843407916570",
        "eventCategory": "Management"
    }"#;

    const ROTATE: &str = r#"{
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::843407916570:assumed-role/oncall/alice", "accountId": "843407916570"},
        "eventTime": "2021-09-01T00:49:58Z",
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "RotateSecret",
        "requestParameters": {"secretId": "prod/db", "clientRequestToken": "11111111-2222-4333-8444-555555555555"},
        "responseElements": {"arn": "arn:aws:secretsmanager:ap-southeast-2:843407916570:secret:prod/db-AbCdEf", "name": "prod/db", "versionId": "11111111-2222-4333-8444-555555555555"},
        "eventID": "0b5f8c5e-0000-4000-8000-000000000001",
        "eventType": "AwsApiCall"
    }"#;

    #[test]
    fn a_real_shaped_rotation_failed_gives_time_message_and_secret() {
        let e = Event::builder()
            .event_id("e3b69cfe-b70e-4c94-baa9-9decc3c150b9")
            .event_name("RotationFailed")
            .event_time(DateTime::from_secs(1_630_457_420))
            .event_source("secretsmanager.amazonaws.com")
            .cloud_trail_event(FAILED)
            .build();
        let r = parse_event(&e).unwrap();
        assert_eq!(r.kind, RotationEventKind::Failed);
        assert_eq!(r.at, Timestamp::new(1_630_457_420));
        assert_eq!(
            r.secret_arn, ARN,
            "from additionalEventData without Resources"
        );
        assert_eq!(r.secret_name.as_deref(), Some("prod/db"), "from the ARN");
        assert_eq!(
            r.message.as_deref(),
            Some("Error when executing lambda arn:aws:lambda:ap-southeast-2:843407916570:function:rotator during createSecret step")
        );
        assert_eq!(r.actor.as_deref(), Some("secretsmanager.amazonaws.com"));
        assert_eq!(r.version_id, None);
    }

    #[test]
    fn an_api_call_gives_actor_version_and_name() {
        let e = Event::builder()
            .event_name("RotateSecret")
            .event_id("0b5f8c5e-0000-4000-8000-000000000001")
            .event_time(DateTime::from_secs(1_630_457_398))
            .resources(
                Resource::builder()
                    .resource_type("AWS::SecretsManager::Secret")
                    .resource_name(ARN)
                    .build(),
            )
            .cloud_trail_event(ROTATE)
            .build();
        let r = parse_event(&e).unwrap();
        assert_eq!(r.kind, RotationEventKind::RotateRequested);
        assert_eq!(r.secret_arn, ARN);
        assert_eq!(r.secret_name.as_deref(), Some("prod/db"));
        assert_eq!(
            r.version_id.as_deref(),
            Some("11111111-2222-4333-8444-555555555555")
        );
        assert_eq!(
            r.actor.as_deref(),
            Some("arn:aws:sts::843407916570:assumed-role/oncall/alice"),
            "no Username and no userName: the identity's ARN"
        );
        assert_eq!(r.message, None);
    }

    #[test]
    fn missing_or_broken_fields_never_panic() {
        // Only the envelope: time and id from LookupEvents, secret from Resources.
        let bare = Event::builder()
            .event_name("RotationSucceeded")
            .event_id("x")
            .event_time(DateTime::from_secs(5))
            .resources(Resource::builder().resource_name(ARN).build())
            .build();
        let r = parse_event(&bare).unwrap();
        assert_eq!(
            (r.kind, r.at, r.secret_arn.as_str()),
            (RotationEventKind::Succeeded, Timestamp::new(5), ARN)
        );
        assert_eq!((r.message, r.actor, r.version_id), (None, None, None));

        // Only the record: everything from the JSON.
        let record_only = Event::builder().cloud_trail_event(FAILED).build();
        let r = parse_event(&record_only).unwrap();
        assert_eq!(r.at, Timestamp::new(1_630_457_420));
        assert_eq!(r.event_id, "e3b69cfe-b70e-4c94-baa9-9decc3c150b9");

        for junk in [
            "",
            "{",
            "null",
            "[]",
            "42",
            r#"{"eventName": 7}"#,
            r#"{"additionalEventData": "x"}"#,
        ] {
            let e = Event::builder()
                .event_name("RotationFailed")
                .event_id("y")
                .event_time(DateTime::from_secs(9))
                .cloud_trail_event(junk)
                .build();
            assert!(parse_event(&e).is_none(), "no secret in {junk:?}");
        }
        // Not a rotation event, or no time anywhere: skipped.
        let other = Event::builder()
            .event_name("GetSecretValue")
            .event_id("z")
            .event_time(DateTime::from_secs(1))
            .resources(Resource::builder().resource_name(ARN).build())
            .build();
        assert!(parse_event(&other).is_none());
        let timeless = Event::builder()
            .event_name("RotationStarted")
            .event_id("t")
            .resources(Resource::builder().resource_name(ARN).build())
            .build();
        assert!(parse_event(&timeless).is_none());
        assert!(parse_event(&Event::builder().build()).is_none());
    }

    #[test]
    fn names_from_arns() {
        assert_eq!(name_from_arn(ARN).as_deref(), Some("prod/db"));
        assert_eq!(
            name_from_arn("arn:aws:secretsmanager:us-east-1:1:secret:a-b-c-XyZ123").as_deref(),
            Some("a-b-c")
        );
        assert_eq!(
            name_from_arn("arn:aws:secretsmanager:us-east-1:1:secret:short-abc"),
            None
        );
        assert_eq!(name_from_arn("prod/db"), None);
    }

    #[test]
    fn access_denied_names_the_permission() {
        use aws_sdk_cloudtrail::error::ErrorMetadata;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        let err = LookupEventsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User is not authorized to perform: cloudtrail:LookupEvents")
                .build(),
        );
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        let e = lookup_error(
            "prod/db",
            "CloudTrail in us-east-1",
            SdkError::service_error(err, raw),
        );
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert!(e.user.contains("cloudtrail:LookupEvents"), "{}", e.user);
        assert!(e.user.contains("enabled = false"), "{}", e.user);
        assert!(e.detail.contains("AccessDeniedException"), "{}", e.detail);
    }
}
