//! Reading one secret's GetSecretValue events from CloudTrail, page by page
//! within the account and region's LookupEvents quota, with progress.

use crate::domain::reads::{Asked, Principal, ReadError, ReadEvent, ReadProgress, Readers};
use crate::domain::Timestamp;
use crate::server::aws::cloudtrail::{record_of, str_at, time_of, RotationTrail};
use crate::server::aws::rate::RateLimiter;
use crate::server::error::AppError;
use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Events can reach LookupEvents some minutes after they happened: each
/// lookup after the first reads again this far back, and drops the events
/// it already counted.
pub const OVERLAP_SECS: i64 = 15 * 60;

/// A lookup in progress: what a page shows while it pages in.
pub struct Loading {
    pub progress: Mutex<ReadProgress>,
    /// The readers found so far (every few pages).
    pub partial: Mutex<Option<Arc<Readers>>>,
}

impl Loading {
    pub fn new(window_start: Timestamp) -> Loading {
        Loading {
            progress: Mutex::new(ReadProgress {
                pages: 0,
                events: 0,
                reached: None,
                window_start,
            }),
            partial: Mutex::new(None),
        }
    }

    pub fn progress(&self) -> ReadProgress {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn partial(&self) -> Option<Arc<Readers>> {
        self.partial
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The ids of the events near a lookup's end (the next lookup's overlap).
pub type Tail = Vec<(Timestamp, Box<str>)>;

/// What a lookup found: the readers, and its [`Tail`].
pub struct Found {
    pub readers: Arc<Readers>,
    pub tail: Tail,
}

/// What a lookup starts from: the last answer (read on top of, when its
/// window still holds) and the window.
pub struct Ask<'a> {
    pub arn: &'a str,
    pub previous: Option<(Arc<Readers>, Tail)>,
    pub window_start: Timestamp,
    pub now: Timestamp,
    pub max_events: u32,
    /// The background pass's share of the quota, waited for before each call.
    pub share: Option<&'a RateLimiter>,
    /// Whether a principal's account is one of the dashboard's.
    pub ours: &'a (dyn Fn(&str) -> bool + Sync),
}

/// Reads the GetSecretValue events of `ask.arn`: the whole window, or,
/// when the previous answer still covers the window's start, only what
/// came after it.
pub async fn lookup(
    trail: &RotationTrail,
    ask: Ask<'_>,
    loading: &Loading,
) -> Result<Found, AppError> {
    let incremental = ask
        .previous
        .as_ref()
        .filter(|(r, _)| r.since.secs() <= ask.window_start.secs() + 86_400);
    let from = match incremental {
        Some((r, _)) => Timestamp::new(r.until.secs() - OVERLAP_SECS),
        None => ask.window_start,
    };
    let known: std::collections::HashSet<&str> = incremental
        .map(|(_, tail)| tail.iter().map(|(_, id)| &**id).collect())
        .unwrap_or_default();
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::ResourceName)
        .attribute_value(ask.arn)
        .build()
        .map_err(|e| AppError::internal(format!("LookupAttribute: {e}")))?;
    let mut events: Vec<ReadEvent> = Vec::new();
    let mut seen = 0u32;
    let mut reached: Option<Timestamp> = None;
    let mut cut_short_at = None;
    let mut token = None;
    loop {
        if let Some(share) = ask.share {
            share.acquire().await;
        }
        let page = trail
            .page(
                attribute.clone(),
                from,
                Some(ask.now),
                token.take(),
                ask.arn,
            )
            .await?;
        seen += page.events.len() as u32;
        for e in &page.events {
            if let Some(t) = e.event_time() {
                let t = Timestamp::new(t.secs());
                reached = Some(reached.map_or(t, |r| r.min(t)));
            }
        }
        events.extend(
            page.events
                .iter()
                .filter_map(parse_read)
                .filter(|e| !known.contains(&*e.event_id)),
        );
        let pages = {
            let mut p = loading.progress.lock().unwrap_or_else(|p| p.into_inner());
            p.pages += 1;
            p.events = events.len() as u32;
            p.reached = reached;
            p.pages
        };
        match page.next_token {
            Some(t) if seen < ask.max_events => token = Some(t),
            Some(_) => {
                // Newest first: everything before the oldest event read is unread.
                cut_short_at = reached;
                break;
            }
            None => break,
        }
        if pages % 4 == 0 && incremental.is_none() {
            let so_far = summarize(&events, ask.window_start, ask.now, reached, &ask);
            *loading.partial.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(so_far));
        }
    }
    let tail = events
        .iter()
        .filter(|e| e.at.secs() >= ask.now.secs() - OVERLAP_SECS)
        .map(|e| (e.at, e.event_id.clone()))
        .chain(
            incremental
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
                .into_iter()
                .filter(|(at, _)| at.secs() >= ask.now.secs() - OVERLAP_SECS),
        )
        .collect();
    let readers = match incremental {
        Some((old, _)) => {
            let mut all = (**old).clone();
            all.absorb(&summarize(&events, from, ask.now, None, &ask));
            all
        }
        None => summarize(&events, ask.window_start, ask.now, cut_short_at, &ask),
    };
    Ok(Found {
        readers: Arc::new(readers),
        tail,
    })
}

fn summarize(
    events: &[ReadEvent],
    since: Timestamp,
    until: Timestamp,
    cut_short_at: Option<Timestamp>,
    ask: &Ask<'_>,
) -> Readers {
    let mut r = Readers::from_events(events, since, until, cut_short_at);
    for reader in &mut r.readers {
        reader.ours = reader
            .principal
            .account
            .as_deref()
            .is_some_and(|a| (ask.ours)(a));
    }
    r
}

/// One LookupEvents entry as a read, or `None` when it is not a
/// `GetSecretValue` (a `BatchGetSecretValue` entry is not counted: Secrets
/// Manager records a GetSecretValue entry for each secret it returns) or
/// names no one. Missing or malformed fields never panic.
pub fn parse_read(e: &Event) -> Option<ReadEvent> {
    let record = record_of(e);
    let name = e.event_name().or_else(|| str_at(&record, &["eventName"]))?;
    if name != "GetSecretValue" {
        return None;
    }
    let at = time_of(e, &record)?;
    let event_id = e.event_id().or_else(|| str_at(&record, &["eventID"]))?;
    let who = |k: &str| str_at(&record, &["userIdentity", k]);
    let principal = Principal::from_identity(
        who("type"),
        who("arn"),
        who("accountId"),
        str_at(
            &record,
            &["userIdentity", "sessionContext", "sessionIssuer", "arn"],
        ),
        who("invokedBy"),
    )?;
    let asked = if record
        .get("requestParameters")
        .is_some_and(Value::is_object)
    {
        Asked::from_request(
            str_at(&record, &["requestParameters", "versionStage"]),
            str_at(&record, &["requestParameters", "versionId"]),
        )
    } else {
        Asked::Unknown
    };
    Some(ReadEvent {
        event_id: event_id.into(),
        at,
        principal,
        asked,
        error: ReadError::parse(
            str_at(&record, &["errorCode"]),
            str_at(&record, &["errorMessage"]),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reads::PrincipalKind;
    use aws_sdk_cloudtrail::primitives::DateTime;

    /// A GetSecretValue by a role's session, shaped as CloudTrail records it
    /// (values made up): the session issuer names the role.
    const READ: &str = r#"{
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:i-0abc",
            "arn": "arn:aws:sts::111122223333:assumed-role/payments-api/i-0abc",
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/payments-api", "accountId": "111122223333", "userName": "payments-api"}}
        },
        "eventTime": "2026-11-30T10:00:00Z",
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "GetSecretValue",
        "requestParameters": {"secretId": "prod/payments/db", "versionStage": "AWSPREVIOUS"},
        "responseElements": null,
        "eventID": "5f2e0c1a-0000-4000-8000-000000000001",
        "readOnly": true,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    }"#;

    /// Refused: the secret is scheduled for deletion.
    const REFUSED: &str = r#"{
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/ci", "accountId": "444455556666", "userName": "ci"},
        "eventTime": "2026-11-30T11:00:00Z",
        "eventName": "GetSecretValue",
        "errorCode": "InvalidRequestException",
        "errorMessage": "You can't perform this operation on the secret because it was marked for deletion.",
        "requestParameters": {"secretId": "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-AbCdEf"},
        "eventID": "5f2e0c1a-0000-4000-8000-000000000002"
    }"#;

    fn event(name: &str, record: &str) -> Event {
        Event::builder()
            .event_name(name)
            .event_id("from-envelope")
            .event_time(DateTime::from_secs(1_795_000_000))
            .cloud_trail_event(record)
            .build()
    }

    #[test]
    fn a_role_read_names_the_role_and_the_stage() {
        let r = parse_read(&event("GetSecretValue", READ)).unwrap();
        assert_eq!(
            &*r.principal.arn,
            "arn:aws:iam::111122223333:role/payments-api"
        );
        assert_eq!(r.principal.kind, PrincipalKind::Role);
        assert_eq!(r.principal.account.as_deref(), Some("111122223333"));
        assert!(r.asked.is_previous());
        assert_eq!(r.error, None);
        assert_eq!(&*r.event_id, "from-envelope");
        assert_eq!(r.at, Timestamp::new(1_795_000_000));
    }

    #[test]
    fn a_refused_read_keeps_its_error_and_a_read_without_stage_is_the_default() {
        let r = parse_read(&event("GetSecretValue", REFUSED)).unwrap();
        assert_eq!(r.error, Some(ReadError::MarkedForDeletion));
        assert_eq!(r.asked, Asked::Default);
        assert_eq!(r.principal.kind, PrincipalKind::User);
        assert_eq!(r.principal.name(), "ci");
    }

    #[test]
    fn other_events_and_junk_are_not_reads() {
        // API Reference, BatchGetSecretValue: "Secrets Manager generates
        // CloudTrail GetSecretValue log entries for each secret you request
        // when you call this action": the batch entry itself is not a read.
        assert!(parse_read(&event("BatchGetSecretValue", READ)).is_none());
        assert!(parse_read(&event("RotationFailed", READ)).is_none());
        for junk in ["", "{", "null", "[]", r#"{"userIdentity": 7}"#] {
            assert!(
                parse_read(&event("GetSecretValue", junk)).is_none(),
                "{junk:?}"
            );
        }
        // The record alone (no envelope) is enough.
        let bare = Event::builder().cloud_trail_event(READ).build();
        let r = parse_read(&bare).unwrap();
        assert_eq!(&*r.event_id, "5f2e0c1a-0000-4000-8000-000000000001");
        // No requestParameters recorded: the version asked for is unknown.
        let no_params = READ.replace(
            r#""requestParameters": {"secretId": "prod/payments/db", "versionStage": "AWSPREVIOUS"}"#,
            r#""requestParameters": null"#,
        );
        let r = parse_read(&event("GetSecretValue", &no_params)).unwrap();
        assert_eq!(r.asked, Asked::Unknown);
    }
}
