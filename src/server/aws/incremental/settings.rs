//! `[incremental]`: the incremental pass's settings (beside
//! `server/config.rs`, which is at its size limit), and their
//! `SECRETSCOPE_INCREMENTAL_*` variables.

use crate::server::config::ConfigError;
use serde::{Deserialize, Serialize};

/// Which lookup attribute selects the events: LookupEvents takes one.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventFilter {
    /// `ReadOnly=false`: every service's write events in the account and
    /// region (Secrets Manager's are kept). No reads: the default.
    ReadOnly,
    /// `EventSource=secretsmanager.amazonaws.com`: Secrets Manager's events
    /// only, its reads (GetSecretValue, the dashboard's own ListSecrets)
    /// included. Cheaper where other services write a lot and secrets are
    /// seldom read.
    EventSource,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IncrementalSettings {
    /// Read Secrets Manager's write events from CloudTrail between list
    /// passes and re-read only the secrets they name. Needs
    /// `cloudtrail:LookupEvents`; a source refused it keeps list passes
    /// only (said once in the log and on `/sources`).
    pub enabled: bool,
    /// Seconds between incremental passes.
    pub interval_secs: u64,
    /// Seconds between full list passes while the incremental pass keeps a
    /// source current (the safety net); otherwise the source's own
    /// interval (`sync.interval_secs`, `[[sources]] interval_secs`) applies.
    pub full_interval_secs: u64,
    /// Each lookup starts this many seconds before the previous pass
    /// began: CloudTrail delivers events minutes after they happen, and an
    /// event seen twice is applied once (by EventId).
    pub overlap_secs: u64,
    /// LookupEvents pages (50 events each) one pass reads at most; when
    /// events newer than the previous pass are left unread, a list pass
    /// runs at once.
    pub max_pages: u32,
    pub filter: EventFilter,
}

impl Default for IncrementalSettings {
    fn default() -> Self {
        IncrementalSettings {
            enabled: true,
            interval_secs: 30,
            full_interval_secs: 3600,
            overlap_secs: 600,
            max_pages: 20,
            filter: EventFilter::ReadOnly,
        }
    }
}

impl IncrementalSettings {
    /// `SECRETSCOPE_INCREMENTAL_ENABLED`, `…_INTERVAL_SECS`,
    /// `…_FULL_INTERVAL_SECS`, `…_OVERLAP_SECS`, `…_MAX_PAGES`.
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn set<T: std::str::FromStr>(
            env: &impl Fn(&str) -> Option<String>,
            name: &str,
            field: &mut T,
        ) -> Result<(), ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            if let Some(value) = env(name) {
                *field = value.parse().map_err(|e: T::Err| ConfigError::Env {
                    name: name.to_string(),
                    message: e.to_string(),
                    value,
                })?;
            }
            Ok(())
        }
        set(env, "SECRETSCOPE_INCREMENTAL_ENABLED", &mut self.enabled)?;
        set(
            env,
            "SECRETSCOPE_INCREMENTAL_INTERVAL_SECS",
            &mut self.interval_secs,
        )?;
        set(
            env,
            "SECRETSCOPE_INCREMENTAL_FULL_INTERVAL_SECS",
            &mut self.full_interval_secs,
        )?;
        set(
            env,
            "SECRETSCOPE_INCREMENTAL_OVERLAP_SECS",
            &mut self.overlap_secs,
        )?;
        set(
            env,
            "SECRETSCOPE_INCREMENTAL_MAX_PAGES",
            &mut self.max_pages,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_file_and_environment() {
        let d = IncrementalSettings::default();
        assert!(d.enabled);
        assert_eq!((d.interval_secs, d.full_interval_secs), (30, 3600));
        let from_file: IncrementalSettings =
            toml::from_str("interval_secs = 5\nfilter = \"event_source\"").unwrap();
        assert_eq!(from_file.interval_secs, 5);
        assert_eq!(from_file.filter, EventFilter::EventSource);
        assert!(toml::from_str::<IncrementalSettings>("every = 5").is_err());
        let mut s = IncrementalSettings::default();
        let env = |n: &str| match n {
            "SECRETSCOPE_INCREMENTAL_INTERVAL_SECS" => Some("1".to_string()),
            "SECRETSCOPE_INCREMENTAL_ENABLED" => Some("false".to_string()),
            _ => None,
        };
        s.apply_env(&env).unwrap();
        assert_eq!((s.interval_secs, s.enabled), (1, false));
        let bad = |n: &str| (n == "SECRETSCOPE_INCREMENTAL_MAX_PAGES").then(|| "many".to_string());
        assert!(s
            .apply_env(&bad)
            .unwrap_err()
            .to_string()
            .contains("MAX_PAGES"));
    }
}
