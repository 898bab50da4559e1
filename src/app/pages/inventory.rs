use crate::api::{list_inventory, InventoryPage as Data, QueryError, SecretRow};
use crate::app::components::time::When;
use crate::app::error_text;
use crate::domain::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

/// The inventory list: every secret, searchable and paged; the view state
/// (search, page) lives in the URL so a link shows exactly this view.
#[component]
pub fn InventoryPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
    };
    let data = Resource::new(move || (q(), page()), |(q, page)| list_inventory(q, page));

    view! {
        <Title text="Inventory"/>
        <h1>"Inventory"</h1>
        <Form method="GET" action="" attr:class="search" attr:role="search">
            <label for="q">"Search"</label>
            <input id="q" type="search" name="q" prop:value=q value=q
                placeholder="name, description or tag value" autocomplete="off"/>
            <button type="submit">"Search"</button>
        </Form>
        <details class="syntax">
            <summary>"Search syntax"</summary>
            <ul>
                <li><code>"payments db"</code>" — words in the name, description or a tag value (all must match)"</li>
                <li><code>"name:prod/*"</code>" — name glob (or prefix: "<code>"name:prod/payments"</code>")"</li>
                <li><code>"tag:owner=alice*"</code>", "<code>"tag:env"</code>" (key present), "<code>"-tag:owner"</code>" or "<code>"!tag:owner"</code>" (no owner tag)"</li>
                <li><code>"region:eu-west-1"</code>", "<code>"account:123456789012"</code>", "<code>"kms:default"</code>", "<code>"kms:cmk"</code>", "<code>"rotation:on"</code>", "<code>"rotation:off"</code>", "<code>"deleted:yes"</code>", "<code>"service:rds"</code></li>
                <li><code>"tag:team=payments OR tag:team=billing"</code>", "<code>"(a OR b) -c"</code>", "<code>"\"quoted phrase\""</code></li>
            </ul>
        </details>
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading the inventory…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => view! { <Results data=d/> }.into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The inventory could not be loaded: " {error_text(&e)}
                        " Reload the page to try again."</p>
                }.into_any(),
            })}
        </Transition>
    }
}

fn page_href(query: &str, page: usize) -> String {
    let mut parts = Vec::new();
    if !query.is_empty() {
        parts.push(format!("q={}", urlencode(query)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "?".to_string()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Percent-encodes a query-string value (RFC 3986 unreserved kept).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
fn Results(data: Data) -> impl IntoView {
    if !data.ready {
        return view! {
            <section class="empty">
                <h2>"The first sync is still running"</h2>
                <p>"secretscope is reading the secret list from Secrets Manager. Reload in a few seconds; the header shows any error."</p>
            </section>
        }
        .into_any();
    }
    if data.matched == 0 {
        let why = if data.total == 0 {
            "Secrets Manager returned no secrets for this source: check the region and account the dashboard reads."
                .to_string()
        } else {
            format!(
                "None of the {} secrets matches “{}”. Free words must all appear in the name, the description or a tag value; see the search syntax above.",
                data.total, data.query
            )
        };
        return view! {
            <section class="empty">
                <h2>"No secrets to show"</h2>
                <p>{why}</p>
                {(!data.query.is_empty()).then(|| view! { <p><A href="?">"Clear the search"</A></p> })}
            </section>
        }
        .into_any();
    }
    let error = data
        .error
        .clone()
        .map(|e| view! { <SearchError error=e query=data.query.clone() total=data.total/> });
    let first = (data.page - 1) * crate::api::PAGE_SIZE + 1;
    let last = first + data.rows.len() - 1;
    let summary = if data.query.is_empty() || data.error.is_some() {
        format!("{first}–{last} of {} secrets", data.total)
    } else {
        format!(
            "{first}–{last} of {} matching secrets ({} in all)",
            data.matched, data.total
        )
    };
    let now = data.now;
    let query = data.query.clone();
    view! {
        {error}
        <p class="count" data-testid="result-count">{summary}</p>
        <div class="table-wrap">
        <table class="inventory" data-testid="inventory">
            <caption class="visually-hidden">"Secrets, by name"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Tags"</th>
                    <th scope="col">"Last rotated"</th>
                    <th scope="col">"Next rotation"</th>
                </tr>
            </thead>
            <tbody>
                {data.rows.into_iter().map(|r| view! { <Row row=r now=now/> }).collect_view()}
            </tbody>
        </table>
        </div>
        <Pager page=data.page pages=data.pages query=query/>
    }
    .into_any()
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
    view! {
        <tr>
            <th scope="row" class="name"><span title=row.arn.clone()><PathName name=row.name/></span></th>
            <td><span class=format!("state {}", state.class()) title=state.explain()>{state.word()}</span></td>
            <td class="desc">{row.description.unwrap_or_default()}</td>
            <td class="tags">
                <ul class="tags">
                    {row.tags.into_iter().map(|(k, v)| view! { <li><span class="k">{k}</span>"="<span class="v">{v}</span></li> }).collect_view()}
                </ul>
            </td>
            <td><When at=row.last_rotated now=now absent="never"/></td>
            <td><When at=row.next_rotation now=now absent="not scheduled"/></td>
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
fn Pager(page: usize, pages: usize, query: String) -> impl IntoView {
    (pages > 1).then(|| {
        let prev = (page > 1).then(|| page_href(&query, page - 1));
        let next = (page < pages).then(|| page_href(&query, page + 1));
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
        assert_eq!(page_href("", 1), "?");
        assert_eq!(page_href("", 3), "?page=3");
        assert_eq!(page_href("prod db&x", 2), "?q=prod+db%26x&page=2");
    }
}
