//! The background work of `serve`: the sync loop, the health monitor, the
//! removal of expired sessions and of expired access grants, started together so that tests run
//! exactly what `serve` runs.

use super::aws::sync::Syncer;
use super::AppState;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The running sync and monitor tasks; dropping it stops them.
pub struct Background {
    pub syncers: Vec<Arc<Syncer>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the sync of each of `state.sources` into `state.inventory`
    /// (each on its own schedule and with its own rate budget, so a slow or
    /// failing source never holds the others up) and the health monitor (alerts, every
    /// `alerts.evaluate_every_secs` and after each new snapshot), and
    /// deletes expired sessions from the store every few minutes.
    pub fn start(state: &AppState) -> Background {
        let syncers = Syncer::for_sources(&state.sources, &state.inventory, &state.config);
        let mut tasks: Vec<JoinHandle<()>> = syncers.iter().map(|s| s.clone().spawn()).collect();
        tasks.extend([
            state.health.clone().spawn(super::clock::now),
            tokio::spawn(delete_expired_sessions(state.auth.store.clone())),
            tokio::spawn(expire_grants(state.clone())),
            tokio::spawn(flush_denials(state.clone())),
            tokio::spawn(learn_failures(state.clone())),
            tokio::spawn(diagnose_failures(state.clone())),
        ]);
        tasks.extend(super::readers::pass::spawn(state));
        Background { syncers, tasks }
    }
}

/// How often expired sessions are deleted. An expired session is refused
/// when used whether or not it has been deleted; this only keeps the table
/// from growing.
const SESSION_SWEEP: std::time::Duration = std::time::Duration::from_secs(300);

async fn delete_expired_sessions(store: super::store::Store) {
    use tower_sessions::session_store::ExpiredDeletion;
    let sessions = super::store::SqlSessionStore(store);
    let mut every = tokio::time::interval(SESSION_SWEEP);
    loop {
        every.tick().await;
        if let Err(e) = sessions.delete_expired().await {
            tracing::warn!("expired sessions not deleted (will retry): {e}");
        }
    }
}

/// How often granted access past its time is removed from the policies
/// (IAM already refuses it: the statement's condition holds the expiry).
const GRANT_SWEEP: std::time::Duration = std::time::Duration::from_secs(30);

async fn expire_grants(state: AppState) {
    let mut every = tokio::time::interval(GRANT_SWEEP);
    loop {
        every.tick().await;
        match super::requests::expire_due(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired grants removed"),
            Err(e) => tracing::warn!(detail = %e.detail, "expired grants not removed (will retry)"),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Writes the counts of anonymous refusals that were not recorded one by
/// one, once their minute is over.
async fn flush_denials(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        super::auth::flush_anonymous_denials(&state, std::time::Instant::now()).await;
    }
}

/// How often the trails are asked for new rotation failures, so the queue,
/// the counts and the lists show a failed rotation (and its step) without
/// anyone opening the on-call page.
const FAILURE_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

async fn learn_failures(state: AppState) {
    if state.trails.is_empty() {
        return;
    }
    let mut every = tokio::time::interval(FAILURE_SWEEP);
    loop {
        every.tick().await;
        let view = state.health.current(super::clock::now());
        super::failures::learn_failures(&state, &view, false).await;
    }
}

/// How often failed rotations are diagnosed again. Their metadata comes
/// through the diagnoser's cache, so a pass within its period costs no
/// calls; past it, a pass reads each shared Lambda, key and VPC once.
const DIAGNOSIS_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Diagnoses every failing rotation (after the first sync), so `/oncall`'s
/// incidents and `cause:` are ready before anyone opens a page.
async fn diagnose_failures(state: AppState) {
    if !state.diagnoser.enabled() {
        return;
    }
    loop {
        let at = super::clock::now();
        // Only the failing secrets are kept across the awaits: a view held
        // through the sleep would keep a whole snapshot alive beside its
        // successors (every secret twice after a version pass).
        let failing = {
            let view = state.health.current(at);
            if view.snapshot.taken_at.is_none() {
                None
            } else {
                Some(super::failures::failing(&view))
            }
        };
        let Some(failing) = failing else {
            // Until the first sync there is nothing to diagnose.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        };
        super::failures::diagnose(&state, &failing, at).await;
        drop(failing);
        tokio::time::sleep(DIAGNOSIS_SWEEP).await;
    }
}
