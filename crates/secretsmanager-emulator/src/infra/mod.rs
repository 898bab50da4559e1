//! The infrastructure around the seeded secrets: each rotation Lambda's
//! configuration, the KMS keys, the VPCs and the IAM roles, as the
//! dashboard reads them to diagnose a failing rotation, and as the
//! rotation simulation reads them to decide how a rotation goes.
//!
//! Nothing here draws from the seed's generator. A rotation Lambda's
//! configuration is derived from the behaviour word in its name (see
//! [`crate::rotation`]'s table); the VPCs, the special keys and the roles
//! are pure functions of account × region ([`names`]); what the seed adds
//! is which functions exist ([`Infra::register`]: every Lambda a seeded
//! secret names, in its ARN's account and region), the customer managed
//! keys its secrets use, and when a `failtest` function was last changed
//! (1 to 3 hours before the failure it caused).
//!
//! A function the seed did not make exists when its name carries a
//! behaviour word (so tests may configure `SecretsManagerRotation-failtest-x`),
//! except `missing` (never) and `otherregion` (only where the seed put it).
//!
//! The services that read it: Lambda (`lambda.rs`, REST-JSON), KMS
//! (`kms.rs`, JSON 1.1), EC2 (`ec2.rs`, query/XML), IAM (`iam.rs`,
//! query/XML). What a rotation meets is decided in `verdict.rs`.
//!
//! One `Infra` serves a whole organisation (every account and region), so a
//! Lambda in another region than its secret is found where it lives. It
//! also holds the denial switch: actions (`ec2:DescribeVpcEndpoints`) an
//! account's caller is refused, as AWS refuses a principal whose policies
//! do not allow them.

pub(crate) mod ec2;
pub(crate) mod iam;
pub(crate) mod kms;
pub(crate) mod lambda;
pub mod names;
pub(crate) mod policy;
pub(crate) mod verdict;

use crate::rotation::LambdaBehaviour;
use crate::seed::{EpochMs, SecretData, SeedSecret, AWSCURRENT, AWSPENDING, DAY, HOUR};
use names::{fnv, parse_arn};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

/// The infrastructure of every account and region an endpoint (or an
/// organisation) serves.
pub struct Infra {
    now: EpochMs,
    accounts: BTreeSet<String>,
    /// (account, region, function name) → when it was last changed, if the
    /// seed says (a `failtest` function's change before its failure).
    functions: HashMap<(String, String, String), Option<EpochMs>>,
    /// (account, region, key id) of the customer managed keys the seed's
    /// secrets use.
    keys: HashSet<(String, String, String)>,
    denied: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// Where a Lambda ARN (or bare name, taken to be in `account` × `region`)
/// points: (region, account, function name).
pub(crate) fn lambda_location<'a>(
    lambda: &'a str,
    account: &'a str,
    region: &'a str,
) -> (&'a str, &'a str, &'a str) {
    match parse_arn(lambda) {
        Some(a) if a.service == "lambda" => {
            (a.region, a.account, crate::arn::function_name(lambda))
        }
        _ => (region, account, crate::arn::function_name(lambda)),
    }
}

/// When a seeded secret's failed rotation left its AWSPENDING version.
fn failed_at(d: &SecretData) -> Option<EpochMs> {
    d.versions
        .iter()
        .find(|v| {
            v.stages.iter().any(|l| l == AWSPENDING) && !v.stages.iter().any(|l| l == AWSCURRENT)
        })
        .map(|v| v.created)
}

impl Infra {
    /// No functions or customer keys yet; `now` is the seed's clock.
    pub fn new(now: EpochMs) -> Infra {
        Infra {
            now,
            accounts: BTreeSet::new(),
            functions: HashMap::new(),
            keys: HashSet::new(),
            denied: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds what the seeded secrets of `account` × `region` use: their
    /// rotation Lambdas (where their ARNs say) and customer managed keys.
    pub fn register(&mut self, account: &str, region: &str, seeds: &[SeedSecret]) {
        self.accounts.insert(account.to_string());
        for s in seeds {
            let d = &s.data;
            if let Some(lambda) = &d.rotation_lambda_arn {
                let (r, a, name) = lambda_location(lambda, account, region);
                let key = (a.to_string(), r.to_string(), name.to_string());
                let changed = self.functions.entry(key).or_insert(None);
                if LambdaBehaviour::of_lambda(name) == LambdaBehaviour::FailTest {
                    if let Some(at) = failed_at(d) {
                        // 1 to 3 hours before the failure it caused (the
                        // earliest, when several secrets share it).
                        let before = HOUR + (fnv(name) % (2 * HOUR) as u64) as i64;
                        *changed = Some(changed.map_or(at - before, |c| c.min(at - before)));
                    }
                }
            }
            let replica_keys = d.replication.iter().filter_map(|r| r.kms_key_id.as_ref());
            for key in d.kms_key_id.iter().chain(replica_keys) {
                if let Some(a) = parse_arn(key).filter(|a| a.service == "kms") {
                    if let Some(id) = a.resource.strip_prefix("key/") {
                        self.keys
                            .insert((a.account.into(), a.region.into(), id.into()));
                    }
                }
            }
        }
    }

    pub(crate) fn now(&self) -> EpochMs {
        self.now
    }

    /// Makes `account`'s callers refused `actions` (replacing what it was
    /// refused before); `None`: every account. An empty list lifts it.
    pub fn deny(&self, account: Option<&str>, actions: &[String]) {
        let mut denied = self.denied.lock().unwrap_or_else(|e| e.into_inner());
        let accounts: Vec<String> = match account {
            Some(a) => vec![a.to_string()],
            None => self.accounts.iter().cloned().collect(),
        };
        for a in accounts {
            let set: BTreeSet<String> = actions.iter().map(|x| x.trim().to_string()).collect();
            if set.is_empty() {
                denied.remove(&a);
            } else {
                denied.insert(a, set);
            }
        }
    }

    /// The actions refused, by account.
    pub fn denied_actions(&self) -> BTreeMap<String, Vec<String>> {
        self.denied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(a, s)| (a.clone(), s.iter().cloned().collect()))
            .collect()
    }

    /// True when `account`'s callers are refused `action` (`lambda:GetFunction`;
    /// the switch may say `ec2:*` or `*`).
    pub(crate) fn denied(&self, account: &str, action: &str) -> bool {
        self.denied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(account)
            .is_some_and(|s| s.iter().any(|p| policy::glob(p, action)))
    }

    /// The function `name` of `account` in `region`, if it exists there.
    pub(crate) fn function(&self, account: &str, region: &str, name: &str) -> Option<Function> {
        let word = LambdaBehaviour::word_in(name);
        if word == Some(LambdaBehaviour::Missing) {
            return None;
        }
        let key = (account.to_string(), region.to_string(), name.to_string());
        let changed = match self.functions.get(&key) {
            Some(changed) => *changed,
            None if word.is_some_and(|w| w != LambdaBehaviour::OtherRegion) => None,
            None => return None,
        };
        let last_modified = changed.unwrap_or_else(|| {
            // Deployed long before any rotation the seed shows.
            self.now - 400 * DAY - (fnv(name) % (200 * DAY) as u64) as i64
        });
        Some(Function::derive(account, region, name, last_modified))
    }
}

/// What the caller of a request is, in AWS's words: the base credentials
/// are an IAM user, keys handed out by AssumeRole here a role session.
pub(crate) fn caller_arn(access_key: Option<&str>, account: &str) -> String {
    let assumed = access_key
        .and_then(|k| k.strip_prefix("ASIA"))
        .and_then(|k| k.get(..12))
        .is_some_and(|a| a == account);
    if assumed {
        format!("arn:aws:sts::{account}:assumed-role/secretscope-read/secretscope")
    } else {
        format!("arn:aws:iam::{account}:user/secretscope-demo")
    }
}

/// AWS's text for a principal whose policies do not allow `action`.
pub(crate) fn not_authorized(caller: &str, action: &str, resource: Option<&str>) -> String {
    match resource {
        Some(r) => format!(
            "User: {caller} is not authorized to perform: {action} on resource: {r} because no \
             identity-based policy allows the {action} action"
        ),
        None => format!(
            "User: {caller} is not authorized to perform: {action} because no identity-based \
             policy allows the {action} action"
        ),
    }
}

/// A rotation Lambda's configuration, derived from its behaviour word.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Function {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub behaviour: LambdaBehaviour,
    pub runtime: &'static str,
    /// Seconds.
    pub timeout: u32,
    pub last_modified: EpochMs,
    pub role_name: String,
    pub role: String,
    pub vpc: Option<ec2::VpcKind>,
    pub env: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// The resource-based policy (GetPolicy's document).
    pub policy: String,
    /// The database engine its name ends with, if any.
    pub engine: Option<String>,
}

/// The AWS rotation template (Serverless Application Repository) a function
/// of `engine` is deployed from; single user or alternating users by name.
fn template(engine: Option<&str>, name: &str) -> String {
    let strategy = if fnv(name).is_multiple_of(2) {
        "SingleUser"
    } else {
        "MultiUser"
    };
    let app = match engine {
        Some("postgres") => format!("SecretsManagerRDSPostgreSQLRotation{strategy}"),
        Some("mysql") => format!("SecretsManagerRDSMySQLRotation{strategy}"),
        Some("mongodb") => format!("SecretsManagerMongoDBRotation{strategy}"),
        _ => "SecretsManagerRotationTemplate".to_string(),
    };
    format!("arn:aws:serverlessrepo:us-east-1:297356227824:applications/{app}")
}

impl Function {
    fn derive(account: &str, region: &str, name: &str, last_modified: EpochMs) -> Function {
        use LambdaBehaviour as B;
        let behaviour = LambdaBehaviour::of_lambda(name);
        let parts: Vec<&str> = name.split(['-', '_']).collect();
        let at = parts
            .iter()
            .position(|p| LambdaBehaviour::from_word(p).is_some());
        let team = at
            .and_then(|i| parts.get(i + 1))
            .filter(|t| !t.is_empty())
            .copied()
            .unwrap_or("default");
        let engine = at.and_then(|i| parts.get(i + 2)).map(|e| e.to_string());
        let role_name = names::rotation_role_name(team, behaviour == B::FailFinish);
        let arn = format!("arn:aws:lambda:{region}:{account}:function:{name}");
        let vpc = match behaviour {
            B::FailCreate => Some(ec2::VpcKind::Isolated),
            B::EndpointVar => Some(ec2::VpcKind::Natless),
            B::Nat => Some(ec2::VpcKind::Egress),
            // About half of the others run in the application VPC.
            _ => fnv(&format!("vpc/{name}"))
                .is_multiple_of(2)
                .then_some(ec2::VpcKind::App),
        };
        let invoker = if behaviour == B::NoInvoke {
            // A leftover from a schedule that warmed it: nothing lets
            // Secrets Manager invoke it.
            serde_json::json!({
                "Sid": "EventBridgeWarmup",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": arn,
            })
        } else {
            serde_json::json!({
                "Sid": "SecretsManagerAccess",
                "Effect": "Allow",
                "Principal": {"Service": "secretsmanager.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceAccount": account}},
            })
        };
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": [invoker],
        })
        .to_string();
        Function {
            name: name.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            behaviour,
            runtime: if behaviour == B::Deprecated {
                "python3.7"
            } else {
                "python3.12"
            },
            timeout: if behaviour == B::Timeout { 3 } else { 30 },
            last_modified,
            role: names::role_arn(account, &role_name),
            role_name,
            vpc,
            // What the rotation templates set.
            env: vec![
                ("EXCLUDE_CHARACTERS".into(), "/@\"'\\".into()),
                (
                    "SECRETS_MANAGER_ENDPOINT".into(),
                    format!("https://secretsmanager.{region}.amazonaws.com"),
                ),
            ],
            tags: vec![
                (
                    "serverlessrepo:applicationId".into(),
                    template(engine.as_deref(), name),
                ),
                ("serverlessrepo:semanticVersion".into(), "1.1.367".into()),
            ],
            policy,
            engine,
            arn,
        }
    }

    /// The `SECRETS_MANAGER_ENDPOINT` it is given, if any.
    pub fn endpoint_variable(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == "SECRETS_MANAGER_ENDPOINT")
            .map(|(_, v)| v.as_str())
    }

    /// True when its policy lets Secrets Manager invoke it for a secret of
    /// `account`.
    pub fn invokable_by_secrets_manager(&self, account: &str) -> bool {
        policy::statements(&self.policy).iter().any(|s| {
            !s.deny
                && !s.opaque_condition
                && s.services
                    .iter()
                    .any(|p| p == "secretsmanager.amazonaws.com")
                && s.covers_action("lambda:InvokeFunction")
                && s.source_account.as_deref().is_none_or(|a| a == account)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    #[test]
    fn functions_exist_where_the_seed_or_their_word_puts_them() {
        let mut infra = Infra::new(1_760_000_000_000);
        let seeds = crate::seed::generate(300, 42, 1_760_000_000, ACCOUNT, "us-east-1");
        infra.register(ACCOUNT, "us-east-1", &seeds);
        let f = infra
            .function(
                ACCOUNT,
                "us-east-1",
                "SecretsManagerRotation-ok-payments-postgres",
            )
            .unwrap();
        assert_eq!(
            f.role,
            format!("arn:aws:iam::{ACCOUNT}:role/SecretsManagerRotation-payments")
        );
        assert_eq!((f.runtime, f.timeout), ("python3.12", 30));
        assert!(f.invokable_by_secrets_manager(ACCOUNT));
        assert!(!f.invokable_by_secrets_manager("210987654321"));
        assert_eq!(f.engine.as_deref(), Some("postgres"));
        assert!(infra
            .function(ACCOUNT, "us-east-1", "SecretsManagerRotation-missing-x")
            .is_none());
        assert!(infra
            .function(ACCOUNT, "us-east-1", "no-such-function")
            .is_none());
        assert!(infra
            .function(
                ACCOUNT,
                "us-east-1",
                "SecretsManagerRotation-otherregion-x-y"
            )
            .is_none());
        let nostage = infra
            .function(
                ACCOUNT,
                "eu-west-1",
                "SecretsManagerRotation-failfinish-contract",
            )
            .unwrap();
        assert!(nostage
            .role
            .ends_with(":role/SecretsManagerRotation-contract-nostage"));
        let noinvoke = infra
            .function(ACCOUNT, "us-east-1", "SecretsManagerRotation-noinvoke-a-b")
            .unwrap();
        assert!(!noinvoke.invokable_by_secrets_manager(ACCOUNT));
        // The seed's own otherregion functions are where their ARNs say.
        let other = seeds
            .iter()
            .filter_map(|s| s.data.rotation_lambda_arn.as_deref())
            .find(|l| l.contains("-otherregion-"))
            .expect("the seed deals an otherregion Lambda");
        assert!(other.starts_with("arn:aws:lambda:us-west-2:"));
        let (r, a, n) = lambda_location(other, ACCOUNT, "us-east-1");
        assert!(infra.function(a, r, n).is_some());
        assert!(infra.function(a, "us-east-1", n).is_none());
    }

    #[test]
    fn the_denial_switch_is_per_account() {
        let mut infra = Infra::new(0);
        infra.register(ACCOUNT, "us-east-1", &[]);
        infra.register("999999999999", "ap-southeast-2", &[]);
        infra.deny(
            Some("999999999999"),
            &["iam:SimulatePrincipalPolicy".into(), "ec2:*".into()],
        );
        assert!(infra.denied("999999999999", "iam:SimulatePrincipalPolicy"));
        assert!(infra.denied("999999999999", "ec2:DescribeRouteTables"));
        assert!(!infra.denied(ACCOUNT, "iam:SimulatePrincipalPolicy"));
        infra.deny(None, &["kms:GetKeyPolicy".into()]);
        assert!(infra.denied(ACCOUNT, "kms:getkeypolicy"));
        assert!(!infra.denied("999999999999", "ec2:DescribeRouteTables"));
        infra.deny(None, &[]);
        assert!(infra.denied_actions().is_empty());
        assert_eq!(
            caller_arn(Some("ASIA999999999999ABCD"), "999999999999"),
            "arn:aws:sts::999999999999:assumed-role/secretscope-read/secretscope"
        );
        assert_eq!(
            caller_arn(Some("test"), ACCOUNT),
            format!("arn:aws:iam::{ACCOUNT}:user/secretscope-demo")
        );
    }
}
