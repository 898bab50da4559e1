//! secretscope: a web dashboard over AWS Secrets Manager.
//!
//! Features: `ssr` builds the server (axum, the AWS SDK, the demo endpoint);
//! `hydrate` builds the browser bundle. `domain`, `api` and `app` compile for both.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod web;

/// Tests of the whole server: sign-in, audit, requests, actions, alerts,
/// sources, browsing, the health monitor and CLI checks, through the real
/// SDK against the demo endpoint and moto_server, and through the router.
#[cfg(all(test, feature = "ssr"))]
mod tests;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are rendered on the server only; the browser bundle carries just
    // the interactive islands (see `app`), which keeps it small.
    leptos::mount::hydrate_islands();
    // A marker for end-to-end tests: the wasm bundle has taken over its islands.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
