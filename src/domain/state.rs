//! A plain one-word state per secret for the inventory list.
//!
//! This is deliberately coarse: the full health rules (severity, thresholds,
//! suppressions) live in `health.rs` once they exist. The list needs one word
//! a person can scan, decided in a fixed order of importance.

use super::{Secret, Timestamp};
use serde::{Deserialize, Serialize};

/// How long an AWSPENDING version may exist before the list calls the
/// rotation stuck rather than in progress.
pub const PENDING_GRACE_SECS: i64 = 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum State {
    ScheduledForDeletion,
    RotationStuck,
    Rotating,
    Overdue,
    RotationOff,
    Ok,
}

impl State {
    pub fn of(secret: &Secret, now: Timestamp) -> State {
        if secret.deleted.is_some() {
            return State::ScheduledForDeletion;
        }
        if let Some(pending) = secret.pending_version() {
            // Without a creation date (versions not fetched yet) the last
            // change is the best lower bound on when the rotation started.
            let started = pending.created.or(secret.last_changed);
            if secret.seen_failure().is_some() {
                return State::RotationStuck;
            }
            return match started {
                Some(t) if now.secs() - t.secs() > PENDING_GRACE_SECS => State::RotationStuck,
                _ => State::Rotating,
            };
        }
        if !secret.rotation_enabled {
            return State::RotationOff;
        }
        match secret.next_rotation {
            Some(next) if next < now => State::Overdue,
            _ => State::Ok,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            State::ScheduledForDeletion => "deleting",
            State::RotationStuck => "stuck",
            State::Rotating => "rotating",
            State::Overdue => "overdue",
            State::RotationOff => "no rotation",
            State::Ok => "ok",
        }
    }

    /// A sentence for the `title` and for screen readers.
    pub fn explain(self) -> &'static str {
        match self {
            State::ScheduledForDeletion => "Scheduled for deletion; restorable until the recovery window ends.",
            State::RotationStuck => "The last rotation failed, or AWSPENDING has sat on a version that is not AWSCURRENT for over an hour: it did not finish.",
            State::Rotating => "A rotation is in progress (AWSPENDING was set recently).",
            State::Overdue => "Rotation is enabled but the next rotation date has passed.",
            State::RotationOff => "Automatic rotation is not enabled.",
            State::Ok => "Rotation is enabled and on schedule.",
        }
    }

    /// CSS class suffix; colour is never the only carrier of meaning.
    pub fn class(self) -> &'static str {
        match self {
            State::ScheduledForDeletion => "state-deleting",
            State::RotationStuck => "state-bad",
            State::Overdue => "state-warn",
            State::Rotating => "state-info",
            State::RotationOff => "state-muted",
            State::Ok => "state-ok",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::secret::VersionId;
    use crate::domain::{Label, Version};

    const NOW: Timestamp = Timestamp::new(1_795_000_000);

    #[test]
    fn order_of_importance() {
        let mut s = secret("a");
        assert_eq!(State::of(&s, NOW), State::RotationOff);
        s.rotation_enabled = true;
        assert_eq!(State::of(&s, NOW), State::Ok);
        s.next_rotation = Some(Timestamp::new(NOW.secs() - 1));
        assert_eq!(State::of(&s, NOW), State::Overdue);
        s.next_rotation = Some(NOW);
        assert_eq!(
            State::of(&s, NOW),
            State::Ok,
            "due exactly now is not overdue yet"
        );
        s.versions.push(Version {
            id: VersionId::parse("v2"),
            labels: [Label::Pending].into_iter().collect(),
            created: Some(Timestamp::new(NOW.secs() - PENDING_GRACE_SECS)),
            last_accessed: None,
        });
        assert_eq!(
            State::of(&s, NOW),
            State::Rotating,
            "exactly at the grace period"
        );
        s.versions[1].created = Some(Timestamp::new(NOW.secs() - PENDING_GRACE_SECS - 1));
        assert_eq!(State::of(&s, NOW), State::RotationStuck);
        s.deleted = Some(NOW);
        assert_eq!(State::of(&s, NOW), State::ScheduledForDeletion);
    }

    #[test]
    fn pending_without_dates_uses_last_changed() {
        let mut s = secret("a");
        s.versions.push(Version {
            id: VersionId::parse("v2"),
            labels: [Label::Pending].into_iter().collect(),
            created: None,
            last_accessed: None,
        });
        assert_eq!(State::of(&s, NOW), State::Rotating);
        s.last_changed = Some(Timestamp::new(NOW.secs() - 2 * 86_400));
        assert_eq!(State::of(&s, NOW), State::RotationStuck);
    }
}
