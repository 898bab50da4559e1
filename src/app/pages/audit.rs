//! `/audit`: the audit trail, newest first, filtered by actor, action,
//! target, outcome and time range. Every filter lives in the URL, so a link
//! shows the same records; the CSV link exports every page of them.

use crate::api::{get_audit, AuditList, AuditRow};
use crate::app::components::time::When;
use crate::app::error_text;
use crate::domain::audit::{AuditAction, AuditQuery, Outcome};
use crate::domain::links::query_value;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The query string for `q` at `page` (empty fields and page 1 left out).
pub fn audit_query_string(q: &AuditQuery, page: u32) -> String {
    let mut parts: Vec<String> = q
        .fields()
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", query_value(v)))
        .collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    parts.join("&")
}

fn href(path: &str, q: &AuditQuery, page: u32) -> String {
    let qs = audit_query_string(q, page);
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "allowed" => "sev sev-ok",
        "denied" => "sev sev-high",
        _ => "sev sev-critical",
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let state = move || {
        let m = query.read();
        let get = |k: &str| m.get(k).unwrap_or_default();
        let q = AuditQuery {
            actor: get("actor"),
            action: get("action"),
            target: get("target"),
            outcome: get("outcome"),
            from: get("from"),
            to: get("to"),
        };
        let page = m.get("page").and_then(|p| p.parse().ok()).unwrap_or(1u32);
        (q, page.max(1))
    };
    let data = Resource::new(state, |(q, page)| {
        get_audit(q.actor, q.action, q.target, q.outcome, q.from, q.to, page)
    });
    view! {
        <Title text="Audit trail"/>
        <h1>"Audit trail"</h1>
        {move || {
            let (q, _) = state();
            view! { <Filters q/> }
        }}
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Reading the audit trail…"</p> }>
            {move || data.get().map(|r| {
                let (q, _) = state();
                match r {
                    Ok(list) => view! { <Records list q/> }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert" data-testid="audit-error">
                            {error_text(&e)}
                        </p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The filter form: a plain GET form, so it works without JavaScript and
/// its result is a link.
#[component]
fn Filters(q: AuditQuery) -> impl IntoView {
    let action_options = AuditAction::ALL.map(|a| {
        let v = a.as_str();
        view! { <option value=v selected=q.action == v>{v}</option> }
    });
    let outcome_options = Outcome::ALL.map(|o| {
        let v = o.as_str();
        view! { <option value=v selected=q.outcome == v>{v}</option> }
    });
    let filtered = !q.is_empty();
    view! {
        <form class="audit-filters" method="get" action="/audit" role="search" aria-label="Filter the audit trail">
            <div class="field">
                <label for="f-actor">"Actor"</label>
                <input id="f-actor" name="actor" type="text" value=q.actor.clone()
                    autocomplete="off" spellcheck="false" aria-describedby="f-actor-hint"/>
                <small id="f-actor-hint">"Exact user name"</small>
            </div>
            <div class="field">
                <label for="f-action">"Action"</label>
                <select id="f-action" name="action">
                    <option value="" selected=q.action.is_empty()>"Any"</option>
                    {action_options}
                </select>
            </div>
            <div class="field">
                <label for="f-target">"Target contains"</label>
                <input id="f-target" name="target" type="text" value=q.target.clone()
                    autocomplete="off" spellcheck="false" aria-describedby="f-target-hint"/>
                <small id="f-target-hint">"Secret, user or path; any case"</small>
            </div>
            <div class="field">
                <label for="f-outcome">"Outcome"</label>
                <select id="f-outcome" name="outcome">
                    <option value="" selected=q.outcome.is_empty()>"Any"</option>
                    {outcome_options}
                </select>
            </div>
            <div class="field">
                <label for="f-from">"From"</label>
                <input id="f-from" name="from" type="text" value=q.from.clone()
                    placeholder="2026-11-01" autocomplete="off" aria-describedby="f-time-hint"/>
            </div>
            <div class="field">
                <label for="f-to">"To (included)"</label>
                <input id="f-to" name="to" type="text" value=q.to.clone()
                    placeholder="2026-11-23T18:00" autocomplete="off" aria-describedby="f-time-hint"/>
            </div>
            <div class="field actions">
                <button type="submit">"Apply"</button>
                {filtered.then(|| view! { <a href="/audit">"Clear filters"</a> })}
            </div>
            <small id="f-time-hint" class="hint">"Times are UTC: a day (2026-11-23), a minute (2026-11-23T07:30) or RFC 3339."</small>
        </form>
    }
}

#[component]
fn Records(list: AuditList, q: AuditQuery) -> impl IntoView {
    let now = list.now;
    let pages = list.pages();
    let first = u64::from(list.page - 1) * u64::from(list.per_page) + 1;
    let last = first + list.rows.len() as u64 - 1;
    let at_least = if list.exact { "" } else { "at least " };
    let count = if list.rows.is_empty() {
        format!("No records on this page; {at_least}{} match.", list.total)
    } else {
        format!(
            "Records {first}–{last} of {at_least}{}, newest first.",
            list.total
        )
    };
    let export = href("/export/audit.csv", &q, 1);
    let prev = (list.page > 1).then(|| href("/audit", &q, list.page - 1));
    let next = (list.page < pages || (!list.exact && !list.rows.is_empty()))
        .then(|| href("/audit", &q, list.page + 1));
    let pager = (prev.is_some() || next.is_some()).then(|| {
        let page_of = if list.exact {
            format!("Page {} of {pages}", list.page)
        } else {
            format!("Page {}", list.page)
        };
        view! {
            <nav class="pager" aria-label="Pages">
                {match prev {
                    Some(h) => view! { <a href=h rel="prev">"← Newer"</a> }.into_any(),
                    None => view! { <span class="muted" aria-disabled="true">"← Newer"</span> }.into_any(),
                }}
                <span>{page_of}</span>
                {match next {
                    Some(h) => view! { <a href=h rel="next">"Older →"</a> }.into_any(),
                    None => view! { <span class="muted" aria-disabled="true">"Older →"</span> }.into_any(),
                }}
            </nav>
        }
    });
    let empty = list.total == 0;
    let filtered = !q.is_empty();
    view! {
        {list.reach.map(|r| view! { <p class="muted" data-testid="audit-reach">{r}</p> })}
        <div class="queue-bar">
            <p class="count" role="status" data-testid="audit-count">{count}</p>
            {(!empty).then(|| view! {
                <a class="button secondary" href=export download="">"Download CSV"</a>
            })}
        </div>
        {if empty {
            view! {
                <section class="empty" data-testid="audit-empty">
                    <h2>"No records"</h2>
                    <p>{if filtered {
                        "Nothing in the trail matches these filters. Widen the time range or clear a filter."
                    } else {
                        "Nothing you may see has been recorded yet."
                    }}</p>
                </section>
            }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="inventory audit" data-testid="audit">
                        <caption class="visually-hidden">"Audit records, newest first"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Time"</th>
                                <th scope="col">"Actor"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Target"</th>
                                <th scope="col">"Outcome"</th>
                                <th scope="col">"Detail"</th>
                                <th scope="col">"Client"</th>
                                <th scope="col">"Request id"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.rows.into_iter().map(|r| view! { <Row r now q=q.clone()/> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {pager}
    }
}

/// One record. The actor and action link to the trail filtered by them;
/// every text renders as text (actors are whatever was typed at the login
/// form).
#[component]
fn Row(r: AuditRow, now: crate::domain::Timestamp, q: AuditQuery) -> impl IntoView {
    let by_actor = href(
        "/audit",
        &AuditQuery {
            actor: r.actor.clone(),
            ..q.clone()
        },
        1,
    );
    let by_action = href(
        "/audit",
        &AuditQuery {
            action: r.action.clone(),
            ..q
        },
        1,
    );
    view! {
        <tr>
            <td class="nowrap"><When at=Some(r.at) now/></td>
            <td><a href=by_actor title=format!("Only records by {}", r.actor)>{r.actor.clone()}</a></td>
            <td class="nowrap"><a href=by_action>{r.action.clone()}</a></td>
            <td class="target">{if r.target.is_empty() { "—".to_string() } else { r.target }}</td>
            <td><span class=outcome_class(&r.outcome)>{r.outcome.clone()}</span></td>
            <td class="detail">{r.detail}</td>
            <td class="nowrap">{r.client}</td>
            <td class="nowrap mono">{r.request_id}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter_and_encode_it() {
        let q = AuditQuery {
            actor: "a&b c".into(),
            outcome: "denied".into(),
            ..AuditQuery::default()
        };
        assert_eq!(audit_query_string(&q, 1), "actor=a%26b+c&outcome=denied");
        assert_eq!(
            href("/audit", &q, 3),
            "/audit?actor=a%26b+c&outcome=denied&page=3"
        );
        assert_eq!(href("/audit", &AuditQuery::default(), 1), "/audit");
        assert_eq!(
            href("/export/audit.csv", &AuditQuery::default(), 1),
            "/export/audit.csv"
        );
    }
}
