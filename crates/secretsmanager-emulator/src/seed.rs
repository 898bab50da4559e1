//! The deterministic demo inventory.
//!
//! [`generate`] turns `(n, seed, now)` into `n` secrets that look like a real
//! account's: hierarchical names across environments, teams and services, a few
//! legacy flat names and service-managed secrets, owner tags (or not), months of
//! version history, and every rotation state an on-call person meets. Each
//! secret carries a [`PlannedSecret`] saying which [`Scenario`] it was built
//! for, so tests can check what the dashboard shows against what was planned.
//!
//! A `ChaCha8Rng` seeded from `seed` deals the scenarios and gives each secret
//! a seed of its own for a SplitMix64 stream (cheap even in debug builds), so
//! the same inputs give the same names, ARNs and version ids on every platform.

use super::rotation::LambdaBehaviour;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Milliseconds since the Unix epoch.
pub type EpochMs = i64;

pub(crate) const SECOND: EpochMs = 1_000;
pub(crate) const HOUR: EpochMs = 3_600 * SECOND;
pub(crate) const DAY: EpochMs = 24 * HOUR;

/// The state a seeded secret was built to be in.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Rotation on, rotated within its interval, next rotation in the future.
    Healthy,
    /// AWSPENDING stuck on a version that is not AWSCURRENT; the Lambda always
    /// fails, at one of the four steps: the seed deals them in turn
    /// ([`FAILING_IN_TURN`]: `broken` at setSecret, then `failcreate`,
    /// `failtest`, `failfinish`).
    RotationFailed,
    /// AWSPENDING stuck after a Lambda timed out. Dealt in turn: the Lambda
    /// is `flaky` (the next attempt fails, the one after succeeds), or it
    /// was fixed since and is `ok` (the next attempt succeeds).
    RotationFlaky,
    /// Rotation on, but NextRotationDate is days in the past.
    Overdue,
    /// No rotation configured at all.
    NeverRotated,
    /// RotationEnabled false, while a Lambda and rules are still configured.
    DisabledWithRules,
    /// DeletedDate set, still inside the recovery window.
    ScheduledForDeletion,
    /// Replicated, every replica InSync.
    Replicated,
    /// Replicated, one replica Failed with a StatusMessage.
    ReplicaFailed,
    /// Not read for months, or never.
    Unused,
    /// Owned by another AWS service (OwningService set, `rds!db-…` names).
    ManagedByService,
    /// Rotation configured with a Lambda Secrets Manager cannot invoke.
    LambdaMissing,
}

impl Scenario {
    pub const ALL: [Scenario; 12] = [
        Scenario::Healthy,
        Scenario::RotationFailed,
        Scenario::RotationFlaky,
        Scenario::Overdue,
        Scenario::NeverRotated,
        Scenario::DisabledWithRules,
        Scenario::ScheduledForDeletion,
        Scenario::Replicated,
        Scenario::ReplicaFailed,
        Scenario::Unused,
        Scenario::ManagedByService,
        Scenario::LambdaMissing,
    ];
}

/// Share of each problem scenario; Healthy takes the rest (about 52%).
const SHARES: [(Scenario, f64); 11] = [
    (Scenario::RotationFailed, 0.04),
    (Scenario::RotationFlaky, 0.03),
    (Scenario::Overdue, 0.05),
    (Scenario::NeverRotated, 0.12),
    (Scenario::DisabledWithRules, 0.04),
    (Scenario::ScheduledForDeletion, 0.04),
    (Scenario::Replicated, 0.05),
    (Scenario::ReplicaFailed, 0.02),
    (Scenario::Unused, 0.04),
    (Scenario::ManagedByService, 0.03),
    (Scenario::LambdaMissing, 0.02),
];

/// What the seed planned for one secret.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PlannedSecret {
    pub name: String,
    pub arn: String,
    pub scenario: Scenario,
    /// Description, tag values (and for one secret the name) carry HTML/JS payloads.
    pub hostile: bool,
    /// Encrypted with the default `aws/secretsmanager` key (KmsKeyId omitted).
    pub kms_default: bool,
    pub has_owner_tag: bool,
    pub has_tags: bool,
    /// Scheduled for deletion (hidden from ListSecrets unless IncludePlannedDeletion).
    pub deleted: bool,
    /// Scheduled for deletion, yet LastAccessedDate is after DeletedDate.
    pub accessed_after_deletion: bool,
    /// Versions in total, including deprecated ones.
    pub versions: usize,
    /// Versions without any staging label.
    pub deprecated_versions: usize,
    /// Labels other than AWSCURRENT / AWSPREVIOUS / AWSPENDING.
    pub custom_labels: Vec<String>,
    pub rotation_lambda: Option<String>,
    pub lambda_behaviour: Option<LambdaBehaviour>,
    pub owning_service: Option<String>,
    pub replica_regions: Vec<String>,
    pub has_resource_policy: bool,
    /// A flat legacy name such as `jenkins-token`.
    pub legacy_name: bool,
    pub env: Option<String>,
    pub team: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct RotationRules {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct VersionData {
    pub id: String,
    pub stages: Vec<String>,
    pub created: EpochMs,
    pub last_accessed: Option<EpochMs>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaStatus {
    InSync,
    Failed,
    InProgress,
}

impl ReplicaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaStatus::InSync => "InSync",
            ReplicaStatus::Failed => "Failed",
            ReplicaStatus::InProgress => "InProgress",
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub region: String,
    pub kms_key_id: Option<String>,
    pub status: ReplicaStatus,
    pub status_message: Option<String>,
    pub last_accessed: Option<EpochMs>,
}

/// The metadata of one secret as Secrets Manager holds it (never a value).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SecretData {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    /// None: the default `aws/secretsmanager` key.
    pub kms_key_id: Option<String>,
    pub rotation_enabled: bool,
    pub rotation_lambda_arn: Option<String>,
    pub rotation_rules: Option<RotationRules>,
    pub last_rotated: Option<EpochMs>,
    pub last_changed: Option<EpochMs>,
    pub last_accessed: Option<EpochMs>,
    /// When DeleteSecret was called (AWS's DeletedDate).
    pub deleted: Option<EpochMs>,
    /// When the recovery window ends (AWS's DeletionDate).
    pub deletion_date: Option<EpochMs>,
    pub next_rotation: Option<EpochMs>,
    pub tags: Vec<Tag>,
    /// In creation order, oldest first.
    pub versions: Vec<VersionData>,
    pub owning_service: Option<String>,
    pub created: EpochMs,
    pub primary_region: Option<String>,
    pub replication: Vec<Replica>,
    pub resource_policy: Option<String>,
}

impl SecretData {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SeedSecret {
    pub data: SecretData,
    pub plan: PlannedSecret,
}

pub(crate) const AWSCURRENT: &str = "AWSCURRENT";
pub(crate) const AWSPREVIOUS: &str = "AWSPREVIOUS";
pub(crate) const AWSPENDING: &str = "AWSPENDING";

const ENVS: [(&str, u32); 4] = [("prod", 35), ("staging", 25), ("dev", 25), ("shared", 15)];

#[rustfmt::skip]
const TEAMS: [(&str, [&str; 8]); 16] = [
    ("payments", ["ledger", "gateway", "payouts", "refunds", "invoicing", "fraud-check", "settlement", "wallet"]),
    ("search", ["indexer", "query-api", "ranking", "crawler", "suggest", "relevance", "ingest", "autocomplete"]),
    ("identity", ["auth", "oauth", "sso", "user-profile", "mfa", "sessions", "scim", "directory"]),
    ("data", ["warehouse", "etl", "airflow", "dbt", "kafka-connect", "lake", "spark", "metabase"]),
    ("platform", ["k8s", "ci", "artifact-registry", "terraform", "vault-bridge", "service-mesh", "dns", "ingress"]),
    ("mobile", ["ios-push", "android-push", "app-config", "deep-links", "crash-reporting", "release", "feature-flags", "bff"]),
    ("checkout", ["cart", "pricing", "tax", "promotions", "orders", "inventory-sync", "shipping-rates", "receipts"]),
    ("messaging", ["email", "sms", "push", "chat", "templates", "webhooks", "notifications", "digest"]),
    ("growth", ["experiments", "referrals", "attribution", "crm", "segment", "marketing-site", "ads-sync", "onboarding"]),
    ("analytics", ["events", "dashboards", "reporting", "clickhouse", "looker", "tracking", "exports", "metrics"]),
    ("ml", ["feature-store", "training", "inference", "model-registry", "embeddings", "labeling", "recommender", "notebooks"]),
    ("security", ["siem", "scanner", "waf", "secrets-audit", "pki", "edr", "vuln-mgmt", "iam-broker"]),
    ("support", ["zendesk-sync", "helpdesk", "chatbot", "knowledge-base", "escalation", "callcenter", "surveys", "macros"]),
    ("catalog", ["products", "media", "reviews", "taxonomy", "pim", "images", "recommendations", "feeds"]),
    ("logistics", ["fulfilment", "carriers", "tracking-api", "returns", "routing", "labels", "dispatch", "warehouse-ops"]),
    ("sre", ["monitoring", "alerting", "status-page", "on-call", "chaos", "backups", "logging", "tracing"]),
];

/// (leaf path, rotation engine, human description)
const KINDS: [(&str, &str, &str); 23] = [
    ("db/primary", "postgres", "Primary database credentials"),
    ("db/replica", "postgres", "Read replica credentials"),
    ("db/readonly", "postgres", "Read-only database user"),
    ("db/admin", "postgres", "Database admin user"),
    ("db/migrations", "postgres", "Schema migration user"),
    ("db/reporting", "postgres", "Reporting database user"),
    ("mysql/app-user", "mysql", "MySQL application user"),
    ("redis/auth-token", "redis", "Redis AUTH token"),
    ("mongo/app-user", "mongodb", "MongoDB application user"),
    ("api-key", "apikey", "API key"),
    ("oauth/client-secret", "oauth", "OAuth client secret"),
    ("oauth/refresh-token", "oauth", "OAuth refresh token"),
    ("jwt-signing-key", "apikey", "JWT signing key"),
    ("webhook-secret", "apikey", "Webhook signing secret"),
    ("kafka/sasl-password", "kafka", "Kafka SASL credentials"),
    ("smtp/password", "smtp", "SMTP relay password"),
    ("tls/private-key", "tls", "TLS private key"),
    ("tls/client-cert-key", "tls", "mTLS client certificate key"),
    ("encryption-key", "apikey", "Data encryption key"),
    ("service-account", "apikey", "Service account credentials"),
    ("ldap/bind-password", "ldap", "LDAP bind password"),
    (
        "elasticsearch/password",
        "elasticsearch",
        "Elasticsearch user",
    ),
    ("rabbitmq/password", "rabbitmq", "RabbitMQ user"),
];

#[rustfmt::skip]
const PARTNERS: [&str; 30] = [
    "stripe", "github", "datadog", "slack", "sentry", "pagerduty", "twilio", "sendgrid", "snowflake",
    "segment", "salesforce", "hubspot", "zendesk", "okta", "auth0", "algolia", "mapbox", "openai", "adyen",
    "braintree", "plaid", "mailgun", "intercom", "launchdarkly", "newrelic", "cloudflare", "fastly",
    "docusign", "shopify", "paypal",
];

const PARTNER_CREDS: [&str; 4] = ["api-key", "token", "webhook-secret", "client-secret"];

/// Variants people add when a name is taken (`api-key-ci`, `db/primary-v2`).
#[rustfmt::skip]
const QUALIFIERS: [&str; 16] = [
    "v2", "ci", "ro", "rw", "batch", "internal", "external", "admin", "legacy", "new", "blue", "green", "eu",
    "us", "backup", "canary",
];

#[rustfmt::skip]
const LEGACY: [&str; 26] = [
    "jenkins-token", "LegacyDbPassword", "old-stripe-key", "MyAppSecret", "terraform-cloud-token",
    "prod_db_root", "test", "tmp-secret", "docker-hub-password", "npm-publish-token", "CircleCIToken",
    "ansible-vault-pass", "backup-encryption-key", "grafana-admin", "sonarqube-token", "nexus-deploy",
    "vpn-psk", "ftp-partner-upload", "DatabaseSecret", "AppConfig", "splunk-hec-token",
    "newrelic-license-key", "k8s-dashboard-token", "SlackWebhookURL", "mysql-root", "ReportingUser",
];

const PEOPLE: [(&str, &str); 30] = [
    ("alice", "nguyen"),
    ("bob", "martin"),
    ("carol", "smith"),
    ("dave", "kowalski"),
    ("erin", "oconnor"),
    ("frank", "mueller"),
    ("grace", "hopper"),
    ("heidi", "schmidt"),
    ("ivan", "petrov"),
    ("judy", "garcia"),
    ("kenji", "tanaka"),
    ("leila", "haddad"),
    ("mohan", "iyer"),
    ("nina", "rossi"),
    ("olivia", "brown"),
    ("pablo", "fernandez"),
    ("quinn", "taylor"),
    ("rosa", "lopez"),
    ("sam", "wilson"),
    ("tariq", "aziz"),
    ("uma", "patel"),
    ("victor", "dubois"),
    ("wei", "zhang"),
    ("ximena", "ruiz"),
    ("yusuf", "demir"),
    ("zoe", "clark"),
    ("amara", "okafor"),
    ("bruno", "silva"),
    ("chloe", "lambert"),
    ("dmitri", "volkov"),
];

const CLASSIFICATIONS: [&str; 4] = ["public", "internal", "confidential", "restricted"];
const INTERVALS: [i64; 8] = [7, 14, 30, 30, 30, 60, 90, 90];
const OTHER_REGIONS: [&str; 7] = [
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ca-central-1",
    "us-east-2",
];
const REPLICA_FAILURES: [&str; 3] = [
    "Replication failed: Secret with this name already exists in this region.",
    "Replication failed: The KMS key for this Region is disabled or doesn't exist.",
    "Access to KMS is not allowed. Secrets Manager can't use the KMS key in the replica Region.",
];

/// HTML/JS payloads carried by the hostile secrets' metadata.
pub const HOSTILE_PAYLOADS: [&str; 3] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
];

/// The Lambdas of [`Scenario::RotationFailed`] secrets, dealt in this order
/// (the first is `broken`, failing at setSecret, as every one did before
/// the other steps could fail).
pub const FAILING_IN_TURN: [LambdaBehaviour; 4] = [
    LambdaBehaviour::Broken,
    LambdaBehaviour::FailCreate,
    LambdaBehaviour::FailTest,
    LambdaBehaviour::FailFinish,
];

/// The ARN of a rotation Lambda whose behaviour is encoded in its name.
pub fn lambda_arn(region: &str, account: &str, behaviour: LambdaBehaviour, suffix: &str) -> String {
    format!(
        "arn:aws:lambda:{region}:{account}:function:SecretsManagerRotation-{}-{suffix}",
        behaviour.as_str()
    )
}

/// How many secrets of each scenario a seed of `n` plans (exact, before shuffling).
pub fn scenario_counts(n: usize) -> Vec<(Scenario, usize)> {
    let mut counts: Vec<(Scenario, usize)> = SHARES
        .iter()
        .map(|&(s, share)| {
            let q = (share * n as f64).round() as usize;
            let min = if n >= 100 {
                4
            } else if n >= 24 {
                1
            } else {
                0
            };
            (s, q.max(min))
        })
        .collect();
    // Tiny seeds: never plan more problems than secrets.
    while counts.iter().map(|c| c.1).sum::<usize>() > n {
        let largest = counts
            .iter_mut()
            .max_by_key(|c| c.1)
            .expect("SHARES is not empty");
        largest.1 -= 1;
    }
    let healthy = n - counts.iter().map(|c| c.1).sum::<usize>();
    counts.insert(0, (Scenario::Healthy, healthy));
    counts
}

/// Generate `n` secrets deterministically from `seed`, with dates relative to
/// `now` (epoch seconds).
pub fn generate(n: usize, seed: u64, now: i64, account: &str, region: &str) -> Vec<SeedSecret> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut deck: Vec<Scenario> = Vec::with_capacity(n);
    for (s, count) in scenario_counts(n) {
        deck.extend(std::iter::repeat_n(s, count));
    }
    deck.shuffle(&mut rng);

    let hostile_count = if n >= 20 { 5 + n / 20_000 } else { n / 5 };
    let mut hostile = vec![false; n];
    let mut picked = 0;
    for (i, s) in deck.iter().enumerate() {
        if picked == hostile_count {
            break;
        }
        if matches!(s, Scenario::Healthy | Scenario::NeverRotated) {
            hostile[i] = true;
            picked += 1;
        }
    }

    // Each team has two or three customer-managed keys, as real accounts do.
    let kms_pool: Vec<Vec<String>> = TEAMS
        .iter()
        .map(|_| {
            let k = rng.gen_range(2..=3);
            (0..k)
                .map(|_| format!("arn:aws:kms:{region}:{account}:key/{}", uuid_from(&mut rng)))
                .collect()
        })
        .collect();

    let mut g = Gen {
        rng: SplitMix64(rng.gen()),
        now: now * SECOND,
        account: account.to_string(),
        region: region.to_string(),
        names: HashSet::with_capacity(n),
        suffixes: HashMap::new(),
        kms_pool,
        failed_dealt: 0,
        flaky_dealt: 0,
    };
    let mut hostile_seen = 0usize;
    let mut out = Vec::with_capacity(n);
    for (scenario, is_hostile) in deck.into_iter().zip(hostile) {
        let h = if is_hostile {
            hostile_seen += 1;
            Some(hostile_seen - 1)
        } else {
            None
        };
        g.rng = SplitMix64(rng.gen());
        out.push(g.secret(scenario, h));
    }
    out
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and platform-independent.
struct SplitMix64(u64);

impl RngCore for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

struct Gen {
    rng: SplitMix64,
    now: EpochMs,
    account: String,
    region: String,
    names: HashSet<String>,
    /// Next numeric suffix to try per taken name.
    suffixes: HashMap<String, usize>,
    kms_pool: Vec<Vec<String>>,
    /// RotationFailed secrets made so far (deals [`FAILING_IN_TURN`]
    /// without drawing from the generator, so names stay as they were).
    failed_dealt: usize,
    /// RotationFlaky secrets made so far (every second one's Lambda is
    /// fixed: `ok`), dealt the same way.
    flaky_dealt: usize,
}

struct Identity {
    name: String,
    env: Option<&'static str>,
    team: usize,
    app: Option<&'static str>,
    engine: &'static str,
    human: String,
    legacy: bool,
    owning_service: Option<&'static str>,
    service_tags: Vec<Tag>,
    service_description: Option<String>,
}

fn uuid_from<R: Rng>(rng: &mut R) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

fn alnum<R: Rng>(rng: &mut R, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

impl Gen {
    fn between(&mut self, lo: EpochMs, hi: EpochMs) -> EpochMs {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..hi)
        }
    }

    fn days_ago(&mut self, lo_days: i64, hi_days: i64) -> EpochMs {
        let lo = self.now - hi_days * DAY;
        let hi = self.now - lo_days * DAY;
        self.between(lo, hi)
    }

    fn unique(&mut self, base: String) -> String {
        if self.names.insert(base.clone()) {
            return base;
        }
        let mut k = self.suffixes.get(&base).copied().unwrap_or(2);
        loop {
            let candidate = format!("{base}-{k}");
            k += 1;
            if self.names.insert(candidate.clone()) {
                self.suffixes.insert(base, k);
                return candidate;
            }
        }
    }

    fn pick_env(&mut self) -> &'static str {
        let total: u32 = ENVS.iter().map(|e| e.1).sum();
        let mut r = self.rng.gen_range(0..total);
        for (e, w) in ENVS {
            if r < w {
                return e;
            }
            r -= w;
        }
        ENVS[0].0
    }

    fn hierarchical(&mut self) -> Identity {
        let mut tries = 0;
        loop {
            let env = self.pick_env();
            let team = self.rng.gen_range(0..TEAMS.len());
            let app = if self.rng.gen_bool(0.65) {
                Some(*TEAMS[team].1.choose(&mut self.rng).expect("apps"))
            } else {
                None
            };
            let roll: f64 = self.rng.gen();
            let (leaf, engine, human) = if roll < 0.6 {
                let (leaf, engine, human) = KINDS[self.rng.gen_range(0..KINDS.len())];
                (leaf.to_string(), engine, human.to_string())
            } else if roll < 0.88 {
                let partner = *PARTNERS.choose(&mut self.rng).expect("partners");
                let cred = *PARTNER_CREDS.choose(&mut self.rng).expect("creds");
                (
                    format!("integrations/{partner}-{cred}"),
                    "apikey",
                    format!(
                        "{} {} for the {partner} integration",
                        cap(partner),
                        cred.replace('-', " ")
                    ),
                )
            } else {
                let shard = self.rng.gen_range(1..=64);
                (
                    format!("db/shard-{shard:02}"),
                    "postgres",
                    format!("Database shard {shard:02} credentials"),
                )
            };
            let team_name = TEAMS[team].0;
            let base = match app {
                Some(a) => format!("{env}/{team_name}/{a}/{leaf}"),
                None => format!("{env}/{team_name}/{leaf}"),
            };
            tries += 1;
            if !self.names.contains(&base) || tries >= 3 {
                // A crowded inventory: a qualified variant before a numbered one.
                let base = if self.names.contains(&base) {
                    let q = *QUALIFIERS.choose(&mut self.rng).expect("qualifiers");
                    format!("{base}-{q}")
                } else {
                    base
                };
                let name = self.unique(base);
                return Identity {
                    name,
                    env: Some(env),
                    team,
                    app,
                    engine,
                    human,
                    legacy: false,
                    owning_service: None,
                    service_tags: Vec::new(),
                    service_description: None,
                };
            }
        }
    }

    fn legacy(&mut self) -> Identity {
        let base = LEGACY.choose(&mut self.rng).expect("legacy").to_string();
        let name = self.unique(base);
        let team = self.rng.gen_range(0..TEAMS.len());
        Identity {
            name,
            env: None,
            team,
            app: None,
            engine: "apikey",
            human: "Legacy credential".to_string(),
            legacy: true,
            owning_service: None,
            service_tags: Vec::new(),
            service_description: None,
        }
    }

    fn managed(&mut self) -> Identity {
        let env = self.pick_env();
        let team = self.rng.gen_range(0..TEAMS.len());
        let team_name = TEAMS[team].0;
        let app = *TEAMS[team].1.choose(&mut self.rng).expect("apps");
        let roll: f64 = self.rng.gen();
        let region = self.region.clone();
        let account = self.account.clone();
        let (service, base, tags, description, engine) = if roll < 0.5 {
            let cluster = self.rng.gen_bool(0.4);
            let id = uuid_from(&mut self.rng);
            let db = format!("{team_name}-{app}-{env}");
            let (kind, tag_key) = if cluster {
                ("cluster", "aws:rds:primaryDBClusterArn")
            } else {
                ("db", "aws:rds:primaryDBInstanceArn")
            };
            let rds_arn = format!("arn:aws:rds:{region}:{account}:{kind}:{db}");
            (
                "rds",
                format!("rds!{kind}-{id}"),
                vec![Tag {
                    key: tag_key.to_string(),
                    value: rds_arn.clone(),
                }],
                format!(
                    "Secret associated with primary RDS DB {}: {rds_arn}",
                    if cluster { "cluster" } else { "instance" }
                ),
                "postgres",
            )
        } else if roll < 0.65 {
            (
                "redshift",
                format!("redshift!{team_name}-{env}-cluster-awsuser"),
                vec![Tag {
                    key: "aws:redshift:clusterArn".to_string(),
                    value: format!("arn:aws:redshift:{region}:{account}:cluster:{team_name}-{env}"),
                }],
                "Admin user password for the Redshift cluster, managed by Amazon Redshift."
                    .to_string(),
                "redshift",
            )
        } else if roll < 0.8 {
            let partner = *PARTNERS.choose(&mut self.rng).expect("partners");
            let stamp = self.days_ago(10, 400) / SECOND;
            (
                "appflow",
                format!("appflow!{account}-{team_name}-{partner}-{stamp}"),
                Vec::new(),
                format!("Connection profile credentials for {partner}, managed by Amazon AppFlow."),
                "apikey",
            )
        } else {
            let hex = alnum(&mut self.rng, 8).to_lowercase();
            (
                "ecs-sc",
                format!("ecs-sc!{team_name}-{app}-{env}-{hex}"),
                Vec::new(),
                "TLS material for ECS Service Connect, managed by Amazon ECS.".to_string(),
                "tls",
            )
        };
        let name = self.unique(base);
        Identity {
            name,
            env: Some(env),
            team,
            app: Some(app),
            engine,
            human: format!("Managed by {service}"),
            legacy: false,
            owning_service: Some(service),
            service_tags: tags,
            service_description: Some(description),
        }
    }

    fn owner(&mut self) -> (String, String) {
        let (first, last) = *PEOPLE.choose(&mut self.rng).expect("people");
        let roll: f64 = self.rng.gen();
        let email = format!("{first}.{last}@example.com");
        let value = if roll < 0.5 {
            email.clone()
        } else if roll < 0.7 {
            format!("{first}@example.com")
        } else {
            format!("{}{}", &first[..1], last)
        };
        (value, email)
    }

    fn secret(&mut self, scenario: Scenario, hostile: Option<usize>) -> SeedSecret {
        let now = self.now;
        let region = self.region.clone();
        let account = self.account.clone();

        let ident = if scenario == Scenario::ManagedByService {
            self.managed()
        } else if hostile == Some(0) {
            let name = self.unique(format!("prod/web/{}", HOSTILE_PAYLOADS[1]));
            Identity {
                name,
                env: Some("prod"),
                team: 0,
                app: None,
                engine: "apikey",
                human: "Web credential".to_string(),
                legacy: false,
                owning_service: None,
                service_tags: Vec::new(),
                service_description: None,
            }
        } else if hostile.is_none() && self.rng.gen_bool(0.03) {
            self.legacy()
        } else {
            self.hierarchical()
        };
        let team_name = TEAMS[ident.team].0;
        let arn = format!(
            "arn:aws:secretsmanager:{region}:{account}:secret:{}-{}",
            ident.name,
            alnum(&mut self.rng, 6)
        );

        // KMS: an independent attribute.
        let kms_default = self.rng.gen_bool(0.4);
        let kms_key_id = if kms_default {
            None
        } else {
            Some(
                self.kms_pool[ident.team]
                    .choose(&mut self.rng)
                    .expect("kms pool")
                    .clone(),
            )
        };

        // Tags and description.
        let (owner_value, owner_email) = self.owner();
        let mut tags: Vec<Tag> = ident.service_tags.clone();
        let no_tags = ident.owning_service.is_none()
            && self.rng.gen_bool(if ident.legacy { 0.4 } else { 0.06 });
        if !no_tags {
            let tag = |k: &str, v: String| Tag {
                key: k.to_string(),
                value: v,
            };
            if self.rng.gen_bool(0.85) {
                tags.push(tag("owner", owner_value.clone()));
            }
            if self.rng.gen_bool(0.95) {
                tags.push(tag("team", team_name.to_string()));
            }
            if let Some(env) = ident.env {
                if self.rng.gen_bool(0.95) {
                    tags.push(tag("env", env.to_string()));
                }
            }
            if self.rng.gen_bool(0.7) {
                let c = *CLASSIFICATIONS.choose(&mut self.rng).expect("classes");
                tags.push(tag("data-classification", c.to_string()));
            }
            if self.rng.gen_bool(0.6) {
                tags.push(tag(
                    "cost-center",
                    format!("CC-{}", 1000 + ident.team * 17 + 3),
                ));
            }
            if self.rng.gen_bool(0.4) {
                let by = *["terraform", "cloudformation", "manual"]
                    .choose(&mut self.rng)
                    .expect("by");
                tags.push(tag("managed-by", by.to_string()));
            }
        }
        let mut description = match ident.service_description.clone() {
            Some(d) => Some(d),
            None => {
                let app = ident.app.unwrap_or(team_name);
                let env = ident.env.unwrap_or("prod");
                let roll = self.rng.gen_range(0..10);
                match roll {
                    0 => None,
                    1 => Some(String::new()),
                    2 => Some(format!("Owner: {owner_email}")),
                    3 => Some(format!("Managed by @{team_name}-team")),
                    4 => Some(format!(
                        "{} for {team_name}/{app} ({env}). contact {owner_email}",
                        ident.human
                    )),
                    5 => Some(format!("{} used by the {app} service", ident.human)),
                    6 => Some(format!("DO NOT DELETE - used by {app} in {env}")),
                    7 => Some(format!(
                        "{}. Owner: {}. Rotated by the {team_name} team.",
                        ident.human, owner_value
                    )),
                    _ => Some(ident.human.clone()),
                }
            }
        };
        if let Some(h) = hostile {
            let payload = HOSTILE_PAYLOADS[h % 3];
            description = Some(format!("Owner: {owner_email} {payload}"));
            let tag_payload = HOSTILE_PAYLOADS[(h + 1) % 3];
            let key = if h % 2 == 0 { "team" } else { "owner" };
            tags.retain(|t| t.key != key);
            tags.push(Tag {
                key: key.to_string(),
                value: tag_payload.to_string(),
            });
            if h % 3 == 2 {
                tags.push(Tag {
                    key: "notes".to_string(),
                    value: HOSTILE_PAYLOADS[h % 3].to_string(),
                });
            }
        }

        // Rotation configuration and history shape.
        let interval = *INTERVALS.choose(&mut self.rng).expect("intervals");
        let mut created = self.days_ago(45, 900);
        match scenario {
            // Old enough for the rotation history these scenarios need.
            Scenario::Overdue
            | Scenario::RotationFailed
            | Scenario::RotationFlaky
            | Scenario::LambdaMissing => created = created.min(now - interval * DAY - 75 * DAY),
            Scenario::Unused => created = created.min(now - 120 * DAY),
            _ => {}
        }
        let created = created;
        let rules = |g: &mut Gen, days: i64| -> RotationRules {
            if g.rng.gen_bool(0.3) {
                RotationRules {
                    automatically_after_days: Some(days),
                    duration: if g.rng.gen_bool(0.5) {
                        Some("3h".to_string())
                    } else {
                        None
                    },
                    schedule_expression: Some(format!("rate({days} days)")),
                }
            } else {
                RotationRules {
                    automatically_after_days: Some(days),
                    duration: None,
                    schedule_expression: None,
                }
            }
        };
        let lambda_suffix = format!("{team_name}-{}", ident.engine);
        let lambda = |b: LambdaBehaviour| Some(lambda_arn(&region, &account, b, &lambda_suffix));

        let mut rotation_enabled = false;
        let mut rotation_lambda_arn = None;
        let mut rotation_rules = None;
        let mut last_rotated = None;
        let mut next_rotation = None;
        let mut behaviour = None;
        let mut stuck_pending_at = None;
        let mut deleted = None;
        let mut deletion_date = None;
        let mut accessed_after_deletion = false;
        let mut replication = Vec::new();

        // A healthy rotation: rotated within the interval, next one ahead.
        let healthy_rotation = |g: &mut Gen| -> (EpochMs, EpochMs) {
            let max_age = (interval * DAY - HOUR).min(g.now - created - DAY).max(HOUR);
            let lr = g.between(g.now - max_age, g.now - HOUR);
            (lr, lr + interval * DAY)
        };

        match scenario {
            Scenario::Healthy
            | Scenario::Replicated
            | Scenario::ReplicaFailed
            | Scenario::Unused => {
                let rotate = match scenario {
                    Scenario::Healthy => true,
                    Scenario::Unused => self.rng.gen_bool(0.5),
                    _ => self.rng.gen_bool(0.6),
                };
                if rotate {
                    let (lr, next) = healthy_rotation(self);
                    rotation_enabled = true;
                    rotation_lambda_arn = lambda(LambdaBehaviour::Ok);
                    behaviour = Some(LambdaBehaviour::Ok);
                    rotation_rules = Some(rules(self, interval));
                    last_rotated = Some(lr);
                    next_rotation = Some(next);
                }
            }
            Scenario::RotationFailed | Scenario::RotationFlaky => {
                let b = if scenario == Scenario::RotationFailed {
                    self.failed_dealt += 1;
                    FAILING_IN_TURN[(self.failed_dealt - 1) % FAILING_IN_TURN.len()]
                } else {
                    self.flaky_dealt += 1;
                    if self.flaky_dealt.is_multiple_of(2) {
                        LambdaBehaviour::Ok
                    } else {
                        LambdaBehaviour::Flaky
                    }
                };
                let failed_at = self.between(now - 10 * DAY, now - 2 * HOUR);
                rotation_enabled = true;
                rotation_lambda_arn = lambda(b);
                behaviour = Some(b);
                rotation_rules = Some(rules(self, interval));
                let lr = (failed_at - interval * DAY).max(created + HOUR);
                last_rotated = Some(lr);
                next_rotation = Some(lr + interval * DAY);
                stuck_pending_at = Some(failed_at);
            }
            Scenario::Overdue => {
                let late = self.rng.gen_range(3..=60) * DAY + self.between(0, DAY);
                let lr = (now - interval * DAY - late).max(created + HOUR);
                rotation_enabled = true;
                rotation_lambda_arn = lambda(LambdaBehaviour::Ok);
                behaviour = Some(LambdaBehaviour::Ok);
                rotation_rules = Some(rules(self, interval));
                last_rotated = Some(lr);
                next_rotation = Some(lr + interval * DAY);
            }
            Scenario::NeverRotated => {}
            Scenario::DisabledWithRules => {
                rotation_enabled = false;
                rotation_lambda_arn = lambda(LambdaBehaviour::Ok);
                behaviour = Some(LambdaBehaviour::Ok);
                rotation_rules = Some(rules(self, interval));
                let lr = self.between(created + HOUR, (now - 20 * DAY).max(created + 2 * HOUR));
                last_rotated = Some(lr);
            }
            Scenario::ScheduledForDeletion => {
                if self.rng.gen_bool(0.3) {
                    rotation_lambda_arn = lambda(LambdaBehaviour::Ok);
                    behaviour = Some(LambdaBehaviour::Ok);
                    rotation_rules = Some(rules(self, interval));
                    last_rotated = Some(
                        self.between(created + HOUR, (now - 30 * DAY).max(created + 2 * HOUR)),
                    );
                }
                let window = *[7i64, 14, 30, 30, 30]
                    .choose(&mut self.rng)
                    .expect("windows");
                accessed_after_deletion = self.rng.gen_bool(0.4);
                let min_days = if accessed_after_deletion { 2 } else { 0 };
                let days = self
                    .rng
                    .gen_range(min_days..window.min(min_days + 20).max(min_days + 1));
                let at = now - days * DAY - self.between(0, 6 * HOUR) - HOUR;
                deleted = Some(at);
                deletion_date = Some(at + window * DAY);
            }
            Scenario::ManagedByService => {
                if ident.owning_service != Some("appflow") {
                    let days = if ident.owning_service == Some("ecs-sc") {
                        5
                    } else {
                        7
                    };
                    let lr = self.between(now - days * DAY + HOUR, now - HOUR);
                    rotation_enabled = true;
                    rotation_rules = Some(RotationRules {
                        automatically_after_days: Some(days),
                        duration: None,
                        schedule_expression: Some(format!("rate({days} days)")),
                    });
                    last_rotated = Some(lr.max(created + HOUR));
                    next_rotation = Some(lr.max(created + HOUR) + days * DAY);
                }
            }
            Scenario::LambdaMissing => {
                rotation_enabled = true;
                rotation_lambda_arn = lambda(LambdaBehaviour::Missing);
                behaviour = Some(LambdaBehaviour::Missing);
                rotation_rules = Some(rules(self, interval));
                let configured = self.between(
                    created + HOUR,
                    (now - interval * DAY - DAY).max(created + 2 * HOUR),
                );
                next_rotation = Some(configured + interval * DAY);
            }
        }

        if matches!(scenario, Scenario::Replicated | Scenario::ReplicaFailed) {
            let count = self.rng.gen_range(1..=2);
            let mut regions: Vec<&str> = OTHER_REGIONS
                .iter()
                .copied()
                .filter(|r| *r != region)
                .collect();
            regions.shuffle(&mut self.rng);
            for (k, r) in regions.into_iter().take(count).enumerate() {
                let failed = scenario == Scenario::ReplicaFailed && k == 0;
                let kms = if kms_default {
                    "alias/aws/secretsmanager".to_string()
                } else {
                    format!("arn:aws:kms:{r}:{account}:key/{}", uuid_from(&mut self.rng))
                };
                let status_message = if failed {
                    Some(
                        REPLICA_FAILURES
                            .choose(&mut self.rng)
                            .expect("failures")
                            .to_string(),
                    )
                } else {
                    Some("Replication succeeded".to_string())
                };
                let last_accessed = if !failed && self.rng.gen_bool(0.5) {
                    Some(self.days_ago(0, 20))
                } else {
                    None
                };
                replication.push(Replica {
                    region: r.to_string(),
                    kms_key_id: Some(kms),
                    status: if failed {
                        ReplicaStatus::Failed
                    } else {
                        ReplicaStatus::InSync
                    },
                    status_message,
                    last_accessed,
                });
            }
        }

        // Versions: rotations leave one version per interval; manual updates are spread out.
        let mut versions: Vec<VersionData> = Vec::new();
        let count = match self.rng.gen_range(0..10) {
            0..=2 => 2,
            3..=6 => self.rng.gen_range(3..=4),
            _ => self.rng.gen_range(5..=8),
        };
        let newest = last_rotated.unwrap_or_else(|| {
            let hi = deleted.unwrap_or(now) - HOUR;
            self.between(created + HOUR, hi.max(created + 2 * HOUR))
        });
        let manual = last_rotated.is_none() || scenario == Scenario::NeverRotated;
        let mut times = vec![newest];
        if manual {
            let k = if scenario == Scenario::NeverRotated {
                self.rng.gen_range(1..=4)
            } else {
                count
            };
            for _ in 1..k {
                let t = self.between(created, newest);
                times.push(t);
            }
            times.push(created);
        } else {
            let mut t = newest;
            for _ in 1..count {
                t -= interval * DAY + self.between(-HOUR, HOUR);
                if t <= created {
                    break;
                }
                times.push(t);
            }
            if times.len() < count {
                times.push(created);
            }
        }
        times.sort_unstable();
        times.dedup();
        for t in times {
            versions.push(VersionData {
                id: uuid_from(&mut self.rng),
                stages: Vec::new(),
                created: t,
                last_accessed: None,
            });
        }
        let nv = versions.len();
        versions[nv - 1].stages.push(AWSCURRENT.to_string());
        if nv >= 2 {
            versions[nv - 2].stages.push(AWSPREVIOUS.to_string());
        }
        let mut custom_labels = Vec::new();
        if nv >= 3 && self.rng.gen_bool(0.1) {
            match self.rng.gen_range(0..3) {
                0 => {
                    versions[nv - 1].stages.push("blue".to_string());
                    versions[nv - 2].stages.push("green".to_string());
                    custom_labels.extend(["blue".to_string(), "green".to_string()]);
                }
                1 => {
                    versions[0].stages.push("v2-migration".to_string());
                    custom_labels.push("v2-migration".to_string());
                }
                _ => {
                    versions[nv - 2].stages.push("rollback-safe".to_string());
                    custom_labels.push("rollback-safe".to_string());
                }
            }
        }
        if let Some(at) = stuck_pending_at {
            versions.push(VersionData {
                id: uuid_from(&mut self.rng),
                stages: vec![AWSPENDING.to_string()],
                created: at,
                last_accessed: None,
            });
        }

        // Access.
        let last_accessed = if scenario == Scenario::Unused {
            if self.rng.gen_bool(0.4) {
                None
            } else {
                Some(self.days_ago(90, 400).max(created))
            }
        } else if let Some(d) = deleted {
            if accessed_after_deletion {
                Some(self.between(d + DAY + HOUR, now))
            } else {
                Some(self.between(created.min(d - DAY), d - DAY))
            }
        } else if self.rng.gen_bool(0.7) {
            Some(self.between(now - 3 * DAY, now))
        } else {
            Some(self.days_ago(3, 20))
        };
        if let Some(cur) = versions
            .iter_mut()
            .rev()
            .find(|v| v.stages.iter().any(|s| s == AWSCURRENT))
        {
            cur.last_accessed = last_accessed;
        }
        if let Some(prev) = versions
            .iter_mut()
            .find(|v| v.stages.iter().any(|s| s == AWSPREVIOUS))
        {
            if last_accessed.is_some() && scenario != Scenario::Unused {
                prev.last_accessed = Some(prev.created + DAY.min(now - prev.created));
            }
        }

        let newest_version = versions.iter().map(|v| v.created).max().unwrap_or(created);
        let mut last_changed = newest_version;
        if self.rng.gen_bool(0.3) {
            let hi = deleted.unwrap_or(now);
            last_changed = self.between(newest_version, hi.max(newest_version + 1));
        }
        if let Some(d) = deleted {
            last_changed = last_changed.max(d);
        }

        let resource_policy = if self.rng.gen_bool(0.1) {
            let app = ident.app.unwrap_or("app");
            Some(
                serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "AllowServiceRoleRead",
                        "Effect": "Allow",
                        "Principal": {"AWS": format!("arn:aws:iam::{account}:role/{team_name}-{app}-task")},
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "*"
                    }]
                })
                .to_string(),
            )
        } else {
            None
        };

        let deprecated_versions = versions.iter().filter(|v| v.stages.is_empty()).count();
        let has_owner_tag = tags.iter().any(|t| t.key == "owner");
        let data = SecretData {
            name: ident.name.clone(),
            arn: arn.clone(),
            description,
            kms_key_id,
            rotation_enabled,
            rotation_lambda_arn: rotation_lambda_arn.clone(),
            rotation_rules,
            last_rotated,
            last_changed: Some(last_changed),
            last_accessed,
            deleted,
            deletion_date,
            next_rotation,
            tags,
            versions,
            owning_service: ident.owning_service.map(str::to_string),
            created,
            primary_region: Some(region.clone()),
            replication,
            resource_policy,
        };
        let plan = PlannedSecret {
            name: ident.name,
            arn,
            scenario,
            hostile: hostile.is_some(),
            kms_default,
            has_owner_tag,
            has_tags: !data.tags.is_empty(),
            deleted: deleted.is_some(),
            accessed_after_deletion,
            versions: data.versions.len(),
            deprecated_versions,
            custom_labels,
            rotation_lambda: rotation_lambda_arn,
            lambda_behaviour: behaviour,
            owning_service: data.owning_service.clone(),
            replica_regions: data.replication.iter().map(|r| r.region.clone()).collect(),
            has_resource_policy: data.resource_policy.is_some(),
            legacy_name: ident.legacy,
            env: ident.env.map(str::to_string),
            team: if ident.legacy {
                None
            } else {
                Some(team_name.to_string())
            },
        };
        SeedSecret { data, plan }
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_760_000_000;

    #[test]
    fn default_seed_has_every_scenario_several_times() {
        let seeds = generate(300, 42, NOW, "123456789012", "us-east-1");
        assert_eq!(seeds.len(), 300);
        let mut counts: HashMap<Scenario, usize> = HashMap::new();
        for s in &seeds {
            *counts.entry(s.plan.scenario).or_default() += 1;
        }
        for s in Scenario::ALL {
            assert!(
                counts.get(&s).copied().unwrap_or(0) >= 4,
                "{s:?}: {counts:?}"
            );
        }
        assert_eq!(seeds.iter().filter(|s| s.plan.hostile).count(), 5);
        assert!(seeds
            .iter()
            .any(|s| s.plan.hostile && s.data.name.contains('<')));
        assert!(seeds.iter().any(|s| s.plan.legacy_name));
        assert!(seeds.iter().any(|s| !s.plan.has_owner_tag));
        assert!(seeds.iter().any(|s| !s.plan.has_tags));
        assert!(seeds.iter().any(|s| s.plan.deprecated_versions > 0));
        assert!(seeds.iter().any(|s| !s.plan.custom_labels.is_empty()));
        assert!(seeds.iter().any(|s| s.plan.accessed_after_deletion));
        assert!(seeds.iter().any(|s| s.plan.has_resource_policy));
        let default_kms = seeds.iter().filter(|s| s.plan.kms_default).count();
        assert!((60..=180).contains(&default_kms), "{default_kms}");
    }

    #[test]
    fn seeded_states_match_their_scenarios() {
        let now = NOW * SECOND;
        for s in generate(600, 7, NOW, "123456789012", "us-east-1") {
            let d = &s.data;
            let pending: Vec<_> = d
                .versions
                .iter()
                .filter(|v| v.stages.iter().any(|l| l == AWSPENDING))
                .collect();
            let current: Vec<_> = d
                .versions
                .iter()
                .filter(|v| v.stages.iter().any(|l| l == AWSCURRENT))
                .collect();
            assert_eq!(current.len(), 1, "{}", d.name);
            assert!(d
                .versions
                .iter()
                .all(|v| v.created >= d.created && v.created <= now));
            match s.plan.scenario {
                Scenario::Healthy => {
                    assert!(d.rotation_enabled);
                    assert!(d.next_rotation.unwrap() > now);
                    assert!(pending.is_empty());
                }
                Scenario::RotationFailed | Scenario::RotationFlaky => {
                    assert_eq!(pending.len(), 1);
                    assert!(pending[0].stages.iter().all(|l| l != AWSCURRENT));
                    assert!(now - pending[0].created >= 2 * HOUR);
                }
                Scenario::Overdue => assert!(d.next_rotation.unwrap() < now - 2 * DAY),
                Scenario::NeverRotated => {
                    assert!(
                        !d.rotation_enabled
                            && d.rotation_lambda_arn.is_none()
                            && d.last_rotated.is_none()
                    )
                }
                Scenario::DisabledWithRules => {
                    assert!(
                        !d.rotation_enabled
                            && d.rotation_lambda_arn.is_some()
                            && d.rotation_rules.is_some()
                    )
                }
                Scenario::ScheduledForDeletion => {
                    let del = d.deleted.unwrap();
                    assert!(del < now && d.deletion_date.unwrap() > now);
                    if s.plan.accessed_after_deletion {
                        assert!(d.last_accessed.unwrap() / DAY > del / DAY);
                    }
                }
                Scenario::Replicated => {
                    assert!(!d.replication.is_empty());
                    assert!(d
                        .replication
                        .iter()
                        .all(|r| r.status == ReplicaStatus::InSync));
                }
                Scenario::ReplicaFailed => {
                    assert!(d
                        .replication
                        .iter()
                        .any(|r| r.status == ReplicaStatus::Failed && r.status_message.is_some()))
                }
                Scenario::Unused => assert!(d.last_accessed.is_none_or(|t| t < now - 80 * DAY)),
                Scenario::ManagedByService => {
                    assert!(d.owning_service.is_some() && d.name.contains('!'))
                }
                Scenario::LambdaMissing => {
                    assert!(d
                        .rotation_lambda_arn
                        .as_deref()
                        .unwrap()
                        .contains("-missing-"))
                }
            }
        }
    }

    #[test]
    fn failed_rotations_fail_at_each_of_the_four_steps() {
        let seeds = generate(300, 42, NOW, "123456789012", "us-east-1");
        let failing: Vec<LambdaBehaviour> = seeds
            .iter()
            .filter(|s| s.plan.scenario == Scenario::RotationFailed)
            .map(|s| s.plan.lambda_behaviour.unwrap())
            .collect();
        assert_eq!(failing[0], LambdaBehaviour::Broken, "the first is broken");
        for b in LambdaBehaviour::FAILING {
            assert!(
                failing.iter().filter(|f| **f == b).count() >= 2,
                "{b:?} in {failing:?}"
            );
        }
        for s in seeds
            .iter()
            .filter(|s| s.plan.scenario == Scenario::RotationFailed)
        {
            let b = s.plan.lambda_behaviour.unwrap();
            let lambda = s.data.rotation_lambda_arn.as_deref().unwrap();
            assert!(lambda.contains(&format!("-{}-", b.as_str())), "{lambda}");
            assert_eq!(LambdaBehaviour::of_lambda(lambda), b);
        }
    }

    #[test]
    fn tiny_seeds_work() {
        for n in 0..30 {
            let seeds = generate(n, 1, NOW, "123456789012", "us-east-1");
            assert_eq!(seeds.len(), n);
        }
    }
}
