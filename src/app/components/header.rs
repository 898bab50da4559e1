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
                {me.is_admin.then(|| view! { <a href="/sources">"Sources"</a> })}
            </nav>
            <form class="user" method="post" action="/logout">
                <span title=format!("Your grants: {roles}")>{me.name.clone()}</span>
                <button type="submit" class="link">"Sign out"</button>
            </form>
            <div class="sync" role="status" aria-live="polite" data-testid="sync-status"
                title="Since the stalest source's last successful pass: a full list, or CloudTrail's write events (CloudTrail itself may deliver them minutes late)">
                <Suspense fallback=|| view! { <span class="muted">"Checking sync…"</span> }>
                    {move || info.get().map(|r| match r {
                        Ok(i) => {
                            let mut age = match i.taken_at {
                                Some(t) => format!("Synced {} ago · {} secrets", span(i.now.secs() - t.secs()), i.secrets),
                                None => "First sync in progress…".to_string(),
                            };
                            if i.sources > 1 {
                                age.push_str(&format!(" · {} of {} sources", i.sources - i.failing.len(), i.sources));
                            }
                            let versions = (i.versions_missing > 0 && i.taken_at.is_some())
                                .then(|| format!(" · fetching version dates for {} secrets", i.versions_missing));
                            let error = if i.sources > 1 {
                                (!i.failing.is_empty()).then(|| failing_sources(&i)).map(|v| v.into_any())
                            } else {
                                i.last_error.clone().map(|e| view! {
                                    <p class="sync-error" role="alert">
                                        <strong>"Last sync failed: "</strong>{e}
                                        {i.taken_at.map(|_| " Showing the last good data.")}
                                    </p>
                                }.into_any())
                            };
                            view! {
                                <span title=i.source.clone()>{age}{versions}</span>
                                {error}
                            }.into_any()
                        }
                        Err(e) => view! { <span class="sync-error" role="alert">{format!("Sync status unavailable: {e}")}</span> }.into_any(),
                    })}
                </Suspense>
            </div>
            {me.scoped.then(|| scope_notice(&me.grants))}
    }
}

/// Says that a scoped user's pages show part of the inventory, which part,
/// and who decided it: every count they see is of that part only.
fn scope_notice(grants: &[String]) -> impl IntoView {
    view! {
        <p class="scope-notice" role="note" data-testid="scope-notice">
            <strong>"Limited view: "</strong>
            {format!(
                "you see only the secrets your grants cover ({}), as an admin configured them. \
                 Every count and list here is of those secrets, not the whole organisation; \
                 ask an admin to widen it.",
                grants.join("; ")
            )}
        </p>
    }
}

/// Each failing source with the first sentence of its error (the whole of
/// it is on `/sources`), and how old its secrets are: the others' are current.
fn failing_sources(i: &crate::api::SyncInfo) -> impl IntoView {
    let now = i.now;
    let items: Vec<_> = i
        .failing
        .iter()
        .map(|f| {
            let first = f.error.split_inclusive(". ").next().unwrap_or(&f.error).trim_end().to_string();
            let data = match f.last_success {
                Some(t) => format!(" Its secrets are as read {} ago.", span(now.secs() - t.secs())),
                None => " None of its secrets are shown yet.".to_string(),
            };
            view! { " " <strong>{f.id.clone()}</strong>": " <span title=f.error.clone()>{first}</span>{data} }
        })
        .collect();
    let n = i.failing.len();
    view! {
        <p class="sync-error" data-testid="failing-sources">
            <strong>{format!("{n} of {} sources failing.", i.sources)}</strong>
            {items}
            {i.sees_sources.then(|| view! { " " <a href="/sources">"See every source"</a> })}
        </p>
    }
}
