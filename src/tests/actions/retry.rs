//! A rotation that failed, followed to its failure; the retry that clears
//! its leftover and promotes, the retry that fails again, and the retry
//! over a secret changed since the person looked.

use super::{lambda, operator, pick, request, rotate_records};
use crate::domain::actions::{ActionKind, RotationProgress, RotationStage};
use crate::domain::audit::{AuditAction, Outcome};
use crate::domain::{Label, Secret};
use crate::server::actions;
use crate::server::detail::reread;
use crate::server::error::ErrorKind;
use crate::tests::TestApp;
use std::sync::Arc;

/// The rotation progress the page shows for `name`, once it has left
/// `Pending` (or panics after `secs`).
async fn settled(state: &crate::server::AppState, name: &str, secs: u64) -> RotationProgress {
    for _ in 0..secs * 4 {
        if let Some(p) = state.actions.rotation(name).filter(|p| p.finished()) {
            return p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!(
        "the rotation of {name} was still pending after {secs} s: {:?}",
        state.actions.rotation(name)
    );
}

#[tokio::test]
async fn a_failed_rotation_is_followed_to_its_failure_and_a_retry_to_promotion() {
    let s = TestApp::builder().build().await;
    // With CloudTrail, as `serve --demo` runs: the follower learns of the
    // failure from RotationFailed instead of waiting out its time.
    let state = s
        .state
        .clone()
        .with_trail(Some(crate::tests::cloudtrail::trail(&s.ep).await));
    // A flaky Lambda fails its first invocation on this endpoint and works
    // after that; the seed's flaky secrets carry a leftover AWSPENDING from
    // an earlier failure.
    let flaky = pick(&s, "rotated by a flaky Lambda, stuck", |x| {
        lambda(x, "flaky") && x.deleted.is_none() && x.pending_version().is_some()
    })
    .await;
    let leftover = flaky.pending_version().unwrap().id.to_string();
    let run = |kind: ActionKind, x: Arc<Secret>| {
        let state = state.clone();
        async move { actions::run(&state, &operator(), &x.name, request(kind, &x)).await }
    };
    // Rotate now over the leftover: refused before any call, naming the
    // version and the way through.
    let again = run(ActionKind::Rotate, flaky.clone()).await;
    assert!(
        again.as_ref().is_err_and(|e| e
            .user
            .contains(&format!("version {leftover} holds AWSPENDING"))
            && e.user.contains("Retry rotation")),
        "{again:?}"
    );
    // Secrets Manager itself refuses RotateSecret over it (API reference:
    // "any later invocation of RotateSecret assumes that a previous rotation
    // request is still in progress and returns an error").
    let refused = state
        .sources
        .primary()
        .client
        .rotate_secret()
        .secret_id(&*flaky.arn)
        .send()
        .await;
    assert!(refused.is_err(), "{refused:?}");

    // Retry rotation: AWSPENDING off the leftover, a new rotation, which
    // fails at setSecret (the flaky Lambda's first invocation).
    let done = run(ActionKind::RetryRotation, flaky.clone()).await.unwrap();
    let first = done.version.unwrap();
    assert!(
        done.message
            .contains(&format!("AWSPENDING removed from version {leftover}")),
        "{}",
        done.message
    );
    let failed = settled(&state, &flaky.name, 30).await;
    assert_eq!(
        (failed.stage, failed.version.as_str()),
        (RotationStage::Failed, first.as_str())
    );
    let said = &failed.steps.last().unwrap().1;
    assert!(
        said.contains("failed at setSecret: Task timed out"),
        "{said}"
    );
    let now = reread(&state, &flaky).await.unwrap();
    assert_eq!(
        now.pending_version().map(|v| v.id.to_string()),
        Some(first.clone()),
        "the failed attempt keeps AWSPENDING"
    );
    // The failure is data: seen for the pending version, with its step,
    // and counted as a retry (the seed's failure came first).
    let seen = state.inventory.snapshot();
    let f = seen.by_name(&flaky.name).unwrap().seen_failure().cloned();
    assert_eq!(
        f.as_ref().and_then(|f| f.step),
        Some(crate::domain::rotation_failure::RotationStep::SetSecret),
        "{f:?}"
    );
    assert!(f.as_ref().is_some_and(|f| f.attempt >= 2), "{f:?}");
    // The retry's dialog says what left the version there.
    let (plan, _) = actions::preview(
        &state,
        &operator(),
        &flaky.name,
        ActionKind::RetryRotation,
        None,
    )
    .await
    .unwrap();
    assert!(
        plan.effects[0].contains(&format!("version {first}"))
            && plan.effects[0]
                .contains("left by a rotation that failed (retry failed at setSecret"),
        "{:?}",
        plan.effects
    );
    let failures = rotate_records(&s, &flaky.name, Some(Outcome::Failed)).await;
    assert!(
        failures.is_empty(),
        "Rotate now was refused before any call: {failures:?}"
    );

    // Retry again: promoted; the snapshot shows it.
    let version = run(ActionKind::RetryRotation, now)
        .await
        .unwrap()
        .version
        .unwrap();
    let done = settled(&state, &flaky.name, 30).await;
    assert_eq!(
        (done.stage, done.version.as_str()),
        (RotationStage::Promoted, version.as_str())
    );
    assert_eq!(done.steps.len(), 2, "{done:?}");
    let snap = state.inventory.snapshot();
    let after = snap.by_name(&flaky.name).unwrap();
    assert_eq!(
        after
            .version_with(&Label::Current)
            .map(|v| v.id.to_string()),
        Some(version)
    );
    assert!(after.seen_failure().is_none() && after.pending_version().is_none());
    // Both calls of each retry are on the audit trail.
    let filter = crate::server::store::AuditFilter {
        action: Some(AuditAction::RetryRotation),
        target: Some(flaky.name.to_string()),
        ..Default::default()
    };
    let details: Vec<String> = s
        .state
        .auth
        .store
        .audit_page(&filter, 0, 20)
        .await
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.event.detail)
        .collect();
    for call in [
        format!("called UpdateSecretVersionStage (AWSPENDING removed from version {leftover})"),
        format!("called UpdateSecretVersionStage (AWSPENDING removed from version {first})"),
        "called RotateSecret (RotateImmediately=true)".to_string(),
    ] {
        assert!(details.contains(&call), "{call}: {details:?}");
    }
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("rotation followed: The rotation failed")),
        "{details:?}"
    );
    s.server.abort();
}

#[tokio::test]
async fn a_retry_that_fails_again_stays_a_failure_with_its_attempt() {
    let s = TestApp::builder().build().await;
    let state = s
        .state
        .clone()
        .with_trail(Some(crate::tests::cloudtrail::trail(&s.ep).await));
    // A broken Lambda fails every time; the seed's have failed once already.
    let broken = pick(&s, "rotated by a broken Lambda", |x| {
        lambda(x, "broken") && x.deleted.is_none() && x.pending_version().is_some()
    })
    .await;
    actions::run(
        &state,
        &operator(),
        &broken.name,
        request(ActionKind::RetryRotation, &broken),
    )
    .await
    .unwrap();
    assert_eq!(
        settled(&state, &broken.name, 30).await.stage,
        RotationStage::Failed
    );

    // The new AWSPENDING is seconds old, yet the secret is failed now: the
    // grace period is for rotations nobody has seen fail.
    let snap = state.inventory.snapshot();
    let x = snap.by_name(&broken.name).unwrap();
    let f = x.seen_failure().expect("the retry's failure is seen");
    assert!(f.attempt >= 2, "{f:?}");
    assert!(f.headline().starts_with("Retry failed"), "{}", f.headline());
    let cfg = &state.health.cfg;
    let at = crate::server::clock::now();
    assert!(crate::domain::health::evaluate(x, None, cfg, at)
        .iter()
        .any(|f| f.rule == crate::domain::health::RuleId::RotationFailed && f.is_active()));
    assert_eq!(
        crate::domain::state::State::of(x, at),
        crate::domain::state::State::RotationStuck
    );
    // And the on-call queue lists it, with its attempt.
    let view = state.health.current(at);
    let queue = crate::api::build::health::oncall(&state, &view, false).await;
    let row = queue
        .rows
        .iter()
        .find(|r| r.name == *broken.name)
        .expect("the failed retry is in the queue");
    assert_eq!(row.problem, crate::domain::health::RuleId::RotationFailed);
    assert!(
        row.failure.as_ref().is_some_and(|f| f.attempt >= 2),
        "{row:?}"
    );
    s.server.abort();
}

#[tokio::test]
async fn a_retry_over_a_changed_secret_is_refused_and_changes_nothing() {
    let s = TestApp::builder().build().await;
    let stuck = pick(&s, "with a leftover AWSPENDING", |x| {
        x.deleted.is_none() && x.pending_version().is_some() && x.rotation_lambda_arn.is_some()
    })
    .await;
    let req = request(ActionKind::RetryRotation, &stuck);
    // Someone clears AWSPENDING after the person looked.
    let pending = stuck.pending_version().unwrap().id.to_string();
    s.state
        .sources
        .primary()
        .client
        .update_secret_version_stage()
        .secret_id(&*stuck.arn)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&pending)
        .send()
        .await
        .unwrap();
    let e = actions::run(&s.state, &operator(), &stuck.name, req)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(
        e.user
            .contains(&format!("AWSPENDING was removed from version {pending}")),
        "{}",
        e.user
    );
    let fresh = reread(&s.state, &stuck).await.unwrap();
    assert!(fresh.pending_version().is_none());
    assert!(
        fresh
            .versions
            .iter()
            .all(|v| stuck.versions.iter().any(|o| o.id == v.id)),
        "no rotation started"
    );
    s.server.abort();
}
