//! `/metrics`: the Prometheus text exposition format (version 0.0.4),
//! written by hand.
//!
//! What a scrape reads:
//! - the health of the inventory from the monitor's current view
//!   ([`super::health::HealthMonitor::current`]: the kept view, or one new
//!   evaluation when the kept one is stale), counted by account and region,
//!   by rule and by worst severity ([`inventory`]);
//! - the sync status of the inventory and the AWS call counters of the source;
//! - the process's own counters kept here ([`process`]): HTTP requests
//!   (recorded by [`track`], an axum middleware) and webhook deliveries.
//!
//! Labels are bounded and never carry a secret's name: routes are mapped to
//! templates ([`route_of`]), methods to a fixed list, accounts and regions
//! are those of the inventory.
//!
//! Why not the `prometheus-client` crate: it was tried (0.26, builds on
//! rustc 1.95) and writes OpenMetrics 1.0 only, which is not the format our
//! scrapers and dashboards read today: a `# EOF` trailer; a counter's HELP
//! and TYPE name the family without `_total` while its sample carries it
//! (in 0.0.4 the sample then belongs to no declared family); histogram
//! bounds written as floats (`le="10.0"`, a new series beside our `le="10"`
//! for any Prometheus before 3.0); a full stop appended to every HELP text;
//! and it must be served as `application/openmetrics-text; version=1.0.0`.
//! Most of what a scrape reads is computed from the snapshot at scrape time
//! (a custom collector there too), so the crate would have replaced only
//! the encoder below ([`exposition`]), a hundred lines, at the price of
//! that change of format. The strict 0.0.4 parser in the tests pins it.

mod exposition;
mod http;
mod inventory;
mod process;
#[cfg(test)]
pub(crate) mod tests;

pub use exposition::{escape_label, fmt_f64, Exposition, CONTENT_TYPE};
pub use http::{handler, method_label, route_of, track};
pub use inventory::{health_label, write_inventory, Inputs, SourceMetrics};
pub use process::{AlertCounters, Metrics, DURATION_BUCKETS};

use super::AppState;
use crate::domain::Timestamp;

/// The whole exposition for `state` at `now`.
pub fn render(state: &AppState, now: Timestamp) -> String {
    let view = state.health.current(now);
    let sources: Vec<SourceMetrics> = state
        .inventory
        .sources()
        .into_iter()
        .map(|status| SourceMetrics {
            api: state
                .sources
                .all()
                .iter()
                .find(|s| s.id() == status.id)
                .map(|s| s.counters.values())
                .unwrap_or_default(),
            status,
        })
        .collect();
    let inputs = Inputs {
        view: &view,
        cfg: &state.health.cfg,
        status: &state.inventory.status(),
        ready: state.inventory.is_ready(),
        sources: &sources,
    };
    let mut e = Exposition::default();
    write_inventory(&mut e, &inputs);
    state.metrics.write_http(&mut e);
    state.metrics.write_alerts(&mut e);
    state.diagnoser.write_metrics(&mut e);
    e.family(
        "secretscope_build_info",
        "gauge",
        "Always 1; the version is a label.",
    );
    e.sample(
        "secretscope_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    e.finish()
}
