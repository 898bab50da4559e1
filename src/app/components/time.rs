use crate::domain::Timestamp;
use leptos::prelude::*;

/// A date shown relative to the server's `now`, with the exact time in a
/// machine-readable attribute and a tooltip. "—" when unknown.
#[component]
pub fn When(
    at: Option<Timestamp>,
    now: Timestamp,
    #[prop(optional)] absent: Option<&'static str>,
) -> impl IntoView {
    match at {
        Some(t) => view! {
            <time datetime=t.rfc3339() title=t.display()>{t.relative(now)}</time>
        }
        .into_any(),
        None => view! { <span class="muted">{absent.unwrap_or("—")}</span> }.into_any(),
    }
}
