use crate::domain::Timestamp;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How fresh the inventory is, for the header of every page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncInfo {
    /// Server time when this was produced: all relative times on the page use it.
    pub now: Timestamp,
    /// The stalest source's last successful pass of either kind (a full
    /// list pass, or an incremental pass that applied every write event
    /// CloudTrail held): what the header's "Synced … ago" counts from.
    pub taken_at: Option<Timestamp>,
    pub secrets: usize,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// Secrets whose version dates are still being fetched.
    pub versions_missing: usize,
    pub source: String,
    /// Accounts × regions read.
    pub sources: usize,
    /// Sources whose last pass failed: their secrets are as last read.
    pub failing: Vec<FailingSource>,
    /// May open `/sources`.
    pub sees_sources: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailingSource {
    pub id: String,
    pub error: String,
    /// None: never read.
    pub last_success: Option<Timestamp>,
}

/// One source on `/sources`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub id: String,
    pub name: String,
    pub account: Option<String>,
    pub region: String,
    pub role_arn: Option<String>,
    pub interval_secs: u64,
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// Of the last successful pass.
    pub secrets: Option<usize>,
    pub duration_ms: Option<u64>,
    pub syncs_ok: u64,
    pub syncs_failed: u64,
    pub versions_missing: usize,
    pub api_calls: u64,
    pub throttled: u64,
    /// How the source is kept current, when the incremental pass is on: a
    /// sentence (list passes only, and why; or CloudTrail every N s).
    #[serde(default)]
    pub sync_mode: Option<String>,
}

impl SourceRow {
    /// No success for three intervals: the data shown may be out of date.
    pub fn stale(&self, now: Timestamp) -> bool {
        let limit = 3 * self.interval_secs.max(1) as i64;
        self.last_success
            .is_none_or(|t| now.secs() - t.secs() > limit)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceList {
    pub now: Timestamp,
    pub rows: Vec<SourceRow>,
    /// The inventory's secrets: what the header and the overview count
    /// (the rows' sum less `replicas`).
    #[serde(default)]
    pub secrets: usize,
    /// Replicas the sources list, counted once at their primary elsewhere.
    #[serde(default)]
    pub replicas: usize,
}

/// Every source with its health: admins only.
#[server(endpoint = "list_sources")]
pub async fn list_sources() -> Result<SourceList, ServerFnError> {
    let (state, who) = super::signed_in("list_sources").await?;
    if let Err(e) = who.can_globally::<crate::server::auth::ReadSources>() {
        let e = crate::server::auth::denied(&state, &who, "sources", e).await;
        return Err(e.into());
    }
    Ok(super::build::inventory::source_list(&state))
}

#[server(endpoint = "get_sync_info")]
pub async fn get_sync_info() -> Result<SyncInfo, ServerFnError> {
    let (state, who) = super::signed_in("get_sync_info").await?;
    let mut info = super::build::inventory::sync_info(&state);
    info.sees_sources = who.is_admin();
    if who.global_role().is_none() {
        // A scoped user hears about their part of the inventory only, and of
        // the sources holding it: sources name accounts, roles and
        // endpoints, so not why they fail either (those who see everything
        // read it here, admins on /sources).
        let view = state.view_for(&who, info.now);
        info.secrets = view.secrets().len();
        let covered = crate::server::selection::sources_in_view(&state, &view);
        info.failing.retain(|f| covered.contains(&f.id));
        // "N of M sources" counts the sources this user hears of (the set
        // also holds "", the single default source's id).
        info.sources = covered.iter().filter(|id| !id.is_empty()).count().max(1);
        for f in &mut info.failing {
            f.error = "its last sync failed; an admin can see why on /sources".into();
        }
        info.last_error = info
            .last_error
            .map(|_| "a sync failed; an admin can see why on /sources".into());
        info.source = "AWS Secrets Manager".into();
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
    /// No grant covers everything: every page shows a part of the inventory.
    #[serde(default)]
    pub scoped: bool,
}

/// Anyone may ask who they are: anonymous visitors get `None`.
#[server(endpoint = "get_me")]
pub async fn get_me() -> Result<Option<Me>, ServerFnError> {
    let state = super::state()?;
    let who = crate::server::auth::current_user(&state).await?;
    Ok(who.map(|p| Me {
        is_admin: p.is_admin(),
        scoped: p.global_role().is_none(),
        grants: p.grants.iter().map(|g| g.to_string()).collect(),
        name: p.name,
    }))
}

/// How the sign-in page offers to sign in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoginOptions {
    /// The name and password form.
    pub password: bool,
    /// The provider's label, when single sign-on is configured.
    pub sso: Option<String>,
}

/// Anyone may ask how to sign in (the sign-in page does, before anyone has).
#[server(endpoint = "get_login_options")]
pub async fn get_login_options() -> Result<LoginOptions, ServerFnError> {
    let state = super::state()?;
    let s = &state.auth.settings;
    Ok(LoginOptions {
        password: s.password_login,
        sso: s.oidc.enabled().then(|| s.oidc.label.clone()),
    })
}
