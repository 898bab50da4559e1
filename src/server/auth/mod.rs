//! Who is asking, and may they: password login, sessions, the guard every
//! server function and data route starts with, capabilities for mutating
//! services, and the audit helpers.
//!
//! - [`Principal`]: the signed-in user with their grants, loaded from the
//!   store on every request (a disabled user is out at once).
//! - [`require_user`] (server functions) and [`principal_of`] (axum
//!   handlers) answer 401 without a valid session.
//! - [`Principal::read`] answers 403 for a secret outside every scope;
//!   [`Principal::can`] returns a [`Can<A>`], the only way to call a
//!   mutating service, so code that skips the check does not compile
//!   ([`capability`]: the actions and the role each needs).

mod capability;
pub mod handlers;
pub mod limiter;
pub mod oidc;
pub mod password;
pub mod users;

use super::error::{AppError, ErrorKind};
use super::store::{Store, StoreError};
use super::AppState;
use crate::domain::access::{global_role, role_on, Grant, Role};
use crate::domain::audit::{AuditAction, AuditEvent, Outcome};
use crate::domain::{Secret, Timestamp};
pub use capability::{
    console, console_doing, Act, Action, Can, ManageUsers, ReadAudit, ReadSources,
};
use tower_sessions::Session;

/// Session keys.
const USER_ID: &str = "uid";
const SIGNED_IN_AT: &str = "at";

/// Sign-in settings, from `[auth]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// A session ends after this long without a request.
    pub idle_timeout_secs: u64,
    /// And after this long in any case.
    pub absolute_timeout_secs: u64,
    /// Mark cookies `Secure` and expect `https://` origins: set it when the
    /// dashboard is served over HTTPS (directly or behind a proxy).
    pub https: bool,
    /// `https://secrets.example.com`, when a proxy in front rewrites the
    /// Host header: the origin check then compares against it.
    pub public_url: Option<String>,
    /// Host names the dashboard answers besides IP literals, `localhost` and
    /// the host of `public_url` (a proxy that rewrites `Host` to an internal
    /// name needs it here). Any other `Host` gets 421: DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Behind a proxy: the header it puts the client's address in (e.g.
    /// `x-forwarded-for`; its last address is used). Sign-in throttling and
    /// the audit trail then count clients, not the proxy. Set it only when
    /// every request comes through that proxy.
    pub trusted_proxy_header: Option<String>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`
    /// (it names accounts, regions and counts). Off by default.
    pub metrics_token: Option<String>,
    /// Sign-in with a name and password (`POST /login`); turn it off when
    /// everyone signs in through `[auth.oidc]`.
    pub password_login: bool,
    /// Single sign-on with OpenID Connect.
    pub oidc: oidc::OidcSettings,
}

impl AuthSettings {
    /// The problems of this configuration, as sentences naming the setting.
    pub fn check(&self) -> Result<(), String> {
        self.oidc.check()?;
        if self.oidc.enabled() && self.public_url.is_none() && self.oidc.redirect_url.is_none() {
            return Err(
                "single sign-on needs auth.public_url (the address people open the dashboard at, e.g. https://secrets.example.com): the provider's callback address is built from it, never from a request's Host"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            idle_timeout_secs: 60 * 60,
            absolute_timeout_secs: 12 * 60 * 60,
            https: false,
            public_url: None,
            allowed_hosts: Vec::new(),
            trusted_proxy_header: None,
            metrics_token: None,
            password_login: true,
            oidc: Default::default(),
        }
    }
}

/// The authentication state shared by every request.
pub struct Auth {
    pub store: Store,
    pub settings: AuthSettings,
    pub limiter: limiter::LoginLimiter,
    /// Anonymous refusals recorded per client and minute (the rest counted).
    pub anon_denials: limiter::DenialCounter,
    /// Verified against when the name is unknown, so that a wrong name costs
    /// as long as a wrong password (no user enumeration by timing).
    dummy_hash: String,
}

impl Auth {
    pub fn new(store: Store, settings: AuthSettings) -> Auth {
        Auth {
            store,
            settings,
            limiter: limiter::LoginLimiter::default(),
            anon_denials: Default::default(),
            dummy_hash: password::hash("not a password of anyone").unwrap_or_default(),
        }
    }
}

/// A signed-in user and what they hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub id: i64,
    pub name: String,
    pub grants: Vec<Grant>,
}

impl Principal {
    /// The best role on `s`.
    pub fn role_on(&self, s: &Secret) -> Option<Role> {
        role_on(&self.grants, s)
    }

    /// The role held on every secret, if any.
    pub fn global_role(&self) -> Option<Role> {
        global_role(&self.grants)
    }

    pub fn is_admin(&self) -> bool {
        self.global_role() == Some(Role::Admin)
    }

    /// May read `s`'s metadata.
    pub fn sees(&self, s: &Secret) -> bool {
        self.role_on(s).is_some()
    }

    /// 403 unless `s` is in one of the user's scopes.
    pub fn read(&self, s: &Secret) -> Result<(), AppError> {
        if self.sees(s) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "{} is outside your scopes. Ask an admin for a grant that covers it.",
                s.name
            )))
        }
    }

    /// The capability for `action` on `s`, or 403 saying which role is
    /// missing.
    pub fn can<A: Action>(&self, action: A, s: &Secret) -> Result<Can<A>, AppError> {
        match self.role_on(s) {
            Some(r) if r >= action.role() => Ok(Can::new(&self.name, &s.name, action)),
            held => Err(forbidden(format!(
                "You may not {} {}: that needs the {} role on it, and you have {}.",
                action.verb(),
                s.name,
                action.role(),
                held.map_or("no role".to_string(), |r| format!("{r}"))
            ))),
        }
    }

    /// The capability for a dashboard-wide `A` (a grant on every secret).
    pub fn can_globally<A: Action + Default>(&self) -> Result<Can<A>, AppError> {
        let action = A::default();
        match self.global_role() {
            Some(r) if r >= action.role() => Ok(Can::new(&self.name, "", action)),
            _ => Err(forbidden(format!(
                "You may not {}: that needs the {} role on every secret (scope *).",
                action.verb(),
                action.role()
            ))),
        }
    }
}

pub fn unauthenticated() -> AppError {
    AppError::new(
        ErrorKind::Unauthenticated,
        "You are not signed in, or your session has ended. Sign in again.",
        "no valid session",
    )
}

pub fn forbidden(why: String) -> AppError {
    AppError::new(ErrorKind::Forbidden, why.clone(), why)
}

pub fn store_error(e: StoreError) -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "The dashboard's database is not answering. Try again in a moment; if it persists, tell the dashboard's operators.",
        format!("store: {e}"),
    )
}

fn now() -> Timestamp {
    crate::server::clock::now()
}

/// The user behind `session`, if it holds a valid sign-in: the user exists,
/// is not disabled, and the session is younger than the absolute timeout
/// (an expired one is destroyed).
pub async fn principal_of(
    state: &AppState,
    session: &Session,
) -> Result<Option<Principal>, AppError> {
    let Ok(Some(uid)) = session.get::<i64>(USER_ID).await else {
        return Ok(None);
    };
    let at = session
        .get::<i64>(SIGNED_IN_AT)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    let max = i64::try_from(state.auth.settings.absolute_timeout_secs).unwrap_or(i64::MAX);
    if now().secs().saturating_sub(at) > max {
        let _ = session.flush().await;
        return Ok(None);
    }
    let store = &state.auth.store;
    let Some(user) = store.user_by_id(uid).await.map_err(store_error)? else {
        let _ = session.flush().await;
        return Ok(None);
    };
    if user.disabled {
        let _ = session.flush().await;
        return Ok(None);
    }
    let grants = store
        .grants_of(uid)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|g| g.grant)
        .collect();
    Ok(Some(Principal {
        id: user.id,
        name: user.name,
        grants,
    }))
}

/// The signed-in user of the current server function call, or 401.
pub async fn require_user(state: &AppState) -> Result<Principal, AppError> {
    current_user(state).await?.ok_or_else(unauthenticated)
}

/// The signed-in user of the current server function call, if any (for
/// what anonymous visitors may see: the header, the login page). A page
/// render reuses the user the page gate loaded for the request, so its
/// several server functions do not read the store again each.
pub async fn current_user(state: &AppState) -> Result<Option<Principal>, AppError> {
    let loaded = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<Principal>().cloned());
    if let Some(p) = loaded {
        return Ok(Some(p));
    }
    let session: Session = leptos_axum::extract()
        .await
        .map_err(|e| AppError::internal(format!("no session layer: {e:?}")))?;
    principal_of(state, &session).await
}

/// Request facts an audit record needs.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    pub client: String,
    pub request_id: String,
}

impl RequestInfo {
    pub fn of(parts: &axum::http::request::Parts) -> RequestInfo {
        Self::from_parts(&parts.headers, &parts.extensions)
    }

    pub fn from_parts(
        headers: &axum::http::HeaderMap,
        ext: &axum::http::Extensions,
    ) -> RequestInfo {
        RequestInfo {
            // Settled by `security::request_facts` (the trusted proxy
            // header, when configured); the peer otherwise.
            client: ext
                .get::<crate::server::security::ClientAddr>()
                .map(|c| c.0.clone())
                .or_else(|| {
                    ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                        .map(|c| c.0.ip().to_string())
                })
                .unwrap_or_else(|| "-".to_string()),
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string(),
        }
    }

    /// Of the current server function call.
    pub fn current() -> RequestInfo {
        leptos::prelude::use_context::<axum::http::request::Parts>()
            .map(|p| RequestInfo::of(&p))
            .unwrap_or_default()
    }
}

/// Writes an audit record. Fails closed: the caller must not go on (or
/// must undo) when this returns an error.
pub async fn audit(
    state: &AppState,
    req: &RequestInfo,
    actor: &str,
    action: AuditAction,
    target: &str,
    outcome: Outcome,
    detail: impl Into<String>,
) -> Result<(), AppError> {
    write_audit(
        &state.auth.store,
        req,
        actor,
        action,
        target,
        outcome,
        detail.into(),
    )
    .await
}

/// [`audit`] on a store, for callers without the app state (the CLI).
pub async fn write_audit(
    store: &Store,
    req: &RequestInfo,
    actor: &str,
    action: AuditAction,
    target: &str,
    outcome: Outcome,
    detail: String,
) -> Result<(), AppError> {
    let ev = AuditEvent {
        at: now(),
        actor: actor.to_string(),
        client: req.client.clone(),
        action,
        target: target.to_string(),
        outcome,
        detail,
        request_id: req.request_id.clone(),
    };
    store.append_audit(&ev).await.map(|_| ()).map_err(|e| {
        tracing::error!(action = %action, request_id = %req.request_id, "audit record not written: {e}");
        AppError::new(
            ErrorKind::Internal,
            "The audit trail cannot be written, so nothing was done. Tell the dashboard's operators.",
            format!("audit append failed: {e}"),
        )
    })
}

/// Records a refused request (best effort: the request is refused anyway).
pub async fn audit_denied(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    ext: &axum::http::Extensions,
    target: &str,
    why: &str,
) {
    let info = RequestInfo::from_parts(headers, ext);
    let session = ext.get::<Session>().cloned();
    let actor = match session {
        Some(s) => match principal_of(state, &s).await {
            Ok(Some(p)) => p.name,
            _ => "-".to_string(),
        },
        None => "-".to_string(),
    };
    if actor == "-" {
        audit_anonymous_denial(state, &info, target, why).await;
        return;
    }
    let _ = audit(
        state,
        &info,
        &actor,
        AuditAction::Denied,
        target,
        Outcome::Denied,
        why,
    )
    .await;
}

/// Records a refusal of an anonymous request, at most
/// [`limiter::ANON_DENIALS_PER_MINUTE`] a minute per client address; the
/// rest are counted, and the count is written as one record when that
/// client's minute is over (at its next refusal, or by the periodic flush).
/// Nobody can flood the trail, and no refusal goes uncounted.
pub async fn audit_anonymous_denial(state: &AppState, info: &RequestInfo, target: &str, why: &str) {
    let (write, summary) = state
        .auth
        .anon_denials
        .note(&info.client, std::time::Instant::now());
    if let Some(s) = summary {
        write_denial_summary(state, &info.client, s).await;
    }
    if write {
        let _ = audit(
            state,
            info,
            "-",
            AuditAction::Denied,
            target,
            Outcome::Denied,
            why,
        )
        .await;
    }
}

/// Writes the counts of refusals that were not recorded one by one, of
/// every client whose minute was over at `now`.
pub async fn flush_anonymous_denials(state: &AppState, now: std::time::Instant) {
    for (client, n) in state.auth.anon_denials.flush(now) {
        write_denial_summary(state, &client, n).await;
    }
}

async fn write_denial_summary(state: &AppState, client: &str, n: u64) {
    let info = RequestInfo {
        client: client.to_string(),
        request_id: "-".into(),
    };
    let _ = audit(
        state,
        &info,
        "-",
        AuditAction::Denied,
        "-",
        Outcome::Denied,
        format!("{n} more refused anonymous requests from {client} in the minute before (not recorded one by one)"),
    )
    .await;
}

/// Guard for a server function: the user, or the error (401) with a denial
/// audited.
pub async fn guard(state: &AppState, what: &str) -> Result<Principal, AppError> {
    match require_user(state).await {
        Ok(p) => Ok(p),
        Err(e) => {
            if e.kind == ErrorKind::Unauthenticated {
                let info = RequestInfo::current();
                audit_anonymous_denial(state, &info, what, "not signed in").await;
            }
            Err(e)
        }
    }
}

/// Which of a person's budgets of AWS reads a call takes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadBudget {
    /// What someone asks for: a refresh, an action or approval preview
    /// (`[actions] aws_reads_burst`, `aws_reads_per_user_per_minute`).
    Asked,
    /// A secret's page read live on first view (`[actions] page_reads_burst`,
    /// `page_reads_per_user_per_minute`); over it, the page shows the last
    /// sync instead of failing.
    PageView,
}

/// Takes one call from `who`'s budget of AWS reads, or refuses with 429
/// and when to retry.
pub fn take_aws_read(
    state: &AppState,
    who: &Principal,
    what: &str,
    budget: ReadBudget,
) -> Result<(), AppError> {
    let buckets = match budget {
        ReadBudget::Asked => &state.aws_reads,
        ReadBudget::PageView => &state.page_reads,
    };
    buckets
        .take(&who.name, std::time::Instant::now())
        .map_err(|wait| {
            let why = format!(
                "You have asked for more reads from AWS in the last minute than one person may. Try again in {}.",
                crate::domain::time::wait_text(wait.as_secs().max(1))
            );
            AppError::new(ErrorKind::Throttled, why.clone(), format!("{}: {what}: {why}", who.name))
        })
}

/// Audits a 403 from a guard check and passes the error on.
pub async fn denied(state: &AppState, who: &Principal, target: &str, e: AppError) -> AppError {
    if e.kind == ErrorKind::Forbidden {
        let info = RequestInfo::current();
        let _ = audit(
            state,
            &info,
            &who.name,
            AuditAction::Denied,
            target,
            Outcome::Denied,
            e.detail.clone(),
        )
        .await;
    }
    e
}

/// Views restricted to a set of grants, kept per health view: a scoped
/// user's pages reuse one restricted snapshot until the inventory or the
/// rules' results change.
#[derive(Default)]
pub struct ScopedViews {
    cache: std::sync::Mutex<ScopedCache>,
}

type ScopedCache = std::collections::HashMap<
    Vec<Grant>,
    (
        std::sync::Weak<super::health::HealthView>,
        std::sync::Arc<super::health::HealthView>,
    ),
>;

impl ScopedViews {
    /// Distinct grant sets kept; beyond this the cache starts over.
    const MAX: usize = 64;

    /// `full` itself for a user who sees everything, else its part their
    /// grants cover.
    pub fn view_for(
        &self,
        full: std::sync::Arc<super::health::HealthView>,
        who: &Principal,
    ) -> std::sync::Arc<super::health::HealthView> {
        use std::sync::Arc;
        if who.global_role().is_some() {
            return full;
        }
        let mut key = who.grants.clone();
        key.sort_by_key(|g| (g.role, g.scope.to_string()));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((of, view)) = cache.get(&key) {
            if std::ptr::eq(of.as_ptr(), Arc::as_ptr(&full)) {
                return view.clone();
            }
        }
        let grants = who.grants.clone();
        let view = Arc::new(full.restrict(|s| role_on(&grants, s).is_some()));
        if cache.len() >= Self::MAX {
            cache.clear();
        }
        cache.insert(key, (Arc::downgrade(&full), view.clone()));
        view
    }
}
