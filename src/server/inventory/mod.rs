//! The in-memory inventory: an immutable `Snapshot` behind an `Arc`, swapped
//! atomically after each sync, plus the sync status shown on every page.
//! Requests read the snapshot; they never call AWS.

mod changes;
mod learned;
pub mod memory;

use crate::domain::query::SearchIndex;
use crate::domain::tree::NameTree;
use crate::domain::{Secret, Timestamp};
use crate::server::aws::sync::VersionPassReport;
use arc_swap::ArcSwap;
pub use changes::{Changes, IncrementalStatus};
use learned::Learned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ListStats {
    pub secrets: usize,
    pub pages: u32,
    pub api_calls: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    /// Sorted by name, then region, then ARN.
    secrets: Vec<Arc<Secret>>,
    /// When the list pass behind this snapshot finished; `None` before the first.
    pub taken_at: Option<Timestamp>,
    /// Folders by name segment; shared while names do not change.
    tree: Arc<NameTree>,
    /// Columns for fast search and facets, in the same order as `secrets`;
    /// shared while no indexed field changes.
    index: Arc<SearchIndex>,
    /// Replicas (`PrimaryRegion` elsewhere) whose primary is in the
    /// inventory, by the primary's ARN. They are not in `secrets`: a
    /// replicated secret is shown once, with its replicas linked to it.
    replicas: Arc<HashMap<Arc<str>, Vec<Arc<Secret>>>>,
}

impl Snapshot {
    pub fn new(mut secrets: Vec<Arc<Secret>>, taken_at: Option<Timestamp>) -> Self {
        secrets.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.region.cmp(&b.region))
                .then_with(|| a.arn.cmp(&b.arn))
        });
        let replicas = link_replicas(&mut secrets);
        let tree = Arc::new(NameTree::build(secrets.iter().map(|s| &*s.name)));
        let index = Arc::new(SearchIndex::new(secrets.iter().map(|s| &**s)));
        Snapshot {
            secrets,
            taken_at,
            tree,
            index,
            replicas: Arc::new(replicas),
        }
    }

    /// The replicas of the secret `primary_arn`, by region.
    pub fn replicas_of(&self, primary_arn: &str) -> &[Arc<Secret>] {
        self.replicas
            .get(primary_arn)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The primary a linked replica belongs to.
    pub fn primary_of(&self, replica: &Secret) -> Option<&Arc<Secret>> {
        let primary_region = replica.primary_region.as_deref()?;
        self.named(&replica.name).iter().find(|p| {
            p.account == replica.account
                && *p.region == *primary_region
                && self
                    .replicas_of(&p.arn)
                    .iter()
                    .any(|r| r.arn == replica.arn)
        })
    }

    /// Every secret, replicas included: what a sync replaces.
    pub fn all_secrets(&self) -> impl Iterator<Item = &Arc<Secret>> {
        self.secrets.iter().chain(self.replicas.values().flatten())
    }

    /// The secrets (not replicas) named `name`, by region then ARN.
    fn named(&self, name: &str) -> &[Arc<Secret>] {
        let start = self.secrets.partition_point(|s| &*s.name < name);
        let len = self.secrets[start..].partition_point(|s| &*s.name == name);
        &self.secrets[start..start + len]
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// The positions of the secrets below folder `path` ("" for all): a
    /// contiguous run, since secrets are sorted by name.
    pub fn folder_range(&self, path: &str) -> std::ops::Range<usize> {
        if path.is_empty() {
            return 0..self.secrets.len();
        }
        let prefix = format!("{path}/");
        let start = self.secrets.partition_point(|s| *s.name < *prefix);
        let len = self.secrets[start..].partition_point(|s| s.name.starts_with(&prefix));
        start..start + len
    }

    pub fn tree(&self) -> &NameTree {
        &self.tree
    }

    pub fn secrets(&self) -> &[Arc<Secret>] {
        &self.secrets
    }

    /// Looks an ARN up by the name inside it (a secret's ARN is
    /// `arn:…:secret:<name>-<6 characters>`), so the snapshot needs no map
    /// from ARN to secret (3 MB at 100,000 secrets); an ARN of another form
    /// is looked for one by one.
    pub fn arc_by_arn(&self, arn: &str) -> Option<&Arc<Secret>> {
        let name = arn
            .split_once(":secret:")
            .and_then(|(_, rest)| rest.get(..rest.len().checked_sub(7)?));
        match name {
            Some(name) => self
                .named(name)
                .iter()
                .find(|s| &*s.arn == arn)
                .or_else(|| {
                    self.named(name)
                        .iter()
                        .flat_map(|p| self.replicas_of(&p.arn))
                        .find(|s| &*s.arn == arn)
                }),
            None => self.all_secrets().find(|s| &*s.arn == arn),
        }
    }

    pub fn by_arn(&self, arn: &str) -> Option<&Secret> {
        self.arc_by_arn(arn).map(|s| &**s)
    }

    /// The secret named `name`; when several accounts or regions have one,
    /// the first by region, then ARN (replicas are never the answer).
    pub fn by_name(&self, name: &str) -> Option<&Secret> {
        self.named(name).first().map(|s| &**s)
    }

    /// True when no other secret (replicas aside) has `s`'s name, so its
    /// name alone links to it.
    pub fn name_is_unique(&self, s: &Secret) -> bool {
        self.named(&s.name).len() <= 1
    }
}

/// Moves each replica whose primary is in `secrets` (same account and name,
/// in the replica's `PrimaryRegion`) out of `secrets`, sorted, into the
/// map from the primary's ARN to its replicas.
fn link_replicas(secrets: &mut Vec<Arc<Secret>>) -> HashMap<Arc<str>, Vec<Arc<Secret>>> {
    let mut replicas: HashMap<Arc<str>, Vec<Arc<Secret>>> = HashMap::new();
    let is_replica = |s: &Secret| s.primary_region.as_deref().is_some_and(|p| *p != *s.region);
    if !secrets.iter().any(|s| is_replica(s)) {
        return replicas;
    }
    let mut keep = vec![true; secrets.len()];
    let mut start = 0;
    while start < secrets.len() {
        let name = &secrets[start].name;
        let end = start + secrets[start..].partition_point(|s| s.name == *name);
        for i in start..end {
            let r = &secrets[i];
            if !is_replica(r) {
                continue;
            }
            let primary = secrets[start..end].iter().find(|p| {
                !is_replica(p)
                    && p.account == r.account
                    && Some(&*p.region) == r.primary_region.as_deref()
            });
            if let Some(p) = primary {
                replicas.entry(p.arn.clone()).or_default().push(r.clone());
                keep[i] = false;
            }
        }
        start = end;
    }
    let mut i = 0;
    secrets.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    replicas
}

/// True when `a` and `b` agree on everything the search index holds.
fn same_indexed_fields(a: &Secret, b: &Secret) -> bool {
    a.name == b.name
        && a.description == b.description
        && a.region == b.region
        && a.account == b.account
        && a.kms_key_id == b.kms_key_id
        && a.owning_service == b.owning_service
        && a.tags == b.tags
        && a.rotation_enabled == b.rotation_enabled
        && a.deleted.is_some() == b.deleted.is_some()
        && a.seen_failure().and_then(|f| f.step) == b.seen_failure().and_then(|f| f.step)
        && a.causes == b.causes
        && a.high_value == b.high_value
        && match (&a.reads, &b.reads) {
            (Some(x), Some(y)) => Arc::ptr_eq(x, y),
            (None, None) => true,
            _ => false,
        }
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SyncStatus {
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    /// The last failure, if it happened after the last success.
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub list: Option<ListStats>,
    pub syncs_ok: u64,
    pub syncs_failed: u64,
    /// Secrets whose version dates are not known (yet).
    pub versions_missing: usize,
    pub last_version_pass: Option<VersionPassReport>,
    pub versions_complete_at: Option<Timestamp>,
    /// The incremental pass from CloudTrail, when one runs (`changes.rs`).
    pub incremental: Option<IncrementalStatus>,
}

/// One source's identity and its own sync status.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SourceStatus {
    /// `name/region`.
    pub id: String,
    pub name: String,
    pub region: String,
    /// Known from the role ARN, else from the first secret listed.
    pub account: Option<String>,
    pub role_arn: Option<String>,
    pub interval_secs: u64,
    pub status: SyncStatus,
}

/// Which source a list pass was of, and the account and region it holds.
#[derive(Clone, Copy, Debug)]
pub struct SourceKey<'a> {
    /// `name/region`.
    pub id: &'a str,
    /// `None` while the source has listed no secret (so it holds none).
    pub account: Option<&'a str>,
    pub region: &'a str,
}

/// The id of the source the one-source methods (`publish_list`, …) use.
pub const DEFAULT_SOURCE: &str = "default";

#[derive(Default)]
pub struct Inventory {
    snapshot: ArcSwap<Snapshot>,
    /// In registration order.
    sources: Mutex<Vec<SourceStatus>>,
    /// Serialises writers so that a version merge never undoes a list swap.
    write: Mutex<()>,
    /// The newest rotation failure seen per secret ARN (CloudTrail, or a
    /// rotation followed here): attached to the secret while it applies to
    /// the rotation pending on it, so a failed retry stays a failure.
    failures: Mutex<Learned>,
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Makes a source known (listed with no sync yet) before its first pass.
    pub fn register(&self, source: SourceStatus) {
        let mut all = self.lock_sources();
        match all.iter_mut().find(|s| s.id == source.id) {
            Some(s) => {
                let status = std::mem::take(&mut s.status);
                *s = SourceStatus { status, ..source };
            }
            None => all.push(source),
        }
    }

    /// Every source with its status, in registration order.
    pub fn sources(&self) -> Vec<SourceStatus> {
        self.lock_sources().clone()
    }

    /// All sources together: the stalest success, the sum of the counts,
    /// the errors of the failing ones.
    pub fn status(&self) -> SyncStatus {
        aggregate(&self.lock_sources())
    }

    /// Ready when every source has finished a first pass (so no page shows
    /// half an inventory) and at least one of them succeeded.
    pub fn is_ready(&self) -> bool {
        let all = self.lock_sources();
        !all.is_empty()
            && all
                .iter()
                .all(|s| s.status.last_success.is_some() || s.status.last_error.is_some())
            && all.iter().any(|s| s.status.last_success.is_some())
    }

    fn lock_sources(&self) -> std::sync::MutexGuard<'_, Vec<SourceStatus>> {
        self.sources.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with_source<T>(&self, id: &str, f: impl FnOnce(&mut SourceStatus) -> T) -> T {
        let mut all = self.lock_sources();
        let i = match all.iter().position(|s| s.id == id) {
            Some(i) => i,
            None => {
                all.push(SourceStatus {
                    id: id.to_string(),
                    name: id.to_string(),
                    ..Default::default()
                });
                all.len() - 1
            }
        };
        f(&mut all[i])
    }

    pub fn record_attempt(&self, at: Timestamp) {
        self.record_attempt_of(DEFAULT_SOURCE, at)
    }

    pub fn record_attempt_of(&self, source: &str, at: Timestamp) {
        self.with_source(source, |s| s.status.last_attempt = Some(at));
    }

    pub fn record_failure(&self, at: Timestamp, message: &str) {
        self.record_failure_of(DEFAULT_SOURCE, at, message)
    }

    pub fn record_failure_of(&self, source: &str, at: Timestamp, message: &str) {
        self.with_source(source, |s| {
            let st = &mut s.status;
            st.last_error = Some(message.to_string());
            st.last_error_at = Some(at);
            st.syncs_failed += 1;
        });
    }

    /// Replaces the whole inventory (one-source use: tests, benchmarks).
    pub fn publish_list(
        &self,
        secrets: Vec<Arc<Secret>>,
        stats: ListStats,
        at: Timestamp,
        versions_missing: usize,
    ) {
        self.publish(
            DEFAULT_SOURCE,
            |_| true,
            secrets,
            stats,
            at,
            versions_missing,
        )
    }

    /// Replaces the secrets of `account` in `region` (none when the account
    /// is not known: such a source has never listed one) with `secrets`,
    /// the other sources' secrets staying as they are.
    pub fn publish_source(
        &self,
        key: SourceKey<'_>,
        secrets: Vec<Arc<Secret>>,
        stats: ListStats,
        at: Timestamp,
        versions_missing: usize,
    ) {
        let SourceKey {
            id: source,
            account,
            region,
        } = key;
        if let Some(account) = account {
            self.with_source(source, |s| s.account = Some(account.to_string()));
        }
        let owned = |s: &Secret| account.is_some_and(|a| *s.account == *a) && *s.region == *region;
        self.publish(source, owned, secrets, stats, at, versions_missing)
    }

    fn publish(
        &self,
        source: &str,
        owned: impl Fn(&Secret) -> bool,
        mut secrets: Vec<Arc<Secret>>,
        stats: ListStats,
        at: Timestamp,
        versions_missing: usize,
    ) {
        {
            let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
            let current = self.snapshot.load_full();
            let book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            for s in &mut secrets {
                Self::attach_learned(&book, s);
            }
            secrets.extend(current.all_secrets().filter(|s| !owned(s)).cloned());
            self.snapshot
                .store(Arc::new(Snapshot::new(secrets, Some(at))));
        }
        self.with_source(source, |s| {
            let st = &mut s.status;
            st.last_success = Some(at);
            st.last_error = None;
            st.last_error_at = None;
            st.list = Some(stats);
            st.syncs_ok += 1;
            st.versions_missing = versions_missing;
            if versions_missing > 0 {
                st.versions_complete_at = None;
            }
        });
    }

    /// Replaces each secret for which `f` returns a new value; the others are
    /// shared with the previous snapshot. Seen failures are attached (or
    /// dropped) as they apply to each secret's pending rotation.
    pub fn update_secrets(&self, f: impl Fn(&Secret) -> Option<Secret>) {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let f = |s: &Secret| match f(s) {
            Some(mut new) => {
                Self::attach_learned_owned(&book, &mut new);
                Some(new)
            }
            None => Self::with_failure(&book, s),
        };
        let current = self.snapshot.load_full();
        let mut changed = false;
        let mut reindex = false;
        let secrets: Vec<Arc<Secret>> = current
            .secrets
            .iter()
            .map(|s| match f(s) {
                Some(new) => {
                    changed = true;
                    reindex |= !same_indexed_fields(s, &new);
                    Arc::new(new)
                }
                None => s.clone(),
            })
            .collect();
        let mut replicas_changed = false;
        let replicas: HashMap<Arc<str>, Vec<Arc<Secret>>> = if current.replicas.is_empty() {
            HashMap::new()
        } else {
            current
                .replicas
                .iter()
                .map(|(primary, rs)| {
                    let rs = rs
                        .iter()
                        .map(|r| match f(r) {
                            Some(new) => {
                                replicas_changed = true;
                                Arc::new(new)
                            }
                            None => r.clone(),
                        })
                        .collect();
                    (primary.clone(), rs)
                })
                .collect()
        };
        if changed || replicas_changed {
            // Same order: names did not change. Version dates (the usual
            // change) are not indexed, so the index is shared.
            let index = if reindex {
                Arc::new(SearchIndex::new(secrets.iter().map(|s| &**s)))
            } else {
                current.index.clone()
            };
            self.snapshot.store(Arc::new(Snapshot {
                secrets,
                taken_at: current.taken_at,
                tree: current.tree.clone(),
                index,
                replicas: if replicas_changed {
                    Arc::new(replicas)
                } else {
                    current.replicas.clone()
                },
            }));
        }
    }

    pub fn set_versions_missing(&self, missing: usize) {
        self.set_versions_missing_of(DEFAULT_SOURCE, missing)
    }

    pub fn set_versions_missing_of(&self, source: &str, missing: usize) {
        self.with_source(source, |s| s.status.versions_missing = missing);
    }

    pub fn record_versions(&self, at: Timestamp, report: &VersionPassReport) {
        self.record_versions_of(DEFAULT_SOURCE, at, report)
    }

    pub fn record_versions_of(&self, source: &str, at: Timestamp, report: &VersionPassReport) {
        self.with_source(source, |s| {
            let st = &mut s.status;
            st.last_version_pass = Some(report.clone());
            if st.versions_missing == 0 {
                st.versions_complete_at = Some(at);
            }
        });
    }
}

/// The status of all `sources` as one: what the header, `/readyz` and the
/// one-line summaries show. One source's status is itself.
fn aggregate(sources: &[SourceStatus]) -> SyncStatus {
    if let [one] = sources {
        return one.status.clone();
    }
    let all = || sources.iter().map(|s| &s.status);
    let failing: Vec<&SourceStatus> = sources
        .iter()
        .filter(|s| s.status.last_error.is_some())
        .collect();
    let last_error = (!failing.is_empty()).then(|| {
        let each: Vec<String> = failing
            .iter()
            .map(|s| format!("{}: {}", s.id, s.status.last_error.as_deref().unwrap_or("")))
            .collect();
        format!(
            "{} of {} sources failing. {}",
            failing.len(),
            sources.len(),
            each.join(" ")
        )
    });
    let lists: Vec<&ListStats> = all().filter_map(|s| s.list.as_ref()).collect();
    let list = (!lists.is_empty()).then(|| ListStats {
        secrets: lists.iter().map(|l| l.secrets).sum(),
        pages: lists.iter().map(|l| l.pages).sum(),
        api_calls: lists.iter().map(|l| l.api_calls).sum(),
        throttled: lists.iter().map(|l| l.throttled).sum(),
        server_errors: lists.iter().map(|l| l.server_errors).sum(),
        duration_ms: lists.iter().map(|l| l.duration_ms).max().unwrap_or(0),
    });
    let passes: Vec<&VersionPassReport> =
        all().filter_map(|s| s.last_version_pass.as_ref()).collect();
    let last_version_pass = (!passes.is_empty()).then(|| VersionPassReport {
        needed: passes.iter().map(|p| p.needed).sum(),
        fetched: passes.iter().map(|p| p.fetched).sum(),
        failed: passes.iter().map(|p| p.failed).sum(),
        api_calls: passes.iter().map(|p| p.api_calls).sum(),
        duration_ms: passes.iter().map(|p| p.duration_ms).max().unwrap_or(0),
        last_error: passes.iter().find_map(|p| p.last_error.clone()),
    });
    let complete = all().all(|s| s.versions_complete_at.is_some());
    SyncStatus {
        last_attempt: all().filter_map(|s| s.last_attempt).max(),
        last_success: all().filter_map(|s| s.last_success).min(),
        last_error,
        last_error_at: failing.iter().filter_map(|s| s.status.last_error_at).max(),
        list,
        syncs_ok: all().map(|s| s.syncs_ok).sum(),
        syncs_failed: all().map(|s| s.syncs_failed).sum(),
        versions_missing: all().map(|s| s.versions_missing).sum(),
        last_version_pass,
        versions_complete_at: if complete {
            all().filter_map(|s| s.versions_complete_at).max()
        } else {
            None
        },
        incremental: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;

    #[test]
    fn lookups_and_update() {
        let inv = Inventory::new();
        assert!(!inv.is_ready());
        let secrets = ["b/x", "a", "b/a"].map(|n| Arc::new(secret(n))).to_vec();
        inv.publish_list(secrets, ListStats::default(), Timestamp::new(10), 3);
        assert!(inv.is_ready());
        let snap = inv.snapshot();
        let names: Vec<&str> = snap.secrets().iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["a", "b/a", "b/x"]);
        assert_eq!(&*snap.by_name("b/a").unwrap().name, "b/a");
        assert!(snap.by_name("b").is_none());
        let arn = snap.by_name("b/x").unwrap().arn.clone();
        assert_eq!(&*snap.by_arn(&arn).unwrap().name, "b/x");
        // Same name elsewhere, a missing ARN, an ARN of another form.
        assert!(snap
            .by_arn(&arn.replace("us-east-1", "eu-west-1"))
            .is_none());
        assert!(snap
            .by_arn("arn:aws:secretsmanager:us-east-1:1:secret:zz-AbCdEf")
            .is_none());
        let mut odd = secret("c");
        odd.arn = Arc::from("c-arn-without-the-usual-shape");
        inv.publish_list(
            vec![Arc::new(odd), Arc::new(secret("d"))],
            ListStats::default(),
            Timestamp::new(11),
            0,
        );
        let snap2 = inv.snapshot();
        assert_eq!(
            &*snap2.by_arn("c-arn-without-the-usual-shape").unwrap().name,
            "c"
        );
        assert!(snap2.by_arn(&arn).is_none());
        inv.publish_list(
            snap.secrets().to_vec(),
            ListStats::default(),
            Timestamp::new(12),
            0,
        );
        let snap = inv.snapshot();

        inv.update_secrets(|s| {
            (&*s.name == "a").then(|| {
                let mut s = s.clone();
                s.description = Some("updated".into());
                s
            })
        });
        let after = inv.snapshot();
        assert_eq!(
            after.by_name("a").unwrap().description.as_deref(),
            Some("updated")
        );
        assert!(
            Arc::ptr_eq(&snap.secrets()[1], &after.secrets()[1]),
            "unchanged secrets are shared"
        );
    }

    #[test]
    fn learned_state_is_attached_in_place_unless_shared() {
        use crate::domain::query::Query;
        use crate::domain::secret::fixtures::tagged;
        let inv = Inventory::new();
        inv.set_high_value(Some(Query::parse("tag:env=prod").unwrap()));
        let fresh = Arc::new(tagged("a", &[("env", "prod")]));
        let at = Arc::as_ptr(&fresh);
        inv.publish_list(vec![fresh], ListStats::default(), Timestamp::new(10), 0);
        let snap = inv.snapshot();
        assert!(snap.secrets()[0].high_value);
        assert_eq!(
            Arc::as_ptr(&snap.secrets()[0]),
            at,
            "no copy of a new secret"
        );

        let shared = Arc::new(tagged("b", &[("env", "prod")]));
        let other = shared.clone();
        inv.publish_list(vec![shared], ListStats::default(), Timestamp::new(11), 0);
        assert!(inv.snapshot().secrets()[0].high_value);
        assert!(
            !other.high_value,
            "a secret held elsewhere is copied, not changed"
        );
    }

    #[test]
    fn failure_keeps_snapshot_and_reports() {
        let inv = Inventory::new();
        inv.publish_list(
            vec![Arc::new(secret("a"))],
            ListStats::default(),
            Timestamp::new(10),
            0,
        );
        inv.record_failure(Timestamp::new(20), "endpoint down");
        assert_eq!(inv.snapshot().secrets().len(), 1);
        let st = inv.status();
        assert_eq!(st.last_error.as_deref(), Some("endpoint down"));
        assert_eq!(st.last_success, Some(Timestamp::new(10)));
        inv.publish_list(vec![], ListStats::default(), Timestamp::new(30), 0);
        assert_eq!(inv.status().last_error, None, "a success clears the error");
    }
}
