//! What `serve` and the commands are built from, in one place: the
//! effective configuration (file < environment < flags), the store, the
//! sources (one Secrets Manager client per account and region) and, for
//! those that act through the dashboard's services, the [`AppState`].
//!
//! A command takes only what it needs: `check` and `sync` the
//! configuration, `user` and `audit` the store, the actions the store, the
//! sources and a state; `serve` all of it, and the state it renders with.

use super::AwsArgs;
use leptos::prelude::LeptosOptions;
use secretscope::server::auth::Auth;
use secretscope::server::aws::Sources;
use secretscope::server::config::Config;
use secretscope::server::inventory::Inventory;
use secretscope::server::store::{Store, StoreError};
use secretscope::server::AppState;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The configuration of one run of the binary, and the builders of what
/// hangs off it.
pub struct Services {
    config: Config,
}

/// What a state is wired from besides the configuration. Its inventory
/// always starts empty: `serve`'s sync fills it; an action only notes on it
/// what it learns of the one secret it changes.
pub struct Wiring {
    pub store: Store,
    pub sources: Sources,
    /// What the dashboard says it reads: "AWS Secrets Manager", an endpoint URL, the demo.
    pub source_label: String,
}

impl Services {
    /// `config_file` (or ./secretscope.toml), then SECRETSCOPE_* over it.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Services> {
        Ok(Services {
            config: Config::load(config_file)?,
        })
    }

    /// The `--endpoint-url`, `--region` and `--profile` given, over the configuration's.
    pub fn with_aws(mut self, aws: AwsArgs) -> Services {
        let c = &mut self.config.aws;
        if aws.endpoint_url.is_some() {
            c.endpoint_url = aws.endpoint_url;
        }
        if aws.region.is_some() {
            c.region = aws.region;
        }
        if aws.profile.is_some() {
            c.profile = aws.profile;
        }
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// For the flags and the demo that change the configuration before
    /// anything is built from it.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// The configured store; its error in the store's own words (`user`,
    /// `audit`).
    pub async fn store(&self) -> Result<Store, StoreError> {
        Store::open(&self.config.store.url()).await
    }

    /// The store at `url` (the configured one, or `serve --demo`'s
    /// throwaway file); the error names it, its password redacted.
    pub async fn open_store(&self, url: &str) -> anyhow::Result<Store> {
        Store::open(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the store ({}): {e}", redact_url(url)))
    }

    /// One client per account and region the configuration reads.
    pub async fn sources(&self) -> anyhow::Result<Sources> {
        Sources::from_config(&self.config)
            .await
            .map_err(|e| anyhow::anyhow!("the configuration's sources are not valid: {e}"))
    }

    /// The site `serve` renders: the built files under `site_root`, served
    /// at `addr`.
    pub fn site(&self, addr: SocketAddr) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("secretscope")
            .site_root(self.config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build()
    }

    /// `serve`'s state: the site it renders at `addr`, users and sessions
    /// in the store.
    pub fn serving(self, addr: SocketAddr, wiring: Wiring) -> AppState {
        let site = self.site(addr);
        self.state(site, wiring)
    }

    /// The state of a command that acts through the dashboard's services
    /// (the actions) and renders no page: it carries the site as configured
    /// (`site_root`, `bind`), which nothing reads.
    pub fn for_command(self, wiring: Wiring) -> AppState {
        let site = self.site(self.config.bind);
        self.state(site, wiring)
    }

    fn state(self, site: LeptosOptions, w: Wiring) -> AppState {
        let auth = Arc::new(Auth::new(w.store, self.config.auth.clone()));
        AppState::new(
            site,
            Arc::new(Inventory::new()),
            Arc::new(self.config),
            w.source_label,
            w.sources,
            auth,
        )
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://[redacted]@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
