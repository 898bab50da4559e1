use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How fresh the inventory is, for the header of every page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncInfo {
    /// Server time when this was produced: all relative times on the page use it.
    pub now: Timestamp,
    pub taken_at: Option<Timestamp>,
    pub secrets: usize,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// Secrets whose version dates are still being fetched.
    pub versions_missing: usize,
    pub source: String,
}

#[server]
pub async fn get_sync_info() -> Result<SyncInfo, ServerFnError> {
    let state = super::state()?;
    Ok(state.sync_info())
}
