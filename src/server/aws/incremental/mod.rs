//! The incremental pass: between list passes, read Secrets Manager's write
//! events from CloudTrail (LookupEvents, `ReadOnly=false` by default) and
//! re-read only the secrets they name (DescribeSecret, and
//! ListSecretVersionIds when its versions or labels may have changed), then
//! swap them into the snapshot as a list pass does. A secret DescribeSecret
//! no longer finds (ForceDeleteWithoutRecovery) leaves the snapshot; one
//! scheduled for deletion shows its DeletedDate.
//!
//! Each pass looks up events from the start of the previous successful
//! pass less `overlap_secs` (CloudTrail delivers events minutes late) and
//! applies each event once, by EventId. The first looks back to the start
//! of the first list pass: what happened before it, that pass read.
//!
//! List and incremental passes of a source never overlap (a list pass
//! would otherwise publish what it read before an event the incremental
//! pass already applied). While the incremental pass succeeds, list passes
//! run every `full_interval_secs` (the safety net); after a failure, at the
//! source's own interval; when a pass could not read every new event, at
//! once. A source refused `cloudtrail:LookupEvents` stays on list passes,
//! said once in the log and on `/sources`.
//!
//! Every call waits for its slot: LookupEvents in the CloudTrail client's
//! quota (shared with the other readers of that account's trail when
//! `[cloudtrail] enabled`), the re-reads in the source's version budget.

pub mod events;
pub mod settings;

pub use settings::{EventFilter, IncrementalSettings};

use super::cloudtrail::RotationTrail;
use super::sync::Syncer;
use super::sync::{apply_dates, fetch_versions, secret_from_entry, Interner};
use crate::domain::{Secret, Timestamp};
use crate::server::clock::now;
use crate::server::config::Config;
use crate::server::error::{AppError, ErrorKind};
use crate::server::inventory::{Changes, SourceKey};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::SecretListEntry;
use events::Touched;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// What a syncer's list loop shares with its incremental pass.
#[derive(Debug, Default)]
pub struct ListPacing {
    /// Held by a pass while it reads and publishes.
    pub exclusive: tokio::sync::Mutex<()>,
    /// Seconds between list passes while the incremental pass keeps the
    /// source current; 0: it does not (the source's own interval applies).
    full_interval_secs: AtomicU64,
    /// Wakes the list loop for a pass now.
    pub list_now: Notify,
}

impl ListPacing {
    /// The wait before the next list pass, `normal` being the source's own.
    pub fn list_interval(&self, normal: Duration) -> Duration {
        match self.full_interval_secs.load(Ordering::Relaxed) {
            0 => normal,
            secs => Duration::from_secs(secs).max(normal),
        }
    }

    fn keeps_current(&self, full_interval_secs: Option<u64>) {
        self.full_interval_secs
            .store(full_interval_secs.unwrap_or(0), Ordering::Relaxed);
    }
}

/// Where the pass stands between two runs.
#[derive(Debug, Default)]
pub struct Cursor {
    /// When the previous successful pass began.
    pub previous: Option<Timestamp>,
    /// Event ids applied, with their times (forgotten once out of range).
    pub seen: HashMap<String, Timestamp>,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PassReport {
    pub lookups: u64,
    /// New write events applied.
    pub events: usize,
    /// Secrets re-read (DescribeSecret each).
    pub reread: usize,
    /// ListSecretVersionIds calls among them.
    pub version_reads: usize,
    pub removed: usize,
    /// Events newer than the previous pass were left unread (page limit).
    pub cut_short: bool,
    /// Secrets that could not be re-read (the list pass will).
    pub failed: usize,
    pub last_error: Option<String>,
}

/// The incremental pass of one source.
pub struct Incremental {
    syncer: Arc<Syncer>,
    trail: RotationTrail,
    settings: IncrementalSettings,
}

/// Starts the incremental pass of `syncer` when `[incremental] enabled`,
/// with `trail` (the source's CloudTrail client, shared with its other
/// readers) or else a client of its own.
pub fn start(
    syncer: &Arc<Syncer>,
    trail: Option<RotationTrail>,
    config: &Config,
) -> Option<tokio::task::JoinHandle<()>> {
    let settings = config.incremental.clone();
    if !settings.enabled {
        return None;
    }
    let trail =
        trail.unwrap_or_else(|| RotationTrail::for_source(&syncer.source, &config.cloudtrail));
    let pass = Arc::new(Incremental::new(syncer.clone(), trail, settings));
    Some(tokio::spawn(pass.run()))
}

impl Incremental {
    pub fn new(syncer: Arc<Syncer>, trail: RotationTrail, settings: IncrementalSettings) -> Self {
        syncer.inventory.note_incremental(&syncer.id(), |st| {
            st.interval_secs = settings.interval_secs;
            st.full_interval_secs = settings.full_interval_secs;
        });
        Incremental {
            syncer,
            trail,
            settings,
        }
    }

    /// Every `interval_secs` after the first successful list pass, until
    /// CloudTrail refuses the source.
    pub async fn run(self: Arc<Self>) {
        let id = self.syncer.id();
        let every = Duration::from_secs(self.settings.interval_secs.max(1));
        let mut cursor = Cursor::default();
        let mut failing = false;
        loop {
            tokio::time::sleep(every).await;
            if self.first_list_start().is_none() {
                continue;
            }
            match self.pass(&mut cursor).await {
                Ok(r) => {
                    failing = false;
                    if r.events > 0 || r.cut_short {
                        tracing::info!(source = %id, events = r.events, reread = r.reread, removed = r.removed, lookups = r.lookups, cut_short = r.cut_short, "incremental pass done");
                    }
                }
                Err(e) if e.kind == ErrorKind::AccessDenied => {
                    let why = format!(
                        "List passes only: CloudTrail refused LookupEvents ({}). Grant cloudtrail:LookupEvents to see changes within {} s.",
                        e.user, self.settings.interval_secs
                    );
                    tracing::warn!(source = %id, detail = %e.detail, "{why}");
                    self.syncer.paced.keeps_current(None);
                    self.syncer
                        .inventory
                        .note_incremental(&id, |st| st.off = Some(why));
                    return;
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(source = %id, detail = %e.detail, "incremental pass failed; list passes run at the source's interval until it works");
                    }
                    failing = true;
                    self.syncer.paced.keeps_current(None);
                    self.syncer
                        .inventory
                        .note_incremental(&id, |st| st.last_error = Some(e.user));
                }
            }
        }
    }

    /// When the source's first successful list pass began, once there is one.
    fn first_list_start(&self) -> Option<Timestamp> {
        let id = self.syncer.id();
        let status = self
            .syncer
            .inventory
            .sources()
            .into_iter()
            .find(|s| s.id == id)?
            .status;
        status.last_success?;
        status.last_attempt.or(status.last_success)
    }

    /// One pass: look up, re-read, swap in. Holds the source's pass lock.
    pub async fn pass(&self, cursor: &mut Cursor) -> Result<PassReport, AppError> {
        let _exclusive = self.syncer.paced.exclusive.lock().await;
        let started = now();
        let since = match cursor.previous {
            Some(p) => Timestamp::new(p.secs() - self.settings.overlap_secs as i64),
            // What happened before the first list pass, it read (a minute
            // for clocks that disagree).
            None => Timestamp::new(self.first_list_start().unwrap_or(started).secs() - 60),
        };
        let mut report = PassReport::default();
        let (touched, oldest_read) = self.lookup(since, cursor, &mut report).await?;
        report.cut_short = oldest_read.is_some_and(|t| cursor.previous.is_none_or(|p| t > p));
        report.events = touched.len();
        let changes = self.reread(&touched, &mut report).await;
        report.removed = changes.removed.len();
        let source = &self.syncer.source;
        let id = self.syncer.id();
        self.syncer.inventory.apply_changes(
            SourceKey {
                id: &id,
                account: source.account(),
                region: &source.region,
            },
            changes,
            now(),
        );
        for t in touched {
            cursor.seen.insert(t.event_id, t.at);
        }
        cursor.seen.retain(|_, at| *at >= since);
        cursor.previous = Some(started);
        self.syncer
            .paced
            .keeps_current(Some(self.settings.full_interval_secs));
        if report.cut_short {
            self.syncer.paced.list_now.notify_one();
        }
        let r = report.clone();
        self.syncer.inventory.note_incremental(&id, |st| {
            st.last_success = Some(started);
            st.last_error = r.last_error;
            st.passes_ok += 1;
            st.events += r.events as u64;
            st.reread += r.reread as u64;
            st.lookups += r.lookups;
        });
        Ok(report)
    }

    /// The new write events since `since`, newest first, and the time of
    /// the oldest event read when pages were left unread.
    async fn lookup(
        &self,
        since: Timestamp,
        cursor: &Cursor,
        report: &mut PassReport,
    ) -> Result<(Vec<Touched>, Option<Timestamp>), AppError> {
        let (key, value) = match self.settings.filter {
            EventFilter::ReadOnly => (LookupAttributeKey::ReadOnly, "false"),
            EventFilter::EventSource => (LookupAttributeKey::EventSource, events::EVENT_SOURCE),
        };
        let attribute = LookupAttribute::builder()
            .attribute_key(key)
            .attribute_value(value)
            .build()
            .map_err(|e| AppError::internal(format!("LookupAttribute: {e}")))?;
        let target = format!("the write events of {}", self.syncer.id());
        let mut out: Vec<Touched> = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .trail
                .page(attribute.clone(), since, None, token.take(), &target)
                .await?;
            report.lookups += 1;
            let oldest = page
                .events
                .iter()
                .filter_map(|e| e.event_time())
                .min_by_key(|t| t.secs());
            out.extend(
                page.events
                    .iter()
                    .filter_map(events::touched)
                    .filter(|t| !cursor.seen.contains_key(&t.event_id)),
            );
            match page.next_token {
                Some(t) if report.lookups < u64::from(self.settings.max_pages.max(1)) => {
                    token = Some(t)
                }
                Some(_) => return Ok((out, oldest.map(|t| Timestamp::new(t.secs())))),
                None => return Ok((out, None)),
            }
        }
    }

    /// Re-reads each secret `touched` names, once.
    async fn reread(&self, touched: &[Touched], report: &mut PassReport) -> Changes {
        let snapshot = self.syncer.inventory.snapshot();
        let source = &self.syncer.source;
        // A name resolves to the ARN the snapshot holds in this source, so
        // events naming a secret both ways read it once.
        let ids: BTreeSet<String> = touched
            .iter()
            .map(|t| {
                if t.secret.starts_with("arn:") {
                    return t.secret.clone();
                }
                snapshot
                    .all_secrets()
                    .find(|s| *s.name == *t.secret && source.reads(&s.account, &s.region))
                    .map_or_else(|| t.secret.clone(), |s| s.arn.to_string())
            })
            .collect();
        let mut changes = Changes::default();
        let mut intern = Interner::default();
        for id in ids {
            report.reread += 1;
            match self.describe(&id).await {
                Ok(Some(d)) => {
                    let mut s = secret_from_entry(&entry_of(&d), &source.region, &mut intern);
                    let prev = snapshot.arc_by_arn(&s.arn).cloned();
                    self.versions(&mut s, prev.as_deref(), report).await;
                    changes.upserts.push(s);
                }
                Ok(None) => {
                    let gone = snapshot
                        .all_secrets()
                        .filter(|s| source.reads(&s.account, &s.region))
                        .find(|s| *s.arn == *id || *s.name == *id)
                        .map(|s| s.arn.clone());
                    changes.removed.extend(gone);
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::debug!(secret = %id, detail = %e.detail, "incremental re-read failed");
                    report.last_error = Some(e.user);
                }
            }
        }
        changes
    }

    /// DescribeSecret of `id`; `None` when it is gone.
    async fn describe(&self, id: &str) -> Result<Option<DescribeSecretOutput>, AppError> {
        let source = &self.syncer.source;
        self.syncer.version_limiter.acquire().await;
        match source.client.describe_secret().secret_id(id).send().await {
            Ok(d) => Ok(Some(d)),
            Err(e) => {
                let e = AppError::from_sdk("DescribeSecret", id, &source.endpoint, e);
                if e.kind == ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The version dates of `s`: kept from `prev` when it has them for every
    /// version `s` has (DescribeSecret gave the labels; a version's creation
    /// date never changes), else read (ListSecretVersionIds): a tag or
    /// policy change costs one call, a new version two.
    async fn versions(&self, s: &mut Secret, prev: Option<&Secret>, report: &mut PassReport) {
        let known = |p: &&Secret| {
            p.versions_fetched.is_some()
                && s.versions
                    .iter()
                    .all(|v| p.versions.iter().any(|pv| pv.id == v.id))
        };
        if let Some(prev) = prev.filter(known) {
            let dates: Vec<_> = prev
                .versions
                .iter()
                .map(|v| super::sync::VersionDates {
                    id: v.id.clone(),
                    created: v.created,
                    last_accessed: v.last_accessed,
                })
                .collect();
            let at = prev.versions_fetched.unwrap_or_else(now);
            apply_dates(s, &dates, at);
            return;
        }
        report.version_reads += 1;
        let source = &self.syncer.source;
        match fetch_versions(source, &self.syncer.version_limiter, &s.arn, &s.name).await {
            Ok(dates) => apply_dates(s, &dates, now()),
            Err(e) => {
                report.failed += 1;
                report.last_error = Some(e.user);
            }
        }
    }
}

/// DescribeSecret's answer as the list entry a list pass would have read.
fn entry_of(d: &DescribeSecretOutput) -> SecretListEntry {
    SecretListEntry::builder()
        .set_arn(d.arn().map(str::to_string))
        .set_name(d.name().map(str::to_string))
        .set_description(d.description().map(str::to_string))
        .set_kms_key_id(d.kms_key_id().map(str::to_string))
        .set_rotation_enabled(d.rotation_enabled())
        .set_rotation_lambda_arn(d.rotation_lambda_arn().map(str::to_string))
        .set_rotation_rules(d.rotation_rules().cloned())
        .set_last_rotated_date(d.last_rotated_date().cloned())
        .set_last_changed_date(d.last_changed_date().cloned())
        .set_last_accessed_date(d.last_accessed_date().cloned())
        .set_deleted_date(d.deleted_date().cloned())
        .set_next_rotation_date(d.next_rotation_date().cloned())
        .set_tags(d.tags.clone())
        .set_secret_versions_to_stages(d.version_ids_to_stages().cloned())
        .set_owning_service(d.owning_service().map(str::to_string))
        .set_created_date(d.created_date().cloned())
        .set_primary_region(d.primary_region().map(str::to_string))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_passes_slow_down_only_while_the_incremental_pass_works() {
        let p = ListPacing::default();
        let normal = Duration::from_secs(300);
        assert_eq!(p.list_interval(normal), normal);
        p.keeps_current(Some(3600));
        assert_eq!(p.list_interval(normal), Duration::from_secs(3600));
        assert_eq!(
            p.list_interval(Duration::from_secs(7200)),
            Duration::from_secs(7200),
            "a source's own longer interval stays"
        );
        p.keeps_current(None);
        assert_eq!(p.list_interval(normal), normal);
    }
}
