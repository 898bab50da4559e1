//! Severities and rule ids: the names findings are reported under.

use super::*;

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
    ReadPreviousAfterRotation,
    NewReader,
}

impl RuleId {
    /// Every rule, in the order of [`RULES`].
    pub const ALL: [RuleId; 15] = [
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
        RuleId::ReadPreviousAfterRotation,
        RuleId::NewReader,
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
            RuleId::ReadPreviousAfterRotation => "read-previous-after-rotation",
            RuleId::NewReader => "new-reader",
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
