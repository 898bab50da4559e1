//! Diagnoses for the pages: the on-call queue's failed rotations grouped
//! into incidents, and one secret's checks.

use crate::api::{Oncall, RowCause};
use crate::domain::diagnosis::strategy::strategy;
use crate::domain::diagnosis::{incidents, Diagnosis, Failure, Strategy};
use crate::domain::health::RuleId;
use crate::domain::{Secret, Timestamp};
use crate::server::auth::{Principal, ReadBudget};
use crate::server::error::AppError;
use crate::server::health::HealthView;
use crate::server::AppState;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long the queue waits for diagnoses not made yet; the rest go on in
/// the background and show on the next refresh.
const QUEUE_WAIT: Duration = Duration::from_secs(3);

/// Adds to `queue` each failed or overdue rotation's cause and the
/// incidents they make. Diagnoses already made (by the background pass or a page) are
/// used at once; the others are made now, waited for a moment, and left
/// to finish in the background.
pub async fn diagnose_queue(
    state: &AppState,
    view: &HealthView,
    queue: &mut Oncall,
    at: Timestamp,
) {
    if !state.diagnoser.enabled() {
        return;
    }
    // Overdue rotations are diagnosed too: a function Secrets Manager
    // cannot invoke leaves no failed attempt, only a missed deadline.
    let failed: Vec<Arc<Secret>> = queue
        .rows
        .iter()
        .filter_map(|r| view.snapshot.arc_by_arn(&r.arn).cloned())
        .filter(|s| s.rotation_lambda_arn.is_some())
        .collect();
    let mut known: HashMap<String, Arc<Diagnosis>> = failed
        .iter()
        .filter_map(|s| Some((s.arn.to_string(), state.inventory.diagnosis_of(&s.arn)?.0)))
        .collect();
    let missing: Vec<Arc<Secret>> = failed
        .iter()
        .filter(|s| !known.contains_key(&*s.arn))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let (state2, missing) = (state.clone(), missing);
        let task =
            tokio::spawn(
                async move { crate::server::failures::diagnose(&state2, &missing, at).await },
            );
        if let Ok(Ok(made)) = tokio::time::timeout(QUEUE_WAIT, task).await {
            known.extend(made.into_iter().map(|d| (d.secret_arn.clone(), d)));
        }
    }
    for row in &mut queue.rows {
        row.cause = known
            .get(&row.arn)
            .filter(|d| row.problem == RuleId::RotationFailed || d.main_cause().is_some())
            .map(|d| RowCause::of(d));
    }
    queue.undiagnosed = failed.len().saturating_sub(known.len());
    // Incidents: every failed rotation, and the overdue ones whose
    // diagnosis found a cause.
    let failures: Vec<Failure> = queue
        .rows
        .iter()
        .filter(|r| {
            r.problem == RuleId::RotationFailed
                || known.get(&r.arn).is_some_and(|d| d.main_cause().is_some())
        })
        .map(|r| Failure {
            secret_arn: &r.arn,
            since: r.since,
            lambda_arn: r.lambda_arn.as_deref(),
            diagnosis: known.get(&r.arn).map(|d| &**d),
        })
        .collect();
    queue.incidents = incidents(&failures);
}

/// The diagnosis of secret `id`'s rotation for `who`: the last one made
/// if it is fresh enough (the diagnoser's cache decides what is read
/// again), else made now. Out of scope and missing answer alike.
pub async fn secret_diagnosis(
    state: &AppState,
    who: &Principal,
    id: &str,
    at: Timestamp,
) -> Result<Arc<Diagnosis>, AppError> {
    let secret = crate::server::detail::reachable(state, who, id)?;
    // One made within the diagnoser's cache period (by the background pass
    // or an earlier view) is served as it is; a new one takes a read from
    // the person's budget.
    if let Some((d, made)) = state.inventory.diagnosis_of(&secret.arn) {
        if at.secs() - made.secs() < state.diagnoser.ttl().as_secs() as i64 {
            return Ok(d);
        }
    }
    crate::server::auth::take_aws_read(state, who, "get_diagnosis", ReadBudget::Asked)?;
    let made = crate::server::failures::diagnose(state, std::slice::from_ref(&secret), at).await;
    Ok(made.into_iter().next().unwrap_or_else(|| {
        // Diagnosis switched off: the strategy still comes from the tag
        // and the function's name.
        Arc::new(Diagnosis {
            secret_arn: secret.arn.to_string(),
            checks: Vec::new(),
            strategy: strategy(&secret, None),
        })
    }))
}

/// How secret `id` rotates, for Roll back's dialog: from its last
/// diagnosis, else read now (the function's template tag), else its tag
/// and function name. `None` when `who` cannot see it.
pub async fn strategy_of(state: &AppState, who: &Principal, id: &str) -> Option<Strategy> {
    let secret = crate::server::detail::reachable(state, who, id).ok()?;
    if let Some((d, _)) = state.inventory.diagnosis_of(&secret.arn) {
        return Some(d.strategy.clone());
    }
    let at = crate::server::clock::now();
    let made = crate::server::failures::diagnose(state, std::slice::from_ref(&secret), at).await;
    Some(match made.first() {
        Some(d) => d.strategy.clone(),
        None => strategy(&secret, None),
    })
}
