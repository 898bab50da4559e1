//! secretscope's demo endpoint: an in-process HTTP server that speaks the AWS
//! JSON 1.1 protocol of Secrets Manager well enough for `aws-sdk-secretsmanager`,
//! boto3 and the aws CLI, over a deterministic seeded inventory.
//!
//! `POST /` with `X-Amz-Target: secretsmanager.<Operation>` is the protocol
//! (SigV4 signatures are accepted unverified). It holds metadata only: secret
//! values are dropped on CreateSecret and PutSecretValue, and GetSecretValue
//! is refused.
//!
//! The same listener serves CloudTrail's LookupEvents
//! (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`)
//! with the rotation events of its simulated rotations and the reads of
//! simulated applications: each seeded secret's [`PlannedReader`]s (steady
//! readers, AWSPREVIOUS readers, failed reads after a deletion, newcomers,
//! refused reads, batch reads; `PlannedSecret::readers`), recorded as
//! GetSecretValue / BatchGetSecretValue events while the endpoint itself
//! still serves no value; see [`cloudtrail`] and `seed/mix.rs`.
//!
//! And the metadata a rotation failure is diagnosed from ([`infra`]): Lambda
//! GetFunction / GetPolicy (`GET /2015-03-31/functions/…`), KMS DescribeKey /
//! GetKeyPolicy / ListGrants (`X-Amz-Target: TrentService.<Op>`), EC2
//! DescribeVpcEndpoints / DescribeSecurityGroups / DescribeRouteTables and
//! IAM SimulatePrincipalPolicy (form-encoded, routed by the SigV4 credential
//! scope's service), for the seeded Lambdas, keys, VPCs and roles; a
//! rotation fails the way that configuration makes it fail (see
//! [`rotation`]'s table). Routing is in `services.rs`.
//!
//! Control routes for tests (never used by the dashboard):
//! - `POST /__secretscope/faults` with a [`Faults`] JSON body;
//! - `POST /__secretscope/down` with `{"down": bool}`: every protocol request
//!   then gets 503 ServiceUnavailable;
//! - `GET /__secretscope/plan`: the seed's [`seed::PlannedSecret`] list;
//! - `GET /__secretscope/rotations?secret_id=ID`: the rotation records of a secret;
//! - `POST /__secretscope/service-retries` with a [`ServiceRetries`] JSON body
//!   (`{"delay_ms": 200, "retries": 2}`, either optional), `GET` to read it:
//!   how Secrets Manager retries a failed rotation (default: 3 times, an hour
//!   apart, see `LocalOptions::service_retry_delay`);
//! - `POST /__secretscope/denied-actions` with `{"actions": ["ec2:DescribeVpcEndpoints"],
//!   "account": "…"}` (account optional: every account), `GET` to read it:
//!   those calls answer their service's access-denied error; `[]` lifts it;
//! - `POST /__secretscope/reads` with `{"secret_id", "principal", "start_ms",
//!   "every_ms", "count", …}`: a reader added to a secret (`{"added": n}`),
//!   `GET /__secretscope/reads?secret_id=ID` its readers; the same as
//!   [`LocalEndpoint::add_reads`] / [`LocalEndpoint::readers`] (see [`reads`]).
//!
//! Several accounts and regions behind one URL, with STS AssumeRole: see
//! [`org`] and [`spawn_org`].
//!
//! Where things are: the protocol in [`protocol`], one file per operation in
//! `ops/`, the state they share in `store/`, the seeded inventory in
//! [`seed`] (its readers in `seed/reads.rs` and `seed/mix.rs`), rotation
//! simulation in [`rotation`], the Lambdas, keys, VPCs, roles and their
//! services in [`infra`], [`faults`], [`cloudtrail`] (the reads in
//! `cloudtrail/reads.rs`), added reads in [`reads`],
//! [`org`] (STS in `org/sts.rs`), the query protocol's plumbing in
//! `query.rs`, the control routes in `control.rs`. The
//! contract with AWS (run against this endpoint and moto_server) is in
//! `conformance/`, the SDK tests by topic in `sdk_tests/`. This crate
//! depends on nothing of secretscope's dashboard; the dashboard spawns it
//! and reaches it over HTTP, as it reaches AWS.

pub mod arn;
pub mod cloudtrail;
mod control;
pub mod faults;
pub mod filters;
pub mod infra;
mod ops;
pub mod org;
pub mod protocol;
mod query;
pub mod reads;
pub mod rotation;
pub mod seed;
mod services;
mod store;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod sdk_tests;

pub use faults::Faults;
pub use protocol::ApiError;
pub use rotation::{LambdaBehaviour, RotationOutcome, RotationRecord, RotationStep, StepRecord};
pub use seed::{PlannedReader, PlannedSecret, ReaderKind, Scenario};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use infra::Infra;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};
use store::Store;

/// The default wait before Secrets Manager retries a failed rotation.
pub const SERVICE_RETRY_DELAY: Duration = Duration::from_secs(3600);
/// The default number of Secrets Manager's retries of a failed rotation
/// (AWS says "multiple times" and no more).
pub const SERVICE_RETRIES: u32 = 3;

/// How the demo endpoint starts.
#[derive(Clone, Debug)]
pub struct LocalOptions {
    /// Secrets to seed (default 300).
    pub seed_secrets: usize,
    /// Seed of the generator (default 42).
    pub seed: u64,
    /// Epoch seconds the seed is relative to; None = the system time.
    pub now: Option<i64>,
    pub faults: Faults,
    /// Time between two steps of a simulated rotation (default 1 s).
    pub rotation_step: Duration,
    /// How long after a failed rotation Secrets Manager retries it (the
    /// same rotation, same version), as the user guide says it does
    /// (default [`SERVICE_RETRY_DELAY`], one hour: longer than any
    /// interactive demo flow, so a person's own retry comes first).
    pub service_retry_delay: Duration,
    /// How many times Secrets Manager retries a failed rotation (default
    /// [`SERVICE_RETRIES`]); 0 turns its retries off.
    pub service_retries: u32,
    pub account_id: String,
    pub region: String,
    /// Actions this account's callers are refused (`iam:SimulatePrincipalPolicy`,
    /// `ec2:*`), as a principal whose policies do not allow them is; later
    /// changed by `POST /__secretscope/denied-actions`.
    pub denied_actions: Vec<String>,
    /// LookupEvents calls a second this account and region answers (AWS's
    /// quota is 2); past it, ThrottlingException. 0 (the default): no
    /// quota, for tests and demos that lift the dashboard's own pacing;
    /// `local-endpoint --trail-quota 2` and the freshness tests set AWS's.
    pub lookup_events_per_second: f64,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            seed_secrets: 300,
            seed: 42,
            now: None,
            faults: Faults::default(),
            rotation_step: Duration::from_secs(1),
            service_retry_delay: SERVICE_RETRY_DELAY,
            service_retries: SERVICE_RETRIES,
            account_id: "123456789012".to_string(),
            region: "us-east-1".to_string(),
            denied_actions: Vec::new(),
            lookup_events_per_second: 0.0,
        }
    }
}

/// The clock of the endpoint: starts at `now` and runs in real time.
pub(crate) struct Clock {
    base: seed::EpochMs,
    started: Instant,
}

impl Clock {
    pub(crate) fn now_ms(&self) -> seed::EpochMs {
        self.base + self.started.elapsed().as_millis() as i64
    }
}

pub(crate) struct Inner {
    store: RwLock<Store>,
    pub(crate) clock: Clock,
    pub(crate) rotation_step: Duration,
    service_retries: Mutex<ServiceRetries>,
    faults: Mutex<Faults>,
    /// Seeded from the seed, so a sequence of requests meets the same faults
    /// on every run.
    fault_rng: Mutex<rand_chacha::ChaCha8Rng>,
    down: AtomicBool,
    plan: Vec<PlannedSecret>,
    pub(crate) account: String,
    pub(crate) region: String,
    /// The Lambdas, keys, VPCs and roles (an organisation's, when in one).
    pub(crate) infra: Arc<Infra>,
    /// LookupEvents' quota in this account and region.
    pub(crate) trail_quota: Mutex<cloudtrail::quota::Quota>,
    /// Protocol requests received, by operation (`secretsmanager:TagResource`,
    /// `cloudtrail:LookupEvents`), refused ones included.
    pub(crate) calls: Mutex<std::collections::BTreeMap<String, u64>>,
}

/// How Secrets Manager retries a failed rotation here: `retries` times,
/// each `delay_ms` after the failure before it (see `rotation::run`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceRetries {
    pub delay_ms: u64,
    pub retries: u32,
}

impl Inner {
    pub(crate) fn lock_calls(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, u64>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a LookupEvents slot of the quota; false when it is spent.
    pub(crate) fn take_lookup_slot(&self) -> bool {
        self.trail_quota
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(Instant::now())
    }

    pub(crate) fn service_retries(&self) -> ServiceRetries {
        *self
            .service_retries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The demo endpoint: a seeded store plus its fault settings. Cheap to clone.
#[derive(Clone)]
pub struct LocalEndpoint {
    inner: Arc<Inner>,
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn clamp_faults(f: Faults) -> Faults {
    Faults {
        throttle_rate: f.throttle_rate.clamp(0.0, 1.0),
        error_rate: f.error_rate.clamp(0.0, 1.0),
        latency_ms: f.latency_ms,
    }
}

impl LocalEndpoint {
    /// A store seeded from `opts` (seed, size, time base).
    pub fn new(opts: LocalOptions) -> Self {
        let now = opts.now.unwrap_or_else(system_now);
        let seeds = seed::generate(
            opts.seed_secrets,
            opts.seed,
            now,
            &opts.account_id,
            &opts.region,
        );
        Self::from_seeds(
            LocalOptions {
                now: Some(now),
                ..opts
            },
            seeds,
        )
    }

    /// A store holding `seeds` (in `opts`'s account and region), with the
    /// infrastructure they use.
    pub fn from_seeds(opts: LocalOptions, seeds: Vec<seed::SeedSecret>) -> Self {
        let now = opts.now.unwrap_or_else(system_now);
        let mut infra = Infra::new(now * seed::SECOND);
        infra.register(&opts.account_id, &opts.region, &seeds);
        Self::from_seeds_in(opts, seeds, Arc::new(infra))
    }

    /// A store holding `seeds`, in an infrastructure that already knows
    /// what they use (an organisation's, shared by its accounts and regions).
    pub(crate) fn from_seeds_in(
        opts: LocalOptions,
        seeds: Vec<seed::SeedSecret>,
        infra: Arc<Infra>,
    ) -> Self {
        let now = opts.now.unwrap_or_else(system_now);
        let plan = seeds.iter().map(|s| s.plan.clone()).collect();
        let base = now * seed::SECOND;
        if !opts.denied_actions.is_empty() {
            infra.deny(Some(&opts.account_id), &opts.denied_actions);
        }
        let store = Store::from_seed(seeds, &opts.account_id, &opts.region, base, infra.clone());
        store.warm();
        LocalEndpoint {
            inner: Arc::new(Inner {
                store: RwLock::new(store),
                clock: Clock {
                    base,
                    started: Instant::now(),
                },
                rotation_step: opts.rotation_step,
                service_retries: Mutex::new(ServiceRetries {
                    delay_ms: opts.service_retry_delay.as_millis() as u64,
                    retries: opts.service_retries,
                }),
                faults: Mutex::new(clamp_faults(opts.faults)),
                fault_rng: Mutex::new(rand::SeedableRng::seed_from_u64(opts.seed ^ 0xfa17)),
                down: AtomicBool::new(false),
                plan,
                account: opts.account_id,
                region: opts.region,
                infra,
                trail_quota: Mutex::new(cloudtrail::quota::Quota::new(
                    opts.lookup_events_per_second,
                )),
                calls: Mutex::default(),
            }),
        }
    }

    /// The protocols at `POST /` (Secrets Manager, CloudTrail, KMS, EC2,
    /// IAM), Lambda's `GET /2015-03-31/functions/…`, and the control routes
    /// under `/__secretscope/`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", post(protocol_handler))
            .route(LAMBDA_FUNCTION, get(function_handler))
            .route(LAMBDA_POLICY, get(policy_handler))
            .with_state(self.inner.clone())
            .merge(self.control_router())
    }

    /// Makes `account`'s callers (every account's, when None) refused
    /// `actions` (`ec2:DescribeVpcEndpoints`, `kms:*`); an empty list lifts it.
    pub fn set_denied_actions(&self, account: Option<&str>, actions: &[String]) {
        self.inner.infra.deny(account, actions);
    }

    /// The actions refused, by account.
    pub fn denied_actions(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.inner.infra.denied_actions()
    }

    /// Change the injected faults (rates are clamped to 0..=1).
    pub fn set_faults(&self, f: Faults) {
        *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()) = clamp_faults(f);
    }

    pub fn faults(&self) -> Faults {
        *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Change how Secrets Manager retries failed rotations (from the next
    /// wait on).
    pub fn set_service_retries(&self, r: ServiceRetries) {
        *self
            .inner
            .service_retries
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = r;
    }

    pub fn service_retries(&self) -> ServiceRetries {
        self.inner.service_retries()
    }

    /// While down, every protocol request gets 503 ServiceUnavailable.
    /// Protocol requests received so far, by operation
    /// (`secretsmanager:DescribeSecret`, `cloudtrail:LookupEvents`), those
    /// refused by the gate or the quota included.
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.inner.lock_calls().clone()
    }

    /// Sets LookupEvents' quota (calls a second; 0: none), see
    /// [`LocalOptions::lookup_events_per_second`].
    pub fn set_lookup_events_per_second(&self, per_sec: f64) {
        *self
            .inner
            .trail_quota
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = cloudtrail::quota::Quota::new(per_sec);
    }

    /// LookupEvents' quota, calls a second (0: none).
    pub fn lookup_events_per_second(&self) -> f64 {
        self.inner
            .trail_quota
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .per_sec()
    }

    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::SeqCst)
    }

    /// Secrets held now, including those scheduled for deletion.
    pub fn secret_count(&self) -> usize {
        self.inner.store().len()
    }

    /// What the seed planned for each secret (as seeded; later changes are not reflected).
    pub fn plan(&self) -> Vec<PlannedSecret> {
        self.inner.plan.clone()
    }

    /// The rotation records of a secret (by name or ARN), oldest first.
    pub fn rotation_history(&self, secret_id: &str) -> Option<Vec<RotationRecord>> {
        self.inner.store().history(secret_id)
    }

    /// The metadata of a secret (by name or ARN), as held now.
    pub(crate) fn secret_data(&self, id: &str) -> Option<seed::SecretData> {
        self.inner.store().data(id).cloned()
    }

    /// Holds `replica` (a copy of a secret whose primary is in another
    /// region); false when a secret of its name is already here.
    pub(crate) fn add_replica(&self, replica: seed::SecretData) -> bool {
        self.inner.store_mut().add_replica(replica)
    }

    /// Marks the replica of secret `id` in `region` Failed with `message`.
    pub(crate) fn replica_failed(&self, id: &str, region: &str, message: &str) {
        self.inner.store_mut().replica_failed(id, region, message);
    }

    /// The endpoint's clock, epoch milliseconds: the seed's `now` plus the time since start.
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }
}

/// Lambda's GetFunction and GetPolicy paths.
pub(crate) const LAMBDA_FUNCTION: &str = "/2015-03-31/functions/{function}";
pub(crate) const LAMBDA_POLICY: &str = "/2015-03-31/functions/{function}/policy";

async fn protocol_handler(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    services::serve_protocol(inner, headers, body).await
}

async fn function_handler(
    State(inner): State<Arc<Inner>>,
    Path(function): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let qualifier = q.get("Qualifier").cloned();
    services::serve_lambda(inner, headers, function, false, qualifier).await
}

async fn policy_handler(
    State(inner): State<Arc<Inner>>,
    Path(function): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let qualifier = q.get("Qualifier").cloned();
    services::serve_lambda(inner, headers, function, true, qualifier).await
}

impl LocalEndpoint {
    /// Answers one protocol request (what `POST /` does).
    pub async fn handle(&self, headers: HeaderMap, body: Bytes) -> Response {
        services::serve_protocol(self.inner.clone(), headers, body).await
    }

    /// Answers Lambda's GetFunction (`policy` false) or GetPolicy of `function`.
    pub(crate) async fn handle_lambda(
        &self,
        headers: HeaderMap,
        function: String,
        policy: bool,
        qualifier: Option<String>,
    ) -> Response {
        services::serve_lambda(self.inner.clone(), headers, function, policy, qualifier).await
    }
}

/// A demo endpoint serving on a socket. Dropping it shuts the server down.
pub struct RunningEndpoint {
    pub addr: SocketAddr,
    /// The endpoint (for an organisation: its first account and region).
    pub endpoint: LocalEndpoint,
    /// Set when several accounts and regions are served (see [`org`]).
    pub org: Option<org::Organisation>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningEndpoint {
    /// `http://127.0.0.1:PORT` (loopback when bound to an unspecified address).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// Stop accepting, finish in-flight requests (at most 5 s), then return.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for RunningEndpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Seed an endpoint and serve it on `bind` (`127.0.0.1:0` for a free port).
pub async fn spawn(opts: LocalOptions, bind: SocketAddr) -> anyhow::Result<RunningEndpoint> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let endpoint = tokio::task::spawn_blocking(move || LocalEndpoint::new(opts)).await?;
    let router = endpoint.router();
    serve_on(listener, router, endpoint, None)
}

/// Seed an organisation (several accounts and regions, STS) and serve it on `bind`.
pub async fn spawn_org(opts: org::OrgOptions, bind: SocketAddr) -> anyhow::Result<RunningEndpoint> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let org = tokio::task::spawn_blocking(move || org::Organisation::new(opts)).await?;
    let router = org.router();
    serve_on(listener, router, org.first().clone(), Some(org))
}

fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    endpoint: LocalEndpoint,
    org: Option<org::Organisation>,
) -> anyhow::Result<RunningEndpoint> {
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "demo endpoint stopped with an error");
        }
    });
    let secrets = org
        .as_ref()
        .map_or_else(|| endpoint.secret_count(), |o| o.secret_count());
    tracing::info!(%addr, secrets, "demo Secrets Manager endpoint listening");
    Ok(RunningEndpoint {
        addr,
        endpoint,
        org,
        stop: Some(stop),
        task: Some(task),
    })
}
