//! Building the SDK client for one source, and counting what it does.

use crate::server::config::AwsSettings;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::config::Credentials;
use aws_sdk_secretsmanager::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// HTTP attempts made by a client, retries included, and how they ended.
#[derive(Debug, Default)]
pub struct ApiCounters {
    pub attempts: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CounterValues {
    pub attempts: u64,
    pub throttled: u64,
    pub server_errors: u64,
}

impl ApiCounters {
    pub fn values(&self) -> CounterValues {
        CounterValues {
            attempts: self.attempts.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
        }
    }
}

impl CounterValues {
    pub fn since(self, earlier: CounterValues) -> CounterValues {
        CounterValues {
            attempts: self.attempts - earlier.attempts,
            throttled: self.throttled - earlier.throttled,
            server_errors: self.server_errors - earlier.server_errors,
        }
    }
}

#[derive(Debug)]
struct CountingInterceptor(Arc<ApiCounters>);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "secretscope::CountingInterceptor"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        if status >= 500 {
            self.0.server_errors.fetch_add(1, Ordering::Relaxed);
        } else if status == 400 || status == 429 {
            let error_type = response.headers().get("x-amzn-ErrorType").unwrap_or("");
            if error_type.contains("Throttling")
                || error_type.contains("TooManyRequests")
                || status == 429
            {
                self.0.throttled.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// One account × region the dashboard reads, with its client.
#[derive(Clone, Debug)]
pub struct Source {
    pub client: Client,
    pub region: String,
    /// What to name in messages: the endpoint URL, or "AWS".
    pub endpoint: String,
    pub counters: Arc<ApiCounters>,
    /// The configured source's name (`payments-prod`), shared by its regions.
    pub name: Arc<str>,
    /// The role assumed for it, if any.
    pub role_arn: Option<Arc<str>>,
    /// The account it reads: the role's, else learned from the first ARN
    /// listed (the base credentials' account is not known before).
    pub account: Arc<std::sync::OnceLock<Arc<str>>>,
    /// Its region, credentials (the assumed role's, when one is), retries
    /// and endpoint: other clients for the same account (CloudTrail) start
    /// from it.
    pub sdk: aws_config::SdkConfig,
}

impl Source {
    /// `name/region`: unique among sources, used in status and metrics.
    pub fn id(&self) -> String {
        format!("{}/{}", self.name, self.region)
    }

    pub fn account(&self) -> Option<&str> {
        self.account.get().map(|a| &**a)
    }

    /// True when this source reads `account` in `region` (an account not
    /// known yet matches any).
    pub fn reads(&self, account: &str, region: &str) -> bool {
        self.region == region && self.account().is_none_or(|a| a == account)
    }
}

/// True for `http://127.0.0.1:…`, `http://localhost:…`, `http://[::1]:…`.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The shared SDK configuration for `settings`: retries, timeouts, the
/// endpoint override, region and credentials. Every AWS client the
/// dashboard builds (Secrets Manager, CloudTrail) starts from this.
///
/// For a loopback endpoint (the demo endpoint, moto) the region defaults to
/// us-east-1 and, unless credentials or a profile are given, static local
/// credentials are used, so nothing probes instance metadata or needs an
/// AWS account. Otherwise the standard aws-config chain applies.
pub async fn sdk_config(settings: &AwsSettings) -> aws_config::SdkConfig {
    let loopback = settings
        .endpoint_url
        .as_deref()
        .is_some_and(is_loopback_url);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(
                    settings.attempt_timeout_secs.max(1),
                ))
                .build(),
        );
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    let region = settings
        .region
        .clone()
        .or_else(|| loopback.then(|| "us-east-1".to_string()));
    if let Some(region) = &region {
        loader = loader.region(Region::new(region.clone()));
    }
    if loopback && settings.profile.is_none() && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(Credentials::new(
            "secretscope-local",
            "secretscope-local",
            None,
            None,
            "secretscope-loopback",
        ));
    }
    loader.load().await
}

/// An interceptor that counts the attempts of any SDK client into `counters`.
pub fn counting(counters: Arc<ApiCounters>) -> impl Intercept + 'static {
    CountingInterceptor(counters)
}

/// Builds the Secrets Manager client for the configured source (see [`sdk_config`]).
pub async fn build_client(settings: &AwsSettings) -> Source {
    let counters = Arc::new(ApiCounters::default());
    let sdk = sdk_config(settings).await;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "(no region)".to_string());
    let conf = aws_sdk_secretsmanager::config::Builder::from(&sdk)
        .interceptor(CountingInterceptor(counters.clone()))
        .build();
    Source {
        sdk,
        client: Client::from_conf(conf),
        endpoint: settings
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("AWS Secrets Manager in {region}")),
        region,
        counters,
        name: Arc::from("default"),
        role_arn: None,
        account: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_url("http://127.0.0.1:4566"));
        assert!(is_loopback_url("http://localhost:5000/"));
        assert!(is_loopback_url("http://[::1]:80"));
        assert!(is_loopback_url("http://u:p@127.0.0.2:1"));
        assert!(!is_loopback_url(
            "https://secretsmanager.us-east-1.amazonaws.com"
        ));
        assert!(!is_loopback_url("http://127.example.com:1"));
        assert!(!is_loopback_url("https://10.0.0.1"));
    }
}
