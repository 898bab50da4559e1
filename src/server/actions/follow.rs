//! Following a rotation started here until it is promoted, fails, is
//! cancelled or the time is up: each state to the page, the end to the
//! audit trail.

use crate::domain::actions::{RotationStage, Seen};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::rotation_failure::{failure_of, RotationFailure};
use crate::domain::rotation_history::RotationEventKind;
use crate::domain::Secret;
use crate::server::auth::{self, RequestInfo};
use crate::server::clock::now;
use crate::server::detail::reread;
use crate::server::AppState;
use std::time::{Duration, Instant};

/// How often a started rotation is read again, and for how long.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);
const FOLLOW_FOR: Duration = Duration::from_secs(300);
/// CloudTrail is asked about failures every this many reads (LookupEvents
/// allows 2 calls a second per account and region, shared with the pages).
const TRAIL_EVERY: u32 = 3;

/// Follows a rotation started here: reads the secret again every few
/// seconds (each read puts it into the snapshot, so the page, the lists and
/// the on-call queue show each state), and asks CloudTrail whether it
/// failed, until `version` holds AWSCURRENT, CloudTrail says it failed, it
/// lost AWSPENDING without AWSCURRENT (cancelled or replaced), or the time
/// is up. Each state goes to the page's progress; the end to the audit trail.
pub(super) async fn follow(
    state: AppState,
    secret: Secret,
    version: String,
    (actor, info, action): (String, RequestInfo, AuditAction),
    started_at: crate::domain::Timestamp,
) {
    let name = secret.name.to_string();
    let started = Instant::now();
    let mut reads = 0u32;
    loop {
        tokio::time::sleep(FOLLOW_EVERY).await;
        reads += 1;
        let timed_out = started.elapsed() >= FOLLOW_FOR;
        let fresh = match reread(&state, &secret).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(secret = %name, detail = %e.detail, "following the rotation: read failed");
                if timed_out {
                    state
                        .actions
                        .update(&name, &version, |p| p.give_up(&e.user, now()));
                    break;
                }
                continue;
            }
        };
        let seen = Seen::of(&fresh);
        let labels = seen
            .labels
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        let failure = match state.trail_of(&fresh) {
            Some(trail) if reads.is_multiple_of(TRAIL_EVERY) || timed_out => {
                failed_since(trail, &fresh, started_at).await
            }
            _ => None,
        };
        // The end is recorded before the page (or `rotate --wait`) sees it.
        let Some(mut ended) = state
            .actions
            .rotation(&name)
            .filter(|p| p.version == version)
        else {
            break;
        };
        let message = failure.as_ref().map(|(m, _)| m.as_str());
        if ended.observe(&labels, message, timed_out, now()) {
            let text = ended
                .steps
                .last()
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            let outcome = match ended.stage {
                RotationStage::Promoted => Outcome::Allowed,
                _ => Outcome::Failed,
            };
            if let (RotationStage::Failed, Some(trail)) = (ended.stage, state.trail_of(&fresh)) {
                trail.forget_failures().await;
                // Seen failing: the queue shows it now, whatever the grace.
                if let Some((_, Some(f))) = failure {
                    state.inventory.note_failures(vec![(fresh.arn.clone(), f)]);
                }
            }
            let _ = auth::audit(
                &state,
                &info,
                &actor,
                action,
                &name,
                outcome,
                format!("rotation followed: {text} after: {}", seen.describe()),
            )
            .await;
            state.actions.update(&name, &version, |p| *p = ended);
            break;
        }
        if timed_out {
            break;
        }
    }
}

/// The message of the newest RotationFailed CloudTrail has for `secret` at
/// or after `since`, and that failure as data (its step, the attempts since
/// the last success) when it applies to the rotation pending on `secret`.
async fn failed_since(
    trail: &crate::server::trail::TrailCache,
    secret: &Secret,
    since: crate::domain::Timestamp,
) -> Option<(String, Option<RotationFailure>)> {
    let events = trail.history(&secret.arn, now(), true).await;
    let events = events.as_ref().as_ref().ok()?;
    let message = events
        .iter()
        .find(|e| e.is(RotationEventKind::Failed) && e.at >= since)
        .map(|e| {
            e.message
                .clone()
                .unwrap_or_else(|| "CloudTrail recorded RotationFailed without a message".into())
        })?;
    Some((message, failure_of(secret, events)))
}
