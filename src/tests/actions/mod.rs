//! The actions against the demo endpoint: each success path, recovery from
//! a failed or cancelled rotation under Secrets Manager's AWSPENDING rule,
//! and the failures a person meets (Lambda missing, rotation not
//! configured, a secret changed since they looked, production without the
//! typed name, the per-user limit), with the audit records each leaves; and
//! a viewer's forged POST, which changes nothing.

mod retry;

use super::auth::audited;
use super::TestApp;
use crate::domain::access::{Grant, Role, Scope};
use crate::domain::actions::{ActionKind, Request, Seen};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::links::query_value;
use crate::domain::{Label, Secret};
use crate::server::actions;
use crate::server::auth::Principal;
use crate::server::detail::reread;
use crate::server::error::{AppError, ErrorKind};
use std::sync::Arc;

pub(super) fn operator() -> Principal {
    Principal {
        id: 0,
        name: "operator".into(),
        grants: vec![Grant::new(Role::Operator, Scope::All)],
    }
}

/// A secret of the served inventory for which `f` holds, read fresh.
async fn pick(s: &TestApp, what: &str, f: impl Fn(&Secret) -> bool) -> Arc<Secret> {
    let found = s
        .state
        .inventory
        .snapshot()
        .secrets()
        .iter()
        .find(|x| f(x))
        .cloned()
        .unwrap_or_else(|| panic!("the seed has no secret that is {what}"));
    reread(&s.state, &found).await.unwrap()
}

fn lambda(x: &Secret, behaviour: &str) -> bool {
    x.rotation_lambda_arn
        .as_deref()
        .is_some_and(|l| l.contains(&format!("-{behaviour}-")))
}

/// The request a person would send after looking at `x`.
pub(super) fn request(kind: ActionKind, x: &Secret) -> Request {
    Request {
        kind,
        to_version: None,
        seen: Seen::of(x),
        typed_name: x.name.to_string(),
        token: uuid::Uuid::new_v4().to_string(),
        immediately: false,
    }
}

/// `kind` on `x` as the operator, sent as a person would after looking.
async fn attempt(s: &TestApp, kind: ActionKind, x: &Secret) -> Result<actions::Done, AppError> {
    actions::run(&s.state, &operator(), &x.name, request(kind, x)).await
}

/// The newest ten `secret.rotate` records about `name` (with `outcome`).
async fn rotate_records(
    s: &TestApp,
    name: &str,
    outcome: Option<Outcome>,
) -> Vec<crate::server::store::AuditRecord> {
    let filter = crate::server::store::AuditFilter {
        action: Some(AuditAction::Rotate),
        target: Some(name.to_string()),
        outcome,
        ..Default::default()
    };
    let page = s.state.auth.store.audit_page(&filter, 0, 10).await;
    page.unwrap().records
}

async fn count(s: &TestApp, action: AuditAction, outcome: Outcome) -> i64 {
    audited(&s.state.auth.store, action, Some(outcome)).await
}

#[tokio::test]
async fn rotate_now_starts_a_rotation_once_per_token() {
    let s = TestApp::builder().build().await;
    let x = pick(&s, "rotatable", |x| {
        lambda(x, "ok") && x.deleted.is_none() && x.pending_version().is_none()
    })
    .await;
    let (plan, seen) = actions::preview(&s.state, &operator(), &x.name, ActionKind::Rotate, None)
        .await
        .unwrap();
    assert_eq!(seen, Seen::of(&x));
    assert!(
        plan.effects[1].contains("SecretsManagerRotation-ok-"),
        "{plan:?}"
    );
    let versions_before = x.versions.len();
    let req = request(ActionKind::Rotate, &x);
    // A double click: the same request twice at once.
    let who = operator();
    let (a, b) = tokio::join!(
        actions::run(&s.state, &who, &x.name, req.clone()),
        actions::run(&s.state, &who, &x.name, req.clone()),
    );
    let done = a.as_ref().or(b.as_ref()).expect("one of them ran");
    assert_eq!(done.version.as_deref(), Some(req.token.as_str()));
    let fresh = reread(&s.state, &x).await.unwrap();
    assert_eq!(
        fresh.versions.len(),
        versions_before + 1,
        "one new version, not two"
    );
    assert!(fresh.versions.iter().any(|v| v.id.to_string() == req.token));
    // The snapshot has the new version already (no sync in between).
    let snap = s.state.inventory.snapshot();
    assert!(snap
        .by_name(&x.name)
        .unwrap()
        .versions
        .iter()
        .any(|v| v.id.to_string() == req.token));
    assert!(count(&s, AuditAction::Rotate, Outcome::Allowed).await >= 2);

    // The rotation is followed: once the Lambda's four steps are done
    // (a second apart on the demo endpoint), the snapshot shows the new
    // version as AWSCURRENT without a sync, and the trail says so.
    let mut promoted = false;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let snap = s.state.inventory.snapshot();
        let v = snap
            .by_name(&x.name)
            .unwrap()
            .version_with(&Label::Current)
            .map(|v| v.id.to_string());
        if v.as_deref() == Some(req.token.as_str()) {
            promoted = true;
            break;
        }
    }
    assert!(
        promoted,
        "the snapshot shows the rotated version as AWSCURRENT"
    );
    // The trail says how it ended (written just after that read).
    let mut recorded = false;
    for _ in 0..20 {
        if rotate_records(&s, &x.name, None)
            .await
            .iter()
            .any(|r| r.event.detail.starts_with("rotation followed: Promoted"))
        {
            recorded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(recorded, "the end of the rotation is on the audit trail");
    s.server.abort();
}

#[tokio::test]
async fn rotation_failures_say_what_to_do() {
    let s = TestApp::builder().build().await;
    // The Lambda cannot be invoked.
    let missing = pick(&s, "rotated by a missing Lambda", |x| {
        lambda(x, "missing") && x.deleted.is_none() && x.pending_version().is_none()
    })
    .await;
    let e = attempt(&s, ActionKind::Rotate, &missing).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(
        e.user.contains("could not invoke the rotation Lambda"),
        "{}",
        e.user
    );
    assert_eq!(count(&s, AuditAction::Rotate, Outcome::Failed).await, 1);

    // Rotation not configured: refused before any call, nothing recorded.
    let requested = count(&s, AuditAction::Rotate, Outcome::Allowed).await;
    assert_eq!(
        requested, 1,
        "the failed rotation was requested, then failed"
    );
    let plain = pick(&s, "without rotation", |x| {
        x.rotation_lambda_arn.is_none() && x.deleted.is_none() && x.owning_service.is_none()
    })
    .await;
    let e = attempt(&s, ActionKind::Rotate, &plain).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.user.contains("Rotation is not configured"), "{}", e.user);
    assert_eq!(
        count(&s, AuditAction::Rotate, Outcome::Allowed).await,
        requested
    );
    s.server.abort();
}

#[tokio::test]
async fn cancel_turns_a_stuck_rotation_off() {
    let s = TestApp::builder().build().await;
    let stuck = pick(&s, "stuck in rotation", |x| {
        x.deleted.is_none() && x.pending_version().is_some() && x.rotation_enabled
    })
    .await;
    let pending = stuck.pending_version().unwrap().id.to_string();
    let done = attempt(&s, ActionKind::CancelRotation, &stuck)
        .await
        .unwrap();
    assert!(done.message.contains("cancelled"), "{}", done.message);
    let fresh = reread(&s.state, &stuck).await.unwrap();
    assert!(!fresh.rotation_enabled);
    assert!(!done.after.rotation_enabled);
    // CancelRotateSecret (API reference): "You might need to remove the
    // staging label AWSPENDING from the partially created version." It
    // stays where it was, so rotation cannot simply be turned on again.
    assert_eq!(done.after.holder("AWSPENDING"), Some(pending.as_str()));
    let e = attempt(&s, ActionKind::EnableRotation, &fresh)
        .await
        .unwrap_err();
    assert!(
        e.user.contains("clear the pending version first"),
        "{}",
        e.user
    );

    // Clear pending version, then Turn rotation back on: the schedule and
    // Lambda it had, AWSCURRENT where it was.
    let current = fresh
        .version_with(&Label::Current)
        .map(|v| v.id.to_string());
    let cleared = attempt(&s, ActionKind::ClearPending, &fresh).await.unwrap();
    assert_eq!(cleared.after.holder("AWSPENDING"), None);
    let fresh = reread(&s.state, &stuck).await.unwrap();
    assert!(fresh.pending_version().is_none());
    let on = attempt(&s, ActionKind::EnableRotation, &fresh)
        .await
        .unwrap();
    assert!(on.message.contains("on again"), "{}", on.message);
    let fresh = reread(&s.state, &stuck).await.unwrap();
    assert!(fresh.rotation_enabled);
    assert_eq!(fresh.rotation_lambda_arn, stuck.rotation_lambda_arn);
    assert_eq!(
        fresh
            .rotation_rules
            .as_deref()
            .and_then(|r| r.automatically_after_days),
        stuck
            .rotation_rules
            .as_deref()
            .and_then(|r| r.automatically_after_days)
    );
    assert_eq!(
        fresh
            .version_with(&Label::Current)
            .map(|v| v.id.to_string()),
        current,
        "RotateImmediately=false does not move AWSCURRENT"
    );
    for action in [AuditAction::ClearPending, AuditAction::EnableRotation] {
        assert!(count(&s, action, Outcome::Allowed).await >= 2, "{action}");
    }
    s.server.abort();
}

#[tokio::test]
async fn rollback_moves_awscurrent_and_refuses_a_raced_change() {
    let s = TestApp::builder().build().await;
    let x = pick(&s, "with an AWSPREVIOUS version", |x| {
        x.deleted.is_none()
            && x.pending_version().is_none()
            && x.version_with(&Label::Previous).is_some()
            && !x.name.starts_with("prod/")
    })
    .await;
    let current = x.version_with(&Label::Current).unwrap().id.to_string();
    let previous = x.version_with(&Label::Previous).unwrap().id.to_string();
    let seen_before = Seen::of(&x);

    // Someone else moves AWSCURRENT after the person looked: refused,
    // with the new state, and nothing done.
    s.state
        .sources
        .primary()
        .client
        .update_secret_version_stage()
        .secret_id(&*x.arn)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&previous)
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    let mut raced = request(ActionKind::Rollback, &x);
    raced.seen = seen_before.clone();
    let e = actions::run(&s.state, &operator(), &x.name, raced)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(
        e.user.contains("changed since you looked")
            && e.user.contains(&format!(
                "AWSCURRENT moved from version {current} to {previous}"
            )),
        "{}",
        e.user
    );
    assert_eq!(count(&s, AuditAction::Rollback, Outcome::Denied).await, 1);
    assert_eq!(count(&s, AuditAction::Rollback, Outcome::Allowed).await, 0);

    // Looking again and rolling back: AWSCURRENT returns to the version
    // that now holds AWSPREVIOUS, which is where it started.
    let now = reread(&s.state, &x).await.unwrap();
    let done = actions::run(
        &s.state,
        &operator(),
        &x.name,
        request(ActionKind::Rollback, &now),
    )
    .await
    .unwrap();
    assert_eq!(done.after.holder("AWSCURRENT"), Some(current.as_str()));
    assert_eq!(done.after.holder("AWSPREVIOUS"), Some(previous.as_str()));
    assert_eq!(count(&s, AuditAction::Rollback, Outcome::Allowed).await, 2);
    s.server.abort();
}

#[tokio::test]
async fn rollback_goes_to_a_picked_version_and_never_to_a_pending_one() {
    let s = TestApp::builder().build().await;
    // A secret with an earlier version besides AWSPREVIOUS's: a custom
    // label keeps the old AWSPREVIOUS listed through a rotation.
    let x = pick(&s, "rotatable, with an AWSPREVIOUS version", |x| {
        lambda(x, "ok")
            && x.deleted.is_none()
            && x.pending_version().is_none()
            && x.version_with(&Label::Previous).is_some()
            && !x.name.starts_with("prod/")
    })
    .await;
    let client = &s.state.sources.primary().client;
    client
        .update_secret_version_stage()
        .secret_id(&*x.arn)
        .version_stage("keep")
        .move_to_version_id(x.version_with(&Label::Previous).unwrap().id.to_string())
        .send()
        .await
        .unwrap();
    client
        .rotate_secret()
        .secret_id(&*x.arn)
        .send()
        .await
        .unwrap();
    let mut x = x;
    for _ in 0..80 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        x = reread(&s.state, &x).await.unwrap();
        if x.pending_version().is_none() {
            break;
        }
    }
    assert_eq!(crate::domain::actions::rollback_choices(&x).len(), 2);
    let choices: Vec<String> = crate::domain::actions::rollback_choices(&x)
        .iter()
        .map(|v| v.id.to_string())
        .collect();
    let previous = x.version_with(&Label::Previous).map(|v| v.id.to_string());
    // The dialog's first reading: AWSPREVIOUS's version, and every choice.
    let (plan, _) = actions::preview(&s.state, &operator(), &x.name, ActionKind::Rollback, None)
        .await
        .unwrap();
    assert_eq!(
        plan.to_version.as_ref(),
        previous.as_ref().or(choices.first())
    );
    assert_eq!(
        plan.choices
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<Vec<_>>(),
        choices
    );
    // Picking the other one: the plan names it.
    let picked = choices
        .iter()
        .find(|c| Some(*c) != plan.to_version.as_ref())
        .unwrap();
    let (plan, _) = actions::preview(
        &s.state,
        &operator(),
        &x.name,
        ActionKind::Rollback,
        Some(picked),
    )
    .await
    .unwrap();
    assert_eq!(plan.to_version.as_deref(), Some(picked.as_str()));
    assert!(
        plan.effects[0].contains(&format!("to version {picked}")),
        "{:?}",
        plan.effects
    );
    let mut req = request(ActionKind::Rollback, &x);
    req.to_version = Some(picked.clone());
    let done = actions::run(&s.state, &operator(), &x.name, req)
        .await
        .unwrap();
    assert_eq!(done.after.holder("AWSCURRENT"), Some(picked.as_str()));

    // A version holding AWSPENDING (a failed rotation's) is not a rollback
    // target, picked or not: refused with a sentence, nothing changed.
    let stuck = pick(&s, "with a stuck AWSPENDING", |x| {
        x.deleted.is_none() && x.pending_version().is_some() && !x.name.starts_with("prod/")
    })
    .await;
    let pending = stuck.pending_version().unwrap().id.to_string();
    assert!(!crate::domain::actions::rollback_choices(&stuck)
        .iter()
        .any(|v| v.id.to_string() == pending));
    let mut req = request(ActionKind::Rollback, &stuck);
    req.to_version = Some(pending.clone());
    let e = actions::run(&s.state, &operator(), &stuck.name, req)
        .await
        .unwrap_err();
    assert!(e.user.contains("holds AWSPENDING"), "{}", e.user);
    assert_eq!(
        Seen::of(&reread(&s.state, &stuck).await.unwrap()),
        Seen::of(&stuck)
    );
    s.server.abort();
}

#[tokio::test]
async fn restore_cancels_the_deletion_and_production_needs_the_name() {
    let s = TestApp::builder().build().await;
    let deleted = pick(&s, "scheduled for deletion", |x| x.deleted.is_some()).await;
    let mut req = request(ActionKind::Restore, &deleted);
    let production =
        crate::domain::actions::is_production(&deleted.name, &s.state.config.actions.production);
    if production {
        req.typed_name = "not the name".into();
        let e = actions::run(&s.state, &operator(), &deleted.name, req.clone())
            .await
            .unwrap_err();
        assert!(e.user.contains("type its name exactly"), "{}", e.user);
        req.typed_name = deleted.name.to_string();
    }
    let done = actions::run(&s.state, &operator(), &deleted.name, req)
        .await
        .unwrap();
    assert!(!done.after.deleted);
    let snap = s.state.inventory.snapshot();
    assert!(snap.by_name(&deleted.name).unwrap().deleted.is_none());
    // Restoring again: nothing to restore.
    let e = actions::run(
        &s.state,
        &operator(),
        &deleted.name,
        request(ActionKind::Restore, snap.by_name(&deleted.name).unwrap()),
    )
    .await
    .unwrap_err();
    assert!(e.user.contains("nothing to restore"), "{}", e.user);

    // A production secret without its name typed: refused, nothing done.
    let prod = pick(&s, "a production secret with AWSPREVIOUS", |x| {
        x.name.starts_with("prod/")
            && x.deleted.is_none()
            && x.pending_version().is_none()
            && x.version_with(&Label::Previous).is_some()
    })
    .await;
    let mut req = request(ActionKind::Rollback, &prod);
    req.typed_name = String::new();
    let e = actions::run(&s.state, &operator(), &prod.name, req)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert_eq!(
        Seen::of(&reread(&s.state, &prod).await.unwrap()),
        Seen::of(&prod)
    );
    s.server.abort();
}

#[tokio::test]
async fn each_user_is_held_to_the_per_minute_limit() {
    let s = TestApp::builder().build().await;
    let max = s.state.config.actions.per_user_per_minute;
    // Attempts count whether or not AWS then refuses them: these fail at
    // the missing Lambda, and are still attempts.
    let missing = pick(&s, "rotated by a missing Lambda", |x| {
        lambda(x, "missing") && x.deleted.is_none() && x.pending_version().is_none()
    })
    .await;
    for _ in 0..max {
        let e = attempt(&s, ActionKind::Rotate, &missing).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AccessDenied);
    }
    let e = attempt(&s, ActionKind::Rotate, &missing).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.user.contains("Try again in"), "{}", e.user);
    assert_eq!(count(&s, AuditAction::Rotate, Outcome::Denied).await, 1);
    assert_eq!(
        count(&s, AuditAction::Rotate, Outcome::Failed).await,
        max as i64
    );
    // Another user is not held by the first one's count.
    let other = Principal {
        name: "admin".into(),
        ..operator()
    };
    let e = actions::run(
        &s.state,
        &other,
        &missing.name,
        request(ActionKind::Rotate, &missing),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    s.server.abort();
}

#[tokio::test]
async fn a_viewers_forged_action_changes_nothing_and_is_audited() {
    let s = TestApp::builder().build().await;
    let x = pick(&s, "with an AWSPREVIOUS version", |x| {
        x.deleted.is_none()
            && x.pending_version().is_none()
            && x.version_with(&Label::Previous).is_some()
    })
    .await;
    let viewer = s.signed_in("viewer").await;
    let denied = count(&s, AuditAction::Denied, Outcome::Denied).await;
    let seen = serde_json::to_string(&Seen::of(&x)).unwrap();
    let body = format!(
        "id={}&to_version=&seen={}&typed_name={}&token={}",
        query_value(&x.name),
        query_value(&seen),
        query_value(&x.name),
        uuid::Uuid::new_v4()
    );
    let res = viewer.post_form("/api/rollback_secret", &body).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("needs the operator role"), "{}", res.body);
    assert_eq!(
        count(&s, AuditAction::Denied, Outcome::Denied).await,
        denied + 1
    );
    let after = reread(&s.state, &x).await.unwrap();
    assert_eq!(Seen::of(&after), Seen::of(&x));
    assert_eq!(after.last_changed, x.last_changed);

    // The same request from the operator goes through.
    let operator = s.signed_in("operator").await;
    let res = operator.post_form("/api/rollback_secret", &body).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let outcome: crate::api::ActionOutcome = res.json();
    assert_eq!(
        outcome.after.holder("AWSCURRENT"),
        Some(
            x.version_with(&Label::Previous)
                .unwrap()
                .id
                .to_string()
                .as_str()
        )
    );
    s.server.abort();
}
