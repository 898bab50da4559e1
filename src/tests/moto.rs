//! The same sync against moto_server (PyPI `moto[server]`): the dashboard's
//! SDK code must work against an implementation it did not write. The
//! scenario is created here through the SDK. moto ignores SortBy and never
//! sets LastAccessedDate, so those are tested on the demo endpoint instead.
//! Restore and roll back run here too, through the same service the server
//! functions call, and are checked against moto's own DescribeSecret.
//!
//! Where moto departs from AWS's documentation (it starts a rotation over a
//! leftover AWSPENDING, which AWS refuses; it runs no rotation Lambda; …)
//! is listed, with the behaviours AWS documents, in
//! `secretsmanager_emulator`'s `conformance` (`MOTO_DEPARTURES`): nothing here may rely
//! on one of those departures.

use super::actions::{operator, request};
use super::auth::audited;
use super::source_for;
use crate::domain::actions::{ActionKind, Request, Seen};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::{Label, Secret};
use crate::server::actions;
use crate::server::aws::sync::Syncer;
use crate::server::config::{Config, SyncSettings};
use crate::server::detail::reread;
use crate::server::error::ErrorKind;
use crate::server::inventory::Inventory;
use crate::server::AppState;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use secretsmanager_emulator::testing::moto::{new_version, start as start_moto, Moto};
use std::collections::BTreeMap;
use std::sync::Arc;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

/// Creates the scenario: hierarchical names, tags, a flat legacy name, a
/// secret scheduled for deletion, and one whose AWSPENDING sits on a version
/// that is not AWSCURRENT (a stuck rotation).
async fn create_scenario(c: &Client) {
    c.create_secret()
        .name("prod/payments/db")
        .description("Payments primary database. Owner: alice@example.com")
        .secret_string("placeholder")
        .tags(tag("owner", "alice@example.com"))
        .tags(tag("team", "payments"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    c.create_secret()
        .name("staging/search/api-key")
        .secret_string("placeholder")
        .tags(tag("env", "staging"))
        .send()
        .await
        .unwrap();
    c.create_secret()
        .name("legacy-token")
        .secret_string("placeholder")
        .send()
        .await
        .unwrap();
    c.create_secret()
        .name("dev/old/db")
        .secret_string("placeholder")
        .send()
        .await
        .unwrap();
    c.delete_secret()
        .secret_id("dev/old/db")
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();

    let v1 = "11111111-1111-4111-8111-111111111111";
    let v2 = "22222222-2222-4222-8222-222222222222";
    c.create_secret()
        .name("prod/identity/oauth/client-secret")
        .secret_string("placeholder-1")
        .client_request_token(v1)
        .send()
        .await
        .unwrap();
    c.update_secret()
        .secret_id("prod/identity/oauth/client-secret")
        .secret_string("placeholder-2")
        .client_request_token(v2)
        .send()
        .await
        .unwrap();
    c.update_secret_version_stage()
        .secret_id("prod/identity/oauth/client-secret")
        .version_stage("AWSPENDING")
        .move_to_version_id(v1)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn sync_reads_back_a_scenario_created_in_moto() {
    let moto = start_moto().await;
    let source = source_for(&moto.url, 3).await;
    create_scenario(&source.client).await;

    let pass = super::list_all(&source).await;
    let mut names: Vec<&str> = pass.secrets.iter().map(|s| &*s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "dev/old/db",
            "legacy-token",
            "prod/identity/oauth/client-secret",
            "prod/payments/db",
            "staging/search/api-key"
        ],
        "IncludePlannedDeletion brings the deleted secret too"
    );
    let get = |n: &str| pass.secrets.iter().find(|s| &*s.name == n).unwrap();

    let db = get("prod/payments/db");
    assert_eq!(db.tag("owner"), Some("alice@example.com"));
    assert_eq!(db.tag("team"), Some("payments"));
    assert_eq!(
        db.description.as_deref(),
        Some("Payments primary database. Owner: alice@example.com")
    );
    assert!(db.deleted.is_none());
    assert!(db.arn.starts_with("arn:aws:secretsmanager:us-east-1:"));

    assert!(
        get("dev/old/db").deleted.is_some(),
        "scheduled for deletion"
    );
    assert!(get("legacy-token").tags.is_empty());

    let oauth = get("prod/identity/oauth/client-secret");
    let pending = oauth
        .pending_version()
        .expect("AWSPENDING on a non-current version");
    assert_eq!(
        pending.id.to_string(),
        "11111111-1111-4111-8111-111111111111"
    );
    assert!(pending.labels.contains(&Label::Previous));
    assert_eq!(
        oauth.version_with(&Label::Current).unwrap().id.to_string(),
        "22222222-2222-4222-8222-222222222222"
    );

    // The version pass fills creation dates from ListSecretVersionIds.
    let inventory = Arc::new(Inventory::new());
    let syncer = Arc::new(Syncer::new(
        source_for(&moto.url, 3).await,
        inventory.clone(),
        SyncSettings {
            list_rate_per_sec: 0.0,
            version_rate_per_sec: 0.0,
            ..SyncSettings::default()
        },
    ));
    let (_, needed) = syncer.list_once().await.unwrap();
    let report = syncer.version_pass(needed, None).await;
    // moto refuses ListSecretVersionIds on a deleted secret, as AWS may: that
    // failure is counted and the rest is filled.
    assert!(report.fetched >= 4, "{report:?}");
    let snapshot = inventory.snapshot();
    let oauth = snapshot
        .by_name("prod/identity/oauth/client-secret")
        .unwrap();
    assert!(
        oauth.versions.iter().all(|v| v.created.is_some()),
        "{:?}",
        oauth.versions
    );
    assert_eq!(oauth.versions.len(), 2);
}

/// The dashboard's state over moto: the inventory listed from it once, the
/// demo logins and an audit trail in memory.
async fn state_over(moto: &Moto) -> AppState {
    let source = source_for(&moto.url, 3).await;
    let inventory = super::listed(&source).await;
    super::test_state(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        inventory,
        Config::default(),
        source,
    )
    .await
}

/// The secret `name` of the synced inventory, read fresh from moto.
async fn fresh(state: &AppState, name: &str) -> Arc<Secret> {
    let listed = state
        .inventory
        .snapshot()
        .by_name(name)
        .unwrap_or_else(|| panic!("{name} was not synced from moto"))
        .clone();
    reread(state, &listed).await.unwrap()
}

/// What moto's own DescribeSecret says: DeletedDate is set, and the labels
/// of each version (VersionIdsToStages, each sorted; unlabelled versions
/// left out).
async fn described(c: &Client, name: &str) -> (bool, BTreeMap<String, Vec<String>>) {
    let d = c.describe_secret().secret_id(name).send().await.unwrap();
    let stages = d
        .version_ids_to_stages()
        .expect("DescribeSecret returns VersionIdsToStages")
        .iter()
        .filter(|(_, ls)| !ls.is_empty())
        .map(|(v, ls)| {
            let mut ls = ls.clone();
            ls.sort();
            (v.clone(), ls)
        })
        .collect();
    (d.deleted_date().is_some(), stages)
}

/// The labels as [`Seen`] keeps them, for comparing with [`described`].
fn seen_labels(s: &Seen) -> BTreeMap<String, Vec<String>> {
    s.labels.iter().cloned().collect()
}

const V1: &str = "aaaaaaaa-1111-4111-8111-111111111111";
const V2: &str = "bbbbbbbb-2222-4222-8222-222222222222";

/// A secret with two versions: V1 holds AWSPREVIOUS, V2 AWSCURRENT.
async fn two_versions(c: &Client, name: &str) {
    c.create_secret()
        .name(name)
        .secret_string("placeholder-1")
        .client_request_token(V1)
        .send()
        .await
        .unwrap();
    new_version(c, name, V2).await;
    let (deleted, stages) = described(c, name).await;
    assert!(!deleted);
    assert_eq!(
        stages,
        BTreeMap::from([
            (V1.to_string(), vec!["AWSPREVIOUS".to_string()]),
            (V2.to_string(), vec!["AWSCURRENT".to_string()]),
        ]),
        "the new version takes AWSCURRENT and the old one AWSPREVIOUS"
    );
}

#[tokio::test]
async fn restore_in_moto_cancels_the_deletion_and_keeps_the_labels() {
    let moto = start_moto().await;
    let c = source_for(&moto.url, 3).await.client;
    let name = "team/restore/db";
    two_versions(&c, name).await;
    let (_, labels_before) = described(&c, name).await;
    c.delete_secret()
        .secret_id(name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let (deleted, labels_deleted) = described(&c, name).await;
    assert!(
        deleted,
        "DeleteSecret with a recovery window sets DeletedDate"
    );
    assert_eq!(labels_deleted, labels_before);

    let state = state_over(&moto).await;
    let x = fresh(&state, name).await;
    assert!(x.deleted.is_some(), "the dashboard sees the deletion");
    assert_eq!(seen_labels(&Seen::of(&x)), labels_before);

    let done = actions::run(&state, &operator(), name, request(ActionKind::Restore, &x))
        .await
        .unwrap();
    assert!(!done.after.deleted, "{done:?}");
    assert!(done.message.contains("is restored"), "{}", done.message);
    assert_eq!(seen_labels(&done.after), labels_before);

    // moto itself: no DeletedDate, and the same labels on the same versions.
    let (deleted, labels_after) = described(&c, name).await;
    assert!(!deleted, "DescribeSecret still reports a DeletedDate");
    assert_eq!(labels_after, labels_before);
    // The snapshot shows it at once, without a sync.
    let snapshot = state.inventory.snapshot();
    assert!(snapshot.by_name(name).unwrap().deleted.is_none());
    // Recorded as requested, then done.
    assert_eq!(
        audited(
            &state.auth.store,
            AuditAction::Restore,
            Some(Outcome::Allowed)
        )
        .await,
        2
    );
    assert_eq!(
        audited(
            &state.auth.store,
            AuditAction::Restore,
            Some(Outcome::Failed)
        )
        .await,
        0
    );
}

#[tokio::test]
async fn rollback_in_moto_swaps_awscurrent_and_awsprevious() {
    let moto = start_moto().await;
    let c = source_for(&moto.url, 3).await.client;
    let name = "team/rollback/api-key";
    two_versions(&c, name).await;

    let state = state_over(&moto).await;
    let x = fresh(&state, name).await;
    let seen = Seen::of(&x);
    assert_eq!(seen.holder("AWSCURRENT"), Some(V2));
    assert_eq!(seen.holder("AWSPREVIOUS"), Some(V1));

    let req = request(ActionKind::Rollback, &x);
    let done = actions::run(&state, &operator(), name, req.clone())
        .await
        .unwrap();
    // AWS documents that moving AWSCURRENT with RemoveFromVersionId puts
    // AWSPREVIOUS on the version it was removed from.
    let expected = BTreeMap::from([
        (V1.to_string(), vec!["AWSCURRENT".to_string()]),
        (V2.to_string(), vec!["AWSPREVIOUS".to_string()]),
    ]);
    assert_eq!(seen_labels(&done.after), expected, "{done:?}");
    assert!(
        done.message
            .contains(&format!("AWSCURRENT of {name} is now version {V1}")),
        "{}",
        done.message
    );
    let (deleted, stages) = described(&c, name).await;
    assert!(!deleted);
    assert_eq!(stages, expected, "moto's DescribeSecret");
    let listed = c
        .list_secret_version_ids()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    let mut by_version: Vec<(String, Vec<String>)> = listed
        .versions()
        .iter()
        .map(|v| {
            (
                v.version_id().unwrap_or_default().to_string(),
                v.version_stages().to_vec(),
            )
        })
        .collect();
    by_version.sort();
    assert_eq!(
        by_version,
        expected.into_iter().collect::<Vec<_>>(),
        "moto's ListSecretVersionIds"
    );
    let snapshot = state.inventory.snapshot();
    let synced = snapshot.by_name(name).unwrap();
    assert_eq!(
        synced.version_with(&Label::Current).unwrap().id.to_string(),
        V1
    );
    assert_eq!(
        synced
            .version_with(&Label::Previous)
            .unwrap()
            .id
            .to_string(),
        V2
    );
    assert_eq!(
        audited(
            &state.auth.store,
            AuditAction::Rollback,
            Some(Outcome::Allowed)
        )
        .await,
        2
    );

    // The same request again, sent with what was seen before the rollback:
    // refused as a change since the person looked, and moto is untouched.
    let e = actions::run(
        &state,
        &operator(),
        name,
        Request {
            token: uuid::Uuid::new_v4().to_string(),
            ..req
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(
        e.user
            .contains(&format!("AWSCURRENT moved from version {V2} to {V1}")),
        "{}",
        e.user
    );
    assert_eq!(described(&c, name).await.1, seen_labels(&done.after));
    assert_eq!(
        audited(
            &state.auth.store,
            AuditAction::Rollback,
            Some(Outcome::Denied)
        )
        .await,
        1
    );
}

/// Two sources against moto: its default account through the base
/// credentials, and another account through a role assumed with STS
/// (moto hands out credentials of the role's account). Each lists only its
/// own account, and the inventory holds both.
#[tokio::test]
async fn sources_assume_a_role_into_another_account_in_moto() {
    use crate::server::aws::Sources;
    use crate::server::config::SourceSettings;
    let moto = start_moto().await;
    let other = "111122223333";
    let mut config = Config::default();
    config.aws.endpoint_url = Some(moto.url.clone());
    config.aws.region = Some("us-east-1".into());
    config.sync.list_rate_per_sec = 0.0;
    config.sources = vec![
        SourceSettings {
            name: "base".into(),
            ..SourceSettings::default()
        },
        SourceSettings {
            name: "other".into(),
            role_arn: Some(format!("arn:aws:iam::{other}:role/secretscope-read")),
            external_id: Some("ext-1".into()),
            ..SourceSettings::default()
        },
    ];
    let sources = Sources::from_config(&config).await.unwrap();
    // The scenario, created through each source's own client.
    sources.all()[0]
        .client
        .create_secret()
        .name("prod/base/db")
        .secret_string("placeholder")
        .send()
        .await
        .unwrap();
    let made = sources.all()[1]
        .client
        .create_secret()
        .name("prod/other/db")
        .secret_string("placeholder")
        .send()
        .await
        .unwrap();
    assert!(
        made.arn().unwrap().contains(&format!(":{other}:secret:")),
        "moto put it in the role's account: {made:?}"
    );

    let inventory = Arc::new(Inventory::new());
    let syncers = Syncer::for_sources(&sources, &inventory, &config);
    for s in &syncers {
        s.list_once().await.unwrap();
    }
    let snapshot = inventory.snapshot();
    let got: Vec<(String, String)> = snapshot
        .secrets()
        .iter()
        .map(|s| (s.name.to_string(), s.account.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("prod/base/db".to_string(), "123456789012".to_string()),
            ("prod/other/db".to_string(), other.to_string()),
        ]
    );
    let ids: Vec<(String, Option<String>)> = inventory
        .sources()
        .into_iter()
        .map(|s| (s.id, s.account))
        .collect();
    assert_eq!(
        ids,
        [
            (
                "base/us-east-1".to_string(),
                Some("123456789012".to_string())
            ),
            ("other/us-east-1".to_string(), Some(other.to_string())),
        ]
    );
    // A detail read goes through the source of the secret's account.
    let other_secret = snapshot.by_name("prod/other/db").unwrap();
    assert_eq!(
        sources
            .reading(&other_secret.account, &other_secret.region)
            .map(|s| s.id()),
        Some("other/us-east-1".to_string())
    );
}
