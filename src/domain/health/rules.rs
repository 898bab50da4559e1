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
            fix: "Read the rotation Lambda's CloudWatch log for the failing step (`aws logs tail /aws/lambda/<function> --region <region> --since 1d`) and fix its cause (permissions, network to the database, the secret's JSON). Then retry with `aws secretsmanager rotate-secret --secret-id <name> --region <region>`, or give up on this attempt by removing AWSPENDING: `aws secretsmanager update-secret-version-stage --secret-id <name> --region <region> --version-stage AWSPENDING --remove-from-version-id <pending version id>`.",
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
            fix: "Check that the rotation Lambda exists and that its resource policy lets secretsmanager.amazonaws.com invoke it (`aws lambda get-policy --function-name <function> --region <region>`), then rotate now: console → the secret → Rotation → Rotate secret immediately, or `aws secretsmanager rotate-secret --secret-id <name> --region <region>`.",
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
            fix: "Console → the secret → Rotation configuration → Edit rotation → turn on Automatic rotation, choose a schedule and a rotation function; or `aws secretsmanager rotate-secret --secret-id <name> --region <region> --rotation-lambda-arn <rotation lambda arn> --rotation-rules '{\"ScheduleExpression\": \"rate(30 days)\"}'`.",
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
            fix: "If rotation should run, turn it back on: `aws secretsmanager rotate-secret --secret-id <name> --region <region>` (reuses the configured Lambda and rules) or console → Rotation configuration → Edit rotation → Automatic rotation on. If it should not, say so with a suppression tag so the leftover configuration is a recorded decision.",
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
            fix: "Rotate it now: console → the secret → Rotation → Rotate secret immediately, or `aws secretsmanager rotate-secret --secret-id <name> --region <region>`; if rotation is off, configure it first (see rotation-disabled).",
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
            fix: "Shorten the schedule: console → Rotation configuration → Edit rotation → Rotation schedule, or `aws secretsmanager rotate-secret --secret-id <name> --region <region> --rotation-rules '{\"ScheduleExpression\": \"rate(30 days)\"}' --no-rotate-immediately`.",
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
            fix: "Confirm with the owner and in CloudTrail (GetSecretValue events) that nothing needs it, then delete it with a recovery window: console → Actions → Delete secret, or `aws secretsmanager delete-secret --secret-id <name> --region <region> --recovery-window-in-days 30`.",
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
            fix: "Create a customer managed KMS key and switch the secret to it: console → the secret → Edit encryption key, or `aws secretsmanager update-secret --secret-id <name> --region <region> --kms-key-id <new key arn>`; then rotate (or put the value again) so the current version is encrypted with the new key.",
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
            fix: "Add the tags: console → the secret → Tags → Edit tags, or `aws secretsmanager tag-resource --secret-id <name> --region <region> --tags Key=owner,Value=<team or person>`.",
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
            fix: "Console → the secret → Edit description, or `aws secretsmanager update-secret --secret-id <name> --region <region> --description \"<what it is, what uses it>\"`.",
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
            fix: "If the deletion is intended, nothing to do. Otherwise restore it before the deadline: console → the secret → Cancel deletion, or `aws secretsmanager restore-secret --secret-id <name> --region <region>`.",
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
            fix: "The readers are named on the secret's page (Readers). Either restore the secret (`aws secretsmanager restore-secret --secret-id <name> --region <region>`) or move each reader off it before the deadline.",
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
            fix: "Read the replica's status message (console → the secret → Replicate secret, or `aws secretsmanager describe-secret --secret-id <name> --region <region>`), fix its cause (a name clash or an unusable KMS key in that Region), then remove and re-add the replica: `aws secretsmanager remove-regions-from-replication --secret-id <name> --region <region> --remove-replica-regions <replica region>` and `aws secretsmanager replicate-secret-to-regions --secret-id <name> --region <region> --add-replica-regions Region=<replica region>`.",
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

// ---------------------------------------------------------------------------
// Fix texts filled in

impl RuleInfo {
    /// [`RuleInfo::fix`] with `s`'s own values in place of the placeholders
    /// it knows (see [`FixValues`]); the others stay as they are, so a
    /// person sees what is still theirs to choose.
    pub fn fix_for(&self, s: &Secret, replicas: Option<&[ReplicaState]>) -> String {
        FixValues::of(s, replicas).fill(self.fix)
    }
}

/// What a fix text's placeholders stand for, as they are to be pasted
/// into a shell: each value quoted where it needs it. `None`: unknown, the
/// placeholder stays.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixValues {
    /// `<name>`: the secret's name.
    pub name: Option<String>,
    /// `<region>`: the secret's region (its rotation Lambda's too: AWS wants
    /// them in the same one).
    pub region: Option<String>,
    /// `<rotation lambda arn>`: the configured rotation Lambda.
    pub lambda_arn: Option<String>,
    /// `<function>`: that Lambda's function name.
    pub function: Option<String>,
    /// `<pending version id>`: the version holding AWSPENDING (not AWSCURRENT).
    pub pending: Option<String>,
    /// `<replica region>`: the one replica not in sync, when there is one.
    pub replica_region: Option<String>,
}

impl FixValues {
    pub fn of(s: &Secret, replicas: Option<&[ReplicaState]>) -> FixValues {
        let lambda = s.rotation_lambda_arn.as_deref().filter(|a| !a.is_empty());
        let mut lagging = replicas
            .unwrap_or_default()
            .iter()
            .filter(|r| r.status != "InSync");
        let replica_region = match (lagging.next(), lagging.next()) {
            (Some(r), None) => Some(shell_word(&r.region)),
            _ => None,
        };
        FixValues {
            name: Some(shell_word(&s.name)),
            region: Some(shell_word(&s.region)).filter(|r| r != "''"),
            lambda_arn: lambda.map(shell_word),
            function: lambda.map(|a| shell_word(function_name(a))),
            pending: s.pending_version().map(|v| shell_word(&v.id.to_string())),
            replica_region,
        }
    }

    fn get(&self, placeholder: &str) -> Option<&str> {
        match placeholder {
            "name" => self.name.as_deref(),
            "region" => self.region.as_deref(),
            "rotation lambda arn" => self.lambda_arn.as_deref(),
            "function" => self.function.as_deref(),
            "pending version id" => self.pending.as_deref(),
            "replica region" => self.replica_region.as_deref(),
            _ => None,
        }
    }

    /// `text` with every `<placeholder>` this knows replaced, the others
    /// (and any lone `<`) left as written.
    pub fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 64);
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            let Some(close) = tail.find('>') else {
                break;
            };
            match self.get(&tail[1..close]) {
                Some(value) => out.push_str(value),
                None => out.push_str(&tail[..=close]),
            }
            rest = &tail[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A Lambda's function name from its ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`); anything
/// else is taken to be the name already.
fn function_name(arn: &str) -> &str {
    let mut parts = arn.splitn(8, ':');
    match (parts.next(), parts.nth(4), parts.next()) {
        (Some("arn"), Some("function"), Some(name)) if !name.is_empty() => name,
        _ => arn,
    }
}

/// `word` as one POSIX shell word: as it is when every character is one a
/// shell leaves alone, else in single quotes (a `'` inside as `'\''`).
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/_-.+=@:,%".contains(c);
    if !word.is_empty() && word.chars().all(plain) && !word.starts_with(['=', '-']) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod fill_tests {
    use super::*;
    use crate::domain::secret::fixtures;
    use crate::domain::secret::{Label, Version, VersionId};
    use std::sync::Arc;

    fn secret(name: &str) -> Secret {
        let mut s = fixtures::secret(name);
        s.region = Arc::from("eu-west-1");
        s
    }

    fn version(id: &str, label: Label) -> Version {
        Version {
            id: VersionId::parse(id),
            labels: [label].into_iter().collect(),
            created: None,
            last_accessed: None,
        }
    }

    #[test]
    fn a_stuck_rotation_names_its_own_secret_lambda_and_version() {
        let mut s = secret("prod/payments/db");
        s.rotation_lambda_arn = Some(Arc::from(
            "arn:aws:lambda:eu-west-1:123456789012:function:rotate-pg:live",
        ));
        s.versions = vec![
            version("cur-1", Label::Current),
            version("pend-2", Label::Pending),
        ];
        let fix = RuleId::RotationFailed.info().fix_for(&s, None);
        assert!(
            fix.contains("aws logs tail /aws/lambda/rotate-pg --region eu-west-1"),
            "{fix}"
        );
        assert!(
            fix.contains("rotate-secret --secret-id prod/payments/db --region eu-west-1"),
            "{fix}"
        );
        assert!(fix.contains("--remove-from-version-id pend-2`"), "{fix}");
        assert!(!fix.contains('<'), "{fix}");
        let fix = RuleId::RotationDisabled.info().fix_for(&s, None);
        assert!(fix.contains(
            "--rotation-lambda-arn arn:aws:lambda:eu-west-1:123456789012:function:rotate-pg:live "
        ));
    }

    #[test]
    fn unknown_values_keep_their_placeholder() {
        let s = secret("app/key");
        let fix = RuleId::RotationFailed.info().fix_for(&s, None);
        assert!(fix.contains("/aws/lambda/<function>"), "{fix}");
        assert!(
            fix.contains("--remove-from-version-id <pending version id>"),
            "{fix}"
        );
        assert!(
            fix.contains("--secret-id app/key --region eu-west-1"),
            "{fix}"
        );
        let fix = RuleId::MissingRequiredTags.info().fix_for(&s, None);
        assert!(fix.contains("Value=<team or person>"), "{fix}");
        let fix = RuleId::DefaultKmsKey.info().fix_for(&s, None);
        assert!(fix.contains("--kms-key-id <new key arn>"), "{fix}");
        // Two lagging replicas: which one is the reader's to say.
        let lag = |region: &str| ReplicaState {
            region: region.into(),
            status: "Failed".into(),
            message: None,
            last_accessed: None,
        };
        let two = [lag("us-east-1"), lag("us-west-2")];
        let fix = RuleId::ReplicaFailed.info().fix_for(&s, Some(&two));
        assert!(fix.contains("Region=<replica region>"), "{fix}");
        let fix = RuleId::ReplicaFailed.info().fix_for(&s, Some(&two[1..]));
        assert!(fix.contains("--remove-replica-regions us-west-2`"), "{fix}");
    }

    #[test]
    fn names_are_quoted_for_a_shell() {
        assert_eq!(shell_word("prod/db-1_a+b=c@d.e"), "prod/db-1_a+b=c@d.e");
        assert_eq!(shell_word("my secret"), "'my secret'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$(rm -rf ~)`x`;|&<>"), "'$(rm -rf ~)`x`;|&<>'");
        assert_eq!(shell_word("-x"), "'-x'");
        assert_eq!(shell_word(""), "''");
        let s = secret("team's db <prod>");
        let fix = RuleId::ScheduledForDeletion.info().fix_for(&s, None);
        assert!(
            fix.contains(r"restore-secret --secret-id 'team'\''s db <prod>' --region eu-west-1`"),
            "{fix}"
        );
        // A value that looks like a placeholder is not filled again.
        let s = secret("<region>");
        let fix = RuleId::Unused.info().fix_for(&s, None);
        assert!(
            fix.contains("--secret-id '<region>' --region eu-west-1"),
            "{fix}"
        );
    }

    #[test]
    fn lambda_function_names() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:rot"),
            "rot"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:rot:$LATEST"),
            "rot"
        );
        assert_eq!(function_name("plain-name"), "plain-name");
    }
}
