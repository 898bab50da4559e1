//! Gathering what a rotation diagnosis reads ([`Facts`]): the rotation
//! Lambda (GetFunction, GetPolicy), its VPC's way to Secrets Manager
//! (DescribeVpcEndpoints, DescribeSecurityGroups, DescribeRouteTables), the
//! secret's KMS key (DescribeKey, GetKeyPolicy, ListGrants), what the
//! Lambda's role may do (SimulatePrincipalPolicy) and the secret's resource
//! policy (GetResourcePolicy). Metadata only, never a secret value; of the
//! Lambda's environment only `SECRETS_MANAGER_ENDPOINT` is kept.
//!
//! Every read goes through the secret's source, with its credentials (an
//! assumed role's, when one is); the Lambda is read in its own region.
//! Every failure is a [`Read`] (`Denied` naming the permission, `NotFound`,
//! `Failed`), never an error. One [`Diagnoser`] serves every user: each
//! resource is read once per `cache_ttl_seconds` (concurrent readers wait
//! for that one call), each account and region has a call budget, and the
//! calls made are counted for `/metrics` and the benchmark.

mod budget;
mod cache;
mod key;
mod lambda;
mod network;
mod read;
mod role;
mod settings;
#[cfg(all(test, feature = "ssr"))]
mod tests;

pub use read::{classify, read_error, Calls, Op};
pub use settings::DiagnosisSettings;

use crate::domain::diagnosis::{
    Decision, Facts, Grant, KeyFacts, LambdaFacts, Read, RouteTable, SecurityGroup, VpcEndpoint,
};
use crate::domain::Secret;
use crate::server::aws::{Source, Sources};
use crate::server::metrics::Exposition;
use aws_config::Region;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use budget::Budgets;
use cache::Cache;
use futures_util::stream::{self, StreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Secrets [`Diagnoser::facts_many`] reads at once.
pub const CONCURRENCY: usize = 8;
/// Pages one paged read (endpoints, groups, route tables, grants, a
/// simulation) reads at most.
const MAX_PAGES: usize = 5;

/// The SDK clients for one source in one region.
struct Clients {
    lambda: aws_sdk_lambda::Client,
    kms: aws_sdk_kms::Client,
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
}

/// The source a secret's reads go through, and the account whose budget
/// they spend.
#[derive(Clone, Copy)]
struct Place<'a> {
    source: &'a Source,
    account: &'a str,
}

impl Place<'_> {
    /// The cache key of `id` in `region` of this account.
    fn key(&self, region: &str, id: &str) -> String {
        format!("{}|{region}|{id}", self.account)
    }
}

/// Gathers [`Facts`] for secrets, shared by every user (in `AppState`).
pub struct Diagnoser {
    settings: DiagnosisSettings,
    budgets: Budgets,
    calls: Calls,
    clients: Mutex<HashMap<(String, String), Arc<Clients>>>,
    functions: Cache<LambdaFacts>,
    function_policies: Cache<String>,
    endpoints: Cache<Vec<VpcEndpoint>>,
    groups: Cache<Vec<SecurityGroup>>,
    route_tables: Cache<Vec<RouteTable>>,
    keys: Cache<KeyFacts>,
    key_policies: Cache<String>,
    grants: Cache<Vec<Grant>>,
    simulations: Cache<Vec<(String, Decision)>>,
    resource_policies: Cache<String>,
}

impl Diagnoser {
    pub fn new(settings: &DiagnosisSettings) -> Diagnoser {
        let ttl = Duration::from_secs(settings.cache_ttl_seconds);
        Diagnoser {
            settings: settings.clone(),
            budgets: Budgets::new(
                settings.calls_per_second,
                Duration::from_secs(settings.max_wait_seconds),
            ),
            calls: Calls::default(),
            clients: Mutex::new(HashMap::new()),
            functions: Cache::new(ttl),
            function_policies: Cache::new(ttl),
            endpoints: Cache::new(ttl),
            groups: Cache::new(ttl),
            route_tables: Cache::new(ttl),
            keys: Cache::new(ttl),
            key_policies: Cache::new(ttl),
            grants: Cache::new(ttl),
            simulations: Cache::new(ttl),
            resource_policies: Cache::new(ttl),
        }
    }

    /// `[diagnosis] enabled`.
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// How long a read is kept (`cache_ttl_seconds`).
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.settings.cache_ttl_seconds)
    }

    /// The AWS calls made so far.
    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    /// What a diagnosis of `secret`'s rotation reads, through the source
    /// of its account and region. First the Lambda, the key and the
    /// resource policy (together), then the Lambda's network (when it runs
    /// in a VPC) and its role (together). Without a rotation Lambda (none
    /// set, or rotation managed by another service) `lambda` and `role` are
    /// `Failed` saying so; the key and resource policy are still read.
    pub async fn facts(&self, sources: &Sources, secret: &Secret) -> Facts {
        if !self.settings.enabled {
            return unread("rotation diagnosis is off ([diagnosis] enabled = false)");
        }
        let Some(source) = sources.reading(&secret.account, &secret.region) else {
            return unread(&format!(
                "no configured source reads account {} in {}",
                secret.account, secret.region
            ));
        };
        let at = Place {
            source,
            account: &secret.account,
        };
        let lambda = async {
            match secret.rotation_lambda_arn.as_deref() {
                Some(arn) => self.lambda(at, arn).await,
                None => Read::Failed {
                    message: NO_LAMBDA.into(),
                },
            }
        };
        let (lambda, key, resource_policy) = tokio::join!(
            lambda,
            self.key(at, secret),
            self.resource_policy(at, secret)
        );
        let network = async {
            let l = lambda.found()?;
            let vpc = l.vpc.as_ref()?;
            let region = region_of(&l.arn).unwrap_or(&secret.region);
            Some(self.network(at, region, vpc).await)
        };
        let (network, role) = tokio::join!(network, self.role(at, secret, &lambda, &key));
        Facts {
            lambda,
            network,
            key,
            role,
            resource_policy,
        }
    }

    /// [`Diagnoser::facts`] of each secret, in order, [`CONCURRENCY`] at a time.
    pub async fn facts_many(&self, sources: &Sources, secrets: &[Arc<Secret>]) -> Vec<Facts> {
        // Each future owns its secret: a closure over borrowed items is not
        // general enough for the spawned tasks that await this.
        stream::iter(secrets.iter().cloned())
            .map(|s| async move { self.facts(sources, &s).await })
            .buffered(CONCURRENCY)
            .collect()
            .await
    }

    /// The counters for `/metrics`: calls by service and operation, and
    /// reads refused over the budget.
    pub fn write_metrics(&self, e: &mut Exposition) {
        let name = "secretscope_diagnosis_aws_calls_total";
        e.family(
            name,
            "counter",
            "AWS calls made to diagnose rotations (each page is one), by service and operation.",
        );
        for op in Op::ALL {
            let labels = [("service", op.service()), ("operation", op.name())];
            e.sample(name, &labels, self.calls.of(op));
        }
        let name = "secretscope_diagnosis_over_budget_total";
        e.family(
            name,
            "counter",
            "Diagnosis reads not made because their account and region's call budget was spent.",
        );
        e.sample(name, &[], self.calls.over_budget());
    }

    /// The secret's resource policy; `NotFound` when it has none (or the
    /// secret is gone).
    async fn resource_policy(&self, at: Place<'_>, secret: &Secret) -> Read<String> {
        let region = &*secret.region;
        let request = at
            .source
            .client
            .get_resource_policy()
            .secret_id(&*secret.arn);
        self.resource_policies
            .get(&secret.arn, || async {
                let op = Op::GetResourcePolicy;
                match self.call(op, at.account, region, request.send()).await {
                    Ok(out) => present(out.resource_policy()),
                    Err(miss) => miss,
                }
            })
            .await
    }

    /// Spends one call of `account`'s budget in `region` on `op` and makes
    /// it; a refusal or failure is the read the caller returns.
    async fn call<T, O, E>(
        &self,
        op: Op,
        account: &str,
        region: &str,
        send: impl Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    ) -> Result<O, Read<T>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if !self.budgets.spend(account, region).await {
            self.calls.refused();
            return Err(Read::Failed {
                message: format!(
                    "{} was not called: over the call budget of account {account} in {region} \
                     ([diagnosis] calls_per_second = {})",
                    op.permission(),
                    self.settings.calls_per_second
                ),
            });
        }
        self.calls.made(op);
        send.await.map_err(|e| read_error(op, &e))
    }

    /// The clients of `source` in `region` (its credentials and endpoint).
    fn clients(&self, source: &Source, region: &str) -> Arc<Clients> {
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((source.id(), region.to_string()))
            .or_insert_with(|| {
                let sdk = source
                    .sdk
                    .clone()
                    .into_builder()
                    .region(Region::new(region.to_string()))
                    .build();
                Arc::new(Clients {
                    lambda: aws_sdk_lambda::Client::new(&sdk),
                    kms: aws_sdk_kms::Client::new(&sdk),
                    ec2: aws_sdk_ec2::Client::new(&sdk),
                    iam: aws_sdk_iam::Client::new(&sdk),
                })
            })
            .clone()
    }
}

const NO_LAMBDA: &str = "the secret has no rotation function";

/// Facts with every read failed for `why`.
fn unread(why: &str) -> Facts {
    Facts {
        lambda: failed(why),
        network: None,
        key: failed(why),
        role: failed(why),
        resource_policy: failed(why),
    }
}

fn failed<T>(message: &str) -> Read<T> {
    Read::Failed {
        message: message.to_string(),
    }
}

/// A policy document, `NotFound` when there is none.
fn present(policy: Option<&str>) -> Read<String> {
    match policy.filter(|p| !p.trim().is_empty()) {
        Some(p) => Read::Found(p.to_string()),
        None => Read::NotFound,
    }
}

/// The region of an ARN (`arn:aws:lambda:eu-west-1:…`), when it names one.
fn region_of(arn: &str) -> Option<&str> {
    crate::domain::arn::Arn::parse(arn)
        .map(|a| a.region)
        .filter(|r| !r.is_empty())
}
