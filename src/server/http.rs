//! The dashboard's HTTP service: Leptos pages and server functions, probes,
//! `/metrics`, static files, sessions, request ids, tracing and request
//! metrics.

use super::AppState;
use crate::app::{shell, App};
use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{MemoryStore, SessionManagerLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let metrics = state.metrics.clone();
    // Sessions are wired now; login and their persistent store come with auth.
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_name("secretscope_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(false);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(super::metrics::handler))
        .route("/export/secrets.csv", get(super::export::csv))
        .route("/export/secrets.json", get(super::export::json))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
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
