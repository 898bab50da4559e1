//! Rotate now, retry a failed rotation, cancel a rotation, clear a leftover
//! AWSPENDING, turn rotation back on, roll AWSCURRENT back, restore a secret
//! scheduled for deletion: each guarded (a capability only the guard
//! makes), paced per user, checked against what the person saw, explained
//! (the plan), recorded before and after, and followed by a fresh read so
//! the page and the on-call queue show the result at once.
//!
//! Where it lives: the entry points and what is kept between requests
//! here; the steps of an action in [`perform`]; the Secrets Manager calls
//! and their errors as sentences in [`calls`]; following a started
//! rotation in [`follow`]. Which role each action needs is
//! [`super::auth::Act`]'s.

mod calls;
mod follow;
mod perform;

use super::auth::{self, Act, Principal, RequestInfo};
use super::clock::now;
use super::detail::{reachable, reread};
use super::error::{AppError, ErrorKind};
use super::AppState;
use crate::domain::actions::{
    plan, rollback_default, ActionKind, Plan, Request, RotationProgress, Seen,
};
use crate::domain::audit::AuditAction;
use crate::domain::Secret;
use calls::explain;
use perform::perform;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The audit trail's name of each action.
fn audit_action(kind: ActionKind) -> AuditAction {
    match kind {
        ActionKind::Rotate => AuditAction::Rotate,
        ActionKind::RetryRotation => AuditAction::RetryRotation,
        ActionKind::CancelRotation => AuditAction::CancelRotation,
        ActionKind::ClearPending => AuditAction::ClearPending,
        ActionKind::EnableRotation => AuditAction::EnableRotation,
        ActionKind::Rollback => AuditAction::Rollback,
        ActionKind::Restore => AuditAction::Restore,
    }
}

/// The actions each user has started in the last minute, and the
/// rotations started here as they were followed.
#[derive(Default)]
pub struct Actions {
    started: Mutex<super::auth::limiter::Failures>,
    rotations: Mutex<HashMap<String, RotationProgress>>,
}

const WINDOW: Duration = Duration::from_secs(60);
/// Followed rotations kept for the page at most (the oldest finished go first).
const KEEP_ROTATIONS: usize = 1000;

impl Actions {
    /// How long `user` must wait before starting another action, if at all.
    fn wait(&self, user: &str, max: usize, at: Instant) -> Option<Duration> {
        let mut f = self.started.lock().unwrap_or_else(|p| p.into_inner());
        f.wait(user, max.max(1), WINDOW, at)
    }

    fn started(&self, user: &str, max: usize, at: Instant) {
        let mut f = self.started.lock().unwrap_or_else(|p| p.into_inner());
        f.add(user, max.max(1), at);
    }

    /// The latest rotation of `secret` started here, as far as it got.
    pub fn rotation(&self, secret: &str) -> Option<RotationProgress> {
        let map = self.rotations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(secret).cloned()
    }

    fn follow(&self, p: RotationProgress) {
        let mut map = self.rotations.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= KEEP_ROTATIONS && !map.contains_key(&p.secret) {
            let oldest = map
                .values()
                .filter(|r| r.finished())
                .min_by_key(|r| r.steps.last().map(|s| s.0))
                .map(|r| r.secret.clone());
            match oldest {
                Some(k) => {
                    map.remove(&k);
                }
                // Every kept one is still running: this one is not shown.
                None => return,
            }
        }
        map.insert(p.secret.clone(), p);
    }

    fn update(&self, secret: &str, version: &str, f: impl FnOnce(&mut RotationProgress)) {
        let mut map = self.rotations.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = map.get_mut(secret).filter(|p| p.version == version) {
            f(p);
        }
    }
}

/// What an action did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done {
    pub kind: ActionKind,
    pub secret: String,
    /// A sentence for the page.
    pub message: String,
    /// The labels after the action (as read back from Secrets Manager).
    pub after: Seen,
    /// A rotation's new version id.
    pub version: Option<String>,
}

/// The plan for `kind` on the secret `id` as `who` would see it in the
/// confirmation dialog (read fresh from Secrets Manager), with what they
/// see now, to send back with the action.
pub async fn preview(
    state: &AppState,
    who: &Principal,
    id: &str,
    kind: ActionKind,
    to_version: Option<&str>,
) -> Result<(Plan, Seen), AppError> {
    let secret = guarded(state, who, id, kind).await?;
    let fresh = reread(state, &secret)
        .await
        .map_err(|e| explain(kind, &secret, e))?;
    // A rollback with no version picked goes to AWSPREVIOUS's, else to the
    // first other version; the plan names it and the dialog offers the rest.
    let default = (kind == ActionKind::Rollback && to_version.is_none())
        .then(|| rollback_default(&fresh))
        .flatten();
    let p = plan(
        kind,
        &fresh,
        to_version.or(default.as_deref()),
        &state.config.actions.production,
        now(),
    )
    .map_err(invalid)?;
    Ok((p, Seen::of(&fresh)))
}

/// The secret, if `who` may see it and holds the role `kind` needs on it;
/// a refusal is audited.
pub async fn guarded(
    state: &AppState,
    who: &Principal,
    id: &str,
    kind: ActionKind,
) -> Result<std::sync::Arc<Secret>, AppError> {
    let secret = match reachable(state, who, id) {
        Ok(s) => s,
        Err(e) => return Err(auth::denied(state, who, id, e).await),
    };
    match who.can(Act(kind), &secret) {
        Ok(_) => Ok(secret),
        Err(e) => Err(auth::denied(state, who, &secret.name, e).await),
    }
}

/// Runs `req` on the secret `id` for `who`.
pub async fn run(
    state: &AppState,
    who: &Principal,
    id: &str,
    req: Request,
) -> Result<Done, AppError> {
    let secret = guarded(state, who, id, req.kind).await?;
    run_on(state, who, &secret, req).await
}

/// Runs `req` on `s`, which [`guarded`] returned for `who`.
pub async fn run_on(
    state: &AppState,
    who: &Principal,
    s: &Secret,
    req: Request,
) -> Result<Done, AppError> {
    // The capability for exactly this action on exactly this secret.
    let info = RequestInfo::current();
    let can = who.can(Act(req.kind), s)?;
    perform(state, &can, info, s, req, true).await
}

/// Runs `req` on `s` as the console's local administrator (`secretscope
/// rotate …`), through the same checks, call and audit records. The console
/// acts on the secret as Secrets Manager has it at the call (`req.seen` is
/// not compared).
pub async fn run_local(state: &AppState, s: &Secret, req: Request) -> Result<Done, AppError> {
    let can = auth::console_doing(Act(req.kind));
    perform(state, &can, local(), s, req, false).await
}

/// The console's request facts in the audit trail, as the `user` commands
/// write them.
fn local() -> RequestInfo {
    RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    }
}

fn invalid(why: String) -> AppError {
    AppError::new(ErrorKind::InvalidInput, why.clone(), why)
}

/// The latest rotation of the secret `id` started here, if `who` may see it.
pub async fn progress(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<Option<RotationProgress>, AppError> {
    match reachable(state, who, id) {
        Ok(secret) => Ok(state.actions.rotation(&secret.name)),
        Err(e) => Err(auth::denied(state, who, id, e).await),
    }
}

#[cfg(test)]
mod tests {
    use super::perform::token;
    use super::*;

    #[test]
    fn tokens_are_kept_or_made_and_bad_ones_refused() {
        let t = "0123456789abcdef0123456789abcdef";
        assert_eq!(token(t).unwrap(), t);
        assert_eq!(token("").unwrap().len(), 36);
        assert!(token("short").is_err());
        assert!(token(&format!("{t}; DROP")).is_err());
    }

    #[test]
    fn the_limiter_counts_each_user_on_their_own() {
        let l = Actions::default();
        let at = Instant::now();
        for _ in 0..3 {
            assert!(l.wait("alice", 3, at).is_none());
            l.started("alice", 3, at);
        }
        assert!(l.wait("alice", 3, at).is_some());
        assert!(l.wait("bob", 3, at).is_none());
        assert!(l.wait("alice", 3, at + WINDOW).is_none());
    }
}
