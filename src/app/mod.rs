//! Leptos pages and components: rendering only, no business rules.
//!
//! Pages render on the server (and work without JavaScript); only components
//! marked `#[island]` are hydrated in the browser.

pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, WildcardSegment};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/secretscope.css"/>
        // leptos_meta writes the title into the head unescaped, and pages put
        // request data (a secret's name from the path) in it: escape it here,
        // where every page's title passes.
        <Title formatter=|t: String| if t.is_empty() { "secretscope".to_string() } else { format!("{} · secretscope", crate::domain::html::escape(&t)) }/>
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <components::header::Header/>
            <components::keys::Shortcuts/>
            <main id="main">
                <Routes fallback=pages::not_found::NotFound>
                    // Async: the whole page is rendered on the server before it is
                    // sent, so it is complete without JavaScript.
                    <Route path=StaticSegment("") view=pages::overview::OverviewPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("oncall") view=pages::oncall::OncallPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("secrets") view=pages::inventory::InventoryPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("requests") view=pages::requests::RequestsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("requests"), StaticSegment("new")) view=pages::requests::NewRequestPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("sources") view=pages::sources::SourcesPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("secret"), WildcardSegment("name")) view=pages::secret::SecretPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// A part of an island's view, type-erased on the server only. The server
/// erases it because a deep static view makes a render future too deep for a
/// debug build's stack; the browser keeps its type because an `AnyView`
/// compiles a second, asynchronous hydration of the whole view into the
/// wasm bundle (bench/RESULTS.md, the wasm bundle). The HTML is the same.
#[cfg(feature = "ssr")]
pub fn part(v: impl IntoView + 'static) -> AnyView {
    v.into_any()
}

#[cfg(not(feature = "ssr"))]
pub fn part<V: IntoView>(v: V) -> V {
    v
}

/// The message of a server function error, without the framework's prefix.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}
