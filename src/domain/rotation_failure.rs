//! Why a rotation failed, as data: which of the rotation Lambda's four
//! steps failed, how many attempts have failed since the last success, and
//! what to look at for that step.
//!
//! Secrets Manager invokes a rotation Lambda once per step (createSecret,
//! setSecret, testSecret, finishSecret). CloudTrail's RotationFailed event
//! carries the function's error text, and the rotation templates (and our
//! demo endpoint) name the failing step in it; that is where the step comes
//! from. A failure is *seen* when CloudTrail (or secretscope following a
//! rotation it started) recorded one for the version now holding
//! AWSPENDING: such a rotation has failed, however young it is, so the
//! grace period for running rotations does not hide it.

use super::rotation_history::{RotationEvent, RotationEventKind};
use super::{Secret, Timestamp};
use serde::{Deserialize, Serialize};

/// The step of a rotation Lambda.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RotationStep {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

impl RotationStep {
    pub const ALL: [RotationStep; 4] = [
        RotationStep::CreateSecret,
        RotationStep::SetSecret,
        RotationStep::TestSecret,
        RotationStep::FinishSecret,
    ];

    /// The step's name as the Lambda is invoked with it: `setSecret`.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStep::CreateSecret => "createSecret",
            RotationStep::SetSecret => "setSecret",
            RotationStep::TestSecret => "testSecret",
            RotationStep::FinishSecret => "finishSecret",
        }
    }

    /// A step by its name, in any case (`setsecret`, `SetSecret`, `set`).
    pub fn parse(word: &str) -> Option<RotationStep> {
        let w = word.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|s| {
            let name = s.as_str().to_ascii_lowercase();
            w == name || name.strip_suffix("secret") == Some(w.as_str())
        })
    }

    /// The step a failure message names (the first step name in it, any
    /// case), if any.
    pub fn in_message(message: &str) -> Option<RotationStep> {
        let lower = message.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .filter_map(|s| {
                lower
                    .find(&s.as_str().to_ascii_lowercase())
                    .map(|at| (at, s))
            })
            .min()
            .map(|(_, s)| s)
    }

    /// What the step does, in one clause.
    pub fn does(self) -> &'static str {
        match self {
            RotationStep::CreateSecret => {
                "creates the new value and stores it as the AWSPENDING version"
            }
            RotationStep::SetSecret => {
                "changes the credentials in the database or service to the AWSPENDING value"
            }
            RotationStep::TestSecret => "signs in with the AWSPENDING value to prove it works",
            RotationStep::FinishSecret => "moves AWSCURRENT to the new version",
        }
    }

    /// Who usually has to act, and what to look at first.
    pub fn guidance(self) -> &'static str {
        match self {
            RotationStep::CreateSecret => {
                "The Lambda could not reach Secrets Manager or could not make a value. Usually its \
                 owners (platform team): check that its VPC has a route to Secrets Manager (a VPC \
                 endpoint or NAT gateway) and that its role may call secretsmanager:PutSecretValue \
                 and GetRandomPassword on this secret, and the KMS key's GenerateDataKey."
            }
            RotationStep::SetSecret => {
                "The database or service refused the change or could not be reached. Usually the \
                 database's owners: check the Lambda's network path to the database (security \
                 groups, subnets), that the user it signs in with may change the password, and \
                 that the database is up."
            }
            RotationStep::TestSecret => {
                "The new credentials do not work. Usually the database's owners: check that \
                 setSecret really changed the password (the database's log), password rules, and \
                 the user's host or network restrictions; the old value is still AWSCURRENT, so \
                 applications keep working."
            }
            RotationStep::FinishSecret => {
                "Moving the labels was refused. Usually the Lambda's owners: check that its role \
                 may call secretsmanager:UpdateSecretVersionStage and DescribeSecret on this \
                 secret, and that nobody moved AWSCURRENT by hand during the rotation."
            }
        }
    }
}

impl std::fmt::Display for RotationStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure seen for the rotation now pending on a secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RotationFailure {
    /// When the newest failure was recorded.
    pub at: Timestamp,
    /// The failing step, when the message names one.
    pub step: Option<RotationStep>,
    /// Failed attempts since the last successful rotation, this one
    /// included (at least 1): 2 and above means retries failed too.
    pub attempt: u32,
    /// The Lambda's error text as CloudTrail recorded it.
    pub message: Option<String>,
}

impl RotationFailure {
    /// A RotationFailed event as data: its time, its message and the step
    /// the message names, as attempt `attempt`.
    pub fn from_event(e: &RotationEvent, attempt: u32) -> RotationFailure {
        RotationFailure {
            at: e.at,
            step: e.message.as_deref().and_then(RotationStep::in_message),
            attempt,
            message: e.message.clone(),
        }
    }

    /// The headline inside a sentence: "retry failed at setSecret, attempt 2".
    pub fn headline_in_sentence(&self) -> String {
        let h = self.headline();
        let mut c = h.chars();
        match c.next() {
            Some(first) => first.to_lowercase().chain(c).collect(),
            None => h,
        }
    }

    /// "Rotation failed at setSecret" / "Retry failed at setSecret, attempt 3".
    pub fn headline(&self) -> String {
        let what = if self.attempt > 1 {
            "Retry failed"
        } else {
            "Rotation failed"
        };
        let step = self.step.map(|s| format!(" at {s}")).unwrap_or_default();
        if self.attempt > 1 {
            format!("{what}{step}, attempt {}", self.attempt)
        } else {
            format!("{what}{step}")
        }
    }

    /// True when this failure is about the rotation now pending on `s`:
    /// a version other than AWSCURRENT's holds AWSPENDING, and the failure
    /// came at or after that version was created (or, without version
    /// dates, after the secret's last change before it).
    pub fn applies_to(&self, s: &Secret) -> bool {
        let Some(pending) = s.pending_version() else {
            return false;
        };
        match pending.created {
            Some(created) => self.at >= created,
            None => s.last_changed.is_none_or(|c| self.at >= c),
        }
    }
}

/// The failure CloudTrail records for `secret`'s pending rotation: the
/// newest RotationFailed of it since its AWSPENDING version was created
/// (not followed by a success), with its step and the number of failures
/// since the last successful rotation. `events` may hold other secrets'.
pub fn failure_of(secret: &Secret, events: &[RotationEvent]) -> Option<RotationFailure> {
    let failed = super::rotation_history::current_failure(secret, events)?;
    let last_success = events
        .iter()
        .filter(|e| e.secret_arn == *secret.arn && e.is(RotationEventKind::Succeeded))
        .map(|e| e.at)
        .max()
        .into_iter()
        .chain(secret.last_rotated)
        .max();
    Some(RotationFailure::from_event(
        failed,
        failed_attempts(events, &secret.arn, last_success),
    ))
}

/// How many RotationFailed events of `arn` in `events` came after
/// `last_success` (all of them without one); at least 1, for the failure
/// being counted.
pub fn failed_attempts(
    events: &[RotationEvent],
    arn: &str,
    last_success: Option<Timestamp>,
) -> u32 {
    let n = events
        .iter()
        .filter(|e| e.secret_arn == arn && e.is(RotationEventKind::Failed))
        .filter(|e| last_success.is_none_or(|t| e.at > t))
        .count()
        .max(1);
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Label, Version, VersionId};

    const T: i64 = 1_795_000_000;

    fn ev(id: &str, at: i64, kind: RotationEventKind, arn: &str, msg: &str) -> RotationEvent {
        RotationEvent {
            event_id: id.to_string(),
            at: Timestamp::new(at),
            kind,
            secret_arn: arn.to_string(),
            secret_name: None,
            version_id: None,
            message: Some(msg.to_string()).filter(|m| !m.is_empty()),
            actor: None,
        }
    }

    fn pending(created: i64) -> Secret {
        let mut s = secret("prod/db");
        s.last_rotated = Some(Timestamp::new(T - 86_400));
        s.versions.push(Version {
            id: VersionId::parse("v2"),
            labels: [Label::Pending].into_iter().collect(),
            created: Some(Timestamp::new(created)),
            last_accessed: None,
        });
        s
    }

    #[test]
    fn steps_are_read_from_names_and_messages() {
        for s in RotationStep::ALL {
            assert_eq!(RotationStep::parse(s.as_str()), Some(s));
            assert_eq!(RotationStep::parse(&s.as_str().to_uppercase()), Some(s));
            assert!(!s.guidance().is_empty() && !s.does().is_empty());
        }
        assert_eq!(RotationStep::parse("set"), Some(RotationStep::SetSecret));
        assert_eq!(RotationStep::parse("nope"), None);
        assert_eq!(
            RotationStep::in_message(
                "SecretsManagerRotation-x failed at testSecret: Unable to log into database"
            ),
            Some(RotationStep::TestSecret)
        );
        // The first named step wins (a message may mention a later one).
        assert_eq!(
            RotationStep::in_message("createSecret: could not reach the endpoint for setSecret"),
            Some(RotationStep::CreateSecret)
        );
        assert_eq!(RotationStep::in_message("Task timed out"), None);
    }

    #[test]
    fn a_failure_counts_attempts_since_the_last_success_and_names_its_step() {
        let s = pending(T);
        let arn = s.arn.to_string();
        let events = vec![
            ev(
                "a",
                T - 3 * 86_400,
                RotationEventKind::Failed,
                &arn,
                "old failed at setSecret: x",
            ),
            ev("b", T - 2 * 86_400, RotationEventKind::Succeeded, &arn, ""),
            ev(
                "c",
                T - 600,
                RotationEventKind::Failed,
                &arn,
                "f failed at createSecret: y",
            ),
            ev(
                "d",
                T + 60,
                RotationEventKind::Failed,
                &arn,
                "f failed at finishSecret: z",
            ),
            ev(
                "e",
                T + 90,
                RotationEventKind::Failed,
                "arn:other",
                "failed at testSecret",
            ),
        ];
        let f = failure_of(&s, &events).expect("a failure since the pending version");
        assert_eq!(f.at, Timestamp::new(T + 60));
        assert_eq!(f.step, Some(RotationStep::FinishSecret));
        // c and d: after the last success (b and last_rotated), this secret's.
        assert_eq!(f.attempt, 2);
        assert_eq!(f.headline(), "Retry failed at finishSecret, attempt 2");
        assert_eq!(
            f.headline_in_sentence(),
            "retry failed at finishSecret, attempt 2"
        );
        assert!(f.applies_to(&s));
        // A failure before the pending version was created explains nothing.
        assert!(failure_of(&s, &events[..3]).is_none());
        // Once AWSPENDING is gone, the failure no longer applies.
        let mut cleared = s.clone();
        cleared
            .versions
            .retain(|v| !v.labels.contains(&Label::Pending));
        assert!(!f.applies_to(&cleared));
        let first = RotationFailure {
            attempt: 1,
            step: None,
            ..f
        };
        assert_eq!(first.headline(), "Rotation failed");
    }
}
