//! Finding 8: every page and server function answers before the first
//! sync (an inventory never synced, which `TestApp` does not make, so that
//! test serves its own), and on an account with no secrets at all.

use super::super::client::Client;
use super::super::{demo_password, TestApp};

/// The demo endpoint seeded with `n` secrets, and a source reading it.
async fn demo_source(
    n: usize,
) -> (
    secretsmanager_emulator::RunningEndpoint,
    crate::server::aws::Source,
) {
    let ep = secretsmanager_emulator::spawn(
        secretsmanager_emulator::LocalOptions {
            seed_secrets: n,
            seed: 42,
            ..Default::default()
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let source = crate::tests::source_for(&ep.url(), 1).await;
    (ep, source)
}

/// Finding 8: until the first list pass had finished, `/` and `/secrets`
/// panicked and the browser got an empty response. Every page and every
/// server function must answer on an inventory that has not synced yet.
#[tokio::test]
async fn every_page_and_server_function_answers_before_the_first_sync() {
    use crate::tests::auth::{body_for, MATRIX};
    let (_ep, source) = demo_source(10).await;
    // Never synced: what every visitor meets in the first minute.
    let inventory = std::sync::Arc::new(crate::server::inventory::Inventory::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = crate::tests::test_state(addr, inventory, Default::default(), source).await;
    let server = crate::tests::serve_router(listener, state);
    for who in ["admin", "payments"] {
        let client = Client::new(addr).login(who, demo_password(who)).await;
        for path in [
            "/",
            "/secrets",
            "/secrets?path=prod/payments&q=tag:env",
            "/oncall",
            "/requests",
            "/requests/new",
            "/audit",
            "/sources",
            "/secret/prod/payments/db",
            "/export/secrets.csv",
            "/export/secrets.json",
        ] {
            let res = client.get(path).await;
            let status = res.status;
            // The exports say "not yet" (503, with a sentence) until there is
            // something to export; pages show the first-sync notice.
            let expected: &[u16] = if path.starts_with("/export/") {
                &[503]
            } else {
                &[200, 403, 404]
            };
            assert!(
                expected.contains(&status),
                "{who} {path}: {status} {}",
                &res.body[..res.body.len().min(300)]
            );
            if path == "/" || path.starts_with("/secrets") {
                assert!(
                    res.body.contains("The first sync is still running"),
                    "{who} {path}: no first-sync notice"
                );
            }
        }
        for path in MATRIX {
            let res = client
                .post_form(path, &body_for(path, "prod/payments/db"))
                .await;
            assert!(
                res.status != 500 && res.status != 0,
                "{who} {path}: {} {}",
                res.status,
                res.body
            );
        }
    }
    server.abort();
}

/// Finding 8's second half: an account with no secrets at all, synced.
#[tokio::test]
async fn every_page_answers_on_an_empty_account() {
    let s = TestApp::builder()
        .endpoint(secretsmanager_emulator::LocalOptions {
            seed_secrets: 0,
            ..Default::default()
        })
        .build()
        .await;
    assert_eq!(s.state.inventory.snapshot().secrets().len(), 0);
    let admin = s.signed_in("admin").await;
    for path in [
        "/",
        "/secrets",
        "/secrets?q=tag:env&path=prod",
        "/oncall",
        "/requests",
        "/requests/new",
        "/audit",
        "/sources",
        "/export/secrets.csv",
    ] {
        let res = admin.get(path).await;
        assert_eq!(
            res.status,
            200,
            "{path}: {}",
            &res.body[..res.body.len().min(300)]
        );
        assert!(
            !res.body.contains("The first sync is still running"),
            "{path}: synced, if empty"
        );
    }
    s.server.abort();
}
