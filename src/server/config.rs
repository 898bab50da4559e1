//! Layered configuration: defaults < `secretscope.toml` < `SECRETSCOPE_*`
//! environment < command-line flags. AWS credentials are never part of it:
//! they come from the standard AWS chain through `aws-config`.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the dashboard listens on.
    pub bind: SocketAddr,
    /// Where cargo-leptos wrote the site (wasm, js, css, public files).
    pub site_root: PathBuf,
    pub aws: AwsSettings,
    /// The accounts × regions to read, each with its own sync and status.
    /// Empty: one source, `default`, with the `[aws]` credentials and region.
    pub sources: Vec<SourceSettings>,
    pub sync: SyncSettings,
    /// CloudTrail's write events between list passes (`aws/incremental/settings.rs`).
    pub incremental: crate::server::aws::incremental::IncrementalSettings,
    pub demo: DemoSettings,
    /// Rule thresholds, switches, severities and the suppression tag.
    pub health: crate::domain::health::HealthConfig,
    pub alerts: AlertSettings,
    pub cloudtrail: CloudTrailSettings,
    /// Users, sessions and the audit trail.
    pub store: StoreSettings,
    /// Sessions, timeouts, HTTPS and the public URL for origin checks.
    pub auth: crate::server::auth::AuthSettings,
    /// Rotate, cancel, roll back, restore: production paths and pacing.
    pub actions: ActionSettings,
    /// Access requests: owners, durations, and whether approval grants.
    pub requests: RequestSettings,
    /// Rotation diagnosis: reading the Lambda, network, key and role.
    pub diagnosis: crate::server::diagnosis::DiagnosisSettings,
    /// Readers from CloudTrail: the high-value search and the background pass.
    pub readers: crate::server::readers::ReadersSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RequestSettings {
    /// The tag naming a secret's owner (any case).
    pub owner_tag: String,
    /// The longest access that may be asked for or granted, seconds.
    pub max_duration_secs: i64,
    /// Refuse requests whose principal is a whole account (`…:root`). Off:
    /// they are allowed, and the approval dialog warns that every role and
    /// user of that account its own IAM allows could then read the secret.
    pub refuse_whole_accounts: bool,
    /// Approval adds a resource-policy statement for the principal, with
    /// its expiry in the policy; off: approval is recorded and the owner
    /// grants by hand. Needs secretsmanager:GetResourcePolicy,
    /// PutResourcePolicy, DeleteResourcePolicy and ValidateResourcePolicy.
    pub grants: bool,
    /// Owner (as named on secrets, any case) → the dashboard users who
    /// decide for it (`group:NAME`: the users whose last single sign-on put
    /// them in group NAME). An owner not listed decides itself when a dashboard
    /// user has its name (or its e-mail's local part); else the admins do.
    pub owners: std::collections::BTreeMap<String, Vec<String>>,
    /// Mail each request to its deciders and each decision to its
    /// requester: `smtp://user:password@host:587?tls=required`,
    /// `smtps://host:465`, or `smtp://host:25` (no TLS). None: no mail.
    pub smtp_url: Option<String>,
    /// The From of that mail.
    pub mail_from: String,
    /// Dashboard user → e-mail address (an owner named by an address is mailed at it too).
    pub emails: std::collections::BTreeMap<String, String>,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            owner_tag: "owner".into(),
            max_duration_secs: 7 * 86_400,
            refuse_whole_accounts: false,
            grants: false,
            owners: Default::default(),
            smtp_url: None,
            mail_from: "secretscope <secretscope@localhost>".into(),
            emails: Default::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ActionSettings {
    /// Name globs (any case) whose actions ask for the secret's name to be typed first.
    pub production: Vec<String>,
    /// Actions one user may start per minute (all secrets together).
    pub per_user_per_minute: usize,
    /// Reads of AWS one user asks for (a refresh, action and approval
    /// previews), per minute, after a burst of `aws_reads_burst`: one person
    /// cannot spend the dashboard's AWS call budget. Over it: 429 with when
    /// to retry.
    pub aws_reads_per_user_per_minute: u32,
    pub aws_reads_burst: u32,
    /// Secret pages one user opens that are read live from AWS (not from
    /// the cache), per minute, after a burst of `page_reads_burst`. Over
    /// it, the page shows the last sync and says why.
    pub page_reads_per_user_per_minute: u32,
    pub page_reads_burst: u32,
}

impl Default for ActionSettings {
    fn default() -> Self {
        ActionSettings {
            production: vec!["prod/*".into(), "production/*".into(), "prd/*".into()],
            per_user_per_minute: 10,
            aws_reads_per_user_per_minute: 60,
            aws_reads_burst: 20,
            page_reads_per_user_per_minute: 240,
            page_reads_burst: 60,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `postgres://user:password@host/db` (replicas share it); unset: SQLite at `sqlite_path`.
    pub database_url: Option<String>,
    /// Created on first start, with its directory.
    pub sqlite_path: PathBuf,
    /// `[store.lease]`: the once-only background work's lease.
    pub lease: crate::server::lease::LeaseSettings,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            database_url: None,
            sqlite_path: PathBuf::from("secretscope.db"),
            lease: Default::default(),
        }
    }
}

impl StoreSettings {
    /// The URL `Store::open` takes.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.sqlite_path.display()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Slack-compatible incoming webhook: a JSON POST when a secret enters
    /// or leaves "rotation failed" or "rotation overdue". None: no alerts.
    pub webhook_url: Option<String>,
    /// The dashboard's public base URL (`https://secretscope.example.com`):
    /// messages then link to the secret's page. None: no links.
    pub dashboard_url: Option<String>,
    /// Seconds between two health evaluations when nothing changed (rules
    /// depend on the clock: a grace period ends without a sync).
    pub evaluate_every_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CloudTrailSettings {
    /// Read rotation outcomes (RotationSucceeded, RotationFailed, …) with
    /// CloudTrail LookupEvents. Needs cloudtrail:LookupEvents; `serve --demo`
    /// turns it on against the demo endpoint.
    pub enabled: bool,
    /// CloudTrail endpoint override; by default the Secrets Manager
    /// endpoint override, if any, else AWS's.
    pub endpoint_url: Option<String>,
    /// How far back to look, days (CloudTrail keeps 90).
    pub lookback_days: u32,
    /// LookupEvents calls a second at most per account and region: AWS
    /// allows 2, shared with anything else that reads the trail.
    pub calls_per_second: f64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            webhook_url: None,
            dashboard_url: None,
            evaluate_every_secs: 30,
        }
    }
}

impl Default for CloudTrailSettings {
    fn default() -> Self {
        CloudTrailSettings {
            enabled: false,
            endpoint_url: None,
            lookback_days: 30,
            calls_per_second: 2.0,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AwsSettings {
    /// Override the Secrets Manager endpoint (moto, the demo endpoint, a VPC endpoint).
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// SDK attempts per call, including the first; retries back off and
    /// throttling errors are retried.
    pub max_attempts: u32,
    /// Per-attempt timeout, seconds.
    pub attempt_timeout_secs: u64,
}

/// One account (the base credentials, or a role assumed with them) read
/// in one or more regions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SourceSettings {
    /// Shown on pages and in metrics (`payments-prod`); letters, digits,
    /// `.`, `_` and `-`; unique.
    pub name: String,
    /// `arn:aws:iam::ACCOUNT:role/NAME` to assume with the base credentials
    /// (aws-config's chain); none: the base credentials themselves.
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// The role session name (CloudTrail shows it); default `secretscope`.
    pub session_name: Option<String>,
    /// Regions to read; empty: `aws.region`.
    pub regions: Vec<String>,
    /// Seconds between this source's list passes; none: `sync.interval_secs`.
    pub interval_secs: Option<u64>,
}

/// The demo organisation's own description of how it is read (`serve
/// --demo`, `local-endpoint --accounts`), as `[[sources]]`.
impl From<secretsmanager_emulator::org::OrgSource> for SourceSettings {
    fn from(s: secretsmanager_emulator::org::OrgSource) -> Self {
        SourceSettings {
            name: s.name,
            role_arn: s.role_arn,
            external_id: s.external_id,
            regions: s.regions,
            ..Default::default()
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// Seconds between list passes.
    pub interval_secs: u64,
    /// ListSecrets calls per second at most (AWS quota: 100/s per region).
    pub list_rate_per_sec: f64,
    /// ListSecretVersionIds calls per second at most (AWS quota: 50/s per
    /// region, shared with other control-plane callers: keep well below).
    pub version_rate_per_sec: f64,
    /// ListSecretVersionIds calls in flight at most.
    pub version_concurrency: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DemoSettings {
    pub seed_secrets: usize,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: PathBuf::from("target/site"),
            aws: AwsSettings::default(),
            sources: Vec::new(),
            sync: SyncSettings::default(),
            incremental: Default::default(),
            demo: DemoSettings::default(),
            health: Default::default(),
            alerts: AlertSettings::default(),
            cloudtrail: CloudTrailSettings::default(),
            store: StoreSettings::default(),
            auth: Default::default(),
            actions: ActionSettings::default(),
            requests: RequestSettings::default(),
            diagnosis: Default::default(),
            readers: Default::default(),
        }
    }
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            endpoint_url: None,
            region: None,
            profile: None,
            max_attempts: 8,
            attempt_timeout_secs: 30,
        }
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            interval_secs: 300,
            list_rate_per_sec: 50.0,
            version_rate_per_sec: 25.0,
            version_concurrency: 8,
        }
    }
}

impl Default for DemoSettings {
    fn default() -> Self {
        DemoSettings {
            seed_secrets: 300,
            seed: 42,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("the environment variable {name}={value:?} is not valid: {message}")]
    Env {
        name: String,
        value: String,
        message: String,
    },
    #[error("the configuration is not valid: {0}")]
    Invalid(String),
}

/// `layer!(env, "NAME", field)`: the variable, when set, replaces the field
/// (parsed, or an error naming it); `opt` fields are cleared by an empty value.
macro_rules! layer {
    ($env:ident, $name:literal, $field:expr) => {
        if let Some(v) = $env($name) {
            $field = parse_env($name, v)?;
        }
    };
    ($env:ident, $name:literal, opt $field:expr) => {
        if let Some(v) = $env($name) {
            $field = if v.is_empty() { None } else { Some(v) };
        }
    };
}

fn parse_env<T: std::str::FromStr>(name: &str, value: String) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| ConfigError::Env {
        name: name.to_string(),
        message: e.to_string(),
        value,
    })
}

impl Config {
    /// Defaults, then the file (the given one must exist; `secretscope.toml`
    /// in the working directory is read if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, |name| std::env::var(name).ok())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let default_path = Path::new("secretscope.toml");
        let path = match file {
            Some(p) => Some(p),
            None if default_path.exists() => Some(default_path),
            None => None,
        };
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        config.diagnosis.validate().map_err(ConfigError::Invalid)?;
        (config.readers)
            .validate(config.cloudtrail.calls_per_second)
            .map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        self.env_core(&env)?;
        self.env_auth(&env)?;
        self.env_policy(&env)
    }

    /// The server, AWS, sync, demo, alerts, CloudTrail, store and diagnosis variables.
    fn env_core(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        layer!(env, "SECRETSCOPE_BIND", self.bind);
        layer!(env, "SECRETSCOPE_SITE_ROOT", self.site_root);
        layer!(env, "SECRETSCOPE_AWS_ENDPOINT_URL", opt self.aws.endpoint_url);
        layer!(env, "SECRETSCOPE_AWS_REGION", opt self.aws.region);
        self.incremental.apply_env(env)?;
        layer!(env, "SECRETSCOPE_AWS_PROFILE", opt self.aws.profile);
        layer!(env, "SECRETSCOPE_AWS_MAX_ATTEMPTS", self.aws.max_attempts);
        layer!(
            env,
            "SECRETSCOPE_AWS_ATTEMPT_TIMEOUT_SECS",
            self.aws.attempt_timeout_secs
        );
        layer!(
            env,
            "SECRETSCOPE_SYNC_INTERVAL_SECS",
            self.sync.interval_secs
        );
        layer!(
            env,
            "SECRETSCOPE_SYNC_LIST_RATE_PER_SEC",
            self.sync.list_rate_per_sec
        );
        layer!(
            env,
            "SECRETSCOPE_SYNC_VERSION_RATE_PER_SEC",
            self.sync.version_rate_per_sec
        );
        layer!(
            env,
            "SECRETSCOPE_SYNC_VERSION_CONCURRENCY",
            self.sync.version_concurrency
        );
        layer!(env, "SECRETSCOPE_DEMO_SEED_SECRETS", self.demo.seed_secrets);
        layer!(env, "SECRETSCOPE_DEMO_SEED", self.demo.seed);
        layer!(env, "SECRETSCOPE_ALERTS_WEBHOOK_URL", opt self.alerts.webhook_url);
        layer!(env, "SECRETSCOPE_ALERTS_DASHBOARD_URL", opt self.alerts.dashboard_url);
        layer!(
            env,
            "SECRETSCOPE_ALERTS_EVALUATE_EVERY_SECS",
            self.alerts.evaluate_every_secs
        );
        layer!(
            env,
            "SECRETSCOPE_CLOUDTRAIL_ENABLED",
            self.cloudtrail.enabled
        );
        layer!(
            env,
            "SECRETSCOPE_CLOUDTRAIL_ENDPOINT_URL",
            opt self.cloudtrail.endpoint_url
        );
        layer!(
            env,
            "SECRETSCOPE_CLOUDTRAIL_LOOKBACK_DAYS",
            self.cloudtrail.lookback_days
        );
        layer!(
            env,
            "SECRETSCOPE_CLOUDTRAIL_CALLS_PER_SECOND",
            self.cloudtrail.calls_per_second
        );
        let r = &mut self.readers;
        layer!(env, "SECRETSCOPE_READERS_ENABLED", r.enabled);
        layer!(env, "SECRETSCOPE_READERS_HIGH_VALUE", r.high_value);
        layer!(
            env,
            "SECRETSCOPE_READERS_BACKGROUND_SHARE",
            r.background_share
        );
        layer!(env, "SECRETSCOPE_READERS_MAX_EVENTS", r.max_events);
        layer!(env, "SECRETSCOPE_STORE_DATABASE_URL", opt self.store.database_url);
        layer!(env, "SECRETSCOPE_STORE_SQLITE_PATH", self.store.sqlite_path);
        layer!(env, "SECRETSCOPE_DIAGNOSIS_ENABLED", self.diagnosis.enabled);
        let d = &mut self.diagnosis;
        layer!(
            env,
            "SECRETSCOPE_DIAGNOSIS_CACHE_TTL_SECONDS",
            d.cache_ttl_seconds
        );
        layer!(
            env,
            "SECRETSCOPE_DIAGNOSIS_CALLS_PER_SECOND",
            d.calls_per_second
        );
        layer!(
            env,
            "SECRETSCOPE_DIAGNOSIS_MAX_WAIT_SECONDS",
            d.max_wait_seconds
        );
        Ok(())
    }

    /// The sign-in and session variables.
    fn env_auth(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        layer!(env, "SECRETSCOPE_AUTH_HTTPS", self.auth.https);
        layer!(env, "SECRETSCOPE_AUTH_PUBLIC_URL", opt self.auth.public_url);
        layer!(env, "SECRETSCOPE_AUTH_METRICS_TOKEN", opt self.auth.metrics_token);
        layer!(
            env,
            "SECRETSCOPE_AUTH_TRUSTED_PROXY_HEADER",
            opt self.auth.trusted_proxy_header
        );
        if let Some(v) = env("SECRETSCOPE_AUTH_ALLOWED_HOSTS") {
            self.auth.allowed_hosts = v
                .split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect();
        }
        layer!(
            env,
            "SECRETSCOPE_AUTH_PASSWORD_LOGIN",
            self.auth.password_login
        );
        layer!(env, "SECRETSCOPE_AUTH_OIDC_ISSUER_URL", opt self.auth.oidc.issuer_url);
        layer!(
            env,
            "SECRETSCOPE_AUTH_OIDC_CLIENT_ID",
            self.auth.oidc.client_id
        );
        layer!(env, "SECRETSCOPE_AUTH_OIDC_CLIENT_SECRET", opt self.auth.oidc.client_secret);
        layer!(env, "SECRETSCOPE_AUTH_OIDC_REDIRECT_URL", opt self.auth.oidc.redirect_url);
        layer!(
            env,
            "SECRETSCOPE_AUTH_OIDC_GROUPS_CLAIM",
            self.auth.oidc.groups_claim
        );
        layer!(env, "SECRETSCOPE_AUTH_OIDC_LABEL", self.auth.oidc.label);
        layer!(
            env,
            "SECRETSCOPE_AUTH_IDLE_TIMEOUT_SECS",
            self.auth.idle_timeout_secs
        );
        layer!(
            env,
            "SECRETSCOPE_AUTH_ABSOLUTE_TIMEOUT_SECS",
            self.auth.absolute_timeout_secs
        );
        Ok(())
    }

    /// The action, access-request and health-rule variables.
    fn env_policy(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        layer!(
            env,
            "SECRETSCOPE_ACTIONS_PER_USER_PER_MINUTE",
            self.actions.per_user_per_minute
        );
        layer!(
            env,
            "SECRETSCOPE_ACTIONS_AWS_READS_PER_USER_PER_MINUTE",
            self.actions.aws_reads_per_user_per_minute
        );
        layer!(
            env,
            "SECRETSCOPE_ACTIONS_AWS_READS_BURST",
            self.actions.aws_reads_burst
        );
        layer!(
            env,
            "SECRETSCOPE_ACTIONS_PAGE_READS_PER_USER_PER_MINUTE",
            self.actions.page_reads_per_user_per_minute
        );
        layer!(
            env,
            "SECRETSCOPE_ACTIONS_PAGE_READS_BURST",
            self.actions.page_reads_burst
        );
        layer!(
            env,
            "SECRETSCOPE_REQUESTS_REFUSE_WHOLE_ACCOUNTS",
            self.requests.refuse_whole_accounts
        );
        layer!(
            env,
            "SECRETSCOPE_REQUESTS_MAX_DURATION_SECS",
            self.requests.max_duration_secs
        );
        layer!(env, "SECRETSCOPE_REQUESTS_GRANTS", self.requests.grants);
        layer!(env, "SECRETSCOPE_REQUESTS_SMTP_URL", opt self.requests.smtp_url);
        if let Some(v) = env("SECRETSCOPE_REQUESTS_OWNER_TAG") {
            self.requests.owner_tag = v.trim().to_string();
        }
        if let Some(v) = env("SECRETSCOPE_ACTIONS_PRODUCTION") {
            self.actions.production = v
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
        }
        layer!(
            env,
            "SECRETSCOPE_HEALTH_PENDING_GRACE_SECS",
            self.health.pending_grace_secs
        );
        if let Some(v) = env("SECRETSCOPE_HEALTH_REQUIRED_TAGS") {
            self.health.required_tags = v
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
        }
        Ok(())
    }

    /// The effective configuration as TOML. It holds no credentials (those
    /// stay in the AWS chain); the endpoint URL's user info, if any, is redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        if shown.auth.oidc.client_secret.is_some() {
            shown.auth.oidc.client_secret = Some("[redacted]".into());
        }
        if shown.auth.metrics_token.is_some() {
            shown.auth.metrics_token = Some("[redacted]".into());
        }
        for s in &mut shown.sources {
            if s.external_id.is_some() {
                s.external_id = Some("[redacted]".into());
            }
        }
        if let Some(url) = &mut shown.aws.endpoint_url {
            if let Some((scheme, rest)) = url.split_once("://") {
                if let Some((_, host)) = rest.split_once('@') {
                    *url = format!("{scheme}://[redacted]@{host}");
                }
            }
        }
        if let Some(url) = &mut shown.alerts.webhook_url {
            // A Slack webhook URL is itself the credential: show only its host.
            *url = match url.split_once("://") {
                Some((scheme, rest)) => {
                    let host = rest.split('/').next().unwrap_or("");
                    let host = host.rsplit('@').next().unwrap_or(host);
                    format!("{scheme}://{host}/[redacted]")
                }
                None => "[redacted]".to_string(),
            };
        }
        for url in [&mut shown.store.database_url, &mut shown.requests.smtp_url]
            .into_iter()
            .flatten()
        {
            if let Some((scheme, rest)) = url.split_once("://") {
                if let Some((_, host)) = rest.rsplit_once('@') {
                    *url = format!("{scheme}://[redacted]@{host}");
                }
            }
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

#[cfg(test)]
mod tests;
