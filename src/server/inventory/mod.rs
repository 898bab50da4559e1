//! The in-memory inventory: an immutable `Snapshot` behind an `Arc`, swapped
//! atomically after each sync, plus the sync status shown on every page.
//! Requests read the snapshot; they never call AWS.

use crate::domain::query::SearchIndex;
use crate::domain::tree::NameTree;
use crate::domain::{Secret, Timestamp};
use crate::server::aws::sync::VersionPassReport;
use arc_swap::ArcSwap;
use serde::Serialize;
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
}

impl Snapshot {
    pub fn new(mut secrets: Vec<Arc<Secret>>, taken_at: Option<Timestamp>) -> Self {
        secrets.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.region.cmp(&b.region))
                .then_with(|| a.arn.cmp(&b.arn))
        });
        let tree = Arc::new(NameTree::build(secrets.iter().map(|s| &*s.name)));
        let index = Arc::new(SearchIndex::new(secrets.iter().map(|s| &**s)));
        Snapshot {
            secrets,
            taken_at,
            tree,
            index,
        }
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
            Some(name) => {
                let start = self.secrets.partition_point(|s| &*s.name < name);
                self.secrets[start..]
                    .iter()
                    .take_while(|s| &*s.name == name)
                    .find(|s| &*s.arn == arn)
            }
            None => self.secrets.iter().find(|s| &*s.arn == arn),
        }
    }

    pub fn by_arn(&self, arn: &str) -> Option<&Secret> {
        self.arc_by_arn(arn).map(|s| &**s)
    }

    pub fn by_name(&self, name: &str) -> Option<&Secret> {
        let i = self.secrets.partition_point(|s| &*s.name < name);
        self.secrets
            .get(i)
            .filter(|s| &*s.name == name)
            .map(|s| &**s)
    }
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
}

#[derive(Default)]
pub struct Inventory {
    snapshot: ArcSwap<Snapshot>,
    status: Mutex<SyncStatus>,
    /// Serialises writers so that a version merge never undoes a list swap.
    write: Mutex<()>,
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    pub fn status(&self) -> SyncStatus {
        self.lock_status().clone()
    }

    pub fn is_ready(&self) -> bool {
        self.lock_status().last_success.is_some()
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, SyncStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record_attempt(&self, at: Timestamp) {
        self.lock_status().last_attempt = Some(at);
    }

    pub fn record_failure(&self, at: Timestamp, message: &str) {
        let mut st = self.lock_status();
        st.last_error = Some(message.to_string());
        st.last_error_at = Some(at);
        st.syncs_failed += 1;
    }

    pub fn publish_list(
        &self,
        secrets: Vec<Arc<Secret>>,
        stats: ListStats,
        at: Timestamp,
        versions_missing: usize,
    ) {
        {
            let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
            self.snapshot
                .store(Arc::new(Snapshot::new(secrets, Some(at))));
        }
        let mut st = self.lock_status();
        st.last_success = Some(at);
        st.last_error = None;
        st.last_error_at = None;
        st.list = Some(stats);
        st.syncs_ok += 1;
        st.versions_missing = versions_missing;
        if versions_missing > 0 {
            st.versions_complete_at = None;
        }
    }

    /// Replaces each secret for which `f` returns a new value; the others are
    /// shared with the previous snapshot.
    pub fn update_secrets(&self, f: impl Fn(&Secret) -> Option<Secret>) {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
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
        if changed {
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
            }));
        }
    }

    pub fn set_versions_missing(&self, missing: usize) {
        self.lock_status().versions_missing = missing;
    }

    pub fn record_versions(&self, at: Timestamp, report: &VersionPassReport) {
        let mut st = self.lock_status();
        st.last_version_pass = Some(report.clone());
        if st.versions_missing == 0 {
            st.versions_complete_at = Some(at);
        }
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
