//! The inventory: a folder tree, facets and the list of secrets, one line
//! each, searchable, sortable and paged; everything it shows is in the URL.

mod side;
mod table;
mod view_state;

use crate::api::{
    density_for, list_inventory, sort_param, Density, InventoryPage as Data, QueryError, SortKey,
};
use crate::app::components::health::FirstSync;
use crate::app::error_text;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;
use side::SidePanel;
use table::{Header, Pager, Row};
pub use view_state::{cols_param, parse_cols, Column, ViewState};

/// The inventory: a folder tree, facets and the list of secrets,
/// searchable, sortable and paged.
#[component]
pub fn InventoryPage() -> impl IntoView {
    let query = use_query_map();
    let view_state = move || {
        let m = query.read();
        ViewState {
            q: m.get("q").unwrap_or_default(),
            path: m.get("path").unwrap_or_default(),
            sort: m.get("sort").unwrap_or_default(),
            page: m.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
            cols: m
                .get_all("cols")
                .map(|c| cols_param(&parse_cols(&c)))
                .unwrap_or_default(),
            density: m
                .get("density")
                .and_then(|d| Density::parse(&d))
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
        }
    };
    // The URL's density wins; without one, the remembered one (a cookie).
    let density = density_for(&query.read_untracked().get("density").unwrap_or_default());
    let data = Resource::new(view_state, |v| list_inventory(v.q, v.path, v.sort, v.page));
    let q = move || query.read().get("q").unwrap_or_default();
    let hidden = move |name: &'static str, value: String| {
        (!value.is_empty()).then(|| view! { <input type="hidden" name=name value=value/> })
    };

    view! {
        <Title text="Inventory"/>
        <a class="skip skip-results" href="#results">"Skip to results"</a>
        <div class="inv-head">
            <h1>"Inventory"</h1>
            <Form method="GET" action="" attr:class="search" attr:role="search">
                <label for="q">"Search"</label>
                <input id="q" type="search" name="q" prop:value=q value=q maxlength="2000"
                    placeholder="name, description or tag value" autocomplete="off"/>
                // The folder, the order, the columns and the density stay as they are when the search changes.
                {move || {
                    let v = view_state();
                    view! {
                        {hidden("path", v.path)}
                        {hidden("sort", v.sort)}
                        {hidden("cols", v.cols)}
                        {hidden("density", v.density)}
                    }
                }}
                <button type="submit">"Search"</button>
            </Form>
            <details class="syntax">
            <summary>"Search syntax"</summary>
            <ul>
                <li><code>"payments db"</code>" — words in the name, description or a tag value (all must match)"</li>
                <li><code>"name:prod/*"</code>" — name glob (or prefix: "<code>"name:prod/payments"</code>")"</li>
                <li><code>"tag:owner=alice*"</code>", "<code>"tag:env"</code>" (key present), "<code>"-tag:owner"</code>" or "<code>"!tag:owner"</code>" (no owner tag)"</li>
                <li><code>"region:eu-west-1"</code>", "<code>"account:123456789012"</code>", "<code>"kms:default"</code>", "<code>"kms:cmk"</code>", "<code>"rotation:on"</code>", "<code>"rotation:off"</code>", "<code>"deleted:yes"</code>", "<code>"service:rds"</code></li>
                <li><code>"owner:none"</code>" (no owner in the owner tag nor the description), "<code>"owner:known"</code>", "<code>"owner:conflict"</code>" (the tag and the description name different owners), "<code>"owner:zoe*"</code>" (the owner's name or a glob, any case)"</li>
                <li><code>"health:critical"</code>", "<code>"health:high+"</code>" (that severity or worse), "<code>"health:ok"</code>", "<code>"rule:rotation-failed"</code>", "<code>"suppressed:yes"</code></li>
                <li><code>"step:setSecret"</code>", "<code>"step:any"</code>" — the pending rotation failed at that Lambda step (createSecret, setSecret, testSecret, finishSecret)"</li>
                <li><code>"cause:lambda-permission"</code>", "<code>"cause:any"</code>" — the rotation diagnosis found that cause (lambda-missing, lambda-region, lambda-permission, network, kms-key, kms-access, role-permission, resource-policy, …)"</li>
                <li><code>"reader:payments-*"</code>", "<code>"reader:arn:aws:iam::111122223333:role/etl"</code>", "<code>"reader:*:999988887777:*"</code>" — a principal that read the secret or tried to (CloudTrail), by ARN or role/user name"</li>
                <li><code>"readers:>0"</code>", "<code>"readers:<=1"</code>", "<code>"readers:none"</code>", "<code>"readers:unknown"</code>" — how many principals read it; "<code>"unknown"</code>": its readers were not looked up (and it matches no other "<code>"reader:"</code>" or "<code>"readers:"</code>" term)"</li>
                <li><code>"rotated:>90d"</code>", "<code>"rotated:never"</code>", "<code>"next:<7d"</code>", "<code>"next:2026-12-01"</code>" — last / next rotation"</li>
                <li><code>"tag:team=payments OR tag:team=billing"</code>", "<code>"(a OR b) -c"</code>", "<code>"\"quoted phrase\""</code></li>
            </ul>
            </details>
        </div>
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading the inventory…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => {
                    let v = view_state();
                    view! { <Results data=d view=v density/> }.into_any()
                }
                Err(e) => view! {
                    <p class="error" role="alert">"The inventory could not be loaded: " {error_text(&e)}
                        " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Results(data: Data, view: ViewState, density: Density) -> impl IntoView {
    if !data.ready {
        return view! { <FirstSync/> }.into_any();
    }
    // The server resolves unknown folders and sorts; links follow what it used.
    let view = ViewState {
        path: data.path.clone(),
        sort: sort_param(data.sort, data.desc),
        page: data.page,
        ..view
    };
    let side = view! { <SidePanel data=data.clone() view=view.clone()/> };
    let body = if data.matched == 0 {
        let place = if data.path.is_empty() {
            String::new()
        } else {
            format!(" in {}/", data.path)
        };
        let why = if data.total == 0 {
            "Secrets Manager returned no secrets for this source: check the region and account the dashboard reads."
                .to_string()
        } else {
            format!(
                "None of the {} secrets{place} matches “{}”. Free words must all appear in the name, the description or a tag value; see the search syntax above.",
                data.total, data.query
            )
        };
        view! {
            <section class="empty" id="results" tabindex="-1">
                <h2>"No secrets to show"</h2>
                <p>{why}</p>
                {(!data.query.is_empty()).then(|| view! { <p><A href=view.with_q(String::new()).href()>"Clear the search"</A></p> })}
            </section>
        }
        .into_any()
    } else {
        view! { <List data=data view=view density/> }.into_any()
    };
    view! {
        // The results come first, so Tab reaches the first secret from the
        // search in a few presses; the panel is placed beside (or above) them.
        <div class="layout">
            <div class="results">{body}</div>
            {side}
        </div>
    }
    .into_any()
}

#[component]
fn List(data: Data, view: ViewState, density: Density) -> impl IntoView {
    let error = data
        .error
        .clone()
        .map(|e| view! { <SearchError error=e query=data.query.clone() total=data.total/> });
    let first = (data.page - 1) * crate::api::PAGE_SIZE + 1;
    let last = first + data.rows.len() - 1;
    let scope = if data.path.is_empty() {
        String::new()
    } else {
        format!(" in {}/", data.path)
    };
    let summary = if data.matched == data.total {
        format!("{first}–{last} of {} secrets", data.total)
    } else {
        format!(
            "{first}–{last} of {} matching secrets{scope} ({} in all)",
            data.matched, data.total
        )
    };
    let now = data.now;
    let (sort, desc) = (data.sort, data.desc);
    let cols = parse_cols(std::slice::from_ref(&view.cols));
    let headers = cols
        .iter()
        .map(|&col| view! { <Header col sort desc view=view.clone()/> })
        .collect_view();
    let class = match density {
        Density::Compact => "inventory dense compact",
        Density::Comfortable => "inventory dense",
    };
    view! {
        {error}
        <div class="list-bar">
            <p class="count" data-testid="result-count" aria-live="polite">{summary}</p>
            <SortForm view=view.clone() sort desc/>
            <DensitySwitch view=view.clone() density/>
            <ColumnChooser view=view.clone() cols=cols.clone()/>
            <p class="export">"Export: "
                <a href=view.export_href("csv") download="" rel="external">"CSV"</a>" · "
                <a href=view.export_href("json") download="" rel="external">"JSON"</a>
            </p>
        </div>
        <div class="table-wrap inv-wrap">
        <table class=class data-testid="inventory" id="results" tabindex="-1" data-density=density.as_str()>
            <caption class="visually-hidden">{format!("Secrets, by {} ({})", sort.label().to_lowercase(), direction(sort, desc))}</caption>
            <thead>
                <tr>{headers}</tr>
            </thead>
            <tbody>
                {data.rows.into_iter().map(|r| view! { <Row row=r now=now cols=cols.clone()/> }).collect_view()}
            </tbody>
        </table>
        </div>
        <Pager page=data.page pages=data.pages view=view.clone()/>
    }
    .into_any()
}

/// The order, for the columns without a header to click (and the keyboard).
#[component]
fn SortForm(view: ViewState, sort: SortKey, desc: bool) -> impl IntoView {
    let options = SortKey::ALL
        .into_iter()
        .flat_map(|k| [(k, false), (k, true)])
        .map(|(k, d)| {
            let label = format!("{} ({})", k.label(), direction(k, d));
            view! { <option value=sort_param(k, d) selected=(k, d) == (sort, desc)>{label}</option> }
        })
        .collect_view();
    let hidden = |name: &'static str, value: String| {
        (!value.is_empty()).then(|| view! { <input type="hidden" name=name value=value/> })
    };
    view! {
        <Form method="GET" action="" attr:class="sort-form">
            {hidden("q", view.q.clone())}
            {hidden("path", view.path.clone())}
            {hidden("cols", view.cols.clone())}
            {hidden("density", view.density.clone())}
            <label for="sort">"Sort by"</label>
            <select id="sort" name="sort">{options}</select>
            <button type="submit" class="secondary">"Sort"</button>
        </Form>
    }
}

/// Comfortable or compact rows; the choice is remembered for the next visit.
#[component]
fn DensitySwitch(view: ViewState, density: Density) -> impl IntoView {
    let link = move |d: Density, label: &'static str| {
        let current = d == density;
        view! {
            <a href=view.with_density(d.as_str()).href() class=if current { "density-opt current" } else { "density-opt" }
                aria-current=current.then_some("true")>{label}</a>
        }
    };
    view! {
        <p class="density" data-testid="density">
            <span class="muted">"Rows: "</span>
            {link(Density::Comfortable, "comfortable")}" · "{link(Density::Compact, "compact")}
        </p>
    }
}

/// Which columns to show: a GET form, so the choice lands in the URL.
#[component]
fn ColumnChooser(view: ViewState, cols: Vec<Column>) -> impl IntoView {
    let hidden = |name: &'static str, value: String| {
        (!value.is_empty()).then(|| view! { <input type="hidden" name=name value=value/> })
    };
    let boxes = Column::ALL
        .into_iter()
        .filter(|c| *c != Column::Name)
        .map(|c| {
            let id = format!("col-{}", c.key());
            view! {
                <li><input type="checkbox" id=id.clone() name="cols" value=c.key() checked=cols.contains(&c)/>
                    <label for=id>{c.label()}</label></li>
            }
        })
        .collect_view();
    view! {
        <details class="cols" data-testid="columns">
            <summary>"Columns"</summary>
            <form method="GET" action="">
                {hidden("q", view.q.clone())}
                {hidden("path", view.path.clone())}
                {hidden("sort", view.sort.clone())}
                {hidden("density", view.density.clone())}
                // The name is always shown (and keeps an empty choice from meaning "all").
                <input type="hidden" name="cols" value="name"/>
                <ul>{boxes}</ul>
                <button type="submit" class="secondary">"Show these columns"</button>
            </form>
        </details>
    }
}

pub(super) fn direction(key: SortKey, desc: bool) -> &'static str {
    match (key, desc) {
        (SortKey::Name, false) => "A to Z",
        (SortKey::Name, true) => "Z to A",
        (_, false) => "oldest first",
        (_, true) => "newest first",
    }
}

/// A syntax error in the search, shown where the person typed it.
#[component]
fn SearchError(error: QueryError, query: String, total: usize) -> impl IntoView {
    let before: String = query.chars().take(error.position).collect();
    let rest: String = query.chars().skip(error.position).collect();
    let message = if error.message.ends_with(['.', '!', '?']) {
        error.message.clone()
    } else {
        format!("{}.", error.message)
    };
    let expected =
        (!error.expected.is_empty()).then(|| format!(" Expected: {}.", error.expected.join(", ")));
    view! {
        <div class="query-error" role="alert" data-testid="query-error">
            <p>
                <strong>{format!("The search has an error at character {}: ", error.position + 1)}</strong>
                {message}
                {expected}
            </p>
            <p class="query-echo" aria-hidden="true">
                <code>{before}<mark>{if rest.is_empty() { "␣".to_string() } else { rest }}</mark></code>
            </p>
            <p>{format!("Nothing was filtered, so all {total} secrets are listed below. Fix the search and press Search.")}</p>
        </div>
    }
}
