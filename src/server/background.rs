//! The background work of `serve`: the sync loop and the health monitor,
//! started together so that tests run exactly what `serve` runs.

use super::aws::sync::{self, Syncer};
use super::AppState;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The running sync and monitor tasks; dropping it stops them.
pub struct Background {
    pub syncer: Arc<Syncer>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the sync of `state.source` into `state.inventory` (every
    /// `sync.interval_secs`) and the health monitor (alerts, every
    /// `alerts.evaluate_every_secs` and after each new snapshot).
    pub fn start(state: &AppState) -> Background {
        let syncer = Arc::new(Syncer::new(
            state.source.clone(),
            state.inventory.clone(),
            state.config.sync.clone(),
        ));
        let tasks = vec![
            syncer.clone().spawn(),
            state.health.clone().spawn(sync::now),
        ];
        Background { syncer, tasks }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
