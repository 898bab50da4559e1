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
use crate::domain::{Label, RotationRules, Secret, Tag, Timestamp, Version};
use crate::server::config::SyncSettings;
use crate::server::error::AppError;
use crate::server::inventory::{Inventory, ListStats};
use aws_sdk_secretsmanager::types::SecretListEntry;
use aws_smithy_types::DateTime;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub fn ts(dt: Option<&DateTime>) -> Option<Timestamp> {
    dt.map(|d| Timestamp(d.secs()))
}

pub fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

/// Shares one allocation among the many equal small strings of an inventory
/// (tag keys, team names, labels, account ids).
#[derive(Default)]
pub struct Interner(HashMap<Box<str>, Arc<str>>);

impl Interner {
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(Box::from(s), a.clone());
        a
    }
}

/// The account id is the fifth field of an ARN.
pub fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

pub fn secret_from_entry(e: &SecretListEntry, region: &str, intern: &mut Interner) -> Secret {
    let arn = e.arn().unwrap_or_default();
    let mut versions: Vec<Version> = e
        .secret_versions_to_stages()
        .map(|m| {
            m.iter()
                .map(|(id, labels)| Version {
                    id: Arc::from(id.as_str()),
                    labels: labels.iter().map(|l| label(l, intern)).collect(),
                    created: None,
                    last_accessed: None,
                })
                .collect()
        })
        .unwrap_or_default();
    sort_versions(&mut versions);
    Secret {
        arn: Arc::from(arn),
        name: Arc::from(e.name().unwrap_or_default()),
        account: intern.get(account_of(arn)),
        region: intern.get(region),
        description: e
            .description()
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        kms_key_id: e.kms_key_id().map(str::to_string),
        rotation_enabled: e.rotation_enabled().unwrap_or(false),
        rotation_lambda_arn: e.rotation_lambda_arn().map(str::to_string),
        rotation_rules: e.rotation_rules().map(|r| RotationRules {
            automatically_after_days: r.automatically_after_days(),
            duration: r.duration().map(str::to_string),
            schedule_expression: r.schedule_expression().map(str::to_string),
        }),
        created: ts(e.created_date()),
        last_changed: ts(e.last_changed_date()),
        last_rotated: ts(e.last_rotated_date()),
        last_accessed: ts(e.last_accessed_date()),
        next_rotation: ts(e.next_rotation_date()),
        deleted: ts(e.deleted_date()),
        owning_service: e.owning_service().map(str::to_string),
        primary_region: e.primary_region().map(str::to_string),
        tags: e
            .tags()
            .iter()
            .map(|t| Tag {
                key: intern.get(t.key().unwrap_or_default()),
                value: intern.get(t.value().unwrap_or_default()),
            })
            .collect(),
        versions,
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
fn sort_versions(versions: &mut [Version]) {
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

/// Secrets (ARN, name) whose versions must be fetched.
pub type VersionJob = Vec<(Arc<str>, Arc<str>)>;

pub struct ListPass {
    pub secrets: Vec<Secret>,
    pub stats: ListStats,
}

/// Pages through ListSecrets. Fails as a whole if any page fails after the
/// SDK's retries: a partial list must never replace a complete one.
pub async fn list_pass(source: &Source, limiter: &RateLimiter) -> Result<ListPass, AppError> {
    let started = Instant::now();
    let before = source.counters.values();
    let mut intern = Interner::default();
    let mut secrets = Vec::new();
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
        secrets.extend(
            out.secret_list()
                .iter()
                .map(|e| secret_from_entry(e, &source.region, &mut intern)),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let calls = source.counters.values().since(before);
    Ok(ListPass {
        stats: ListStats {
            secrets: secrets.len(),
            pages,
            api_calls: calls.attempts,
            throttled: calls.throttled,
            server_errors: calls.server_errors,
            duration_ms: started.elapsed().as_millis() as u64,
        },
        secrets,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionDates {
    pub id: Arc<str>,
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
            id: Arc::from(v.version_id().unwrap_or_default()),
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

/// What a version fetch was based on: if any of it changes, fetch again.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    last_changed: Option<Timestamp>,
    last_rotated: Option<Timestamp>,
    version_ids: Vec<Arc<str>>,
}

impl Fingerprint {
    fn of(s: &Secret) -> Self {
        let mut version_ids: Vec<Arc<str>> = s.versions.iter().map(|v| v.id.clone()).collect();
        version_ids.sort();
        Fingerprint {
            last_changed: s.last_changed,
            last_rotated: s.last_rotated,
            version_ids,
        }
    }
}

#[derive(Default)]
struct VersionCache(HashMap<Arc<str>, (Fingerprint, Vec<VersionDates>)>);

impl VersionCache {
    /// The secret with version dates filled in, if the cache is fresh for it.
    fn fill(&self, s: &Secret) -> Option<Secret> {
        let (fp, dates) = self.0.get(&s.arn)?;
        if *fp != Fingerprint::of(s) {
            return None;
        }
        let mut filled = s.clone();
        for v in &mut filled.versions {
            if let Some(d) = dates.iter().find(|d| d.id == v.id) {
                v.created = d.created;
                v.last_accessed = d.last_accessed;
            }
        }
        sort_versions(&mut filled.versions);
        Some(filled)
    }

    fn is_fresh(&self, s: &Secret) -> bool {
        self.0
            .get(&s.arn)
            .is_some_and(|(fp, _)| *fp == Fingerprint::of(s))
    }
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

/// Runs syncs for one source into an inventory.
pub struct Syncer {
    pub source: Source,
    pub inventory: Arc<Inventory>,
    settings: SyncSettings,
    list_limiter: RateLimiter,
    version_limiter: RateLimiter,
    cache: Mutex<VersionCache>,
}

impl Syncer {
    pub fn new(source: Source, inventory: Arc<Inventory>, settings: SyncSettings) -> Self {
        Syncer {
            list_limiter: RateLimiter::new(settings.list_rate_per_sec),
            version_limiter: RateLimiter::new(settings.version_rate_per_sec),
            source,
            inventory,
            settings,
            cache: Mutex::new(VersionCache::default()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, VersionCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One list pass. On success the snapshot is replaced (with version dates
    /// from the cache where still valid) and the secrets whose versions must
    /// be fetched are returned; on failure the old snapshot stays and the
    /// error is recorded for the page and the metrics.
    pub async fn list_once(&self) -> Result<(ListStats, VersionJob), AppError> {
        self.inventory.record_attempt(now());
        match list_pass(&self.source, &self.list_limiter).await {
            Ok(pass) => {
                let cache = self.cache();
                let mut needed = Vec::new();
                let secrets: Vec<Arc<Secret>> = pass
                    .secrets
                    .into_iter()
                    .map(|s| match cache.fill(&s) {
                        Some(filled) => Arc::new(filled),
                        None => {
                            needed.push((s.arn.clone(), s.name.clone()));
                            Arc::new(s)
                        }
                    })
                    .collect();
                drop(cache);
                self.inventory
                    .publish_list(secrets, pass.stats.clone(), now(), needed.len());
                Ok((pass.stats, needed))
            }
            Err(e) => {
                tracing::warn!(error = %e.detail, "list pass failed; keeping the last good snapshot");
                self.inventory.record_failure(now(), &e.user);
                Err(e)
            }
        }
    }

    /// Fetches versions for `needed` within the rate budget, merging into the
    /// snapshot every `merge_every` results and at the end. Stops early
    /// (returning what it did) if `cancel` reports a newer job.
    pub async fn version_pass(
        self: &Arc<Self>,
        needed: VersionJob,
        mut cancel: Option<&mut watch::Receiver<VersionJob>>,
    ) -> VersionPassReport {
        let started = Instant::now();
        let before = self.source.counters.values();
        let mut report = VersionPassReport {
            needed: needed.len(),
            ..Default::default()
        };
        let mut tasks = JoinSet::new();
        let mut since_merge = 0usize;
        let mut last_merge = Instant::now();
        let merge_every = 500usize;
        let mut pending = needed.into_iter();
        loop {
            if cancel
                .as_mut()
                .is_some_and(|c| c.has_changed().unwrap_or(false))
            {
                break;
            }
            // Keep up to `concurrency` fetches in flight.
            while tasks.len() < self.settings.version_concurrency.max(1) {
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
            let (arn, result) = match joined {
                Ok(x) => x,
                Err(e) => {
                    report.failed += 1;
                    report.last_error = Some(format!("version fetch task failed: {e}"));
                    continue;
                }
            };
            match result {
                Ok(dates) => {
                    report.fetched += 1;
                    self.store_dates(&arn, dates);
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::debug!(error = %e.detail, "version fetch failed");
                    report.last_error = Some(e.user);
                }
            }
            since_merge += 1;
            if since_merge >= merge_every || last_merge.elapsed() > Duration::from_secs(2) {
                self.merge();
                since_merge = 0;
                last_merge = Instant::now();
            }
        }
        tasks.abort_all();
        self.merge();
        report.api_calls = self.source.counters.values().since(before).attempts;
        report.duration_ms = started.elapsed().as_millis() as u64;
        self.inventory.record_versions(now(), &report);
        report
    }

    /// Remembers the dates, keyed by the secret's fingerprint in the current
    /// snapshot (if it changed meanwhile, the next list pass refetches it).
    fn store_dates(&self, arn: &Arc<str>, dates: Vec<VersionDates>) {
        let snapshot = self.inventory.snapshot();
        if let Some(secret) = snapshot.by_arn(arn) {
            self.cache()
                .0
                .insert(arn.clone(), (Fingerprint::of(secret), dates));
        }
    }

    fn merge(&self) {
        let cache = self.cache();
        self.inventory.update_secrets(|s| {
            if s.versions.iter().all(|v| v.created.is_some()) {
                return None;
            }
            cache.fill(s)
        });
        let missing = self
            .inventory
            .snapshot()
            .secrets()
            .iter()
            .filter(|s| !cache.is_fresh(s))
            .count();
        self.inventory.set_versions_missing(missing);
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
                match self.list_once().await {
                    Ok((stats, needed)) => {
                        tracing::info!(
                            secrets = stats.secrets,
                            pages = stats.pages,
                            calls = stats.api_calls,
                            ms = stats.duration_ms,
                            versions_needed = needed.len(),
                            "list pass done"
                        );
                        let _ = tx.send(needed);
                    }
                    Err(e) => tracing::warn!(error = %e.user, "sync failed"),
                }
                tokio::time::sleep(interval).await;
            }
        })
    }
}
