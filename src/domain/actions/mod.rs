//! The actions on a secret (rotate now, retry a failed rotation, cancel a
//! rotation, clear a leftover AWSPENDING, turn rotation back on, roll back
//! AWSCURRENT, restore from scheduled deletion): when each is possible, what
//! exactly it changes (for the confirmation dialog and the audit record),
//! and whether the secret still is what the person saw when they chose it.
//!
//! They follow Secrets Manager's rules for rotation. RotateSecret (API
//! reference): "If the AWSPENDING staging label is present but not attached
//! to the same version as AWSCURRENT, then any later invocation of
//! RotateSecret assumes that a previous rotation request is still in
//! progress and returns an error." CancelRotateSecret turns rotation off and
//! leaves AWSPENDING where it was ("Failing to clean up a cancelled rotation
//! can block you from starting future rotations"). So a failed or cancelled
//! rotation is recovered by removing AWSPENDING from its version
//! (UpdateSecretVersionStage with RemoveFromVersionId): Retry rotation does
//! that and starts RotateSecret again; Clear pending version does only that.
//!
//! Pure rules over [`Secret`]; the AWS calls live in `server::actions`.

mod plan;
mod progress;
#[cfg(test)]
mod tests;

pub use plan::{confirmed, plan, Plan};
pub use progress::{RotationProgress, RotationStage};

use super::glob::glob;
use super::{Label, Secret, Timestamp, VersionId};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionKind {
    Rotate,
    /// Remove AWSPENDING from a failed or stuck rotation's version, then
    /// RotateSecret again.
    RetryRotation,
    CancelRotation,
    /// Remove AWSPENDING from a failed or cancelled rotation's version.
    ClearPending,
    /// RotateSecret with the Lambda and schedule the secret had.
    EnableRotation,
    Rollback,
    Restore,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Rotate,
        ActionKind::RetryRotation,
        ActionKind::CancelRotation,
        ActionKind::ClearPending,
        ActionKind::EnableRotation,
        ActionKind::Rollback,
        ActionKind::Restore,
    ];

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::Rotate => "Rotate now",
            ActionKind::RetryRotation => "Retry rotation",
            ActionKind::CancelRotation => "Cancel rotation",
            ActionKind::ClearPending => "Clear pending version",
            ActionKind::EnableRotation => "Turn rotation back on",
            ActionKind::Rollback => "Roll back",
            ActionKind::Restore => "Restore",
        }
    }

    /// True for the actions that start a rotation (followed afterwards).
    pub fn starts_rotation(self) -> bool {
        matches!(self, ActionKind::Rotate | ActionKind::RetryRotation)
    }

    /// The command-line and URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Rotate => "rotate",
            ActionKind::RetryRotation => "retry-rotation",
            ActionKind::CancelRotation => "cancel-rotation",
            ActionKind::ClearPending => "clear-pending",
            ActionKind::EnableRotation => "enable-rotation",
            ActionKind::Rollback => "rollback",
            ActionKind::Restore => "restore",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the person saw of a secret when they chose an action: the labels
/// of every labelled version and the two switches an action depends on.
/// Sent back with the action and compared with the secret as Secrets
/// Manager describes it just before the call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seen {
    /// `(version id, its labels sorted)`, sorted by version id; versions
    /// without labels are left out.
    pub labels: Vec<(String, Vec<String>)>,
    pub rotation_enabled: bool,
    pub deleted: bool,
}

impl Seen {
    pub fn of(s: &Secret) -> Seen {
        let mut labels: Vec<(String, Vec<String>)> = s
            .versions
            .iter()
            .filter(|v| !v.labels.is_empty())
            .map(|v| {
                let mut l: Vec<String> = v.labels.iter().map(|l| l.as_str().to_string()).collect();
                l.sort();
                (v.id.to_string(), l)
            })
            .collect();
        labels.sort();
        Seen {
            labels,
            rotation_enabled: s.rotation_enabled,
            deleted: s.deleted.is_some(),
        }
    }

    /// The version holding `label`, if any.
    pub fn holder(&self, label: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(_, ls)| ls.iter().any(|l| l == label))
            .map(|(v, _)| v.as_str())
    }

    /// Sentences naming what differs between `self` (what was seen) and
    /// `now`; empty when nothing the actions depend on has changed.
    pub fn changes(&self, now: &Seen) -> Vec<String> {
        let mut out = Vec::new();
        if self.deleted != now.deleted {
            out.push(if now.deleted {
                "it has been scheduled for deletion".to_string()
            } else {
                "it is no longer scheduled for deletion".to_string()
            });
        }
        if self.rotation_enabled != now.rotation_enabled {
            out.push(format!(
                "automatic rotation was turned {}",
                if now.rotation_enabled { "on" } else { "off" }
            ));
        }
        let mut labels: Vec<&str> = self
            .labels
            .iter()
            .chain(&now.labels)
            .flat_map(|(_, ls)| ls.iter().map(String::as_str))
            .collect();
        labels.sort();
        labels.dedup();
        for l in labels {
            let (was, is) = (self.holder(l), now.holder(l));
            if was != is {
                out.push(match (was, is) {
                    (Some(a), Some(b)) => format!("{l} moved from version {a} to {b}"),
                    (None, Some(b)) => format!("{l} was added to version {b}"),
                    (Some(a), None) => format!("{l} was removed from version {a}"),
                    (None, None) => continue,
                });
            }
        }
        out
    }

    /// `version: LABEL, LABEL; …` for the audit record.
    pub fn describe(&self) -> String {
        if self.labels.is_empty() {
            return "no labelled versions".to_string();
        }
        self.labels
            .iter()
            .map(|(v, ls)| format!("{v}: {}", ls.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// An action as the person asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub kind: ActionKind,
    /// Roll back to this version instead of the one holding AWSPREVIOUS.
    pub to_version: Option<String>,
    pub seen: Seen,
    /// What was typed into the confirmation box (production paths).
    pub typed_name: String,
    /// Idempotency token: a double click sends the same one twice.
    pub token: String,
    /// Turn rotation back on: rotate at once (RotateImmediately) rather
    /// than only test the configuration and wait for the schedule.
    #[serde(default)]
    pub immediately: bool,
}

/// True when `name` matches one of the production `patterns` (globs such
/// as `prod/*`, any case): the dialog then asks for the name to be typed.
pub fn is_production(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| glob(name, &p.to_lowercase()))
}

/// Why `kind` cannot be done to `s` (a sentence saying what to do
/// instead), or `None` when it can. `to_version` is a rollback's target.
pub fn unavailable(kind: ActionKind, s: &Secret, to_version: Option<&str>) -> Option<String> {
    let name = &s.name;
    if let Some(primary) = s.primary_region.as_deref().filter(|p| **p != *s.region) {
        return Some(format!(
            "{name} in {} is a replica of the secret in {primary}: act on the primary \
             (its replicas follow it); Secrets Manager refuses these actions on a replica.",
            s.region
        ));
    }
    if s.deleted.is_some() && kind != ActionKind::Restore {
        return Some(format!(
            "{name} is scheduled for deletion: restore it first, then try again."
        ));
    }
    let not_configured = || {
        format!(
            "Rotation is not configured for {name}: give it a rotation Lambda and a schedule \
             (console: Rotation → Edit rotation; or `aws secretsmanager rotate-secret \
             --secret-id {name} --rotation-lambda-arn ARN --rotation-rules \
             AutomaticallyAfterDays=30`), then rotate it here."
        )
    };
    let nothing_pending = |what: &str| {
        format!(
            "No version of {name} holds AWSPENDING apart from AWSCURRENT's, so there is nothing to {what}."
        )
    };
    match kind {
        ActionKind::Restore => s.deleted.is_none().then(|| {
            format!("{name} is not scheduled for deletion, so there is nothing to restore.")
        }),
        ActionKind::Rotate => {
            if s.rotation_lambda_arn.is_none() {
                return Some(not_configured());
            }
            // Secrets Manager refuses RotateSecret while AWSPENDING is on
            // another version than AWSCURRENT's (running, failed or
            // cancelled alike): the way forward is to clear it.
            s.pending_version().map(|p| previous_not_complete(s, &p.id.to_string()))
        }
        ActionKind::RetryRotation => {
            if s.rotation_lambda_arn.is_none() {
                return Some(not_configured());
            }
            s.pending_version()
                .is_none()
                .then(|| nothing_pending("retry: use Rotate now"))
        }
        ActionKind::ClearPending => s.pending_version().is_none().then(|| nothing_pending("clear")),
        ActionKind::EnableRotation => {
            if s.rotation_enabled {
                return Some(format!("Automatic rotation of {name} is already on."));
            }
            if s.rotation_lambda_arn.is_none() {
                return Some(not_configured());
            }
            s.pending_version().map(|p| {
                format!(
                    "Version {} of {name} still holds AWSPENDING, and Secrets Manager refuses to start \
                     rotation while it does: clear the pending version first (Clear pending version), \
                     then turn rotation back on.",
                    p.id
                )
            })
        }
        ActionKind::CancelRotation => (!s.rotation_enabled && s.pending_version().is_none())
            .then(|| {
                format!(
                    "{name} has no rotation to cancel: automatic rotation is off and no version holds AWSPENDING."
                )
            }),
        ActionKind::Rollback => rollback_pair(s, to_version).err(),
    }
}

/// The sentence for "a previous rotation isn't complete": which version
/// holds AWSPENDING, why Secrets Manager refuses, and the way through.
pub fn previous_not_complete(s: &Secret, version: &str) -> String {
    let failed = s
        .seen_failure()
        .map(|f| format!(" ({})", f.headline_in_sentence()))
        .unwrap_or_default();
    format!(
        "A previous rotation of {} isn't complete: version {version} holds AWSPENDING{failed}, and \
         Secrets Manager refuses to start another rotation while it does. Use Retry rotation: it \
         removes AWSPENDING from that version and starts a new rotation.",
        s.name
    )
}

/// The versions a rollback moves AWSCURRENT from and to.
pub fn rollback_pair<'a>(
    s: &'a Secret,
    to_version: Option<&str>,
) -> Result<(&'a VersionId, &'a VersionId), String> {
    let name = &s.name;
    let Some(current) = s.version_with(&Label::Current) else {
        return Err(format!(
            "No version of {name} holds AWSCURRENT, so there is nothing to roll back from."
        ));
    };
    let target = match to_version {
        Some(v) => s
            .versions
            .iter()
            .find(|x| x.id.to_string() == v)
            .ok_or_else(|| format!("{name} has no version {v}."))?,
        None => s.version_with(&Label::Previous).ok_or_else(|| {
            format!(
                "No version of {name} holds AWSPREVIOUS, so there is no earlier value to roll back to; \
                 pick a version from the list instead."
            )
        })?,
    };
    if target.labels.contains(&Label::Pending) {
        return Err(format!(
            "Version {} holds AWSPENDING: it is an unfinished rotation's value, not an earlier one. \
             Pick an earlier version, or retry the rotation.",
            target.id
        ));
    }
    if target.id == current.id {
        return Err(format!(
            "Version {} already holds AWSCURRENT: pick another version to roll back to.",
            target.id
        ));
    }
    Ok((&current.id, &target.id))
}

/// The versions AWSCURRENT could be moved back to: every listed version but
/// the one holding it and one holding AWSPENDING (a rotation's unfinished
/// value: promoting it is not a rollback), AWSPREVIOUS's first, then newest
/// first.
pub fn rollback_choices(s: &Secret) -> Vec<&super::Version> {
    let mut out: Vec<_> = s
        .versions
        .iter()
        .filter(|v| !v.labels.contains(&Label::Current) && !v.labels.contains(&Label::Pending))
        .collect();
    out.sort_by_key(|v| {
        (
            !v.labels.contains(&Label::Previous),
            std::cmp::Reverse(v.created),
        )
    });
    out
}

/// The version a rollback targets when none is picked: AWSPREVIOUS's, else
/// the first of [`rollback_choices`] (the dialog shows which, and lets the
/// person pick another).
pub fn rollback_default(s: &Secret) -> Option<String> {
    rollback_choices(s).first().map(|v| v.id.to_string())
}
