//! The secrets a view shows: the search, the folder and the sort applied
//! to a [`HealthView`], as the list page and the CSV export both need them.

use super::health::HealthView;
use super::inventory::Snapshot;
use super::AppState;
use crate::domain::listing::{parse_sort, QueryError, SortKey};
use crate::domain::query::Query;
use crate::domain::{Secret, Timestamp};

/// The date a secret sorts by under `key` (`None` for name order).
pub fn sort_value(s: &Secret, key: SortKey) -> Option<Timestamp> {
    match key {
        SortKey::Name => None,
        SortKey::LastRotated => s.last_rotated,
        SortKey::NextRotation => s.next_rotation,
        SortKey::LastAccessed => s.last_accessed,
        SortKey::Created => s.created,
        SortKey::LastChanged => s.last_changed,
    }
}

/// The secrets a view shows, in its order: the search (or nothing filtered
/// when it does not parse), the folder and the sort, as the list and the
/// export both apply them.
pub struct Selection<'a> {
    /// Positions in the snapshot, in display order.
    pub positions: Vec<usize>,
    pub matched: Vec<&'a Secret>,
    pub error: Option<QueryError>,
    /// The folder actually used: an unknown one opens the deepest that exists.
    pub path: String,
    pub sort: SortKey,
    pub desc: bool,
    /// With a search that applies: every position it matches in the whole
    /// view (any folder), in name order, for the folder counts.
    pub hits: Option<Vec<usize>>,
}

pub fn select<'a>(view: &'a HealthView, q: &str, path: &str, sort: &str) -> Selection<'a> {
    let snapshot: &Snapshot = &view.snapshot;
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
    let folder = snapshot.folder_range(&path);
    let hits = (!query.is_empty()).then(|| query.select_with(snapshot.index(), Some(view)));
    let mut positions: Vec<usize> = match &hits {
        None => folder.collect(),
        Some(hits) => {
            // Hits are in name order, and a folder is a run of positions.
            let start = hits.partition_point(|&i| i < folder.start);
            let end = hits.partition_point(|&i| i < folder.end);
            hits[start..end].to_vec()
        }
    };
    let secrets = snapshot.secrets();
    // Positions are in name order, so name order needs nothing and the
    // position breaks ties: each key is unique and an unstable sort is exact.
    match (sort, desc) {
        (SortKey::Name, false) => {}
        (SortKey::Name, true) => positions.reverse(),
        _ => {
            let mut keyed: Vec<(i64, usize)> = positions
                .iter()
                .map(|&i| {
                    // Unknown dates go last either way.
                    let k = match sort_value(&secrets[i], sort) {
                        Some(t) if desc => -t.secs(),
                        Some(t) => t.secs(),
                        None => i64::MAX,
                    };
                    (k, i)
                })
                .collect();
            keyed.sort_unstable();
            positions = keyed.into_iter().map(|(_, i)| i).collect();
        }
    }
    Selection {
        matched: positions.iter().map(|&i| &*secrets[i]).collect(),
        positions,
        error,
        path,
        sort,
        desc,
        hits,
    }
}

/// The ids of the sources that hold a secret of `view` (by account and
/// region): what a scoped user may hear about. The single default source
/// (id "") always counts.
pub fn sources_in_view(
    state: &AppState,
    view: &super::health::HealthView,
) -> std::collections::HashSet<String> {
    let places: std::collections::HashSet<(&str, &str)> = view
        .snapshot
        .secrets()
        .iter()
        .map(|s| (&*s.account, &*s.region))
        .collect();
    let mut ids: std::collections::HashSet<String> = state
        .inventory
        .sources()
        .into_iter()
        .filter(|s| {
            s.account
                .as_deref()
                .is_some_and(|a| places.contains(&(a, s.region.as_str())))
        })
        .map(|s| s.id)
        .collect();
    ids.insert(String::new());
    ids
}
