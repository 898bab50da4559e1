//! What an action will do, in sentences: the confirmation dialog's [`Plan`].

use super::*;

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
    let (effects, afterwards, target) = effects(kind, s, to_version, now)?;
    let choices = match kind {
        ActionKind::Rollback => choice_texts(s),
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

/// `version v2 (created 2026-11-02 10:00 UTC)`
fn version_text(s: &Secret, id: &VersionId) -> String {
    let created = s
        .versions
        .iter()
        .find(|v| &v.id == id)
        .and_then(|v| v.created)
        .map_or("creation date unknown".to_string(), |t| {
            format!("created {}", t.display())
        });
    format!("version {id} ({created})")
}

/// The rotation Lambda's function name, or nothing.
fn lambda_name(s: &Secret) -> &str {
    s.rotation_lambda_arn
        .as_deref()
        .map(crate::domain::arn::function_name)
        .unwrap_or_default()
}

/// What `kind` changes, what applications get afterwards, and a
/// rollback's target version.
type Effects = (Vec<String>, String, Option<String>);

/// [`plan`]'s sentences for `kind` on `s`.
fn effects(
    kind: ActionKind,
    s: &Secret,
    to_version: Option<&str>,
    now: Timestamp,
) -> Result<Effects, String> {
    let name = s.name.to_string();
    let version_text = |id: &VersionId| version_text(s, id);
    let mut target = None;
    let (effects, afterwards) = match kind {
        ActionKind::Rotate => {
            let lambda = lambda_name(s);
            (rotation_effects(&name, lambda), rotation_afterwards())
        }
        ActionKind::RetryRotation => {
            let lambda = lambda_name(s);
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
    Ok((effects, afterwards, target))
}

/// A rollback's possible targets: (version id, its labels and creation).
fn choice_texts(s: &Secret) -> Vec<(String, String)> {
    rollback_choices(s)
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
        .collect()
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
fn clear_effects(
    s: &Secret,
    p: &crate::domain::Version,
    text: &str,
    now: Timestamp,
) -> Vec<String> {
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
    let young = p.created.or(s.last_changed).is_some_and(|c| {
        now.secs().saturating_sub(c.secs()) <= crate::domain::state::PENDING_GRACE_SECS
    });
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
fn schedule_text(r: Option<&crate::domain::secret::RotationRules>) -> String {
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
