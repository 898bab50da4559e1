//! The overview (home page) and the on-call queue: what the health rules say
//! about the whole inventory. Every number comes with the search that lists
//! exactly the secrets it counts.

use crate::domain::health::{RuleId, Severity};
use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The search that lists the secrets in no folder (`*` matches `/` too).
pub const OUTSIDE_FOLDERS: &str = "-name:*/*";

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
    /// The folders not shown, together (their counts are not links).
    #[serde(default)]
    pub rest: Option<GroupCount>,
    /// Secrets outside any folder (a name without `/`): with the folder
    /// rows and `rest`, they add up to `total`.
    #[serde(default)]
    pub outside: Option<GroupCount>,
    /// Of `total`: secrets scheduled for deletion (still listed, still counted).
    #[serde(default)]
    pub deleting: usize,
    /// Replicas read besides `total` (a replica counts once, at its primary).
    #[serde(default)]
    pub replicas: usize,
    /// Sources never read (an admin's to fix): their secrets are not in
    /// `total`. Empty for users who do not see every source.
    #[serde(default)]
    pub unread_sources: Vec<String>,
    /// How "already due", "failed" and "overdue" overlap.
    #[serde(default)]
    pub overlap: DueOverlap,
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

/// Of the secrets already due: how many are failed, how many overdue.
/// Failed and overdue never overlap (a failed rotation is not also counted
/// overdue); both are usually due too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DueOverlap {
    pub due_failed: usize,
    pub due_overdue: usize,
    /// Secrets with both findings active (expected 0).
    pub failed_and_overdue: usize,
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
    /// Its environment: the `env` tag, or the name's first segment.
    #[serde(default)]
    pub env: Option<String>,
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

/// Calls [`get_oncall`] with `view`'s parameters.
pub async fn get_oncall_view(
    view: crate::domain::oncall::OncallFilter,
) -> Result<Oncall, ServerFnError> {
    get_oncall(
        Some(view.order.as_str().to_string()),
        view.env,
        view.account,
        view.owner,
        view.secret,
    )
    .await
}

/// What the on-call page's island checks: the status line and a
/// signature of the queue in view (which secrets, each one's problem and
/// since when), which changes exactly when the rows would.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OncallState {
    pub status: String,
    pub signature: String,
}

impl Oncall {
    /// The status line: counts, as of when, what is left out or filtered.
    pub fn status(&self) -> String {
        let mut s = format!(
            "{} failed, {} overdue · as of {}",
            self.failed,
            self.overdue,
            self.now.display()
        );
        if self.suppressed > 0 {
            s.push_str(&format!(
                " · {} suppressed by tag (not listed)",
                self.suppressed
            ));
        }
        if self.view.is_filtered() {
            s.push_str(&format!(
                " · showing {} of {}",
                self.rows.len(),
                self.failed + self.overdue
            ));
        }
        s
    }

    /// Which rows, in which order, with what problem since when; and how
    /// many are still being diagnosed.
    pub fn signature(&self) -> String {
        let mut s = format!("{}", self.undiagnosed);
        for r in &self.rows {
            s.push_str(&format!(
                "|{}:{}:{}",
                r.arn,
                r.problem.as_str(),
                r.since.map_or(0, |t| t.secs())
            ));
        }
        s
    }
}

/// The on-call queue's status and signature in the view `get_oncall` takes
/// (the page asks it every few seconds to say when the queue has changed).
#[server(endpoint = "get_oncall_state")]
pub async fn get_oncall_state(
    order: Option<String>,
    env: Option<String>,
    account: Option<String>,
    owner: Option<String>,
    secret: Option<String>,
) -> Result<OncallState, ServerFnError> {
    let d = get_oncall(order, env, account, owner, secret).await?;
    Ok(OncallState {
        status: d.status(),
        signature: d.signature(),
    })
}

/// A filter's values with how many queue entries have each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OncallFacets {
    pub envs: Vec<(String, usize)>,
    pub accounts: Vec<(String, usize)>,
    /// Owner names; [`crate::domain::oncall::NO_OWNER`] for none known.
    pub owners: Vec<(String, usize)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Oncall {
    pub now: Timestamp,
    pub ready: bool,
    /// In the view's order, filtered (built: failed first, then overdue;
    /// each longest broken first).
    pub rows: Vec<OncallRow>,
    /// Of the whole queue, before the view's filters.
    pub failed: usize,
    pub overdue: usize,
    /// The view the rows are in.
    #[serde(default)]
    pub view: crate::domain::oncall::OncallFilter,
    /// The whole queue's values for each filter.
    #[serde(default)]
    pub facets: OncallFacets,
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
    let mut o = super::build::health::overview(&state, &view);
    if who.global_role().is_some() {
        o.unread_sources = state
            .inventory
            .sources()
            .into_iter()
            .filter(|s| s.status.last_success.is_none() && s.status.last_error.is_some())
            .map(|s| s.id)
            .collect();
    }
    Ok(o)
}

/// The on-call queue in the URL's order and filters (`order`, `env`,
/// `account`, `owner`, `secret`; each optional, each at most 512 bytes).
#[server(endpoint = "get_oncall")]
pub async fn get_oncall(
    order: Option<String>,
    env: Option<String>,
    account: Option<String>,
    owner: Option<String>,
    secret: Option<String>,
) -> Result<Oncall, ServerFnError> {
    let view_of_queue = crate::domain::oncall::OncallFilter::from_query(|k| match k {
        "order" => order.clone(),
        "env" => env.clone(),
        "account" => account.clone(),
        "owner" => owner.clone(),
        "incident" => secret.clone(),
        _ => None,
    });
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
    super::build::health::apply_view(&mut queue, view_of_queue);
    Ok(queue)
}
