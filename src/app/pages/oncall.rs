//! `/oncall`: failed rotations and overdue ones, one incident per line
//! (a card per incident on a phone). The order and the filters are in the
//! URL (`?order=newest|oldest|severity&env=&account=&owner=&incident=`, a
//! GET form); `incident=NAME` with `#incident-NAME` is what an alert links to. The
//! queue refreshes itself (`?refresh=SECONDS`, default 30, `0` to stop)
//! without reloading the page, so scroll and focus stay put.

use crate::api::{get_oncall_state, get_oncall_view, Oncall, OncallFacets, OncallRow};
use crate::app::components::actions::{ActionDone, SecretActions};
use crate::app::components::health::{FirstSync, SeverityBadge};
use crate::app::components::time::When;
use crate::app::error_text;
use crate::domain::diagnosis::Incident;
use crate::domain::health::RuleId;
use crate::domain::links::secret_href;
use crate::domain::oncall::{incident_id, OncallFilter, Order, NO_OWNER};
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
    let view_of = move || OncallFilter::from_query(|k| query.read().get(k));
    let data = Resource::new(view_of, get_oncall_view);
    view! {
        <Title text="On-call"/>
        <h1>"On-call: failed and overdue rotations"</h1>
        <ActionDone/>
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Reading the rotation queue…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) if !d.ready => view! { <FirstSync/> }.into_any(),
                Ok(d) => view! {
                    <ViewForm view=d.view.clone() facets=d.facets.clone() every=every()/>
                    <OncallQueue every=every() status=d.status() signature=d.signature() view=d.view.clone()>
                        {queue_body(d)}
                    </OncallQueue>
                }.into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The on-call queue could not be read: " {error_text(&e)}
                        " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The order and the filters: a GET form, so the view is a link to share.
#[component]
fn ViewForm(view: OncallFilter, facets: OncallFacets, every: u32) -> impl IntoView {
    let select = |name: &'static str,
                  label: &'static str,
                  values: Vec<(String, usize)>,
                  chosen: Option<String>| {
        let total: usize = values.iter().map(|(_, n)| n).sum();
        view! {
            <label>{label}
                <select name=name>
                    <option value="" selected=chosen.is_none()>{format!("All ({total})")}</option>
                    {values.into_iter().map(|(v, n)| {
                        let shown = if name == "owner" && v == NO_OWNER { "no owner known".to_string() } else { v.clone() };
                        let selected = chosen.as_deref() == Some(v.as_str());
                        view! { <option value=v selected=selected>{format!("{shown} ({n})")}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
        .into_any()
    };
    let only = view.secret.clone().map(|s| {
        let whole = format!("/oncall{}", view.query_string(false));
        view! {
            <p class="notice" role="status" data-testid="oncall-only">
                {format!("Showing {s} only, as the alert linked. ")}
                <a href=whole>"Show the whole queue"</a>
            </p>
        }
    });
    view! {
        <form class="oncall-view" method="get" action="/oncall" role="search" aria-label="Order and filter the queue" data-testid="oncall-view">
            <label>"Order"
                <select name="order">
                    {Order::ALL.into_iter().map(|o| view! {
                        <option value=o.as_str() selected=view.order == o>{o.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            {select("env", "Environment", facets.envs, view.env.clone())}
            {select("account", "Account", facets.accounts, view.account.clone())}
            {select("owner", "Owner", facets.owners, view.owner.clone())}
            {view.secret.clone().map(|s| view! { <input type="hidden" name="incident" value=s/> })}
            {(every != DEFAULT_REFRESH_SECS).then(|| view! { <input type="hidden" name="refresh" value=every.to_string()/> })}
            <button type="submit" class="secondary">"Show"</button>
            {view.is_filtered().then(|| view! { <a href="/oncall">"Clear filters"</a> })}
        </form>
        {only}
    }
}

/// The queue's bar, live in the browser: every `every` seconds (0: never)
/// it asks whether the queue in this view has changed, and says so with a
/// button that shows the new queue. The queue itself (`children`) is
/// rendered on the server: rows never move under a finger about to press
/// one, and the browser bundle carries none of the queue's views.
#[island]
fn OncallQueue(
    every: u32,
    status: String,
    signature: String,
    view: OncallFilter,
    children: Children,
) -> impl IntoView {
    let (auto, set_auto) = signal(every > 0);
    let (busy, set_busy) = signal(false);
    let (failed, set_failed) = signal(None::<String>);
    let (status, set_status) = signal(status);
    let (changed, set_changed) = signal(false);
    let view = StoredValue::new(view);
    let signature = StoredValue::new(signature);
    let check = move || {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let v = view.get_value();
            let asked = get_oncall_state(
                Some(v.order.as_str().to_string()),
                v.env,
                v.account,
                v.owner,
                v.secret,
            );
            match asked.await {
                Ok(st) => {
                    set_changed.set(signature.with_value(|s| *s != st.signature));
                    set_status.set(st.status);
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
                    check();
                }
            },
            std::time::Duration::from_secs(u64::from(every)),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    // The page again, in the same view (the URL keeps order, filters and
    // the incident's anchor).
    let show = move |_| {
        let _ = window().location().reload();
    };
    view! {
        <div class="queue-bar">
            <p class="count" role="status" data-testid="oncall-status">{status}</p>
            {(every > 0).then(|| view! {
                <label class="auto">
                    <input type="checkbox" prop:checked=move || auto.get()
                        on:change=move |ev| set_auto.set(event_target_checked(&ev))/>
                    {format!(" Check every {every} s")}
                </label>
            })}
            <button type="button" class="secondary" on:click=show>"Refresh now"</button>
        </div>
        <p class="notice" role="status" data-testid="oncall-changed" hidden=move || !changed.get()>
            "The queue has changed since this page was shown. "
            <button type="button" on:click=show>"Show the new queue"</button>
        </p>
        {move || failed.get().map(|e| view! {
            <p class="error" role="alert">{format!("The last check failed: {e} The queue below is as it was.")}</p>
        })}
        {children()}
    }
}

/// The queue's table (or why it is empty) and the causes below it.
fn queue_body(d: Oncall) -> AnyView {
    if d.rows.is_empty() {
        let filtered = d.view.is_filtered();
        view! {
                    <section class="empty" data-testid="oncall-empty">
                        {if filtered {
                            view! {
                                <h2>"Nothing failed or overdue in this view"</h2>
                                <p>"The filters leave nothing out of the queue. "<a href="/oncall">"Show the whole queue"</a></p>
                            }.into_any()
                        } else {
                            view! {
                                <h2>"No failed or overdue rotations"</h2>
                                <p>"Every rotation that is switched on has finished within its window. This page keeps checking."</p>
                            }.into_any()
                        }}
                    </section>
                }.into_any()
    } else {
        let now = d.now;
        let cloudtrail = d.cloudtrail.clone();
        let incidents = incidents_of(&d);
        let acting = d.rows.iter().any(|r| !r.actions.is_empty());
        let caption = format!(
            "{}; failed rotations before overdue ones",
            d.view.order.label()
        );
        view! {
                    {cloudtrail.and_then(|c| c.err()).map(|e| view! {
                        <p class="warning cloudtrail">{format!("CloudTrail could not be read ({e}); failure messages are missing below.")}</p>
                    })}
                    <div class="table-wrap">
                        <table class="oncall" data-testid="oncall">
                            <caption class="visually-hidden">{caption}</caption>
                            <thead>
                                <tr>
                                    <th scope="col" class="problem">"Problem"</th>
                                    <th scope="col" class="secret">"Secret"</th>
                                    <th scope="col" class="since">"Broken since"</th>
                                    <th scope="col" class="owner">"Owner"</th>
                                    {acting.then(|| view! { <th scope="col" class="acts">"Actions"</th> })}
                                    <th scope="col" class="what">"What happened"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {d.rows.into_iter().map(|r| view! { <QueueRow row=r now=now acting/> }.into_any()).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {incidents}
                }.into_any()
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
        <section class="incidents facts" id="causes" aria-labelledby="incidents-h" data-testid="incidents">
            <h2 id="incidents-h">{format!("By cause: {failures} rotations, {} causes", incidents.len())}</h2>
            <p class="muted small">"Failed rotations (and overdue ones whose function cannot run) grouped by what they share: one Lambda, VPC, key or role. Open one for its fix and the secrets it hit."</p>
            {(undiagnosed > 0).then(|| view! {
                <p class="muted" role="status">{format!("{undiagnosed} failures are still being diagnosed; they show under their Lambda until then. Refresh in a moment.")}</p>
            })}
            <ol>
                {incidents.into_iter().enumerate().map(|(i, inc)| {
                    let n = inc.secrets.len();
                    let slug = inc.cause.map(|c| c.slug()).unwrap_or("unexplained");
                    view! {
                        <li class="cause-group" id=format!("cause-{}", i + 1) data-cause=slug data-count=n.to_string()>
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

/// One incident: a line at desk widths (a card on a phone), the long
/// story behind "What happened".
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
    // The one line: CloudTrail's message when there is one, else the rule's sentence.
    let brief = row
        .failure
        .as_ref()
        .and_then(|f| f.message.clone())
        .unwrap_or_else(|| row.detail.clone());
    let guidance = step.map(|s| {
        view! {
            <details class="step-guidance" data-testid="step-guidance">
                <summary>{format!("What to check for {s}")}</summary>
                <p>{format!("{s} {}. {}", s.does(), s.guidance())}</p>
            </details>
        }
    });
    let owner = row
        .owner
        .clone()
        .unwrap_or_else(|| "no owner tag".to_string());
    let owner_title = owner.clone();
    let brief_title = brief.clone();
    let story = story(&row, now).into_any();
    let guidance = guidance.map(|g| g.into_any());
    let actions = actions.map(|a| a.into_any());
    view! {
        <tr class="incident" id=incident_id(&row.link) data-problem=row.problem.as_str() data-attempt=attempt.to_string()
            data-step=step.map(|s| s.as_str()).unwrap_or_default() data-severity=row.severity.as_str()
            data-env=row.env.clone().unwrap_or_default() data-account=row.account.clone()>
            <td class="problem"><SeverityBadge worst=Some(row.severity)/>" "{problem}</td>
            <th scope="row" class="name">
                <a href=secret_href(&row.link) title=row.arn.clone()>{row.name.clone()}</a>
                <span class="where muted small">{format!("{} · {}", row.account, row.region)}</span>
            </th>
            <td class="since"><span class="cell-label">"Since "</span><When at=row.since now=now absent="unknown"/></td>
            <td class="owner" title=owner_title><span class="cell-label">"Owner "</span>{owner}</td>
            {actions}
            <td class="what">
                <details class="what-happened">
                    <summary title=brief_title><span class="clip">{brief}</span></summary>
                    {story}
                </details>
                {guidance}
            </td>
        </tr>
    }
}

/// Everything behind an incident's one line: the rule's sentence, the
/// CloudTrail failure, the diagnosis, the Lambda and versions.
fn story(row: &OncallRow, now: crate::domain::Timestamp) -> impl IntoView {
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
    let pending = match row.pending_version.clone() {
        Some(v) => view! {
            <code class="vid">{v}</code>
            {row.pending_created.map(|t| view! { " created " <When at=Some(t) now=now/> })}
        }
        .into_any(),
        None => view! { <span class="muted">"none"</span> }.into_any(),
    };
    view! {
        <div class="story">
            <p class="detail">{row.detail.clone()}</p>
            {failure.map(|f| f.into_any())}
            {cause.map(|c| c.into_any())}
            <dl class="facts-inline">
                <dt>"Lambda"</dt>
                <dd class="mono" title=row.lambda_arn.clone().unwrap_or_default()>{row.lambda.clone().unwrap_or_else(|| "—".to_string())}</dd>
                <dt>"Pending version"</dt><dd>{pending}</dd>
                <dt>"Last success"</dt><dd><When at=row.last_success now=now absent="never"/></dd>
            </dl>
        </div>
    }
}
