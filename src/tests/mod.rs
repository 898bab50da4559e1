//! Integration tests of the sync through the real SDK: against the demo
//! endpoint (the seed knows what it planted) and against moto_server, an
//! implementation this project did not write.

mod actions;
mod alerts;
mod app;
mod audit;
mod auth;
mod browse;
mod check;
mod client;
mod cloudtrail;
mod demo;
mod diagnosis;
mod fragments;
mod freshness;
mod hardening;
mod health;
mod moto;
mod picker;
mod readers;
mod requests;
mod sources;

use crate::domain::Secret;
use crate::server::aws::rate::RateLimiter;
use crate::server::aws::sync::list_pass;
use crate::server::aws::{build_client, Source};
use crate::server::config::AwsSettings;
use crate::server::inventory::ListStats;

/// The version of `name` that holds AWSPENDING without AWSCURRENT (a stuck
/// or failed rotation's), as ListSecretVersionIds lists it.
pub(super) async fn stuck_version(
    c: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> aws_sdk_secretsmanager::types::SecretVersionsListEntry {
    let versions = c
        .list_secret_version_ids()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    versions
        .versions()
        .iter()
        .find(|v| {
            let stages = v.version_stages();
            stages.iter().any(|l| l == "AWSPENDING") && !stages.iter().any(|l| l == "AWSCURRENT")
        })
        .cloned()
        .unwrap_or_else(|| panic!("{name} has no stuck AWSPENDING version"))
}

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
    pub ep: secretsmanager_emulator::RunningEndpoint,
    pub source: Source,
    pub secrets: Vec<Secret>,
    pub plan: Vec<secretsmanager_emulator::PlannedSecret>,
}

pub(super) async fn seeded(n: usize, seed: u64, now: i64) -> Seeded {
    use secretsmanager_emulator::{self as local, LocalOptions};
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
    plan: &[secretsmanager_emulator::PlannedSecret],
    f: impl Fn(&secretsmanager_emulator::PlannedSecret) -> bool,
) -> std::collections::BTreeSet<String> {
    plan.iter()
        .filter(|p| f(p))
        .map(|p| p.name.clone())
        .collect()
}

/// A store in memory with the demo logins (`admin`, `operator`, `viewer`,
/// `payments`) and these sign-in settings, for tests that serve the router.
pub(crate) async fn demo_auth_with(
    settings: crate::server::auth::AuthSettings,
) -> std::sync::Arc<crate::server::auth::Auth> {
    let store = crate::server::store::Store::open("sqlite::memory:")
        .await
        .unwrap();
    crate::server::auth::users::ensure_demo_users(&store)
        .await
        .unwrap();
    std::sync::Arc::new(crate::server::auth::Auth::new(store, settings))
}

/// The demo password of `name`.
pub(crate) fn demo_password(name: &str) -> &'static str {
    crate::server::auth::users::demo_logins()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, p, _)| p)
        .unwrap_or_else(|| panic!("no demo login {name}"))
}

/// An inventory filled by one list pass over `source` (no rate budget).
pub(crate) async fn listed(source: &Source) -> std::sync::Arc<crate::server::inventory::Inventory> {
    use crate::server::aws::sync::Syncer;
    use crate::server::config::SyncSettings;
    let inventory = std::sync::Arc::new(crate::server::inventory::Inventory::new());
    let syncer = Syncer::new(
        source.clone(),
        inventory.clone(),
        SyncSettings {
            list_rate_per_sec: 0.0,
            ..SyncSettings::default()
        },
    );
    syncer.list_once().await.unwrap();
    inventory
}

pub(crate) use app::{serve_router, state as test_state, TestApp};
