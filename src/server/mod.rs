//! Server-only code: AWS access, the in-memory inventory, configuration, the
//! HTTP service and the embedded demo endpoint. `app/` never imports this.

pub mod aws;
pub mod check;
pub mod config;
pub mod detail;
pub mod error;
pub mod export;
pub mod http;
pub mod inventory;
pub mod local;
pub mod views;

use std::sync::Arc;

/// Everything a request handler or server function needs, provided to
/// Leptos as context.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: leptos::prelude::LeptosOptions,
    pub inventory: Arc<inventory::Inventory>,
    pub config: Arc<config::Config>,
    /// "demo endpoint", "http://127.0.0.1:4566", "AWS us-east-1".
    pub source_label: String,
    /// The client the sync uses; the detail page reads one secret with it.
    pub source: aws::Source,
    pub details: Arc<detail::DetailCache>,
}

impl AppState {
    pub fn sync_info(&self) -> crate::api::SyncInfo {
        views::sync_info(self)
    }
}

impl axum::extract::FromRef<AppState> for leptos::prelude::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
