//! `/requests`: your access requests and those waiting for your decision;
//! `/requests/new`: ask for access to any secret you can see.

use crate::api::list_requests;
use crate::app::components::requests::{RequestAccessForm, RequestLists, RequestsBoard};
use crate::app::error_text;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn done_text(status: &str, id: &str) -> Option<String> {
    Some(match status {
        "active" => format!("Request {id} approved: the statement is in the secret's resource policy, and ends by itself."),
        "approved" => format!("Request {id} approved. Grants are off here: add the access by hand."),
        "failed" => format!("Request {id} approved, but the grant could not be applied: see its comment below."),
        "denied" => format!("Request {id} denied; the requester sees your reason."),
        "revoked" => format!("Request {id} revoked: its statement is gone from the resource policy."),
        _ => return None,
    })
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(|| (), |_| list_requests());
    let done = move || {
        let q = query.read();
        done_text(&q.get("done")?, &q.get("id").unwrap_or_default())
    };
    view! {
        <Title text="Access requests"/>
        <h1>"Access requests"</h1>
        <p><a href="/requests/new">"Ask for access to a secret"</a></p>
        {move || done().map(|t| view! { <p class="notice" role="status" data-testid="request-done">{t}</p> })}
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Reading the requests…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(page) => view! { <RequestsBoard><RequestLists page/></RequestsBoard> }.into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The requests could not be read: " {error_text(&e)} " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn NewRequestPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_requests());
    view! {
        <Title text="Ask for access"/>
        <p class="crumbs"><a href="/requests">"Access requests"</a></p>
        <h1>"Ask for access to a secret"</h1>
        <p class="muted">"The secret's owner (named by its owner tag or its description), or an admin, decides. The value itself is never shown here: the principal reads it from AWS."</p>
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(page) => view! {
                    <RequestAccessForm secret=String::new() deciders="the secret's owner, or an admin".to_string()
                        max_duration=page.max_duration/>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
            })}
        </Suspense>
    }
}
