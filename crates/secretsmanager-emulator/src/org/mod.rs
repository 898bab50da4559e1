//! Several simulated accounts and regions behind one demo URL, with STS.
//!
//! Each account × region is its own [`LocalEndpoint`] (its own seed). A
//! request reaches the one its SigV4 credentials name: the access key picks
//! the account (keys handed out by `AssumeRole` here are `ASIA` + the
//! account id + 4 characters; any other key is the first account's) and the
//! credential scope picks the region. A region of a known account that has
//! no seed answers as an empty one.
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

mod sts;

use sts::sts;

use super::seed::{self, Replica, ReplicaStatus, SecretData, SeedSecret};
use super::{system_now, LocalEndpoint, LocalOptions};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
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
}

/// The demo's second account, reached by assuming a role with an external id.
pub const PAYMENTS_ACCOUNT: &str = "210987654321";
/// The demo's third account: its role does not trust the dashboard.
pub const LEGACY_ACCOUNT: &str = "999999999999";
/// The external id the payments account's role requires.
pub const DEMO_EXTERNAL_ID: &str = "secretscope-demo";

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
        let mut tenants = Vec::new();
        for (i, t) in opts.tenants.iter().enumerate() {
            let seeds = if i == 0 {
                first_seeds.clone()
            } else {
                let mut own = generate(t);
                if t.account == first_spec.account {
                    own.extend(replicas_in(&first_seeds, &first_spec.region, &t.region));
                }
                own
            };
            let endpoint = LocalEndpoint::from_seeds(
                LocalOptions {
                    seed_secrets: seeds.len(),
                    seed: t.seed,
                    account_id: t.account.clone(),
                    region: t.region.clone(),
                    ..base.clone()
                },
                seeds,
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
            .route(
                "/__secretscope/roles",
                post(roles_handler)
                    .layer(axum::middleware::from_fn(crate::control::json_posts_only)),
            )
            .with_state(self.inner.clone())
            .merge(self.first.control_router())
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
        let endpoint = LocalEndpoint::from_seeds(
            LocalOptions {
                seed_secrets: 0,
                account_id: account.to_string(),
                region: region.to_string(),
                ..self.base.clone()
            },
            Vec::new(),
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

/// (access key id, region) from a SigV4 `Authorization` header.
fn credential_scope(headers: &HeaderMap) -> Option<(String, String)> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    let mut parts = cred.split('/');
    let key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    Some((key, region))
}

/// The account a key was handed out for by `AssumeRole` here.
fn assumed_account(key: &str) -> Option<&str> {
    let account = key.strip_prefix("ASIA")?.get(..12)?;
    account
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some(account)
}

async fn org_handler(
    State(inner): State<Arc<OrgInner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form {
        return sts(&inner, &body);
    }
    let first = inner.tenants()[0].clone();
    let (account, region) = match credential_scope(&headers) {
        Some((key, region)) => (
            assumed_account(&key)
                .map(str::to_string)
                .unwrap_or_else(|| first.account.clone()),
            region,
        ),
        None => (first.account.clone(), first.region.clone()),
    };
    let create = headers
        .get("x-amz-target")
        .is_some_and(|t| t.as_bytes() == b"secretsmanager.CreateSecret");
    match inner.tenant(&account, &region) {
        Some(t) => {
            let resp = t.endpoint.handle(headers, body.clone()).await;
            if create && resp.status() == StatusCode::OK {
                inner.replicate(&t, &body);
            }
            resp
        }
        None => super::ApiError::client(
            "UnrecognizedClientException",
            format!("The security token included in the request is invalid (no account {account} here)."),
        )
        .into_response(),
    }
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
        let (key, region) = credential_scope(&h).unwrap();
        assert_eq!(region, "eu-west-1");
        assert_eq!(assumed_account(&key), Some("210987654321"));
        assert_eq!(assumed_account("secretscope-local"), None);
        assert_eq!(assumed_account("ASIAXXXXXXXXXXXXXXXX"), None);
        assert!(credential_scope(&HeaderMap::new()).is_none());
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
    }
}
