//! `[readers]`: which secrets are high value, how much of CloudTrail's
//! LookupEvents quota the background pass may take, and how much history
//! one lookup reads.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReadersSettings {
    /// Read GetSecretValue events (needs `[cloudtrail] enabled` and
    /// cloudtrail:LookupEvents). Off: readers and the read rules are "not
    /// evaluated".
    pub enabled: bool,
    /// The search (the `/secrets` language) of the secrets `new-reader`
    /// watches, read first by the background pass. Empty: none.
    pub high_value: String,
    /// The share of `[cloudtrail] calls_per_second` the background pass
    /// may take (0 to 1; 0 switches the pass off). Pages people open take
    /// what is left first.
    pub background_share: f64,
    /// GetSecretValue events one lookup reads at most (50 a call); past it
    /// the window is cut short and the page says so.
    pub max_events: u32,
    /// How long a lookup is reused before a page reads CloudTrail again,
    /// seconds (new events are read on top of it, not the whole window).
    pub cache_ttl_seconds: u64,
    /// How often the background pass reads each secret it covers again,
    /// seconds.
    pub pass_interval_seconds: u64,
}

impl Default for ReadersSettings {
    fn default() -> Self {
        ReadersSettings {
            enabled: true,
            high_value: "tag:data-classification=restricted".to_string(),
            background_share: 0.5,
            max_events: 10_000,
            cache_ttl_seconds: 300,
            pass_interval_seconds: 900,
        }
    }
}

impl ReadersSettings {
    /// The setting to fix, when one is out of range; `calls_per_second` is
    /// `[cloudtrail] calls_per_second`, the quota the readers share.
    pub fn validate(&self, calls_per_second: f64) -> Result<(), String> {
        if !(calls_per_second.is_finite() && calls_per_second > 0.0) {
            return Err(format!(
                "cloudtrail.calls_per_second is {calls_per_second}: it must be a positive number of calls a second (AWS allows 2)"
            ));
        }
        if !(self.background_share.is_finite() && (0.0..=1.0).contains(&self.background_share)) {
            return Err(format!(
                "readers.background_share is {}: it must be a share of the quota between 0 and 1, such as 0.5",
                self.background_share
            ));
        }
        if !(50..=1_000_000).contains(&self.max_events) {
            return Err(format!(
                "readers.max_events is {}: it must be between 50 (one page) and 1000000",
                self.max_events
            ));
        }
        if self.high_value.chars().count() > crate::domain::query::MAX_QUERY_CHARS {
            return Err("readers.high_value is longer than a search may be".into());
        }
        match crate::domain::query::Query::parse(&self.high_value) {
            Err(e) => Err(format!(
                "readers.high_value {:?} is not a valid search: {}",
                self.high_value, e.message
            )),
            // Health and date terms change with the clock, not the secret.
            Ok(q) if q.needs_facts() => Err(format!(
                "readers.high_value {:?} uses a health or date term; use names, tags, accounts or other terms of the secret itself",
                self.high_value
            )),
            Ok(_) => Ok(()),
        }
    }
}
