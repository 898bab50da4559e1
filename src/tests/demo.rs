use super::source_for;
use crate::domain::{Label, State};
use crate::server::aws::sync::Syncer;
use crate::server::config::SyncSettings;
use crate::server::inventory::Inventory;
use secretsmanager_emulator::{self as local, Faults, LocalOptions};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

const NOW: i64 = 1_795_000_000;

fn opts(n: usize) -> LocalOptions {
    LocalOptions {
        seed_secrets: n,
        seed: 7,
        now: Some(NOW),
        ..LocalOptions::default()
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn fast_settings() -> SyncSettings {
    SyncSettings {
        list_rate_per_sec: 0.0,
        version_rate_per_sec: 0.0,
        version_concurrency: 4,
        ..SyncSettings::default()
    }
}

#[tokio::test]
async fn list_pass_returns_exactly_the_seeded_inventory() {
    let ep = local::spawn(opts(450), loopback()).await.unwrap();
    let source = source_for(&ep.url(), 3).await;
    let pass = super::list_all(&source).await;

    let plan = ep.endpoint.plan();
    let planned: BTreeSet<(String, String)> = plan
        .iter()
        .map(|p| (p.name.clone(), p.arn.clone()))
        .collect();
    let listed: BTreeSet<(String, String)> = pass
        .secrets
        .iter()
        .map(|s| (s.name.to_string(), s.arn.to_string()))
        .collect();
    assert_eq!(
        listed, planned,
        "every seeded secret, deleted ones included, exactly once"
    );
    assert_eq!(pass.secrets.len(), plan.len(), "no duplicates across pages");
    assert_eq!(
        pass.stats.pages as usize,
        plan.len().div_ceil(100),
        "MaxResults 100 per page"
    );
    assert_eq!(
        pass.stats.api_calls, pass.stats.pages as u64,
        "no retries without faults"
    );

    // Field mapping: deletion, KMS key, tags, labels, account and region.
    for p in &plan {
        let s = pass.secrets.iter().find(|s| *s.arn == *p.arn).unwrap();
        assert_eq!(s.deleted.is_some(), p.deleted, "{}", p.name);
        assert_eq!(s.uses_default_kms_key(), p.kms_default, "{}", p.name);
        assert_eq!(s.tag("owner").is_some(), p.has_owner_tag, "{}", p.name);
        assert_eq!(&*s.account, "123456789012");
        assert_eq!(&*s.region, "us-east-1");
        assert!(
            s.version_with(&Label::Current).is_some(),
            "{} has AWSCURRENT",
            p.name
        );
    }
}

#[tokio::test]
async fn failed_rotations_show_as_stuck_after_the_version_pass() {
    use secretsmanager_emulator::seed::Scenario;
    let ep = local::spawn(opts(300), loopback()).await.unwrap();
    let inventory = Arc::new(Inventory::new());
    let syncer = Arc::new(Syncer::new(
        source_for(&ep.url(), 3).await,
        inventory.clone(),
        fast_settings(),
    ));
    let (stats, needed) = syncer.list_once().await.unwrap();
    assert_eq!(
        needed.len(),
        stats.secrets,
        "first pass: every secret needs its versions"
    );
    let report = syncer.version_pass(needed, None).await;
    assert_eq!(report.failed, 0, "{:?}", report.last_error);
    assert_eq!(report.fetched, stats.secrets);
    assert_eq!(inventory.status().versions_missing, 0);

    let snapshot = inventory.snapshot();
    for s in snapshot.secrets() {
        assert!(
            s.versions.iter().all(|v| v.created.is_some()),
            "{} has every labelled version's date",
            s.name
        );
    }
    let now = crate::domain::Timestamp::new(NOW);
    let failed: Vec<_> = ep
        .endpoint
        .plan()
        .into_iter()
        .filter(|p| p.scenario == Scenario::RotationFailed && !p.deleted)
        .collect();
    assert!(!failed.is_empty(), "the seed plants failed rotations");
    for p in failed {
        let s = snapshot.by_arn(&p.arn).unwrap();
        assert_eq!(State::of(s, now), State::RotationStuck, "{}", p.name);
    }

    // A second list pass with nothing changed needs no version calls at all.
    let (_, needed) = syncer.list_once().await.unwrap();
    assert!(
        needed.is_empty(),
        "unchanged secrets are not fetched again: {needed:?}"
    );
}

#[tokio::test]
async fn sync_completes_under_20_percent_throttling() {
    let mut o = opts(1000);
    o.faults = Faults {
        throttle_rate: 0.2,
        error_rate: 0.0,
        latency_ms: 0,
    };
    let ep = local::spawn(o, loopback()).await.unwrap();
    // The default attempt budget (8) is what `serve` uses.
    let source = source_for(
        &ep.url(),
        crate::server::config::AwsSettings::default().max_attempts,
    )
    .await;
    let pass = super::list_all(&source).await;
    assert_eq!(pass.secrets.len(), ep.endpoint.plan().len());
    assert!(
        pass.stats.throttled > 0,
        "faults were injected: {:?}",
        pass.stats
    );
    assert_eq!(
        pass.stats.api_calls,
        pass.stats.pages as u64 + pass.stats.throttled
    );
}

#[tokio::test]
async fn endpoint_down_keeps_the_last_snapshot_and_says_why() {
    let ep = local::spawn(opts(120), loopback()).await.unwrap();
    let inventory = Arc::new(Inventory::new());
    let syncer = Syncer::new(
        source_for(&ep.url(), 2).await,
        inventory.clone(),
        fast_settings(),
    );
    syncer.list_once().await.unwrap();
    let before = inventory.snapshot();
    assert_eq!(before.secrets().len(), 120);

    ep.endpoint.set_down(true);
    let err = syncer.list_once().await.unwrap_err();
    assert!(!err.user.is_empty());
    let after = inventory.snapshot();
    assert!(
        Arc::ptr_eq(&before, &after),
        "the last good snapshot is kept"
    );
    let status = inventory.status();
    assert_eq!(status.last_error.as_deref(), Some(err.user.as_str()));
    assert_eq!(status.syncs_failed, 1);

    // The page says so, and still lists the secrets.
    let html = render_home(inventory.clone(), syncer.source.clone()).await;
    assert!(
        html.contains("Last sync failed"),
        "error visible on the page"
    );
    assert!(
        html.contains(&*after.secrets()[0].name),
        "old data still listed"
    );

    // Stopped entirely: connection refused is also a readable error.
    ep.shutdown().await;
    let err = syncer.list_once().await.unwrap_err();
    assert!(err.user.contains("Could not reach"), "{}", err.user);

    // Recovery clears the error.
    let ep2 = local::spawn(opts(120), loopback()).await.unwrap();
    let syncer2 = Syncer::new(
        source_for(&ep2.url(), 2).await,
        inventory.clone(),
        fast_settings(),
    );
    syncer2.list_once().await.unwrap();
    assert_eq!(inventory.status().last_error, None);
}

/// Serves the dashboard router on a free port and fetches the inventory
/// list as the viewer; the page's body.
pub(crate) async fn render_home(
    inventory: Arc<Inventory>,
    source: crate::server::aws::Source,
) -> String {
    use crate::server::config::Config;
    let listener = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = super::test_state(addr, inventory, Config::default(), source).await;
    let server = super::serve_router(listener, state);
    let viewer = super::client::Client::new(addr)
        .login("viewer", super::demo_password("viewer"))
        .await;
    let res = viewer.get("/secrets").await;
    server.abort();
    assert_eq!(res.status, 200, "{}", res.body);
    res.body
}

#[tokio::test]
async fn an_unchanged_secret_keeps_its_allocation_across_list_passes() {
    // What the inventory learned beyond the list (here: high value) must not
    // make an unchanged secret look changed: each pass would copy it again.
    let ep = local::spawn(opts(300), loopback()).await.unwrap();
    let inventory = Arc::new(Inventory::new());
    inventory.set_high_value(Some(
        crate::domain::query::Query::parse("tag:env=prod").unwrap(),
    ));
    let syncer = Arc::new(Syncer::new(
        source_for(&ep.url(), 3).await,
        inventory.clone(),
        fast_settings(),
    ));
    let (_, needed) = syncer.list_once().await.unwrap();
    syncer.version_pass(needed, None).await;
    let before = inventory.snapshot();
    assert!(
        before.secrets().iter().any(|s| s.high_value),
        "the seed has secrets tagged env=prod"
    );
    let (_, needed) = syncer.list_once().await.unwrap();
    assert!(needed.is_empty(), "{needed:?}");
    let after = inventory.snapshot();
    assert_eq!(before.secrets().len(), after.secrets().len());
    for (a, b) in before.secrets().iter().zip(after.secrets()) {
        assert!(Arc::ptr_eq(a, b), "{} was copied", a.name);
    }
}
