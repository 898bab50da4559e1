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
//! | `accessed-after-deletion` | high | CloudTrail shows reads (failed, as AWS refuses them) at or after DeletedDate |
//! | `new-reader` | high | on a secret matching `[readers] high_value`, a principal's first successful read is within `new_reader_days` (7), with as many days before it read and no sign of it |
//! | `replica-failed` | high | a replica is `Failed`, or not `InSync` for longer than `replica_grace_secs` (1 h) since the last change |
//! | `rotation-disabled` | medium | automatic rotation is off |
//! | `not-rotated-recently` | medium | no rotation (LastRotatedDate, else CreatedDate) within `not_rotated_days` (90) |
//! | `scheduled-for-deletion` | medium | DeletedDate is set |
//! | `read-previous-after-rotation` | medium | CloudTrail shows a successful read asking for AWSPREVIOUS more than `previous_read_days` (2) after LastRotatedDate |
//! | `rotation-interval-too-long` | low | rotation is on with an interval above `max_interval_days` (90) |
//! | `unused` | low | not accessed for `unused_days` (90), or never accessed and created longer ago than that; a successful read in CloudTrail within `unused_days` counts as an access |
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
//!   once `unused_days` full days have passed after D.
//! - **Reads come from CloudTrail** ([`Secret::reads`], see
//!   `domain::reads`). `accessed-after-deletion`, `read-previous-after-rotation`
//!   and `new-reader` need them: without them they are not evaluated
//!   ([`not_evaluated`] says which apply), never passed. A secret scheduled
//!   for deletion cannot be read on AWS ("You can't perform this operation
//!   on the secret because it was marked for deletion."), so its
//!   LastAccessedDate says nothing about readers; the failed reads do.
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
//!   the first read at or after DeletedDate for `accessed-after-deletion`;
//!   LastRotatedDate + `previous_read_days` for `read-previous-after-rotation`;
//!   the first read for `new-reader`; the last change for a
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

mod checks;
mod config;
mod engine;
mod read_rules;
mod rotation_rules;
mod rules;
#[cfg(test)]
mod tests;
mod types;

pub use config::HealthConfig;
#[cfg(test)]
use engine::*;
pub use engine::{
    evaluate, parse_suppression, summarize, worst, Finding, ReplicaState, RuleSet, Summary,
    Suppression,
};
pub use read_rules::not_evaluated;
pub use rotation_rules::{
    parse_duration, parse_rate, rotation_interval_secs, rotation_window_secs,
};
pub use rules::{info, Hit, Input, Rule, RuleInfo, RULES};
pub use types::{RuleId, Severity};
use {checks::*, read_rules::*, rotation_rules::*};

use super::secret::{RotationRules, Secret, Version};
use super::state::PENDING_GRACE_SECS;
use super::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
