//! Builds the DTOs the pages receive from the current snapshot. No AWS calls.

use super::inventory::Snapshot;
use super::AppState;
use crate::api::{
    parse_sort, Facet, FacetValue, FolderNode, InventoryPage, QueryError, SecretRow, SortKey,
    SyncInfo, PAGE_SIZE,
};
use crate::domain::query::{toggle_tag_term, Query};
use crate::domain::tree::{in_folder, Folder, NameTree};
use crate::domain::{Secret, State, Timestamp};
use std::collections::HashMap;

pub fn row(s: &Secret, now: Timestamp) -> SecretRow {
    SecretRow {
        name: s.name.to_string(),
        arn: s.arn.to_string(),
        description: s.description.as_deref().map(str::to_string),
        tags: s
            .tags
            .iter()
            .map(|t| (t.key.to_string(), t.value.to_string()))
            .collect(),
        last_rotated: s.last_rotated,
        next_rotation: s.next_rotation,
        state: State::of(s, now),
    }
}

/// Sub-folders shown per folder at most; a wider folder says how many more.
const MAX_CHILDREN: usize = 200;

fn folder_node(tree: &NameTree, folder: &Folder, open: &str) -> FolderNode {
    let expanded = folder.path.is_empty() || in_folder(open, &folder.path) || open == folder.path;
    let children = expanded.then(|| {
        tree.children(folder)
            .take(MAX_CHILDREN)
            .map(|c| folder_node(tree, c, open))
            .collect()
    });
    let count = tree.children(folder).count();
    FolderNode {
        path: folder.path.clone(),
        segment: folder.segment.clone(),
        secrets: folder.secrets,
        has_children: count > 0,
        children,
        more: if expanded {
            count.saturating_sub(MAX_CHILDREN)
        } else {
            0
        },
    }
}

fn sort_value(s: &Secret, key: SortKey) -> Option<Timestamp> {
    match key {
        SortKey::Name => None,
        SortKey::LastRotated => s.last_rotated,
        SortKey::NextRotation => s.next_rotation,
        SortKey::LastAccessed => s.last_accessed,
        SortKey::Created => s.created,
        SortKey::LastChanged => s.last_changed,
    }
}

/// Tag keys shown as facets at most, and values per key.
const MAX_FACETS: usize = 12;
const MAX_FACET_VALUES: usize = 8;

/// The most common tag keys in `matched`, each with its most common values
/// and the number of secrets lacking the key ("missing").
pub fn facets(matched: &[&Secret], q: &str) -> Vec<Facet> {
    let mut keys: HashMap<&str, (usize, HashMap<&str, usize>)> = HashMap::new();
    for s in matched {
        for t in &s.tags {
            let (n, values) = keys.entry(&t.key).or_default();
            *n += 1;
            *values.entry(&t.value).or_default() += 1;
        }
    }
    let mut keys: Vec<_> = keys.into_iter().collect();
    keys.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let toggle = |key: &str, value: Option<&str>, count: usize| {
        let toggled = toggle_tag_term(q, key, value);
        FacetValue {
            value: value.map(str::to_string),
            count,
            // Removing a term shortens the search; adding one lengthens it.
            active: toggled.len() < q.trim().len(),
            toggled,
        }
    };
    keys.into_iter()
        .take(MAX_FACETS)
        .map(|(key, (present, values))| {
            let mut values: Vec<(&str, usize)> = values.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let more = values.len().saturating_sub(MAX_FACET_VALUES);
            let mut out: Vec<FacetValue> = values
                .into_iter()
                .take(MAX_FACET_VALUES)
                .map(|(v, n)| toggle(key, Some(v), n))
                .collect();
            let missing = matched.len() - present;
            // Offer "missing" while it would narrow the result, and keep it
            // visible while it is the active term so it can be removed.
            let missing_value = toggle(key, None, missing);
            if missing > 0 || missing_value.active {
                out.push(missing_value);
            }
            Facet {
                key: key.to_string(),
                values: out,
                more,
            }
        })
        .collect()
}

/// The secrets a view shows, in its order: the search (or nothing filtered
/// when it does not parse), the folder and the sort, as the list and the
/// export both apply them.
pub struct Selection<'a> {
    pub matched: Vec<&'a Secret>,
    pub error: Option<QueryError>,
    /// The folder actually used: an unknown one opens the deepest that exists.
    pub path: String,
    pub sort: SortKey,
    pub desc: bool,
}

pub fn select<'a>(snapshot: &'a Snapshot, q: &str, path: &str, sort: &str) -> Selection<'a> {
    let (query, error) = match Query::parse(q) {
        Ok(query) => (query, None),
        // A broken search never empties the list silently: show everything,
        // and say where the search went wrong.
        Err(e) => (
            Query::from(None),
            Some(QueryError {
                position: e.position,
                message: e.message,
                expected: e.expected,
            }),
        ),
    };
    let path = snapshot
        .tree()
        .trail(path)
        .last()
        .map(|f| f.path.clone())
        .unwrap_or_default();
    let (sort, desc) = parse_sort(sort);
    let mut matched: Vec<&Secret> = snapshot
        .secrets()
        .iter()
        .map(|s| &**s)
        .filter(|s| in_folder(&s.name, &path) && query.matches(s))
        .collect();
    // The snapshot is in name order; sorting is stable, so ties keep it.
    match (sort, desc) {
        (SortKey::Name, false) => {}
        (SortKey::Name, true) => matched.reverse(),
        _ => matched.sort_by(|a, b| {
            match (sort_value(a, sort), sort_value(b, sort)) {
                (Some(x), Some(y)) if desc => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
                // Unknown dates go last either way.
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }),
    }
    Selection {
        matched,
        error,
        path,
        sort,
        desc,
    }
}

pub fn inventory_page(
    state: &AppState,
    q: &str,
    path: &str,
    sort: &str,
    page: usize,
) -> InventoryPage {
    let now = super::aws::sync::now();
    let snapshot = state.inventory.snapshot();
    let Selection {
        matched,
        error,
        path,
        sort,
        desc,
    } = select(&snapshot, q, path, sort);
    let tree = snapshot.tree();
    let pages = matched.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = matched
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|s| row(s, now))
        .collect();
    InventoryPage {
        rows,
        total: snapshot.secrets().len(),
        matched: matched.len(),
        page,
        pages,
        query: q.to_string(),
        now,
        ready: snapshot.taken_at.is_some(),
        error,
        tree: folder_node(tree, tree.root(), &path),
        facets: facets(&matched, q),
        path,
        sort,
        desc,
    }
}

pub fn sync_info(state: &AppState) -> SyncInfo {
    let status = state.inventory.status();
    let snapshot = state.inventory.snapshot();
    SyncInfo {
        now: super::aws::sync::now(),
        taken_at: snapshot.taken_at,
        secrets: snapshot.secrets().len(),
        last_error: status.last_error,
        last_error_at: status.last_error_at,
        versions_missing: status.versions_missing,
        source: state.source_label.clone(),
    }
}
