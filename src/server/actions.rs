//! Rotate now, retry a failed rotation, cancel a rotation, clear a leftover
//! AWSPENDING, turn rotation back on, roll AWSCURRENT back, restore a secret
//! scheduled for deletion: each guarded (a capability only the guard
//! makes), paced per user, checked against what the person saw, explained
//! (the plan), recorded before and after, and followed by a fresh read so
//! the page and the on-call queue show the result at once.

use super::auth::{self, Action, Can, Principal, RequestInfo};
use super::aws::sync::now;
use super::detail::{reachable, reread};
use super::error::{AppError, ErrorKind};
use super::AppState;
use crate::domain::access::Role;
use crate::domain::actions::{
    confirmed, plan, rollback_default, rollback_pair, ActionKind, Plan, Request, RotationProgress,
    RotationStage, Seen,
};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::rotation_failure::{failure_of, RotationFailure};
use crate::domain::rotation_history::RotationEventKind;
use crate::domain::Secret;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Starting a rotation now.
pub struct Rotate;
impl Action for Rotate {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "rotate";
}

/// Retrying a failed or stuck rotation: AWSPENDING off its version, then
/// a new rotation.
pub struct RetryRotation;
impl Action for RetryRotation {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "retry the rotation of";
}

/// Removing AWSPENDING from a failed or cancelled rotation's version.
pub struct ClearPending;
impl Action for ClearPending {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "clear the pending version of";
}

/// Turning automatic rotation back on with the configuration kept.
pub struct EnableRotation;
impl Action for EnableRotation {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "turn rotation back on for";
}

/// Runs `$body` with `$a` the capability marker of the action `$kind`:
/// one place maps each kind to the type the guard checks.
macro_rules! for_kind {
    ($kind:expr, $a:ident => $body:expr) => {
        match $kind {
            ActionKind::Rotate => {
                type $a = Rotate;
                $body
            }
            ActionKind::RetryRotation => {
                type $a = RetryRotation;
                $body
            }
            ActionKind::CancelRotation => {
                type $a = CancelRotation;
                $body
            }
            ActionKind::ClearPending => {
                type $a = ClearPending;
                $body
            }
            ActionKind::EnableRotation => {
                type $a = EnableRotation;
                $body
            }
            ActionKind::Rollback => {
                type $a = Rollback;
                $body
            }
            ActionKind::Restore => {
                type $a = Restore;
                $body
            }
        }
    };
}

/// Cancelling a rotation (which also turns automatic rotation off).
pub struct CancelRotation;
impl Action for CancelRotation {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "cancel the rotation of";
}

/// Moving AWSCURRENT back to an earlier version.
pub struct Rollback;
impl Action for Rollback {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "roll back";
}

/// Cancelling a scheduled deletion.
pub struct Restore;
impl Action for Restore {
    const ROLE: Role = Role::Operator;
    const VERB: &'static str = "restore";
}

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
    let allowed = for_kind!(kind, A => who.can::<A>(&secret).map(|_| ()));
    match allowed {
        Ok(()) => Ok(secret),
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
    for_kind!(req.kind, A => perform(state, &who.can::<A>(s)?, info, s, req, true).await)
}

/// Runs `req` on `s` as the console's local administrator (`secretscope
/// rotate …`), through the same checks, call and audit records. The console
/// acts on the secret as Secrets Manager has it at the call (`req.seen` is
/// not compared).
pub async fn run_local(state: &AppState, s: &Secret, req: Request) -> Result<Done, AppError> {
    for_kind!(req.kind, A => perform(state, &auth::console::<A>(), local(), s, req, false).await)
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

/// Checks, records, calls, records again. `can` proves the guard allowed
/// `A` on `secret` (or that the console asked).
async fn perform<A: Action>(
    state: &AppState,
    can: &Can<A>,
    info: RequestInfo,
    secret: &Secret,
    req: Request,
    compare_seen: bool,
) -> Result<Done, AppError> {
    let name = secret.name.to_string();
    let kind = req.kind;
    let actor = can.actor().to_string();
    let action = audit_action(kind);
    let settings = &state.config.actions;
    let started = Instant::now();
    if let Some(wait) = state
        .actions
        .wait(&actor, settings.per_user_per_minute, started)
    {
        let why = format!(
            "You have started {} actions in the last minute, the most one person may. Try again in {}.",
            settings.per_user_per_minute,
            crate::domain::time::wait_text(wait.as_secs().max(1))
        );
        let _ = auth::audit(state, &info, &actor, action, &name, Outcome::Denied, &why).await;
        return Err(AppError::new(ErrorKind::Throttled, why.clone(), why));
    }
    let token = token(&req.token)?;

    // What Secrets Manager has now, against what the person saw.
    let fresh = reread(state, secret)
        .await
        .map_err(|e| explain(kind, secret, e))?;
    let before = Seen::of(&fresh);
    let changes = if compare_seen {
        req.seen.changes(&before)
    } else {
        Vec::new()
    };
    if !changes.is_empty() {
        let why = format!(
            "{name} changed since you looked: {}. Nothing was done; look at its new state and decide again.",
            changes.join("; ")
        );
        let _ = auth::audit(state, &info, &actor, action, &name, Outcome::Denied, &why).await;
        return Err(AppError::new(ErrorKind::Conflict, why.clone(), why));
    }
    let at = now();
    let p = plan(
        kind,
        &fresh,
        req.to_version.as_deref(),
        &settings.production,
        at,
    )
    .map_err(invalid)?;
    if !confirmed(&p, &req.typed_name) {
        return Err(invalid(format!(
            "{name} is a production secret: type its name exactly to confirm. Nothing was done."
        )));
    }
    state
        .actions
        .started(&actor, settings.per_user_per_minute, started);
    // No record, no action.
    auth::audit(
        state,
        &info,
        &actor,
        action,
        &name,
        Outcome::Allowed,
        format!(
            "requested: {} before: {}",
            p.effects.join(" "),
            before.describe()
        ),
    )
    .await?;
    // Each Secrets Manager call, in order, recorded as it is made: a retry
    // removes AWSPENDING and then starts RotateSecret, and the trail says
    // how far it got if the second call fails.
    let calls = calls(&fresh, &req, &token).map_err(invalid)?;
    let mut version = None;
    let mut made = Vec::new();
    for c in &calls {
        match call(state, can, &fresh, c).await {
            Ok(v) => {
                version = v.or(version);
                made.push(c.describe());
                if calls.len() > 1 {
                    let _ = auth::audit(
                        state,
                        &info,
                        &actor,
                        action,
                        &name,
                        Outcome::Allowed,
                        format!("called {}", c.describe()),
                    )
                    .await;
                }
            }
            Err(e) => {
                let mut e = explain(kind, &fresh, e);
                if !made.is_empty() {
                    let done = format!(" Already done: {}.", made.join("; "));
                    e.user.push_str(&done);
                    e.detail.push_str(&done);
                }
                let _ = auth::audit(
                    state,
                    &info,
                    &actor,
                    action,
                    &name,
                    Outcome::Failed,
                    format!(
                        "{} failed: {} before: {}",
                        c.describe(),
                        e.user,
                        before.describe()
                    ),
                )
                .await;
                return Err(e);
            }
        }
    }
    // Read back, so the snapshot (and with it the lists and the on-call
    // queue) shows the result now rather than after the next sync.
    let after = match reread(state, &fresh).await {
        Ok(s) => Seen::of(&s),
        Err(e) => {
            tracing::warn!(secret = %name, detail = %e.detail, "read-back after {kind} failed");
            before.clone()
        }
    };
    let message = match kind {
        ActionKind::Rotate => format!(
            "Rotation of {name} started: version {} holds AWSPENDING while the Lambda runs.",
            version.as_deref().unwrap_or("?")
        ),
        ActionKind::RetryRotation => format!(
            "AWSPENDING removed from version {}; rotation of {name} started again: version {} holds AWSPENDING while the Lambda runs.",
            before.holder("AWSPENDING").unwrap_or("?"),
            version.as_deref().unwrap_or("?")
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
    };
    let _ = auth::audit(
        state,
        &info,
        &actor,
        action,
        &name,
        Outcome::Allowed,
        format!(
            "done. before: {} after: {}",
            before.describe(),
            after.describe()
        ),
    )
    .await;
    let followed =
        kind.starts_rotation() || (kind == ActionKind::EnableRotation && req.immediately);
    if let (true, Some(v)) = (followed, version.clone()) {
        state
            .actions
            .follow(RotationProgress::new(&name, &v, &actor, at));
        tokio::spawn(follow(
            state.clone(),
            (*fresh).clone(),
            v,
            (actor, info, action),
            at,
        ));
    }
    Ok(Done {
        kind,
        secret: name,
        message,
        after,
        version,
    })
}

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
async fn follow(
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
    trail: &super::trail::TrailCache,
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

/// The idempotency token: as sent (a double click sends the same one), or
/// a new one when none was sent (the console).
fn token(sent: &str) -> Result<String, AppError> {
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

/// One Secrets Manager call an action makes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    /// RotateSecret. `configure`: set the Lambda and schedule the secret
    /// keeps (turning rotation back on).
    Rotate {
        token: String,
        immediately: bool,
        configure: bool,
    },
    Cancel,
    /// UpdateSecretVersionStage: AWSCURRENT from one version to another.
    MoveCurrent {
        from: String,
        to: String,
    },
    /// UpdateSecretVersionStage: AWSPENDING off a version.
    RemovePending {
        from: String,
    },
    Restore,
}

impl Call {
    /// For the audit trail: the operation and its arguments.
    fn describe(&self) -> String {
        match self {
            Call::Rotate {
                immediately,
                configure,
                ..
            } => format!(
                "RotateSecret (RotateImmediately={immediately}{})",
                if *configure {
                    ", with the kept Lambda and schedule"
                } else {
                    ""
                }
            ),
            Call::Cancel => "CancelRotateSecret".to_string(),
            Call::MoveCurrent { from, to } => {
                format!("UpdateSecretVersionStage (AWSCURRENT from version {from} to {to})")
            }
            Call::RemovePending { from } => {
                format!("UpdateSecretVersionStage (AWSPENDING removed from version {from})")
            }
            Call::Restore => "RestoreSecret".to_string(),
        }
    }
}

/// The calls `req` makes on `s`, in order.
fn calls(s: &Secret, req: &Request, token: &str) -> Result<Vec<Call>, String> {
    let rotate = |immediately, configure| Call::Rotate {
        token: token.to_string(),
        immediately,
        configure,
    };
    let pending = || {
        s.pending_version()
            .map(|p| p.id.to_string())
            .ok_or_else(|| format!("No version of {} holds AWSPENDING.", s.name))
    };
    Ok(match req.kind {
        ActionKind::Rotate => vec![rotate(true, false)],
        ActionKind::RetryRotation => vec![
            Call::RemovePending { from: pending()? },
            rotate(true, false),
        ],
        ActionKind::ClearPending => vec![Call::RemovePending { from: pending()? }],
        ActionKind::EnableRotation => vec![rotate(req.immediately, true)],
        ActionKind::CancelRotation => vec![Call::Cancel],
        ActionKind::Rollback => {
            let (from, to) = rollback_pair(s, req.to_version.as_deref())?;
            vec![Call::MoveCurrent {
                from: from.to_string(),
                to: to.to_string(),
            }]
        }
        ActionKind::Restore => vec![Call::Restore],
    })
}

/// Makes one Secrets Manager call; a rotation's new version id.
async fn call<A: Action>(
    state: &AppState,
    _can: &Can<A>,
    s: &Secret,
    c: &Call,
) -> Result<Option<String>, AppError> {
    let source = state.source_of(s)?;
    let (client, endpoint) = (&source.client, &source.endpoint);
    let (arn, name) = (&*s.arn, &*s.name);
    let stage = |label: &str| {
        client
            .update_secret_version_stage()
            .secret_id(arn)
            .version_stage(label)
    };
    let staged = |r: Result<_, _>| {
        r.map(|_| None)
            .map_err(|e| AppError::from_sdk("UpdateSecretVersionStage", name, endpoint, e))
    };
    match c {
        Call::Rotate {
            token,
            immediately,
            configure,
        } => {
            let mut r = client
                .rotate_secret()
                .secret_id(arn)
                .client_request_token(token)
                .rotate_immediately(*immediately);
            if *configure {
                r = r.set_rotation_lambda_arn(s.rotation_lambda_arn.as_deref().map(str::to_string));
                if let Some(rules) = s.rotation_rules.as_deref() {
                    r = r.rotation_rules(
                        aws_sdk_secretsmanager::types::RotationRulesType::builder()
                            .set_automatically_after_days(
                                // AWS rejects both at once; the expression wins.
                                rules
                                    .automatically_after_days
                                    .filter(|_| rules.schedule_expression.is_none()),
                            )
                            .set_schedule_expression(rules.schedule_expression.clone())
                            .set_duration(rules.duration.clone())
                            .build(),
                    );
                }
            }
            r.send()
                .await
                .map(|o| o.version_id().map(str::to_string))
                .map_err(|e| AppError::from_sdk("RotateSecret", name, endpoint, e))
        }
        Call::Cancel => client
            .cancel_rotate_secret()
            .secret_id(arn)
            .send()
            .await
            .map(|_| None)
            .map_err(|e| AppError::from_sdk("CancelRotateSecret", name, endpoint, e)),
        Call::MoveCurrent { from, to } => staged(
            stage("AWSCURRENT")
                .move_to_version_id(to)
                .remove_from_version_id(from)
                .send()
                .await,
        ),
        Call::RemovePending { from } => staged(
            stage("AWSPENDING")
                .remove_from_version_id(from)
                .send()
                .await,
        ),
        Call::Restore => client
            .restore_secret()
            .secret_id(arn)
            .send()
            .await
            .map(|_| None)
            .map_err(|e| AppError::from_sdk("RestoreSecret", name, endpoint, e)),
    }
}

/// An AWS error from an action as a sentence the person can act on. `s`
/// is the secret as last read (it names the version holding AWSPENDING).
fn explain(kind: ActionKind, s: &Secret, e: AppError) -> AppError {
    let name = &*s.name;
    let detail = e.detail.to_lowercase();
    let user = if detail.contains("previous rotation isn't complete")
        || detail.contains("rotation is already in progress")
    {
        match s.pending_version() {
            Some(p) => format!(
                "{} Nothing was changed.",
                crate::domain::actions::previous_not_complete(s, &p.id.to_string())
            ),
            None => format!(
                "A previous rotation of {name} isn't complete: a version other than AWSCURRENT's holds AWSPENDING, \
                 and Secrets Manager refuses to start another rotation while it does. Reload the page to see which; \
                 then Retry rotation removes AWSPENDING from it and starts again. Nothing was changed."
            ),
        }
    } else if detail.contains("lambda") && e.kind == ErrorKind::AccessDenied {
        format!(
            "Secrets Manager could not invoke the rotation Lambda of {name}: the function is missing, or its resource policy \
             does not allow secretsmanager.amazonaws.com to invoke it. Fix the function or its policy, then rotate again."
        )
    } else if detail.contains("no lambda rotation function") {
        format!(
            "Rotation is not configured for {name}: give it a rotation Lambda and a schedule, then rotate it here."
        )
    } else if detail.contains("replica") && e.kind != ErrorKind::AccessDenied {
        format!(
            "{name} in {} is a replica: Secrets Manager accepts these actions only on the primary secret. Act on it in its primary Region.",
            s.region
        )
    } else {
        match e.kind {
            ErrorKind::AccessDenied => format!(
                "The dashboard's AWS role may not {} {name}. Add the action to its IAM policy (README: \"IAM policy: actions\") and try again.",
                match kind {
                    ActionKind::Rotate | ActionKind::EnableRotation => "rotate (secretsmanager:RotateSecret)",
                    ActionKind::RetryRotation => "move labels of, or rotate (secretsmanager:UpdateSecretVersionStage, secretsmanager:RotateSecret)",
                    ActionKind::CancelRotation => "cancel rotations of (secretsmanager:CancelRotateSecret)",
                    ActionKind::Rollback | ActionKind::ClearPending => "move labels of (secretsmanager:UpdateSecretVersionStage)",
                    ActionKind::Restore => "restore (secretsmanager:RestoreSecret)",
                }
            ),
            ErrorKind::NotFound => format!(
                "{name} no longer exists in Secrets Manager (deleted for good, or renamed), or the version it names is gone. Reload the page; nothing was done."
            ),
            ErrorKind::Throttled => format!(
                "AWS is throttling Secrets Manager calls right now, so {name} was not changed. Try again in a minute."
            ),
            _ => return e,
        }
    };
    AppError::new(e.kind, user, e.detail)
}

#[cfg(test)]
mod tests {
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
