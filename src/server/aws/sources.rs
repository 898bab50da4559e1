//! The accounts × regions the dashboard reads ("sources"): planned from
//! `[[sources]]` (or one `default` source from `[aws]`), each with its own
//! client, credentials (the base chain, or a role assumed with it) and
//! sync. Actions on a secret go through the source that reads its account
//! and region.

use super::client::{counting, sdk_config, ApiCounters, Source};
use crate::server::config::{AwsSettings, Config};
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_secretsmanager::config::SharedCredentialsProvider;
use std::sync::Arc;

/// One account × region to read, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSpec {
    pub name: String,
    pub region: String,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub session_name: String,
    pub interval_secs: u64,
}

/// The account of `arn:aws:iam::ACCOUNT:role/NAME`, if it has that shape.
pub fn role_account(arn: &str) -> Option<&str> {
    let a = crate::domain::arn::Arn::parse(arn)?;
    let ok = a.partition.starts_with("aws") && a.region.is_empty() && a.role().is_some();
    ok.then_some(a.account_id()?)
}

fn valid_region(r: &str) -> bool {
    r.split('-').count() >= 3
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The sources `config` describes, one per configured source and region,
/// or the one `default` source of `[aws]`. Errors name the setting to fix.
pub fn plan(config: &Config) -> Result<Vec<SourceSpec>, String> {
    let default_region = config.aws.region.clone();
    if config.sources.is_empty() {
        return Ok(vec![SourceSpec {
            name: "default".into(),
            region: default_region.unwrap_or_else(|| "us-east-1".into()),
            role_arn: None,
            external_id: None,
            session_name: "secretscope".into(),
            interval_secs: config.sync.interval_secs,
        }]);
    }
    let mut out: Vec<SourceSpec> = Vec::new();
    for (i, s) in config.sources.iter().enumerate() {
        let at = format!("sources[{i}]");
        let name = s.name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(format!(
                "{at}.name {:?} must be letters, digits, '.', '_' or '-' (for example payments-prod)",
                s.name
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(format!(
                "{at}.name {name:?} is used twice: each source needs its own name"
            ));
        }
        if let Some(role) = &s.role_arn {
            if role_account(role).is_none() {
                return Err(format!(
                    "{at}.role_arn {role:?} is not a role ARN: use arn:aws:iam::ACCOUNT:role/NAME"
                ));
            }
        }
        if s.external_id.is_some() && s.role_arn.is_none() {
            return Err(format!(
                "{at}.external_id is set but role_arn is not: an external id only applies to an assumed role"
            ));
        }
        let regions = if s.regions.is_empty() {
            match &default_region {
                Some(r) => vec![r.clone()],
                None => {
                    return Err(format!(
                        "{at}.regions is empty and aws.region is not set: list the regions to read"
                    ))
                }
            }
        } else {
            s.regions.clone()
        };
        for region in regions {
            let region = region.trim().to_string();
            if !valid_region(&region) {
                return Err(format!(
                    "{at}.regions has {region:?}, which is not a region code such as eu-west-1"
                ));
            }
            if out.iter().any(|o| o.name == name && o.region == region) {
                continue;
            }
            out.push(SourceSpec {
                name: name.to_string(),
                region,
                role_arn: s.role_arn.clone(),
                external_id: s.external_id.clone(),
                session_name: s
                    .session_name
                    .clone()
                    .unwrap_or_else(|| "secretscope".into()),
                interval_secs: s.interval_secs.unwrap_or(config.sync.interval_secs).max(1),
            });
        }
    }
    Ok(out)
}

/// The client for `spec`: `settings` in the spec's region, with the role
/// assumed through STS when one is set (credentials are fetched on first
/// use and refreshed before they expire; a refusal surfaces as the
/// source's sync error).
pub async fn build(settings: &AwsSettings, spec: &SourceSpec) -> Source {
    let mut regional = settings.clone();
    regional.region = Some(spec.region.clone());
    let base = sdk_config(&regional).await;
    let sdk = match &spec.role_arn {
        Some(role) => {
            let mut assume = AssumeRoleProvider::builder(role)
                .session_name(&spec.session_name)
                .configure(&base);
            if let Some(id) = &spec.external_id {
                assume = assume.external_id(id);
            }
            let provider = assume.build().await;
            base.into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build()
        }
        None => base,
    };
    let counters = Arc::new(ApiCounters::default());
    let conf = aws_sdk_secretsmanager::config::Builder::from(&sdk)
        .interceptor(counting(counters.clone()))
        .build();
    let account: Arc<std::sync::OnceLock<Arc<str>>> = Default::default();
    if let Some(a) = spec.role_arn.as_deref().and_then(role_account) {
        let _ = account.set(Arc::from(a));
    }
    Source {
        sdk,
        client: aws_sdk_secretsmanager::Client::from_conf(conf),
        endpoint: settings
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("AWS Secrets Manager in {}", spec.region)),
        region: spec.region.clone(),
        counters,
        name: Arc::from(spec.name.as_str()),
        role_arn: spec.role_arn.as_deref().map(Arc::from),
        account,
    }
}

/// Every source, in configuration order. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Sources(Arc<Vec<Source>>);

impl Sources {
    /// Builds the clients of `config`'s sources.
    pub async fn from_config(config: &Config) -> Result<Sources, String> {
        let mut out = Vec::new();
        for spec in plan(config)? {
            out.push(build(&config.aws, &spec).await);
        }
        Ok(Sources(Arc::new(out)))
    }

    /// These sources (the clients a standalone check's syncers built).
    pub fn of(sources: Vec<Source>) -> Sources {
        Sources(Arc::new(sources))
    }

    pub fn all(&self) -> &[Source] {
        &self.0
    }

    /// The first source: what the one-source commands and CloudTrail use.
    pub fn primary(&self) -> &Source {
        &self.0[0]
    }

    /// The source reading `account` in `region`.
    pub fn reading(&self, account: &str, region: &str) -> Option<&Source> {
        let known = |s: &&Source| s.region == region && s.account() == Some(account);
        self.0
            .iter()
            .find(known)
            .or_else(|| self.0.iter().find(|s| s.reads(account, region)))
    }

    /// The source reading the secret `arn` (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:…`).
    pub fn for_arn(&self, arn: &str) -> Option<&Source> {
        let a = crate::domain::arn::Arn::parse(arn)?;
        self.reading(a.account, a.region)
    }
}

impl From<Source> for Sources {
    fn from(s: Source) -> Sources {
        Sources(Arc::new(vec![s]))
    }
}

impl From<Vec<Source>> for Sources {
    fn from(v: Vec<Source>) -> Sources {
        assert!(!v.is_empty(), "at least one source");
        Sources(Arc::new(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::SourceSettings;

    #[test]
    fn role_arns() {
        assert_eq!(
            role_account("arn:aws:iam::210987654321:role/secretscope-read"),
            Some("210987654321")
        );
        assert_eq!(
            role_account("arn:aws-us-gov:iam::210987654321:role/path/r"),
            Some("210987654321")
        );
        for bad in [
            "arn:aws:iam::21098765432:role/r",
            "arn:aws:iam::210987654321:user/r",
            "arn:aws:iam::210987654321:role/",
            "arn:aws:sts::210987654321:role/r",
            "210987654321",
        ] {
            assert_eq!(role_account(bad), None, "{bad}");
        }
    }

    fn source(name: &str, role: Option<&str>, regions: &[&str]) -> SourceSettings {
        SourceSettings {
            name: name.into(),
            role_arn: role.map(String::from),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn plans_one_source_per_region() {
        let mut c = Config::default();
        let p = plan(&c).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].name.as_str(), p[0].region.as_str()),
            ("default", "us-east-1")
        );
        c.aws.region = Some("eu-central-1".into());
        c.sync.interval_secs = 120;
        c.sources = vec![
            source("main", None, &[]),
            source(
                "payments",
                Some("arn:aws:iam::210987654321:role/read"),
                &["us-east-1", "eu-west-1", "us-east-1"],
            ),
        ];
        c.sources[1].interval_secs = Some(600);
        let p = plan(&c).unwrap();
        let got: Vec<(&str, &str, u64)> = p
            .iter()
            .map(|s| (s.name.as_str(), s.region.as_str(), s.interval_secs))
            .collect();
        assert_eq!(
            got,
            [
                ("main", "eu-central-1", 120),
                ("payments", "us-east-1", 600),
                ("payments", "eu-west-1", 600)
            ]
        );
        assert_eq!(p[1].session_name, "secretscope");
    }

    #[test]
    fn bad_sources_are_refused_with_the_setting_to_fix() {
        let cases: Vec<(Vec<SourceSettings>, &str)> = vec![
            (vec![source("a b", None, &["us-east-1"])], "sources[0].name"),
            (
                vec![
                    source("a", None, &["us-east-1"]),
                    source("a", None, &["eu-west-1"]),
                ],
                "used twice",
            ),
            (
                vec![source("a", Some("arn:aws:iam::1:role/x"), &["us-east-1"])],
                "sources[0].role_arn",
            ),
            (vec![source("a", None, &["Europe"])], "not a region code"),
            (vec![source("a", None, &[])], "aws.region is not set"),
            (
                vec![SourceSettings {
                    external_id: Some("x".into()),
                    ..source("a", None, &["us-east-1"])
                }],
                "external_id",
            ),
        ];
        for (sources, want) in cases {
            let c = Config {
                sources,
                ..Config::default()
            };
            let e = plan(&c).unwrap_err();
            assert!(e.contains(want), "{e} should mention {want}");
        }
    }
}
