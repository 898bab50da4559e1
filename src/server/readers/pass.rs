//! The background pass: reads the readers of the secrets the read rules
//! watch, without anyone opening a page, within `[readers]
//! background_share` of each trail's LookupEvents quota; and the alerts of
//! new readers of high-value secrets (webhook and mail).
//!
//! Order, per trail: high-value secrets, then secrets scheduled for
//! deletion (`accessed-after-deletion`), then secrets rotated within the
//! look-back (`read-previous-after-rotation`); within each, the least
//! recently read first. A secret read within `pass_interval_seconds` waits.

use crate::domain::health::{self, RuleId};
use crate::domain::{Secret, Timestamp};
use crate::server::aws::rate::RateLimiter;
use crate::server::AppState;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the pass sleeps when nothing is due.
const IDLE: Duration = Duration::from_secs(20);

/// The pass's class for `s`, lower first; `None`: the pass leaves it to pages.
pub fn priority(s: &Secret, now: Timestamp, lookback_secs: i64) -> Option<u8> {
    if s.high_value {
        Some(0)
    } else if s.deleted.is_some() {
        Some(1)
    } else if s
        .last_rotated
        .is_some_and(|r| now.secs() - r.secs() <= lookback_secs)
    {
        Some(2)
    } else {
        None
    }
}

/// Starts one pass per trail, each run while this replica holds `lease`
/// (the passes of several replicas would share each trail's LookupEvents
/// quota and alert each new reader once per replica); none when
/// CloudTrail, readers or the share is off.
pub fn spawn(
    state: &AppState,
    lease: &Arc<crate::server::lease::Lease>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let r = &state.config.readers;
    if !state.config.cloudtrail.enabled || !r.enabled || r.background_share <= 0.0 {
        return Vec::new();
    }
    let rate = state.config.cloudtrail.calls_per_second * r.background_share;
    state
        .trails
        .iter()
        .map(|(id, _)| {
            let share = Arc::new(RateLimiter::new(rate));
            let (state, id) = (state.clone(), id.clone());
            lease.run_while_held("readers pass", move || {
                run(state.clone(), id.clone(), share.clone())
            })
        })
        .collect()
}

/// The next secret the pass should read through trail `id`, if one is due.
pub fn next_due(state: &AppState, id: &str, now: Timestamp) -> Option<Arc<Secret>> {
    let trail = state.trails.iter().find(|(t, _)| t == id)?.1.clone();
    let lookback = i64::from(state.config.cloudtrail.lookback_days.clamp(1, 90)) * 86_400;
    let interval = state.config.readers.pass_interval_seconds as i64;
    let snapshot = state.inventory.snapshot();
    snapshot
        .secrets()
        .iter()
        .filter_map(|s| Some((priority(s, now, lookback)?, s)))
        .filter(|(_, s)| state.trail_of(s).is_some_and(|t| Arc::ptr_eq(t, &trail)))
        .map(|(p, s)| (p, state.readers.tried_at(&s.arn), s))
        .filter(|(_, at, _)| at.is_none_or(|at| now.secs() - at.secs() >= interval))
        .min_by_key(|(p, at, s)| (*p, *at, s.arn.clone()))
        .map(|(_, _, s)| s.clone())
}

async fn run(state: AppState, id: String, share: Arc<RateLimiter>) {
    loop {
        let now = crate::server::clock::now();
        if state.inventory.snapshot().taken_at.is_none() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let Some(s) = next_due(&state, &id, now) else {
            tokio::time::sleep(IDLE).await;
            continue;
        };
        match super::start(&state, &s, Some(share.clone())) {
            Some((_, task)) => {
                let _ = task.await;
            }
            // A page's lookup of it is in flight: let it finish.
            None => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Principals already alerted as new readers, by secret.
#[derive(Default)]
pub struct Alerted(Mutex<HashSet<(Arc<str>, Arc<str>)>>);

/// Alerts (webhook and the owner's mail) each principal the `new-reader`
/// rule finds on `arn` that was not alerted before.
pub fn alert_new_readers(state: &AppState, arn: &Arc<str>, now: Timestamp) {
    let snapshot = state.inventory.snapshot();
    let Some(s) = snapshot.by_arn(arn) else {
        return;
    };
    let cfg = &state.config.health;
    let Some(reads) = s.reads.as_ref() else {
        return;
    };
    let active = health::evaluate(s, None, cfg, now)
        .into_iter()
        .any(|f| f.rule == RuleId::NewReader && f.is_active());
    if !active {
        return;
    }
    let start = now.secs() - cfg.new_reader_days.saturating_mul(86_400);
    let fresh: Vec<_> = {
        let mut seen = state.alerted.0.lock().unwrap_or_else(|p| p.into_inner());
        reads
            .readers
            .iter()
            .filter(|r| r.first.secs() >= start && r.first_ok.is_some())
            .filter(|r| seen.insert((arn.clone(), r.principal.arn.clone())))
            .collect()
    };
    for r in fresh {
        let text = format!(
            "New reader of a high-value secret: {} ({}) first read {} on {}. If it should not, remove its access and rotate the secret.{}",
            r.principal.arn,
            r.principal.account.as_deref().unwrap_or("account unknown"),
            s.name,
            r.first_ok.map(|t| t.display()).unwrap_or_default(),
            state
                .config
                .alerts
                .dashboard_url
                .as_deref()
                .map(|u| format!(
                    " {}{}",
                    u.trim_end_matches('/'),
                    crate::domain::links::secret_href(&s.name)
                ))
                .unwrap_or_default()
        );
        tracing::warn!(secret = %s.arn, principal = %r.principal.arn, "new reader of a high-value secret");
        if let Some(n) = &state.notifier {
            // Once ever per secret and reader, whichever replica finds it.
            let key = format!("new-reader {} {}", s.arn, r.principal.arn);
            n.send_once(key, format!("new-reader {}", s.arn), &text);
        }
        if let (Some(m), Some(owner)) = (&state.mailer, crate::domain::owner::owner_of(s)) {
            if owner.name.contains('@') {
                m.send(
                    std::slice::from_ref(&owner.name),
                    &format!("secretscope: new reader of {}", s.name),
                    &text,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::secret;

    #[test]
    fn high_value_first_then_deleted_then_recently_rotated_and_nothing_else() {
        let now = Timestamp::new(1_795_000_000);
        let day = 86_400;
        let lookback = 30 * day;
        let mut s = secret("prod/a");
        assert_eq!(
            priority(&s, now, lookback),
            None,
            "never rotated, not watched"
        );
        s.last_rotated = Some(Timestamp::new(now.secs() - 40 * day));
        assert_eq!(
            priority(&s, now, lookback),
            None,
            "rotated before the window"
        );
        s.last_rotated = Some(Timestamp::new(now.secs() - 3 * day));
        assert_eq!(priority(&s, now, lookback), Some(2));
        s.deleted = Some(now);
        assert_eq!(priority(&s, now, lookback), Some(1));
        s.high_value = true;
        assert_eq!(priority(&s, now, lookback), Some(0));
    }
}
