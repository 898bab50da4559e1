//! The two sync passes.
//!
//! 1. The list pass pages through ListSecrets (MaxResults 100, including
//!    secrets planned for deletion). That alone yields names, tags, rotation
//!    dates and the labels of every labelled version, so the inventory is
//!    usable after it and is published at once.
//! 2. The version pass calls ListSecretVersionIds only for secrets that are
//!    new or whose LastChangedDate, LastRotatedDate or labelled versions
//!    changed, within a call-rate budget and a concurrency bound, and merges
//!    version creation dates into the published snapshot as it goes.

use super::rate::RateLimiter;
use super::Source;
use crate::domain::health::ReplicaState;
use crate::domain::{Label, RotationRules, Secret, Tag, Timestamp, Version, VersionId};
use crate::server::config::{Config, SyncSettings};
use crate::server::error::{AppError, ErrorKind};
use crate::server::inventory::{Inventory, ListStats, SourceKey, SourceStatus};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::SecretListEntry;
use aws_smithy_types::DateTime;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub fn ts(dt: Option<&DateTime>) -> Option<Timestamp> {
    dt.map(|d| Timestamp::new(d.secs()))
}

use crate::server::clock::now;

/// Secrets (ARN, name) whose versions must be fetched.
pub type VersionJob = Vec<(Arc<str>, Arc<str>)>;

/// Shares one allocation among the many equal small values of an inventory
/// (tags, their keys and values, KMS keys, Lambdas, regions, labels,
/// rotation rules).
#[derive(Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
    tags: HashSet<Arc<Tag>>,
    rules: HashSet<Arc<RotationRules>>,
}

impl Interner {
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(a.clone());
        a
    }

    /// The one `key=value` tag of this inventory.
    pub fn tag(&mut self, key: &str, value: &str) -> Arc<Tag> {
        let t = Tag {
            key: self.get(key),
            value: self.get(value),
        };
        if let Some(a) = self.tags.get(&t) {
            return a.clone();
        }
        let a = Arc::new(t);
        self.tags.insert(a.clone());
        a
    }

    fn rules(&mut self, r: RotationRules) -> Arc<RotationRules> {
        if let Some(a) = self.rules.get(&r) {
            return a.clone();
        }
        let a = Arc::new(r);
        self.rules.insert(a.clone());
        a
    }
}

/// The account id is the fifth field of an ARN.
pub fn account_of(arn: &str) -> &str {
    crate::domain::arn::Arn::parse(arn).map_or("", |a| a.account)
}

pub fn secret_from_entry(e: &SecretListEntry, region: &str, intern: &mut Interner) -> Secret {
    let arn = e.arn().unwrap_or_default();
    let stages = e.secret_versions_to_stages();
    // Sized exactly: collecting from a map's iterator reserves at least
    // four (128 bytes of slack for the usual two versions, 12.8 MB at
    // 100,000 secrets).
    let mut versions: Vec<Version> = Vec::with_capacity(stages.map_or(0, |m| m.len()));
    versions.extend(stages.into_iter().flatten().map(|(id, labels)| Version {
        id: VersionId::parse(id),
        labels: labels.iter().map(|l| label(l, intern)).collect(),
        created: None,
        last_accessed: None,
    }));
    sort_versions(&mut versions);
    let mut opt = |s: Option<&str>| s.map(|s| intern.get(s));
    let kms_key_id = opt(e.kms_key_id());
    let rotation_lambda_arn = opt(e.rotation_lambda_arn());
    let owning_service = opt(e.owning_service());
    let primary_region = opt(e.primary_region());
    Secret {
        arn: Arc::from(arn),
        name: Arc::from(e.name().unwrap_or_default()),
        account: intern.get(account_of(arn)),
        region: intern.get(region),
        description: e
            .description()
            .filter(|d| !d.is_empty())
            .map(|d| intern.get(d)),
        kms_key_id,
        rotation_enabled: e.rotation_enabled().unwrap_or(false),
        rotation_lambda_arn,
        rotation_rules: e.rotation_rules().map(|r| {
            intern.rules(RotationRules {
                automatically_after_days: r.automatically_after_days(),
                duration: r.duration().map(str::to_string),
                schedule_expression: r.schedule_expression().map(str::to_string),
            })
        }),
        created: ts(e.created_date()),
        last_changed: ts(e.last_changed_date()),
        last_rotated: ts(e.last_rotated_date()),
        last_accessed: ts(e.last_accessed_date()),
        next_rotation: ts(e.next_rotation_date()),
        deleted: ts(e.deleted_date()),
        owning_service,
        primary_region,
        tags: e
            .tags()
            .iter()
            .map(|t| intern.tag(t.key().unwrap_or_default(), t.value().unwrap_or_default()))
            .collect(),
        versions,
        versions_fetched: None,
        failure: None,
        causes: None,
        reads: None,
        high_value: false,
    }
}

fn label(s: &str, intern: &mut Interner) -> Label {
    match Label::parse(s) {
        Label::Custom(_) => Label::Custom(intern.get(s)),
        known => known,
    }
}

/// AWSCURRENT first, then AWSPENDING, AWSPREVIOUS, custom labels; newest
/// first among versions whose dates are known.
pub fn sort_versions(versions: &mut [Version]) {
    fn rank(v: &Version) -> u8 {
        if v.labels.contains(&Label::Current) {
            0
        } else if v.labels.contains(&Label::Pending) {
            1
        } else if v.labels.contains(&Label::Previous) {
            2
        } else {
            3
        }
    }
    versions.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.created.cmp(&a.created))
            .then(a.id.cmp(&b.id))
    });
}

/// Pages through ListSecrets, handing each secret to `absorb` as it arrives
/// (so a large inventory never sits in memory twice). Fails as a whole if
/// any page fails after the SDK's retries: the caller must then discard what
/// it absorbed, since a partial list must never replace a complete one.
pub async fn list_pass(
    source: &Source,
    limiter: &RateLimiter,
    mut absorb: impl FnMut(Secret),
) -> Result<ListStats, AppError> {
    let started = Instant::now();
    let before = source.counters.values();
    let mut intern = Interner::default();
    let mut count = 0usize;
    let mut pages = 0u32;
    let mut token: Option<String> = None;
    loop {
        limiter.acquire().await;
        let out = source
            .client
            .list_secrets()
            .max_results(100)
            .include_planned_deletion(true)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AppError::from_sdk("ListSecrets", &source.region, &source.endpoint, e))?;
        pages += 1;
        for e in out.secret_list() {
            absorb(secret_from_entry(e, &source.region, &mut intern));
            count += 1;
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let calls = source.counters.values().since(before);
    Ok(ListStats {
        secrets: count,
        pages,
        api_calls: calls.attempts,
        throttled: calls.throttled,
        server_errors: calls.server_errors,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionDates {
    pub id: VersionId,
    pub created: Option<Timestamp>,
    pub last_accessed: Option<Timestamp>,
}

/// Labelled versions of one secret with their dates (all pages).
pub async fn fetch_versions(
    source: &Source,
    limiter: &RateLimiter,
    arn: &str,
    name: &str,
) -> Result<Vec<VersionDates>, AppError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        limiter.acquire().await;
        let page = source
            .client
            .list_secret_version_ids()
            .secret_id(arn)
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AppError::from_sdk("ListSecretVersionIds", name, &source.endpoint, e))?;
        out.extend(page.versions().iter().map(|v| VersionDates {
            id: VersionId::parse(v.version_id().unwrap_or_default()),
            created: ts(v.created_date()),
            last_accessed: ts(v.last_accessed_date()),
        }));
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// The replica status DescribeSecret reports (ListSecrets does not).
pub fn replica_states(d: &DescribeSecretOutput) -> Vec<ReplicaState> {
    d.replication_status()
        .iter()
        .map(|r| ReplicaState {
            region: r.region().unwrap_or_default().to_string(),
            status: r
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            message: r.status_message().map(str::to_string),
            last_accessed: ts(r.last_accessed_date()),
        })
        .collect()
}

/// One DescribeSecret, for the replica status of a secret.
pub async fn fetch_replicas(
    source: &Source,
    limiter: &RateLimiter,
    arn: &str,
    name: &str,
) -> Result<Vec<ReplicaState>, AppError> {
    limiter.acquire().await;
    let d = source
        .client
        .describe_secret()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| AppError::from_sdk("DescribeSecret", name, &source.endpoint, e))?;
    Ok(replica_states(&d))
}

/// The fetched version dates of `prev` still hold for the freshly listed `s`
/// if nothing that changes versions changed: same last-changed and
/// last-rotated dates and the same labelled versions.
fn dates_still_valid(prev: &Secret, s: &Secret) -> bool {
    prev.versions_fetched.is_some()
        && prev.last_changed == s.last_changed
        && prev.last_rotated == s.last_rotated
        && prev.versions.len() == s.versions.len()
        && s.versions
            .iter()
            .all(|v| prev.versions.iter().any(|p| p.id == v.id))
}

/// What the inventory learned about `prev` beyond the list pass (a seen
/// failure, diagnosed causes, readers, high value) stays with its new copy,
/// so an unchanged secret compares equal and keeps its allocation; the
/// publish checks it against what the inventory knows now.
fn carry_learned(prev: &Secret, s: &mut Secret) {
    s.failure = prev.failure.clone();
    s.causes = prev.causes.clone();
    s.reads = prev.reads.clone();
    s.high_value = prev.high_value;
}

pub(super) fn apply_dates(s: &mut Secret, dates: &[VersionDates], at: Timestamp) {
    for v in &mut s.versions {
        if let Some(d) = dates.iter().find(|d| d.id == v.id) {
            v.created = d.created;
            v.last_accessed = d.last_accessed;
        }
    }
    sort_versions(&mut s.versions);
    s.versions_fetched = Some(at);
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct VersionPassReport {
    pub needed: usize,
    pub fetched: usize,
    pub failed: usize,
    pub api_calls: u64,
    pub duration_ms: u64,
    pub last_error: Option<String>,
}

/// `e` as a sentence about the role when it came from assuming `role`
/// (the one table of AWS errors has STS's words).
pub use crate::server::error::sdk::assume_role_error;

/// Runs syncs for one source into an inventory.
pub struct Syncer {
    pub source: Source,
    pub inventory: Arc<Inventory>,
    settings: SyncSettings,
    list_limiter: RateLimiter,
    pub(super) version_limiter: RateLimiter,
    /// What the list loop shares with the incremental pass, when one runs.
    pub paced: Arc<super::incremental::ListPacing>,
}

impl Syncer {
    /// A syncer for `source`, registered in `inventory` (so the source is
    /// listed before its first pass).
    pub fn new(source: Source, inventory: Arc<Inventory>, settings: SyncSettings) -> Self {
        inventory.register(SourceStatus {
            id: source.id(),
            name: source.name.to_string(),
            region: source.region.clone(),
            account: source.account().map(String::from),
            role_arn: source.role_arn.as_deref().map(String::from),
            interval_secs: settings.interval_secs,
            status: Default::default(),
        });
        Syncer {
            list_limiter: RateLimiter::new(settings.list_rate_per_sec),
            version_limiter: RateLimiter::new(settings.version_rate_per_sec),
            paced: Default::default(),
            source,
            inventory,
            settings,
        }
    }

    /// A syncer over a new, empty inventory, for the one-shot commands
    /// (`sync`, `check`).
    pub async fn standalone(config: &Config) -> Result<Vec<Arc<Syncer>>, AppError> {
        let sources = super::Sources::from_config(config)
            .await
            .map_err(|e| AppError::new(ErrorKind::InvalidInput, e.clone(), e))?;
        let inventory = Arc::new(Inventory::new());
        Ok(Syncer::for_sources(&sources, &inventory, config))
    }

    /// One syncer per source, into `inventory`, each on its own schedule.
    pub fn for_sources(
        sources: &super::Sources,
        inventory: &Arc<Inventory>,
        config: &Config,
    ) -> Vec<Arc<Syncer>> {
        let specs = super::sources::plan(config).unwrap_or_default();
        sources
            .all()
            .iter()
            .map(|source| {
                let mut settings = config.sync.clone();
                if let Some(spec) = specs
                    .iter()
                    .find(|s| *s.name == *source.name && s.region == source.region)
                {
                    settings.interval_secs = spec.interval_secs;
                }
                Arc::new(Syncer::new(source.clone(), inventory.clone(), settings))
            })
            .collect()
    }

    /// What this source reads, in status and metrics.
    pub fn id(&self) -> String {
        self.source.id()
    }

    /// One list pass. On success the snapshot is replaced and the secrets
    /// whose versions must be fetched are returned; a secret that did not
    /// change keeps its previous allocation (and version dates), so two
    /// snapshots share memory. On failure the old snapshot stays and the
    /// error is recorded for the page and the metrics.
    pub async fn list_once(&self) -> Result<(ListStats, VersionJob), AppError> {
        let id = self.id();
        self.inventory.record_attempt_of(&id, now());
        let old = self.inventory.snapshot();
        let mut secrets: Vec<Arc<Secret>> = Vec::with_capacity(old.secrets().len());
        let mut needed = Vec::new();
        let result = list_pass(&self.source, &self.list_limiter, |mut s| {
            match old.arc_by_arn(&s.arn) {
                Some(prev) if dates_still_valid(prev, &s) => {
                    for v in &mut s.versions {
                        if let Some(p) = prev.versions.iter().find(|p| p.id == v.id) {
                            v.created = p.created;
                            v.last_accessed = p.last_accessed;
                        }
                    }
                    sort_versions(&mut s.versions);
                    s.versions_fetched = prev.versions_fetched;
                    carry_learned(prev, &mut s);
                    if **prev == s {
                        secrets.push(prev.clone());
                    } else {
                        secrets.push(Arc::new(s));
                    }
                }
                _ => {
                    needed.push((s.arn.clone(), s.name.clone()));
                    secrets.push(Arc::new(s));
                }
            }
        })
        .await;
        drop(old);
        match result {
            Ok(stats) => {
                if let Some(first) = secrets.first() {
                    let _ = self.source.account.set(first.account.clone());
                }
                self.inventory.publish_source(
                    SourceKey {
                        id: &id,
                        account: self.source.account(),
                        region: &self.source.region,
                    },
                    secrets,
                    stats.clone(),
                    now(),
                    needed.len(),
                );
                crate::server::inventory::memory::release_free_memory();
                Ok((stats, needed))
            }
            Err(e) => {
                let e = match &self.source.role_arn {
                    Some(role) => assume_role_error(role, e),
                    None => e,
                };
                tracing::warn!(source = %id, error = %e.detail, "list pass failed; keeping the source's last good secrets");
                self.inventory.record_failure_of(&id, now(), &e.user);
                Err(e)
            }
        }
    }

    /// Fetches versions for `needed` within the rate budget, merging into the
    /// snapshot every `MERGE_EVERY` results or two seconds, and at the end.
    /// Stops early (returning what it did) if `cancel` reports a newer job.
    pub async fn version_pass(
        self: &Arc<Self>,
        needed: VersionJob,
        mut cancel: Option<&mut watch::Receiver<VersionJob>>,
    ) -> VersionPassReport {
        const MERGE_EVERY: usize = 500;
        let started = Instant::now();
        let before = self.source.counters.values();
        let mut report = VersionPassReport {
            needed: needed.len(),
            ..Default::default()
        };
        let concurrency = self.settings.version_concurrency.max(1);
        let mut tasks = JoinSet::new();
        let mut fetched: HashMap<Arc<str>, Vec<VersionDates>> = HashMap::new();
        let mut last_merge = Instant::now();
        let mut pending = needed.into_iter();
        loop {
            if cancel
                .as_mut()
                .is_some_and(|c| c.has_changed().unwrap_or(false))
            {
                break;
            }
            while tasks.len() < concurrency {
                let Some((arn, name)) = pending.next() else {
                    break;
                };
                let this = self.clone();
                tasks.spawn(async move {
                    let r = fetch_versions(&this.source, &this.version_limiter, &arn, &name).await;
                    (arn, r)
                });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            match joined {
                Ok((arn, Ok(dates))) => {
                    report.fetched += 1;
                    fetched.insert(arn, dates);
                }
                Ok((_, Err(e))) => {
                    report.failed += 1;
                    tracing::debug!(error = %e.detail, "version fetch failed");
                    report.last_error = Some(e.user);
                }
                Err(e) => {
                    report.failed += 1;
                    report.last_error = Some(format!("version fetch task failed: {e}"));
                }
            }
            if fetched.len() >= MERGE_EVERY || last_merge.elapsed() > Duration::from_secs(2) {
                self.merge(std::mem::take(&mut fetched));
                last_merge = Instant::now();
            }
        }
        tasks.abort_all();
        self.merge(fetched);
        crate::server::inventory::memory::release_free_memory();
        report.api_calls = self.source.counters.values().since(before).attempts;
        report.duration_ms = started.elapsed().as_millis() as u64;
        self.inventory
            .record_versions_of(&self.id(), now(), &report);
        report
    }

    fn merge(&self, fetched: HashMap<Arc<str>, Vec<VersionDates>>) {
        let at = now();
        if !fetched.is_empty() {
            self.inventory.update_secrets(|s| {
                fetched.get(&s.arn).map(|dates| {
                    let mut s = s.clone();
                    apply_dates(&mut s, dates, at);
                    s
                })
            });
        }
        let account = self.source.account();
        let missing = self
            .inventory
            .snapshot()
            .secrets()
            .iter()
            .filter(|s| {
                s.versions_fetched.is_none()
                    && *s.region == *self.source.region
                    && account.is_some_and(|a| *s.account == *a)
            })
            .count();
        self.inventory.set_versions_missing_of(&self.id(), missing);
    }

    /// Background loop: a list pass every interval; version passes run in a
    /// second task so that a long version backlog never delays the list.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        let (tx, mut rx) = watch::channel::<VersionJob>(Vec::new());
        let versions = self.clone();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let job = rx.borrow_and_update().clone();
                if !job.is_empty() {
                    let r = versions.version_pass(job, Some(&mut rx)).await;
                    tracing::info!(fetched = r.fetched, failed = r.failed, "version pass done");
                }
            }
        });
        tokio::spawn(async move {
            let interval = Duration::from_secs(self.settings.interval_secs.max(1));
            loop {
                let exclusive = self.paced.exclusive.lock().await;
                match self.list_once().await {
                    Ok((stats, needed)) => {
                        tracing::info!(
                            source = %self.id(),
                            secrets = stats.secrets,
                            pages = stats.pages,
                            calls = stats.api_calls,
                            ms = stats.duration_ms,
                            versions_needed = needed.len(),
                            "list pass done"
                        );
                        let _ = tx.send(needed);
                    }
                    Err(e) => tracing::warn!(source = %self.id(), error = %e.user, "sync failed"),
                }
                drop(exclusive);
                // Longer while the incremental pass keeps the source
                // current; at once when it could not.
                let interval = self.paced.list_interval(interval);
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = self.paced.list_now.notified() => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::types::{RotationRulesType, Tag as SdkTag};

    fn entry(name: &str, owner: &str) -> SecretListEntry {
        SecretListEntry::builder()
            .arn(format!(
                "arn:aws:secretsmanager:eu-west-1:210987654321:secret:{name}-AbCdEf"
            ))
            .name(name)
            .description("db credentials")
            .kms_key_id("arn:aws:kms:eu-west-1:210987654321:key/k1")
            .rotation_enabled(true)
            .rotation_lambda_arn("arn:aws:lambda:eu-west-1:210987654321:function:rot")
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .created_date(DateTime::from_secs(1_700_000_000))
            .last_rotated_date(DateTime::from_secs(1_700_100_000))
            .tags(SdkTag::builder().key("owner").value(owner).build())
            .tags(SdkTag::builder().key("env").value("prod").build())
            .secret_versions_to_stages(
                "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                vec!["AWSCURRENT".to_string()],
            )
            .secret_versions_to_stages("v0", vec!["AWSPREVIOUS".to_string(), "blue".to_string()])
            .build()
    }

    #[test]
    fn equal_strings_share_one_allocation() {
        let mut intern = Interner::default();
        let a = secret_from_entry(&entry("prod/a", "alice"), "eu-west-1", &mut intern);
        let b = secret_from_entry(&entry("prod/b", "bob"), "eu-west-1", &mut intern);
        let same = |x: &Arc<str>, y: &Arc<str>| Arc::ptr_eq(x, y);
        assert!(same(&a.account, &b.account) && same(&a.region, &b.region));
        assert!(same(
            a.kms_key_id.as_ref().unwrap(),
            b.kms_key_id.as_ref().unwrap()
        ));
        assert!(same(
            a.rotation_lambda_arn.as_ref().unwrap(),
            b.rotation_lambda_arn.as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(
            a.rotation_rules.as_ref().unwrap(),
            b.rotation_rules.as_ref().unwrap()
        ));
        for (x, y) in a.tags.iter().zip(&b.tags) {
            assert!(same(&x.key, &y.key));
        }
        assert!(Arc::ptr_eq(&a.tags[1], &b.tags[1]), "env=prod: one tag");
        assert!(
            !Arc::ptr_eq(&a.tags[0], &b.tags[0]),
            "owner=alice, owner=bob"
        );
        assert!(same(&a.tags[1].value, &b.tags[1].value));
        let custom = |s: &Secret| match s.versions[1].labels.iter().last() {
            Some(Label::Custom(c)) => c,
            other => panic!("{other:?}"),
        };
        assert!(same(&custom(&a), &custom(&b)), "custom labels too");
    }

    #[test]
    fn a_listed_secret_keeps_every_field() {
        let s = secret_from_entry(
            &entry("prod/a", "alice"),
            "eu-west-1",
            &mut Interner::default(),
        );
        assert_eq!(
            &*s.arn,
            "arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/a-AbCdEf"
        );
        assert_eq!(
            (&*s.name, &*s.account, &*s.region),
            ("prod/a", "210987654321", "eu-west-1")
        );
        assert_eq!(s.description.as_deref(), Some("db credentials"));
        assert!(s.rotation_enabled && !s.uses_default_kms_key());
        assert_eq!(
            s.rotation_rules.as_ref().unwrap().automatically_after_days,
            Some(30)
        );
        assert_eq!(s.created, Some(Timestamp::new(1_700_000_000)));
        assert_eq!(s.last_rotated, Some(Timestamp::new(1_700_100_000)));
        assert_eq!(
            (s.tag("owner"), s.tag("env")),
            (Some("alice"), Some("prod"))
        );
        let versions: Vec<(String, Vec<String>)> = s
            .versions
            .iter()
            .map(|v| {
                (
                    v.id.to_string(),
                    v.labels.iter().map(|l| l.as_str().to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(
            versions,
            [
                (
                    "0a1b2c3d-4e5f-6789-abcd-ef0123456789".to_string(),
                    vec!["AWSCURRENT".to_string()]
                ),
                (
                    "v0".to_string(),
                    vec!["AWSPREVIOUS".to_string(), "blue".to_string()]
                ),
            ]
        );
        assert_eq!(s.versions.capacity(), s.versions.len(), "no slack");
        assert_eq!(s.tags.capacity(), s.tags.len(), "no slack");
    }
}
