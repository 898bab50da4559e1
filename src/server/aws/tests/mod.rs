//! Integration tests of the sync through the real SDK: against the demo
//! endpoint (the seed knows what it planted) and against moto_server, an
//! implementation this project did not write.

mod alerts;
mod browse;
mod check;
mod cloudtrail;
mod demo;
mod health;
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

/// The demo endpoint seeded with `n` secrets at a fixed clock, listed once
/// through the SDK, with what the seed planned for each secret.
pub(super) struct Seeded {
    pub ep: crate::server::local::RunningEndpoint,
    pub source: Source,
    pub secrets: Vec<Secret>,
    pub plan: Vec<crate::server::local::PlannedSecret>,
}

pub(super) async fn seeded(n: usize, seed: u64, now: i64) -> Seeded {
    use crate::server::local::{self, LocalOptions};
    let ep = local::spawn(
        LocalOptions {
            seed_secrets: n,
            seed,
            now: Some(now),
            ..LocalOptions::default()
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let source = source_for(&ep.url(), 3).await;
    let secrets = list_all(&source).await.secrets;
    let plan = ep.endpoint.plan();
    Seeded {
        ep,
        source,
        secrets,
        plan,
    }
}

/// The names of the planned secrets for which `f` holds.
pub(super) fn planned(
    plan: &[crate::server::local::PlannedSecret],
    f: impl Fn(&crate::server::local::PlannedSecret) -> bool,
) -> std::collections::BTreeSet<String> {
    plan.iter()
        .filter(|p| f(p))
        .map(|p| p.name.clone())
        .collect()
}
