//! Rotation outcomes as CloudTrail records them: when a rotation was asked
//! for, started, succeeded, failed or was abandoned, and the failure message.
//!
//! This is optional knowledge. Without CloudTrail the dashboard judges
//! rotation from labels and dates alone (see `state.rs`, `health.rs`); with
//! it, a page can say *when* the last rotation failed and *why*. The events
//! arrive from `server/aws/cloudtrail.rs`; everything here is pure.

use super::{Secret, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happened. Each kind is one CloudTrail event name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RotationEventKind {
    /// `RotateSecret`: someone (or something) called the API.
    RotateRequested,
    /// `RotationStarted`: Secrets Manager began invoking the rotation function.
    Started,
    /// `RotationSucceeded`: the new version became AWSCURRENT.
    Succeeded,
    /// `RotationFailed`: a step of the rotation function failed.
    Failed,
    /// `RotationAbandoned`: the rotation in progress was given up (cancelled,
    /// or a new version was written by hand) and AWSPENDING was removed.
    Abandoned,
    /// `CancelRotateSecret`: someone turned rotation off.
    CancelRequested,
}

impl RotationEventKind {
    pub const ALL: [RotationEventKind; 6] = [
        RotationEventKind::RotateRequested,
        RotationEventKind::Started,
        RotationEventKind::Succeeded,
        RotationEventKind::Failed,
        RotationEventKind::Abandoned,
        RotationEventKind::CancelRequested,
    ];

    /// Stable machine word (URLs, CSS classes, JSON): `rotate-requested`, `failed`, …
    pub fn as_str(self) -> &'static str {
        match self {
            RotationEventKind::RotateRequested => "rotate-requested",
            RotationEventKind::Started => "started",
            RotationEventKind::Succeeded => "succeeded",
            RotationEventKind::Failed => "failed",
            RotationEventKind::Abandoned => "abandoned",
            RotationEventKind::CancelRequested => "cancel-requested",
        }
    }

    /// The CloudTrail `eventName`.
    pub fn event_name(self) -> &'static str {
        match self {
            RotationEventKind::RotateRequested => "RotateSecret",
            RotationEventKind::Started => "RotationStarted",
            RotationEventKind::Succeeded => "RotationSucceeded",
            RotationEventKind::Failed => "RotationFailed",
            RotationEventKind::Abandoned => "RotationAbandoned",
            RotationEventKind::CancelRequested => "CancelRotateSecret",
        }
    }

    /// The kind of a CloudTrail `eventName`; `None` for events that are not
    /// about rotation outcomes (TestRotationStarted, GetSecretValue, …).
    pub fn from_event_name(name: &str) -> Option<RotationEventKind> {
        Self::ALL.into_iter().find(|k| k.event_name() == name)
    }

    /// For people: "Rotation failed".
    pub fn title(self) -> &'static str {
        match self {
            RotationEventKind::RotateRequested => "Rotation requested",
            RotationEventKind::Started => "Rotation started",
            RotationEventKind::Succeeded => "Rotation succeeded",
            RotationEventKind::Failed => "Rotation failed",
            RotationEventKind::Abandoned => "Rotation abandoned",
            RotationEventKind::CancelRequested => "Rotation cancelled",
        }
    }

    /// True for the events that end a rotation attempt.
    pub fn is_outcome(self) -> bool {
        matches!(
            self,
            RotationEventKind::Succeeded | RotationEventKind::Failed | RotationEventKind::Abandoned
        )
    }
}

/// One CloudTrail event about the rotation of one secret. Never a value:
/// CloudTrail records none, and the message is the rotation function's
/// error text as Secrets Manager logged it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationEvent {
    /// CloudTrail's `EventId`: unique, stable across lookups.
    pub event_id: String,
    pub at: Timestamp,
    pub kind: RotationEventKind,
    /// The secret's full ARN as CloudTrail names the resource.
    pub secret_arn: String,
    /// The secret's name when the record carries it (API calls by name).
    pub secret_name: Option<String>,
    /// The version the event is about, when the record says (RotateSecret's
    /// response, CancelRotateSecret's pending version).
    pub version_id: Option<String>,
    /// Why it failed: the record's `errorMessage` (or the service detail).
    pub message: Option<String>,
    /// Who: the IAM user or role session of an API call, or the service
    /// (`secretsmanager.amazonaws.com`) for scheduled work.
    pub actor: Option<String>,
}

impl RotationEvent {
    pub fn is(&self, kind: RotationEventKind) -> bool {
        self.kind == kind
    }
}

/// Newest first, as CloudTrail returns them. The sort is stable: events of
/// the same second keep the order they came in, which for CloudTrail's
/// answer is the true order (it knows milliseconds; [`Timestamp`] does not).
pub fn sort_newest_first(events: &mut [RotationEvent]) {
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
}

/// The newest event of `kind` (events in any order).
pub fn last_of(events: &[RotationEvent], kind: RotationEventKind) -> Option<&RotationEvent> {
    newest(events.iter().filter(|e| e.kind == kind))
}

/// The newest RotationFailed.
pub fn last_failure(events: &[RotationEvent]) -> Option<&RotationEvent> {
    last_of(events, RotationEventKind::Failed)
}

/// The newest RotationSucceeded.
pub fn last_success(events: &[RotationEvent]) -> Option<&RotationEvent> {
    last_of(events, RotationEventKind::Succeeded)
}

/// The newest event that ended an attempt (succeeded, failed or abandoned):
/// "what happened last time".
pub fn last_outcome(events: &[RotationEvent]) -> Option<&RotationEvent> {
    newest(events.iter().filter(|e| e.kind.is_outcome()))
}

/// The failure that explains a rotation left unfinished since `since` (the
/// AWSPENDING version's creation, or the rotation's start): the newest
/// RotationFailed at or after `since`, unless a RotationSucceeded came after
/// it (then that failure was retried away and explains nothing now).
pub fn failure_since(events: &[RotationEvent], since: Timestamp) -> Option<&RotationEvent> {
    failure_since_of(events, since, |_| true)
}

fn failure_since_of(
    events: &[RotationEvent],
    since: Timestamp,
    mine: impl Fn(&RotationEvent) -> bool,
) -> Option<&RotationEvent> {
    let failure = newest(
        events
            .iter()
            .filter(|e| e.kind == RotationEventKind::Failed && e.at >= since && mine(e)),
    )?;
    let succeeded_later = events
        .iter()
        .any(|e| e.kind == RotationEventKind::Succeeded && e.at > failure.at && mine(e));
    (!succeeded_later).then_some(failure)
}

/// The failure behind `secret`'s stuck rotation, if it has one: its
/// AWSPENDING version (not AWSCURRENT) was created at some time (or, without
/// version dates, the secret last changed then), and a RotationFailed of this
/// secret came at or after it. `None` when nothing is pending, when the
/// start is unknown, or when CloudTrail has no such failure.
pub fn current_failure<'a>(
    secret: &Secret,
    events: &'a [RotationEvent],
) -> Option<&'a RotationEvent> {
    let pending = secret.pending_version()?;
    let since = pending.created.or(secret.last_changed)?;
    failure_since_of(events, since, |e| e.secret_arn == *secret.arn)
}

/// The newest event of `kind` per secret ARN: for the on-call page, which
/// reads one lookup of RotationFailed for the whole account.
pub fn latest_by_secret(
    events: &[RotationEvent],
    kind: RotationEventKind,
) -> BTreeMap<&str, &RotationEvent> {
    let mut out: BTreeMap<&str, &RotationEvent> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == kind) {
        match out.get(e.secret_arn.as_str()) {
            Some(seen) if !later(e, seen) => {}
            _ => {
                out.insert(e.secret_arn.as_str(), e);
            }
        }
    }
    out
}

/// `a` comes after `b` in the newest-first order's sense (time, then id).
fn later(a: &RotationEvent, b: &RotationEvent) -> bool {
    (a.at, &a.event_id) > (b.at, &b.event_id)
}

fn newest<'a>(events: impl Iterator<Item = &'a RotationEvent>) -> Option<&'a RotationEvent> {
    events.reduce(|best, e| if later(e, best) { e } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Label, Version, VersionId};

    const T: i64 = 1_795_000_000;
    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf";

    fn ev(id: &str, at: i64, kind: RotationEventKind) -> RotationEvent {
        RotationEvent {
            event_id: id.to_string(),
            at: Timestamp::new(at),
            kind,
            secret_arn: ARN.to_string(),
            secret_name: None,
            version_id: None,
            message: (kind == RotationEventKind::Failed).then(|| format!("failure {id}")),
            actor: None,
        }
    }

    use RotationEventKind::*;

    #[test]
    fn kinds_round_trip_through_event_names_and_serde() {
        for k in RotationEventKind::ALL {
            assert_eq!(RotationEventKind::from_event_name(k.event_name()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<RotationEventKind>(&json).unwrap(), k);
            assert!(!k.title().is_empty());
        }
        assert_eq!(
            RotationEventKind::from_event_name("TestRotationStarted"),
            None
        );
        assert_eq!(RotationEventKind::from_event_name("rotationfailed"), None);
        assert!(Failed.is_outcome() && Succeeded.is_outcome() && Abandoned.is_outcome());
        assert!(!Started.is_outcome() && !RotateRequested.is_outcome());
        assert!(!CancelRequested.is_outcome());
    }

    #[test]
    fn last_failure_success_and_outcome_pick_the_newest() {
        let events = vec![
            ev("1", T, Started),
            ev("2", T + 3, Failed),
            ev("3", T + 100, Started),
            ev("4", T + 104, Succeeded),
            ev("5", T + 200, Started),
            ev("6", T + 202, Failed),
            ev("7", T + 300, RotateRequested),
        ];
        assert_eq!(last_failure(&events).unwrap().event_id, "6");
        assert_eq!(last_success(&events).unwrap().event_id, "4");
        assert_eq!(last_outcome(&events).unwrap().event_id, "6");
        assert_eq!(last_of(&events, RotateRequested).unwrap().event_id, "7");
        assert!(last_of(&events, Abandoned).is_none());
        assert!(last_failure(&[]).is_none());

        // Order of the input does not matter; equal times fall to the id.
        let mut rev = events.clone();
        rev.reverse();
        assert_eq!(last_failure(&rev).unwrap().event_id, "6");
        let tie = vec![ev("a", T, Failed), ev("b", T, Failed)];
        assert_eq!(last_failure(&tie).unwrap().event_id, "b");
    }

    #[test]
    fn sorting_is_newest_first_and_keeps_the_order_of_a_second() {
        // CloudTrail's order within one second: the failure after the start.
        let mut events = vec![
            ev("z-failed", T, Failed),
            ev("a-started", T, Started),
            ev("old", T - 5, RotateRequested),
            ev("new", T + 5, Succeeded),
        ];
        sort_newest_first(&mut events);
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["new", "z-failed", "a-started", "old"]);
    }

    #[test]
    fn failure_since_belongs_to_the_pending_rotation_only() {
        let events = vec![
            ev("old", T - 86_400, Failed),
            ev("s", T, Started),
            ev("f", T + 2, Failed),
        ];
        assert_eq!(
            failure_since(&events, Timestamp::new(T + 1))
                .unwrap()
                .event_id,
            "f"
        );
        assert_eq!(
            failure_since(&events, Timestamp::new(T + 2))
                .unwrap()
                .event_id,
            "f",
            "a failure at the same second as the version counts"
        );
        assert!(
            failure_since(&events, Timestamp::new(T + 3)).is_none(),
            "failures before the pending version are about another attempt"
        );
        assert_eq!(
            failure_since(&events, Timestamp::new(T - 86_400 - 1))
                .unwrap()
                .event_id,
            "f",
            "the newest of several"
        );

        // A success after the failure means the failure was retried away.
        let mut healed = events.clone();
        healed.push(ev("ok", T + 60, Succeeded));
        assert!(failure_since(&healed, Timestamp::new(T)).is_none());
        // A success before the failure does not.
        let mut earlier = events.clone();
        earlier.push(ev("ok", T + 1, Succeeded));
        assert_eq!(
            failure_since(&earlier, Timestamp::new(T)).unwrap().event_id,
            "f"
        );
    }

    #[test]
    fn current_failure_uses_the_pending_version_of_this_secret() {
        let mut s = secret("a");
        assert_eq!(&*s.arn, ARN);
        let mut other = ev("other", T + 10, Failed);
        other.secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:b-XyZxYz".into();
        let events = vec![ev("f", T + 2, Failed), other];

        assert!(
            current_failure(&s, &events).is_none(),
            "nothing pending: no current failure"
        );
        s.versions.push(Version {
            id: VersionId::parse("v2"),
            labels: [Label::Pending].into_iter().collect(),
            created: Some(Timestamp::new(T + 1)),
            last_accessed: None,
        });
        let f = current_failure(&s, &events).unwrap();
        assert_eq!(
            f.event_id, "f",
            "another secret's failure is not this one's"
        );
        assert_eq!(f.message.as_deref(), Some("failure f"));

        s.versions[1].created = Some(Timestamp::new(T + 5));
        assert!(current_failure(&s, &events).is_none());

        // Without a version date the last change stands in for it.
        s.versions[1].created = None;
        assert!(current_failure(&s, &events).is_none(), "start unknown");
        s.last_changed = Some(Timestamp::new(T));
        assert_eq!(current_failure(&s, &events).unwrap().event_id, "f");
    }

    #[test]
    fn latest_by_secret_keeps_one_per_arn() {
        let mut b1 = ev("b1", T + 50, Failed);
        b1.secret_arn = "arn:b".into();
        let mut b2 = ev("b2", T + 10, Failed);
        b2.secret_arn = "arn:b".into();
        let events = vec![
            ev("a1", T, Failed),
            b2,
            ev("a2", T + 20, Failed),
            b1,
            ev("a3", T + 99, Succeeded),
        ];
        let m = latest_by_secret(&events, Failed);
        assert_eq!(m.len(), 2);
        assert_eq!(m[ARN].event_id, "a2");
        assert_eq!(m["arn:b"].event_id, "b1");
        assert_eq!(latest_by_secret(&events, Succeeded)[ARN].event_id, "a3");
    }

    #[test]
    fn events_serialise_with_plain_fields() {
        let e = ev("x", T, Failed);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "failed");
        assert_eq!(json["at"], T);
        assert_eq!(serde_json::from_value::<RotationEvent>(json).unwrap(), e);
    }
}
