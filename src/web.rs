//! The dashboard's HTTP service: Leptos pages and server functions, probes,
//! `/metrics`, static files, sessions, request ids, tracing and request
//! metrics. The top of the layers: it mounts `app` (pages) and `api` (server
//! functions) over `server`'s state, so it lives above all three.

use crate::app::{shell, App};
use crate::server::AppState;
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
    let sessions = SessionManagerLayer::new(crate::server::store::SqlSessionStore(
        state.auth.store.clone(),
    ))
    .with_name("secretscope_session")
    .with_http_only(true)
    .with_same_site(SameSite::Strict)
    .with_secure(settings.https)
    .with_expiry(Expiry::OnInactivity(time::Duration::seconds(idle)));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::server::metrics::handler))
        .route("/export/secrets.csv", get(crate::server::export::csv))
        .route("/export/secrets.json", get(crate::server::export::json))
        .route("/export/audit.csv", get(crate::server::audit::csv))
        .route("/login", post(crate::server::auth::handlers::login))
        .route("/logout", post(crate::server::auth::handlers::logout))
        .route("/auth/oidc/login", get(crate::server::auth::oidc::start))
        .route("/auth/oidc/callback", get(crate::server::auth::oidc::callback))
        .leptos_routes_with_context(&state, routes, provide_csp_nonce, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            provide_csp_nonce,
            shell,
        ))
        // Innermost: anonymous page requests go to the login page.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::server::auth::handlers::gate,
        ))
        // Forged cross-site requests stop here, before any handler.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::server::security::origin_guard,
        ))
        .layer(
            ServiceBuilder::new()
                // A client's ill-formed X-Request-Id is dropped (one is made
                // below); the client's address is settled once.
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::server::security::request_facts,
                ))
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
                .layer(axum::middleware::from_fn(crate::server::security::catch_panic))
                .layer(axum::middleware::from_fn(crate::server::security::headers))
                // DNS rebinding stops here: only hosts the dashboard answers for.
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::server::security::host_guard,
                ))
                // Over-long bodies get 413 and a sentence, before anything reads them.
                .layer(axum::middleware::from_fn(crate::server::security::body_limit))
                .layer(sessions),
        )
        // A body sent too slowly, or a request that takes too long, ends.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_READ_TIMEOUT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        // Outermost: every request is counted, the fallback's 404s included.
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::server::metrics::track,
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
        // The error itself (it may name accounts and roles) is in the log
        // and on /sources, not here: probes need no sign-in.
        if let Some(e) = state.inventory.status().last_error {
            tracing::debug!(error = %e, "not ready");
        }
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the first sync has not finished (see the log or /sources)\n".to_string(),
        )
    }
}

/// Hands the response's CSP nonce (from `security::headers`) to the page
/// renderer, so the hydration script carries it.
fn provide_csp_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>().and_then(|p| {
        p.extensions
            .get::<crate::server::security::CspNonce>()
            .cloned()
    });
    if let Some(n) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(n.0));
    }
}

/// How long a client may take to send a request's headers, and its body.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// The longest any request may take, reading AWS included.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// Serves `app` on `listener` (HTTP/1.1) until `shutdown` resolves, then
/// lets requests in flight finish (for up to 20 s). Unlike `axum::serve`,
/// a client that sends its headers slowly (or never) is cut off after
/// [`HEADER_READ_TIMEOUT`]; bodies and whole requests are bounded by the
/// router's own layers ([`BODY_READ_TIMEOUT`], [`REQUEST_TIMEOUT`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use std::net::SocketAddr;
    use tower::Service as _;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Too many open files and the like: wait, and go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let svc = match make.call(peer).await {
            Ok(svc) => svc,
            Err(never) => match never {},
        };
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let hyper_svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut svc = svc.clone();
                    async move { svc.call(req.map(axum::body::Body::new)).await }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), hyper_svc)
                .with_upgrades();
            tokio::pin!(conn);
            let stopping = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                () = stopping => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}
