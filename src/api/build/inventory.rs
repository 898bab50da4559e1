//! The inventory list and the sources pages' data, built from the current
//! snapshot. No AWS calls.

use crate::api::{
    Facet, FacetValue, FolderNode, InventoryPage, OwnerCell, SecretRow, SourceList, SourceRow,
    SyncInfo, PAGE_SIZE,
};
use crate::domain::health::Summary;
use crate::domain::query::{toggle_tag_term, toggle_term_text};

/// The search term for the secrets outside any folder (no `/` in the name).
pub const ROOTLESS_TERM: &str = "-name:*/*";
use crate::domain::tree::{in_folder, Folder, NameTree};
use crate::domain::{Secret, State, Timestamp};
use crate::server::clock::now;
use crate::server::health::HealthView;
use crate::server::inventory::Snapshot;
use crate::server::selection::{select, Selection};
use crate::server::AppState;
use std::collections::HashMap;

pub fn row(s: &Secret, health: Summary, now: Timestamp, snapshot: &Snapshot) -> SecretRow {
    let owners = crate::domain::owner::owners_of(s);
    let owner = owners.owner().map(|o| OwnerCell {
        name: o.name.clone(),
        from: o.source_text(),
        conflict: owners
            .conflict()
            .then(|| owners.description.as_ref().map(|d| d.name.clone()))
            .flatten(),
    });
    SecretRow {
        owner,
        kms_default: s.uses_default_kms_key(),
        kms_key: (!s.uses_default_kms_key())
            .then(|| s.kms_key_id.as_deref().map(str::to_string))
            .flatten(),
        account: s.account.to_string(),
        region: s.region.to_string(),
        replicas: snapshot
            .replicas_of(&s.arn)
            .iter()
            .map(|r| r.region.to_string())
            .collect(),
        link: if snapshot.name_is_unique(s) {
            s.name.to_string()
        } else {
            s.arn.to_string()
        },
        health: health.worst,
        findings: health.active().iter().collect(),
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

/// The positions among `hits` (sorted) inside `range`.
pub fn count_in(hits: &[usize], range: std::ops::Range<usize>) -> usize {
    hits.partition_point(|&i| i < range.end) - hits.partition_point(|&i| i < range.start)
}

/// Folder `folder` with its sub-folders along `open`. With `hits` (a
/// search applies), counts are of the secrets it matched, and sub-folders
/// with none are left out, except those on the way to the open folder.
fn folder_node(
    view: &HealthView,
    tree: &NameTree,
    folder: &Folder,
    open: &str,
    hits: Option<&[usize]>,
) -> FolderNode {
    let expanded = folder.path.is_empty() || in_folder(open, &folder.path) || open == folder.path;
    let matching = |f: &Folder| match hits {
        None => f.secrets,
        Some(h) => count_in(h, view.snapshot.folder_range(&f.path)),
    };
    let shown = |f: &Folder| {
        hits.is_none() || open == f.path || in_folder(open, &f.path) || matching(f) > 0
    };
    let children = expanded.then(|| {
        tree.children(folder)
            .filter(|c| shown(c))
            .take(MAX_CHILDREN)
            .map(|c| folder_node(view, tree, c, open, hits))
            .collect()
    });
    let count = tree.children(folder).filter(|c| shown(c)).count();
    FolderNode {
        path: folder.path.clone(),
        segment: folder.segment.clone(),
        secrets: matching(folder),
        all: folder.secrets,
        worst: view.worst_in(view.snapshot.folder_range(&folder.path)),
        has_children: count > 0,
        children,
        more: if expanded {
            count.saturating_sub(MAX_CHILDREN)
        } else {
            0
        },
    }
}

/// Tag keys shown as facets at most, and values per key.
const MAX_FACETS: usize = 12;
const MAX_FACET_VALUES: usize = 8;

/// The most common tag keys among the secrets at `positions`, each with its
/// most common values and the number of secrets lacking the key ("missing").
/// Counts run over the index's numbered (lowercased) keys and values, so
/// `Env=Prod` and `env=prod` count together, as the search treats them; the
/// spelling shown is the first one met.
pub fn facets(snapshot: &Snapshot, positions: &[usize], q: &str) -> Vec<Facet> {
    let index = snapshot.index();
    // Counts do not depend on the order, but memory does: walking the index
    // front to back is 3–4× faster than in date order at 100,000 secrets.
    let in_order;
    let positions = if positions.is_sorted() {
        positions
    } else {
        let mut marked = vec![false; snapshot.secrets().len()];
        for &i in positions {
            marked[i] = true;
        }
        in_order = marked
            .iter()
            .enumerate()
            .filter(|(_, &m)| m)
            .map(|(i, _)| i)
            .collect::<Vec<usize>>();
        &in_order[..]
    };
    // Secrets holding each key (a key repeated on one secret counts once).
    let mut keys: Vec<(u32, usize)> = vec![(0, usize::MAX); index.tag_key_count()];
    // (key, value) -> (count, where first seen: secret position, tag position).
    let mut pairs: HashMap<u64, (u32, usize, usize), BuildPairHasher> = HashMap::default();
    for &i in positions {
        for (j, &(k, v)) in index.row_tags(i).iter().enumerate() {
            let slot = &mut keys[k as usize];
            if slot.1 != i {
                slot.0 += 1;
                slot.1 = i;
            }
            pairs
                .entry((u64::from(k) << 32) | u64::from(v))
                .or_insert((0, i, j))
                .0 += 1;
        }
    }
    let mut top: Vec<(u32, u32)> = keys
        .iter()
        .enumerate()
        .filter(|(_, &(n, _))| n > 0)
        .map(|(k, &(n, _))| (k as u32, n))
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(MAX_FACETS);
    // The values of each shown key, gathered in one pass over the pairs.
    let mut slot_of: Vec<Option<usize>> = vec![None; keys.len()];
    for (slot, &(k, _)) in top.iter().enumerate() {
        slot_of[k as usize] = Some(slot);
    }
    let mut values_of: Vec<Vec<(u32, usize, usize)>> = vec![Vec::new(); top.len()];
    for (&pair, &(n, i, j)) in &pairs {
        if let Some(slot) = slot_of[(pair >> 32) as usize] {
            values_of[slot].push((n, i, j));
        }
    }
    let tag = |i: usize, j: usize| &snapshot.secrets()[i].tags[j];
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
    let mut out: Vec<Facet> = top
        .into_iter()
        .zip(values_of)
        .map(|((_, present), values)| {
            let key = values
                .first()
                .map(|&(_, i, j)| tag(i, j).key.to_string())
                .unwrap_or_default();
            let mut values: Vec<(&str, usize)> = values
                .into_iter()
                .map(|(n, i, j)| (&*tag(i, j).value, n as usize))
                .collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let more = values.len().saturating_sub(MAX_FACET_VALUES);
            let mut shown: Vec<FacetValue> = values
                .into_iter()
                .take(MAX_FACET_VALUES)
                .map(|(v, n)| toggle(&key, Some(v), n))
                .collect();
            let missing = positions.len() - present as usize;
            // Offer "missing" while it would narrow the result, and keep it
            // visible while it is the active term so it can be removed.
            let missing_value = toggle(&key, None, missing);
            if missing > 0 || missing_value.active {
                shown.push(missing_value);
            }
            Facet {
                key,
                values: shown,
                more,
            }
        })
        .collect();
    // Most common first; ties by key, as spelled.
    out.sort_by(|a, b| {
        let n = |f: &Facet| {
            positions.len()
                - f.values
                    .iter()
                    .find(|v| v.value.is_none())
                    .map_or(0, |v| v.count)
        };
        n(b).cmp(&n(a)).then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// Accounts and regions among the secrets at `positions`, most common
/// first; none when the whole inventory is in one account and region.
pub fn places(snapshot: &Snapshot, positions: &[usize], q: &str) -> Vec<Facet> {
    let secrets = snapshot.secrets();
    let spread = |f: fn(&crate::domain::Secret) -> &str| {
        secrets
            .first()
            .is_some_and(|first| secrets.iter().any(|s| f(s) != f(first)))
    };
    let mut out = Vec::new();
    for (region, key, field) in [
        (
            false,
            "account",
            (|s: &crate::domain::Secret| &*s.account) as fn(&crate::domain::Secret) -> &str,
        ),
        (true, "region", |s: &crate::domain::Secret| &*s.region),
    ] {
        if !spread(field) {
            continue;
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for &i in positions {
            *counts.entry(field(&secrets[i])).or_default() += 1;
        }
        let mut values: Vec<(&str, usize)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let more = values.len().saturating_sub(MAX_FACET_VALUES);
        let values = values
            .into_iter()
            .take(MAX_FACET_VALUES)
            .map(|(v, n)| {
                let toggled = crate::domain::query::toggle_place_term(q, region, v);
                FacetValue {
                    value: Some(v.to_string()),
                    count: n,
                    active: toggled.len() < q.trim().len(),
                    toggled,
                }
            })
            .collect();
        out.push(Facet {
            key: key.to_string(),
            values,
            more,
        });
    }
    out
}

/// A multiply-shift hash for the facet's packed (key, value) ids: SipHash's
/// protection against chosen keys is not needed for numbers we assigned.
#[derive(Clone, Copy, Default)]
pub struct BuildPairHasher;

#[derive(Default)]
pub struct PairHasher(u64);

impl std::hash::BuildHasher for BuildPairHasher {
    type Hasher = PairHasher;
    fn build_hasher(&self) -> PairHasher {
        PairHasher(0)
    }
}

impl std::hash::Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// One page of the list over `view` (the whole inventory, or the part a
/// user's grants cover).
pub fn inventory_page(
    view: &HealthView,
    q: &str,
    path: &str,
    sort: &str,
    page: usize,
) -> InventoryPage {
    let now = view.at;
    let snapshot = &view.snapshot;
    let Selection {
        positions,
        matched,
        error,
        path,
        sort,
        desc,
        hits,
    } = select(view, q, path, sort);
    let tree = snapshot.tree();
    let pages = matched.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = matched
        .iter()
        .zip(&positions)
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|(s, &i)| row(s, view.summary(i), now, snapshot))
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
        tree: folder_node(view, tree, tree.root(), &path, hits.as_deref()),
        facets: facets(snapshot, &positions, q),
        places: places(snapshot, &positions, q),
        quick: super::inventory_facets::quick_facets(view, &positions, q),
        searching: hits.is_some(),
        rootless: super::inventory_facets::rootless(snapshot, hits.as_deref()),
        rootless_toggled: toggle_term_text(q, ROOTLESS_TERM),
        rootless_active: toggle_term_text(q, ROOTLESS_TERM).len() < q.trim().len(),
        path,
        sort,
        desc,
    }
}

pub fn sync_info(state: &AppState) -> SyncInfo {
    let status = state.inventory.status();
    let snapshot = state.inventory.snapshot();
    let sources = state.inventory.sources();
    let at = now();
    let failing = sources
        .iter()
        .filter_map(|s| {
            Some(crate::api::FailingSource {
                error: source_problem(s, at)?,
                id: s.id.clone(),
                last_success: s.status.last_success,
            })
        })
        .collect();
    SyncInfo {
        now: at,
        // The stalest source's last success: what every page's data is at least as new as.
        taken_at: status.last_success.or(snapshot.taken_at),
        secrets: snapshot.secrets().len(),
        last_error: status.last_error,
        last_error_at: status.last_error_at,
        versions_missing: status.versions_missing,
        source: state.source_label.clone(),
        sources: sources.len(),
        failing,
        sees_sources: false,
    }
}

/// What is wrong with source `s` at `now`: its last error, or no success
/// for three of its intervals (a pass that hangs); `None` when current.
pub fn source_problem(
    s: &crate::server::inventory::SourceStatus,
    now: Timestamp,
) -> Option<String> {
    let st = &s.status;
    let limit = 3 * s.interval_secs.max(1) as i64;
    match (&st.last_error, st.last_success) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(t)) if now.secs() - t.secs() > limit => Some(format!(
            "No successful pass for {}; it syncs every {}. Its last pass may be hanging: check the network path to AWS.",
            crate::domain::time::span(now.secs() - t.secs()),
            crate::domain::time::span(s.interval_secs as i64)
        )),
        _ => None,
    }
}

/// How the incremental pass keeps a source current, in a sentence.
fn sync_mode(i: &crate::server::inventory::IncrementalStatus) -> String {
    use crate::domain::time::span;
    if let Some(off) = &i.off {
        return off.clone();
    }
    let every = span(i.interval_secs as i64);
    match &i.last_error {
        Some(e) => format!(
            "CloudTrail write events every {every}, failing: {e} List passes run at the source's interval until it works."
        ),
        None => format!(
            "CloudTrail write events every {every} ({} events, {} secrets re-read, {} lookups); a full list pass every {}.",
            i.events,
            i.reread,
            i.lookups,
            span(i.full_interval_secs as i64)
        ),
    }
}

/// Every source with its status and AWS call counters, for `/sources`.
pub fn source_list(state: &AppState) -> SourceList {
    let rows = state
        .inventory
        .sources()
        .into_iter()
        .map(|s| {
            let api = state
                .sources
                .all()
                .iter()
                .find(|c| c.id() == s.id)
                .map(|c| c.counters.values())
                .unwrap_or_default();
            let st = s.status;
            SourceRow {
                id: s.id,
                name: s.name,
                account: s.account,
                region: s.region,
                role_arn: s.role_arn,
                interval_secs: s.interval_secs,
                last_attempt: st.last_attempt,
                last_success: st.last_success,
                last_error: st.last_error,
                last_error_at: st.last_error_at,
                secrets: st.list.as_ref().map(|l| l.secrets),
                duration_ms: st.list.as_ref().map(|l| l.duration_ms),
                syncs_ok: st.syncs_ok,
                syncs_failed: st.syncs_failed,
                versions_missing: st.versions_missing,
                api_calls: api.attempts,
                throttled: api.throttled,
                sync_mode: st.incremental.as_ref().map(sync_mode),
            }
        })
        .collect();
    let snapshot = state.inventory.snapshot();
    SourceList {
        now: now(),
        rows,
        secrets: snapshot.secrets().len(),
        replicas: snapshot.all_secrets().count() - snapshot.secrets().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::source_problem;
    use crate::domain::Timestamp;
    use crate::server::inventory::{SourceStatus, SyncStatus};

    #[test]
    fn a_source_is_a_problem_when_failing_or_stale() {
        let at = |success: Option<i64>, error: Option<&str>| SourceStatus {
            id: "main/us-east-1".into(),
            interval_secs: 300,
            status: SyncStatus {
                last_success: success.map(Timestamp::new),
                last_error: error.map(String::from),
                ..Default::default()
            },
            ..Default::default()
        };
        let now = Timestamp::new(10_000);
        assert_eq!(source_problem(&at(Some(9_500), None), now), None);
        assert_eq!(source_problem(&at(None, None), now), None, "not read yet");
        assert_eq!(
            source_problem(&at(Some(9_900), Some("AssumeRole denied")), now).as_deref(),
            Some("AssumeRole denied")
        );
        let stale = source_problem(&at(Some(10_000 - 901), None), now).unwrap();
        assert!(
            stale.starts_with("No successful pass for 15 min"),
            "{stale}"
        );
        assert!(stale.contains("every 5 min"), "{stale}");
    }
}
