//! One secret's detail page: metadata from the snapshot, with replica
//! status, the resource policy and every version (deprecated ones too)
//! read from Secrets Manager on first view and on "refresh".

use crate::domain::owner::Owner;
use crate::domain::policy::Statement;
pub use crate::domain::replica::Replica;
use crate::domain::{State, Timestamp};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretDetail {
    pub now: Timestamp,
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub description: Option<String>,
    pub owner: Option<Owner>,
    /// `None`: the AWS managed key `aws/secretsmanager`.
    pub kms_key: Option<String>,
    pub kms_default: bool,
    pub rotation_enabled: bool,
    pub rotation_lambda: Option<String>,
    pub rotation_schedule: Option<String>,
    pub rotation_days: Option<i64>,
    pub rotation_window: Option<String>,
    pub created: Option<Timestamp>,
    pub last_changed: Option<Timestamp>,
    pub last_rotated: Option<Timestamp>,
    pub next_rotation: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
    /// When deletion was requested (AWS's DeletedDate).
    pub deleted: Option<Timestamp>,
    pub primary_region: Option<String>,
    /// For a replica: its primary's ARN, when the primary is in the inventory.
    pub primary_link: Option<String>,
    /// For a primary: (region, ARN) of each replica in the inventory.
    pub replica_links: Vec<(String, String)>,
    /// The source (`name/region`) it is read through.
    pub source: Option<String>,
    pub owning_service: Option<String>,
    pub tags: Vec<TagLink>,
    pub state: State,
    /// Newest first. Deprecated versions only when asked for.
    pub versions: Vec<VersionRow>,
    /// Versions without labels that exist but are not in `versions`.
    pub deprecated_hidden: usize,
    /// Replicas, policy and deprecated versions, read live; `None` when the
    /// read failed (then `live_error` says why).
    pub live: Option<LiveDetail>,
    pub live_error: Option<String>,
    /// When the snapshot's list pass (or a refresh) last saw this secret.
    pub seen_at: Option<Timestamp>,
    /// The health rules' findings, active first, worst first.
    pub findings: Vec<FindingView>,
    /// Rules that apply but could not run (they need CloudTrail's reads),
    /// and why: shown as "not evaluated", never as passed.
    #[serde(default)]
    pub not_evaluated: Vec<NotEvaluatedView>,
    /// Rotation events from CloudTrail, newest first: `None` when CloudTrail
    /// is off, the error sentence when it could not be read.
    pub history: Option<Result<Vec<crate::domain::rotation_history::RotationEvent>, String>>,
    /// The failure seen for the rotation pending now: its step and attempt.
    #[serde(default)]
    pub failure: Option<crate::domain::rotation_failure::RotationFailure>,
    /// The actions offered to this user on this secret: empty without the
    /// operator role on it (a viewer sees no action controls).
    pub actions: Vec<ActionOffer>,
    /// Who decides access requests for it, and the open ones.
    pub access: AccessInfo,
}

/// The detail page's access panel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessInfo {
    /// "alice, bob" or "the admins".
    pub deciders: String,
    pub max_duration: String,
    /// Open requests on this secret (pending, approved, active).
    pub open: Vec<crate::domain::requests::AccessRequest>,
}

/// An action the page offers, or explains why it cannot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionOffer {
    pub kind: crate::domain::actions::ActionKind,
    /// Why it cannot be done now (then there is no button, only this).
    pub unavailable: Option<String>,
}

/// A rule that applies to the secret but was not evaluated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotEvaluatedView {
    /// The rule's id (`accessed-after-deletion`, …).
    pub rule: String,
    pub title: String,
    /// Why, and what makes it run.
    pub why: String,
}

/// A finding with the words of its rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingView {
    pub rule: crate::domain::health::RuleId,
    pub severity: crate::domain::health::Severity,
    pub title: String,
    pub since: Option<Timestamp>,
    pub detail: String,
    pub why: String,
    pub fix: String,
    pub source: String,
    /// The reason given by the suppression tag.
    pub suppressed: Option<String>,
    /// The CloudTrail record that explains it (a rotation's failure).
    #[serde(default)]
    pub trail: Option<TrailNote>,
}

/// A CloudTrail record shown beside the finding it explains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrailNote {
    pub at: Timestamp,
    /// "Rotation failed at setSecret, attempt 2".
    pub headline: String,
    /// The Lambda's error text as CloudTrail recorded it.
    pub message: String,
}

impl From<crate::domain::health::Finding> for FindingView {
    fn from(f: crate::domain::health::Finding) -> FindingView {
        let info = f.info();
        FindingView {
            rule: f.rule,
            severity: f.severity,
            title: info.title.to_string(),
            since: f.since,
            detail: f.detail,
            why: info.why.to_string(),
            fix: info.fix.to_string(),
            source: info.source.to_string(),
            suppressed: f.suppressed,
            trail: None,
        }
    }
}

/// A tag, with the search that lists every secret carrying it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagLink {
    pub key: String,
    pub value: String,
    pub search: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub id: String,
    pub labels: Vec<String>,
    pub created: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
    /// No staging label: AWS will remove it.
    pub deprecated: bool,
    /// AWSPENDING on a version that never became AWSCURRENT, for longer
    /// than the grace period.
    pub stuck_pending: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveDetail {
    pub fetched_at: Timestamp,
    pub replicas: Vec<Replica>,
    /// The raw policy JSON; `None` when the secret has none.
    pub policy: Option<String>,
    /// The policy as sentences, or why it could not be read.
    pub policy_summary: Result<Vec<Statement>, String>,
}

/// `id` is a secret name or ARN. `deprecated` also lists versions without
/// labels.
#[server(endpoint = "get_secret")]
pub async fn get_secret(id: String, deprecated: bool) -> Result<SecretDetail, ServerFnError> {
    let (state, who) = super::signed_in("get_secret").await?;
    match super::build::secret::detail(&state, &who, &id, deprecated, false).await {
        Ok(d) => Ok(d),
        Err(e) => Err(crate::server::auth::denied(&state, &who, &id, e)
            .await
            .into()),
    }
}

/// Re-reads one secret from Secrets Manager (DescribeSecret,
/// ListSecretVersionIds, GetResourcePolicy) into the snapshot.
#[server(endpoint = "refresh_secret")]
pub async fn refresh_secret(id: String) -> Result<Timestamp, ServerFnError> {
    let (state, who) = super::signed_in("refresh_secret").await?;
    match super::build::secret::detail(&state, &who, &id, false, true).await {
        Ok(d) => Ok(d.live.map(|l| l.fetched_at).unwrap_or(d.now)),
        Err(e) => Err(crate::server::auth::denied(&state, &who, &id, e)
            .await
            .into()),
    }
}
