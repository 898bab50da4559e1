//! Rotation health and posture rules: pure, with the time passed in.
//!
//! Health is a list of [`Rule`] values ([`RULES`]): each has an id, a default
//! severity, a title, why it matters, how to fix it, the AWS check it
//! corresponds to, and a check `fn(&Input) -> Option<Hit>`. [`evaluate`] runs
//! them over one secret and returns [`Finding`]s, worst first.
//!
//! | rule | default | fires when |
//! | --- | --- | --- |
//! | `rotation-failed` | critical | AWSPENDING has sat on a version that is not AWSCURRENT for longer than `pending_grace_secs` (1 h), or a failure was seen for it (then at once) |
//! | `rotation-overdue` | high | rotation is on and NextRotationDate plus the rotation window has passed |
//! | `accessed-after-deletion` | high | LastAccessedDate falls on a day after DeletedDate |
//! | `replica-failed` | high | a replica is `Failed`, or not `InSync` for longer than `replica_grace_secs` (1 h) since the last change |
//! | `rotation-disabled` | medium | automatic rotation is off |
//! | `not-rotated-recently` | medium | no rotation (LastRotatedDate, else CreatedDate) within `not_rotated_days` (90) |
//! | `scheduled-for-deletion` | medium | DeletedDate is set |
//! | `rotation-interval-too-long` | low | rotation is on with an interval above `max_interval_days` (90) |
//! | `unused` | low | not accessed for `unused_days` (90), or never accessed and created longer ago than that |
//! | `default-kms-key` | low | encrypted with the AWS managed key `aws/secretsmanager` |
//! | `missing-required-tags` | low | a tag of `required_tags` (`owner`) is absent or blank |
//! | `rotation-disabled-with-rules` | low | rotation is off but a Lambda or rotation rules are still configured |
//! | `no-description` | info | the description is absent or blank |
//!
//! Choices worth knowing:
//!
//! - **Secrets scheduled for deletion** get only the rules that are about the
//!   secret as it stands (deletion, access after deletion, KMS key, tags,
//!   description, replicas). Rotation and usage rules skip them: Secrets
//!   Manager refuses to rotate a deleted secret, and one about to go away is
//!   expected to be unused.
//! - **Rotation window.** `RotationRules.Duration` (`3h`, and also `1h30m`,
//!   `90m`) when given. Without one, AWS closes the window after one hour for
//!   a `rate(N hours)` schedule and at the end of the UTC day otherwise; the
//!   end of the day is at most 24 hours after NextRotationDate, so 24 hours
//!   is used (never early, at worst a few hours late). An unreadable Duration
//!   counts as absent.
//! - **Overdue and failed are one problem.** `rotation-overdue` stays quiet
//!   while a rotation is pending within its grace (it is running), and when
//!   `rotation-failed` reports the stuck rotation. If `rotation-failed` is
//!   switched off, a stuck rotation past its deadline shows as overdue.
//! - **Rotation interval** comes from `ScheduleExpression` when it is
//!   `rate(N days)` / `rate(N hours)`, else from `AutomaticallyAfterDays`. A
//!   `cron(...)` schedule (or any other expression) skips the interval rule:
//!   its gaps vary and computing them needs a cron evaluator.
//! - **Pending since.** Before the version pass has fetched version dates,
//!   the pending version's creation date is unknown and the secret's
//!   LastChangedDate stands in for it (a rotation start changes the secret).
//! - **LastAccessedDate is a day** (AWS truncates it to midnight UTC). An
//!   access on day D counts as use until the end of D, so `unused` fires only
//!   once `unused_days` full days have passed after D; and
//!   `accessed-after-deletion` fires only when the access day is after the
//!   deletion (an access later on the deletion day itself cannot be told
//!   apart from one before it).
//! - **Required tags** match the key exactly (AWS tag keys are
//!   case-sensitive) and need a non-blank value: an empty `owner` names no one.
//! - **Suppression.** A tag whose key is `suppression_tag`
//!   (`secretscope:suppress`) and whose value is `rule-id[,rule-id…]: reason`
//!   or `*: reason` marks matching findings as suppressed with that reason.
//!   They are still returned (so they can be shown and audited) but [`worst`]
//!   ignores them. A value without a reason (nothing after the colon, or no
//!   colon) suppresses nothing and is otherwise ignored: a suppression must
//!   say why. Unknown rule ids in the list are ignored.
//! - **Since** (when the problem started): the rotation's start for
//!   `rotation-failed`; the deadline (NextRotationDate + window) for
//!   `rotation-overdue`; last rotation (else creation) + `not_rotated_days`;
//!   end of the last access day (else creation) + `unused_days`; DeletedDate;
//!   the access day for `accessed-after-deletion`; the last change for a
//!   lagging replica. Configuration findings (and a `Failed` replica, whose
//!   failure time AWS does not report) have none.
//! - **Order.** Active findings first, then suppressed ones; within each,
//!   worst severity first, then in the order of [`RuleId::ALL`].
//!
//! Cost: the no-finding path allocates nothing; detail strings are built only
//! when a rule fires. [`summarize`] runs the same checks without building
//! any string (which rules fired, which are suppressed, the worst active
//! severity): use it to count a whole inventory, and [`evaluate`] where the
//! words are shown.

use super::secret::{RotationRules, Secret, Version};
use super::state::PENDING_GRACE_SECS;
use super::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------
// Severity

/// How bad a finding is. Ordered so that `Critical` is the greatest (the
/// worst): `Severity::Critical > Severity::High`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Worst first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// The names of [`Severity::as_str`], in any ASCII case.
    pub fn parse(s: &str) -> Option<Severity> {
        let s = s.trim();
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Rule ids

/// A rule's stable id: used in configuration, suppression tags, URLs and
/// exports, so the kebab-case strings never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    RotationFailed,
    RotationOverdue,
    RotationDisabled,
    RotationDisabledWithRules,
    NotRotatedRecently,
    RotationIntervalTooLong,
    Unused,
    DefaultKmsKey,
    MissingRequiredTags,
    NoDescription,
    ScheduledForDeletion,
    AccessedAfterDeletion,
    ReplicaFailed,
}

impl RuleId {
    /// Every rule, in the order of [`RULES`].
    pub const ALL: [RuleId; 13] = [
        RuleId::RotationFailed,
        RuleId::RotationOverdue,
        RuleId::RotationDisabled,
        RuleId::RotationDisabledWithRules,
        RuleId::NotRotatedRecently,
        RuleId::RotationIntervalTooLong,
        RuleId::Unused,
        RuleId::DefaultKmsKey,
        RuleId::MissingRequiredTags,
        RuleId::NoDescription,
        RuleId::ScheduledForDeletion,
        RuleId::AccessedAfterDeletion,
        RuleId::ReplicaFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::RotationFailed => "rotation-failed",
            RuleId::RotationOverdue => "rotation-overdue",
            RuleId::RotationDisabled => "rotation-disabled",
            RuleId::RotationDisabledWithRules => "rotation-disabled-with-rules",
            RuleId::NotRotatedRecently => "not-rotated-recently",
            RuleId::RotationIntervalTooLong => "rotation-interval-too-long",
            RuleId::Unused => "unused",
            RuleId::DefaultKmsKey => "default-kms-key",
            RuleId::MissingRequiredTags => "missing-required-tags",
            RuleId::NoDescription => "no-description",
            RuleId::ScheduledForDeletion => "scheduled-for-deletion",
            RuleId::AccessedAfterDeletion => "accessed-after-deletion",
            RuleId::ReplicaFailed => "replica-failed",
        }
    }

    /// The ids of [`RuleId::as_str`], in any ASCII case.
    pub fn parse(s: &str) -> Option<RuleId> {
        let s = s.trim();
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }

    pub fn info(self) -> &'static RuleInfo {
        info(self)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Rules

/// What a person reads about a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: RuleId,
    /// The default; [`HealthConfig::severity_overrides`] may change it.
    pub severity: Severity,
    pub title: &'static str,
    /// Why it matters, in a sentence or two.
    pub why: &'static str,
    /// How to fix it: console and CLI steps.
    pub fix: &'static str,
    /// The AWS documentation, AWS Config managed rule or Security Hub
    /// control this rule corresponds to.
    pub source: &'static str,
}

/// What a rule's check sees.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub secret: &'a Secret,
    /// Replica status from DescribeSecret; `None` when not fetched.
    pub replicas: Option<&'a [ReplicaState]>,
    pub cfg: &'a HealthConfig,
    pub now: Timestamp,
    /// Build [`Hit::detail`]; when false it stays empty and nothing is
    /// allocated (for [`summarize`]).
    pub details: bool,
}

impl Input<'_> {
    /// `f()` when details are wanted, else an empty string (no allocation).
    fn text(&self, f: impl FnOnce() -> String) -> String {
        if self.details {
            f()
        } else {
            String::new()
        }
    }
}

/// What a check returns when its rule fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub since: Option<Timestamp>,
    pub detail: String,
}

/// One rule: what it is, and its check.
#[derive(Debug)]
pub struct Rule {
    pub info: RuleInfo,
    check: fn(&Input<'_>) -> Option<Hit>,
}

impl Rule {
    /// Runs the check alone: no configuration switches, severity or
    /// suppression (see [`evaluate`] for those).
    pub fn check(&self, input: &Input<'_>) -> Option<Hit> {
        (self.check)(input)
    }
}

/// The rule table, in the order of [`RuleId::ALL`].
pub static RULES: [Rule; 13] = [
    Rule {
        info: RuleInfo {
            id: RuleId::RotationFailed,
            severity: Severity::Critical,
            title: "Rotation failed",
            why: "A rotation started and never finished: AWSPENDING still sits on a version that never became AWSCURRENT, so the old credential stays in use and the next scheduled rotation will fail the same way.",
            fix: "Read the rotation Lambda's CloudWatch log (/aws/lambda/<function>) for the failing step and fix its cause (permissions, network to the database, the secret's JSON). Then retry with `aws secretsmanager rotate-secret --secret-id <name>`, or give up on this attempt by removing AWSPENDING: `aws secretsmanager update-secret-version-stage --secret-id <name> --version-stage AWSPENDING --remove-from-version-id <pending version id>`.",
            source: "AWS Config: secretsmanager-scheduled-rotation-success-check; Security Hub SecretsManager.2; Secrets Manager User Guide: Troubleshoot rotation",
        },
        check: rotation_failed,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::RotationOverdue,
            severity: Severity::High,
            title: "Rotation overdue",
            why: "Rotation is enabled but the scheduled rotation did not happen within its window, so the credential is older than the schedule promises; usually the rotation Lambda cannot be invoked or Secrets Manager could not start it.",
            fix: "Check that the rotation Lambda exists and that its resource policy lets secretsmanager.amazonaws.com invoke it (`aws lambda get-policy --function-name <function>`), then rotate now: console → the secret → Rotation → Rotate secret immediately, or `aws secretsmanager rotate-secret --secret-id <name>`.",
            source: "AWS Config: secretsmanager-scheduled-rotation-success-check; Security Hub SecretsManager.2",
        },
        check: rotation_overdue,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::RotationDisabled,
            severity: Severity::Medium,
            title: "Rotation disabled",
            why: "Without automatic rotation a credential lives until someone changes it by hand, so a leaked copy stays valid indefinitely.",
            fix: "Console → the secret → Rotation configuration → Edit rotation → turn on Automatic rotation, choose a schedule and a rotation function; or `aws secretsmanager rotate-secret --secret-id <name> --rotation-lambda-arn <arn> --rotation-rules '{\"ScheduleExpression\": \"rate(30 days)\"}'`.",
            source: "AWS Config: secretsmanager-rotation-enabled-check; Security Hub SecretsManager.1",
        },
        check: rotation_disabled,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::RotationDisabledWithRules,
            severity: Severity::Low,
            title: "Rotation disabled, rules still configured",
            why: "A rotation Lambda or schedule is configured but rotation is off: typically a CancelRotateSecret (which turns rotation off) or a manual switch-off that was never undone, so the secret looks rotated in the configuration but is not.",
            fix: "If rotation should run, turn it back on: `aws secretsmanager rotate-secret --secret-id <name>` (reuses the configured Lambda and rules) or console → Rotation configuration → Edit rotation → Automatic rotation on. If it should not, say so with a suppression tag so the leftover configuration is a recorded decision.",
            source: "Secrets Manager API Reference: CancelRotateSecret (turns off automatic rotation, keeps the Lambda and rules) and RotateSecret",
        },
        check: rotation_disabled_with_rules,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::NotRotatedRecently,
            severity: Severity::Medium,
            title: "Not rotated recently",
            why: "The credential has not changed for longer than the allowed age, whatever the rotation setting says; the older a credential, the more places it may have leaked to.",
            fix: "Rotate it now: console → the secret → Rotation → Rotate secret immediately, or `aws secretsmanager rotate-secret --secret-id <name>`; if rotation is off, configure it first (see rotation-disabled).",
            source: "AWS Config: secretsmanager-secret-periodic-rotation (maxDaysSinceRotation, 90 by default); Security Hub SecretsManager.4",
        },
        check: not_rotated_recently,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::RotationIntervalTooLong,
            severity: Severity::Low,
            title: "Rotation interval too long",
            why: "Rotation is on, but its schedule lets a credential live longer than the allowed maximum.",
            fix: "Shorten the schedule: console → Rotation configuration → Edit rotation → Rotation schedule, or `aws secretsmanager rotate-secret --secret-id <name> --rotation-rules '{\"ScheduleExpression\": \"rate(30 days)\"}' --no-rotate-immediately`.",
            source: "AWS Config: secretsmanager-rotation-enabled-check (maximumAllowedRotationFrequency); Security Hub SecretsManager.1 with that parameter",
        },
        check: rotation_interval_too_long,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::Unused,
            severity: Severity::Low,
            title: "Unused",
            why: "Nobody has read the secret for a long time: it is probably obsolete, and every unused credential is one more thing that can leak without anyone noticing.",
            fix: "Confirm with the owner and in CloudTrail (GetSecretValue events) that nothing needs it, then delete it with a recovery window: console → Actions → Delete secret, or `aws secretsmanager delete-secret --secret-id <name> --recovery-window-in-days 30`.",
            source: "AWS Config: secretsmanager-secret-unused (unusedForDays); Security Hub SecretsManager.3",
        },
        check: unused,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::DefaultKmsKey,
            severity: Severity::Low,
            title: "Default KMS key",
            why: "The AWS managed key aws/secretsmanager cannot have its key policy changed, cannot be shared across accounts and gives no separate control or audit trail over who may decrypt this secret.",
            fix: "Create a customer managed KMS key and switch the secret to it: console → the secret → Edit encryption key, or `aws secretsmanager update-secret --secret-id <name> --kms-key-id <key arn>`; then rotate (or put the value again) so the current version is encrypted with the new key.",
            source: "AWS Config: secretsmanager-using-cmk",
        },
        check: default_kms_key,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::MissingRequiredTags,
            severity: Severity::Low,
            title: "Required tags missing",
            why: "Without an owner (and the other required tags) nobody can be asked about the secret, approve access to it, or decide that it can go.",
            fix: "Add the tags: console → the secret → Tags → Edit tags, or `aws secretsmanager tag-resource --secret-id <name> --tags Key=owner,Value=<team or person>`.",
            source: "AWS Config: required-tags; Security Hub SecretsManager.5 (secrets should be tagged)",
        },
        check: missing_required_tags,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::NoDescription,
            severity: Severity::Info,
            title: "No description",
            why: "A description tells the next person what the secret is for and what uses it; without one, cleanup and incident response start with guesswork.",
            fix: "Console → the secret → Edit description, or `aws secretsmanager update-secret --secret-id <name> --description \"<what it is, what uses it>\"`.",
            source: "Secrets Manager User Guide: best practices (describe and tag secrets); secretscope convention",
        },
        check: no_description,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::ScheduledForDeletion,
            severity: Severity::Medium,
            title: "Scheduled for deletion",
            why: "The secret will be deleted for good when its recovery window (7 to 30 days) ends; anything still using it will then fail.",
            fix: "If the deletion is intended, nothing to do. Otherwise restore it before the deadline: console → the secret → Cancel deletion, or `aws secretsmanager restore-secret --secret-id <name>`.",
            source: "Secrets Manager API Reference: DeleteSecret (RecoveryWindowInDays) and RestoreSecret",
        },
        check: scheduled_for_deletion,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::AccessedAfterDeletion,
            severity: Severity::High,
            title: "Accessed after deletion was scheduled",
            why: "Something still reads a secret that is about to be deleted: when the recovery window ends, that reader breaks.",
            fix: "Find the reader in CloudTrail (GetSecretValue on this secret since the deletion date), then either restore the secret (`aws secretsmanager restore-secret --secret-id <name>`) or move the reader off it before the deadline.",
            source: "Secrets Manager User Guide: Monitor when secrets scheduled for deletion are accessed (CloudTrail + CloudWatch alarm)",
        },
        check: accessed_after_deletion,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::ReplicaFailed,
            severity: Severity::High,
            title: "Replica failed or out of sync",
            why: "A replica Region does not hold the current secret: readers or failover in that Region get a stale value or none.",
            fix: "Read the replica's status message (console → the secret → Replicate secret, or `aws secretsmanager describe-secret --secret-id <name>`), fix its cause (a name clash or an unusable KMS key in that Region), then remove and re-add the replica: `aws secretsmanager remove-regions-from-replication --secret-id <name> --remove-replica-regions <region>` and `aws secretsmanager replicate-secret-to-regions --secret-id <name> --add-replica-regions Region=<region>`.",
            source: "Secrets Manager User Guide: Replicate secrets across Regions (troubleshoot replication); API Reference: ReplicationStatusType",
        },
        check: replica_failed,
    },
];

/// The description of a rule.
pub fn info(id: RuleId) -> &'static RuleInfo {
    &RULES[id as usize].info
}

// ---------------------------------------------------------------------------
// Configuration

/// Thresholds, switches and severities. Every field has a default, so a
/// partial configuration file is enough.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// How long AWSPENDING may sit on a non-current version before the
    /// rotation counts as failed.
    pub pending_grace_secs: i64,
    pub not_rotated_days: i64,
    pub max_interval_days: i64,
    pub unused_days: i64,
    /// Tag keys every secret must carry with a non-blank value.
    pub required_tags: Vec<String>,
    /// How long a replica may be not `InSync` after the secret changed.
    pub replica_grace_secs: i64,
    /// Rules switched off: they produce nothing.
    pub disabled: BTreeSet<RuleId>,
    pub severity_overrides: BTreeMap<RuleId, Severity>,
    /// The tag key that carries suppressions.
    pub suppression_tag: String,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            pending_grace_secs: PENDING_GRACE_SECS,
            not_rotated_days: 90,
            max_interval_days: 90,
            unused_days: 90,
            required_tags: vec!["owner".to_string()],
            replica_grace_secs: HOUR,
            disabled: BTreeSet::new(),
            severity_overrides: BTreeMap::new(),
            suppression_tag: "secretscope:suppress".to_string(),
        }
    }
}

impl HealthConfig {
    pub fn is_enabled(&self, id: RuleId) -> bool {
        !self.disabled.contains(&id)
    }

    /// The rule's severity after overrides.
    pub fn severity_of(&self, id: RuleId) -> Severity {
        self.severity_overrides
            .get(&id)
            .copied()
            .unwrap_or(info(id).severity)
    }
}

// ---------------------------------------------------------------------------
// Findings

/// A rule that fired for one secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    /// After configuration overrides.
    pub severity: Severity,
    /// When the problem started, where that can be known.
    pub since: Option<Timestamp>,
    /// A sentence naming the specifics (Lambda, version, deadline, tags…).
    pub detail: String,
    /// The reason, when a suppression tag covers this finding.
    pub suppressed: Option<String>,
}

impl Finding {
    pub fn info(&self) -> &'static RuleInfo {
        info(self.rule)
    }

    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

/// One replica's status, from DescribeSecret's ReplicationStatus (ListSecrets
/// does not return it, so it is not part of [`Secret`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaState {
    pub region: String,
    /// `InSync`, `Failed` or `InProgress`.
    pub status: String,
    pub message: Option<String>,
    pub last_accessed: Option<Timestamp>,
}

/// Runs every enabled rule, handing each hit to `sink`; then the
/// suppression, if the secret carries a valid one.
fn run<'a>(input: &Input<'a>, mut sink: impl FnMut(RuleId, Hit)) -> Option<Suppression<'a>> {
    let cfg = input.cfg;
    let mut any = false;
    for rule in &RULES {
        let id = rule.info.id;
        if !cfg.is_enabled(id) {
            continue;
        }
        if let Some(hit) = (rule.check)(input) {
            any = true;
            sink(id, hit);
        }
    }
    if !any {
        return None;
    }
    input
        .secret
        .tag(&cfg.suppression_tag)
        .and_then(parse_suppression)
}

/// Runs every enabled rule over `s` at `now`. `replicas` is the replica
/// status when it was fetched; the replica rule runs only then. Findings are
/// sorted: active before suppressed, then worst first, then rule order.
pub fn evaluate(
    s: &Secret,
    replicas: Option<&[ReplicaState]>,
    cfg: &HealthConfig,
    now: Timestamp,
) -> Vec<Finding> {
    let input = Input {
        secret: s,
        replicas,
        cfg,
        now,
        details: true,
    };
    let mut out: Vec<Finding> = Vec::new();
    let sup = run(&input, |id, hit| {
        out.push(Finding {
            rule: id,
            severity: cfg.severity_of(id),
            since: hit.since,
            detail: hit.detail,
            suppressed: None,
        })
    });
    if let Some(sup) = sup {
        for f in &mut out {
            if sup.covers(f.rule) {
                f.suppressed = Some(sup.reason.to_string());
            }
        }
    }
    if out.len() > 1 {
        out.sort_by(order);
    }
    out
}

/// A set of rules, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u16);

impl RuleSet {
    pub fn contains(self, id: RuleId) -> bool {
        self.0 & (1 << id as u16) != 0
    }

    pub fn insert(&mut self, id: RuleId) {
        self.0 |= 1 << id as u16;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// In the order of [`RuleId::ALL`].
    pub fn iter(self) -> impl Iterator<Item = RuleId> {
        RuleId::ALL.into_iter().filter(move |id| self.contains(*id))
    }
}

impl FromIterator<RuleId> for RuleSet {
    fn from_iter<I: IntoIterator<Item = RuleId>>(iter: I) -> Self {
        let mut set = RuleSet::default();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

/// What [`evaluate`] finds, without the words: for counting a whole
/// inventory (overview, metrics) without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Every rule that fired, suppressed or not.
    pub fired: RuleSet,
    /// The fired rules a suppression tag covers.
    pub suppressed: RuleSet,
    /// The worst severity among active findings, as [`worst`].
    pub worst: Option<Severity>,
}

impl Summary {
    /// Fired and not suppressed.
    pub fn active(&self) -> RuleSet {
        RuleSet(self.fired.0 & !self.suppressed.0)
    }
}

/// [`evaluate`] without detail strings: same rules, same configuration, no
/// allocation.
pub fn summarize(
    s: &Secret,
    replicas: Option<&[ReplicaState]>,
    cfg: &HealthConfig,
    now: Timestamp,
) -> Summary {
    let input = Input {
        secret: s,
        replicas,
        cfg,
        now,
        details: false,
    };
    let mut fired = RuleSet::default();
    let sup = run(&input, |id, _| fired.insert(id));
    let suppressed: RuleSet = match sup {
        Some(sup) => fired.iter().filter(|id| sup.covers(*id)).collect(),
        None => RuleSet::default(),
    };
    let worst = RuleSet(fired.0 & !suppressed.0)
        .iter()
        .map(|id| cfg.severity_of(id))
        .max();
    Summary {
        fired,
        suppressed,
        worst,
    }
}

fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.suppressed
        .is_some()
        .cmp(&b.suppressed.is_some())
        .then(b.severity.cmp(&a.severity))
        .then(a.rule.cmp(&b.rule))
}

/// The worst severity among active (not suppressed) findings.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.is_active())
        .map(|f| f.severity)
        .max()
}

// ---------------------------------------------------------------------------
// Suppression

/// A parsed suppression tag value: `rule-id[,rule-id…]: reason` or `*: reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suppression<'a> {
    rules: &'a str,
    pub reason: &'a str,
}

/// `None` when the value has no colon, no rule list or no reason.
pub fn parse_suppression(value: &str) -> Option<Suppression<'_>> {
    let (rules, reason) = value.split_once(':')?;
    let (rules, reason) = (rules.trim(), reason.trim());
    (!rules.is_empty() && !reason.is_empty()).then_some(Suppression { rules, reason })
}

impl Suppression<'_> {
    pub fn covers(&self, id: RuleId) -> bool {
        self.rules
            .split(',')
            .map(str::trim)
            .any(|r| r == "*" || r.eq_ignore_ascii_case(id.as_str()))
    }
}

// ---------------------------------------------------------------------------
// Rotation schedule parsing

/// A rotation window: `3h`, `10h`, `1h30m`, `90m` (hours then minutes, each
/// optional but not both). Seconds, or `None` when unreadable or zero.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    let (mut seen_h, mut seen_m) = (false, false);
    for b in s.trim().bytes() {
        match b {
            b'0'..=b'9' => {
                let n = num.unwrap_or(0).checked_mul(10)?;
                num = Some(n.checked_add(i64::from(b - b'0'))?);
            }
            b'h' | b'H' if !seen_h && !seen_m => {
                total = total.checked_add(num.take()?.checked_mul(HOUR)?)?;
                seen_h = true;
            }
            b'm' | b'M' if !seen_m => {
                total = total.checked_add(num.take()?.checked_mul(60)?)?;
                seen_m = true;
            }
            _ => return None,
        }
    }
    (num.is_none() && (seen_h || seen_m) && total > 0).then_some(total)
}

/// `rate(N days)` / `rate(N hours)` (singular too) in seconds; `None` for
/// anything else, `cron(...)` included.
pub fn parse_rate(expr: &str) -> Option<i64> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let mut parts = inner.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() || n <= 0 {
        return None;
    }
    let per = if unit.eq_ignore_ascii_case("day") || unit.eq_ignore_ascii_case("days") {
        DAY
    } else if unit.eq_ignore_ascii_case("hour") || unit.eq_ignore_ascii_case("hours") {
        HOUR
    } else {
        return None;
    };
    n.checked_mul(per)
}

fn schedule(r: &RotationRules) -> Option<&str> {
    r.schedule_expression
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// Seconds between rotations: a `rate()` schedule, else AutomaticallyAfterDays.
/// `None` for a `cron()` (or unreadable) schedule, or without either.
pub fn rotation_interval_secs(r: &RotationRules) -> Option<i64> {
    match schedule(r) {
        Some(expr) => parse_rate(expr),
        None => r
            .automatically_after_days
            .filter(|d| *d > 0)
            .map(|d| d.saturating_mul(DAY)),
    }
}

/// How long after NextRotationDate a rotation may still happen: Duration, or
/// one hour for an hourly `rate()`, or 24 hours (see the module notes).
pub fn rotation_window_secs(r: Option<&RotationRules>) -> i64 {
    let Some(r) = r else { return DAY };
    if let Some(d) = r.duration.as_deref().and_then(parse_duration) {
        return d;
    }
    match schedule(r).and_then(parse_rate) {
        Some(every) if every % DAY != 0 => HOUR,
        _ => DAY,
    }
}

// ---------------------------------------------------------------------------
// The checks

/// AWSPENDING on a non-current version past the grace: the version and when
/// the rotation started (its creation, else the secret's last change).
fn stuck_pending<'a>(
    s: &'a Secret,
    cfg: &HealthConfig,
    now: Timestamp,
) -> Option<(&'a Version, Timestamp)> {
    let v = s.pending_version()?;
    let started = v.created.or(s.last_changed)?;
    (now.secs().saturating_sub(started.secs()) > cfg.pending_grace_secs).then_some((v, started))
}

fn rotation_failed(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    // A failure seen for the pending version is a failure now, however
    // young the version: the grace is for rotations nobody saw fail.
    let seen = s.seen_failure();
    let (v, started) = match (stuck_pending(s, i.cfg, i.now), seen) {
        (Some(stuck), _) => stuck,
        (None, Some(f)) => {
            let v = s.pending_version()?;
            (v, v.created.or(s.last_changed).unwrap_or(f.at))
        }
        (None, None) => return None,
    };
    Some(Hit {
        since: Some(started),
        detail: i.text(|| {
            if let Some(f) = seen {
                // The message names the function; the Lambda is shown beside.
                let why = f
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return format!(
                    "{} {}{why}. AWSPENDING is on version {}, not AWSCURRENT.",
                    f.headline(),
                    When(f.at),
                    v.id,
                );
            }
            let by = match s.rotation_lambda_arn.as_deref() {
                Some(l) => format!("The rotation by Lambda {l} did not finish"),
                None => "The rotation did not finish (no rotation Lambda configured)".to_string(),
            };
            let (pre, post) = if v.created.is_some() {
                ("", "")
            } else {
                (
                    "at least ",
                    ", the secret's last change: version dates are not fetched yet",
                )
            };
            format!(
                "{by}: AWSPENDING has been on version {}, not AWSCURRENT, for {} (since {pre}{}{post}).",
                v.id,
                Span(i.now.secs().saturating_sub(started.secs())),
                When(started),
            )
        }),
    })
}

fn rotation_overdue(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if !s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    let next = s.next_rotation?;
    if s.pending_version().is_some() {
        // Running (within its grace), or failed and reported as such.
        let stuck = stuck_pending(s, i.cfg, i.now).is_some() || s.seen_failure().is_some();
        if !stuck || i.cfg.is_enabled(RuleId::RotationFailed) {
            return None;
        }
    }
    let window = rotation_window_secs(s.rotation_rules.as_deref());
    let deadline = next.secs().saturating_add(window);
    if i.now.secs() <= deadline {
        return None;
    }
    Some(Hit {
        since: Some(Timestamp::new(deadline)),
        detail: i.text(|| {
            let mut d = format!(
                "Rotation was due by {} (NextRotationDate {} plus a {} window) and has not happened: {} overdue.",
                When(Timestamp::new(deadline)),
                When(next),
                Span(window),
                Span(i.now.secs().saturating_sub(deadline)),
            );
            if let Some(l) = s.rotation_lambda_arn.as_deref() {
                d.push_str(" Rotation Lambda: ");
                d.push_str(l);
                d.push('.');
            }
            d
        }),
    })
}

fn rotation_disabled(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    Some(Hit {
        since: None,
        detail: i.text(|| match s.last_rotated {
            Some(t) => format!(
                "Automatic rotation is off; the secret was last rotated on {}.",
                Day(t)
            ),
            None => "Automatic rotation is off and the secret has never been rotated.".to_string(),
        }),
    })
}

fn rotation_disabled_with_rules(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    let rules = s
        .rotation_rules
        .as_deref()
        .filter(|r| schedule(r).is_some() || r.automatically_after_days.is_some());
    let lambda = s.rotation_lambda_arn.as_deref();
    if lambda.is_none() && rules.is_none() {
        return None;
    }
    Some(Hit {
        since: None,
        detail: i.text(|| {
            let what = match (lambda, rules) {
                (Some(l), None) => format!("the rotation Lambda {l} is"),
                (None, Some(r)) => format!("the rotation schedule ({}) is", ScheduleText(r)),
                (Some(l), Some(r)) => format!(
                    "the rotation Lambda {l} and schedule ({}) are",
                    ScheduleText(r)
                ),
                (None, None) => unreachable!("checked above"),
            };
            format!("Automatic rotation is off, yet {what} still configured.")
        }),
    })
}

/// "rate(30 days)", "every 30 days", with the window when there is one.
struct ScheduleText<'a>(&'a RotationRules);

impl fmt::Display for ScheduleText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        match (schedule(r), r.automatically_after_days) {
            (Some(e), _) => f.write_str(e)?,
            (None, Some(d)) => write!(f, "every {d} days")?,
            (None, None) => f.write_str("no schedule")?,
        }
        match r.duration.as_deref() {
            Some(d) => write!(f, ", window {d}"),
            None => Ok(()),
        }
    }
}

fn not_rotated_recently(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    let base = s.last_rotated.or(s.created)?;
    let days = i.cfg.not_rotated_days;
    let deadline = base.secs().saturating_add(days.saturating_mul(DAY));
    if i.now.secs() <= deadline {
        return None;
    }
    Some(Hit {
        since: Some(Timestamp::new(deadline)),
        detail: i.text(|| {
            let what = if s.last_rotated.is_some() {
                "Last rotated on"
            } else {
                "Never rotated since it was created on"
            };
            format!(
                "{what} {} ({} ago), more than {days} days ago.",
                Day(base),
                Span(i.now.secs().saturating_sub(base.secs()))
            )
        }),
    })
}

fn rotation_interval_too_long(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if !s.rotation_enabled || s.deleted.is_some() {
        return None;
    }
    let r = s.rotation_rules.as_deref()?;
    let every = rotation_interval_secs(r)?;
    let max = i.cfg.max_interval_days;
    if every <= max.saturating_mul(DAY) {
        return None;
    }
    Some(Hit {
        since: None,
        detail: i.text(|| {
            let (n, unit) = if every % DAY == 0 {
                (every / DAY, "days")
            } else {
                (every / HOUR, "hours")
            };
            format!("Rotates every {n} {unit}, longer than the allowed {max} days.")
        }),
    })
}

fn unused(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    let n = i.cfg.unused_days;
    let allowed = n.saturating_mul(DAY);
    match s.last_accessed {
        Some(t) => {
            // The access happened some time on day t: count it until that day's end.
            let day_end = t
                .secs()
                .saturating_sub(t.secs().rem_euclid(DAY))
                .saturating_add(DAY);
            let since = day_end.saturating_add(allowed);
            (i.now.secs() > since).then(|| Hit {
                since: Some(Timestamp::new(since)),
                detail: i.text(|| format!("Last accessed on {}, more than {n} days ago.", Day(t))),
            })
        }
        None => {
            let created = s.created?;
            let since = created.secs().saturating_add(allowed);
            (i.now.secs() > since).then(|| Hit {
                since: Some(Timestamp::new(since)),
                detail: i.text(|| {
                    format!(
                        "Never accessed since it was created on {} ({} ago).",
                        Day(created),
                        Span(i.now.secs().saturating_sub(created.secs()))
                    )
                }),
            })
        }
    }
}

fn default_kms_key(i: &Input<'_>) -> Option<Hit> {
    i.secret.uses_default_kms_key().then(|| Hit {
        since: None,
        detail: i.text(|| {
            "Encrypted with the AWS managed key aws/secretsmanager, not a customer managed key."
                .to_string()
        }),
    })
}

fn has_tag(s: &Secret, key: &str) -> bool {
    s.tags
        .iter()
        .any(|t| &*t.key == key && !t.value.trim().is_empty())
}

fn missing_required_tags(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    let missing = || {
        i.cfg
            .required_tags
            .iter()
            .filter(|k| !k.is_empty() && !has_tag(s, k))
    };
    missing().next()?;
    Some(Hit {
        since: None,
        detail: i.text(|| {
            let mut d = String::from("Missing required tag");
            if missing().nth(1).is_some() {
                d.push('s');
            }
            for (n, k) in missing().enumerate() {
                d.push_str(if n == 0 { ": " } else { ", " });
                d.push_str(k);
            }
            d.push('.');
            d
        }),
    })
}

fn no_description(i: &Input<'_>) -> Option<Hit> {
    let blank = i
        .secret
        .description
        .as_deref()
        .is_none_or(|d| d.trim().is_empty());
    blank.then(|| Hit {
        since: None,
        detail: i.text(|| {
            "No description: nothing says what this secret is for or what uses it.".to_string()
        }),
    })
}

/// The longest recovery window AWS allows.
const MAX_RECOVERY_DAYS: i64 = 30;

fn scheduled_for_deletion(i: &Input<'_>) -> Option<Hit> {
    let d = i.secret.deleted?;
    Some(Hit {
        since: Some(d),
        detail: i.text(|| {
            let latest = Timestamp::new(d.secs().saturating_add(MAX_RECOVERY_DAYS * DAY));
            format!(
                "Scheduled for deletion on {}; it can be restored until its recovery window (7 to 30 days) ends, at the latest {}.",
                When(d),
                When(latest)
            )
        }),
    })
}

fn accessed_after_deletion(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    let d = s.deleted?;
    let a = s.last_accessed?;
    // `a` is a day (midnight UTC): after `d` means a later day than the deletion.
    (a > d).then(|| Hit {
        since: Some(a),
        detail: i.text(|| {
            format!(
                "Accessed on {}, after it was scheduled for deletion on {}: something still reads it.",
                Day(a),
                When(d)
            )
        }),
    })
}

fn replica_failed(i: &Input<'_>) -> Option<Hit> {
    let replicas = i.replicas?;
    let s = i.secret;
    let out_of_sync_for = s
        .last_changed
        .map(|c| i.now.secs().saturating_sub(c.secs()))
        .filter(|age| *age > i.cfg.replica_grace_secs);
    let failed = |r: &ReplicaState| r.status.eq_ignore_ascii_case("Failed");
    let lagging = |r: &ReplicaState| {
        !failed(r) && !r.status.eq_ignore_ascii_case("InSync") && out_of_sync_for.is_some()
    };
    if !replicas.iter().any(|r| failed(r) || lagging(r)) {
        return None;
    }
    Some(Hit {
        since: if replicas.iter().any(lagging) {
            s.last_changed
        } else {
            None
        },
        detail: i.text(|| {
            let mut d = String::new();
            for r in replicas {
                let sep = if d.is_empty() { "The" } else { "; the" };
                if failed(r) {
                    d.push_str(&match r.message.as_deref() {
                        Some(m) => format!(
                            "{sep} replica in {} failed: {}",
                            r.region,
                            m.trim().trim_end_matches('.')
                        ),
                        None => format!("{sep} replica in {} failed", r.region),
                    });
                } else if lagging(r) {
                    d.push_str(&format!(
                        "{sep} replica in {} is {} {} after the secret's last change",
                        r.region,
                        r.status,
                        Span(out_of_sync_for.unwrap_or(0))
                    ));
                }
            }
            d.push('.');
            d
        }),
    })
}

// ---------------------------------------------------------------------------
// Cheap formatting (chrono's formatter and `span`'s String cost more than
// the rules).

/// A duration as [`span`](crate::domain::time::span) words it ("45 s", "3 min", "2 h", "5 days"),
/// written straight into the detail.
struct Span(i64);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.max(0);
        match secs {
            0..=59 => write!(f, "{secs} s"),
            60..=3599 => write!(f, "{} min", secs / 60),
            3600..=86_399 => write!(f, "{} h", secs / 3600),
            86_400..=172_799 => f.write_str("1 day"),
            _ => write!(f, "{} days", secs / 86_400),
        }
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-18`
struct Day(Timestamp);

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil(self.0.secs().div_euclid(DAY));
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// `2026-11-18 11:06 UTC`, as [`Timestamp::display`].
struct When(Timestamp);

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.secs().rem_euclid(DAY);
        write!(
            f,
            "{} {:02}:{:02} UTC",
            Day(self.0),
            secs / HOUR,
            secs % HOUR / 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::domain::secret::VersionId;
    use crate::domain::time::span;
    use crate::domain::{Label, Tag};
    use proptest::prelude::*;
    use std::sync::Arc;

    const NOW: Timestamp = Timestamp::new(1_795_000_000);

    fn at(offset: i64) -> Timestamp {
        Timestamp::new(NOW.secs() + offset)
    }

    fn cfg() -> HealthConfig {
        HealthConfig::default()
    }

    fn run(s: &Secret) -> Vec<Finding> {
        evaluate(s, None, &cfg(), NOW)
    }

    fn fired(s: &Secret, id: RuleId) -> Option<Finding> {
        run(s).into_iter().find(|f| f.rule == id)
    }

    fn fires_at(s: &Secret, id: RuleId, now: Timestamp) -> bool {
        evaluate(s, None, &cfg(), now).iter().any(|f| f.rule == id)
    }

    fn tag(s: &mut Secret, k: &str, v: &str) {
        s.tags.push(Tag {
            key: Arc::from(k),
            value: Arc::from(v),
        });
    }

    /// A secret no rule fires for at NOW.
    fn healthy() -> Secret {
        let mut s = secret("prod/payments/db");
        s.description = Some("Payments database".into());
        s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:123456789012:key/1234abcd"));
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some(Arc::from(
            "arn:aws:lambda:us-east-1:123456789012:function:rotate-db",
        ));
        s.rotation_rules = Some(Arc::new(RotationRules {
            automatically_after_days: Some(30),
            duration: None,
            schedule_expression: None,
        }));
        s.created = Some(at(-400 * DAY));
        s.last_rotated = Some(at(-10 * DAY));
        s.last_changed = Some(at(-10 * DAY));
        s.next_rotation = Some(at(20 * DAY));
        s.last_accessed = Some(at(-DAY));
        tag(&mut s, "owner", "payments-team");
        s
    }

    fn pending(s: &mut Secret, created: Option<Timestamp>) {
        s.versions.push(Version {
            id: VersionId::parse("0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
            labels: [Label::Pending].into_iter().collect(),
            created,
            last_accessed: None,
        });
    }

    fn rules(days: Option<i64>, duration: Option<&str>, expr: Option<&str>) -> Arc<RotationRules> {
        Arc::new(RotationRules {
            automatically_after_days: days,
            duration: duration.map(str::to_string),
            schedule_expression: expr.map(str::to_string),
        })
    }

    #[test]
    fn a_healthy_secret_has_no_findings() {
        let s = healthy();
        assert_eq!(run(&s), vec![]);
        assert_eq!(worst(&run(&s)), None);
    }

    #[test]
    fn severities_order_and_names() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::High > Severity::Medium);
        assert!(Severity::Medium > Severity::Low);
        assert!(Severity::Low > Severity::Info);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            assert_eq!(Severity::parse(&s.as_str().to_uppercase()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(s.to_string(), s.as_str());
        }
        assert!(Severity::ALL.windows(2).all(|w| w[0] > w[1]));
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    fn rule_ids_are_stable_and_documented() {
        let want = [
            "rotation-failed",
            "rotation-overdue",
            "rotation-disabled",
            "rotation-disabled-with-rules",
            "not-rotated-recently",
            "rotation-interval-too-long",
            "unused",
            "default-kms-key",
            "missing-required-tags",
            "no-description",
            "scheduled-for-deletion",
            "accessed-after-deletion",
            "replica-failed",
        ];
        assert_eq!(RuleId::ALL.map(RuleId::as_str), want);
        for (k, id) in RuleId::ALL.into_iter().enumerate() {
            assert_eq!(RULES[k].info.id, id, "RULES follows RuleId::ALL");
            assert_eq!(RuleId::parse(id.as_str()), Some(id));
            assert_eq!(
                serde_json::to_string(&id).unwrap(),
                format!("\"{}\"", id.as_str())
            );
            let i = info(id);
            assert_eq!(i.id, id);
            for text in [i.title, i.why, i.fix, i.source] {
                assert!(text.len() > 5, "{id}: {text:?}");
            }
        }
        assert_eq!(RuleId::parse("nope"), None);
        use Severity::*;
        let defaults = [
            (RuleId::RotationFailed, Critical),
            (RuleId::RotationOverdue, High),
            (RuleId::AccessedAfterDeletion, High),
            (RuleId::ReplicaFailed, High),
            (RuleId::RotationDisabled, Medium),
            (RuleId::NotRotatedRecently, Medium),
            (RuleId::ScheduledForDeletion, Medium),
            (RuleId::RotationIntervalTooLong, Low),
            (RuleId::Unused, Low),
            (RuleId::DefaultKmsKey, Low),
            (RuleId::MissingRequiredTags, Low),
            (RuleId::RotationDisabledWithRules, Low),
            (RuleId::NoDescription, Info),
        ];
        assert_eq!(defaults.len(), RuleId::ALL.len());
        for (id, sev) in defaults {
            assert_eq!(info(id).severity, sev, "{id}");
        }
    }

    #[test]
    fn a_seen_failure_is_a_failure_within_the_grace() {
        use crate::domain::rotation_failure::{RotationFailure, RotationStep};
        let mut s = healthy();
        s.rotation_enabled = true;
        pending(&mut s, Some(at(-60)));
        assert!(
            fired(&s, RuleId::RotationFailed).is_none(),
            "young: running"
        );
        assert_eq!(
            crate::domain::state::State::of(&s, at(0)),
            crate::domain::state::State::Rotating
        );
        // A retry that failed again: CloudTrail recorded it after the
        // pending version was created.
        s.failure = Some(Arc::new(RotationFailure {
            at: at(-30),
            step: Some(RotationStep::TestSecret),
            attempt: 3,
            message: Some("f failed at testSecret: Unable to log into database".into()),
        }));
        let f = fired(&s, RuleId::RotationFailed).expect("seen failing: failed now");
        assert_eq!(f.since, Some(at(-60)));
        assert!(
            f.detail
                .starts_with("Retry failed at testSecret, attempt 3"),
            "{}",
            f.detail
        );
        assert!(
            f.detail.contains("Unable to log into database"),
            "{}",
            f.detail
        );
        assert_eq!(
            crate::domain::state::State::of(&s, at(0)),
            crate::domain::state::State::RotationStuck
        );
        // A failure from before this version (an earlier attempt) does not count.
        s.failure = Some(Arc::new(RotationFailure {
            at: at(-120),
            step: None,
            attempt: 1,
            message: None,
        }));
        assert!(fired(&s, RuleId::RotationFailed).is_none());
    }

    #[test]
    fn rotation_failed_after_the_grace_period() {
        let mut s = healthy();
        pending(&mut s, Some(at(-PENDING_GRACE_SECS)));
        assert!(
            fired(&s, RuleId::RotationFailed).is_none(),
            "exactly at the grace: still rotating"
        );
        s.versions[1].created = Some(at(-PENDING_GRACE_SECS - 1));
        let f = fired(&s, RuleId::RotationFailed).expect("one second past the grace");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.since, Some(at(-PENDING_GRACE_SECS - 1)));
        assert!(f.detail.contains("function:rotate-db"), "{}", f.detail);
        assert!(
            f.detail.contains("0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("for 1 h"), "{}", f.detail);
        assert!(!f.detail.contains("not fetched"), "{}", f.detail);

        // AWSPENDING on AWSCURRENT is not a pending rotation.
        let mut t = healthy();
        t.versions[0].labels = [Label::Current, Label::Pending].into_iter().collect();
        t.last_changed = Some(at(-5 * DAY));
        assert!(fired(&t, RuleId::RotationFailed).is_none());

        // Deleted secrets cannot be rotated: not on-call's problem.
        s.deleted = Some(at(-DAY));
        assert!(fired(&s, RuleId::RotationFailed).is_none());
    }

    #[test]
    fn rotation_failed_without_version_dates_uses_last_changed() {
        let mut s = healthy();
        s.rotation_lambda_arn = None;
        pending(&mut s, None);
        s.last_changed = None;
        assert!(
            fired(&s, RuleId::RotationFailed).is_none(),
            "no date at all: cannot tell"
        );
        s.last_changed = Some(at(-PENDING_GRACE_SECS));
        assert!(fired(&s, RuleId::RotationFailed).is_none());
        s.last_changed = Some(at(-2 * DAY));
        let f = fired(&s, RuleId::RotationFailed).unwrap();
        assert_eq!(f.since, Some(at(-2 * DAY)));
        assert!(f.detail.contains("no rotation Lambda"), "{}", f.detail);
        assert!(f.detail.contains("not fetched"), "{}", f.detail);
        assert!(f.detail.contains("2 days"), "{}", f.detail);
    }

    #[test]
    fn rotation_overdue_after_the_window() {
        let mut s = healthy();
        // No Duration, AutomaticallyAfterDays: a 24 hour window.
        s.next_rotation = Some(at(-DAY));
        assert!(
            fired(&s, RuleId::RotationOverdue).is_none(),
            "window not over"
        );
        s.next_rotation = Some(at(-DAY - 1));
        let f = fired(&s, RuleId::RotationOverdue).unwrap();
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.since, Some(at(-1)));
        assert!(f.detail.contains("function:rotate-db"), "{}", f.detail);
        assert!(f.detail.contains("1 day window"), "{}", f.detail);

        // Duration 3h.
        s.rotation_rules = Some(rules(Some(30), Some("3h"), Some("rate(30 days)")));
        s.next_rotation = Some(at(-3 * HOUR));
        assert!(fired(&s, RuleId::RotationOverdue).is_none());
        s.next_rotation = Some(at(-3 * HOUR - 1));
        assert_eq!(
            fired(&s, RuleId::RotationOverdue).unwrap().since,
            Some(at(-1))
        );

        // An hourly rate without Duration: a one hour window.
        s.rotation_rules = Some(rules(None, None, Some("rate(4 hours)")));
        s.next_rotation = Some(at(-HOUR));
        assert!(fired(&s, RuleId::RotationOverdue).is_none());
        s.next_rotation = Some(at(-HOUR - 1));
        assert!(fired(&s, RuleId::RotationOverdue).is_some());

        // Only for enabled rotation, and not for deleted secrets.
        let mut off = s.clone();
        off.rotation_enabled = false;
        assert!(fired(&off, RuleId::RotationOverdue).is_none());
        let mut del = s.clone();
        del.deleted = Some(at(-DAY));
        assert!(fired(&del, RuleId::RotationOverdue).is_none());
        let mut unknown = s.clone();
        unknown.next_rotation = None;
        assert!(fired(&unknown, RuleId::RotationOverdue).is_none());
    }

    #[test]
    fn overdue_defers_to_a_running_or_failed_rotation() {
        let mut s = healthy();
        s.next_rotation = Some(at(-5 * DAY));
        pending(&mut s, Some(at(-60)));
        assert!(
            run(&s)
                .iter()
                .all(|f| f.rule != RuleId::RotationOverdue && f.rule != RuleId::RotationFailed),
            "a rotation is running"
        );
        s.versions[1].created = Some(at(-5 * DAY));
        let ids: Vec<RuleId> = run(&s).iter().map(|f| f.rule).collect();
        assert!(ids.contains(&RuleId::RotationFailed));
        assert!(
            !ids.contains(&RuleId::RotationOverdue),
            "one problem, one finding"
        );
        // With rotation-failed switched off, the missed deadline still shows.
        let mut c = cfg();
        c.disabled.insert(RuleId::RotationFailed);
        let ids: Vec<RuleId> = evaluate(&s, None, &c, NOW).iter().map(|f| f.rule).collect();
        assert_eq!(ids, vec![RuleId::RotationOverdue]);
    }

    #[test]
    fn rotation_disabled_and_leftover_rules() {
        let mut s = healthy();
        s.rotation_enabled = false;
        let ids: Vec<RuleId> = run(&s).iter().map(|f| f.rule).collect();
        assert_eq!(
            ids,
            vec![RuleId::RotationDisabled, RuleId::RotationDisabledWithRules]
        );
        let f = fired(&s, RuleId::RotationDisabledWithRules).unwrap();
        assert!(f.detail.contains("function:rotate-db"), "{}", f.detail);
        assert!(f.detail.contains("every 30 days"), "{}", f.detail);
        assert!(fired(&s, RuleId::RotationDisabled)
            .unwrap()
            .detail
            .contains("last rotated on"));

        // Rules alone, Lambda alone.
        s.rotation_lambda_arn = None;
        assert!(fired(&s, RuleId::RotationDisabledWithRules).is_some());
        s.rotation_rules = None;
        assert!(fired(&s, RuleId::RotationDisabledWithRules).is_none());
        s.rotation_lambda_arn = Some(Arc::from("arn:aws:lambda:us-east-1:1:function:f"));
        assert!(fired(&s, RuleId::RotationDisabledWithRules).is_some());

        // Never configured: only rotation-disabled.
        let mut n = healthy();
        n.rotation_enabled = false;
        n.rotation_lambda_arn = None;
        n.rotation_rules = None;
        n.last_rotated = None;
        n.next_rotation = None;
        n.created = Some(at(-10 * DAY));
        let f = run(&n);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RuleId::RotationDisabled);
        assert!(f[0].detail.contains("never been rotated"));

        // Deleted: neither.
        s.deleted = Some(at(-DAY));
        assert!(fired(&s, RuleId::RotationDisabled).is_none());
        assert!(fired(&s, RuleId::RotationDisabledWithRules).is_none());
    }

    #[test]
    fn not_rotated_recently_boundaries() {
        let mut s = healthy();
        s.last_rotated = Some(at(-90 * DAY));
        s.next_rotation = Some(at(DAY));
        assert!(
            fired(&s, RuleId::NotRotatedRecently).is_none(),
            "exactly 90 days"
        );
        s.last_rotated = Some(at(-90 * DAY - 1));
        let f = fired(&s, RuleId::NotRotatedRecently).expect("a second more");
        assert_eq!(f.since, Some(at(-1)));
        assert!(f.detail.contains("Last rotated on"), "{}", f.detail);

        // Never rotated: counted from creation, whether or not rotation is on.
        s.last_rotated = None;
        s.created = Some(at(-90 * DAY));
        assert!(fired(&s, RuleId::NotRotatedRecently).is_none());
        s.created = Some(at(-90 * DAY - 1));
        assert!(fired(&s, RuleId::NotRotatedRecently)
            .unwrap()
            .detail
            .contains("Never rotated"));
        s.rotation_enabled = false;
        assert!(fired(&s, RuleId::NotRotatedRecently).is_some());
        s.created = None;
        assert!(fired(&s, RuleId::NotRotatedRecently).is_none(), "no dates");

        // Configurable; not for deleted secrets.
        let mut t = healthy();
        t.last_rotated = Some(at(-31 * DAY));
        let mut c = cfg();
        c.not_rotated_days = 30;
        assert!(evaluate(&t, None, &c, NOW)
            .iter()
            .any(|f| f.rule == RuleId::NotRotatedRecently));
        t.deleted = Some(at(-DAY));
        assert!(!evaluate(&t, None, &c, NOW)
            .iter()
            .any(|f| f.rule == RuleId::NotRotatedRecently));
    }

    #[test]
    fn rotation_interval_boundaries() {
        let mut s = healthy();
        s.rotation_rules = Some(rules(Some(90), None, None));
        assert!(fired(&s, RuleId::RotationIntervalTooLong).is_none());
        s.rotation_rules = Some(rules(Some(91), None, None));
        let f = fired(&s, RuleId::RotationIntervalTooLong).unwrap();
        assert!(f.detail.contains("91 days"), "{}", f.detail);
        assert!(f.detail.contains("90 days"), "{}", f.detail);

        // The schedule expression wins over AutomaticallyAfterDays.
        s.rotation_rules = Some(rules(Some(30), None, Some("rate(120 days)")));
        assert!(fired(&s, RuleId::RotationIntervalTooLong).is_some());
        s.rotation_rules = Some(rules(Some(120), None, Some("rate(2160 hours)")));
        assert!(
            fired(&s, RuleId::RotationIntervalTooLong).is_none(),
            "90 days in hours"
        );
        s.rotation_rules = Some(rules(None, None, Some("rate(2161 hours)")));
        assert!(fired(&s, RuleId::RotationIntervalTooLong)
            .unwrap()
            .detail
            .contains("2161 hours"));
        // cron: skipped.
        s.rotation_rules = Some(rules(Some(365), None, Some("cron(0 16 1 * ? *)")));
        assert!(fired(&s, RuleId::RotationIntervalTooLong).is_none());
        // Rotation off: the configured interval is not in effect.
        s.rotation_rules = Some(rules(Some(365), None, None));
        assert!(fired(&s, RuleId::RotationIntervalTooLong).is_some());
        s.rotation_enabled = false;
        assert!(fired(&s, RuleId::RotationIntervalTooLong).is_none());
    }

    #[test]
    fn unused_counts_whole_days() {
        let mut s = healthy();
        // LastAccessedDate is midnight of the access day.
        let day = NOW.secs() - NOW.secs().rem_euclid(DAY) - 100 * DAY;
        s.last_accessed = Some(Timestamp::new(day));
        let end = day + DAY + 90 * DAY;
        assert!(
            !fires_at(&s, RuleId::Unused, Timestamp::new(end)),
            "90 full days"
        );
        assert!(fires_at(&s, RuleId::Unused, Timestamp::new(end + 1)));
        let f = evaluate(&s, None, &cfg(), Timestamp::new(end + 1))
            .into_iter()
            .find(|f| f.rule == RuleId::Unused)
            .unwrap();
        assert_eq!(f.since, Some(Timestamp::new(end)));
        assert!(
            f.detail.contains(&Day(Timestamp::new(day)).to_string()),
            "{}",
            f.detail
        );

        // Never accessed: counted from creation.
        s.last_accessed = None;
        s.created = Some(at(-90 * DAY));
        assert!(fired(&s, RuleId::Unused).is_none());
        s.created = Some(at(-90 * DAY - 1));
        assert!(fired(&s, RuleId::Unused)
            .unwrap()
            .detail
            .contains("Never accessed"));
        s.created = None;
        assert!(fired(&s, RuleId::Unused).is_none());

        // Not for secrets on their way out.
        s.created = Some(at(-200 * DAY));
        s.deleted = Some(at(-DAY));
        assert!(fired(&s, RuleId::Unused).is_none());
    }

    #[test]
    fn default_kms_key() {
        let mut s = healthy();
        assert!(fired(&s, RuleId::DefaultKmsKey).is_none());
        s.kms_key_id = None;
        assert!(fired(&s, RuleId::DefaultKmsKey).is_some());
        s.kms_key_id = Some(Arc::from("alias/aws/secretsmanager"));
        assert_eq!(
            fired(&s, RuleId::DefaultKmsKey).unwrap().severity,
            Severity::Low
        );
        s.deleted = Some(at(-DAY));
        assert!(
            fired(&s, RuleId::DefaultKmsKey).is_some(),
            "still true of a secret that can be restored"
        );
    }

    #[test]
    fn required_tags() {
        let mut s = healthy();
        s.tags.clear();
        let f = fired(&s, RuleId::MissingRequiredTags).unwrap();
        assert_eq!(f.detail, "Missing required tag: owner.");
        tag(&mut s, "owner", "  ");
        assert!(
            fired(&s, RuleId::MissingRequiredTags).is_some(),
            "blank value"
        );
        s.tags.clear();
        tag(&mut s, "Owner", "alice");
        assert!(
            fired(&s, RuleId::MissingRequiredTags).is_some(),
            "tag keys are case-sensitive"
        );
        let mut c = cfg();
        c.required_tags = vec!["Owner".into(), "team".into(), "cost-center".into()];
        let f = evaluate(&s, None, &c, NOW)
            .into_iter()
            .find(|f| f.rule == RuleId::MissingRequiredTags)
            .unwrap();
        assert_eq!(f.detail, "Missing required tags: team, cost-center.");
        tag(&mut s, "team", "x");
        tag(&mut s, "cost-center", "CC-1");
        assert!(evaluate(&s, None, &c, NOW).is_empty());
        c.required_tags.clear();
        s.tags.clear();
        assert!(evaluate(&s, None, &c, NOW).is_empty(), "no required tags");
    }

    #[test]
    fn description() {
        let mut s = healthy();
        s.description = None;
        assert_eq!(
            fired(&s, RuleId::NoDescription).unwrap().severity,
            Severity::Info
        );
        s.description = Some(" \n ".into());
        assert!(fired(&s, RuleId::NoDescription).is_some());
        s.description = Some("x".into());
        assert!(fired(&s, RuleId::NoDescription).is_none());
    }

    #[test]
    fn scheduled_for_deletion_names_the_deadline() {
        let mut s = healthy();
        s.deleted = Some(Timestamp::new(1_795_000_000));
        let f = fired(&s, RuleId::ScheduledForDeletion).unwrap();
        assert_eq!(f.since, s.deleted);
        assert!(f.detail.contains("2026-11-18 11:06 UTC"), "{}", f.detail);
        assert!(
            f.detail.contains("at the latest 2026-12-18 11:06 UTC"),
            "{}",
            f.detail
        );
        s.deleted = None;
        assert!(fired(&s, RuleId::ScheduledForDeletion).is_none());
    }

    #[test]
    fn accessed_after_deletion_compares_days() {
        let mut s = healthy();
        let midnight = NOW.secs() - NOW.secs().rem_euclid(DAY);
        s.deleted = Some(Timestamp::new(midnight - 5 * DAY + 3 * HOUR));
        // Read on the deletion day: cannot tell whether before or after.
        s.last_accessed = Some(Timestamp::new(midnight - 5 * DAY));
        assert!(fired(&s, RuleId::AccessedAfterDeletion).is_none());
        s.last_accessed = Some(Timestamp::new(midnight - 4 * DAY));
        let f = fired(&s, RuleId::AccessedAfterDeletion).unwrap();
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.since, s.last_accessed);
        s.deleted = None;
        assert!(fired(&s, RuleId::AccessedAfterDeletion).is_none());
    }

    fn replica(region: &str, status: &str, message: Option<&str>) -> ReplicaState {
        ReplicaState {
            region: region.into(),
            status: status.into(),
            message: message.map(Into::into),
            last_accessed: None,
        }
    }

    #[test]
    fn replica_failed_or_out_of_sync() {
        let mut s = healthy();
        let fail = [
            replica("us-west-2", "InSync", Some("Replication succeeded")),
            replica("eu-west-1", "Failed", Some("The KMS key is disabled.")),
        ];
        assert!(
            fired(&s, RuleId::ReplicaFailed).is_none(),
            "replicas unknown: the rule does not run"
        );
        let f = evaluate(&s, Some(&fail), &cfg(), NOW);
        let f = f.iter().find(|f| f.rule == RuleId::ReplicaFailed).unwrap();
        assert_eq!(
            f.detail,
            "The replica in eu-west-1 failed: The KMS key is disabled."
        );
        assert_eq!(f.since, None);
        let ok = [replica("us-west-2", "InSync", None)];
        assert!(evaluate(&s, Some(&ok), &cfg(), NOW).is_empty());
        assert!(evaluate(&s, Some(&[]), &cfg(), NOW).is_empty());

        let lag = [replica("ap-southeast-2", "InProgress", None)];
        s.last_changed = Some(at(-HOUR));
        assert!(
            evaluate(&s, Some(&lag), &cfg(), NOW).is_empty(),
            "within the grace"
        );
        s.last_changed = Some(at(-HOUR - 1));
        let f = evaluate(&s, Some(&lag), &cfg(), NOW);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].since, s.last_changed);
        assert!(
            f[0].detail.contains("ap-southeast-2 is InProgress 1 h"),
            "{}",
            f[0].detail
        );
        s.last_changed = None;
        assert!(
            evaluate(&s, Some(&lag), &cfg(), NOW).is_empty(),
            "no change date"
        );
    }

    #[test]
    fn disabled_rules_and_severity_overrides() {
        let mut s = healthy();
        s.kms_key_id = None;
        s.description = None;
        let mut c = cfg();
        c.disabled.insert(RuleId::NoDescription);
        c.severity_overrides
            .insert(RuleId::DefaultKmsKey, Severity::Critical);
        let f = evaluate(&s, None, &c, NOW);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RuleId::DefaultKmsKey);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(worst(&f), Some(Severity::Critical));
        c.disabled.extend(RuleId::ALL);
        assert!(evaluate(&s, None, &c, NOW).is_empty());
    }

    #[test]
    fn suppression_needs_a_reason() {
        let mut base = healthy();
        base.kms_key_id = None;
        base.description = None;
        let with = |v: &str| {
            let mut s = base.clone();
            tag(&mut s, "secretscope:suppress", v);
            run(&s)
        };

        let f = with("default-kms-key: shared with a partner account, CMK planned Q3");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].rule, RuleId::NoDescription, "active findings first");
        assert_eq!(f[0].suppressed, None);
        assert_eq!(f[1].rule, RuleId::DefaultKmsKey);
        assert_eq!(
            f[1].suppressed.as_deref(),
            Some("shared with a partner account, CMK planned Q3")
        );
        assert_eq!(
            worst(&f),
            Some(Severity::Info),
            "suppressed findings do not count"
        );

        let f = with("no-description , default-kms-key: legacy, see TICKET-1");
        assert!(f
            .iter()
            .all(|f| f.suppressed.as_deref() == Some("legacy, see TICKET-1")));
        assert_eq!(worst(&f), None);

        let f = with("*: decommissioned next sprint");
        assert!(f.iter().all(|f| !f.is_active()));

        for no_reason in [
            "default-kms-key",
            "default-kms-key:",
            "*:   ",
            ": reason",
            "",
        ] {
            let f = with(no_reason);
            assert!(f.iter().all(Finding::is_active), "{no_reason:?}");
            assert_eq!(f.len(), 2);
        }
        let f = with("unknown-rule: because");
        assert!(f.iter().all(Finding::is_active));

        // The key is the configured one.
        let mut s = base.clone();
        tag(&mut s, "suppress", "*: x");
        assert!(run(&s).iter().all(Finding::is_active));
        let mut c = cfg();
        c.suppression_tag = "suppress".into();
        assert!(evaluate(&s, None, &c, NOW).iter().all(|f| !f.is_active()));
    }

    #[test]
    fn summaries_count_without_words() {
        let mut s = healthy();
        s.kms_key_id = None;
        s.description = None;
        s.rotation_enabled = false;
        tag(
            &mut s,
            "secretscope:suppress",
            "rotation-disabled: decommissioned in May",
        );
        let sum = summarize(&s, None, &cfg(), NOW);
        let fired: Vec<RuleId> = sum.fired.iter().collect();
        assert_eq!(
            fired,
            vec![
                RuleId::RotationDisabled,
                RuleId::RotationDisabledWithRules,
                RuleId::DefaultKmsKey,
                RuleId::NoDescription
            ]
        );
        assert_eq!(sum.fired.len(), 4);
        assert!(sum.suppressed.contains(RuleId::RotationDisabled));
        assert_eq!(sum.suppressed.len(), 1);
        assert!(!sum.active().contains(RuleId::RotationDisabled));
        assert_eq!(sum.worst, Some(Severity::Low), "medium is suppressed");
        assert_eq!(sum.worst, worst(&evaluate(&s, None, &cfg(), NOW)));
        let clean = summarize(&healthy(), None, &cfg(), NOW);
        assert!(clean.fired.is_empty() && clean.worst.is_none());
        // A check run alone without details leaves the detail empty.
        let input = Input {
            secret: &s,
            replicas: None,
            cfg: &cfg(),
            now: NOW,
            details: false,
        };
        let hit = RULES[RuleId::DefaultKmsKey as usize].check(&input).unwrap();
        assert!(hit.detail.is_empty());
    }

    #[test]
    fn duration_parser() {
        for (s, want) in [
            ("3h", Some(3 * HOUR)),
            ("10h", Some(10 * HOUR)),
            ("24h", Some(24 * HOUR)),
            ("1h30m", Some(HOUR + 30 * 60)),
            ("90m", Some(90 * 60)),
            (" 2H ", Some(2 * HOUR)),
            ("0h30m", Some(30 * 60)),
            ("0h", None),
            ("", None),
            ("h", None),
            ("3", None),
            ("3h3", None),
            ("30m1h", None),
            ("3hh", None),
            ("3 h", None),
            ("-3h", None),
            ("1d", None),
            ("99999999999999999999h", None),
        ] {
            assert_eq!(parse_duration(s), want, "{s:?}");
        }
    }

    #[test]
    fn interval_parser() {
        for (expr, want) in [
            ("rate(30 days)", Some(30 * DAY)),
            ("rate(1 day)", Some(DAY)),
            ("rate(4 hours)", Some(4 * HOUR)),
            ("rate(1 hour)", Some(HOUR)),
            (" rate( 10  days ) ", Some(10 * DAY)),
            ("rate(0 days)", None),
            ("rate(10 minutes)", None),
            ("rate(10)", None),
            ("rate(x days)", None),
            ("cron(0 16 1,15 * ? *)", None),
        ] {
            assert_eq!(parse_rate(expr), want, "{expr}");
        }
        let r = |d, e: Option<&str>| RotationRules {
            automatically_after_days: d,
            duration: None,
            schedule_expression: e.map(str::to_string),
        };
        assert_eq!(rotation_interval_secs(&r(Some(30), None)), Some(30 * DAY));
        assert_eq!(
            rotation_interval_secs(&r(Some(30), Some("rate(7 days)"))),
            Some(7 * DAY)
        );
        assert_eq!(
            rotation_interval_secs(&r(Some(30), Some("cron(0 0 * * ? *)"))),
            None
        );
        assert_eq!(
            rotation_interval_secs(&r(Some(30), Some(""))),
            Some(30 * DAY)
        );
        assert_eq!(rotation_interval_secs(&r(None, None)), None);
        assert_eq!(rotation_interval_secs(&r(Some(0), None)), None);

        assert_eq!(rotation_window_secs(None), DAY);
        assert_eq!(rotation_window_secs(Some(&r(Some(30), None))), DAY);
        assert_eq!(
            rotation_window_secs(Some(&r(None, Some("rate(6 hours)")))),
            HOUR
        );
        assert_eq!(
            rotation_window_secs(Some(&r(None, Some("rate(2 days)")))),
            DAY
        );
        let mut w = r(None, Some("rate(6 hours)"));
        w.duration = Some("2h".into());
        assert_eq!(rotation_window_secs(Some(&w)), 2 * HOUR);
        w.duration = Some("two hours".into());
        assert_eq!(
            rotation_window_secs(Some(&w)),
            HOUR,
            "unreadable: as absent"
        );
    }

    #[test]
    fn sorted_worst_first() {
        let mut s = healthy();
        s.kms_key_id = None; // low
        s.description = None; // info
        s.rotation_enabled = false; // medium + low (rules left)
        s.last_rotated = Some(at(-200 * DAY)); // medium
        s.deleted = Some(at(-3 * DAY)); // medium; removes rotation rules
        s.last_accessed = Some(at(-DAY)); // high, accessed after deletion
        let ids: Vec<(RuleId, Severity)> = run(&s).iter().map(|f| (f.rule, f.severity)).collect();
        assert_eq!(
            ids,
            vec![
                (RuleId::AccessedAfterDeletion, Severity::High),
                (RuleId::ScheduledForDeletion, Severity::Medium),
                (RuleId::DefaultKmsKey, Severity::Low),
                (RuleId::NoDescription, Severity::Info),
            ]
        );
        s.deleted = None;
        let ids: Vec<RuleId> = run(&s).iter().map(|f| f.rule).collect();
        assert_eq!(
            ids,
            vec![
                RuleId::RotationDisabled,
                RuleId::NotRotatedRecently,
                RuleId::RotationDisabledWithRules,
                RuleId::DefaultKmsKey,
                RuleId::NoDescription,
            ]
        );
    }

    #[test]
    fn config_defaults_and_partial_files() {
        let c = HealthConfig::default();
        assert_eq!(c.pending_grace_secs, 3600);
        assert_eq!(
            (c.not_rotated_days, c.max_interval_days, c.unused_days),
            (90, 90, 90)
        );
        assert_eq!(c.required_tags, vec!["owner".to_string()]);
        assert_eq!(c.replica_grace_secs, 3600);
        assert_eq!(c.suppression_tag, "secretscope:suppress");
        let back: HealthConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let partial: HealthConfig = serde_json::from_str(
            r#"{"unused_days": 30, "disabled": ["no-description"],
                "severity_overrides": {"default-kms-key": "high"}}"#,
        )
        .unwrap();
        assert_eq!(partial.unused_days, 30);
        assert!(!partial.is_enabled(RuleId::NoDescription));
        assert_eq!(partial.severity_of(RuleId::DefaultKmsKey), Severity::High);
        assert_eq!(partial.severity_of(RuleId::Unused), Severity::Low);
        assert_eq!(partial.required_tags, c.required_tags);
    }

    #[test]
    fn dates_match_the_shared_formatter() {
        for t in [
            0,
            1_795_000_000,
            951_782_400,
            -1,
            -86_400 * 365,
            4_102_444_799,
        ] {
            assert_eq!(
                When(Timestamp::new(t)).to_string(),
                Timestamp::new(t).display(),
                "{t}"
            );
            assert_eq!(
                Day(Timestamp::new(t)).to_string(),
                Timestamp::new(t).date(),
                "{t}"
            );
        }
    }

    fn opt_ts() -> impl Strategy<Value = Option<Timestamp>> {
        prop_oneof![
            Just(None),
            (NOW.secs() - 3 * 365 * DAY..NOW.secs() + 365 * DAY)
                .prop_map(|t| Some(Timestamp::new(t))),
            any::<i64>().prop_map(|t| Some(Timestamp::new(t))),
        ]
    }

    prop_compose! {
        fn any_secret()(
            dates in proptest::collection::vec(opt_ts(), 7),
            flags in proptest::collection::vec(any::<bool>(), 6),
            days in proptest::option::of(-5i64..2000),
            duration in proptest::option::of("[0-9]{0,3}[hm]?[0-9]{0,2}m?"),
            expr in proptest::option::of(prop_oneof![
                "rate\\([0-9]{1,5} (days|hours|minutes)\\)",
                Just("cron(0 0 * * ? *)".to_string()),
                ".{0,12}",
            ]),
            pending_created in opt_ts(),
            sup in proptest::option::of("[a-z*, -]{0,30}(: [a-z ]{0,10})?"),
        ) -> Secret {
            let mut s = secret("p/q");
            s.created = dates[0];
            s.last_changed = dates[1];
            s.last_rotated = dates[2];
            s.last_accessed = dates[3];
            s.next_rotation = dates[4];
            s.deleted = dates[5];
            s.rotation_enabled = flags[0];
            if flags[1] {
                s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:1:key/k"));
            }
            if flags[2] {
                s.rotation_lambda_arn = Some(Arc::from("arn:aws:lambda:us-east-1:1:function:f"));
            }
            if flags[3] {
                s.description = Some("d".into());
            }
            if flags[4] {
                s.rotation_rules = Some(Arc::new(RotationRules {
                    automatically_after_days: days,
                    duration,
                    schedule_expression: expr,
                }));
            }
            if flags[5] {
                pending(&mut s, pending_created);
            }
            if let Some(v) = sup {
                tag(&mut s, "secretscope:suppress", &v);
            }
            s
        }
    }

    fn any_replicas() -> impl Strategy<Value = Option<Vec<ReplicaState>>> {
        proptest::option::of(proptest::collection::vec(
            (
                prop_oneof![Just("InSync"), Just("Failed"), Just("InProgress"), Just("")],
                proptest::option::of(".{0,10}"),
            )
                .prop_map(|(st, m)| replica("eu-west-1", st, m.as_deref())),
            0..3,
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn evaluate_never_panics_and_sorts(
            s in any_secret(),
            replicas in any_replicas(),
            now in prop_oneof![
                (NOW.secs() - DAY..NOW.secs() + DAY).prop_map(Timestamp::new),
                any::<i64>().prop_map(Timestamp::new),
            ],
            grace in prop_oneof![Just(3600i64), any::<i64>()],
            days in prop_oneof![Just(90i64), any::<i64>()],
        ) {
            let mut c = cfg();
            c.pending_grace_secs = grace;
            c.not_rotated_days = days;
            c.unused_days = days;
            c.max_interval_days = days;
            c.replica_grace_secs = grace;
            let f = evaluate(&s, replicas.as_deref(), &c, now);
            for w in f.windows(2) {
                prop_assert_ne!(order(&w[0], &w[1]), std::cmp::Ordering::Greater);
                prop_assert_ne!(w[0].rule, w[1].rule);
            }
            for x in &f {
                prop_assert!(!x.detail.is_empty());
                prop_assert_eq!(x.severity, info(x.rule).severity);
                if let Some(r) = &x.suppressed {
                    prop_assert!(!r.trim().is_empty());
                }
            }
            prop_assert_eq!(
                worst(&f),
                f.iter().filter(|x| x.suppressed.is_none()).map(|x| x.severity).max()
            );
            if replicas.is_none() {
                prop_assert!(f.iter().all(|x| x.rule != RuleId::ReplicaFailed));
            }
            // The summary is the same evaluation without the words.
            let sum = summarize(&s, replicas.as_deref(), &c, now);
            prop_assert_eq!(sum.fired, f.iter().map(|x| x.rule).collect::<RuleSet>());
            prop_assert_eq!(
                sum.suppressed,
                f.iter().filter(|x| !x.is_active()).map(|x| x.rule).collect::<RuleSet>()
            );
            prop_assert_eq!(sum.worst, worst(&f));
            if s.deleted.is_some() {
                prop_assert!(f.iter().all(|x| !matches!(
                    x.rule,
                    RuleId::RotationFailed | RuleId::RotationOverdue | RuleId::Unused
                        | RuleId::NotRotatedRecently | RuleId::RotationDisabled
                )));
            }
            // Switching a rule off removes exactly that rule's finding.
            if let Some(first) = f.first() {
                let mut off = c.clone();
                off.disabled.insert(first.rule);
                let g = evaluate(&s, replicas.as_deref(), &off, now);
                prop_assert!(g.iter().all(|x| x.rule != first.rule));
            }
        }

        #[test]
        fn span_words_match_the_shared_ones(secs in prop_oneof![-10i64..300_000, any::<i64>()]) {
            prop_assert_eq!(Span(secs).to_string(), span(secs));
        }

        #[test]
        fn parsers_never_panic(s in ".{0,20}") {
            let _ = parse_duration(&s);
            let _ = parse_rate(&s);
            let _ = parse_suppression(&s);
        }

        #[test]
        fn day_format_matches_chrono(t in -62_135_596_800i64..253_402_300_799) {
            prop_assert_eq!(When(Timestamp::new(t)).to_string(), Timestamp::new(t).display());
        }
    }
}
