//! `[diagnosis]`: whether the dashboard reads a rotation's Lambda, network,
//! KMS key and role, how long it keeps what it read, and how fast it may
//! call AWS for it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DiagnosisSettings {
    /// Read the metadata a rotation diagnosis needs (see the README for the
    /// IAM actions). Off: every read says so and no call is made.
    pub enabled: bool,
    /// How long one read of a resource (a Lambda, its policy, a VPC's
    /// endpoints, a key, a role's simulation, a resource policy) is reused,
    /// seconds. Failed reads are not kept.
    pub cache_ttl_seconds: u64,
    /// Calls a second at most to each account and region, all users and
    /// all services together (IAM counts as one region, `global`).
    pub calls_per_second: f64,
    /// How long a read waits for the call budget before it gives up as
    /// "over the call budget", seconds.
    pub max_wait_seconds: u64,
}

impl Default for DiagnosisSettings {
    fn default() -> Self {
        DiagnosisSettings {
            enabled: true,
            cache_ttl_seconds: 600,
            calls_per_second: 5.0,
            max_wait_seconds: 30,
        }
    }
}

impl DiagnosisSettings {
    /// The setting to fix, when one is out of range.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.calls_per_second.is_finite() && self.calls_per_second > 0.0) {
            return Err(format!(
                "diagnosis.calls_per_second is {}: it must be a positive number of calls a second, such as 5",
                self.calls_per_second
            ));
        }
        if self.max_wait_seconds == 0 {
            return Err(
                "diagnosis.max_wait_seconds is 0: a read must be allowed to wait at least a second for the call budget"
                    .into(),
            );
        }
        Ok(())
    }
}
