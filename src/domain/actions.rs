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

/// What the confirmation dialog says an action will do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub kind: ActionKind,
    pub secret: String,
    /// One sentence per effect, in order.
    pub effects: Vec<String>,
    /// What applications reading the secret get afterwards.
    pub afterwards: String,
    /// The name must be typed to confirm.
    pub type_name: bool,
    /// A rollback's target version (sent back with the action).
    #[serde(default)]
    pub to_version: Option<String>,
    /// A rollback's possible targets: (version id, what it is).
    #[serde(default)]
    pub choices: Vec<(String, String)>,
}

/// The plan for `kind` on `s`, or why it cannot be done.
pub fn plan(
    kind: ActionKind,
    s: &Secret,
    to_version: Option<&str>,
    production: &[String],
    now: Timestamp,
) -> Result<Plan, String> {
    if let Some(why) = unavailable(kind, s, to_version) {
        return Err(why);
    }
    let name = s.name.to_string();
    let version_text = |id: &VersionId| {
        let created = s
            .versions
            .iter()
            .find(|v| &v.id == id)
            .and_then(|v| v.created)
            .map_or("creation date unknown".to_string(), |t| {
                format!("created {}", t.display())
            });
        format!("version {id} ({created})")
    };
    let mut target = None;
    let (effects, afterwards) = match kind {
        ActionKind::Rotate => {
            let lambda = s
                .rotation_lambda_arn
                .as_deref()
                .map(super::secret::function_name)
                .unwrap_or_default();
            (rotation_effects(&name, lambda), rotation_afterwards())
        }
        ActionKind::RetryRotation => {
            let lambda = s
                .rotation_lambda_arn
                .as_deref()
                .map(super::secret::function_name)
                .unwrap_or_default();
            let p = s.pending_version().ok_or_else(|| {
                unavailable(kind, s, None).unwrap_or_else(|| "Nothing to retry.".to_string())
            })?;
            let mut effects = clear_effects(s, p, &version_text(&p.id), now);
            effects.extend(rotation_effects(&name, lambda));
            (effects, rotation_afterwards())
        }
        ActionKind::ClearPending => {
            let p = s.pending_version().ok_or_else(|| {
                unavailable(kind, s, None).unwrap_or_else(|| "Nothing to clear.".to_string())
            })?;
            let mut effects = clear_effects(s, p, &version_text(&p.id), now);
            effects.push(format!(
                "Nothing else changes: AWSCURRENT stays where it is, and automatic rotation stays {}.",
                if s.rotation_enabled { "on" } else { "off" }
            ));
            (
                effects,
                "Applications keep reading the current value. Rotation can start again afterwards: \
                 Rotate now, or Turn rotation back on."
                    .to_string(),
            )
        }
        ActionKind::EnableRotation => {
            let lambda = s.rotation_lambda_arn.as_deref().unwrap_or_default();
            (
                vec![
                    format!(
                        "Automatic rotation of {name} is turned on again with the Lambda {lambda} and {}.",
                        schedule_text(s.rotation_rules.as_deref())
                    ),
                    "With \"Rotate at once\" ticked, Secrets Manager starts a rotation now (RotateImmediately): \
                     a new AWSPENDING version, and the Lambda's four steps. Otherwise it runs only the \
                     Lambda's testSecret step now, to check the configuration, and the next rotation \
                     comes in the next scheduled window."
                        .to_string(),
                ],
                "Applications keep reading the current value until a rotation finishes.".to_string(),
            )
        }
        ActionKind::CancelRotation => (
            vec![
                format!("Automatic rotation of {name} is turned off."),
                match s.pending_version() {
                    Some(p) => format!(
                        "The rotation in progress is cancelled, but AWSPENDING stays on version {}: \
                         Secrets Manager does not remove it, and no rotation can start while it is there. \
                         Afterwards, Clear pending version removes it and Turn rotation back on restores the schedule.",
                        p.id
                    ),
                    None => "No rotation is in progress, so nothing else changes.".to_string(),
                },
            ],
            "Applications keep reading the current value. Turn rotation back on (and fix what made it fail) \
             once you know why it got stuck."
                .to_string(),
        ),
        ActionKind::Rollback => {
            let (from, to) = rollback_pair(s, to_version)?;
            target = Some(to.to_string());
            (
                vec![
                    format!("AWSCURRENT moves from {} to {}.", version_text(from), version_text(to)),
                    format!("Secrets Manager then puts AWSPREVIOUS on {}.", version_text(from)),
                ],
                format!(
                    "Applications that read AWSCURRENT (the default) get the value of version {to} \
                     from their next read; cached values last until their cache expires."
                ),
            )
        }
        ActionKind::Restore => {
            let when = s
                .deleted
                .map(|d| {
                    if d > now {
                        format!("; it would be deleted for good on {}", d.display())
                    } else {
                        format!(" (deletion requested {})", d.display())
                    }
                })
                .unwrap_or_default();
            (
                vec![format!(
                    "The scheduled deletion of {name} is cancelled{when}."
                )],
                "Applications can read the secret again at once, with the value and labels it had.".to_string(),
            )
        }
    };
    let choices = match kind {
        ActionKind::Rollback => rollback_choices(s)
            .into_iter()
            .map(|v| {
                let labels = v
                    .labels
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect::<Vec<_>>();
                let labels = if labels.is_empty() {
                    String::new()
                } else {
                    format!("{}, ", labels.join(", "))
                };
                let created = v.created.map_or("creation date unknown".to_string(), |t| {
                    format!("created {}", t.display())
                });
                (v.id.to_string(), format!("{} ({labels}{created})", v.id))
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Plan {
        kind,
        type_name: is_production(&name, production),
        secret: name,
        effects,
        afterwards,
        to_version: target,
        choices,
    })
}

/// What a rotation does, for the dialog.
fn rotation_effects(name: &str, lambda: &str) -> Vec<String> {
    vec![
        format!("Secrets Manager creates a new version of {name} labelled AWSPENDING."),
        format!("It invokes the rotation Lambda {lambda}: createSecret, setSecret, testSecret, finishSecret."),
        "If every step succeeds, AWSCURRENT moves to the new version and AWSPREVIOUS to the one before."
            .to_string(),
    ]
}

fn rotation_afterwards() -> String {
    "Applications keep reading the current value until the Lambda finishes; then they read the new one. \
     If a step fails, AWSCURRENT stays where it is and AWSPENDING is left on the new version."
        .to_string()
}

/// What removing AWSPENDING from `p` does: the version named, what becomes
/// of it, and a warning when its rotation may still be running.
fn clear_effects(s: &Secret, p: &super::Version, text: &str, now: Timestamp) -> Vec<String> {
    let failed = s
        .seen_failure()
        .map(|f| {
            format!(
                ", left by a rotation that failed ({})",
                f.headline_in_sentence()
            )
        })
        .unwrap_or_default();
    let others: Vec<String> = p
        .labels
        .iter()
        .filter(|l| *l != Label::Pending)
        .map(|l| l.as_str().to_string())
        .collect();
    let becomes = if others.is_empty() {
        "Left with no label, it is deprecated: Secrets Manager no longer lists it and deletes it later."
            .to_string()
    } else {
        format!("It keeps its other labels ({}).", others.join(", "))
    };
    let mut out = vec![format!(
        "AWSPENDING is removed from {text}{failed}. {becomes}"
    )];
    let young = p
        .created
        .or(s.last_changed)
        .is_some_and(|c| now.secs().saturating_sub(c.secs()) <= super::state::PENDING_GRACE_SECS);
    if young && s.seen_failure().is_none() {
        out.push(
            "That rotation started less than an hour ago and no failure is recorded for it: if its Lambda \
             is still running, its remaining steps fail."
                .to_string(),
        );
    }
    out
}

/// `its schedule (every 30 days, in a 3h window)` from the rules kept on
/// the secret.
fn schedule_text(r: Option<&super::secret::RotationRules>) -> String {
    let Some(r) = r else {
        return "the schedule Secrets Manager keeps for it".to_string();
    };
    let every = match (&r.schedule_expression, r.automatically_after_days) {
        (Some(e), _) => format!("the schedule {e}"),
        (None, Some(d)) => format!("its schedule of every {d} days"),
        (None, None) => "the schedule Secrets Manager keeps for it".to_string(),
    };
    match &r.duration {
        Some(d) => format!("{every}, in a {d} window"),
        None => every,
    }
}

/// The typed confirmation check: exact, after trimming the ends.
pub fn confirmed(plan: &Plan, typed: &str) -> bool {
    !plan.type_name || typed.trim() == plan.secret
}

/// Where a rotation started from secretscope has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RotationStage {
    /// The new version holds AWSPENDING; the Lambda is running.
    Pending,
    /// The new version holds AWSCURRENT.
    Promoted,
    /// CloudTrail recorded a RotationFailed for it.
    Failed,
    /// AWSPENDING left the version without AWSCURRENT (cancelled, replaced).
    Ended,
    /// Still pending when following gave up.
    Stuck,
}

/// A rotation started here, as it was followed: each state it reached, with
/// when, in sentences for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationProgress {
    pub secret: String,
    pub version: String,
    pub by: String,
    pub stage: RotationStage,
    pub steps: Vec<(Timestamp, String)>,
}

impl RotationProgress {
    pub fn new(secret: &str, version: &str, by: &str, at: Timestamp) -> RotationProgress {
        RotationProgress {
            secret: secret.to_string(),
            version: version.to_string(),
            by: by.to_string(),
            stage: RotationStage::Pending,
            steps: vec![(
                at,
                format!(
                    "Version {version} created with AWSPENDING; the rotation Lambda runs createSecret, \
                     setSecret, testSecret and finishSecret."
                ),
            )],
        }
    }

    pub fn finished(&self) -> bool {
        self.stage != RotationStage::Pending
    }

    /// Following stopped without a look at the end (Secrets Manager could
    /// not be read): stuck, with why.
    pub fn give_up(&mut self, why: &str, at: Timestamp) {
        if !self.finished() {
            self.stage = RotationStage::Stuck;
            self.steps.push((
                at,
                format!(
                    "Stopped following version {}: {why}. Look at the secret's page to see where it got to.",
                    self.version
                ),
            ));
        }
    }

    /// One look at the rotation: the labels its version holds now, the
    /// failure CloudTrail recorded since it started (if any), and whether
    /// the time to follow it is up. Returns true when this ended it.
    pub fn observe(
        &mut self,
        labels: &[String],
        failure: Option<&str>,
        timed_out: bool,
        at: Timestamp,
    ) -> bool {
        if self.finished() {
            return false;
        }
        let v = &self.version;
        let has = |l: &str| labels.iter().any(|x| x == l);
        let (stage, text) = if has("AWSCURRENT") {
            (
                RotationStage::Promoted,
                format!(
                    "Promoted: version {v} holds AWSCURRENT, and applications read the new value."
                ),
            )
        } else if let Some(why) = failure {
            (RotationStage::Failed, {
                let step = super::rotation_failure::RotationStep::in_message(why)
                    .map(|s| format!(" {s} {}. {}", s.does(), s.guidance()))
                    .unwrap_or_default();
                format!(
                        "The rotation failed: {why}. AWSCURRENT did not move; version {v} keeps AWSPENDING.{step} \
                         When the cause is fixed, Retry rotation clears AWSPENDING and starts again; or cancel \
                         the rotation and look at the Lambda's logs."
                    )
            })
        } else if !has("AWSPENDING") {
            (
                RotationStage::Ended,
                format!(
                    "Version {v} lost AWSPENDING without becoming AWSCURRENT: the rotation was cancelled \
                     or replaced. AWSCURRENT did not move."
                ),
            )
        } else if timed_out {
            (
                RotationStage::Stuck,
                format!(
                    "Still not finished: version {v} holds AWSPENDING. The Lambda may be stuck or failing \
                     without CloudTrail saying so yet; look at its logs, then retry or cancel the rotation."
                ),
            )
        } else {
            return false;
        };
        self.stage = stage;
        self.steps.push((at, text));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::{Labels, Version};
    use std::sync::Arc;

    fn v(id: &str, labels: &[&str]) -> Version {
        Version {
            id: VersionId::parse(id),
            labels: labels.iter().map(|l| Label::parse(l)).collect::<Labels>(),
            created: Some(Timestamp::new(1_790_000_000)),
            last_accessed: None,
        }
    }

    fn rotating(name: &str) -> Secret {
        let mut s = secret(name);
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some(Arc::from(
            "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRotation-ok-db",
        ));
        s.versions = vec![
            v("v2", &["AWSCURRENT"]),
            v("v1", &["AWSPREVIOUS"]),
            v("v0", &[]),
        ];
        s
    }

    #[test]
    fn seen_lists_labelled_versions_and_names_every_change() {
        let s = rotating("prod/db");
        let seen = Seen::of(&s);
        assert_eq!(
            seen.labels,
            vec![
                ("v1".to_string(), vec!["AWSPREVIOUS".to_string()]),
                ("v2".to_string(), vec!["AWSCURRENT".to_string()]),
            ]
        );
        assert_eq!(seen.holder("AWSCURRENT"), Some("v2"));
        assert!(seen.changes(&Seen::of(&s)).is_empty());

        let mut moved = s.clone();
        moved.versions = vec![
            v("v3", &["AWSCURRENT"]),
            v("v2", &["AWSPREVIOUS", "AWSPENDING"]),
            v("v1", &[]),
        ];
        moved.rotation_enabled = false;
        let changes = seen.changes(&Seen::of(&moved));
        assert_eq!(
            changes,
            vec![
                "automatic rotation was turned off",
                "AWSCURRENT moved from version v2 to v3",
                "AWSPENDING was added to version v2",
                "AWSPREVIOUS moved from version v1 to v2",
            ]
        );
        assert_eq!(seen.describe(), "v1: AWSPREVIOUS; v2: AWSCURRENT");
    }

    #[test]
    fn replicas_are_acted_on_through_their_primary() {
        let mut replica = rotating("prod/db");
        replica.region = Arc::from("eu-west-1");
        replica.primary_region = Some(Arc::from("us-east-1"));
        for kind in ActionKind::ALL {
            let why = unavailable(kind, &replica, None).expect("refused");
            assert!(why.contains("replica of the secret in us-east-1"), "{why}");
        }
        // The primary itself reports PrimaryRegion too: it is not a replica.
        let mut primary = rotating("prod/db");
        primary.primary_region = Some(Arc::from("us-east-1"));
        assert_eq!(unavailable(ActionKind::Rotate, &primary, None), None);
    }

    #[test]
    fn each_action_says_when_it_is_not_possible() {
        let now = Timestamp::new(1_795_000_000);
        let s = rotating("prod/db");
        assert_eq!(unavailable(ActionKind::Rotate, &s, None), None);
        assert_eq!(unavailable(ActionKind::CancelRotation, &s, None), None);
        assert_eq!(unavailable(ActionKind::Rollback, &s, None), None);
        assert!(unavailable(ActionKind::Restore, &s, None)
            .unwrap()
            .contains("nothing to restore"));

        let plain = secret("dev/x");
        assert!(unavailable(ActionKind::Rotate, &plain, None)
            .unwrap()
            .contains("Rotation is not configured for dev/x"));
        assert!(unavailable(ActionKind::CancelRotation, &plain, None)
            .unwrap()
            .contains("no rotation to cancel"));
        assert!(unavailable(ActionKind::Rollback, &plain, None)
            .unwrap()
            .contains("No version of dev/x holds AWSPREVIOUS"));

        // RotateSecret (API reference): "If the AWSPENDING staging label is
        // present but not attached to the same version as AWSCURRENT, then
        // any later invocation of RotateSecret assumes that a previous
        // rotation request is still in progress and returns an error." So
        // with AWSPENDING left on v9, Rotate now is refused with the way
        // through, and Retry rotation / Clear pending version are offered.
        let mut stuck = rotating("prod/db");
        let mut pending = v("v9", &["AWSPENDING"]);
        pending.created = Some(Timestamp::new(now.secs() - 3 * 86_400));
        stuck.versions.push(pending);
        let why = unavailable(ActionKind::Rotate, &stuck, None).unwrap();
        assert!(
            why.contains("version v9 holds AWSPENDING") && why.contains("Retry rotation"),
            "{why}"
        );
        assert_eq!(unavailable(ActionKind::RetryRotation, &stuck, None), None);
        assert_eq!(unavailable(ActionKind::ClearPending, &stuck, None), None);
        assert_eq!(unavailable(ActionKind::CancelRotation, &stuck, None), None);
        // Nothing pending: nothing to retry or clear.
        assert!(unavailable(ActionKind::RetryRotation, &s, None)
            .unwrap()
            .contains("nothing to retry"));
        assert!(unavailable(ActionKind::ClearPending, &s, None)
            .unwrap()
            .contains("nothing to clear"));
        // Turning rotation back on: only when it is off, configured, and
        // no AWSPENDING is left over (RotateSecret would refuse).
        assert!(unavailable(ActionKind::EnableRotation, &s, None)
            .unwrap()
            .contains("already on"));
        let mut cancelled = stuck.clone();
        cancelled.rotation_enabled = false;
        assert!(unavailable(ActionKind::EnableRotation, &cancelled, None)
            .unwrap()
            .contains("clear the pending version first"));
        cancelled.versions.retain(|v| v.id.to_string() != "v9");
        assert_eq!(
            unavailable(ActionKind::EnableRotation, &cancelled, None),
            None
        );

        let mut deleted = rotating("prod/db");
        deleted.deleted = Some(Timestamp::new(1_800_000_000));
        for k in [
            ActionKind::Rotate,
            ActionKind::CancelRotation,
            ActionKind::Rollback,
        ] {
            assert!(unavailable(k, &deleted, None)
                .unwrap()
                .contains("restore it first"));
        }
        assert_eq!(unavailable(ActionKind::Restore, &deleted, None), None);

        // A picked rollback target: any other version; not the current one.
        assert_eq!(unavailable(ActionKind::Rollback, &s, Some("v0")), None);
        assert!(unavailable(ActionKind::Rollback, &s, Some("v2"))
            .unwrap()
            .contains("already holds AWSCURRENT"));
        assert!(unavailable(ActionKind::Rollback, &s, Some("nope"))
            .unwrap()
            .contains("has no version nope"));
    }

    #[test]
    fn plans_name_the_exact_change_and_production_asks_for_the_name() {
        let prod = vec!["prod/*".to_string()];
        let now = Timestamp::new(1_795_000_000);
        let s = rotating("prod/db");
        let p = plan(ActionKind::Rollback, &s, None, &prod, now).unwrap();
        assert!(p.effects[0].starts_with("AWSCURRENT moves from version v2 (created"));
        assert!(p.effects[0].contains("to version v1"));
        assert!(p.afterwards.contains("value of version v1"));
        assert!(p.type_name);
        assert!(!confirmed(&p, "prod/d"));
        assert!(!confirmed(&p, "PROD/DB"));
        assert!(confirmed(&p, " prod/db "));

        let r = plan(ActionKind::Rotate, &s, None, &prod, now).unwrap();
        assert!(r.effects[1].contains("SecretsManagerRotation-ok-db"));
        let dev = plan(ActionKind::Rotate, &rotating("dev/db"), None, &prod, now).unwrap();
        assert!(!dev.type_name && confirmed(&dev, ""));

        let mut deleted = rotating("prod/db");
        deleted.deleted = Some(Timestamp::new(1_795_500_000));
        let restore = plan(ActionKind::Restore, &deleted, None, &prod, now).unwrap();
        assert!(
            restore.effects[0].contains("deleted for good on"),
            "{restore:?}"
        );
        assert!(plan(ActionKind::Rotate, &deleted, None, &prod, now).is_err());
        assert!(is_production("PROD/Payments/db", &prod));
        assert!(!is_production("staging/prod/db", &prod));
    }

    #[test]
    fn recovery_plans_name_the_leftover_version_and_what_becomes_of_it() {
        let now = Timestamp::new(1_795_000_000);
        let mut s = rotating("app/db");
        let mut p = v("v9", &["AWSPENDING"]);
        p.created = Some(Timestamp::new(now.secs() - 600));
        s.versions.push(p);
        let retry = plan(ActionKind::RetryRotation, &s, None, &[], now).unwrap();
        assert!(
            retry.effects[0].starts_with("AWSPENDING is removed from version v9 (created")
                && retry.effects[0].contains("deprecated"),
            "{:?}",
            retry.effects
        );
        // Young and not seen failing: it may still be running.
        assert!(
            retry.effects[1].contains("still running"),
            "{:?}",
            retry.effects
        );
        assert!(retry.effects[2].contains("creates a new version"));
        // Seen failing: said, and no warning.
        s.failure = Some(Arc::new(crate::domain::rotation_failure::RotationFailure {
            at: Timestamp::new(now.secs() - 60),
            step: Some(crate::domain::rotation_failure::RotationStep::SetSecret),
            attempt: 2,
            message: None,
        }));
        let retry = plan(ActionKind::RetryRotation, &s, None, &[], now).unwrap();
        assert!(
            retry.effects[0].contains("retry failed at setSecret, attempt 2"),
            "{:?}",
            retry.effects
        );
        assert!(!retry.effects[1].contains("still running"));
        let clear = plan(ActionKind::ClearPending, &s, None, &[], now).unwrap();
        assert!(clear
            .effects
            .last()
            .unwrap()
            .contains("automatic rotation stays on"));
        // A cancelled rotation: the cancel says AWSPENDING stays.
        let cancel = plan(ActionKind::CancelRotation, &s, None, &[], now).unwrap();
        assert!(cancel.effects[1].contains("AWSPENDING stays on version v9"));
        let mut off = rotating("app/db");
        off.rotation_enabled = false;
        off.rotation_rules = Some(Arc::new(crate::domain::secret::RotationRules {
            automatically_after_days: Some(30),
            duration: Some("3h".into()),
            schedule_expression: None,
        }));
        let on = plan(ActionKind::EnableRotation, &off, None, &[], now).unwrap();
        assert!(
            on.effects[0].contains("SecretsManagerRotation-ok-db")
                && on.effects[0].contains("every 30 days, in a 3h window"),
            "{:?}",
            on.effects
        );
    }

    #[test]
    fn a_followed_rotation_reaches_one_end_and_stays_there() {
        let t = |s: i64| Timestamp::new(1_790_000_000 + s);
        let labels = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let fresh = || RotationProgress::new("app/db", "v2", "operator", t(0));

        // Still pending: nothing new.
        let mut p = fresh();
        assert!(!p.observe(&labels(&["AWSPENDING"]), None, false, t(2)));
        assert_eq!((p.stage, p.steps.len()), (RotationStage::Pending, 1));
        // Promoted, and a later failure report does not undo it.
        assert!(p.observe(&labels(&["AWSCURRENT"]), None, false, t(4)));
        assert_eq!(p.stage, RotationStage::Promoted);
        assert!(!p.observe(&labels(&["AWSPENDING"]), Some("boom"), true, t(6)));
        assert_eq!((p.stage, p.steps.len()), (RotationStage::Promoted, 2));
        assert!(p.steps[1].1.contains("v2 holds AWSCURRENT"));

        // A failure while pending names the message and what to do.
        let mut p = fresh();
        assert!(p.observe(
            &labels(&["AWSPENDING"]),
            Some("x failed at setSecret"),
            false,
            t(3)
        ));
        assert_eq!(p.stage, RotationStage::Failed);
        assert!(
            p.steps[1].1.contains("x failed at setSecret")
                && p.steps[1].1.contains("Retry rotation")
        );
        // The step's guidance comes with it.
        assert!(
            p.steps[1].1.contains("The database or service refused"),
            "{}",
            p.steps[1].1
        );
        // Promotion wins over a failure seen at the same look (a retry).
        let mut p = fresh();
        p.observe(&labels(&["AWSCURRENT"]), Some("old failure"), false, t(3));
        assert_eq!(p.stage, RotationStage::Promoted);

        // AWSPENDING gone without AWSCURRENT: ended; time up while pending: stuck.
        let mut p = fresh();
        p.observe(&[], None, false, t(3));
        assert_eq!(p.stage, RotationStage::Ended);
        let mut p = fresh();
        p.observe(&labels(&["AWSPENDING"]), None, true, t(300));
        assert_eq!(p.stage, RotationStage::Stuck);
        assert!(p.finished());
    }

    #[test]
    fn rollback_choices_put_awsprevious_first_and_leave_out_current_and_pending() {
        let mut s = rotating("app/db");
        let dated = |id: &str, labels: &[&str], at: i64| Version {
            created: Some(Timestamp::new(at)),
            ..v(id, labels)
        };
        s.versions = vec![
            dated("old", &["keep"], 100),
            dated("cur", &["AWSCURRENT"], 400),
            dated("pend", &["AWSPENDING"], 500),
            dated("prev", &["AWSPREVIOUS"], 200),
            dated("mid", &["canary"], 300),
        ];
        let ids = |s: &Secret| {
            rollback_choices(s)
                .iter()
                .map(|v| v.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&s), ["prev", "mid", "old"]);
        assert_eq!(rollback_default(&s).as_deref(), Some("prev"));
        let p = plan(
            ActionKind::Rollback,
            &s,
            Some("mid"),
            &[],
            Timestamp::new(600),
        )
        .unwrap();
        assert_eq!(p.to_version.as_deref(), Some("mid"));
        assert_eq!(p.choices.len(), 3);
        assert!(
            p.choices[1].1.starts_with("mid (canary, created"),
            "{:?}",
            p.choices
        );
        assert!(plan(
            ActionKind::Rollback,
            &s,
            Some("pend"),
            &[],
            Timestamp::new(600)
        )
        .unwrap_err()
        .contains("holds AWSPENDING"));
        // Without AWSPREVIOUS, the newest earlier version.
        s.versions.retain(|v| v.id.to_string() != "prev");
        assert_eq!(rollback_default(&s).as_deref(), Some("mid"));
    }
}
