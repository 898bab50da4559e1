//! What a check gathers: one list pass over every source, then the
//! version and replica passes the options ask for (see the module's
//! documentation for what each costs).

use super::{rule_config, Options, Report};
use crate::domain::diagnosis::{diagnose, Diagnosis};
use crate::domain::health::{ReplicaState, RuleId};
use crate::domain::{Secret, Timestamp};
use crate::server::aws::rate::RateLimiter;
use crate::server::aws::sync::{fetch_replicas, Syncer};
use crate::server::aws::Sources;
use crate::server::config::Config;
use crate::server::diagnosis::Diagnoser;
use crate::server::error::{AppError, ErrorKind};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinSet;

/// One list pass, then the version and replica passes the options ask for,
/// then the rules at `now`.
pub async fn collect(config: &Config, opts: &Options, now: Timestamp) -> Result<Report, AppError> {
    let cfg = rule_config(&config.health, &opts.rules);
    let syncers = Syncer::standalone(config).await?;
    // A check that missed a source would pass for the wrong reason: every
    // source must list.
    for (syncer, listed) in syncers
        .iter()
        .zip(futures_util::future::join_all(syncers.iter().map(|s| s.list_once())).await)
    {
        if let Err(e) = listed {
            let mut e = incomplete(format!("source {}: {}", syncer.id(), e.user));
            e.detail = format!("source {}: {}", syncer.id(), e.detail);
            return Err(e);
        }
    }
    let inventory = syncers[0].inventory.clone();

    let pending_matters =
        cfg.is_enabled(RuleId::RotationFailed) || cfg.is_enabled(RuleId::RotationOverdue);
    for syncer in syncers.iter().filter(|_| opts.versions && pending_matters) {
        let source = &syncer.source;
        let job: Vec<(Arc<str>, Arc<str>)> = inventory
            .snapshot()
            .secrets()
            .iter()
            .filter(|s| s.deleted.is_none() && s.pending_version().is_some())
            .filter(|s| source.reads(&s.account, &s.region))
            .map(|s| (s.arn.clone(), s.name.clone()))
            .collect();
        if !job.is_empty() {
            let report = syncer.version_pass(job, None).await;
            if report.failed > 0 {
                return Err(incomplete(
                    format!(
                        "the version dates of {} of {} secrets with a pending rotation could not be read ({}); \
                         rotation-failed cannot be judged without them (--no-versions skips them)",
                        report.failed,
                        report.needed,
                        report.last_error.as_deref().unwrap_or("no detail"),
                    ),
                ));
            }
        }
    }

    let snapshot = inventory.snapshot();
    let secrets = snapshot.secrets();
    let replicas = if opts.replicas && cfg.is_enabled(RuleId::ReplicaFailed) {
        Some(replica_pass(config, &syncers, secrets).await?)
    } else {
        None
    };
    let mut report = Report::build(secrets, replicas.as_ref(), cfg, now, opts.fail_on);
    if opts.diagnose && config.diagnosis.enabled {
        diagnose_failures(config, &syncers, &mut report, now).await;
    }
    let joined = |f: &dyn Fn(&Syncer) -> String| {
        let mut v: Vec<String> = Vec::new();
        for x in syncers.iter().map(|s| f(s)) {
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v.join(", ")
    };
    report.source = joined(&|s| s.source.endpoint.clone());
    report.region = joined(&|s| s.source.region.clone());
    Ok(report)
}

/// Diagnoses each failed rotation in `report` (metadata only, within the
/// `[diagnosis]` budget, in each source's credentials) and attaches it to
/// its rows. A read it may not make says "could not be checked": the check
/// is never incomplete for it.
async fn diagnose_failures(
    config: &Config,
    syncers: &[Arc<Syncer>],
    report: &mut Report,
    now: Timestamp,
) {
    let mut failing: Vec<Arc<Secret>> = report
        .rows
        .iter()
        .filter(|r| {
            r.finding.rule == RuleId::RotationFailed && r.secret.rotation_lambda_arn.is_some()
        })
        .map(|r| r.secret.clone())
        .collect();
    failing.sort_by(|a, b| a.arn.cmp(&b.arn));
    failing.dedup_by(|a, b| a.arn == b.arn);
    if failing.is_empty() {
        return;
    }
    let diagnoser = Diagnoser::new(&config.diagnosis);
    let sources = Sources::of(syncers.iter().map(|s| s.source.clone()).collect());
    let facts = diagnoser.facts_many(&sources, &failing).await;
    let made: HashMap<Arc<str>, Arc<Diagnosis>> = failing
        .iter()
        .zip(&facts)
        .map(|(s, f)| (s.arn.clone(), Arc::new(diagnose(s, f, now))))
        .collect();
    for row in report
        .rows
        .iter_mut()
        .filter(|r| r.finding.rule == RuleId::RotationFailed)
    {
        row.diagnosis = made.get(&row.secret.arn).cloned();
    }
}

fn incomplete(user: String) -> AppError {
    let detail = user.clone();
    AppError::new(
        ErrorKind::Aws,
        format!("the check is incomplete: {user}"),
        detail,
    )
}

/// DescribeSecret for every secret that can have replicas (a replica itself,
/// whose primary is in another region, reports none), within the version
/// rate budget. A secret deleted since the list is skipped.
async fn replica_pass(
    config: &Config,
    syncers: &[Arc<Syncer>],
    secrets: &[Arc<Secret>],
) -> Result<HashMap<Arc<str>, Vec<ReplicaState>>, AppError> {
    let limiter = Arc::new(RateLimiter::new(config.sync.version_rate_per_sec));
    let concurrency = config.sync.version_concurrency.max(1);
    let mut todo = secrets
        .iter()
        .filter(|s| s.primary_region.as_deref().is_none_or(|p| *p == *s.region))
        .filter_map(|s| {
            let syncer = syncers
                .iter()
                .find(|y| y.source.reads(&s.account, &s.region))?;
            Some((s.arn.clone(), s.name.clone(), syncer.source.clone()))
        });
    let mut tasks = JoinSet::new();
    let mut out = HashMap::new();
    loop {
        while tasks.len() < concurrency {
            let Some((arn, name, source)) = todo.next() else {
                break;
            };
            let limiter = limiter.clone();
            tasks.spawn(async move {
                let r = fetch_replicas(&source, &limiter, &arn, &name).await;
                (arn, r)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined {
            Ok((arn, Ok(r))) => {
                out.insert(arn, r);
            }
            Ok((_, Err(e))) if e.kind == ErrorKind::NotFound => {}
            Ok((_, Err(e))) => {
                tasks.abort_all();
                return Err(incomplete(format!(
                    "replica status could not be read: {}",
                    e.user
                )));
            }
            Err(e) => {
                tasks.abort_all();
                return Err(AppError::internal(format!("replica task failed: {e}")));
            }
        }
    }
    Ok(out)
}
