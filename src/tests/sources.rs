//! Many accounts and regions: sources over the demo organisation (STS
//! AssumeRole through aws-config, a role that refuses the dashboard), each
//! source's own status and metrics, replicas linked to their primary, and
//! grants scoped by account and region enforced on the server.

use super::client::Client;
use super::test_state;
use crate::domain::access::{Grant, Role, Scope};
use crate::server::auth::{users, ManageUsers, RequestInfo};
use crate::server::aws::sync::Syncer;
use crate::server::aws::Sources;
use crate::server::clock::now;
use crate::server::config::{Config, SourceSettings};
use crate::server::inventory::Inventory;
use secretsmanager_emulator::org::{
    role_arn, OrgOptions, Organisation, DEMO_EXTERNAL_ID, LEGACY_ACCOUNT, PAYMENTS_ACCOUNT,
};
use secretsmanager_emulator::{self as local, LocalOptions, RunningEndpoint};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

const MAIN: &str = "123456789012";
const NOW: i64 = 1_790_000_000;

async fn org(n: usize) -> (RunningEndpoint, Organisation) {
    org_at(n, Some(NOW)).await
}

/// The demo organisation seeded relative to `now` (None: the system time).
async fn org_at(n: usize, now: Option<i64>) -> (RunningEndpoint, Organisation) {
    let ep = local::spawn_org(
        OrgOptions::demo(LocalOptions {
            seed_secrets: n,
            seed: 42,
            now,
            ..LocalOptions::default()
        }),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let org = ep.org.clone().expect("an organisation");
    (ep, org)
}

fn source(
    name: &str,
    role: Option<&str>,
    external_id: Option<&str>,
    regions: &[&str],
) -> SourceSettings {
    SourceSettings {
        name: name.into(),
        role_arn: role.map(role_arn),
        external_id: external_id.map(String::from),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        ..SourceSettings::default()
    }
}

fn config_for(ep: &RunningEndpoint, sources: Vec<SourceSettings>) -> Config {
    let mut c = Config::default();
    c.aws.endpoint_url = Some(ep.url());
    c.aws.max_attempts = 2;
    c.sync.list_rate_per_sec = 0.0;
    c.sources = sources;
    c
}

/// The three sources of the tests: the base credentials, a role with an
/// external id, and a role whose trust policy refuses the dashboard.
fn three(ep: &RunningEndpoint) -> Config {
    config_for(
        ep,
        vec![
            source("main", None, None, &["us-east-1"]),
            source(
                "payments-prod",
                Some(PAYMENTS_ACCOUNT),
                Some(DEMO_EXTERNAL_ID),
                &["us-east-1"],
            ),
            source("legacy", Some(LEGACY_ACCOUNT), None, &["ap-southeast-2"]),
        ],
    )
}

async fn synced(config: &Config) -> (Sources, Arc<Inventory>, Vec<Arc<Syncer>>) {
    let sources = Sources::from_config(config).await.unwrap();
    let inventory = Arc::new(Inventory::new());
    let syncers = Syncer::for_sources(&sources, &inventory, config);
    (sources, inventory, syncers)
}

fn count_in(inventory: &Inventory, account: &str) -> usize {
    inventory
        .snapshot()
        .secrets()
        .iter()
        .filter(|s| &*s.account == account)
        .count()
}

fn planned_in(org: &Organisation, account: &str, region: &str) -> usize {
    org.tenant(account, region).expect("seeded").plan().len()
}

/// The inventory holds every secret seeded in `account` (in one region).
fn holds_all_of(inventory: &Inventory, org: &Organisation, account: &str, region: &str) {
    assert_eq!(
        count_in(inventory, account),
        planned_in(org, account, region),
        "{account} in {region}"
    );
}

#[tokio::test]
async fn three_sources_one_failing_then_recovering() {
    let (ep, org) = org(120).await;
    let config = three(&ep);
    let (sources, inventory, syncers) = synced(&config).await;

    // All at once, as `serve` runs them: the refusal holds nothing up.
    let results = futures_util::future::join_all(syncers.iter().map(|s| s.list_once())).await;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    let refused = results[2].as_ref().unwrap_err();
    assert!(
        refused.user.contains(&format!(
            "AssumeRole denied for {}",
            role_arn(LEGACY_ACCOUNT)
        )) && refused.user.contains("trust policy"),
        "a sentence a person can act on: {}",
        refused.user
    );
    assert!(inventory.is_ready(), "every source has had its first pass");

    // The inventory holds the other two, each whole.
    let accounts: BTreeSet<String> = inventory
        .snapshot()
        .secrets()
        .iter()
        .map(|s| s.account.to_string())
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from([MAIN.to_string(), PAYMENTS_ACCOUNT.to_string()])
    );
    holds_all_of(&inventory, &org, MAIN, "us-east-1");
    holds_all_of(&inventory, &org, PAYMENTS_ACCOUNT, "us-east-1");

    // Each source's status; the failing one is named in the summary.
    let statuses = inventory.sources();
    let ids: Vec<&str> = statuses.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "main/us-east-1",
            "payments-prod/us-east-1",
            "legacy/ap-southeast-2"
        ]
    );
    assert_eq!(statuses[1].account.as_deref(), Some(PAYMENTS_ACCOUNT));
    assert!(statuses[..2]
        .iter()
        .all(|s| s.status.last_error.is_none() && s.status.last_success.is_some()));
    assert_eq!(statuses[2].status.last_success, None);
    assert_eq!(
        statuses[2].status.last_error.as_deref(),
        Some(&*refused.user)
    );
    assert!(inventory
        .status()
        .last_error
        .unwrap()
        .starts_with("1 of 3 sources failing. legacy/ap-southeast-2: AssumeRole denied"));

    // On every page (the header) and in /metrics.
    let state = test_state(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        inventory.clone(),
        config.clone(),
        sources.clone(),
    )
    .await;
    let info = crate::api::build::inventory::sync_info(&state);
    assert_eq!((info.sources, info.failing.len()), (3, 1));
    assert_eq!(info.failing[0].id, "legacy/ap-southeast-2");
    assert_eq!(info.failing[0].last_success, None);
    let up = |text: &str, id: &str, account: &str, region: &str| {
        let prefix = format!(
            "secretscope_source_up{{source=\"{id}\",account=\"{account}\",region=\"{region}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .to_string()
    };
    let text = crate::server::metrics::render(&state, now());
    assert_eq!(up(&text, "main/us-east-1", MAIN, "us-east-1"), "1");
    assert_eq!(
        up(
            &text,
            "payments-prod/us-east-1",
            PAYMENTS_ACCOUNT,
            "us-east-1"
        ),
        "1"
    );
    assert_eq!(
        up(
            &text,
            "legacy/ap-southeast-2",
            LEGACY_ACCOUNT,
            "ap-southeast-2"
        ),
        "0"
    );
    assert!(text.contains(
        "secretscope_source_failed_syncs_total{source=\"legacy/ap-southeast-2\",account=\"999999999999\",region=\"ap-southeast-2\"} 1"
    ));

    // The trust policy is fixed: the next pass reads it, the others unchanged.
    assert!(org.set_trusted(&role_arn(LEGACY_ACCOUNT), true));
    syncers[2].list_once().await.unwrap();
    holds_all_of(&inventory, &org, LEGACY_ACCOUNT, "ap-southeast-2");
    holds_all_of(&inventory, &org, MAIN, "us-east-1");
    assert_eq!(inventory.status().last_error, None);
    let text = crate::server::metrics::render(&state, now());
    assert_eq!(
        up(
            &text,
            "legacy/ap-southeast-2",
            LEGACY_ACCOUNT,
            "ap-southeast-2"
        ),
        "1"
    );
    assert!(crate::api::build::inventory::sync_info(&state)
        .failing
        .is_empty());

    // A source that fails after it was read keeps its secrets (marked by
    // its error), and the others carry on.
    let payments = org.tenant(PAYMENTS_ACCOUNT, "us-east-1").unwrap();
    let before = count_in(&inventory, PAYMENTS_ACCOUNT);
    payments.set_down(true);
    assert!(syncers[1].list_once().await.is_err());
    syncers[0].list_once().await.unwrap();
    assert_eq!(count_in(&inventory, PAYMENTS_ACCOUNT), before);
    let st = &inventory.sources()[1].status;
    assert!(st.last_error.is_some() && st.last_success.is_some());
    payments.set_down(false);
    syncers[1].list_once().await.unwrap();
    assert!(inventory.sources()[1].status.last_error.is_none());
}

#[tokio::test]
async fn a_wrong_external_id_is_refused_like_an_untrusted_role() {
    let (ep, _org) = org(12).await;
    for external_id in [Some("not-the-one"), None] {
        let config = config_for(
            &ep,
            vec![source(
                "payments-prod",
                Some(PAYMENTS_ACCOUNT),
                external_id,
                &["us-east-1"],
            )],
        );
        let (_, inventory, syncers) = synced(&config).await;
        let e = syncers[0].list_once().await.unwrap_err();
        assert!(e.user.contains("AssumeRole denied"), "{}", e.user);
        assert!(e.user.contains("external id"), "{}", e.user);
        assert!(inventory.snapshot().secrets().is_empty());
    }
}

#[tokio::test]
async fn replicas_are_linked_to_their_primary_and_shown_once() {
    let (ep, org) = org(300).await;
    let config = config_for(
        &ep,
        vec![source("main", None, None, &["us-east-1", "eu-west-1"])],
    );
    let (_, inventory, syncers) = synced(&config).await;
    for s in &syncers {
        s.list_once().await.unwrap();
    }
    let us = org.tenant(MAIN, "us-east-1").unwrap().plan();
    let eu = org.tenant(MAIN, "eu-west-1").unwrap().plan();
    let primaries: BTreeSet<&str> = us.iter().map(|p| p.arn.as_str()).collect();
    let replicas: Vec<_> = eu
        .iter()
        .filter(|p| primaries.contains(p.arn.replace(":eu-west-1:", ":us-east-1:").as_str()))
        .collect();
    assert!(!replicas.is_empty(), "the seed replicates to eu-west-1");

    let snap = inventory.snapshot();
    assert_eq!(
        snap.secrets().len(),
        us.len() + eu.len() - replicas.len(),
        "each replicated secret once, plus eu-west-1's own"
    );
    for r in &replicas {
        let primary_arn = r.arn.replace(":eu-west-1:", ":us-east-1:");
        assert!(
            snap.secrets().iter().all(|s| *s.arn != *r.arn),
            "{} listed",
            r.arn
        );
        let replica = snap
            .arc_by_arn(&r.arn)
            .expect("a replica is found by its ARN");
        assert_eq!(replica.primary_region.as_deref(), Some("us-east-1"));
        assert_eq!(&*replica.region, "eu-west-1");
        let primary = snap.primary_of(replica).expect("linked");
        assert_eq!(*primary.arn, *primary_arn);
        assert!(snap
            .replicas_of(&primary_arn)
            .iter()
            .any(|x| *x.arn == *r.arn));
        assert_eq!(
            &*snap.by_name(&r.name).unwrap().arn,
            primary_arn,
            "a name leads to the primary"
        );
    }

    // Reading only the replicas' region: there is no primary to link to,
    // so they are listed as they are.
    let config = config_for(&ep, vec![source("eu", None, None, &["eu-west-1"])]);
    let (_, alone, syncers) = synced(&config).await;
    syncers[0].list_once().await.unwrap();
    let snap = alone.snapshot();
    assert_eq!(snap.secrets().len(), eu.len());
    assert!(replicas
        .iter()
        .all(|r| snap.secrets().iter().any(|s| *s.arn == *r.arn)));
}

/// A user named `name` holding `grant` only.
async fn add_user(state: &crate::server::AppState, name: &str, grant: Grant) {
    let req = RequestInfo {
        client: "test".into(),
        request_id: "-".into(),
    };
    users::add(
        &state.auth.store,
        &crate::server::auth::console::<ManageUsers>(),
        &req,
        name,
        format!("{name}-long-password"),
        grant,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn grants_scoped_by_account_and_region_are_enforced_on_the_server() {
    let (ep, _org) = org(120).await;
    let config = config_for(
        &ep,
        vec![
            source("main", None, None, &["us-east-1", "eu-west-1"]),
            source(
                "payments-prod",
                Some(PAYMENTS_ACCOUNT),
                Some(DEMO_EXTERNAL_ID),
                &["us-east-1"],
            ),
        ],
    );
    let (sources, inventory, syncers) = synced(&config).await;
    for s in &syncers {
        s.list_once().await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = test_state(addr, inventory.clone(), config, sources).await;
    let server = super::serve_router(listener, state.clone());
    add_user(
        &state,
        "account-ops",
        Grant::new(Role::Operator, Scope::Account(PAYMENTS_ACCOUNT.into())),
    )
    .await;
    add_user(
        &state,
        "eu-viewer",
        Grant::new(Role::Viewer, Scope::Region("eu-west-1".into())),
    )
    .await;
    let snap = inventory.snapshot();
    let first = |f: &dyn Fn(&crate::domain::Secret) -> bool| {
        snap.secrets()
            .iter()
            .find(|s| f(s) && s.deleted.is_none())
            .map(|s| s.arn.to_string())
            .unwrap()
    };
    let payments = first(&|s| &*s.account == PAYMENTS_ACCOUNT);
    let main_us = first(&|s| &*s.account == MAIN && &*s.region == "us-east-1");
    let main_eu = first(&|s| &*s.account == MAIN && &*s.region == "eu-west-1");
    let id = crate::domain::links::query_value;
    let total =
        |f: &dyn Fn(&crate::domain::Secret) -> bool| snap.secrets().iter().filter(|s| f(s)).count();

    let anonymous = Client::new(addr);
    let ops = anonymous
        .login("account-ops", "account-ops-long-password")
        .await;
    let eu = anonymous
        .login("eu-viewer", "eu-viewer-long-password")
        .await;
    let admin = anonymous
        .login("admin", super::demo_password("admin"))
        .await;
    let get = |arn: &str| format!("id={}&deprecated=false", id(arn));
    // An action with a view that does not parse: past the guard it is
    // refused as bad input (400), before it a denial (403).
    let rotate = |arn: &str| format!("id={}&seen=%7B%7D&typed_name=&token=", id(arn));
    let cases: Vec<(&Client, &str, String, u16)> = vec![
        (&ops, "/api/get_secret", get(&payments), 200),
        (&ops, "/api/get_secret", get(&main_us), 403),
        (&ops, "/api/rotate_secret", rotate(&payments), 400),
        (&ops, "/api/rotate_secret", rotate(&main_us), 403),
        (&eu, "/api/get_secret", get(&main_eu), 200),
        (&eu, "/api/get_secret", get(&main_us), 403),
        (&eu, "/api/get_secret", get(&payments), 403),
        (&eu, "/api/rotate_secret", rotate(&main_eu), 403),
        (&eu, "/api/list_sources", String::new(), 403),
        (&ops, "/api/list_sources", String::new(), 403),
        (&admin, "/api/list_sources", String::new(), 200),
    ];
    for (client, path, body, want) in &cases {
        let res = client.post_form(path, body).await;
        assert_eq!(res.status, *want, "{path} {body}: {}", res.body);
    }

    // Lists show only what the grant covers.
    for (client, want) in [
        (&ops, total(&|s| &*s.account == PAYMENTS_ACCOUNT)),
        (&eu, total(&|s| &*s.region == "eu-west-1")),
    ] {
        let res = client
            .post_form("/api/list_inventory", "q=&path=&sort=&page=1")
            .await;
        let page: crate::api::InventoryPage = res.json();
        assert_eq!(page.total, want, "{}", res.body);
    }

    // The admin's sources page lists each source with its account.
    let list: crate::api::SourceList = admin.post_form("/api/list_sources", "").await.json();
    let rows: Vec<(String, Option<String>)> = list
        .rows
        .iter()
        .map(|r| (r.id.clone(), r.account.clone()))
        .collect();
    assert_eq!(
        rows,
        [
            ("main/us-east-1".to_string(), Some(MAIN.to_string())),
            ("main/eu-west-1".to_string(), Some(MAIN.to_string())),
            (
                "payments-prod/us-east-1".to_string(),
                Some(PAYMENTS_ACCOUNT.to_string())
            ),
        ]
    );
    server.abort();
}

#[tokio::test]
async fn each_source_reads_its_own_accounts_cloudtrail() {
    use crate::domain::rotation_history::RotationEventKind;
    use secretsmanager_emulator::Scenario;
    // Seeded relative to the system time: CloudTrail is read over the last
    // `cloudtrail.lookback_days` from now.
    let (ep, org) = org_at(120, None).await;
    let mut config = three(&ep);
    config.sources.pop();
    config.cloudtrail.enabled = true;
    let (sources, inventory, syncers) = synced(&config).await;
    for s in &syncers {
        s.list_once().await.unwrap();
    }
    let state = test_state(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        inventory.clone(),
        config,
        sources,
    )
    .await
    .with_source_trails();
    let ids: Vec<&str> = state.trails.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["main/us-east-1", "payments-prod/us-east-1"]);

    // A rotation the seed failed in the payments account.
    let plan = org.tenant(PAYMENTS_ACCOUNT, "us-east-1").unwrap().plan();
    let failed = plan
        .iter()
        .find(|p| p.scenario == Scenario::RotationFailed)
        .expect("the payments seed has a failed rotation");
    let secret = inventory
        .snapshot()
        .arc_by_arn(&failed.arn)
        .unwrap()
        .clone();
    let trail = state.trail_of(&secret).expect("a trail for its account");
    let events = trail.history(&secret.arn, now(), true).await;
    let events = events.as_ref().as_ref().unwrap();
    assert!(
        events.iter().any(|e| e.kind == RotationEventKind::Failed),
        "read through the payments account's credentials: {events:?}"
    );
    // The main account's trail has no record of another account's secret.
    let main = &state.trails[0].1;
    let elsewhere = main.history(&secret.arn, now(), true).await;
    assert!(elsewhere.as_ref().as_ref().unwrap().is_empty());

    // The on-call queue explains it with the payments trail's message.
    let view = state.health.current(now());
    let oncall = crate::api::build::health::oncall(&state, &view, false).await;
    assert_eq!(oncall.cloudtrail, Some(Ok(())));
    let row = oncall
        .rows
        .iter()
        .find(|r| r.arn == *secret.arn)
        .expect("in the queue");
    assert_eq!(row.account, PAYMENTS_ACCOUNT);
    assert!(row.failure.is_some(), "{row:?}");
}

/// The three sources of [`three`], listed once, and a listener for the
/// dashboard serving them.
async fn three_listed() -> (
    RunningEndpoint,
    crate::server::AppState,
    Arc<Inventory>,
    tokio::net::TcpListener,
) {
    let (ep, _org) = org(120).await;
    let config = three(&ep);
    let (sources, inventory, syncers) = synced(&config).await;
    for s in &syncers {
        let _ = s.list_once().await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = test_state(addr, inventory.clone(), config, sources).await;
    (ep, state, inventory, listener)
}

/// Issue 19, finding 9: `prod/payments/elasticsearch/password` exists in two
/// accounts, and a request meant for one was filed against the other. A
/// request now binds to an ARN whenever the name is not unique.
#[tokio::test]
async fn a_request_binds_to_the_secret_its_arn_names_when_the_name_is_shared() {
    use crate::server::auth::Principal;
    let (_ep, state, inventory, _listener) = three_listed().await;
    let snap = inventory.snapshot();
    let shared = snap
        .secrets()
        .iter()
        .find(|s| {
            &*s.account == PAYMENTS_ACCOUNT
                && s.deleted.is_none()
                && snap
                    .secrets()
                    .iter()
                    .any(|o| o.name == s.name && o.account != s.account)
        })
        .expect("the demo organisation has a name in two accounts")
        .clone();
    let viewer = Principal {
        id: 0,
        name: "viewer".into(),
        grants: vec![Grant::new(Role::Viewer, Scope::All)],
    };
    let reader = "arn:aws:iam::210987654321:role/search-reader";
    let why = "Reindexing the search cluster for INC-77";
    // By name alone: refused, with the way out.
    let e = crate::server::requests::create(&state, &viewer, &shared.name, reader, why, "1h")
        .await
        .unwrap_err();
    assert_eq!(e.kind, crate::server::error::ErrorKind::InvalidInput);
    assert!(
        e.user.contains("more than one account or region"),
        "{}",
        e.user
    );
    // By ARN: bound to exactly that secret.
    let (r, _) = crate::server::requests::create(&state, &viewer, &shared.arn, reader, why, "1h")
        .await
        .unwrap();
    assert_eq!(r.secret_arn, &*shared.arn);
    assert_eq!(
        crate::domain::arn::account_region(&r.secret_arn).map(|(a, _)| a),
        Some(PAYMENTS_ACCOUNT)
    );
}

/// Issue 19 (low): the header's sync data and the on-call banner told a
/// scoped user other accounts' role ARNs and the endpoint's URL.
#[tokio::test]
async fn a_scoped_user_hears_only_of_their_own_sources() {
    let (_ep, state, _inventory, listener) = three_listed().await;
    let addr = listener.local_addr().unwrap();
    let server = super::serve_router(listener, state.clone());
    let anonymous = Client::new(addr);
    let admin = anonymous
        .login("admin", super::demo_password("admin"))
        .await;
    let res = admin.post_form("/api/get_sync_info", "").await;
    assert_eq!(res.status, 200);
    let body = res.body;
    assert!(
        body.contains(LEGACY_ACCOUNT),
        "the admin hears of the failing source: {body}"
    );
    let scoped = anonymous
        .login("payments", super::demo_password("payments"))
        .await;
    let body = scoped.post_form("/api/get_sync_info", "").await.body;
    let info: crate::api::SyncInfo = serde_json::from_str(&body).unwrap();
    assert!(info.failing.is_empty(), "{body}");
    assert!(
        info.sources < 4,
        "counts only the sources holding their secrets: {body}"
    );
    for f in ["/api/get_sync_info", "/api/get_oncall"] {
        let res = scoped.post_form(f, "").await;
        let body = res.body;
        assert_eq!(res.status, 200, "{f}: {body}");
        for leak in [LEGACY_ACCOUNT, "role/", "127.0.0.1", "AssumeRole"] {
            assert!(
                !body.contains(leak),
                "{f} tells the scoped user {leak:?}: {body}"
            );
        }
    }
    server.abort();
}
