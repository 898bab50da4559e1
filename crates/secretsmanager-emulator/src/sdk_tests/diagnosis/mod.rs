//! The rotation-diagnosis reads (Lambda, KMS, EC2, IAM), driven through
//! the real SDK clients the dashboard uses, for healthy and misconfigured
//! seeded resources, unknown ones, and the denial switch; and each
//! behaviour word's rotation, failing (or not) as its configuration makes
//! it. Each test quotes the API reference (or user guide) sentence it pins.

use super::*;
use aws_config::SdkConfig;
use aws_sdk_ec2 as ec2;
use aws_sdk_iam as iam;
use aws_sdk_kms as kms;
use aws_sdk_lambda as lambda;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

mod causes;
mod control;
mod ec2_reads;
mod iam_reads;
mod kms_reads;
mod lambda_reads;

/// The SDK configuration for `url` in `region` with access key `key`.
async fn config(url: &str, region: &'static str, key: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region))
        .credentials_provider(Credentials::new(key, "test", None, None, "static"))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

/// The four clients of the diagnosis, in `region`, as the base credentials.
struct Clients {
    lambda: lambda::Client,
    kms: kms::Client,
    ec2: ec2::Client,
    iam: iam::Client,
}

async fn clients_as(url: &str, region: &'static str, key: &str) -> Clients {
    let c = config(url, region, key).await;
    // IAM is global: the SDK signs it for us-east-1 whatever the region.
    let global = config(url, "us-east-1", key).await;
    Clients {
        lambda: lambda::Client::new(&c),
        kms: kms::Client::new(&c),
        ec2: ec2::Client::new(&c),
        iam: iam::Client::new(&global),
    }
}

async fn clients(ep: &RunningEndpoint) -> Clients {
    clients_as(&ep.url(), REGION, "test").await
}

/// The seeded secret (not hostile) whose Lambda behaves `b`.
fn with_lambda(plan: &[PlannedSecret], b: LambdaBehaviour) -> &PlannedSecret {
    pick(plan, |p| p.lambda_behaviour == Some(b))
}

/// The error code and HTTP status of a failed call.
fn code_and_status<T: std::fmt::Debug, E: std::fmt::Debug + ProvideErrorMetadata>(
    r: Result<T, SdkError<E, HttpResponse>>,
) -> (String, u16, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            let code = e.code().unwrap_or("<no code>").to_string();
            let message = e.message().unwrap_or_default().to_string();
            (code, status, message)
        }
    }
}
