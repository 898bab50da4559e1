//! Severity badges and links shared by the overview, the list, the folder
//! tree, the on-call queue and the detail page.

use crate::api::Count;
use crate::app::pages::inventory::ViewState;
use crate::domain::health::Severity;
use leptos::prelude::*;

/// The CSS class of a worst severity (`None`: healthy).
pub fn sev_class(worst: Option<Severity>) -> &'static str {
    match worst {
        Some(Severity::Critical) => "sev sev-critical",
        Some(Severity::High) => "sev sev-high",
        Some(Severity::Medium) => "sev sev-medium",
        Some(Severity::Low) => "sev sev-low",
        Some(Severity::Info) => "sev sev-info",
        None => "sev sev-ok",
    }
}

/// "critical" … "info", or "ok".
pub fn sev_word(worst: Option<Severity>) -> &'static str {
    worst.map_or("ok", Severity::as_str)
}

/// A badge with the severity's word (colour never carries it alone).
#[component]
pub fn SeverityBadge(worst: Option<Severity>) -> impl IntoView {
    view! { <span class=sev_class(worst)>{sev_word(worst)}</span> }
}

/// The inventory link that lists what a [`Count`] counts.
pub fn count_href(c: &Count) -> String {
    let v = ViewState {
        q: c.q.clone(),
        path: c.path.clone(),
        ..ViewState::default()
    };
    format!("/secrets{}", v.href())
}

/// A number that links to the secrets it counts; a zero is plain text.
#[component]
pub fn CountLink(count: Count, #[prop(optional)] label: String) -> impl IntoView {
    let n = count.count;
    if n == 0 {
        return view! { <span class="zero">"0"</span> }.into_any();
    }
    let title = if label.is_empty() {
        format!("List these {n} secrets")
    } else {
        format!("List these {n} secrets: {label}")
    };
    view! { <a href=count_href(&count) class="count-link" title=title data-q=count.q.clone()>{n}</a> }
        .into_any()
}

/// What a page says before the first sync has finished.
#[component]
pub fn FirstSync() -> impl IntoView {
    view! {
        <section class="empty">
            <h2>"The first sync is still running"</h2>
            <p>"secretscope is reading the secret list from Secrets Manager. Reload in a few seconds; the header shows any error."</p>
        </section>
    }
}
