//! The incremental pass's changes to one source: a few secrets replaced,
//! added or removed, swapped in atomically like a list pass's, and what
//! the pass did, for `/sources`.

use super::{Inventory, Snapshot, SourceKey};
use crate::domain::{Secret, Timestamp};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

/// The incremental pass of one source, as `/sources` tells it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct IncrementalStatus {
    /// Seconds between incremental passes.
    pub interval_secs: u64,
    /// Seconds between list passes while it keeps the source current.
    pub full_interval_secs: u64,
    /// Why the source is on list passes only (CloudTrail refused), if it is.
    pub off: Option<String>,
    /// The last pass's failure, if it came after its last success.
    pub last_error: Option<String>,
    pub last_success: Option<Timestamp>,
    pub passes_ok: u64,
    /// Write events applied since the start (each once).
    pub events: u64,
    /// Secrets re-read since the start.
    pub reread: u64,
    /// LookupEvents calls since the start.
    pub lookups: u64,
}

/// What one incremental pass changes in a source's secrets.
#[derive(Default)]
pub struct Changes {
    /// New or re-read secrets (replacing the one of the same ARN).
    pub upserts: Vec<Secret>,
    /// ARNs of secrets that are gone.
    pub removed: HashSet<Arc<str>>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removed.is_empty()
    }
}

impl Inventory {
    /// Applies `changes` to the source `key` (an atomic swap, the other
    /// secrets shared with the previous snapshot) and records a successful
    /// pass at `at`: the source's sync age then counts from it.
    pub fn apply_changes(&self, key: SourceKey<'_>, changes: Changes, at: Timestamp) {
        if !changes.is_empty() {
            let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
            let current = self.snapshot.load_full();
            let book = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            let replaced: HashSet<&str> = changes.upserts.iter().map(|s| &*s.arn).collect();
            let mine = |s: &Secret| {
                *s.region == *key.region && key.account.is_none_or(|a| *s.account == *a)
            };
            let mut secrets: Vec<Arc<Secret>> = current
                .all_secrets()
                .filter(|s| {
                    !(mine(s) && (changes.removed.contains(&s.arn) || replaced.contains(&*s.arn)))
                })
                .cloned()
                .collect();
            secrets.extend(
                changes
                    .upserts
                    .into_iter()
                    .map(|s| Arc::new(Self::with_failure(&book, &s).unwrap_or(s))),
            );
            self.snapshot.store(Arc::new(Snapshot::new(
                secrets,
                current.taken_at.max(Some(at)),
            )));
        }
        self.with_source(key.id, |s| s.status.last_success = Some(at));
    }

    /// Updates the incremental status of source `id`.
    pub fn note_incremental(&self, id: &str, f: impl FnOnce(&mut IncrementalStatus)) {
        self.with_source(id, |s| {
            f(s.status.incremental.get_or_insert_with(Default::default))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;
    use crate::server::inventory::ListStats;

    #[test]
    fn changes_replace_add_and_remove_only_what_they_name() {
        let inv = Inventory::new();
        let secrets = ["a", "b", "c"].map(|n| Arc::new(secret(n))).to_vec();
        inv.publish_list(secrets, ListStats::default(), Timestamp::new(10), 0);
        let before = inv.snapshot();
        let b = before.by_name("b").unwrap().arn.clone();
        let c = before.by_name("c").unwrap().clone();
        let mut a = before.by_name("a").unwrap().clone();
        a.description = Some("changed".into());
        let key = SourceKey {
            id: "default",
            account: Some(&c.account),
            region: &c.region,
        };
        let changes = Changes {
            upserts: vec![a, secret("d")],
            removed: [b].into_iter().collect(),
        };
        inv.apply_changes(key, changes, Timestamp::new(20));
        let after = inv.snapshot();
        let names: Vec<&str> = after.secrets().iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["a", "c", "d"]);
        assert_eq!(
            after.by_name("a").unwrap().description.as_deref(),
            Some("changed")
        );
        assert!(
            Arc::ptr_eq(
                after.arc_by_arn(&c.arn).unwrap(),
                before.arc_by_arn(&c.arn).unwrap()
            ),
            "an untouched secret is shared"
        );
        assert_eq!(inv.status().last_success, Some(Timestamp::new(20)));
        // Nothing changed: only the pass is recorded.
        inv.apply_changes(key, Changes::default(), Timestamp::new(30));
        assert!(Arc::ptr_eq(&after, &inv.snapshot()));
        assert_eq!(inv.status().last_success, Some(Timestamp::new(30)));
    }
}
