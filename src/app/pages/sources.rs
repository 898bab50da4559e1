//! `/sources` (admins): every account × region read, with its own sync
//! health: last success, last error (a sentence saying what to fix), how
//! long its pass took, how many secrets, and the AWS calls it made.

use crate::api::{list_sources, SourceList, SourceRow};
use crate::app::components::time::When;
use crate::app::error_text;
use crate::domain::time::span;
use crate::domain::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SourcesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_sources());
    view! {
        <Title text="Sources"/>
        <h1>"Sources: accounts and regions"</h1>
        <p class="muted">
            "Each source is one account (the dashboard's own credentials, or a role it assumes) in one region, "
            "synced on its own schedule. A failing source keeps the secrets it last read; the others carry on."
        </p>
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Reading the sources…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(list) => view! { <SourceTable list/> }.into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The sources could not be read: " {error_text(&e)}</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn SourceTable(list: SourceList) -> impl IntoView {
    let now = list.now;
    let failing = list.rows.iter().filter(|r| r.last_error.is_some()).count();
    let listed = list.rows.iter().filter_map(|r| r.secrets).sum::<usize>();
    let unread = list.rows.iter().filter(|r| r.secrets.is_none()).count();
    let summary = format!(
        "{} sources · {} failing · {} secrets",
        list.rows.len(),
        failing,
        list.secrets
    );
    // The sources' own counts include replicas; the inventory counts a
    // replica once, at its primary.
    let mut reconcile = format!("The sources listed {listed} secrets");
    if list.replicas > 0 {
        reconcile.push_str(&format!(
            ": {} secrets and {} replicas, counted once at their primary (as the header and the overview count)",
            list.secrets, list.replicas
        ));
    }
    reconcile.push('.');
    if unread > 0 {
        reconcile.push_str(&format!(
            " {unread} source{} never read: {} secrets are not counted anywhere until it is.",
            if unread == 1 { " was" } else { "s were" },
            if unread == 1 { "its" } else { "their" }
        ));
    }
    let rows: Vec<_> = list.rows.into_iter().map(|r| source_row(r, now)).collect();
    view! {
        <p role="status" data-testid="sources-summary">{summary}</p>
        <p class="muted small" data-testid="sources-reconcile">{reconcile}</p>
        <div class="table-wrap">
            <table class="sources" data-testid="sources">
                <caption class="visually-hidden">"Sources and their sync health"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Region"</th>
                        <th scope="col">"Credentials"</th>
                        <th scope="col">"Health"</th>
                        <th scope="col">"Last success"</th>
                        <th scope="col">"Secrets"</th>
                        <th scope="col">"Pass took"</th>
                        <th scope="col">"Passes ok / failed"</th>
                        <th scope="col">"AWS calls"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn source_row(r: SourceRow, now: Timestamp) -> impl IntoView {
    let stale = r.stale(now);
    let (class, label) = match (&r.last_error, r.last_success) {
        (Some(_), _) => ("sev sev-high", "Failing"),
        (None, None) if r.last_attempt.is_some() => ("sev sev-info", "First pass running"),
        (None, None) => ("sev sev-info", "Not read yet"),
        (None, Some(_)) if stale => ("sev sev-medium", "Stale"),
        (None, Some(_)) => ("sev sev-ok", "OK"),
    };
    let credentials = match &r.role_arn {
        Some(role) => view! { <span>"assumes "<code>{role.clone()}</code></span> }.into_any(),
        None => view! { <span>"the dashboard's own"</span> }.into_any(),
    };
    let error = r.last_error.clone().map(|e| {
        view! {
            <p class="source-error" data-testid="source-error">
                {e}" "<When at=r.last_error_at now/>
            </p>
        }
    });
    let every = format!("every {}", span(r.interval_secs as i64));
    let mode = r.sync_mode.clone().map(|m| {
        view! { <br/><span class="muted small" data-testid="source-sync-mode">{m}</span> }
    });
    let calls = if r.throttled > 0 {
        format!("{} ({} throttled)", r.api_calls, r.throttled)
    } else {
        r.api_calls.to_string()
    };
    view! {
        <tr data-testid="source-row" data-source=r.id.clone()>
            <th scope="row">{r.name.clone()}<br/><span class="muted small">{every}</span>{mode}</th>
            <td>{r.account.clone().unwrap_or_else(|| "not known yet".into())}</td>
            <td>{r.region.clone()}</td>
            <td>{credentials}</td>
            <td><span class=class>{label}</span>{error}</td>
            <td><When at=r.last_success now absent="never"/></td>
            <td>{r.secrets.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td>{r.duration_ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0)).unwrap_or_else(|| "—".into())}</td>
            <td>{format!("{} / {}", r.syncs_ok, r.syncs_failed)}</td>
            <td>{calls}</td>
        </tr>
    }
}
