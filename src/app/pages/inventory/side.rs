//! The side panel: the folder tree and the facets, each a link to the same
//! view with one thing changed.

use super::ViewState;
use crate::api::{Facet, FolderNode, InventoryPage as Data};
use crate::app::components::health::{sev_class, sev_word};
use crate::domain::health::Severity;
use leptos::prelude::*;

/// Which facets a [`Facets`] block shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FacetKind {
    /// Rotation, KMS key, health, owner: values are search terms.
    Quick,
    /// Accounts and regions.
    Places,
    Tags,
}

/// The side panel: folders, then the facets. Below the wide layout it
/// folds into one "Folders and filters" line above the list.
#[component]
pub fn SidePanel(data: Data, view: ViewState) -> impl IntoView {
    let active = data
        .quick
        .iter()
        .flat_map(|f| &f.values)
        .filter(|v| v.active)
        .count()
        + usize::from(data.rootless_active);
    let summary = match (data.path.is_empty(), active) {
        (true, 0) => "Folders and filters".to_string(),
        (true, n) => format!("Folders and filters ({n} on)"),
        (false, 0) => format!("Folders and filters (in {}/)", data.path),
        (false, n) => format!("Folders and filters (in {}/, {n} on)", data.path),
    };
    view! {
        <details class="side-panel">
            <summary>{summary}</summary>
            <aside class="side">
                <FolderTree root=data.tree.clone() view=view.clone() searching=data.searching
                    rootless=data.rootless rootless_href=view.with_q(data.rootless_toggled.clone()).href()
                    rootless_active=data.rootless_active/>
                <Facets facets=data.quick view=view.clone() kind=FacetKind::Quick/>
                <Facets facets=data.places view=view.clone() kind=FacetKind::Places/>
                <Facets facets=data.facets view=view kind=FacetKind::Tags/>
            </aside>
        </details>
    }
    .into_any()
}

/// The folder tree. Only the open folder's ancestors and children are sent
/// (the tree renders lazily); each folder is a link that opens it, one Tab
/// stop each (the arrow beside it is for the mouse). The tree is drawn as
/// one list indented by depth, not nested lists: rendering stays shallow
/// however deep the open folder is.
#[component]
fn FolderTree(
    root: FolderNode,
    view: ViewState,
    searching: bool,
    rootless: usize,
    rootless_href: String,
    rootless_active: bool,
) -> impl IntoView {
    let open = view.path.clone();
    let mut entries = Vec::new();
    if let Some(children) = &root.children {
        flatten(children, root.more, 1, &mut entries);
    }
    let rows = entries
        .into_iter()
        .map(|e| match e {
            Entry::Folder(node, depth) => folder_row(node, depth, &view, searching),
            Entry::More(more, depth) => view! {
                <li class=format!("muted d{}", depth.min(8))>{format!("… {more} more folders: search with name:")}</li>
            }
            .into_any(),
        })
        .collect_view();
    let no_folder = (rootless > 0 || rootless_active).then(|| {
        let title = if rootless_active {
            "Remove the filter: secrets outside any folder"
        } else {
            "Show only the secrets outside any folder (no / in the name)"
        };
        view! {
            <li class="d1">
                <span class="row">
                    <span class="toggle" aria-hidden="true"></span>
                    <a href=rootless_href class="folder rootless" title=title
                        aria-current=rootless_active.then_some("true")>
                        <span class="seg">"(no folder)"</span>
                        <span class="n">{rootless}<span class="visually-hidden">" secrets"</span></span>
                    </a>
                </span>
            </li>
        }
        .into_any()
    });
    view! {
        <nav class="tree" aria-label="Folders" data-testid="tree">
            <h2>"Folders"{searching.then_some(" (matching)")}</h2>
            <ul>
                <li class="d0">
                    <a href=view.with_path("").href() aria-current=open.is_empty().then_some("page") class="folder"
                        title=count_title(root.secrets, root.all, searching)>
                        <span class="seg">"All secrets"</span>
                        <span class="n">{root.secrets}</span>
                    </a>
                </li>
                {rows}
                {no_folder}
            </ul>
        </nav>
    }
    .into_any()
}

/// A line of the tree: a folder at a depth, or how many were left out.
enum Entry {
    Folder(FolderNode, usize),
    More(usize, usize),
}

/// `nodes` and their sub-folders, depth first, each with its depth.
fn flatten(nodes: &[FolderNode], more: usize, depth: usize, out: &mut Vec<Entry>) {
    for n in nodes {
        let children = n.children.clone();
        out.push(Entry::Folder(
            FolderNode {
                children: None,
                ..n.clone()
            },
            depth,
        ));
        if let Some(c) = children {
            flatten(&c, n.more, depth + 1, out);
        }
    }
    if more > 0 {
        out.push(Entry::More(more, depth));
    }
}

fn count_title(matching: usize, all: usize, searching: bool) -> String {
    if searching {
        format!("{matching} of {all} secrets match the search")
    } else {
        format!("{all} secrets")
    }
}

fn folder_row(node: FolderNode, depth: usize, view: &ViewState, searching: bool) -> AnyView {
    let is_open = view.path == node.path;
    // Open: this folder or one inside it is open, so its sub-folders are listed.
    let expanded = is_open || crate::domain::tree::in_folder(&view.path, &node.path);
    // The toggle expands a closed folder and collapses an open one (to its parent).
    let parent = node
        .path
        .rsplit_once('/')
        .map(|(p, _)| p)
        .unwrap_or("")
        .to_string();
    let toggle = if node.has_children {
        let (href, label, mark) = if expanded {
            (
                view.with_path(&parent).href(),
                format!("Collapse {}", node.path),
                "▾",
            )
        } else {
            (
                view.with_path(&node.path).href(),
                format!("Expand {}", node.path),
                "▸",
            )
        };
        view! { <a href=href class="toggle" tabindex="-1" aria-label=label aria-expanded=expanded.to_string()>{mark}</a> }.into_any()
    } else {
        view! { <span class="toggle" aria-hidden="true"></span> }.into_any()
    };
    let class = if searching && node.secrets == 0 {
        "folder none"
    } else {
        "folder"
    };
    let dot = node.worst.filter(|w| *w >= Severity::High).map(|w| {
        view! { <span class=format!("dot {}", sev_class(Some(w))) title=format!("worst finding below: {}", sev_word(Some(w)))><span class="visually-hidden">{format!(", {} finding below", sev_word(Some(w)))}</span></span> }
    });
    let unit = if searching {
        " matching secrets"
    } else {
        " secrets"
    };
    view! {
        <li class=format!("d{}", depth.min(8))>
            <span class="row">
                {toggle}
                <a href=view.with_path(&node.path).href() aria-current=is_open.then_some("page") class=class
                    title=count_title(node.secrets, node.all, searching)>
                    <span class="seg">{node.segment}"/"</span>
                    <span class="n">{dot}<span class="visually-hidden">", "</span>{node.secrets}<span class="visually-hidden">{unit}</span></span>
                </a>
            </span>
        </li>
    }
    .into_any()
}

/// Facets with their value counts in the current result; each value
/// toggles its term in the search.
#[component]
fn Facets(facets: Vec<Facet>, view: ViewState, kind: FacetKind) -> impl IntoView {
    let (id, heading, testid) = match kind {
        FacetKind::Quick => ("quick-h", "Filter this result", "quick-facets"),
        FacetKind::Places => ("places-h", "Accounts and regions in this result", "places"),
        FacetKind::Tags => ("facets-h", "Tags in this result", "facets"),
    };
    (!facets.is_empty()).then(|| {
        view! {
            <section class="facets" aria-labelledby=id data-testid=testid>
                <h2 id=id>{heading}</h2>
                {facets.into_iter().map(|f| {
                    let key = f.key.clone();
                    let (label, title) = match kind {
                        FacetKind::Quick => {
                            let t = quick_title(&key);
                            (t.to_string(), t.to_string())
                        }
                        FacetKind::Places => (format!("By {key}"), key.clone()),
                        FacetKind::Tags => (format!("Tag {key}"), key.clone()),
                    };
                    view! {
                        <section class="facet" aria-label=label>
                            <h3>{title}</h3>
                            <ul>
                                {f.values.into_iter().map(|v| {
                                    let shown = v.value.clone().unwrap_or_else(|| "missing".to_string());
                                    let what = match (&v.value, kind) {
                                        (Some(value), FacetKind::Quick) => format!("{} {value}", quick_title(&key).to_lowercase()),
                                        (Some(value), FacetKind::Places) => format!("{key} {value}"),
                                        (Some(value), FacetKind::Tags) => format!("tag {key} = {value}"),
                                        (None, _) => format!("no {key} tag"),
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

fn quick_title(key: &str) -> &'static str {
    match key {
        "rotation" => "Rotation",
        "kms" => "KMS key",
        "health" => "Health",
        _ => "Owner",
    }
}
