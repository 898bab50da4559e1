//! Rotation failures CloudTrail recorded, learned into the inventory: the
//! queue, the lists and the background sweep all read them from here.

use super::health::HealthView;
use super::AppState;
use crate::domain::diagnosis::Diagnosis;
use crate::domain::rotation_history::RotationEvent;
use crate::domain::{Secret, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

/// The recent RotationFailed events of the trails `view` covers (each
/// account and region's at once, cached a little while), and the first
/// refusal; `None` without trails. Only the trails of the accounts and
/// regions this view holds secrets in when `scoped`: a scoped user hears
/// nothing of the others (nor their role ARNs).
pub async fn trail_failures(
    state: &AppState,
    view: &HealthView,
    scoped: bool,
) -> Option<(Vec<RotationEvent>, Option<String>)> {
    let covered = scoped.then(|| super::selection::sources_in_view(state, view));
    let trails: Vec<_> = state
        .trails
        .iter()
        .filter(|(id, _)| covered.as_ref().is_none_or(|c| c.contains(id)))
        .collect();
    let lookups =
        futures_util::future::join_all(trails.iter().map(|(_, t)| t.recent_failures(view.at)))
            .await;
    if lookups.is_empty() {
        return None;
    }
    let mut events = Vec::new();
    let mut refused = None;
    for (looked, (id, _)) in lookups.iter().zip(trails.iter().copied()) {
        match &**looked {
            Ok(e) => events.extend(e.iter().cloned()),
            Err(e) if id.is_empty() => refused = refused.or(Some(e.clone())),
            Err(e) => refused = refused.or(Some(format!("{id}: {e}"))),
        }
    }
    Some((events, refused))
}

/// Reads the recent rotation failures of the trails `view` covers and
/// attaches each to its secret's pending rotation (see
/// `Inventory::note_failures`), so a rotation seen failing counts as failed
/// at once, with its step and attempt. True when the snapshot changed.
pub async fn learn_failures(state: &AppState, view: &HealthView, scoped: bool) -> bool {
    let Some((events, _)) = trail_failures(state, view, scoped).await else {
        return false;
    };
    let mut by_arn: HashMap<&str, Vec<RotationEvent>> = HashMap::new();
    for e in &events {
        by_arn.entry(&e.secret_arn).or_default().push(e.clone());
    }
    let seen: Vec<_> = by_arn
        .iter()
        .filter_map(|(arn, evs)| {
            let s = view.snapshot.by_arn(arn)?;
            let f = crate::domain::rotation_failure::failure_of(s, evs)?;
            Some((s.arn.clone(), f))
        })
        .collect();
    state.inventory.note_failures(seen)
}

/// Diagnoses `secrets`' rotations at `at` (their metadata read through the
/// diagnoser's cache and call budget, in each source's credentials) and
/// records them in the inventory, where `cause:` and the queue find them.
pub async fn diagnose(
    state: &AppState,
    secrets: &[Arc<Secret>],
    at: Timestamp,
) -> Vec<Arc<Diagnosis>> {
    if !state.diagnoser.enabled() || secrets.is_empty() {
        return Vec::new();
    }
    let facts = state.diagnoser.facts_many(&state.sources, secrets).await;
    let made: Vec<Arc<Diagnosis>> = secrets
        .iter()
        .zip(&facts)
        .map(|(s, f)| Arc::new(crate::domain::diagnosis::diagnose(s, f, at)))
        .collect();
    state.inventory.note_diagnoses(made.clone(), at);
    made
}

/// The secrets of `view` whose rotation is failing or overdue (a failure
/// seen, or either rule fired) and has a function to diagnose.
pub fn failing(view: &HealthView) -> Vec<Arc<Secret>> {
    view.snapshot
        .secrets()
        .iter()
        .zip(&view.summaries)
        .filter(|(s, sum)| {
            s.rotation_lambda_arn.is_some()
                && (s.seen_failure().is_some()
                    || sum
                        .fired
                        .contains(crate::domain::health::RuleId::RotationFailed))
        })
        .map(|(s, _)| s.clone())
        .collect()
}
