//! The query language's tests, by topic.

use super::*;
use crate::domain::diagnosis::CauseId;
use crate::domain::health::{RuleId, Severity, Summary};
use crate::domain::rotation_failure::RotationStep;
use crate::domain::secret::fixtures::secret;
use crate::domain::Secret;
use crate::domain::{Tag, Timestamp};
use proptest::prelude::*;
use std::sync::Arc;

mod causes;
mod edit;
mod facts;
mod index;
mod matching;
mod owner;
mod parse;
mod print;
mod properties;
mod readers;
mod steps;

fn q(input: &str) -> Query {
    Query::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn m(input: &str, s: &Secret) -> bool {
    q(input).matches(s)
}

fn err(input: &str) -> ParseError {
    match Query::parse(input) {
        Ok(parsed) => panic!("{input:?} should not parse, got {parsed:?}"),
        Err(e) => e,
    }
}

/// Asserts an error's position, message and expected list together.
fn assert_err(input: &str, position: usize, message: &str, expected: &[&str]) {
    let e = err(input);
    assert_eq!(
        (e.position, e.message.as_str(), e.expected.clone()),
        (
            position,
            message,
            expected.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        ),
        "for {input:?}"
    );
}

fn tagged(name: &str, tags: &[(&str, &str)]) -> Secret {
    crate::domain::secret::fixtures::tagged(name, tags)
}

/// When the failures of [`failing`] are recorded.
const FAILED_AT: i64 = 1_800_000_000;

/// `s` with an AWSPENDING version (created ten minutes before
/// [`FAILED_AT`]) and a failure at `step`; `for_pending`: the failure
/// is about that version (recorded at `FAILED_AT`), else it is older
/// than the version, so it does not apply to the rotation pending now.
fn failing(mut s: Secret, step: Option<RotationStep>, for_pending: bool) -> Secret {
    s.versions.push(crate::domain::Version {
        id: crate::domain::VersionId::parse("v2"),
        labels: [crate::domain::Label::Pending].into_iter().collect(),
        created: Some(Timestamp::new(FAILED_AT - 600)),
        last_accessed: None,
    });
    let at = if for_pending {
        FAILED_AT
    } else {
        FAILED_AT - 1_200
    };
    s.failure = Some(Arc::new(crate::domain::rotation_failure::RotationFailure {
        at: Timestamp::new(at),
        step,
        attempt: 1,
        message: step.map(|st| format!("failed at {st}: boom")),
    }));
    s
}

/// `s` as the last diagnosis of its rotation left it: `causes` found
/// (`Some(&[])`: diagnosed, nothing wrong).
fn diagnosed(mut s: Secret, causes: Option<&[CauseId]>) -> Secret {
    s.causes = causes.map(Arc::from);
    s
}

/// `s` with its readers: `None` not looked up, else each (identity, read
/// ok) once. An identity is a role session's, role's or user's ARN (a
/// session counts as its role), or a service's name.
fn read_by(mut s: Secret, readers: Option<&[(&str, bool)]>) -> Secret {
    use crate::domain::reads::{Asked, Principal, ReadError, ReadEvent, Readers};
    s.reads = readers.map(|readers| {
        let events: Vec<ReadEvent> = readers
            .iter()
            .enumerate()
            .map(|(i, &(who, ok))| ReadEvent {
                event_id: format!("e{i}").into(),
                at: Timestamp::new(FAILED_AT + i as i64),
                principal: if who.starts_with("arn:") {
                    Principal::from_identity(None, Some(who), None, None, None)
                } else {
                    Principal::from_identity(None, None, None, None, Some(who))
                }
                .unwrap(),
                asked: Asked::Default,
                error: (!ok).then_some(ReadError::AccessDenied),
            })
            .collect();
        let (since, until) = (Timestamp::new(0), Timestamp::new(FAILED_AT + 1_000));
        Arc::new(Readers::from_events(&events, since, until, None))
    });
    s
}

fn payments() -> Secret {
    let mut s = tagged(
        "prod/payments/db",
        &[("owner", "Alice Smith"), ("env", "prod"), ("note", "")],
    );
    s.description = Some("Primary Postgres database".into());
    s
}
