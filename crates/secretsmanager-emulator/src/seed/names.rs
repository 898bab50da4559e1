//! Who a seeded secret is: its name (hierarchical, legacy or a service's
//! own), team, application, environment and owner.

use super::*;
use rand::seq::SliceRandom;
use rand::Rng;

pub(super) const ENVS: [(&str, u32); 4] =
    [("prod", 35), ("staging", 25), ("dev", 25), ("shared", 15)];

#[rustfmt::skip]
pub(super) const TEAMS: [(&str, [&str; 8]); 16] = [
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
pub(super) const KINDS: [(&str, &str, &str); 23] = [
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
pub(super) const PARTNERS: [&str; 30] = [
    "stripe", "github", "datadog", "slack", "sentry", "pagerduty", "twilio", "sendgrid", "snowflake",
    "segment", "salesforce", "hubspot", "zendesk", "okta", "auth0", "algolia", "mapbox", "openai", "adyen",
    "braintree", "plaid", "mailgun", "intercom", "launchdarkly", "newrelic", "cloudflare", "fastly",
    "docusign", "shopify", "paypal",
];

pub(super) const PARTNER_CREDS: [&str; 4] = ["api-key", "token", "webhook-secret", "client-secret"];

/// Variants people add when a name is taken (`api-key-ci`, `db/primary-v2`).
#[rustfmt::skip]
pub(super) const QUALIFIERS: [&str; 16] = [
    "v2", "ci", "ro", "rw", "batch", "internal", "external", "admin", "legacy", "new", "blue", "green", "eu",
    "us", "backup", "canary",
];

#[rustfmt::skip]
pub(super) const LEGACY: [&str; 26] = [
    "jenkins-token", "LegacyDbPassword", "old-stripe-key", "MyAppSecret", "terraform-cloud-token",
    "prod_db_root", "test", "tmp-secret", "docker-hub-password", "npm-publish-token", "CircleCIToken",
    "ansible-vault-pass", "backup-encryption-key", "grafana-admin", "sonarqube-token", "nexus-deploy",
    "vpn-psk", "ftp-partner-upload", "DatabaseSecret", "AppConfig", "splunk-hec-token",
    "newrelic-license-key", "k8s-dashboard-token", "SlackWebhookURL", "mysql-root", "ReportingUser",
];

pub(super) const PEOPLE: [(&str, &str); 30] = [
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

pub(super) struct Identity {
    pub(super) name: String,
    pub(super) env: Option<&'static str>,
    pub(super) team: usize,
    pub(super) app: Option<&'static str>,
    pub(super) engine: &'static str,
    pub(super) human: String,
    pub(super) legacy: bool,
    pub(super) owning_service: Option<&'static str>,
    pub(super) service_tags: Vec<Tag>,
    pub(super) service_description: Option<String>,
}

impl Gen {
    pub(super) fn unique(&mut self, base: String) -> String {
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

    pub(super) fn pick_env(&mut self) -> &'static str {
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

    pub(super) fn hierarchical(&mut self) -> Identity {
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

    pub(super) fn legacy(&mut self) -> Identity {
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

    pub(super) fn managed(&mut self) -> Identity {
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

    pub(super) fn owner(&mut self) -> (String, String) {
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
}

pub(super) fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
