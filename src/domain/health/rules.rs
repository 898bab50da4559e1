//! The rule list: each rule's id, words and check, in [`RULES`].

use super::*;

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
    pub(super) fn text(&self, f: impl FnOnce() -> String) -> String {
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
    pub(super) check: fn(&Input<'_>) -> Option<Hit>,
}

impl Rule {
    /// Runs the check alone: no configuration switches, severity or
    /// suppression (see [`evaluate`] for those).
    pub fn check(&self, input: &Input<'_>) -> Option<Hit> {
        (self.check)(input)
    }
}

/// The rule table, in the order of [`RuleId::ALL`].
pub static RULES: [Rule; 15] = [
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
            title: "Read after deletion was scheduled",
            why: "Something still tries to read a secret that is scheduled for deletion. On AWS those reads already fail (\"You can't perform this operation on the secret because it was marked for deletion\"), so that reader is broken now, and stays broken for good when the recovery window ends.",
            fix: "The readers are named on the secret's page (Readers). Either restore the secret (`aws secretsmanager restore-secret --secret-id <name>`) or move each reader off it before the deadline.",
            source: "CloudTrail GetSecretValue events with an error since DeletedDate (LookupEvents, ResourceName = the secret's ARN); Secrets Manager User Guide: Monitor when secrets scheduled for deletion are accessed. Not evaluated without CloudTrail.",
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
    Rule {
        info: RuleInfo {
            id: RuleId::ReadPreviousAfterRotation,
            severity: Severity::Medium,
            title: "AWSPREVIOUS still read after rotation",
            why: "A reader asks for VersionStage AWSPREVIOUS days after the last rotation: it works only until the next rotation moves AWSPREVIOUS to the version it does not know (or, with a single-user rotation, to a password that no longer signs in).",
            fix: "Change the reader to ask for AWSCURRENT (no VersionStage at all) and to fetch again on an authentication failure; the readers are named on the secret's page (Readers).",
            source: "CloudTrail GetSecretValue events whose requestParameters.versionStage is AWSPREVIOUS, later than LastRotatedDate plus [health] previous_read_days; Secrets Manager User Guide: staging labels. Not evaluated without CloudTrail.",
        },
        check: read_previous_after_rotation,
    },
    Rule {
        info: RuleInfo {
            id: RuleId::NewReader,
            severity: Severity::High,
            title: "New reader of a high-value secret",
            why: "A principal that had not read this secret before started reading it: on a secret matching the high-value search ([readers] high_value) every new reader should be expected.",
            fix: "Check that the principal should read it (an approved access request, a new deployment); if not, remove its access in the resource policy or its IAM policy and rotate the secret. Once expected, suppress with the suppression tag until the window passes.",
            source: "CloudTrail GetSecretValue events: first successful read within [health] new_reader_days, none in the same span before it. Not evaluated without CloudTrail.",
        },
        check: new_reader,
    },
];

/// The description of a rule.
pub fn info(id: RuleId) -> &'static RuleInfo {
    &RULES[id as usize].info
}
