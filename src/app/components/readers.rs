//! Who reads a secret, from CloudTrail's GetSecretValue events: the
//! "Readers" section of a secret's page, and the brief the action and
//! approval dialogs show (who read it in the last day, who failed to read
//! it since its deletion was scheduled, whether a principal already reads
//! it).
//!
//! Both ask from the browser once they are on screen (the page never waits
//! for CloudTrail) and, while a long history is still paging in, ask again
//! every second until the lookup is done. What they show is rendered on the
//! server (`readers_view`, see `fragment` for why); the browser only asks,
//! follows and swaps it in.

use crate::api::BriefFocus;
use crate::app::components::fragment::{follow, Fragment};
use leptos::prelude::*;

/// The "Readers" section of secret `id` (a name or ARN), rendered on the
/// server from `api::get_readers` (which checks the session and the
/// secret's scope); `refresh` reads CloudTrail again.
#[server(endpoint = "readers_fragment")]
pub async fn readers_fragment(id: String, refresh: bool) -> Result<Fragment, ServerFnError> {
    let v = crate::api::get_readers(id, refresh).await?;
    Ok(super::readers_view::page(v))
}

/// A dialog's brief of the readers of secret `id` for `focus`, rendered on
/// the server from `api::get_readers_brief` (which checks the session and
/// the secret's scope).
#[server(endpoint = "readers_brief_fragment")]
pub async fn readers_brief_fragment(
    id: String,
    focus: BriefFocus,
) -> Result<Fragment, ServerFnError> {
    let b = crate::api::get_readers_brief(id, focus.clone()).await?;
    Ok(super::readers_view::brief(&focus, b))
}

/// The "Readers" section of secret `id` (a name or ARN): read from the
/// browser once the page is up, followed while CloudTrail pages in.
#[island]
pub fn SecretReaders(id: String) -> impl IntoView {
    let (f, ask) = follow(move |refresh| readers_fragment(id.clone(), refresh));
    let (idle, loading) = (f.idle(), f.loading());
    view! {
        <section class="facts readers" aria-labelledby="readers-h" data-testid="readers">
            <div class="readers-head">
                <h2 id="readers-h">"Readers"</h2>
                <button type="button" class="secondary" data-testid="readers-refresh"
                    disabled=move || !idle() on:click=move |_| ask(true)>
                    {move || if idle() { "Refresh" } else { "Reading…" }}
                </button>
            </div>
            <p role="status" aria-live="polite" class="small" data-testid="readers-status"
                data-loading=move || loading().to_string()>
                {move || f.data.with(|d| match d {
                    Some(x) => x.status.clone(),
                    None => "Asking CloudTrail who reads this secret…".to_string(),
                })}
            </p>
            {move || f.error.get().map(|e| view! {
                <p class="error" role="alert">"The readers could not be read: "{e}</p>
            })}
            <div class="readers-body" inner_html=f.html()></div>
        </section>
    }
}

/// The readers a dialog shows for secret `id` (roll back, cancel and
/// retry: who read it in the last day; restore: who failed to read it
/// since the deletion; approving access: whether the principal already
/// reads it), followed while CloudTrail pages in.
#[component]
pub fn ReadersBrief(id: String, focus: BriefFocus) -> impl IntoView {
    let slug = match &focus {
        BriefFocus::LastDay => "last-day",
        BriefFocus::SinceDeletion => "since-deletion",
        BriefFocus::Principal(_) => "principal",
    };
    let (f, _) = follow(move |_| readers_brief_fragment(id.clone(), focus.clone()));
    let loading = f.loading();
    view! {
        <section class="readers-brief" aria-labelledby="readers-brief-h" data-testid="readers-brief" data-focus=slug
            data-loading=move || loading().to_string()>
            <h3 id="readers-brief-h">{move || f.data.with(|d| match d {
                Some(x) => x.heading.clone(),
                None => "Who reads it".to_string(),
            })}</h3>
            <p role="status" aria-live="polite" class="muted small">{move || f.data.with(|d| match d {
                Some(x) => x.status.clone(),
                None => "Asking CloudTrail who reads this secret…".to_string(),
            })}</p>
            {move || f.error.get().map(|e| view! { <p class="error" role="alert">"Readers could not be read: "{e}</p> })}
            <div inner_html=f.html()></div>
        </section>
    }
}
