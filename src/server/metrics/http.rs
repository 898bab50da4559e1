//! The HTTP side: the request-counting middleware, its bounded labels,
//! and `GET /metrics` (behind the optional bearer token).

use super::exposition::CONTENT_TYPE;
use super::process::Metrics;
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// Maps a request path to a bounded route label.
pub fn route_of(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/secrets" => "/secrets",
        "/oncall" => "/oncall",
        "/metrics" => "/metrics",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        _ => {
            for (prefix, label) in [
                ("/secret/", "/secret/*"),
                ("/export/", "/export/*"),
                ("/api/", "/api/*"),
                ("/pkg/", "/pkg/*"),
            ] {
                if path.starts_with(prefix) {
                    return label;
                }
            }
            "other"
        }
    }
}

/// A bounded method label.
pub fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts every request by method, route template and status,
/// and observes its duration up to the response head.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = route_of(req.uri().path());
    let started = Instant::now();
    let resp = next.run(req).await;
    metrics.observe_http(method, route, resp.status().as_u16(), started.elapsed());
    resp
}

/// `GET /metrics`.
pub async fn handler(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.auth.settings.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
            return (
                axum::http::StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "The metrics need the bearer token set in auth.metrics_token.\n",
            )
                .into_response();
        }
    }
    let now = crate::server::clock::now();
    // `current` may evaluate the rules: CPU work, off the async workers.
    match tokio::task::spawn_blocking(move || super::render(&state, now)).await {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the metrics failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
