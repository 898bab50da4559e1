//! The same sync against moto_server (PyPI `moto[server]`): the dashboard's
//! SDK code must work against an implementation it did not write. The
//! scenario is created here through the SDK. moto ignores SortBy and never
//! sets LastAccessedDate, so those are tested on the demo endpoint instead.

use super::source_for;
use crate::domain::Label;
use crate::server::aws::sync::Syncer;
use crate::server::config::SyncSettings;
use crate::server::inventory::Inventory;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A moto_server on a free loopback port, killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server must be installed (pip install 'moto[server]'); .ci/setup test installs it");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start listening on port {port} within 20 s");
}

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
