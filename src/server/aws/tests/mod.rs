//! Integration tests of the sync through the real SDK: against the demo
//! endpoint (the seed knows what it planted) and against moto_server, an
//! implementation this project did not write.

mod browse;
mod demo;
mod moto;

use crate::domain::Secret;
use crate::server::aws::rate::RateLimiter;
use crate::server::aws::sync::list_pass;
use crate::server::aws::{build_client, Source};
use crate::server::config::AwsSettings;
use crate::server::inventory::ListStats;

pub(super) async fn source_for(url: &str, max_attempts: u32) -> Source {
    build_client(&AwsSettings {
        endpoint_url: Some(url.to_string()),
        region: Some("us-east-1".into()),
        max_attempts,
        ..AwsSettings::default()
    })
    .await
}

pub(super) struct Listed {
    pub secrets: Vec<Secret>,
    pub stats: ListStats,
}

/// One unthrottled list pass, collected.
pub(super) async fn list_all(source: &Source) -> Listed {
    let mut secrets = Vec::new();
    let stats = list_pass(source, &RateLimiter::new(0.0), |s| secrets.push(s))
        .await
        .unwrap();
    Listed { secrets, stats }
}
