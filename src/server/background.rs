//! The background work of `serve`: the sync loops (list and incremental
//! passes), the health monitor, the removal of expired sessions and of
//! expired access grants, the alerts, started together so that tests run
//! exactly what `serve` runs.
//!
//! What every replica runs, and what only the holder of the lease (see
//! [`super::lease`]) runs, is decided here; the README's "Several replicas
//! on PostgreSQL" has the table and the reasons.

use super::alerts::outbox::{Announcer, Poster};
use super::aws::sync::Syncer;
use super::lease::{self, Lease};
use super::AppState;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The running sync and monitor tasks; dropping it stops them.
pub struct Background {
    pub syncers: Vec<Arc<Syncer>>,
    /// The once-only work's lease (one per process).
    pub lease: Arc<Lease>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts, on every replica: the sync of each of `state.sources` into
    /// `state.inventory` (each on its own schedule and with its own rate
    /// budget, so a slow or failing source never holds the others up), the
    /// health evaluation (every `alerts.evaluate_every_secs` and after each
    /// new snapshot), the learning of rotation failures from CloudTrail
    /// (each replica's pages read its own snapshot) and the flush of
    /// anonymous refusals; and the lease, under which the once-only work
    /// runs on one replica at a time: the alerts (announced and posted),
    /// the expiry of grants and of sessions, the diagnosis sweep and the
    /// readers pass.
    pub fn start(state: &AppState) -> Background {
        let syncers = Syncer::for_sources(&state.sources, &state.inventory, &state.config);
        let mut tasks: Vec<JoinHandle<()>> = syncers.iter().map(|s| s.clone().spawn()).collect();
        // Each source's write events from its CloudTrail, through the
        // client its other CloudTrail readers share (one quota).
        tasks.extend(syncers.iter().filter_map(|s| {
            let trail = state.trail_of_source(&s.id()).map(|t| t.trail.clone());
            super::aws::incremental::start(s, trail, &state.config)
        }));
        tasks.extend([
            state.health.clone().spawn(super::clock::now),
            tokio::spawn(flush_denials(state.clone())),
            tokio::spawn(learn_failures(state.clone())),
        ]);
        let store = state.auth.store.clone();
        let lease = Lease::new(store.clone(), lease::BACKGROUND, &state.config.store.lease);
        tasks.push(lease.spawn());
        if let Some(n) = &state.notifier {
            let poster = Arc::new(n.use_store(store.clone()));
            tasks.extend(alerts_under(&lease, state, poster));
        }
        let s = state.clone();
        tasks.extend([
            lease.run_while_held("session sweep", move || {
                delete_expired_sessions(store.clone())
            }),
            lease.run_while_held("grant expiry", move || expire_grants(s.clone())),
        ]);
        let s = state.clone();
        tasks.push(lease.run_while_held("diagnosis sweep", move || diagnose_failures(s.clone())));
        tasks.extend(super::readers::pass::spawn(state, &lease));
        let metrics = state.metrics.clone();
        tasks.push(lease.run_while_held("lease gauge", move || held_gauge(metrics.clone())));
        Background {
            syncers,
            lease,
            tasks,
        }
    }

    /// Stops every task and releases the lease (a clean shutdown), so
    /// another replica takes the once-only work over at its next try.
    pub async fn stop(mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
        self.lease.release().await;
    }
}

/// The webhook's poster and the alarms' announcer, under `lease`. A new
/// holder first asks CloudTrail for rotation failures (the last holder
/// may have announced one this replica has not learned yet), then
/// announces from its first snapshot taken after it took the lease.
fn alerts_under(lease: &Arc<Lease>, state: &AppState, poster: Arc<Poster>) -> [JoinHandle<()>; 2] {
    let (l, s) = (lease.clone(), state.clone());
    let posting = poster.clone();
    let announcing = lease.run_while_held("alarm announcer", move || {
        let (l, s, outbox) = (l.clone(), s.clone(), poster.outbox().clone());
        async move {
            let since = l.state().map_or_else(super::clock::now, |h| h.since);
            if !s.trails.is_empty() {
                let view = s.health.current(super::clock::now());
                super::failures::learn_failures(&s, &view, false).await;
            }
            Announcer {
                outbox,
                health: s.health.clone(),
                cfg: s.config.health.clone(),
                dashboard_url: s.notifier.as_ref().and_then(|n| n.dashboard_url.clone()),
            }
            .run(since)
            .await
        }
    });
    let posting = lease.run_while_held("webhook poster", move || posting.clone().run());
    [announcing, posting]
}

/// `secretscope_lease_held`: 1 while this runs (under the lease), 0 once
/// it is stopped.
async fn held_gauge(metrics: Arc<super::metrics::Metrics>) {
    struct Unset(Arc<super::metrics::Metrics>);
    impl Drop for Unset {
        fn drop(&mut self) {
            self.0
                .lease_held
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
    }
    metrics
        .lease_held
        .store(1, std::sync::atomic::Ordering::Relaxed);
    let _unset = Unset(metrics);
    std::future::pending::<()>().await
}

/// How often expired sessions are deleted. An expired session is refused
/// when used whether or not it has been deleted; this only keeps the table
/// from growing.
const SESSION_SWEEP: std::time::Duration = std::time::Duration::from_secs(300);

/// How long posted webhook messages are kept in the store: CloudTrail's
/// 90 days, so that a new reader's message stays once-only as long as its
/// read can be found.
const MESSAGES_KEPT_SECS: i64 = 90 * 86_400;

/// Deletes expired sessions and old webhook messages.
async fn delete_expired_sessions(store: super::store::Store) {
    use tower_sessions::session_store::ExpiredDeletion;
    let sessions = super::store::SqlSessionStore(store);
    let mut every = tokio::time::interval(SESSION_SWEEP);
    loop {
        every.tick().await;
        if let Err(e) = sessions.delete_expired().await {
            tracing::warn!("expired sessions not deleted (will retry): {e}");
        }
        let before = super::clock::now().secs() - MESSAGES_KEPT_SECS;
        if let Err(e) = sessions.0.prune_messages(before).await {
            tracing::warn!("old webhook messages not deleted (will retry): {e}");
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
