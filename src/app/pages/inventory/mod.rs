use crate::api::{
    list_inventory, sort_param, Facet, FolderNode, InventoryPage as Data, QueryError, SecretRow,
    SortKey,
};
use crate::app::components::health::{sev_class, sev_word, FirstSync};
use crate::app::components::time::When;
use crate::app::error_text;
use crate::domain::health::Severity;
use crate::domain::links::query_value;
use crate::domain::links::secret_href;
use crate::domain::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

/// What the list shows; all of it lives in the URL, so a link shows exactly
/// this view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewState {
    pub q: String,
    pub path: String,
    /// `name`, `-last_rotated`, …; "" is name order.
    pub sort: String,
    pub page: usize,
}

impl ViewState {
    /// The query string for this view, defaults left out.
    pub fn href(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", query_value(&self.q)));
        }
        if !self.path.is_empty() {
            parts.push(format!("path={}", query_value(&self.path)));
        }
        if !self.sort.is_empty() && self.sort != "name" {
            parts.push(format!("sort={}", query_value(&self.sort)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() {
            "?".to_string()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    fn with_path(&self, path: &str) -> ViewState {
        ViewState {
            path: path.to_string(),
            page: 1,
            ..self.clone()
        }
    }

    fn with_sort(&self, sort: String) -> ViewState {
        ViewState {
            sort,
            page: 1,
            ..self.clone()
        }
    }

    fn with_q(&self, q: String) -> ViewState {
        ViewState {
            q,
            page: 1,
            ..self.clone()
        }
    }

    fn with_page(&self, page: usize) -> ViewState {
        ViewState {
            page,
            ..self.clone()
        }
    }

    /// The export link for this view's whole result (every page).
    fn export_href(&self, format: &str) -> String {
        let q = ViewState {
            page: 1,
            ..self.clone()
        }
        .href();
        let q = q.trim_start_matches('?');
        if q.is_empty() {
            format!("/export/secrets.{format}")
        } else {
            format!("/export/secrets.{format}?{q}")
        }
    }
}

/// The inventory: a folder tree, tag facets and the list of secrets,
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
        }
    };
    let data = Resource::new(view_state, |v| list_inventory(v.q, v.path, v.sort, v.page));
    let q = move || query.read().get("q").unwrap_or_default();

    view! {
        <Title text="Inventory"/>
        <h1>"Inventory"</h1>
        <Form method="GET" action="" attr:class="search" attr:role="search">
            <label for="q">"Search"</label>
            <input id="q" type="search" name="q" prop:value=q value=q
                placeholder="name, description or tag value" autocomplete="off"/>
            // The folder and the order stay as they are when the search changes.
            {move || {
                let v = view_state();
                (!v.path.is_empty()).then(|| view! { <input type="hidden" name="path" value=v.path/> })
            }}
            {move || {
                let v = view_state();
                (!v.sort.is_empty()).then(|| view! { <input type="hidden" name="sort" value=v.sort/> })
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
                <li><code>"health:critical"</code>", "<code>"health:high+"</code>" (that severity or worse), "<code>"health:ok"</code>", "<code>"rule:rotation-failed"</code>", "<code>"suppressed:yes"</code></li>
                <li><code>"step:setSecret"</code>", "<code>"step:any"</code>" — the pending rotation failed at that Lambda step (createSecret, setSecret, testSecret, finishSecret)"</li>
                <li><code>"cause:lambda-permission"</code>", "<code>"cause:any"</code>" — the rotation diagnosis found that cause (lambda-missing, lambda-region, lambda-permission, network, kms-key, kms-access, role-permission, resource-policy, …)"</li>
                <li><code>"reader:payments-*"</code>", "<code>"reader:arn:aws:iam::111122223333:role/etl"</code>", "<code>"reader:*:999988887777:*"</code>" — a principal that read the secret or tried to (CloudTrail), by ARN or role/user name"</li>
                <li><code>"readers:>0"</code>", "<code>"readers:<=1"</code>", "<code>"readers:none"</code>", "<code>"readers:unknown"</code>" — how many principals read it; "<code>"unknown"</code>": its readers were not looked up (and it matches no other "<code>"reader:"</code>" or "<code>"readers:"</code>" term)"</li>
                <li><code>"rotated:>90d"</code>", "<code>"rotated:never"</code>", "<code>"next:<7d"</code>", "<code>"next:2026-12-01"</code>" — last / next rotation"</li>
                <li><code>"tag:team=payments OR tag:team=billing"</code>", "<code>"(a OR b) -c"</code>", "<code>"\"quoted phrase\""</code></li>
            </ul>
        </details>
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading the inventory…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => {
                    let v = view_state();
                    view! { <Results data=d view=v/> }.into_any()
                }
                Err(e) => view! {
                    <p class="error" role="alert">"The inventory could not be loaded: " {error_text(&e)}
                        " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Transition>
    }
}

// Query-string values are encoded by domain::links; the pages keep this name.

#[component]
fn Results(data: Data, view: ViewState) -> impl IntoView {
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
    let tree = view! { <FolderTree root=data.tree.clone() view=view.clone()/> };
    let facets = view! {
        <Facets facets=data.places.clone() view=view.clone() places=true/>
        <Facets facets=data.facets.clone() view=view.clone()/>
    };
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
            <section class="empty">
                <h2>"No secrets to show"</h2>
                <p>{why}</p>
                {(!data.query.is_empty()).then(|| view! { <p><A href=view.with_q(String::new()).href()>"Clear the search"</A></p> })}
            </section>
        }
        .into_any()
    } else {
        view! { <List data=data view=view/> }.into_any()
    };
    view! {
        <div class="layout">
            <aside class="side">{tree}{facets}</aside>
            <div class="results">{body}</div>
        </div>
    }
    .into_any()
}

#[component]
fn List(data: Data, view: ViewState) -> impl IntoView {
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
    let header = {
        let view = view.clone();
        move |key: SortKey| view! { <SortHeader key sort desc view=view.clone()/> }
    };
    let sort_options = SortKey::ALL
        .into_iter()
        .flat_map(|k| [(k, false), (k, true)])
        .map(|(k, d)| {
            let label = format!("{} ({})", k.label(), direction(k, d));
            view! { <option value=sort_param(k, d) selected=(k, d) == (sort, desc)>{label}</option> }
        })
        .collect_view();
    let hidden_q = (!view.q.is_empty())
        .then(|| view! { <input type="hidden" name="q" value=view.q.clone()/> });
    let hidden_path = (!view.path.is_empty())
        .then(|| view! { <input type="hidden" name="path" value=view.path.clone()/> });
    let (csv, json) = (view.export_href("csv"), view.export_href("json"));
    view! {
        {error}
        <div class="list-bar">
            <p class="count" data-testid="result-count" aria-live="polite">{summary}</p>
            <Form method="GET" action="" attr:class="sort-form">
                {hidden_q}
                {hidden_path}
                <label for="sort">"Sort by"</label>
                <select id="sort" name="sort">{sort_options}</select>
                <button type="submit" class="secondary">"Sort"</button>
            </Form>
            <p class="export">"Export this result: "
                <a href=csv download="" rel="external">"CSV"</a>" · "
                <a href=json download="" rel="external">"JSON"</a>
            </p>
        </div>
        <div class="table-wrap">
        <table class="inventory" data-testid="inventory">
            <caption class="visually-hidden">{format!("Secrets, by {} ({})", sort.label().to_lowercase(), direction(sort, desc))}</caption>
            <thead>
                <tr>
                    {header(SortKey::Name)}
                    <th scope="col">"State"</th>
                    <th scope="col">"Health"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Tags"</th>
                    {header(SortKey::LastRotated)}
                    {header(SortKey::NextRotation)}
                    <th scope="col">"Account · region"</th>
                </tr>
            </thead>
            <tbody>
                {data.rows.into_iter().map(|r| view! { <Row row=r now=now/> }).collect_view()}
            </tbody>
        </table>
        </div>
        <Pager page=data.page pages=data.pages view=view.clone()/>
    }
}

fn direction(key: SortKey, desc: bool) -> &'static str {
    match (key, desc) {
        (SortKey::Name, false) => "A to Z",
        (SortKey::Name, true) => "Z to A",
        (_, false) => "oldest first",
        (_, true) => "newest first",
    }
}

/// A column header that sorts by its column; a second click reverses.
#[component]
fn SortHeader(key: SortKey, sort: SortKey, desc: bool, view: ViewState) -> impl IntoView {
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
        <th scope="col" aria-sort=aria>
            <a href=href title=hint class="sort">{key.label()}<span aria-hidden="true">" "{arrow}</span><span class="visually-hidden">{spoken}</span></a>
        </th>
    }
}

/// The folder tree. Only the open folder's ancestors and children are sent
/// (the tree renders lazily); each folder is a link that opens it.
#[component]
fn FolderTree(root: FolderNode, view: ViewState) -> impl IntoView {
    let open = view.path.clone();
    view! {
        <nav class="tree" aria-label="Folders" data-testid="tree">
            <h2>"Folders"</h2>
            <ul>
                <li>
                    <a href=view.with_path("").href() aria-current=open.is_empty().then_some("page") class="folder">
                        <span class="seg">"All secrets"</span>
                        <span class="n">{root.secrets}</span>
                    </a>
                    {root.children.map(|c| view! { <Folders nodes=c more=root.more view=view.clone()/> })}
                </li>
            </ul>
        </nav>
    }
}

#[component]
fn Folders(nodes: Vec<FolderNode>, more: usize, view: ViewState) -> AnyView {
    view! {
        <ul>
            {nodes.into_iter().map(|n| view! { <FolderItem node=n view=view.clone()/> }).collect_view()}
            {(more > 0).then(|| view! { <li class="muted">{format!("… {more} more folders: search with name:")}</li> })}
        </ul>
    }
    .into_any()
}

#[component]
fn FolderItem(node: FolderNode, view: ViewState) -> impl IntoView {
    let is_open = view.path == node.path;
    let expanded = node.children.is_some();
    // The toggle expands a closed folder and collapses an open one (to its parent).
    let parent = node
        .path
        .rsplit_once('/')
        .map(|(p, _)| p)
        .unwrap_or("")
        .to_string();
    let toggle = node.has_children.then(|| {
        let (href, label, mark) = if expanded {
            (view.with_path(&parent).href(), format!("Collapse {}", node.path), "▾")
        } else {
            (view.with_path(&node.path).href(), format!("Expand {}", node.path), "▸")
        };
        view! { <a href=href class="toggle" aria-label=label aria-expanded=expanded.to_string()>{mark}</a> }
    });
    let children = node
        .children
        .map(|c| view! { <Folders nodes=c more=node.more view=view.clone()/> });
    view! {
        <li>
            <span class="row">
                {toggle.map(|t| t.into_any()).unwrap_or_else(|| view! { <span class="toggle" aria-hidden="true"></span> }.into_any())}
                <a href=view.with_path(&node.path).href() aria-current=is_open.then_some("page") class="folder">
                    <span class="seg">{node.segment}"/"</span>
                    <span class="n">
                        {node.worst.filter(|w| *w >= Severity::High).map(|w| view! { <span class=format!("dot {}", sev_class(Some(w))) title=format!("worst finding below: {}", sev_word(Some(w)))><span class="visually-hidden">{format!(", {} finding below", sev_word(Some(w)))}</span></span> })}
                        <span class="visually-hidden">", "</span>{node.secrets}<span class="visually-hidden">" secrets"</span>
                    </span>
                </a>
            </span>
            {children}
        </li>
    }
}

/// Tag keys with their value counts in the current result; each value
/// toggles its term in the search.
/// With `places`, the same for the accounts and regions.
#[component]
fn Facets(facets: Vec<Facet>, view: ViewState, #[prop(optional)] places: bool) -> impl IntoView {
    let (id, heading, testid) = if places {
        ("places-h", "Accounts and regions in this result", "places")
    } else {
        ("facets-h", "Tags in this result", "facets")
    };
    (!facets.is_empty()).then(|| {
        view! {
            <section class="facets" aria-labelledby=id data-testid=testid>
                <h2 id=id>{heading}</h2>
                {facets.into_iter().map(|f| {
                    let key = f.key.clone();
                    let label = if places { format!("By {key}") } else { format!("Tag {key}") };
                    view! {
                        <section class="facet" aria-label=label>
                            <h3>{f.key}</h3>
                            <ul>
                                {f.values.into_iter().map(|v| {
                                    let shown = v.value.clone().unwrap_or_else(|| "missing".to_string());
                                    let what = match &v.value {
                                        Some(value) if places => format!("{key} {value}"),
                                        Some(value) => format!("tag {key} = {value}"),
                                        None => format!("no {key} tag"),
                                    };
                                    let title = if v.active { format!("Remove the filter: {what}") } else { format!("Show only secrets with {what}") };
                                    view! {
                                        <li>
                                            <a href=view.with_q(v.toggled.clone()).href() title=title
                                                class=if v.active { "facet-value active" } else { "facet-value" }>
                                                <span class=if v.value.is_none() { "v missing" } else { "v" }>{shown}</span>
                                                <span class="n">{v.count}</span>
                                                {v.active.then(|| view! { <span class="visually-hidden">" (filter on; select to remove)"</span> })}
                                            </a>
                                        </li>
                                    }
                                }).collect_view()}
                                {(f.more > 0).then(|| view! { <li class="muted">{format!("{} more values", f.more)}</li> })}
                            </ul>
                        </section>
                    }
                }).collect_view()}
            </section>
        }
    })
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

#[component]
fn Row(row: SecretRow, now: Timestamp) -> impl IntoView {
    let state = row.state;
    let href = secret_href(&row.link);
    let replicas = (!row.replicas.is_empty()).then(|| {
        view! { <br/><span class="muted small">{format!("replicas: {}", row.replicas.join(", "))}</span> }
    });
    let findings = if row.findings.is_empty() {
        "No active finding".to_string()
    } else {
        row.findings
            .iter()
            .map(|r| r.info().title)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <tr>
            <th scope="row" class="name"><a href=href title=row.arn.clone()><PathName name=row.name/></a></th>
            <td><span class=format!("state {}", state.class()) title=state.explain()>{state.word()}</span></td>
            <td><span class=sev_class(row.health) title=findings>{sev_word(row.health)}</span></td>
            <td class="desc">{row.description.unwrap_or_default()}</td>
            <td class="tags">
                <ul class="tags">
                    {row.tags.into_iter().map(|(k, v)| view! { <li><span class="k">{k}</span>"="<span class="v">{v}</span></li> }).collect_view()}
                </ul>
            </td>
            <td><When at=row.last_rotated now=now absent="never"/></td>
            <td><When at=row.next_rotation now=now absent="not scheduled"/></td>
            <td class="where"><span class="account">{row.account}</span><br/><span class="region">{row.region}</span>{replicas}</td>
        </tr>
    }
}

/// A secret name that wraps after its `/` separators rather than mid-word.
#[component]
pub fn PathName(name: String) -> impl IntoView {
    let parts: Vec<String> = name.split_inclusive('/').map(str::to_string).collect();
    parts
        .into_iter()
        .map(|p| view! { {p}<wbr/> })
        .collect_view()
}

#[component]
fn Pager(page: usize, pages: usize, view: ViewState) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_keep_the_view() {
        let v = |q: &str, path: &str, sort: &str, page| ViewState {
            q: q.into(),
            path: path.into(),
            sort: sort.into(),
            page,
        };
        assert_eq!(v("", "", "", 1).href(), "?");
        assert_eq!(v("", "", "name", 3).href(), "?page=3");
        assert_eq!(v("prod db&x", "", "", 2).href(), "?q=prod+db%26x&page=2");
        assert_eq!(
            v("a", "prod/pay", "-created", 4).href(),
            "?q=a&path=prod%2Fpay&sort=-created&page=4"
        );
        // Changing the folder, the search or the order starts again at page 1.
        let s = v("a", "prod", "", 5);
        assert_eq!(s.with_path("dev").href(), "?q=a&path=dev");
        assert_eq!(
            s.with_sort("-name".into()).href(),
            "?q=a&path=prod&sort=-name"
        );
        assert_eq!(s.with_q(String::new()).href(), "?path=prod");
        assert_eq!(s.export_href("csv"), "/export/secrets.csv?q=a&path=prod");
        assert_eq!(v("", "", "", 2).export_href("json"), "/export/secrets.json");
    }
}
