//! The dashboard's HTTP service: Leptos pages and server functions, probes,
//! `/metrics`, static files, sessions, request ids, tracing and request
//! metrics.

use super::AppState;
use crate::app::{shell, App};
use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let metrics = state.metrics.clone();
    let settings = &state.auth.settings;
    let idle = i64::try_from(settings.idle_timeout_secs).unwrap_or(i64::MAX);
    // Sessions live in the store (SQLite or PostgreSQL): they survive a
    // restart and are shared by replicas; logout deletes the record.
    let sessions =
        SessionManagerLayer::new(super::store::SqlSessionStore(state.auth.store.clone()))
            .with_name("secretscope_session")
            .with_http_only(true)
            .with_same_site(SameSite::Strict)
            .with_secure(settings.https)
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(idle)));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(super::metrics::handler))
        .route("/export/secrets.csv", get(super::export::csv))
        .route("/export/secrets.json", get(super::export::json))
        .route("/export/audit.csv", get(super::audit::csv))
        .route("/login", post(super::auth::handlers::login))
        .route("/logout", post(super::auth::handlers::logout))
        .route("/auth/oidc/login", get(super::auth::oidc::start))
        .route("/auth/oidc/callback", get(super::auth::oidc::callback))
        .leptos_routes_with_context(&state, routes, provide_csp_nonce, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            provide_csp_nonce,
            shell,
        ))
        // Innermost: anonymous page requests go to the login page.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::auth::handlers::gate,
        ))
        // Forged cross-site requests stop here, before any handler.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::security::origin_guard,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                        let id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // A panic becomes a 500 page with the request id.
                .layer(axum::middleware::from_fn(super::security::catch_panic))
                .layer(axum::middleware::from_fn(super::security::headers))
                // DNS rebinding stops here: only hosts the dashboard answers for.
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    super::security::host_guard,
                ))
                .layer(sessions),
        )
        // Outermost: every request is counted, the fallback's 404s included.
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            super::metrics::track,
        ))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once the first list pass has succeeded.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.inventory.is_ready() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        let why = state
            .inventory
            .status()
            .last_error
            .unwrap_or_else(|| "the first sync has not finished".into());
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
    }
}

/// Hands the response's CSP nonce (from `security::headers`) to the page
/// renderer, so the hydration script carries it.
fn provide_csp_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<super::security::CspNonce>().cloned());
    if let Some(n) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(n.0));
    }
}
