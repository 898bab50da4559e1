//! Several simulated accounts and regions behind one demo URL, with STS.
//!
//! Each account × region is its own [`LocalEndpoint`] (its own seed). A
//! request reaches the one its SigV4 credentials name: the access key picks
//! the account (keys handed out by `AssumeRole` here are `ASIA` + the
//! account id + 4 characters; any other key is the first account's) and the
//! credential scope picks the region. A region of a known account that has
//! no seed answers as an empty one.
//!
//! The query protocol goes where the credential scope's service says: `ec2`
//! to the account × region, `iam` (global) to the account, anything else
//! (`sts`, or no scope) to STS. Lambda's `GET /2015-03-31/functions/…` goes
//! to the account × region. One [`Infra`](crate::infra::Infra) serves every
//! account and region, so a Lambda in another region than its secret is
//! found where its ARN says; each account has its own denial switch
//! ([`OrgOptions::denied_actions`]; the demo's legacy account starts
//! refusing `iam:SimulatePrincipalPolicy` and `kms:GetKeyPolicy`).
//!
//! STS `AssumeRole` (the query protocol `aws-config`'s `AssumeRoleProvider`
//! speaks) succeeds for the roles listed as trusted, checking the external
//! id when one is required, and is refused with AccessDenied otherwise —
//! as a role whose trust policy does not name the caller is. Tests lift or
//! impose that with `POST /__secretscope/roles`
//! `{"role_arn": "…", "trusted": bool}`.
//!
//! Replicas: a seeded secret of the first account replicated (InSync) to a
//! region that account also has here exists there too, as AWS keeps it:
//! the same name, an ARN in the replica's region, `PrimaryRegion` set; so
//! does a secret made by CreateSecret with AddReplicaRegions. A replica
//! refuses changes ("A replica secret can't be updated independently from
//! its primary secret, except for its encryption key." — user guide).
//! A replica has no readers of its own: the seed's readers read the
//! primary, and CloudTrail records them in the primary's region.
//!
//! Readers from another account ([`seed::PlannedReader`]): two in three of
//! the seed's become readers from the organisation's other accounts
//! ([`seed::place_in_org`]); the rest stay a foreign account's
//! ([`seed::reads::FOREIGN_ACCOUNT`]).

mod reads;
mod sts;

use sts::sts;

use super::infra::Infra;
use super::seed::{self, Replica, ReplicaStatus, SecretData, SeedSecret};
use super::services::{is_form, scope};
use super::{system_now, LocalEndpoint, LocalOptions};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// One account × region and the size of its seed.
#[derive(Clone, Debug)]
pub struct TenantSpec {
    pub account: String,
    pub region: String,
    pub seed_secrets: usize,
    pub seed: u64,
}

/// A role STS answers for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoleSpec {
    pub arn: String,
    /// The external id the trust policy requires, if any.
    pub external_id: Option<String>,
    /// False: the trust policy does not allow the dashboard's principal.
    pub trusted: bool,
}

/// How a reader reaches part of the organisation: what a dashboard's
/// `[[sources]]` entry says (the dashboard converts it to its own type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgSource {
    /// `base`, `account-ACCOUNT`, or the demo's `main`, `payments-prod`, `legacy`.
    pub name: String,
    /// The role to assume with the base credentials; none: the base credentials.
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// The regions to read.
    pub regions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct OrgOptions {
    /// Seed clock, rotation pacing and faults (of every tenant).
    pub base: LocalOptions,
    /// The first is the one the base credentials reach.
    pub tenants: Vec<TenantSpec>,
    pub roles: Vec<RoleSpec>,
    /// Actions each account's callers are refused at start (account →
    /// `iam:SimulatePrincipalPolicy`, `kms:*`, …), besides `base.denied_actions`
    /// (every account's).
    pub denied_actions: BTreeMap<String, Vec<String>>,
}

/// The demo's second account, reached by assuming a role with an external id.
pub const PAYMENTS_ACCOUNT: &str = "210987654321";
/// The demo's third account: its role does not trust the dashboard.
pub const LEGACY_ACCOUNT: &str = "999999999999";
/// The external id the payments account's role requires.
pub const DEMO_EXTERNAL_ID: &str = "secretscope-demo";
/// What the demo's legacy account refuses its callers.
pub const LEGACY_DENIED: [&str; 2] = ["iam:SimulatePrincipalPolicy", "kms:GetKeyPolicy"];

pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/secretscope-read")
}

impl OrgOptions {
    /// The demo organisation: the main account (`base.account_id`) in
    /// `base.region` with `base.seed_secrets` secrets and in eu-west-1 (its
    /// replicas and a few of its own), a payments account in us-east-1
    /// behind a role with an external id, and a legacy account in
    /// ap-southeast-2 whose role refuses the dashboard.
    pub fn demo(base: LocalOptions) -> OrgOptions {
        let main = base.account_id.clone();
        let small = |n: usize| n.clamp(0, 60).max(base.seed_secrets.min(12));
        OrgOptions {
            tenants: vec![
                TenantSpec {
                    account: main.clone(),
                    region: base.region.clone(),
                    seed_secrets: base.seed_secrets,
                    seed: base.seed,
                },
                TenantSpec {
                    account: main,
                    region: "eu-west-1".into(),
                    seed_secrets: small(base.seed_secrets / 10),
                    seed: base.seed + 1,
                },
                TenantSpec {
                    account: PAYMENTS_ACCOUNT.into(),
                    region: "us-east-1".into(),
                    seed_secrets: small(base.seed_secrets / 5),
                    seed: base.seed + 2,
                },
                TenantSpec {
                    account: LEGACY_ACCOUNT.into(),
                    region: "ap-southeast-2".into(),
                    seed_secrets: small(base.seed_secrets / 10),
                    seed: base.seed + 3,
                },
            ],
            roles: vec![
                RoleSpec {
                    arn: role_arn(PAYMENTS_ACCOUNT),
                    external_id: Some(DEMO_EXTERNAL_ID.into()),
                    trusted: true,
                },
                RoleSpec {
                    arn: role_arn(LEGACY_ACCOUNT),
                    external_id: None,
                    trusted: false,
                },
            ],
            // Its read role may not simulate policies or read key policies:
            // those checks come out "could not be checked" (once the role
            // trusts the dashboard: `POST /__secretscope/roles`).
            denied_actions: BTreeMap::from([(
                LEGACY_ACCOUNT.to_string(),
                LEGACY_DENIED.iter().map(|a| a.to_string()).collect(),
            )]),
            base,
        }
    }

    /// `n` accounts in `base.region`, `base.seed_secrets` secrets each: the
    /// first is `base.account_id`, the others (100000000001, …) are reached
    /// by assuming their `secretscope-read` role, which trusts the caller.
    pub fn uniform(base: LocalOptions, n: usize) -> OrgOptions {
        let accounts: Vec<String> = (0..n.max(1))
            .map(|i| match i {
                0 => base.account_id.clone(),
                i => format!("{:012}", 100_000_000_000u64 + i as u64),
            })
            .collect();
        OrgOptions {
            tenants: accounts
                .iter()
                .enumerate()
                .map(|(i, a)| TenantSpec {
                    account: a.clone(),
                    region: base.region.clone(),
                    seed_secrets: base.seed_secrets,
                    seed: base.seed + i as u64,
                })
                .collect(),
            roles: accounts[1..]
                .iter()
                .map(|a| RoleSpec {
                    arn: role_arn(a),
                    external_id: None,
                    trusted: true,
                })
                .collect(),
            denied_actions: BTreeMap::new(),
            base,
        }
    }

    /// The `[[sources]]` that read this organisation: the demo's own, or one
    /// per account (the first with the base credentials).
    pub fn sources(&self) -> Vec<OrgSource> {
        if self
            .roles
            .iter()
            .any(|r| !r.trusted || r.external_id.is_some())
        {
            return self.demo_sources();
        }
        let mut accounts: Vec<&str> = Vec::new();
        for t in &self.tenants {
            if !accounts.contains(&t.account.as_str()) {
                accounts.push(&t.account);
            }
        }
        accounts
            .iter()
            .enumerate()
            .map(|(i, a)| OrgSource {
                name: if i == 0 {
                    "base".into()
                } else {
                    format!("account-{a}")
                },
                role_arn: (i > 0).then(|| role_arn(a)),
                regions: self
                    .tenants
                    .iter()
                    .filter(|t| t.account == *a)
                    .map(|t| t.region.clone())
                    .collect(),
                ..Default::default()
            })
            .collect()
    }

    /// The `[[sources]]` that read the demo organisation.
    pub fn demo_sources(&self) -> Vec<OrgSource> {
        let main = &self.tenants[0];
        vec![
            OrgSource {
                name: "main".into(),
                regions: vec![main.region.clone(), "eu-west-1".into()],
                ..Default::default()
            },
            OrgSource {
                name: "payments-prod".into(),
                role_arn: Some(role_arn(PAYMENTS_ACCOUNT)),
                external_id: Some(DEMO_EXTERNAL_ID.into()),
                regions: vec!["us-east-1".into()],
            },
            OrgSource {
                name: "legacy".into(),
                role_arn: Some(role_arn(LEGACY_ACCOUNT)),
                regions: vec!["ap-southeast-2".into()],
                ..Default::default()
            },
        ]
    }
}

struct Tenant {
    account: String,
    region: String,
    endpoint: LocalEndpoint,
}

struct OrgInner {
    tenants: Mutex<Vec<Arc<Tenant>>>,
    roles: Mutex<Vec<RoleSpec>>,
    base: LocalOptions,
    infra: Arc<Infra>,
}

/// The demo organisation. Cheap to clone.
#[derive(Clone)]
pub struct Organisation {
    inner: Arc<OrgInner>,
    first: LocalEndpoint,
}

/// The replica `r` of the primary secret `d` (in region `from`), as it is
/// seen in the replica's region.
fn replica_of(d: &SecretData, from: &str, r: &Replica) -> SecretData {
    let mut copy = d.clone();
    copy.arn = d
        .arn
        .replacen(&format!(":{from}:"), &format!(":{}:", r.region), 1);
    copy.primary_region = Some(from.to_string());
    copy.replication = Vec::new();
    copy.kms_key_id = r
        .kms_key_id
        .clone()
        .filter(|k| !k.starts_with("alias/aws/"));
    copy.last_accessed = r.last_accessed;
    // "Secrets Manager replicates the encrypted secret data and metadata
    // such as tags and resource policies across the specified Regions."
    // (user guide, "Replicate a secret to other Regions"): the policy stays.
    copy
}

/// The replicas, in `region`, of the `seeds` replicated there and in sync.
fn replicas_in(seeds: &[SeedSecret], from: &str, region: &str) -> Vec<SeedSecret> {
    seeds
        .iter()
        .filter_map(|s| {
            let r = s
                .data
                .replication
                .iter()
                .find(|r| r.region == region && r.status == ReplicaStatus::InSync)?;
            let data = replica_of(&s.data, from, r);
            let mut plan = s.plan.clone();
            plan.arn = data.arn.clone();
            // Its readers read the primary: CloudTrail records them there.
            plan.readers.clear();
            Some(SeedSecret { data, plan })
        })
        .collect()
}

impl Organisation {
    pub fn new(opts: OrgOptions) -> Organisation {
        assert!(!opts.tenants.is_empty(), "an organisation has an account");
        let now = opts.base.now.unwrap_or_else(system_now);
        let base = LocalOptions {
            now: Some(now),
            ..opts.base.clone()
        };
        let generate =
            |t: &TenantSpec| seed::generate(t.seed_secrets, t.seed, now, &t.account, &t.region);
        let first_spec = &opts.tenants[0];
        let first_seeds = generate(first_spec);
        // Every tenant's seeds first, so the one infrastructure knows every
        // Lambda and key before any store reads it.
        let mut all_seeds = Vec::new();
        for (i, t) in opts.tenants.iter().enumerate() {
            all_seeds.push(if i == 0 {
                first_seeds.clone()
            } else {
                let mut own = generate(t);
                if t.account == first_spec.account {
                    own.extend(replicas_in(&first_seeds, &first_spec.region, &t.region));
                }
                own
            });
        }
        // Readers from another account: most are the organisation's.
        for (t, seeds) in opts.tenants.iter().zip(all_seeds.iter_mut()) {
            let mut others: Vec<String> = Vec::new();
            for o in &opts.tenants {
                if o.account != t.account && !others.contains(&o.account) {
                    others.push(o.account.clone());
                }
            }
            seed::place_in_org(seeds, &others);
        }
        let mut infra = Infra::new(now * seed::SECOND);
        for (t, seeds) in opts.tenants.iter().zip(&all_seeds) {
            infra.register(&t.account, &t.region, seeds);
        }
        for t in &opts.tenants {
            let mut actions = base.denied_actions.clone();
            actions.extend(
                opts.denied_actions
                    .get(&t.account)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            if !actions.is_empty() {
                infra.deny(Some(&t.account), &actions);
            }
        }
        let infra = Arc::new(infra);
        let mut tenants = Vec::new();
        for (t, seeds) in opts.tenants.iter().zip(all_seeds) {
            let endpoint = LocalEndpoint::from_seeds_in(
                LocalOptions {
                    seed_secrets: seeds.len(),
                    seed: t.seed,
                    account_id: t.account.clone(),
                    region: t.region.clone(),
                    denied_actions: Vec::new(),
                    ..base.clone()
                },
                seeds,
                infra.clone(),
            );
            tenants.push(Arc::new(Tenant {
                account: t.account.clone(),
                region: t.region.clone(),
                endpoint,
            }));
        }
        let first = tenants[0].endpoint.clone();
        Organisation {
            inner: Arc::new(OrgInner {
                tenants: Mutex::new(tenants),
                roles: Mutex::new(opts.roles),
                base,
                infra,
            }),
            first,
        }
    }

    /// Secrets held in every account and region.
    pub fn secret_count(&self) -> usize {
        self.inner
            .tenants()
            .iter()
            .map(|t| t.endpoint.secret_count())
            .sum()
    }

    /// The first account's first region: what the base credentials reach
    /// when they name no other region.
    pub fn first(&self) -> &LocalEndpoint {
        &self.first
    }

    /// The endpoint of `account` in `region`, if it has been seeded or asked for.
    pub fn tenant(&self, account: &str, region: &str) -> Option<LocalEndpoint> {
        self.inner
            .tenants()
            .iter()
            .find(|t| t.account == account && t.region == region)
            .map(|t| t.endpoint.clone())
    }

    /// Lets the dashboard assume `role_arn` (true), or refuses it as a
    /// trust policy that does not name it would (false). False when the
    /// role is unknown.
    pub fn set_trusted(&self, role_arn: &str, trusted: bool) -> bool {
        self.inner.set_trusted(role_arn, trusted)
    }

    /// `POST /` (Secrets Manager, CloudTrail, STS) and the control routes
    /// (those of the first account's endpoint, plus `/__secretscope/roles`).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", post(org_handler))
            .route(crate::LAMBDA_FUNCTION, get(org_function))
            .route(crate::LAMBDA_POLICY, get(org_policy))
            .route(
                "/__secretscope/roles",
                post(roles_handler)
                    .layer(axum::middleware::from_fn(crate::control::json_posts_only)),
            )
            .route(
                crate::control::READS,
                post(reads::post)
                    .get(reads::get)
                    .layer(axum::extract::DefaultBodyLimit::max(
                        crate::reads::BODY_LIMIT,
                    ))
                    .layer(axum::middleware::from_fn(crate::control::json_posts_only)),
            )
            .with_state(self.inner.clone())
            .merge(self.first.control_routes(false))
    }
}

impl OrgInner {
    fn tenants(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Tenant>>> {
        self.tenants.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn roles(&self) -> std::sync::MutexGuard<'_, Vec<RoleSpec>> {
        self.roles.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_trusted(&self, role_arn: &str, trusted: bool) -> bool {
        let mut roles = self.roles();
        match roles.iter_mut().find(|r| r.arn == role_arn) {
            Some(r) => {
                r.trusted = trusted;
                true
            }
            None => false,
        }
    }

    /// After a CreateSecret in `primary` that asked for replicas (its
    /// request `body`): each replica region of the account gets its copy,
    /// or, where a secret of that name is already there, the replica is
    /// Failed as AWS reports it.
    fn replicate(&self, primary: &Tenant, body: &[u8]) {
        let Ok(req) = super::protocol::parse::<super::protocol::CreateReq>(body) else {
            return;
        };
        let Some(name) = req.name else { return };
        let Some(d) = primary.endpoint.secret_data(&name) else {
            return;
        };
        for r in &d.replication {
            let Some(t) = self.tenant(&primary.account, &r.region) else {
                continue;
            };
            if !t.endpoint.add_replica(replica_of(&d, &primary.region, r)) {
                primary.endpoint.replica_failed(
                    &name,
                    &r.region,
                    "Replication failed: Secret with this name already exists in this region.",
                );
            }
        }
    }

    /// The tenant `account` × `region`; a region of a known account with
    /// no seed is created empty; an unknown account has none.
    fn tenant(&self, account: &str, region: &str) -> Option<Arc<Tenant>> {
        let mut tenants = self.tenants();
        if let Some(t) = tenants
            .iter()
            .find(|t| t.account == account && t.region == region)
        {
            return Some(t.clone());
        }
        if !tenants.iter().any(|t| t.account == account) {
            return None;
        }
        let endpoint = LocalEndpoint::from_seeds_in(
            LocalOptions {
                seed_secrets: 0,
                account_id: account.to_string(),
                region: region.to_string(),
                denied_actions: Vec::new(),
                ..self.base.clone()
            },
            Vec::new(),
            self.infra.clone(),
        );
        let t = Arc::new(Tenant {
            account: account.to_string(),
            region: region.to_string(),
            endpoint,
        });
        tenants.push(t.clone());
        Some(t)
    }
}

/// The account a key was handed out for by `AssumeRole` here.
fn assumed_account(key: &str) -> Option<&str> {
    let account = key.strip_prefix("ASIA")?.get(..12)?;
    account
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some(account)
}

impl OrgInner {
    /// (account, region) a signed request is for: the access key's account
    /// (the first account's for any key AssumeRole did not hand out), the
    /// credential scope's region (the first tenant's without a scope).
    fn addressee(&self, headers: &HeaderMap) -> (String, String) {
        let first = self.tenants()[0].clone();
        match scope(headers) {
            Some(s) => (
                assumed_account(&s.key)
                    .map(str::to_string)
                    .unwrap_or_else(|| first.account.clone()),
                s.region,
            ),
            None => (first.account.clone(), first.region.clone()),
        }
    }

    /// The first tenant of `account` (IAM is global: any region answers).
    fn any_tenant_of(&self, account: &str) -> Option<Arc<Tenant>> {
        self.tenants()
            .iter()
            .find(|t| t.account == account)
            .cloned()
    }
}

fn no_account(account: &str) -> Response {
    super::ApiError::client(
        "UnrecognizedClientException",
        format!(
            "The security token included in the request is invalid (no account {account} here)."
        ),
    )
    .into_response()
}

async fn org_handler(
    State(inner): State<Arc<OrgInner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let service = if is_form(&headers) {
        scope(&headers).map(|s| s.service).unwrap_or_default()
    } else {
        String::new()
    };
    if is_form(&headers) && service != "ec2" && service != "iam" {
        return sts(&inner, &body);
    }
    let (account, region) = inner.addressee(&headers);
    let create = headers
        .get("x-amz-target")
        .is_some_and(|t| t.as_bytes() == b"secretsmanager.CreateSecret");
    let tenant = if service == "iam" {
        inner.any_tenant_of(&account)
    } else {
        inner.tenant(&account, &region)
    };
    match tenant {
        Some(t) => {
            let resp = t.endpoint.handle(headers, body.clone()).await;
            if create && resp.status() == StatusCode::OK {
                inner.replicate(&t, &body);
            }
            resp
        }
        None => no_account(&account),
    }
}

async fn org_lambda(
    inner: Arc<OrgInner>,
    headers: HeaderMap,
    function: String,
    policy: bool,
    q: HashMap<String, String>,
) -> Response {
    let (account, region) = inner.addressee(&headers);
    match inner.tenant(&account, &region) {
        Some(t) => {
            let qualifier = q.get("Qualifier").cloned();
            t.endpoint
                .handle_lambda(headers, function, policy, qualifier)
                .await
        }
        None => no_account(&account),
    }
}

async fn org_function(
    State(inner): State<Arc<OrgInner>>,
    Path(function): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    org_lambda(inner, headers, function, false, q).await
}

async fn org_policy(
    State(inner): State<Arc<OrgInner>>,
    Path(function): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    org_lambda(inner, headers, function, true, q).await
}

#[derive(serde::Deserialize)]
struct RolesReq {
    role_arn: String,
    trusted: bool,
}

async fn roles_handler(State(inner): State<Arc<OrgInner>>, body: Bytes) -> Response {
    let req: RolesReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("{{\"error\": {:?}}}", e.to_string()),
            )
                .into_response()
        }
    };
    if inner.set_trusted(&req.role_arn, req.trusted) {
        tracing::info!(role = %req.role_arn, trusted = req.trusted, "demo role trust changed");
        let roles = inner.roles().clone();
        (
            StatusCode::OK,
            serde_json::to_string(&roles).unwrap_or_default(),
        )
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, "{\"error\": \"no such role\"}").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credential_scopes_and_assumed_keys() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=ASIA210987654321ABCD/20261123/eu-west-1/secretsmanager/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00",
            ),
        );
        let s = scope(&h).unwrap();
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(assumed_account(&s.key), Some("210987654321"));
        assert_eq!(assumed_account("secretscope-local"), None);
        assert_eq!(assumed_account("ASIAXXXXXXXXXXXXXXXX"), None);
        assert!(scope(&HeaderMap::new()).is_none());
    }

    #[test]
    fn replicas_copy_the_primary_into_the_region() {
        let seeds = seed::generate(300, 42, 1_700_000_000, "123456789012", "us-east-1");
        let copies = replicas_in(&seeds, "us-east-1", "eu-west-1");
        assert!(
            !copies.is_empty(),
            "the seed replicates some secrets to eu-west-1"
        );
        for c in &copies {
            let p = seeds.iter().find(|s| s.data.name == c.data.name).unwrap();
            assert!(c.data.arn.contains(":eu-west-1:123456789012:secret:"));
            assert_eq!(c.data.arn.replace(":eu-west-1:", ":us-east-1:"), p.data.arn);
            assert_eq!(c.data.primary_region.as_deref(), Some("us-east-1"));
            assert!(c.data.replication.is_empty());
            assert_eq!(c.data.resource_policy, p.data.resource_policy);
            assert_eq!(c.data.tags, p.data.tags);
        }
        // Rotated with its primary: a replica's history has no rotation
        // refused for its primary's Lambda being in another region.
        let org = Organisation::new(OrgOptions::demo(LocalOptions {
            now: Some(1_700_000_000),
            ..LocalOptions::default()
        }));
        let eu = org.tenant("123456789012", "eu-west-1").unwrap();
        for c in &copies {
            let history = eu.rotation_history(&c.data.name).unwrap();
            assert!(
                history
                    .iter()
                    .all(|r| r.outcome != crate::RotationOutcome::Failed),
                "{}: {history:?}",
                c.data.name
            );
        }
    }
}
