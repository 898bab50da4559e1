//! Single sign-on with OpenID Connect (`openidconnect`): the authorization
//! code flow with PKCE (S256), `state` and `nonce` checked.
//!
//! `GET /auth/oidc/login` discovers the provider (cached), keeps the flow's
//! state, nonce, PKCE verifier and destination on the server under a random
//! handle held in a short-lived HttpOnly SameSite=Lax cookie scoped to
//! `/auth/oidc` (the session cookie is SameSite=Strict, so a browser
//! returning from the provider would not send it), and sends the browser to
//! the provider. `GET /auth/oidc/callback` refuses a missing, expired or
//! different `state`, exchanges the code with the verifier, verifies the ID
//! token (signature, issuer, audience, expiry, nonce), maps the group claim
//! to grants through `[auth.oidc.groups]`, creates or updates the user (an
//! SSO user has no password; a local password account of the same name is
//! never taken over), replaces their grants with the mapped ones and signs
//! them in as a password sign-in does. Every outcome is audited.
//!
//! The handshake lives in this process's memory for ten minutes: behind
//! several replicas, route `/auth/oidc/*` of one browser to one replica
//! (sticky sessions), or run one.

use super::{audit, now, store_error, RequestInfo, SIGNED_IN_AT, USER_ID};
use crate::domain::access::{Grant, Role, Scope};
use crate::domain::audit::{AuditAction, Outcome};
use crate::server::error::AppError;
use crate::server::AppState;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope as OidcScope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// `[auth.oidc]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer URL (discovery reads
    /// `ISSUER/.well-known/openid-configuration`). Unset: no single sign-on.
    /// `https://`, or `http://` on a loopback address (tests).
    pub issuer_url: Option<String>,
    pub client_id: String,
    /// Redacted in `secretscope config`.
    pub client_secret: Option<String>,
    /// `https://secretscope.example.com/auth/oidc/callback`, as registered
    /// with the provider. Unset: `auth.public_url` + `/auth/oidc/callback`,
    /// else the address the browser used.
    pub redirect_url: Option<String>,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim holding the user's groups (a list of strings).
    pub groups_claim: String,
    /// Group → grants, in the CLI's text form: `admin on *`,
    /// `operator on prefix:prod/payments/`, `viewer on account:210987654321`.
    pub groups: BTreeMap<String, Vec<String>>,
    /// The ID token claim used as the user name (then `email`, then `sub`).
    pub name_claim: String,
    /// The provider's name on the sign-in button.
    pub label: String,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            issuer_url: None,
            client_id: String::new(),
            client_secret: None,
            redirect_url: None,
            scopes: vec!["profile".into(), "email".into()],
            groups_claim: "groups".into(),
            groups: BTreeMap::new(),
            name_claim: "preferred_username".into(),
            label: "single sign-on".into(),
        }
    }
}

/// Parses `ROLE on SCOPE`.
pub fn parse_grant(text: &str) -> Result<Grant, String> {
    let (role, scope) = text
        .split_once(" on ")
        .ok_or_else(|| format!("{text:?} is not a grant: write ROLE on SCOPE, for example \"operator on prefix:prod/\""))?;
    let role = Role::parse(role).map_err(|e| e.0)?;
    let scope = Scope::parse(scope).map_err(|e| e.0)?;
    Ok(Grant::new(role, scope))
}

impl OidcSettings {
    pub fn enabled(&self) -> bool {
        self.issuer_url.is_some()
    }

    /// The problems of this configuration, as sentences naming the setting.
    pub fn check(&self) -> Result<(), String> {
        let Some(issuer) = &self.issuer_url else {
            return Ok(());
        };
        let loopback = crate::server::aws::client::is_loopback_url(issuer);
        if !(issuer.starts_with("https://") || (issuer.starts_with("http://") && loopback)) {
            return Err(format!(
                "auth.oidc.issuer_url {issuer:?} must be https:// (plain http only on a loopback address, for tests)"
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(
                "auth.oidc.client_id is empty: set the client id registered with the provider"
                    .into(),
            );
        }
        for (group, grants) in &self.groups {
            for g in grants {
                parse_grant(g).map_err(|e| format!("auth.oidc.groups.{group:?}: {e}"))?;
            }
        }
        Ok(())
    }

    /// The grants `groups` earn, without repeats, in configuration order.
    pub fn grants_for(&self, groups: &[String]) -> Vec<Grant> {
        let mut out: Vec<Grant> = Vec::new();
        for (group, grants) in &self.groups {
            if groups.iter().any(|g| g == group) {
                for g in grants.iter().filter_map(|g| parse_grant(g).ok()) {
                    if !out.contains(&g) {
                        out.push(g);
                    }
                }
            }
        }
        out
    }
}

/// A flow begun at `/auth/oidc/login`, waiting for its callback.
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    redirect: String,
    started: Instant,
}

const FLOW_COOKIE: &str = "secretscope_oidc";
const FLOW_TTL: Duration = Duration::from_secs(600);
/// The most single sign-ons in progress kept at once.
const MAX_PENDING: usize = 10_000;

/// The single sign-on state of a running dashboard.
#[derive(Default)]
pub struct Oidc {
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
    pending: Mutex<HashMap<String, Pending>>,
}

#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// One request to the provider (no redirects followed, 1 MiB at most, 15 s).
async fn send(
    client: &HttpClient,
    req: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let req = axum::http::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let resp = tokio::time::timeout(Duration::from_secs(15), client.request(req))
        .await
        .map_err(|_| HttpError("the identity provider did not answer within 15 s".into()))?
        .map_err(|e| HttpError(format!("cannot reach the identity provider: {e}")))?;
    let (parts, body) = resp.into_parts();
    let body = Limited::new(body, 1 << 20)
        .collect()
        .await
        .map_err(|e| HttpError(format!("reading the identity provider's answer: {e}")))?
        .to_bytes();
    Ok(axum::http::Response::from_parts(parts, body.to_vec()))
}

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(crate::server::alerts::connector())
}

impl Oidc {
    /// The provider's metadata, discovered at most every ten minutes.
    async fn metadata(&self, settings: &OidcSettings) -> Result<CoreProviderMetadata, AppError> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref() {
            if at.elapsed() < FLOW_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = settings.issuer_url.clone().unwrap_or_default();
        let url = IssuerUrl::new(issuer.clone()).map_err(|e| unreachable_provider(&issuer, e))?;
        let client = http_client();
        let http = move |r| {
            let c = client.clone();
            async move { send(&c, r).await }
        };
        let m = CoreProviderMetadata::discover_async(url, &http)
            .await
            .map_err(|e| unreachable_provider(&issuer, e))?;
        *cached = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    fn remember(&self, handle: String, p: Pending) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, p| p.started.elapsed() < FLOW_TTL);
        // Bounded: past the most sign-ins in progress, the oldest is dropped
        // (its browser starts again), so memory cannot grow without end.
        if pending.len() >= MAX_PENDING {
            if let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
            {
                pending.remove(&oldest);
            }
        }
        pending.insert(handle, p);
    }

    /// Sign-ins in progress now.
    pub fn pending_count(&self) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn take(&self, handle: &str) -> Option<Pending> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending
            .remove(handle)
            .filter(|p| p.started.elapsed() < FLOW_TTL)
    }
}

fn unreachable_provider(issuer: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        crate::server::error::ErrorKind::Unreachable,
        "The identity provider could not be reached, so single sign-on is unavailable right now. Try again in a minute; an admin can check auth.oidc.issuer_url.",
        format!("OIDC discovery at {issuer}: {e}"),
    )
}

/// Where the provider sends the browser back to: `auth.oidc.redirect_url`,
/// else `auth.public_url` + `/auth/oidc/callback`; never from the request's
/// `Host` (which a client chooses). `serve` refuses to start with single
/// sign-on and neither set.
fn redirect_url(settings: &super::AuthSettings) -> Option<String> {
    if let Some(u) = &settings.oidc.redirect_url {
        return Some(u.clone());
    }
    settings
        .public_url
        .as_ref()
        .map(|public| format!("{}/auth/oidc/callback", public.trim_end_matches('/')))
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// `GET /auth/oidc/login`: off to the provider.
pub async fn start(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<LoginQuery>,
) -> Response {
    let info = RequestInfo::of(&parts);
    let headers = &info;
    let settings = &state.auth.settings.oidc;
    if !settings.enabled() {
        return (StatusCode::NOT_FOUND, "Single sign-on is not configured.").into_response();
    }
    let metadata = match state.oidc.metadata(settings).await {
        Ok(m) => m,
        Err(e) => return failed(&state, headers, "provider", e, None).await,
    };
    let Some(redirect) = redirect_url(&state.auth.settings) else {
        let e = AppError::internal(
            "single sign-on needs auth.public_url (or auth.oidc.redirect_url): the callback address is never taken from the request's Host".to_string(),
        );
        return failed(&state, headers, "provider", e, None).await;
    };
    let client = match RedirectUrl::new(redirect.clone()) {
        Ok(r) => CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(r),
        Err(e) => {
            let e = AppError::internal(format!("auth.oidc.redirect_url {redirect:?}: {e}"));
            return failed(&state, headers, "provider", e, None).await;
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut auth = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in &settings.scopes {
        auth = auth.add_scope(OidcScope::new(s.clone()));
    }
    let (url, csrf, nonce) = auth.set_pkce_challenge(challenge).url();
    let handle = CsrfToken::new_random().secret().clone();
    state.oidc.remember(
        handle.clone(),
        Pending {
            state: csrf.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: super::handlers::safe_next(&q.next).to_string(),
            redirect,
            started: Instant::now(),
        },
    );
    let secure = if state.auth.settings.https {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{FLOW_COOKIE}={handle}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        FLOW_TTL.as_secs()
    );
    let mut resp = Redirect::to(url.as_str()).into_response();
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn flow_handle(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == FLOW_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Sends the browser back to the sign-in page with `kind` (what it says)
/// and the request id, after logging and auditing the detail.
async fn failed(
    state: &AppState,
    info: &RequestInfo,
    kind: &'static str,
    e: AppError,
    who: Option<String>,
) -> Response {
    tracing::warn!(request_id = %info.request_id, kind, detail = %e.detail, "single sign-on refused");
    let name = who.unwrap_or_else(|| "(single sign-on)".to_string());
    if let Err(a) = audit(
        state,
        info,
        &name,
        AuditAction::LoginFailed,
        &name,
        Outcome::Denied,
        format!("sso: {}", e.detail),
    )
    .await
    {
        tracing::error!(detail = %a.detail, "a refused sign-in could not be audited");
    }
    let rid: String = info
        .request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let mut resp = Redirect::to(&format!("/login?sso_error={kind}&rid={rid}")).into_response();
    clear_flow_cookie(&mut resp);
    resp
}

fn clear_flow_cookie(resp: &mut Response) {
    if let Ok(v) =
        format!("{FLOW_COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0").parse()
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn refused(user: &str, detail: String) -> AppError {
    AppError::new(crate::server::error::ErrorKind::Forbidden, user, detail)
}

/// A claim of the verified ID token that `openidconnect`'s standard claims
/// do not carry (the group claim is named by configuration): read from the
/// token's payload after the signature, issuer, audience, expiry and nonce
/// have been verified.
fn raw_claim(id_token: &str, name: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get_mut(name).map(serde_json::Value::take)
}

fn groups_of(v: Option<serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::Array(a)) => a
            .into_iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s],
        _ => Vec::new(),
    }
}

/// `GET /auth/oidc/callback`: verify, map, sign in.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let info = RequestInfo::of(&parts);
    let headers = &info;
    let settings = state.auth.settings.oidc.clone();
    if !settings.enabled() {
        return (StatusCode::NOT_FOUND, "Single sign-on is not configured.").into_response();
    }
    if let Some(err) = q.error {
        let e = refused(
            "The identity provider did not sign you in.",
            format!(
                "provider error {err}: {}",
                q.error_description.unwrap_or_default()
            ),
        );
        return failed(&state, headers, "provider", e, None).await;
    }
    // The flow this browser began, once: a replayed or foreign callback has none.
    let pending = flow_handle(&parts.headers).and_then(|h| state.oidc.take(&h));
    let Some(pending) = pending else {
        let e = refused(
            "",
            "no sign-in in progress for this browser (no flow cookie, or it expired)".into(),
        );
        return failed(&state, headers, "state", e, None).await;
    };
    if q.state.as_deref() != Some(pending.state.as_str()) {
        let e = refused("", "the state returned does not match the one sent".into());
        return failed(&state, headers, "state", e, None).await;
    }
    let Some(code) = q.code else {
        let e = refused("", "the provider returned no code".into());
        return failed(&state, headers, "provider", e, None).await;
    };
    let (claims, raw) = match verified_token(&state, &settings, &pending, code).await {
        Ok(t) => t,
        Err((kind, e)) => return failed(&state, headers, kind, e, None).await,
    };
    // The identity is the issuer and subject; the name only names a new user.
    // An e-mail address names one only when the provider verified it.
    let identity = (claims.issuer().to_string(), claims.subject().to_string());
    let name = raw_claim(&raw, &settings.name_claim)
        .and_then(|v| v.as_str().map(str::to_string))
        .or_else(|| {
            claims
                .email()
                .filter(|_| claims.email_verified() == Some(true))
                .map(|e| e.to_string())
        })
        .unwrap_or_else(|| claims.subject().to_string());
    let groups = groups_of(raw_claim(&raw, &settings.groups_claim));
    let grants = settings.grants_for(&groups);
    if grants.is_empty() {
        let e = refused(
            "",
            format!(
                "{name}'s groups {groups:?} (claim {:?}) map to no grant in auth.oidc.groups",
                settings.groups_claim
            ),
        );
        return failed(&state, headers, "groups", e, Some(name)).await;
    }
    match sign_in(&state, &session, &info, &identity, &name, &grants, &groups).await {
        Ok(()) => signed_in_page(&pending.next),
        Err((kind, e)) => failed(&state, headers, kind, e, Some(name)).await,
    }
}

/// The code exchanged for an ID token (with the flow's PKCE verifier), and
/// the token verified (signature, issuer, audience, expiry, the flow's
/// nonce): its claims and its raw text. Else what failed, for the record.
async fn verified_token(
    state: &AppState,
    settings: &OidcSettings,
    pending: &Pending,
    code: String,
) -> Result<(CoreIdTokenClaims, String), (&'static str, AppError)> {
    let metadata = match state.oidc.metadata(settings).await {
        Ok(m) => m,
        Err(e) => return Err(("provider", e)),
    };
    let redirect = match RedirectUrl::new(pending.redirect.clone()) {
        Ok(r) => r,
        Err(e) => {
            let e = AppError::internal(format!("redirect url: {e}"));
            return Err(("provider", e));
        }
    };
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        settings.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect);
    let client_http = http_client();
    let http = move |r| {
        let c = client_http.clone();
        async move { send(&c, r).await }
    };
    let exchanged = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(req) => req
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| format!("code exchange: {e}")),
        Err(e) => Err(format!("the provider has no token endpoint: {e}")),
    };
    let token = match exchanged {
        Ok(t) => t,
        Err(detail) => {
            let e = refused("", detail);
            return Err(("provider", e));
        }
    };
    let Some(id_token) = token.id_token() else {
        let e = refused("", "the token response has no ID token".into());
        return Err(("provider", e));
    };
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce.clone())) {
        Ok(c) => c.clone(),
        Err(e) => {
            let kind = if e.to_string().to_lowercase().contains("nonce") {
                "nonce"
            } else {
                "token"
            };
            let e = refused("", format!("ID token refused: {e}"));
            return Err((kind, e));
        }
    };
    let raw = id_token.to_string();
    Ok((claims, raw))
}

/// A page of our own after signing in, so that the way on is a same-site
/// navigation and the SameSite=Strict session cookie goes with it.
fn signed_in_page(next: &str) -> Response {
    let escaped = crate::domain::html::escape(next);
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={escaped}\"><title>Signed in · secretscope</title></head>\
         <body><p>Signed in. <a href=\"{escaped}\">Continue</a>.</p></body></html>"
    );
    let mut resp = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    clear_flow_cookie(&mut resp);
    resp
}

/// Creates or updates the SSO user `name` with exactly `grants`, audits the
/// sign-in and starts the session.
async fn sign_in(
    state: &AppState,
    session: &Session,
    info: &RequestInfo,
    (issuer, subject): &(String, String),
    name: &str,
    grants: &[Grant],
    groups: &[String],
) -> Result<(), (&'static str, AppError)> {
    let store = &state.auth.store;
    let st = |e| ("store", store_error(e));
    // Known by its issuer and subject: that user, whatever name the token
    // carries now.
    if let Some(user) = store.user_by_identity(issuer, subject).await.map_err(st)? {
        if user.disabled {
            return Err((
                "disabled",
                refused("", format!("{} is disabled", user.name)),
            ));
        }
        return finish_sign_in(state, session, info, user, grants, groups).await;
    }
    let bad_name = |e: AppError| ("name", e);
    super::users::check_name(name).map_err(bad_name)?;
    let user = match store.user_by_name(name).await.map_err(st)? {
        // A single sign-on user of that name already known by another
        // identity: this one may not take it over.
        Some(u)
            if u.password_hash.is_none() && store.identities_of(u.id).await.map_err(st)? > 0 =>
        {
            return Err((
                "identity",
                refused(
                    "",
                    format!("{name} belongs to another single sign-on identity (not {subject} of {issuer})"),
                ),
            ));
        }
        Some(u) if u.password_hash.is_some() => {
            return Err((
                "local",
                refused(
                    "",
                    format!(
                        "{name} is a local password account: single sign-on does not take it over"
                    ),
                ),
            ))
        }
        Some(u) if u.disabled => {
            return Err(("disabled", refused("", format!("{name} is disabled"))));
        }
        Some(u) => u,
        None => store
            .create_user(name, None, now())
            .await
            .map_err(|e| ("store", store_error(e)))?,
    };
    store
        .link_identity(issuer, subject, user.id)
        .await
        .map_err(st)?;
    finish_sign_in(state, session, info, user, grants, groups).await
}

/// Gives `user` exactly `grants` and `groups`, audits the sign-in and
/// starts the session.
async fn finish_sign_in(
    state: &AppState,
    session: &Session,
    info: &RequestInfo,
    user: crate::server::store::User,
    grants: &[Grant],
    groups: &[String],
) -> Result<(), (&'static str, AppError)> {
    let store = &state.auth.store;
    let name = user.name.as_str();
    let held = store
        .grants_of(user.id)
        .await
        .map_err(|e| ("store", store_error(e)))?;
    for g in &held {
        if !grants.contains(&g.grant) {
            store
                .remove_grant(g.id)
                .await
                .map_err(|e| ("store", store_error(e)))?;
        }
    }
    for g in grants {
        if !held.iter().any(|h| h.grant == *g) {
            store
                .add_grant(user.id, g)
                .await
                .map_err(|e| ("store", store_error(e)))?;
        }
    }
    // Kept for deciding access requests: `[requests.owners]` may name a group.
    store
        .set_groups(user.id, groups)
        .await
        .map_err(|e| ("store", store_error(e)))?;
    let shown: Vec<String> = grants.iter().map(|g| g.to_string()).collect();
    audit(
        state,
        info,
        name,
        AuditAction::Login,
        name,
        Outcome::Allowed,
        format!("sso; groups {groups:?}; grants {}", shown.join(", ")),
    )
    .await
    .map_err(|e| ("store", e))?;
    let started = async {
        session.cycle_id().await?;
        session.insert(USER_ID, user.id).await?;
        session.insert(SIGNED_IN_AT, now().secs()).await?;
        session.save().await
    };
    started
        .await
        .map_err(|e| ("store", AppError::internal(format!("session: {e}"))))
}

#[cfg(test)]
mod tests;
