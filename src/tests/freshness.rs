//! Changes visible in seconds: the incremental pass against the demo
//! endpoint, with LookupEvents' quota as AWS sets it. A tag change, a
//! rotation and deletions made through the SDK appear in the inventory
//! before a generous deadline, without a list pass, and only the secrets
//! the events name are read again (the endpoint counts the calls).

use super::source_for;
use crate::domain::{Label, Secret};
use crate::server::aws::incremental::{self, Cursor, Incremental, IncrementalSettings};
use crate::server::aws::sync::Syncer;
use crate::server::aws::RotationTrail;
use crate::server::config::{CloudTrailSettings, Config, SyncSettings};
use crate::server::inventory::Inventory;
use aws_sdk_secretsmanager::types::Tag;
use secretsmanager_emulator::{self as local, LocalOptions, RunningEndpoint, Scenario};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The endpoint on the real clock (CloudTrail's times and the dashboard's
/// agree), with LookupEvents' quota: API reference, LookupEvents: "The
/// rate of lookup requests is limited to two per second, per account, per
/// Region. If this limit is exceeded, a throttling error occurs."
async fn endpoint() -> RunningEndpoint {
    local::spawn(
        LocalOptions {
            seed_secrets: 300,
            seed: 11,
            now: None,
            rotation_step: Duration::from_millis(20),
            lookup_events_per_second: 2.0,
            ..LocalOptions::default()
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap()
}

fn config(interval_secs: u64) -> Config {
    Config {
        sync: SyncSettings {
            // No list pass during the test but the first.
            interval_secs: 3600,
            list_rate_per_sec: 0.0,
            version_rate_per_sec: 0.0,
            ..SyncSettings::default()
        },
        incremental: IncrementalSettings {
            interval_secs,
            ..IncrementalSettings::default()
        },
        cloudtrail: CloudTrailSettings::default(),
        ..Config::default()
    }
}

async fn syncer(ep: &RunningEndpoint, config: &Config) -> Arc<Syncer> {
    let inventory = Arc::new(Inventory::new());
    Arc::new(Syncer::new(
        source_for(&ep.url(), 3).await,
        inventory,
        config.sync.clone(),
    ))
}

fn pick(ep: &RunningEndpoint, scenario: Scenario, nth: usize) -> local::PlannedSecret {
    ep.endpoint
        .plan()
        .into_iter()
        .filter(|p| !p.hostile && !p.deleted && p.scenario == scenario)
        .nth(nth)
        .expect("the seed plans such a secret")
}

/// Waits (at most a minute) until `f` holds of the inventory's snapshot.
async fn eventually(
    inventory: &Inventory,
    what: &str,
    f: impl Fn(&crate::server::inventory::Snapshot) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f(&inventory.snapshot()) {
        assert!(
            Instant::now() < deadline,
            "{what} did not show within a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn delta(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>, op: &str) -> u64 {
    after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0)
}

async fn tag(sm: &aws_sdk_secretsmanager::Client, id: &str, key: &str, value: &str) {
    let tag = Tag::builder().key(key).value(value).build();
    sm.tag_resource()
        .secret_id(id)
        .tags(tag)
        .send()
        .await
        .unwrap();
}

fn current_version(s: &Secret) -> Option<String> {
    s.version_with(&Label::Current).map(|v| v.id.to_string())
}

#[tokio::test]
async fn a_tag_a_rotation_and_deletions_show_within_the_incremental_interval() {
    let ep = endpoint().await;
    let config = config(1);
    let syncer = syncer(&ep, &config).await;
    let inventory = syncer.inventory.clone();
    let list = syncer.clone().spawn();
    let trail = RotationTrail::for_source(&syncer.source, &config.cloudtrail);
    let pass = incremental::start(&syncer, Some(trail), &config).unwrap();
    eventually(&inventory, "the first list pass", |s| {
        s.secrets().len() > 200
    })
    .await;
    // And its version pass, and the first incremental pass (whatever the
    // seed's history put just before the list pass is read there), before
    // the count starts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while {
        let st = &inventory.sources()[0].status;
        st.versions_complete_at.is_none()
            || st.incremental.as_ref().is_none_or(|i| i.passes_ok == 0)
    } {
        assert!(
            Instant::now() < deadline,
            "no incremental pass within a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sm = &syncer.source.client;
    let tagged = pick(&ep, Scenario::Healthy, 0);
    let rotated = pick(&ep, Scenario::Healthy, 1);
    let gone = pick(&ep, Scenario::NeverRotated, 0);
    let scheduled = pick(&ep, Scenario::NeverRotated, 1);
    let before_rotation = current_version(inventory.snapshot().by_arn(&rotated.arn).unwrap());
    let calls = ep.endpoint.calls();

    tag(sm, &tagged.name, "freshness", "seen").await;
    sm.rotate_secret()
        .secret_id(&rotated.arn)
        .send()
        .await
        .unwrap();
    sm.delete_secret()
        .secret_id(&gone.name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    sm.delete_secret()
        .secret_id(&scheduled.name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();

    eventually(&inventory, "the tag", |s| {
        s.by_arn(&tagged.arn)
            .is_some_and(|x| x.tag("freshness").is_some_and(|v| v == "seen"))
    })
    .await;
    eventually(&inventory, "the forced deletion", |s| {
        s.by_arn(&gone.arn).is_none()
    })
    .await;
    eventually(&inventory, "the scheduled deletion", |s| {
        s.by_arn(&scheduled.arn)
            .is_some_and(|x| x.deleted.is_some())
    })
    .await;
    eventually(&inventory, "the rotation's new AWSCURRENT", |s| {
        s.by_arn(&rotated.arn).is_some_and(|x| {
            current_version(x) != before_rotation && x.versions.iter().all(|v| v.created.is_some())
        })
    })
    .await;

    // No list pass ran: every call since came from the incremental pass,
    // and it read again only the four secrets the events name (the
    // rotation's secret once per event about it: RotateSecret,
    // RotationStarted, RotationSucceeded).
    let after = ep.endpoint.calls();
    assert_eq!(delta(&after, &calls, "secretsmanager:ListSecrets"), 0);
    let described = delta(&after, &calls, "secretsmanager:DescribeSecret");
    assert!(
        (4..=4 + 2).contains(&described),
        "{described} DescribeSecret calls for 4 secrets"
    );
    assert!(delta(&after, &calls, "secretsmanager:ListSecretVersionIds") <= described);
    let status = inventory.sources()[0].status.incremental.clone().unwrap();
    assert!(status.passes_ok >= 1 && status.off.is_none(), "{status:?}");
    assert_eq!(
        status.reread, described,
        "every DescribeSecret was the pass's"
    );
    pass.abort();
    list.abort();
}

#[tokio::test]
async fn one_pass_reads_each_named_secret_once_and_applies_each_event_once() {
    let ep = endpoint().await;
    let config = config(30);
    let syncer = syncer(&ep, &config).await;
    syncer.list_once().await.unwrap();
    let trail = RotationTrail::for_source(&syncer.source, &config.cloudtrail);
    let pass = Incremental::new(syncer.clone(), trail, config.incremental.clone());
    let mut cursor = Cursor::default();
    // Whatever the seed's history put just before the first list pass.
    pass.pass(&mut cursor).await.unwrap();

    let sm = &syncer.source.client;
    let a = pick(&ep, Scenario::Healthy, 2);
    let b = pick(&ep, Scenario::Unused, 0);
    for (k, v) in [("one", "1"), ("two", "2")] {
        tag(sm, &a.name, k, v).await;
    }
    sm.untag_resource()
        .secret_id(&b.arn)
        .tag_keys("owner")
        .send()
        .await
        .unwrap();
    let created = sm
        .create_secret()
        .name("freshness/new")
        .send()
        .await
        .unwrap();

    let calls = ep.endpoint.calls();
    let r = pass.pass(&mut cursor).await.unwrap();
    let after = ep.endpoint.calls();
    assert_eq!(r.events, 4, "{r:?}");
    assert_eq!(r.reread, 3, "two tags on one secret read it once: {r:?}");
    assert_eq!(delta(&after, &calls, "secretsmanager:DescribeSecret"), 3);
    assert_eq!(
        delta(&after, &calls, "secretsmanager:ListSecretVersionIds"),
        r.version_reads as u64
    );
    assert_eq!(delta(&after, &calls, "secretsmanager:ListSecrets"), 0);
    assert_eq!(delta(&after, &calls, "cloudtrail:LookupEvents"), r.lookups);
    let snap = syncer.inventory.snapshot();
    assert_eq!(snap.by_arn(&a.arn).unwrap().tag("two"), Some("2"));
    assert!(snap.by_arn(&b.arn).unwrap().tag("owner").is_none());
    assert!(
        snap.by_arn(created.arn().unwrap()).is_some(),
        "CreateSecret adds"
    );

    // The same events again (they are inside the overlap): nothing is read.
    let again = pass.pass(&mut cursor).await.unwrap();
    assert_eq!((again.events, again.reread), (0, 0), "{again:?}");
}

#[tokio::test]
async fn a_source_refused_lookup_events_stays_on_list_passes_and_says_so() {
    let ep = endpoint().await;
    ep.endpoint
        .set_denied_actions(None, &["cloudtrail:LookupEvents".to_string()]);
    let config = config(1);
    let syncer = syncer(&ep, &config).await;
    let list = syncer.clone().spawn();
    let pass = incremental::start(&syncer, None, &config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = syncer.inventory.sources()[0].status.incremental.clone();
        if let Some(off) = st.and_then(|s| s.off) {
            assert!(off.contains("cloudtrail:LookupEvents"), "{off}");
            break;
        }
        assert!(Instant::now() < deadline, "no fallback within a minute");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pass.await.is_ok(), "the pass stops by itself");
    assert_eq!(
        syncer.paced.list_interval(Duration::from_secs(300)),
        Duration::from_secs(300),
        "list passes at the source's own interval"
    );
    list.abort();
}
