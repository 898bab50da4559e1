//! The detail page's data. Metadata comes from the snapshot; replica status,
//! the resource policy and deprecated versions are not in it (they would
//! cost memory for every secret to serve the few that are opened), so they
//! are read from Secrets Manager when a secret is first opened, kept for a
//! few minutes, and read again on "refresh". Each read also refreshes the
//! secret in the snapshot.

use super::aws::sync::{secret_from_entry, sort_versions, ts, Interner};
use super::aws::Source;
use super::clock::now;
use super::error::{AppError, ErrorKind};
use super::AppState;
use crate::domain::replica::Replica;
use crate::domain::rotation_history::RotationEvent;
use crate::domain::{Label, Secret, Timestamp, Version, VersionId};
use crate::server::auth::Principal;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::SecretListEntry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a live read is reused before the next view reads again.
const FRESH_SECS: i64 = 300;
/// Live reads kept at most; the oldest goes first.
const MAX_ENTRIES: usize = 1000;

#[derive(Clone, Debug)]
pub struct Live {
    pub fetched_at: Timestamp,
    pub replicas: Vec<Replica>,
    /// The policy JSON (`None`: no policy), or why it could not be read.
    pub policy: Result<Option<String>, String>,
    /// Every version, deprecated ones included.
    pub versions: Vec<Version>,
}

#[derive(Default)]
pub struct DetailCache {
    entries: Mutex<HashMap<Arc<str>, Arc<Live>>>,
}

impl DetailCache {
    fn get(&self, arn: &str, now: Timestamp) -> Option<Arc<Live>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(arn)
            .filter(|l| now.secs() - l.fetched_at.secs() < FRESH_SECS)
            .cloned()
    }

    /// The replica status of every secret read within the freshness
    /// window, by ARN, for the health rules.
    pub fn replica_states(
        &self,
        now: Timestamp,
    ) -> HashMap<Arc<str>, Vec<crate::domain::health::ReplicaState>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .filter(|(_, l)| {
                now.secs() - l.fetched_at.secs() < FRESH_SECS && !l.replicas.is_empty()
            })
            .map(|(arn, l)| (arn.clone(), l.replicas.iter().map(Replica::state).collect()))
            .collect()
    }

    fn put(&self, arn: Arc<str>, live: Arc<Live>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES && !map.contains_key(&arn) {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, l)| l.fetched_at)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(arn, live);
    }
}

/// A name, or an ARN (`arn:…`), in the snapshot.
fn find(state: &AppState, id: &str) -> Result<Arc<Secret>, AppError> {
    let snapshot = state.inventory.snapshot();
    let found = if id.starts_with("arn:") {
        snapshot.arc_by_arn(id).cloned()
    } else {
        snapshot
            .by_name(id)
            .and_then(|s| snapshot.arc_by_arn(&s.arn))
            .cloned()
    };
    found.ok_or_else(|| {
        let when = snapshot
            .taken_at
            .map(|t| format!(" (last sync {})", t.relative(now())))
            .unwrap_or_default();
        AppError::new(
            ErrorKind::NotFound,
            format!(
                "No secret named “{id}” is in the inventory{when}. It may have been created after the last sync, \
                 or deleted; search the inventory for it."
            ),
            format!("detail lookup missed {id}"),
        )
    })
}

/// The secret `id` names, if `who` may see it. Checked before any AWS
/// call; a scoped user gets the same answer for a secret outside their
/// scopes and for one that does not exist.
pub fn reachable(state: &AppState, who: &Principal, id: &str) -> Result<Arc<Secret>, AppError> {
    // A secret outside the scopes and one that does not exist answer with
    // the same status and the same sentence: the answer is no oracle.
    match find(state, id) {
        Ok(s) if who.sees(&s) => Ok(s),
        Err(e) if who.global_role().is_some() => Err(e),
        _ => Err(crate::server::auth::forbidden(format!(
            "{id} is not in your scopes, or does not exist. Ask an admin for a grant that covers it."
        ))),
    }
}

/// A secret's metadata from its DescribeSecret answer, as the list pass
/// would have it (labels without version dates).
fn secret_from_describe(d: &DescribeSecretOutput, region: &str) -> Secret {
    let entry = SecretListEntry::builder()
        .set_arn(d.arn.clone())
        .set_name(d.name.clone())
        .set_description(d.description.clone())
        .set_kms_key_id(d.kms_key_id.clone())
        .set_rotation_enabled(d.rotation_enabled)
        .set_rotation_lambda_arn(d.rotation_lambda_arn.clone())
        .set_rotation_rules(d.rotation_rules.clone())
        .set_last_rotated_date(d.last_rotated_date)
        .set_last_changed_date(d.last_changed_date)
        .set_last_accessed_date(d.last_accessed_date)
        .set_deleted_date(d.deleted_date)
        .set_next_rotation_date(d.next_rotation_date)
        .set_tags(d.tags.clone())
        .set_secret_versions_to_stages(d.version_ids_to_stages.clone())
        .set_owning_service(d.owning_service.clone())
        .set_created_date(d.created_date)
        .set_primary_region(d.primary_region.clone())
        .build();
    secret_from_entry(&entry, region, &mut Interner::default())
}

/// The secret `id` (a name or an ARN) read with one DescribeSecret, for a
/// command that acts on one secret without listing the account.
pub async fn describe(source: &Source, id: &str) -> Result<Secret, AppError> {
    let d = source
        .client
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| AppError::from_sdk("DescribeSecret", id, &source.endpoint, e))?;
    Ok(secret_from_describe(&d, &source.region))
}

/// Reads `secret` from Secrets Manager again (DescribeSecret, its versions,
/// its policy), keeps the live part for the detail page and puts the fresh
/// metadata into the snapshot; the fresh secret.
pub async fn reread(state: &AppState, secret: &Secret) -> Result<Arc<Secret>, AppError> {
    let (fresh, live) = read_live(state.source_of(secret)?, secret).await?;
    Ok(keep(state, fresh, live).0)
}

/// Caches `live` and puts `fresh` into the snapshot in place of the old copy.
fn keep(state: &AppState, fresh: Secret, live: Live) -> (Arc<Secret>, Arc<Live>) {
    let live = Arc::new(live);
    state.details.put(fresh.arn.clone(), live.clone());
    let fresh = Arc::new(fresh);
    let replacement = fresh.clone();
    state
        .inventory
        .update_secrets(|s| (s.arn == replacement.arn).then(|| (*replacement).clone()));
    // The snapshot's copy carries what the inventory knows besides AWS's
    // answer (a failure seen for its pending rotation).
    let kept = state
        .inventory
        .snapshot()
        .arc_by_arn(&fresh.arn)
        .filter(|s| s.versions == fresh.versions)
        .cloned();
    (kept.unwrap_or(fresh), live)
}

/// DescribeSecret, ListSecretVersionIds (deprecated included) and
/// GetResourcePolicy, concurrently.
async fn read_live(source: &Source, secret: &Secret) -> Result<(Secret, Live), AppError> {
    let arn = &*secret.arn;
    let name = &*secret.name;
    let describe = async {
        source
            .client
            .describe_secret()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| AppError::from_sdk("DescribeSecret", name, &source.endpoint, e))
    };
    let versions = async {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = source
                .client
                .list_secret_version_ids()
                .secret_id(arn)
                .include_deprecated(true)
                .max_results(100)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    AppError::from_sdk("ListSecretVersionIds", name, &source.endpoint, e)
                })?;
            out.extend(page.versions().iter().map(|v| Version {
                id: VersionId::parse(v.version_id().unwrap_or_default()),
                labels: v.version_stages().iter().map(|l| Label::parse(l)).collect(),
                created: ts(v.created_date()),
                last_accessed: ts(v.last_accessed_date()),
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok::<_, AppError>(out)
    };
    let deleted = secret.deleted.is_some();
    let policy = async {
        if deleted {
            // AWS refuses GetResourcePolicy on a secret scheduled for deletion.
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "AWS does not return the resource policy of a secret scheduled for deletion; restore the secret to read it.",
                format!("GetResourcePolicy skipped for {name}: scheduled for deletion"),
            ));
        }
        source
            .client
            .get_resource_policy()
            .secret_id(arn)
            .send()
            .await
            .map(|o| o.resource_policy().map(str::to_string))
            .map_err(|e| AppError::from_sdk("GetResourcePolicy", name, &source.endpoint, e))
    };
    let (d, mut versions, policy) = tokio::join!(describe, versions, policy);
    let d = d?;
    let mut versions = versions
        .as_mut()
        .map(std::mem::take)
        .map_err(|e| e.clone())?;
    let at = now();
    let mut fresh = secret_from_describe(&d, &secret.region);
    // The labelled versions with their dates, as the version pass would.
    fresh.versions = versions
        .iter()
        .filter(|v| !v.labels.is_empty())
        .cloned()
        .collect();
    sort_versions(&mut fresh.versions);
    fresh.versions_fetched = Some(at);
    versions.sort_by_key(|v| std::cmp::Reverse(v.created));
    let replicas = d
        .replication_status()
        .iter()
        .map(|r| Replica {
            region: r.region().unwrap_or_default().to_string(),
            kms_key: r.kms_key_id().map(str::to_string),
            status: r
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            message: r.status_message().map(str::to_string),
            last_accessed: ts(r.last_accessed_date()),
        })
        .collect();
    // A policy that cannot be read is shown as such; the rest still stands.
    let policy = policy.map_err(|e| {
        if !deleted {
            tracing::warn!(secret = %name, detail = %e.detail, "GetResourcePolicy failed");
        }
        e.user
    });
    let live = Live {
        fetched_at: at,
        replicas,
        policy,
        versions,
    };
    Ok((fresh, live))
}

/// A secret as its page opens it: the snapshot's copy (refreshed when AWS
/// was read), the live read or why it failed, and CloudTrail's history.
pub struct Opened {
    pub secret: Arc<Secret>,
    pub live: Option<Arc<Live>>,
    pub live_error: Option<String>,
    /// `None` when CloudTrail is off; its error sentence when unreadable.
    pub history: Option<Result<Vec<RotationEvent>, String>>,
    pub at: Timestamp,
}

/// Opens secret `id` for `who`: from the live cache, or read from AWS (on
/// `refresh`, or when the cache is stale, within the person's budget); a
/// failure CloudTrail records for its pending rotation is learned into
/// the inventory.
pub async fn open(
    state: &AppState,
    who: &Principal,
    id: &str,
    refresh: bool,
) -> Result<Opened, AppError> {
    let secret = reachable(state, who, id)?;
    let at = now();
    let cached = (!refresh)
        .then(|| state.details.get(&secret.arn, at))
        .flatten();
    let (secret, live, live_error) = match cached {
        Some(live) => (secret, Some(live), None),
        // Reading AWS (not the cache) takes from the person's budget: a
        // refresh over it is refused, a page view shows the last sync.
        None => match async {
            let (what, budget) = if refresh {
                ("refresh_secret", super::auth::ReadBudget::Asked)
            } else {
                ("get_secret", super::auth::ReadBudget::PageView)
            };
            super::auth::take_aws_read(state, who, what, budget)?;
            read_live(state.source_of(&secret)?, &secret).await
        }
        .await
        {
            Ok((fresh, live)) => {
                let (fresh, live) = keep(state, fresh, live);
                (fresh, Some(live), None)
            }
            Err(e) if refresh => return Err(e),
            Err(e) => {
                tracing::warn!(secret = %secret.name, detail = %e.detail, "live detail read failed");
                (secret, None, Some(e.user))
            }
        },
    };
    // CloudTrail's rotation history, when on; a failure it records for the
    // pending rotation is attached to the secret (and kept for the lists
    // and the queue), so the page says which step failed and how often.
    let mut history = None;
    let mut secret = secret;
    if let Some(trail) = state.trail_of(&secret) {
        let h = (*trail.history(&secret.arn, at, refresh).await).clone();
        let seen = h
            .as_ref()
            .ok()
            .and_then(|events| crate::domain::rotation_failure::failure_of(&secret, events));
        if let Some(f) = seen.filter(|f| secret.seen_failure() != Some(f)) {
            state
                .inventory
                .note_failures(vec![(secret.arn.clone(), f.clone())]);
            secret = Arc::new(Secret {
                failure: Some(Arc::new(f)),
                ..(*secret).clone()
            });
        }
        history = Some(h);
    }
    Ok(Opened {
        secret,
        live,
        live_error,
        history,
        at,
    })
}
