//! `POST /login`, `POST /logout`, and the page gate that sends anonymous
//! visitors to the login page. Plain form posts: they work without
//! JavaScript, and the origin check in front of them refuses forged ones.

use super::{audit, limiter, password, principal_of, RequestInfo, SIGNED_IN_AT, USER_ID};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::links;
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::time::Instant;
use tower_sessions::Session;

#[derive(serde::Deserialize)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub next: String,
}

/// Where to go after signing in: a path on this site only (no `//host`,
/// no scheme), else the overview.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.starts_with("/login")
        && !next.chars().any(|c| c.is_control());
    if ok {
        next
    } else {
        "/"
    }
}

fn back_to_login(query: &str, next: &str) -> Response {
    let next = safe_next(next);
    let mut params: Vec<String> = Vec::new();
    if !query.is_empty() {
        params.push(query.to_string());
    }
    if next != "/" {
        params.push(format!("next={}", links::path(next)));
    }
    let mut url = "/login".to_string();
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    Redirect::to(&url).into_response()
}

fn unavailable(e: crate::server::error::AppError) -> Response {
    tracing::error!(detail = %e.detail, "login failed inside");
    (StatusCode::SERVICE_UNAVAILABLE, e.user).into_response()
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    req_parts: axum::http::request::Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let info = RequestInfo::of(&req_parts);
    let name = form.name.trim().to_string();
    let auth = &state.auth;
    let failed = |detail: &'static str| {
        audit(
            &state,
            &info,
            &name,
            AuditAction::LoginFailed,
            &name,
            Outcome::Denied,
            detail,
        )
    };
    if !auth.settings.password_login {
        if let Err(e) = failed("password sign-in is turned off (auth.password_login = false)").await
        {
            return unavailable(e);
        }
        return (
            StatusCode::FORBIDDEN,
            "Sign-in with a password is turned off here: use single sign-on from the sign-in page.",
        )
            .into_response();
    }
    if let Err(wait) = auth.limiter.begin(&info.client, &name, Instant::now()) {
        let detail = format!(
            "too many failed sign-ins; refused for {}",
            limiter::wait_text(wait)
        );
        if let Err(e) = audit(
            &state,
            &info,
            &name,
            AuditAction::LoginThrottled,
            &name,
            Outcome::Denied,
            detail,
        )
        .await
        {
            return unavailable(e);
        }
        return back_to_login(&format!("retry={}", wait.as_secs().max(1)), &form.next);
    }
    let user = match auth.store.user_by_name(&name).await {
        Ok(u) => u,
        Err(e) => return unavailable(super::store_error(e)),
    };
    let hash = user
        .as_ref()
        .filter(|u| !u.disabled)
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| auth.dummy_hash.clone());
    let password = form.password;
    let ok = password::verify_limited(hash, password).await;
    let user = user.filter(|u| ok && !u.disabled && u.password_hash.is_some());
    let Some(user) = user else {
        // `begin` counted it already.
        if let Err(e) = failed("wrong name or password, or the account is disabled").await {
            return unavailable(e);
        }
        return back_to_login("error=1", &form.next);
    };
    // Audit first: a sign-in that cannot be recorded does not happen.
    if let Err(e) = audit(
        &state,
        &info,
        &user.name,
        AuditAction::Login,
        &user.name,
        Outcome::Allowed,
        "password",
    )
    .await
    {
        return unavailable(e);
    }
    auth.limiter.succeeded(&info.client, &name);
    // A new id at sign-in: an id planted before it (fixation) is worthless.
    let signed_in = async {
        session.cycle_id().await?;
        session.insert(USER_ID, user.id).await?;
        session.insert(SIGNED_IN_AT, super::now().secs()).await?;
        session.save().await
    };
    if let Err(e) = signed_in.await {
        return unavailable(crate::server::error::AppError::internal(format!(
            "session: {e}"
        )));
    }
    Redirect::to(safe_next(&form.next)).into_response()
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    parts: axum::http::request::Parts,
) -> Response {
    let info = RequestInfo::of(&parts);
    if let Ok(Some(p)) = principal_of(&state, &session).await {
        let _ = audit(
            &state,
            &info,
            &p.name,
            AuditAction::Logout,
            &p.name,
            Outcome::Allowed,
            "",
        )
        .await;
    }
    // Deletes the record in the store: the old cookie is worthless.
    if let Err(e) = session.flush().await {
        tracing::error!("logout: session not deleted: {e}");
    }
    Redirect::to("/login?signed_out=1").into_response()
}

/// Paths anyone may load: the login page, probes, metrics, static assets.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/auth/oidc/login" | "/auth/oidc/callback" | "/healthz" | "/readyz" | "/metrics" | "/favicon.svg" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || path.starts_with("/screenshots/")
        // Server functions answer 401 themselves (their guard), as data.
        || path.starts_with("/api/")
}

/// Sends anonymous page requests to the login page (the guards inside every
/// server function and data route still decide; this is for people).
pub async fn gate(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if is_public(path) {
        return next.run(req).await;
    }
    match principal_of(&state, &session).await {
        Ok(Some(who)) => {
            // For the page's server functions (`auth::current_user`).
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Ok(None) => {
            let target = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            if path.starts_with("/export/") {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::CACHE_CONTROL, "no-store")],
                    "Sign in first: this export needs a session.\n",
                )
                    .into_response();
            }
            back_to_login("", &target)
        }
        Err(e) => unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/secrets?q=a"), "/secrets?q=a");
        for bad in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "/login",
            "x",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        assert_eq!(links::path("/secrets?q=a b&x"), "/secrets%3Fq%3Da%20b%26x");
    }
}
