//! Integration tests of the sync through the real SDK: against the demo
//! endpoint (the seed knows what it planted) and against moto_server, an
//! implementation this project did not write.

mod demo;
mod moto;

use crate::server::aws::{build_client, Source};
use crate::server::config::AwsSettings;

pub(super) async fn source_for(url: &str, max_attempts: u32) -> Source {
    build_client(&AwsSettings {
        endpoint_url: Some(url.to_string()),
        region: Some("us-east-1".into()),
        max_attempts,
        ..AwsSettings::default()
    })
    .await
}
