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

#[server(endpoint = "get_sync_info")]
pub async fn get_sync_info() -> Result<SyncInfo, ServerFnError> {
    let (state, who) = super::signed_in("get_sync_info").await?;
    let mut info = state.sync_info();
    if who.global_role().is_none() {
        // A scoped user hears about their part of the inventory only.
        info.secrets = state.view_for(&who, info.now).secrets().len();
    }
    Ok(info)
}

/// The signed-in user, for the header; `None` for an anonymous visitor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    /// "admin on *", "operator on prefix:prod/payments/"…
    pub grants: Vec<String>,
    pub is_admin: bool,
}

/// Anyone may ask who they are: anonymous visitors get `None`.
#[server(endpoint = "get_me")]
pub async fn get_me() -> Result<Option<Me>, ServerFnError> {
    let state = super::state()?;
    let who = crate::server::auth::current_user(&state)
        .await
        .map_err(|e| e.to_server_fn_error())?;
    Ok(who.map(|p| Me {
        is_admin: p.is_admin(),
        grants: p.grants.iter().map(|g| g.to_string()).collect(),
        name: p.name,
    }))
}
