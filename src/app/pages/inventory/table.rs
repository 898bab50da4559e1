//! The list itself: one line per secret, with the columns the view chose.

use super::{direction, Column, ViewState};
use crate::api::{sort_param, SecretRow, SortKey};
use crate::app::components::health::{sev_class, sev_word};
use crate::app::components::time::When;
use crate::domain::links::secret_href;
use crate::domain::Timestamp;
use leptos::prelude::*;
use leptos_router::components::A;

/// The header cell of `col`; the date columns and the name sort.
#[component]
pub fn Header(col: Column, sort: SortKey, desc: bool, view: ViewState) -> impl IntoView {
    let key = match col {
        Column::Name => Some(SortKey::Name),
        Column::Rotated => Some(SortKey::LastRotated),
        Column::Next => Some(SortKey::NextRotation),
        _ => None,
    };
    let class = format!("col-{}", col.key());
    match key {
        Some(key) => view! { <SortHeader key sort desc view class/> }.into_any(),
        None => view! { <th scope="col" class=class>{col.label()}</th> }.into_any(),
    }
}

/// A column header that sorts by its column; a second click reverses.
#[component]
fn SortHeader(
    key: SortKey,
    sort: SortKey,
    desc: bool,
    view: ViewState,
    class: String,
) -> impl IntoView {
    let active = key == sort;
    let next_desc = active && !desc;
    let href = view.with_sort(sort_param(key, next_desc)).href();
    let aria = active.then_some(if desc { "descending" } else { "ascending" });
    let arrow = if !active {
        "↕"
    } else if desc {
        "↓"
    } else {
        "↑"
    };
    let hint = format!(
        "Sort by {} ({})",
        key.label().to_lowercase(),
        direction(key, next_desc)
    );
    let spoken = format!(", {hint}");
    view! {
        <th scope="col" aria-sort=aria class=class>
            <a href=href title=hint class="sort">{key.label()}<span aria-hidden="true">" "{arrow}</span><span class="visually-hidden">{spoken}</span></a>
        </th>
    }
}

/// Text cut to its cell's line, whole in its title and on focus (so the
/// keyboard reaches it too); the detail page has everything anyway.
#[component]
fn Clip(text: String) -> impl IntoView {
    let title = text.clone();
    (!text.is_empty()).then(|| view! { <span class="clip" tabindex="0" title=title>{text}</span> })
}

/// One secret, one line: `data-row`, with the name link its first link
/// (the keyboard shortcuts move between rows and open that link).
#[component]
pub fn Row(row: SecretRow, now: Timestamp, cols: Vec<Column>) -> impl IntoView {
    let href = secret_href(&row.link);
    let cells = cols
        .into_iter()
        .map(|c| cell(c, &row, now, &href))
        .collect_view();
    view! { <tr data-row="">{cells}</tr> }
}

fn cell(col: Column, row: &SecretRow, now: Timestamp, href: &str) -> AnyView {
    match col {
        Column::Name => {
            let title = format!("{}\n{}", row.name, row.arn);
            view! { <th scope="row" class="name"><a href=href.to_string() title=title>{row.name.clone()}</a></th> }.into_any()
        }
        Column::State => {
            let state = row.state;
            view! { <td class="state-cell"><span class=format!("state {}", state.class()) title=state.explain()>{state.word()}</span></td> }.into_any()
        }
        Column::Health => {
            let findings = if row.findings.is_empty() {
                "No active finding".to_string()
            } else {
                row.findings.iter().map(|r| r.info().title).collect::<Vec<_>>().join(", ")
            };
            view! { <td class="health"><span class=sev_class(row.health) title=findings>{sev_word(row.health)}</span></td> }.into_any()
        }
        Column::Owner => owner_cell(row),
        Column::Rotated => view! { <td class="rotated"><When at=row.last_rotated now=now absent="never"/></td> }.into_any(),
        Column::Next => view! { <td class="next"><When at=row.next_rotation now=now absent="not scheduled"/></td> }.into_any(),
        Column::Where => {
            let mut text = format!("{} · {}", row.account, row.region);
            if !row.replicas.is_empty() {
                text.push_str(&format!(" (replicas: {})", row.replicas.join(", ")));
            }
            let title = text.clone();
            view! { <td class="where"><span class="clip" title=title>{text}</span></td> }.into_any()
        }
        Column::Kms => {
            let (word, title) = if row.kms_default {
                ("default", "The AWS managed key aws/secretsmanager".to_string())
            } else {
                ("CMK", format!("A customer managed key: {}", row.kms_key.clone().unwrap_or_default()))
            };
            view! { <td class="kms"><span title=title>{word}</span></td> }.into_any()
        }
        Column::Desc => view! { <td class="desc"><Clip text=row.description.clone().unwrap_or_default()/></td> }.into_any(),
        Column::Tags => {
            let full = row.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
            view! { <td class="tags"><Clip text=full/></td> }.into_any()
        }
    }
}

fn owner_cell(row: &SecretRow) -> AnyView {
    match &row.owner {
        None => view! { <td class="owner"><span class="muted" title="Neither an owner tag nor the description names an owner">"unknown"</span></td> }.into_any(),
        Some(o) => {
            let title = match &o.conflict {
                Some(other) => format!("{} (from {}); the description names {other}", o.name, o.from),
                None => format!("{} (from {})", o.name, o.from),
            };
            let conflict = o.conflict.is_some().then(|| {
                view! { <span class="conflict-mark" title="The owner tag and the description name different owners">"conflict"</span>" " }
            });
            view! { <td class="owner"><span class="clip" tabindex="0" title=title>{conflict}{o.name.clone()}</span></td> }.into_any()
        }
    }
}

#[component]
pub fn Pager(page: usize, pages: usize, view: ViewState) -> impl IntoView {
    (pages > 1).then(|| {
        let prev = (page > 1).then(|| view.with_page(page - 1).href());
        let next = (page < pages).then(|| view.with_page(page + 1).href());
        view! {
            <nav class="pager" aria-label="Pages">
                {match prev {
                    Some(h) => view! { <A href=h attr:rel="prev">"← Previous"</A> }.into_any(),
                    None => view! { <span class="muted" aria-disabled="true">"← Previous"</span> }.into_any(),
                }}
                <span>{format!("Page {page} of {pages}")}</span>
                {match next {
                    Some(h) => view! { <A href=h attr:rel="next">"Next →"</A> }.into_any(),
                    None => view! { <span class="muted" aria-disabled="true">"Next →"</span> }.into_any(),
                }}
            </nav>
        }
    })
}
