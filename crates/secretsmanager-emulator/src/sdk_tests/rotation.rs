//! RotateSecret and CancelRotateSecret with each Lambda behaviour.

use super::*;

#[tokio::test]
async fn rotation_with_an_ok_lambda_moves_the_labels() {
    // Steps far enough apart that the checks made while it runs see it running.
    let ep = start_with(LocalOptions {
        rotation_step: Duration::from_millis(500),
        ..options(300)
    })
    .await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::Healthy);
    let before = stages(&c, &p.name).await;
    let old_current = holder(&before, "AWSCURRENT").unwrap();

    let r = c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    let new_version = r.version_id().unwrap().to_string();
    assert_eq!(r.arn(), Some(p.arn.as_str()));
    let during = stages(&c, &p.name).await;
    assert_eq!(
        holder(&during, "AWSPENDING").as_deref(),
        Some(new_version.as_str())
    );
    assert_eq!(holder(&during, "AWSCURRENT"), Some(old_current.clone()));

    // A second rotation while the first runs is refused.
    let again = c.rotate_secret().secret_id(&p.name).send().await;
    let err = again.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err
        .message()
        .unwrap()
        .contains("previous rotation isn't complete"));

    let record = finished_rotation(&ep.endpoint, &p.name).await;
    assert_eq!(record.outcome, RotationOutcome::Succeeded);
    assert_eq!(record.steps.len(), 4);
    assert!(record.steps.iter().all(|s| s.ok));

    let after = stages(&c, &p.name).await;
    assert_eq!(holder(&after, "AWSCURRENT"), Some(new_version.clone()));
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(old_current));
    assert_eq!(holder(&after, "AWSPENDING"), None);
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert!(d.last_rotated_date().unwrap().secs() >= NOW);
    assert!(d.next_rotation_date().unwrap().secs() > NOW);
    assert_eq!(d.rotation_enabled(), Some(true));
}

/// Removes AWSPENDING from the version holding it (the first half of the
/// dashboard's "Retry rotation"): RotateSecret may start again after it.
async fn clear_pending(c: &sm::Client, id: &str) -> String {
    let stuck = holder(&stages(c, id).await, "AWSPENDING").expect("a version holds AWSPENDING");
    c.update_secret_version_stage()
        .secret_id(id)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&stuck)
        .send()
        .await
        .unwrap();
    stuck
}

/// "If the AWSPENDING staging label is present but not attached to the same
/// version as AWSCURRENT, then any later invocation of RotateSecret assumes
/// that a previous rotation request is still in progress and returns an
/// error." (RotateSecret, API reference.) So a seeded failed rotation is
/// retried by removing AWSPENDING first; the broken Lambda then fails again
/// and its new version keeps AWSPENDING.
#[tokio::test]
async fn a_broken_lambda_leaves_awspending_stuck() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::RotationFailed);
    assert_eq!(
        p.lambda_behaviour,
        Some(LambdaBehaviour::Broken),
        "the first failed rotation of the seed is broken at setSecret"
    );
    let before = stages(&c, &p.name).await;
    let current = holder(&before, "AWSCURRENT").unwrap();
    let stuck = holder(&before, "AWSPENDING").unwrap();
    assert_ne!(current, stuck);
    let history = ep.endpoint.rotation_history(&p.name).unwrap().len();

    let err = c
        .rotate_secret()
        .secret_id(&p.arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert_eq!(
        err.message(),
        Some("A previous rotation isn't complete. That rotation will be reattempted.")
    );
    assert_eq!(stages(&c, &p.name).await, before, "nothing changed");
    assert_eq!(
        ep.endpoint.rotation_history(&p.name).unwrap().len(),
        history,
        "no rotation started"
    );

    assert_eq!(clear_pending(&c, &p.arn).await, stuck);
    let v = c.rotate_secret().secret_id(&p.arn).send().await.unwrap();
    let new_version = v.version_id().unwrap().to_string();
    let record = finished_rotation(&ep.endpoint, &p.name).await;
    assert_eq!(record.outcome, RotationOutcome::Failed);
    assert!(record
        .steps
        .iter()
        .any(|s| !s.ok && s.step == crate::RotationStep::SetSecret));
    assert!(record
        .message
        .unwrap()
        .contains("failed at setSecret: FATAL: password authentication failed for user"));

    let after = stages(&c, &p.name).await;
    assert_eq!(
        holder(&after, "AWSCURRENT"),
        Some(current),
        "AWSCURRENT unchanged"
    );
    assert_eq!(
        holder(&after, "AWSPENDING"),
        Some(new_version),
        "the failed attempt's version keeps AWSPENDING"
    );
    assert!(
        !after.contains_key(&stuck),
        "the earlier stuck version is now deprecated"
    );
    // And that blocks the next RotateSecret in turn.
    assert_eq!(
        code(c.rotate_secret().secret_id(&p.arn).send().await),
        "InvalidRequestException"
    );
}

#[tokio::test]
async fn a_flaky_lambda_fails_then_succeeds() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| {
        p.scenario == Scenario::RotationFlaky && p.lambda_behaviour == Some(LambdaBehaviour::Flaky)
    });
    let current = holder(&stages(&c, &p.name).await, "AWSCURRENT").unwrap();

    clear_pending(&c, &p.name).await;
    c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &p.name).await.outcome,
        RotationOutcome::Failed
    );
    assert_eq!(
        holder(&stages(&c, &p.name).await, "AWSCURRENT"),
        Some(current.clone())
    );

    clear_pending(&c, &p.name).await;
    let retry = c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &p.name).await.outcome,
        RotationOutcome::Succeeded
    );
    let after = stages(&c, &p.name).await;
    assert_eq!(holder(&after, "AWSCURRENT").as_deref(), retry.version_id());
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(current));
    assert_eq!(holder(&after, "AWSPENDING"), None);
}

#[tokio::test]
async fn a_rotation_whose_lambda_was_fixed_succeeds_once_pending_is_cleared() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    // Stuck after a timeout; its Lambda works now.
    let p = pick(&plan, |p| {
        p.scenario == Scenario::RotationFlaky && p.lambda_behaviour == Some(LambdaBehaviour::Ok)
    });
    assert!(holder(&stages(&c, &p.name).await, "AWSPENDING").is_some());
    clear_pending(&c, &p.name).await;
    let rotated = c.rotate_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &p.name).await.outcome,
        RotationOutcome::Succeeded
    );
    assert_eq!(
        holder(&stages(&c, &p.name).await, "AWSCURRENT").as_deref(),
        rotated.version_id()
    );
}

#[tokio::test]
async fn a_missing_lambda_is_access_denied_and_no_lambda_is_invalid() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::LambdaMissing);
    let before = stages(&c, &p.name).await;
    let err = c
        .rotate_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err
        .message()
        .unwrap()
        .contains("secretsmanager.amazonaws.com"));
    assert_eq!(stages(&c, &p.name).await, before, "nothing changed");

    let never = pick(&plan, |p| p.scenario == Scenario::NeverRotated);
    assert_eq!(
        code(c.rotate_secret().secret_id(&never.name).send().await),
        "InvalidRequestException"
    );
    // Giving a Lambda configures rotation.
    let ok_lambda = seed::lambda_arn(REGION, ACCOUNT, crate::LambdaBehaviour::Ok, "test");
    c.rotate_secret()
        .secret_id(&never.name)
        .rotation_lambda_arn(&ok_lambda)
        .rotation_rules(
            sm::types::RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &never.name).await.outcome,
        RotationOutcome::Succeeded
    );
    let d = c
        .describe_secret()
        .secret_id(&never.name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.rotation_lambda_arn(), Some(ok_lambda.as_str()));
    assert_eq!(
        d.rotation_rules().unwrap().automatically_after_days(),
        Some(30)
    );
}

#[tokio::test]
async fn client_request_token_makes_rotation_idempotent() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::Healthy);
    let token = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let history_before = ep.endpoint.rotation_history(&p.name).unwrap().len();
    let first = c
        .rotate_secret()
        .secret_id(&p.name)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.version_id(), Some(token));
    // The same token while the rotation runs and after it ended: same answer.
    let second = c
        .rotate_secret()
        .secret_id(&p.name)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.version_id(), Some(token));
    finished_rotation(&ep.endpoint, &p.name).await;
    let third = c
        .rotate_secret()
        .secret_id(&p.name)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(third.version_id(), Some(token));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        ep.endpoint.rotation_history(&p.name).unwrap().len(),
        history_before + 1
    );
    assert_eq!(
        holder(&stages(&c, &p.name).await, "AWSCURRENT").as_deref(),
        Some(token)
    );

    assert_eq!(
        code(
            c.rotate_secret()
                .secret_id(&p.name)
                .client_request_token("short")
                .send()
                .await
        ),
        "ValidationException"
    );
}

#[tokio::test]
async fn cancel_rotation_keeps_configuration_and_pending_label() {
    // Steps far enough apart that the checks made while it runs see it running.
    let ep = start_with(LocalOptions {
        rotation_step: Duration::from_millis(500),
        ..options(300)
    })
    .await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::RotationFailed);
    let before = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    let pending = holder(before.version_ids_to_stages().unwrap(), "AWSPENDING").unwrap();
    let r = c
        .cancel_rotate_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(r.version_id(), Some(pending.as_str()));
    assert_eq!(r.arn(), Some(p.arn.as_str()));
    let after = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(after.rotation_enabled(), Some(false));
    assert_eq!(after.rotation_lambda_arn(), before.rotation_lambda_arn());
    assert_eq!(after.rotation_rules(), before.rotation_rules());
    assert_eq!(
        holder(after.version_ids_to_stages().unwrap(), "AWSPENDING"),
        Some(pending)
    );

    // Cancelling a running rotation stops it where it is.
    let h = pick(&plan, |p| p.scenario == Scenario::Healthy);
    let current = holder(&stages(&c, &h.name).await, "AWSCURRENT");
    c.rotate_secret().secret_id(&h.name).send().await.unwrap();
    c.cancel_rotate_secret()
        .secret_id(&h.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        finished_rotation(&ep.endpoint, &h.name).await.outcome,
        RotationOutcome::Cancelled
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let s = stages(&c, &h.name).await;
    assert_eq!(holder(&s, "AWSCURRENT"), current);
    assert!(holder(&s, "AWSPENDING").is_some());
}

#[tokio::test]
async fn rotate_later_only_tests_the_configuration() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::DisabledWithRules);
    let before = stages(&c, &p.name).await;
    let r = c
        .rotate_secret()
        .secret_id(&p.name)
        .rotate_immediately(false)
        .send()
        .await
        .unwrap();
    assert!(r.version_id().is_some());
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert!(d.next_rotation_date().unwrap().secs() > NOW);
    assert_eq!(stages(&c, &p.name).await, before, "labels unchanged");
    let last = ep
        .endpoint
        .rotation_history(&p.name)
        .unwrap()
        .pop()
        .unwrap();
    assert!(!last.immediate);
    assert_eq!(last.outcome, RotationOutcome::Succeeded);
    assert_eq!(last.steps.len(), 1);
}
