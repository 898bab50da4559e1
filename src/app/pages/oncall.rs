//! `/oncall`: failed rotations first, then overdue ones, the longest broken
//! first. The queue refreshes itself (`?refresh=SECONDS`, default 30, `0`
//! to stop) without reloading the page, so scroll and focus stay put.

use crate::api::{get_oncall, Oncall, OncallRow};
use crate::app::components::actions::{ActionDone, SecretActions};
use crate::app::components::health::{FirstSync, SeverityBadge};
use crate::app::components::time::When;
use crate::app::error_text;
use crate::domain::diagnosis::Incident;
use crate::domain::health::RuleId;
use crate::domain::links::secret_href;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub const DEFAULT_REFRESH_SECS: u32 = 30;

#[component]
pub fn OncallPage() -> impl IntoView {
    let query = use_query_map();
    let every = move || {
        query
            .read()
            .get("refresh")
            .and_then(|v| v.parse::<u32>().ok())
            .map(|n| if n == 0 { 0 } else { n.max(5) })
            .unwrap_or(DEFAULT_REFRESH_SECS)
    };
    let data = Resource::new(|| (), |_| get_oncall());
    view! {
        <Title text="On-call"/>
        <h1>"On-call: failed and overdue rotations"</h1>
        <ActionDone/>
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Reading the rotation queue…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) if !d.ready => view! { <FirstSync/> }.into_any(),
                Ok(d) => view! { <OncallQueue initial=d every=every()/> }.into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The on-call queue could not be read: " {error_text(&e)}
                        " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The queue, hydrated in the browser to refresh itself every `every`
/// seconds (0: never) through the same server function.
#[island]
fn OncallQueue(initial: Oncall, every: u32) -> impl IntoView {
    let (data, set_data) = signal(initial);
    let (auto, set_auto) = signal(every > 0);
    let (busy, set_busy) = signal(false);
    let (failed, set_failed) = signal(None::<String>);
    let reload = move || {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match get_oncall().await {
                Ok(d) => {
                    set_data.set(d);
                    set_failed.set(None);
                }
                Err(e) => set_failed.set(Some(error_text(&e))),
            }
            set_busy.set(false);
        });
    };
    Effect::new(move |_| {
        if every == 0 {
            return;
        }
        let handle = set_interval_with_handle(
            move || {
                if auto.get_untracked() {
                    reload();
                }
            },
            std::time::Duration::from_secs(u64::from(every)),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    let status = move || {
        let d = data.get();
        let mut s = format!(
            "{} failed, {} overdue · as of {}",
            d.failed,
            d.overdue,
            d.now.display()
        );
        if d.suppressed > 0 {
            s.push_str(&format!(
                " · {} suppressed by tag (not listed)",
                d.suppressed
            ));
        }
        s
    };
    view! {
        <div class="queue-bar">
            <p class="count" role="status" data-testid="oncall-status">{status}</p>
            {(every > 0).then(|| view! {
                <label class="auto">
                    <input type="checkbox" prop:checked=move || auto.get()
                        on:change=move |ev| set_auto.set(event_target_checked(&ev))/>
                    {format!(" Refresh every {every} s")}
                </label>
            })}
            <button type="button" class="secondary" on:click=move |_| reload() disabled=move || busy.get()>
                {move || if busy.get() { "Refreshing…" } else { "Refresh now" }}
            </button>
        </div>
        {move || failed.get().map(|e| view! {
            <p class="error" role="alert">{format!("The last refresh failed: {e} Showing the previous result.")}</p>
        })}
        {move || {
            let d = data.get();
            if d.rows.is_empty() {
                view! {
                    <section class="empty" data-testid="oncall-empty">
                        <h2>"No failed or overdue rotations"</h2>
                        <p>"Every rotation that is switched on has finished within its window. This page keeps checking."</p>
                    </section>
                }.into_any()
            } else {
                let now = d.now;
                let cloudtrail = d.cloudtrail.clone();
                let incidents = incidents_of(&d);
                view! {
                    {cloudtrail.and_then(|c| c.err()).map(|e| view! {
                        <p class="warning">{format!("CloudTrail could not be read ({e}); failure messages are missing below.")}</p>
                    })}
                    {incidents}
                    <div class="table-wrap">
                        <table class="inventory oncall" data-testid="oncall">
                            <caption class="visually-hidden">"Failed rotations first, then overdue; longest broken first"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Problem"</th>
                                    <th scope="col">"Secret"</th>
                                    {d.rows.iter().any(|r| !r.actions.is_empty()).then(|| view! { <th scope="col">"Actions"</th> })}
                                    <th scope="col">"Broken since"</th>
                                    <th scope="col">"Owner"</th>
                                    <th scope="col">"Lambda"</th>
                                    <th scope="col">"Pending version"</th>
                                    <th scope="col">"Last success"</th>
                                    <th scope="col">"What happened"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {
                                    let acting = d.rows.iter().any(|r| !r.actions.is_empty());
                                    d.rows.into_iter().map(|r| view! { <QueueRow row=r now=now acting/> }).collect_view()
                                }
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }
        }}
    }
}

/// The queue's incidents, when it has any.
fn incidents_of(d: &Oncall) -> Option<impl IntoView> {
    let names: std::collections::HashMap<String, (String, String)> = d
        .rows
        .iter()
        .map(|r| (r.arn.clone(), (r.name.clone(), r.link.clone())))
        .collect();
    let (incidents, undiagnosed, now) = (d.incidents.clone(), d.undiagnosed, d.now);
    (!incidents.is_empty()).then(|| view! { <Incidents incidents names undiagnosed now/> })
}

/// The failed rotations grouped by shared cause: one broken Lambda, VPC,
/// key or role is one incident, however many secrets it takes down.
#[component]
fn Incidents(
    incidents: Vec<Incident>,
    names: std::collections::HashMap<String, (String, String)>,
    undiagnosed: usize,
    now: crate::domain::Timestamp,
) -> impl IntoView {
    let failures: usize = incidents.iter().map(|i| i.secrets.len()).sum();
    view! {
        <section class="incidents facts" aria-labelledby="incidents-h" data-testid="incidents">
            <h2 id="incidents-h">{format!("Incidents: {failures} rotations, {} causes", incidents.len())}</h2>
            <p class="muted small">"Failed rotations (and overdue ones whose function cannot run) grouped by what they share: one Lambda, VPC, key or role. Open one for its fix and the secrets it hit."</p>
            {(undiagnosed > 0).then(|| view! {
                <p class="muted" role="status">{format!("{undiagnosed} failures are still being diagnosed; they show under their Lambda until then. Refresh in a moment.")}</p>
            })}
            <ol>
                {incidents.into_iter().enumerate().map(|(i, inc)| {
                    let n = inc.secrets.len();
                    let slug = inc.cause.map(|c| c.slug()).unwrap_or("unexplained");
                    view! {
                        <li class="incident" id=format!("incident-{}", i + 1) data-cause=slug data-count=n.to_string()>
                            <details>
                                <summary>
                                    <strong>{inc.headline.clone()}</strong>
                                    {format!(" · {n} secret{} · since ", if n == 1 { "" } else { "s" })}
                                    <When at=inc.since now=now absent="unknown"/>
                                    <span class="mono small subject">{inc.subject.clone()}</span>
                                </summary>
                                {inc.fix.clone().map(|f| view! { <p class="fix"><strong>"Fix: "</strong>{f}</p> })}
                                <ul>
                                    {inc.secrets.iter().map(|arn| {
                                        let (name, link) = names.get(arn).cloned().unwrap_or_else(|| (arn.clone(), arn.clone()));
                                        view! { <li><a href=secret_href(&link)>{name}</a></li> }
                                    }).collect_view()}
                                </ul>
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn QueueRow(row: OncallRow, now: crate::domain::Timestamp, acting: bool) -> impl IntoView {
    let offers: Vec<_> = row
        .actions
        .iter()
        .filter(|o| o.unavailable.is_none())
        .cloned()
        .collect();
    let actions = acting.then(|| {
        let name = row.name.clone();
        view! { <td class="row-actions">{(!offers.is_empty()).then(|| view! { <SecretActions name offers compact=true/> })}</td> }
    });
    let attempt = row.failure.as_ref().map_or(0, |f| f.attempt);
    let problem = match (&row.failure, row.problem) {
        (Some(f), RuleId::RotationFailed) => f.headline(),
        (None, RuleId::RotationFailed) => "Rotation failed".to_string(),
        _ => "Overdue".to_string(),
    };
    let step = row.failure.as_ref().and_then(|f| f.step);
    // The rule's sentence already quotes a failure seen for this version.
    let failure = row
        .failure
        .clone()
        .filter(|f| f.message.as_deref().is_none_or(|m| !row.detail.contains(m)))
        .map(|f| {
            view! {
                <p class="failure">
                    <strong>"CloudTrail RotationFailed "</strong>
                    <When at=Some(f.at) now=now/>
                    {f.message.map(|m| view! { ": " <span class="msg">{m}</span> })}
                </p>
            }
        });
    let cause = row.cause.clone().map(|c| {
        view! {
            <p class="cause" data-testid="row-cause" data-cause=c.cause.map(|x| x.slug()).unwrap_or_default()>
                <strong>{c.cause.map_or("Diagnosis: ", |_| "Cause: ")}</strong>
                {c.cause.map(|x| format!("{}. ", x.headline()))}
                {c.evidence}
            </p>
            {c.fix.map(|f| view! { <p class="fix small"><strong>"Fix: "</strong>{f}</p> })}
        }
    });
    let guidance = step.map(|s| {
        view! {
            <details class="step-guidance" data-testid="step-guidance">
                <summary>{format!("What to check for {s}")}</summary>
                <p>{format!("{s} {}. {}", s.does(), s.guidance())}</p>
            </details>
        }
    });
    view! {
        <tr data-problem=row.problem.as_str() data-attempt=attempt.to_string()
            data-step=step.map(|s| s.as_str()).unwrap_or_default()>
            <td><SeverityBadge worst=Some(row.severity)/>" "{problem}</td>
            <th scope="row" class="name">
                <a href=secret_href(&row.link) title=row.arn.clone()>{row.name.clone()}</a>
                <div class="muted small">{format!("{} · {}", row.account, row.region)}</div>
            </th>
            {actions}
            <td><When at=row.since now=now absent="unknown"/></td>
            <td>{row.owner.unwrap_or_else(|| "no owner tag".to_string())}</td>
            <td class="mono" title=row.lambda_arn.clone().unwrap_or_default()>{row.lambda.unwrap_or_else(|| "—".to_string())}</td>
            <td>
                {match row.pending_version {
                    Some(v) => view! {
                        <code class="vid">{v}</code>
                        {row.pending_created.map(|t| view! { <div class="small">"created "<When at=Some(t) now=now/></div> })}
                    }.into_any(),
                    None => view! { <span class="muted">"none"</span> }.into_any(),
                }}
            </td>
            <td><When at=row.last_success now=now absent="never"/></td>
            <td class="desc">{row.detail}{failure}{cause}{guidance}</td>
        </tr>
    }
}
