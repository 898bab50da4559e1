//! [`HealthConfig`]: thresholds, switches and severity overrides.

use super::*;

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
    /// `read-previous-after-rotation`: AWSPREVIOUS still read this many days
    /// after the last rotation.
    pub previous_read_days: i64,
    /// `new-reader`: a principal whose first read is within this many days.
    pub new_reader_days: i64,
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
            previous_read_days: 2,
            new_reader_days: 7,
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
