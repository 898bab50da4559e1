//! Which secret a CloudTrail event names, for the incremental pass.
//!
//! Every Secrets Manager event that is not read-only and did not fail
//! names a secret that may have changed: the write calls (CreateSecret,
//! UpdateSecret, TagResource, DeleteSecret, RotateSecret, …), and the
//! events Secrets Manager records itself (RotationSucceeded,
//! EndSecretVersionDelete, …). The event names are not listed here, so a
//! write operation AWS adds later is followed too. The secret is read, in
//! order, from: the event's `Resources` (the ARN), the record's
//! `responseElements.arn` (or `aRN`, as some operations wrote it before
//! February 2024), `additionalEventData.SecretId` (service events), the
//! record's `resources[].ARN`, and last `requestParameters.secretId` or
//! `requestParameters.name` (CreateSecret), which may be a name or a
//! partial ARN: DescribeSecret accepts any of them.

use crate::domain::Timestamp;
use crate::server::aws::cloudtrail::{record_of, str_at, time_of};
use aws_sdk_cloudtrail::types::Event;

/// The event source of Secrets Manager's events.
pub const EVENT_SOURCE: &str = "secretsmanager.amazonaws.com";
const RESOURCE_TYPE: &str = "AWS::SecretsManager::Secret";

/// One write event and the secret it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touched {
    pub event_id: String,
    pub event_name: String,
    pub at: Timestamp,
    /// The secret's ARN when the event carries it, else its name (or the
    /// partial ARN the caller sent).
    pub secret: String,
}

/// The secret `e` names, when `e` is a Secrets Manager event that may have
/// changed one: not read-only, no error, a secret named somewhere.
pub fn touched(e: &Event) -> Option<Touched> {
    let record = record_of(e);
    let source = e
        .event_source()
        .or_else(|| str_at(&record, &["eventSource"]))?;
    if source != EVENT_SOURCE {
        return None;
    }
    let read_only = e
        .read_only()
        .map(|r| r.eq_ignore_ascii_case("true"))
        .or_else(|| record.get("readOnly").and_then(|v| v.as_bool()))
        .unwrap_or(false);
    if read_only || str_at(&record, &["errorCode"]).is_some() {
        return None;
    }
    let event_name = e
        .event_name()
        .or_else(|| str_at(&record, &["eventName"]))?
        .to_string();
    let event_id = e
        .event_id()
        .or_else(|| str_at(&record, &["eventID"]))?
        .to_string();
    let at = time_of(e, &record)?;
    let listed = e
        .resources()
        .iter()
        .filter(|r| r.resource_type().is_none_or(|t| t == RESOURCE_TYPE))
        .find_map(|r| r.resource_name())
        .filter(|n| n.starts_with("arn:"));
    let recorded = record
        .get("resources")
        .and_then(|r| r.as_array())
        .and_then(|rs| {
            rs.iter()
                .filter(|r| r.get("type").and_then(|t| t.as_str()) == Some(RESOURCE_TYPE))
                .find_map(|r| r.get("ARN").and_then(|a| a.as_str()))
        });
    let secret = listed
        .or_else(|| str_at(&record, &["responseElements", "arn"]))
        .or_else(|| str_at(&record, &["responseElements", "aRN"]))
        .or_else(|| str_at(&record, &["additionalEventData", "SecretId"]))
        .or(recorded)
        .or_else(|| str_at(&record, &["requestParameters", "secretId"]))
        .or_else(|| str_at(&record, &["requestParameters", "name"]))
        .filter(|s| !s.trim().is_empty())?
        .to_string();
    Some(Touched {
        event_id,
        event_name,
        at,
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::primitives::DateTime;
    use aws_sdk_cloudtrail::types::Resource;

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:MyTestSecret-a1b2c3";

    /// The envelope LookupEvents puts around a record.
    fn event(name: &str, record: &str, resources: bool) -> Event {
        let mut b = Event::builder()
            .event_id(format!("id-{name}"))
            .event_name(name)
            .event_source(EVENT_SOURCE)
            .read_only("false")
            .event_time(DateTime::from_secs(1_700_000_000))
            .cloud_trail_event(record);
        if resources {
            b = b.resources(
                Resource::builder()
                    .resource_type(RESOURCE_TYPE)
                    .resource_name(ARN)
                    .build(),
            );
        }
        b.build()
    }

    // Records shaped as the user guide's "AWS CloudTrail entries for
    // Secrets Manager" and EventBridge examples show them (values made up).
    const PUT_VALUE: &str = r#"{"eventVersion":"1.08","eventTime":"2023-11-14T22:13:20Z",
        "eventSource":"secretsmanager.amazonaws.com","eventName":"PutSecretValue",
        "requestParameters":{"secretId":"MyTestSecret","clientRequestToken":"EXAMPLE1-90ab-cdef-fedc-ba987SECRET1","secretString":"HIDDEN_DUE_TO_SECURITY_REASONS"},
        "responseElements":{"arn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:MyTestSecret-a1b2c3","versionId":"EXAMPLE1-90ab-cdef-fedc-ba987SECRET1","versionStages":["AWSCURRENT"]},
        "eventID":"b0a5c8a4-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsApiCall"}"#;
    const TAG: &str = r#"{"eventTime":"2023-11-14T22:13:20Z","eventSource":"secretsmanager.amazonaws.com",
        "eventName":"TagResource","requestParameters":{"secretId":"MyTestSecret","tags":[{"key":"team","value":"payments"}]},
        "responseElements":null,"readOnly":false,"eventType":"AwsApiCall"}"#;
    const CREATE_OLD_ARN: &str = r#"{"eventTime":"2023-11-14T22:13:20Z","eventSource":"secretsmanager.amazonaws.com",
        "eventName":"CreateSecret","requestParameters":{"name":"MyTestSecret","secretString":"HIDDEN_DUE_TO_SECURITY_REASONS"},
        "responseElements":{"aRN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:MyTestSecret-a1b2c3","name":"MyTestSecret","versionId":"v1"},
        "readOnly":false,"eventType":"AwsApiCall"}"#;
    const VERSION_DELETE: &str = r#"{"eventTime":"2023-11-14T22:13:20Z","eventSource":"secretsmanager.amazonaws.com",
        "eventName":"EndSecretVersionDelete","userIdentity":{"invokedBy":"secretsmanager.amazonaws.com"},
        "requestParameters":null,"responseElements":null,
        "additionalEventData":{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:MyTestSecret-a1b2c3","VersionId":"v0"},
        "readOnly":false,"eventType":"AwsServiceEvent"}"#;
    const DELETE_BY_NAME: &str = r#"{"eventTime":"2023-11-14T22:13:20Z","eventSource":"secretsmanager.amazonaws.com",
        "eventName":"DeleteSecret","requestParameters":{"secretId":"MyTestSecret","forceDeleteWithoutRecovery":true},
        "responseElements":null,"readOnly":false,"eventType":"AwsApiCall"}"#;

    #[test]
    fn each_write_names_its_secret() {
        let cases = [
            (
                event("PutSecretValue", PUT_VALUE, false),
                ARN,
                "responseElements.arn",
            ),
            (
                event("TagResource", TAG, true),
                ARN,
                "the event's Resources",
            ),
            (
                event("TagResource", TAG, false),
                "MyTestSecret",
                "requestParameters.secretId",
            ),
            (
                event("CreateSecret", CREATE_OLD_ARN, false),
                ARN,
                "the old aRN spelling",
            ),
            (
                event("EndSecretVersionDelete", VERSION_DELETE, false),
                ARN,
                "additionalEventData",
            ),
            (
                event("DeleteSecret", DELETE_BY_NAME, false),
                "MyTestSecret",
                "the name asked",
            ),
        ];
        for (e, want, why) in cases {
            let t = touched(&e).unwrap_or_else(|| panic!("{why}"));
            assert_eq!(t.secret, want, "{why}");
            assert_eq!(t.at, Timestamp::new(1_700_000_000));
            assert_eq!(Some(t.event_name.as_str()), e.event_name());
        }
        let create_by_name = CREATE_OLD_ARN.replace("\"aRN\"", "\"other\"");
        let t = touched(&event("CreateSecret", &create_by_name, false)).unwrap();
        assert_eq!(t.secret, "MyTestSecret", "requestParameters.name");
    }

    #[test]
    fn reads_failures_and_other_services_name_nothing() {
        let read = Event::builder()
            .event_id("r")
            .event_name("GetSecretValue")
            .event_source(EVENT_SOURCE)
            .read_only("true")
            .event_time(DateTime::from_secs(1))
            .resources(Resource::builder().resource_name(ARN).build())
            .build();
        assert_eq!(touched(&read), None, "a read changes nothing");
        let failed = TAG.replace(
            "\"readOnly\"",
            "\"errorCode\":\"AccessDenied\",\"readOnly\"",
        );
        assert_eq!(touched(&event("TagResource", &failed, true)), None);
        let ec2 = Event::builder()
            .event_id("e")
            .event_name("RunInstances")
            .event_source("ec2.amazonaws.com")
            .read_only("false")
            .event_time(DateTime::from_secs(1))
            .build();
        assert_eq!(
            touched(&ec2),
            None,
            "ReadOnly=false holds every service's writes"
        );
        // Only the record, no envelope: still read; junk: nothing.
        let only_record = Event::builder()
            .event_id("x")
            .cloud_trail_event(PUT_VALUE)
            .build();
        assert_eq!(touched(&only_record).unwrap().secret, ARN);
        for junk in ["", "{", "null", "[]", r#"{"eventSource":7}"#] {
            let e = Event::builder()
                .event_id("j")
                .cloud_trail_event(junk)
                .build();
            assert_eq!(touched(&e), None, "{junk:?}");
        }
    }
}
