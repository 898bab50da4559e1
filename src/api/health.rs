//! The overview (home page) and the on-call queue: what the health rules say
//! about the whole inventory. Every number comes with the search that lists
//! exactly the secrets it counts.

use crate::domain::health::{RuleId, Severity};
use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A number and the inventory search (`/secrets?…`) that lists what it counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub count: usize,
    /// The `q=` search.
    pub q: String,
    /// The `path=` folder, if any.
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthCount {
    /// `None`: no active finding.
    pub worst: Option<Severity>,
    pub secrets: Count,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: RuleId,
    pub title: String,
    /// After configuration overrides.
    pub severity: Severity,
    pub enabled: bool,
    pub active: Count,
    /// Secrets where a suppression tag covers this rule's finding.
    pub suppressed: usize,
}

/// Secrets of one group (an account and region, or a top-level folder),
/// split by worst severity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupCount {
    pub label: String,
    pub total: Count,
    /// Critical, high, medium, low, info, ok: in that order.
    pub by_worst: Vec<HealthCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub label: String,
    pub secrets: Count,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Day {
    /// `2026-11-23`
    pub date: String,
    /// `Mon 23`
    pub label: String,
    pub secrets: Count,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub now: Timestamp,
    /// False until the first sync: the counts are of nothing yet.
    pub ready: bool,
    pub total: usize,
    /// Worst first, then "ok".
    pub by_worst: Vec<HealthCount>,
    pub rules: Vec<RuleCount>,
    pub places: Vec<GroupCount>,
    /// Top-level folders by number of secrets at high or worse; at most 12.
    pub paths: Vec<GroupCount>,
    /// Top-level folders not shown.
    pub more_paths: usize,
    /// Since the last rotation, secrets not scheduled for deletion.
    pub ages: Vec<Bucket>,
    /// The next 30 days, today first.
    pub upcoming: Vec<Day>,
    /// Rotation on and NextRotationDate already past (the rule's window may
    /// not have closed yet).
    pub due_now: Count,
    /// How long the rules took (they ran at `now`).
    pub evaluated_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OncallRow {
    pub name: String,
    /// What its page is addressed by: the name, or the ARN when another
    /// account or region has a secret of the same name.
    pub link: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    /// `RotationFailed` or `RotationOverdue`.
    pub problem: RuleId,
    pub severity: Severity,
    /// When it broke: the rotation's start, or the missed deadline.
    pub since: Option<Timestamp>,
    /// The rule's sentence: version, Lambda, deadline.
    pub detail: String,
    pub owner: Option<String>,
    /// The rotation Lambda's function name.
    pub lambda: Option<String>,
    pub lambda_arn: Option<String>,
    pub pending_version: Option<String>,
    /// When the pending version was created, if the version dates are known.
    pub pending_created: Option<Timestamp>,
    /// The last successful rotation (LastRotatedDate).
    pub last_success: Option<Timestamp>,
    /// From CloudTrail, when it is on: the last RotationFailed event.
    pub failure: Option<crate::domain::rotation_failure::RotationFailure>,
    /// What this user may do about it (none without the operator role).
    #[serde(default)]
    pub actions: Vec<crate::api::ActionOffer>,
    /// For a failed rotation: what its diagnosis found (`None` until one
    /// was made).
    #[serde(default)]
    pub cause: Option<RowCause>,
}

/// The diagnosis of one failed rotation, in brief (the secret's page has
/// every check).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowCause {
    /// `None`: every check that could be made passed.
    pub cause: Option<crate::domain::diagnosis::CauseId>,
    /// The failed check's evidence, or what could not be checked.
    pub evidence: String,
    pub fix: Option<String>,
}

impl RowCause {
    pub fn of(d: &crate::domain::diagnosis::Diagnosis) -> RowCause {
        use crate::domain::diagnosis::Status;
        let failed = d.checks.iter().find(|c| c.status == Status::Failed);
        match failed {
            Some(c) => RowCause {
                cause: c.cause,
                evidence: c.evidence.clone(),
                fix: c.fix.clone(),
            },
            None => {
                let missing = d.missing_permissions();
                RowCause {
                    cause: None,
                    evidence: if missing.is_empty() {
                        "Every configuration check passed: the failure is in the function's code \
                         or what it talks to (its log says which)."
                            .into()
                    } else {
                        format!(
                            "No cause found; some checks could not be made without {}.",
                            missing.join(", ")
                        )
                    },
                    fix: None,
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Oncall {
    pub now: Timestamp,
    pub ready: bool,
    /// Failed first, then overdue; each longest broken first.
    pub rows: Vec<OncallRow>,
    pub failed: usize,
    pub overdue: usize,
    /// Secrets whose failed or overdue finding is suppressed (not listed).
    pub suppressed: usize,
    /// CloudTrail: `None` when off; `Some(Ok(()))` when read; the error otherwise.
    pub cloudtrail: Option<Result<(), String>>,
    /// The failed rotations grouped by shared cause, biggest first.
    #[serde(default)]
    pub incidents: Vec<crate::domain::diagnosis::Incident>,
    /// Failed rotations not diagnosed yet (the diagnosis runs in the
    /// background; a refresh shows them).
    #[serde(default)]
    pub undiagnosed: usize,
}

#[server(endpoint = "get_overview")]
pub async fn get_overview() -> Result<Overview, ServerFnError> {
    let (state, who) = super::signed_in("get_overview").await?;
    let view = state.view_for(&who, crate::server::clock::now());
    Ok(super::build::health::overview(&state, &view))
}

#[server(endpoint = "get_oncall")]
pub async fn get_oncall() -> Result<Oncall, ServerFnError> {
    let (state, who) = super::signed_in("get_oncall").await?;
    let now = crate::server::clock::now();
    let scoped = who.global_role().is_none();
    let mut view = state.view_for(&who, now);
    // Failures CloudTrail recorded since the last look count at once.
    if crate::server::failures::learn_failures(&state, &view, scoped).await {
        view = state.view_for(&who, now);
    }
    let mut queue = super::build::health::oncall(&state, &view, scoped).await;
    if scoped {
        // Why a trail refused names roles and endpoints: admins read it on /sources.
        if let Some(Err(e)) = &mut queue.cloudtrail {
            *e = "an admin can see why on /sources".into();
        }
    }
    for row in &mut queue.rows {
        if let Some(s) = view.snapshot.by_arn(&row.arn) {
            row.actions = super::build::secret::offers(&who, s);
        }
    }
    super::build::diagnosis::diagnose_queue(&state, &view, &mut queue, now).await;
    Ok(queue)
}
