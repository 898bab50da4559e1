//! The control routes under `/__secretscope/` (tests and demos use them;
//! the dashboard never does): faults, availability, the seed's plan,
//! rotation records, Secrets Manager's own rotation retries, the actions
//! an account's callers are refused, and simulated reads (`reads.rs`).

use crate::{Faults, Inner, LocalEndpoint};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl LocalEndpoint {
    /// The control routes under `/__secretscope/` alone.
    pub fn control_router(&self) -> Router {
        self.control_routes(true)
    }

    /// The control routes; `reads`: with `/__secretscope/reads` (an
    /// organisation routes that one itself, to the secret's account).
    pub(crate) fn control_routes(&self, reads: bool) -> Router {
        let router = Router::new()
            .route(
                "/__secretscope/faults",
                post(faults_handler).get(get_faults_handler),
            )
            .route("/__secretscope/down", post(down_handler))
            .route("/__secretscope/calls", get(calls_handler))
            .route(
                "/__secretscope/trail-quota",
                post(trail_quota_handler).get(get_trail_quota_handler),
            )
            .route("/__secretscope/plan", get(plan_handler))
            .route("/__secretscope/rotations", get(rotations_handler))
            .route(
                "/__secretscope/service-retries",
                post(service_retries_handler).get(get_service_retries_handler),
            )
            .route(
                "/__secretscope/denied-actions",
                post(denied_actions_handler).get(get_denied_actions_handler),
            );
        let router = if reads {
            router.route(
                READS,
                post(reads_handler)
                    .get(get_reads_handler)
                    .layer(DefaultBodyLimit::max(crate::reads::BODY_LIMIT)),
            )
        } else {
            router
        };
        router
            .with_state(self.inner.clone())
            .layer(axum::middleware::from_fn(json_posts_only))
    }
}

/// The route that adds and lists a secret's readers (see `reads.rs`).
pub(crate) const READS: &str = "/__secretscope/reads";

async fn reads_handler(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    crate::reads::post(&body, |_| LocalEndpoint {
        inner: inner.clone(),
    })
}

async fn get_reads_handler(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    crate::reads::get(&q, |_| LocalEndpoint {
        inner: inner.clone(),
    })
}

pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// Control POSTs must say they carry JSON. A web page can send a
/// cross-origin `text/plain` or form POST without asking first, but not an
/// `application/json` one: so no page that finds the port can flip faults,
/// availability or trust policies.
pub(crate) async fn json_posts_only(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if req.method() == axum::http::Method::POST && !json {
        return json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": "control requests must have Content-Type: application/json"}),
        );
    }
    next.run(req).await
}

async fn faults_handler(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let f: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    };
    if let Err(e) = f.validate() {
        return json_response(StatusCode::BAD_REQUEST, json!({"error": e}));
    }
    *inner.faults.lock().unwrap_or_else(|e| e.into_inner()) = f;
    tracing::info!(?f, "demo endpoint faults changed");
    json_response(StatusCode::OK, json!(f))
}

async fn get_faults_handler(State(inner): State<Arc<Inner>>) -> Response {
    let f = *inner.faults.lock().unwrap_or_else(|e| e.into_inner());
    json_response(StatusCode::OK, json!(f))
}

#[derive(serde::Deserialize)]
struct DownReq {
    down: bool,
}

async fn down_handler(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    match serde_json::from_slice::<DownReq>(&body) {
        Ok(d) => {
            inner.down.store(d.down, Ordering::SeqCst);
            tracing::info!(down = d.down, "demo endpoint availability changed");
            json_response(StatusCode::OK, json!({"down": d.down}))
        }
        Err(e) => json_response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    }
}

/// `GET /__secretscope/calls`: the protocol requests received, by
/// operation (`{"secretsmanager:ListSecrets": 3, "cloudtrail:LookupEvents": 1}`).
async fn calls_handler(State(inner): State<Arc<Inner>>) -> Response {
    json_response(StatusCode::OK, json!(*inner.lock_calls()))
}

#[derive(serde::Deserialize)]
struct QuotaReq {
    per_second: f64,
}

/// `POST /__secretscope/trail-quota` `{"per_second": 2}`: LookupEvents'
/// quota in this account and region (0: none); `GET` reads it.
async fn trail_quota_handler(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    match serde_json::from_slice::<QuotaReq>(&body) {
        Ok(q) => {
            *inner.trail_quota.lock().unwrap_or_else(|e| e.into_inner()) =
                crate::cloudtrail::quota::Quota::new(q.per_second);
            get_trail_quota_handler(State(inner)).await
        }
        Err(e) => json_response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    }
}

async fn get_trail_quota_handler(State(inner): State<Arc<Inner>>) -> Response {
    let per_second = inner
        .trail_quota
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .per_sec();
    json_response(StatusCode::OK, json!({ "per_second": per_second }))
}

/// `POST /__secretscope/service-retries` `{"delay_ms": 200, "retries": 2}`
/// (either may be left out and stays as it was).
#[derive(serde::Deserialize)]
struct ServiceRetriesReq {
    delay_ms: Option<u64>,
    retries: Option<u32>,
}

async fn service_retries_handler(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let req: ServiceRetriesReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    };
    let now = {
        let mut r = inner
            .service_retries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.delay_ms = req.delay_ms.unwrap_or(r.delay_ms);
        r.retries = req.retries.unwrap_or(r.retries);
        *r
    };
    tracing::info!(?now, "demo endpoint service retries changed");
    json_response(StatusCode::OK, json!(now))
}

async fn get_service_retries_handler(State(inner): State<Arc<Inner>>) -> Response {
    json_response(StatusCode::OK, json!(inner.service_retries()))
}

/// `POST /__secretscope/denied-actions` `{"actions": ["ec2:DescribeVpcEndpoints", …],
/// "account": "999999999999"}`: the account's callers (every account's
/// when `account` is left out) are refused those actions, with the
/// service's access-denied error, until an empty list lifts it.
#[derive(serde::Deserialize)]
struct DeniedActionsReq {
    actions: Vec<String>,
    account: Option<String>,
}

async fn denied_actions_handler(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let req: DeniedActionsReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    };
    let malformed = req.actions.iter().find(|a| {
        *a != "*"
            && !a
                .split_once(':')
                .is_some_and(|(s, op)| !s.is_empty() && !op.is_empty())
    });
    if let Some(a) = malformed {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": format!("{a:?} is not an action (service:Operation, `*` allowed)")}),
        );
    }
    inner.infra.deny(req.account.as_deref(), &req.actions);
    let now = inner.infra.denied_actions();
    tracing::info!(?now, "demo endpoint denied actions changed");
    json_response(StatusCode::OK, json!(now))
}

async fn get_denied_actions_handler(State(inner): State<Arc<Inner>>) -> Response {
    json_response(StatusCode::OK, json!(inner.infra.denied_actions()))
}

async fn plan_handler(State(inner): State<Arc<Inner>>) -> Response {
    json_response(StatusCode::OK, json!(inner.plan))
}

async fn rotations_handler(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(id) = q.get("secret_id") else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "secret_id is required"}),
        );
    };
    match inner.store().history(id) {
        Some(h) => json_response(StatusCode::OK, json!(h)),
        None => json_response(StatusCode::NOT_FOUND, json!({"error": "no such secret"})),
    }
}
