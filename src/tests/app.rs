//! `TestApp`: the dashboard as a router test meets it. A demo endpoint
//! seeded as asked, one list pass through the SDK, the demo logins in a
//! store in memory, and the real router served on a free loopback port;
//! clients that sign in as a browser does.

use super::client::Client;
use super::{demo_auth_with, demo_password, listed, source_for};
use crate::server::aws::Sources;
use crate::server::config::Config;
use crate::server::AppState;
use secretsmanager_emulator::{self as local, LocalOptions, RunningEndpoint};
use std::net::SocketAddr;

/// A served dashboard over a seeded demo endpoint.
pub(crate) struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    /// A plain name (no punctuation beyond `/-_`) under `prod/payments/`,
    /// the scoped demo user's grant (a made-up one on an empty seed).
    pub in_scope: String,
    /// A plain name outside it.
    pub out_of_scope: String,
    pub ep: RunningEndpoint,
    pub server: tokio::task::JoinHandle<()>,
}

pub(crate) struct TestAppBuilder {
    config: Config,
    endpoint: LocalOptions,
    trails: bool,
}

impl TestApp {
    /// 120 secrets of seed 42, the default configuration.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            config: Config::default(),
            endpoint: LocalOptions {
                seed_secrets: 120,
                seed: 42,
                ..LocalOptions::default()
            },
            trails: false,
        }
    }

    /// A client that has not signed in.
    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }

    /// A client signed in as demo user `name` through `POST /login`.
    pub async fn signed_in(&self, name: &str) -> Client {
        self.client().login(name, demo_password(name)).await
    }
}

impl TestAppBuilder {
    /// The dashboard's configuration (sign-in settings, limits, grants…).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Reads CloudTrail through each source, as `serve` does (needs
    /// `[cloudtrail] enabled` in the configuration).
    pub fn trails(mut self) -> Self {
        self.trails = true;
        self
    }

    /// The demo endpoint's options (seed size, seed, clock, faults…).
    pub fn endpoint(mut self, options: LocalOptions) -> Self {
        self.endpoint = options;
        self
    }

    pub async fn build(self) -> TestApp {
        let ep = local::spawn(self.endpoint, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let source = source_for(&ep.url(), 3).await;
        let inventory = listed(&source).await;
        let snap = inventory.snapshot();
        // An empty seed (an account with no secrets) has neither: names
        // that no secret has stand in.
        let name_where = |f: &dyn Fn(&str) -> bool, none: &str| {
            snap.secrets()
                .iter()
                .map(|s| s.name.to_string())
                .find(|n| {
                    f(n) && n
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/-_".contains(c))
                })
                .unwrap_or_else(|| {
                    assert!(snap.secrets().is_empty(), "the seed has no such secret");
                    none.to_string()
                })
        };
        let in_scope = name_where(
            &|n| n.starts_with("prod/payments/"),
            "prod/payments/no-such-secret",
        );
        let out_of_scope = name_where(
            &|n| !n.starts_with("prod/payments/"),
            "prod/orders/no-such-secret",
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut state = state(addr, inventory, self.config, source).await;
        if self.trails {
            state = state.with_source_trails();
        }
        let server = serve_router(listener, state.clone());
        TestApp {
            addr,
            state,
            in_scope,
            out_of_scope,
            ep,
            server,
        }
    }
}

/// The dashboard's state for a router test: `inventory` read through
/// `source`, the demo logins in a store in memory.
pub(crate) async fn state(
    addr: SocketAddr,
    inventory: std::sync::Arc<crate::server::inventory::Inventory>,
    config: Config,
    source: impl Into<Sources>,
) -> AppState {
    let auth = demo_auth_with(config.auth.clone()).await;
    AppState::new(
        leptos::prelude::LeptosOptions::builder()
            .output_name("secretscope")
            .site_addr(addr)
            .build(),
        inventory,
        std::sync::Arc::new(config),
        "test".into(),
        source,
        auth,
    )
}

/// Serves the dashboard's router for `state` on `listener` until aborted.
pub(crate) fn serve_router(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> tokio::task::JoinHandle<()> {
    let router = crate::web::router(state);
    tokio::spawn(async move {
        // The dashboard's own accept loop, as `serve` runs it.
        crate::web::serve(listener, router, std::future::pending())
            .await
            .unwrap();
    })
}
