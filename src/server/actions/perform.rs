//! The steps of one action, in order: the per-user limit; what Secrets
//! Manager has now against what the person saw; the plan and its
//! confirmation; the record (no record, no action); the calls, each
//! recorded; the read back and the sentence for the page; and, for a
//! rotation, following it.

use super::calls::{call, calls, explain};
use super::follow::follow;
use super::{audit_action, invalid, Done};
use crate::domain::actions::{confirmed, plan, ActionKind, Plan, Request, RotationProgress, Seen};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::{Secret, Timestamp};
use crate::server::auth::{self, Act, Can, RequestInfo};
use crate::server::clock::now;
use crate::server::detail::reread;
use crate::server::error::{AppError, ErrorKind};
use crate::server::AppState;
use std::sync::Arc;
use std::time::Instant;

/// One action under way: who acts (the capability), on what, for the
/// audit records each step writes.
struct Acting<'a> {
    state: &'a AppState,
    can: &'a Can<Act>,
    info: &'a RequestInfo,
    name: String,
    action: AuditAction,
}

impl Acting<'_> {
    fn kind(&self) -> ActionKind {
        self.can.kind()
    }

    fn actor(&self) -> &str {
        self.can.actor()
    }

    async fn record(&self, outcome: Outcome, detail: impl Into<String>) -> Result<(), AppError> {
        auth::audit(
            self.state,
            self.info,
            self.actor(),
            self.action,
            &self.name,
            outcome,
            detail,
        )
        .await
    }

    /// A refusal before anything was done: recorded, and the error.
    async fn refuse(&self, kind: ErrorKind, why: String) -> AppError {
        let _ = self.record(Outcome::Denied, why.clone()).await;
        AppError::new(kind, why.clone(), why)
    }
}

/// Checks, records, calls, records again. `can` proves the guard allowed
/// its action on `secret` (or that the console asked); `req` says how.
pub(super) async fn perform(
    state: &AppState,
    can: &Can<Act>,
    info: RequestInfo,
    secret: &Secret,
    req: Request,
    compare_seen: bool,
) -> Result<Done, AppError> {
    let acting = Acting {
        state,
        can,
        info: &info,
        name: secret.name.to_string(),
        action: audit_action(can.kind()),
    };
    let started = limit(&acting).await?;
    let token = token(&req.token)?;
    let (fresh, before) = compare(&acting, secret, &req, compare_seen).await?;
    let at = now();
    let p = plan_and_confirm(&acting, &fresh, &req, at)?;
    let per_minute = state.config.actions.per_user_per_minute;
    state.actions.started(acting.actor(), per_minute, started);
    // No record, no action.
    acting
        .record(
            Outcome::Allowed,
            format!(
                "requested: {} before: {}",
                p.effects.join(" "),
                before.describe()
            ),
        )
        .await?;
    let version = call_all(&acting, &fresh, &req, &token, &before).await?;
    let after = read_back(&acting, &fresh, &before).await;
    let message = message(&acting, &req, &before, &after, version.as_deref());
    let _ = acting
        .record(
            Outcome::Allowed,
            format!(
                "done. before: {} after: {}",
                before.describe(),
                after.describe()
            ),
        )
        .await;
    let followed = acting.kind().starts_rotation()
        || (acting.kind() == ActionKind::EnableRotation && req.immediately);
    if let (true, Some(v)) = (followed, version.clone()) {
        let actor = acting.actor().to_string();
        state
            .actions
            .follow(RotationProgress::new(&acting.name, &v, &actor, at));
        tokio::spawn(follow(
            state.clone(),
            (*fresh).clone(),
            v,
            (actor, info.clone(), acting.action),
            at,
        ));
    }
    Ok(Done {
        kind: acting.kind(),
        secret: acting.name,
        message,
        after,
        version,
    })
}

/// The per-user limit: when the actor has started the most actions one
/// person may in a minute, a recorded refusal. Else the time it started.
async fn limit(acting: &Acting<'_>) -> Result<Instant, AppError> {
    let max = acting.state.config.actions.per_user_per_minute;
    let started = Instant::now();
    match acting.state.actions.wait(acting.actor(), max, started) {
        None => Ok(started),
        Some(wait) => {
            let why = format!(
                "You have started {max} actions in the last minute, the most one person may. Try again in {}.",
                crate::domain::time::wait_text(wait.as_secs().max(1))
            );
            Err(acting.refuse(ErrorKind::Throttled, why).await)
        }
    }
}

/// What Secrets Manager has now, and a recorded refusal when it differs
/// from what the person saw (`compare_seen`; the console does not).
async fn compare(
    acting: &Acting<'_>,
    secret: &Secret,
    req: &Request,
    compare_seen: bool,
) -> Result<(Arc<Secret>, Seen), AppError> {
    let fresh = reread(acting.state, secret)
        .await
        .map_err(|e| explain(acting.kind(), secret, e))?;
    let before = Seen::of(&fresh);
    let changes = if compare_seen {
        req.seen.changes(&before)
    } else {
        Vec::new()
    };
    if changes.is_empty() {
        return Ok((fresh, before));
    }
    let why = format!(
        "{} changed since you looked: {}. Nothing was done; look at its new state and decide again.",
        acting.name,
        changes.join("; ")
    );
    Err(acting.refuse(ErrorKind::Conflict, why).await)
}

/// The plan on the fresh secret, and the typed name a production secret
/// needs.
fn plan_and_confirm(
    acting: &Acting<'_>,
    fresh: &Secret,
    req: &Request,
    at: Timestamp,
) -> Result<Plan, AppError> {
    let production = &acting.state.config.actions.production;
    let p = plan(
        acting.kind(),
        fresh,
        req.to_version.as_deref(),
        production,
        at,
    )
    .map_err(invalid)?;
    if !confirmed(&p, &req.typed_name) {
        return Err(invalid(format!(
            "{} is a production secret: type its name exactly to confirm. Nothing was done.",
            acting.name
        )));
    }
    Ok(p)
}

/// Each Secrets Manager call, in order, recorded as it is made: a retry
/// removes AWSPENDING and then starts RotateSecret, and the trail says how
/// far it got if the second call fails. A rotation's new version id.
async fn call_all(
    acting: &Acting<'_>,
    fresh: &Secret,
    req: &Request,
    token: &str,
    before: &Seen,
) -> Result<Option<String>, AppError> {
    let calls = calls(fresh, acting.kind(), req, token).map_err(invalid)?;
    let mut version = None;
    let mut made = Vec::new();
    for c in &calls {
        match call(acting.state, acting.can, fresh, c).await {
            Ok(v) => {
                version = v.or(version);
                made.push(c.describe());
                if calls.len() > 1 {
                    let _ = acting
                        .record(Outcome::Allowed, format!("called {}", c.describe()))
                        .await;
                }
            }
            Err(e) => {
                let mut e = explain(acting.kind(), fresh, e);
                if !made.is_empty() {
                    let done = format!(" Already done: {}.", made.join("; "));
                    e.user.push_str(&done);
                    e.detail.push_str(&done);
                }
                let detail = format!(
                    "{} failed: {} before: {}",
                    c.describe(),
                    e.user,
                    before.describe()
                );
                let _ = acting.record(Outcome::Failed, detail).await;
                return Err(e);
            }
        }
    }
    Ok(version)
}

/// Reads the secret back, so the snapshot (and with it the lists and the
/// on-call queue) shows the result now rather than after the next sync.
async fn read_back(acting: &Acting<'_>, fresh: &Secret, before: &Seen) -> Seen {
    match reread(acting.state, fresh).await {
        Ok(s) => Seen::of(&s),
        Err(e) => {
            let kind = acting.kind();
            tracing::warn!(secret = %acting.name, detail = %e.detail, "read-back after {kind} failed");
            before.clone()
        }
    }
}

/// The sentence for the page: what was done, as read back.
fn message(
    acting: &Acting<'_>,
    req: &Request,
    before: &Seen,
    after: &Seen,
    version: Option<&str>,
) -> String {
    let name = &acting.name;
    match acting.kind() {
        ActionKind::Rotate => format!(
            "Rotation of {name} started: version {} holds AWSPENDING while the Lambda runs.",
            version.unwrap_or("?")
        ),
        ActionKind::RetryRotation => format!(
            "AWSPENDING removed from version {}; rotation of {name} started again: version {} holds AWSPENDING while the Lambda runs.",
            before.holder("AWSPENDING").unwrap_or("?"),
            version.unwrap_or("?")
        ),
        ActionKind::ClearPending => format!(
            "AWSPENDING removed from version {} of {name}: a rotation can start again.",
            before.holder("AWSPENDING").unwrap_or("?")
        ),
        ActionKind::EnableRotation => if req.immediately {
            format!("Automatic rotation of {name} is on again, and a rotation started.")
        } else {
            format!("Automatic rotation of {name} is on again; the next rotation comes in its next scheduled window.")
        },
        ActionKind::CancelRotation => format!(
            "Rotation of {name} cancelled and automatic rotation turned off. Find out why it got stuck before turning it on again."
        ),
        ActionKind::Rollback => format!(
            "AWSCURRENT of {name} is now version {}.",
            after.holder("AWSCURRENT").unwrap_or("?")
        ),
        ActionKind::Restore => format!("{name} is restored: it is no longer scheduled for deletion."),
    }
}

/// The idempotency token: as sent (a double click sends the same one), or
/// a new one when none was sent (the console).
pub(super) fn token(sent: &str) -> Result<String, AppError> {
    let t = sent.trim();
    if t.is_empty() {
        return Ok(uuid::Uuid::new_v4().to_string());
    }
    if (32..=64).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(t.to_string())
    } else {
        Err(invalid(
            "The request token must be 32 to 64 letters, digits or '-'. Reload the page and try again.".to_string(),
        ))
    }
}
