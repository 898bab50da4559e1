use crate::api::{get_me, get_sync_info, Me};
use crate::domain::time::span;
use leptos::prelude::*;

/// Site header: name, navigation, and how old the data is (on every page).
#[component]
pub fn Header() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <header class="site">
            <a class="brand" href="/">"secretscope"</a>
            <Suspense fallback=|| ()>
                {move || me.get().map(|r| match r {
                    Ok(Some(me)) => view! { <SignedIn me/> }.into_any(),
                    // Anonymous (the login page) or the store is down: no
                    // navigation and no inventory facts.
                    _ => ().into_any(),
                })}
            </Suspense>
        </header>
    }
}

/// Navigation, sync status and the user menu of a signed-in user.
#[component]
fn SignedIn(me: Me) -> impl IntoView {
    let info = Resource::new(|| (), |_| get_sync_info());
    let roles = me.grants.join(", ");
    view! {
            <nav aria-label="Main">
                <a href="/">"Overview"</a>
                <a href="/secrets">"Inventory"</a>
                <a href="/oncall">"On-call"</a>
                <a href="/requests">"Requests"</a>
                <a href="/audit">"Audit"</a>
            </nav>
            <form class="user" method="post" action="/logout">
                <span title=format!("Your grants: {roles}")>{me.name.clone()}</span>
                <button type="submit" class="link">"Sign out"</button>
            </form>
            <div class="sync" role="status" aria-live="polite" data-testid="sync-status">
                <Suspense fallback=|| view! { <span class="muted">"Checking sync…"</span> }>
                    {move || info.get().map(|r| match r {
                        Ok(i) => {
                            let age = match i.taken_at {
                                Some(t) => format!("Synced {} ago · {} secrets", span(i.now.secs() - t.secs()), i.secrets),
                                None => "First sync in progress…".to_string(),
                            };
                            let versions = (i.versions_missing > 0 && i.taken_at.is_some())
                                .then(|| format!(" · fetching version dates for {} secrets", i.versions_missing));
                            let error = i.last_error.clone().map(|e| view! {
                                <p class="sync-error" role="alert">
                                    <strong>"Last sync failed: "</strong>{e}
                                    {i.taken_at.map(|_| " Showing the last good data.")}
                                </p>
                            });
                            view! {
                                <span title=i.source.clone()>{age}{versions}</span>
                                {error}
                            }.into_any()
                        }
                        Err(e) => view! { <span class="sync-error" role="alert">{format!("Sync status unavailable: {e}")}</span> }.into_any(),
                    })}
                </Suspense>
            </div>
    }
}
