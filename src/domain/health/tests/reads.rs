//! The rules that read CloudTrail's GetSecretValue events.

use super::*;
use crate::domain::reads::{Asked, Principal, ReadError, ReadEvent, Readers};

pub(super) const APP: &str = "arn:aws:sts::111122223333:assumed-role/payments-api/i-1";
const NEWCOMER: &str = "arn:aws:sts::999988887777:assumed-role/etl/x";

pub(super) fn read(at: Timestamp, who: &str, asked: Asked, error: Option<ReadError>) -> ReadEvent {
    ReadEvent {
        event_id: format!("{}-{who}-{asked:?}", at.secs()).into(),
        at,
        principal: Principal::from_identity(Some("AssumedRole"), Some(who), None, None, None)
            .unwrap(),
        asked,
        error,
    }
}

/// The readers of `events` over the 90 days before NOW, nothing cut.
pub(super) fn readers(events: &[ReadEvent]) -> Arc<Readers> {
    Arc::new(Readers::from_events(events, at(-90 * DAY), NOW, None))
}

#[test]
fn accessed_after_deletion_needs_failed_reads_after_the_deletion() {
    let mut s = healthy();
    s.deleted = Some(at(-5 * DAY));
    assert!(fired(&s, RuleId::AccessedAfterDeletion).is_none());
    assert_eq!(
        not_evaluated(&s, &cfg()),
        [RuleId::AccessedAfterDeletion],
        "no reads looked up: not evaluated, not passed"
    );
    // Reads before the deletion, refused or not, are no finding.
    s.reads = Some(readers(&[
        read(at(-6 * DAY), APP, Asked::Default, None),
        read(
            at(-6 * DAY),
            NEWCOMER,
            Asked::Default,
            Some(ReadError::AccessDenied),
        ),
    ]));
    assert!(fired(&s, RuleId::AccessedAfterDeletion).is_none());
    assert!(not_evaluated(&s, &cfg()).is_empty());
    // "You can't perform this operation on the secret because it was
    // marked for deletion." (GetSecretValue on a secret with DeletedDate).
    let marked = Some(ReadError::MarkedForDeletion);
    s.reads = Some(readers(&[
        read(at(-6 * DAY), APP, Asked::Default, None),
        read(at(-4 * DAY), APP, Asked::Default, marked.clone()),
        read(at(-3 * DAY), APP, Asked::Default, marked.clone()),
    ]));
    let f = fired(&s, RuleId::AccessedAfterDeletion).unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.since, Some(at(-4 * DAY)));
    assert!(
        f.detail.contains("payments-api (111122223333)"),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("2 failed reads"), "{}", f.detail);
    assert!(f.detail.contains("marked for deletion"), "{}", f.detail);
    // Restored: the rule no longer applies; LastAccessedDate plays no part.
    s.deleted = None;
    s.last_accessed = Some(NOW);
    assert!(fired(&s, RuleId::AccessedAfterDeletion).is_none());
}

#[test]
fn awsprevious_read_days_after_the_rotation() {
    let mut s = healthy(); // rotated 10 days ago
    let prev = || Asked::Stage("AWSPREVIOUS".into());
    assert!(not_evaluated(&s, &cfg()).contains(&RuleId::ReadPreviousAfterRotation));
    // Read AWSPREVIOUS the day of the rotation (within the 2 days): quiet.
    s.reads = Some(readers(&[
        read(at(-10 * DAY + HOUR), APP, prev(), None),
        read(at(-DAY), APP, Asked::Default, None),
    ]));
    assert!(fired(&s, RuleId::ReadPreviousAfterRotation).is_none());
    // Still reading it 9 days after: fires, naming the reader.
    s.reads = Some(readers(&[
        read(at(-10 * DAY + HOUR), APP, prev(), None),
        read(at(-DAY), APP, prev(), None),
    ]));
    let f = fired(&s, RuleId::ReadPreviousAfterRotation).unwrap();
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.since, Some(at(-8 * DAY)));
    assert!(f.detail.contains("payments-api"), "{}", f.detail);
    // A failed AWSPREVIOUS read is not a working dependency on it.
    s.reads = Some(readers(&[read(
        at(-DAY),
        APP,
        prev(),
        Some(ReadError::AccessDenied),
    )]));
    assert!(fired(&s, RuleId::ReadPreviousAfterRotation).is_none());
    // The window is configurable.
    s.reads = Some(readers(&[read(at(-DAY), APP, prev(), None)]));
    let mut c = cfg();
    c.previous_read_days = 10;
    assert!(evaluate(&s, None, &c, NOW)
        .iter()
        .all(|f| f.rule != RuleId::ReadPreviousAfterRotation));
}

#[test]
fn new_reader_only_on_high_value_secrets_with_history_before() {
    let mut s = healthy();
    let events = [
        read(at(-60 * DAY), APP, Asked::Default, None),
        read(at(-DAY), APP, Asked::Default, None),
        read(at(-2 * DAY), NEWCOMER, Asked::Default, None),
    ];
    s.reads = Some(readers(&events));
    assert!(fired(&s, RuleId::NewReader).is_none(), "not high value");
    s.high_value = true;
    let f = fired(&s, RuleId::NewReader).unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.since, Some(at(-2 * DAY)));
    assert!(f.detail.contains("etl (999988887777)"), "{}", f.detail);
    assert!(!f.detail.contains("payments-api"), "{}", f.detail);
    // The window was cut short 10 days ago: the 7 days before the last 7
    // were not all read, so nobody can be called new.
    s.reads = Some(Arc::new(Readers::from_events(
        &events,
        at(-90 * DAY),
        NOW,
        Some(at(-10 * DAY)),
    )));
    assert!(fired(&s, RuleId::NewReader).is_none());
    // A principal refused before and reading now is not new.
    s.reads = Some(readers(&[
        read(
            at(-30 * DAY),
            NEWCOMER,
            Asked::Default,
            Some(ReadError::AccessDenied),
        ),
        read(at(-2 * DAY), NEWCOMER, Asked::Default, None),
    ]));
    assert!(fired(&s, RuleId::NewReader).is_none());
    s.reads = None;
    assert!(not_evaluated(&s, &cfg()).contains(&RuleId::NewReader));
}

#[test]
fn unused_counts_cloudtrail_reads_as_use() {
    let mut s = healthy();
    s.last_accessed = Some(at(-200 * DAY));
    assert!(fired(&s, RuleId::Unused).is_some());
    s.reads = Some(readers(&[read(at(-3 * DAY), APP, Asked::Default, None)]));
    assert!(fired(&s, RuleId::Unused).is_none(), "read 3 days ago");
    s.reads = Some(readers(&[read(
        at(-3 * DAY),
        APP,
        Asked::Default,
        Some(ReadError::AccessDenied),
    )]));
    assert!(
        fired(&s, RuleId::Unused).is_some(),
        "a refused read is no use"
    );
}
