//! Rotation and staging labels: the AWSPENDING rule, idempotent
//! RotateSecret, CancelRotateSecret, moving and removing labels, rotating later.

use super::*;

/// RotateSecret, API reference: "If the `AWSPENDING` staging label is
/// present but not attached to the same version as `AWSCURRENT`, then any
/// later invocation of `RotateSecret` assumes that a previous rotation
/// request is still in progress and returns an error."
pub(crate) async fn rotate_is_refused_over_a_leftover_awspending(t: &Target) {
    let name = "contract/pending/leftover";
    failed_rotation(t, name).await;
    let before = labels(&t.sm, name).await;
    let r = rotate(t, name, V3).await;
    if t.departs(PendingRuleNotEnforced) {
        assert_eq!(r.unwrap().version_id(), Some(V3));
        let l = labelled(&labels(&t.sm, name).await);
        assert_eq!(holder(&l, PENDING).as_deref(), Some(V3), "moved: {l:?}");
        return;
    }
    let e = r.unwrap_err();
    assert_eq!(e, format!("InvalidRequestException: {NOT_COMPLETE}"));
    assert_eq!(labels(&t.sm, name).await, before, "nothing changed");
    assert!(!versions(&t.sm, name, true).await.contains_key(V3));
}

/// RotateSecret, API reference: "When rotation is successful, the
/// `AWSPENDING` staging label might be attached to the same version as the
/// `AWSCURRENT` version, or it might not be attached to any version."; and
/// CancelRotateSecret, API reference (2019 edition): "To successfully start
/// a rotation, the staging label `AWSPENDING` must be in one of the
/// following states: Not attached to any version at all; Attached to the
/// same version as the staging label `AWSCURRENT`."
pub(crate) async fn awspending_on_awscurrent_does_not_block(t: &Target) {
    let name = "contract/pending/on-current";
    create(t, name).await;
    t.sm.update_secret_version_stage()
        .secret_id(name)
        .version_stage(PENDING)
        .move_to_version_id(V1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        labels(&t.sm, name).await,
        expect(&[(V1, &[CURRENT, PENDING])])
    );
    let r = rotate(t, name, V3).await;
    if t.departs(PendingOnCurrentRefused) {
        assert_eq!(
            r.unwrap_err(),
            "InvalidRequestException: Previous rotation request is still in progress."
        );
        return;
    }
    assert_eq!(r.unwrap().version_id(), Some(V3));
    let l = labelled(&labels(&t.sm, name).await);
    assert!(
        holder(&l, PENDING).as_deref() == Some(V3) || holder(&l, CURRENT).as_deref() == Some(V3),
        "AWSPENDING moved to the new version: {l:?}"
    );
    rotation_finishes(t, name, V3, V1).await;
}

/// RotateSecret, ClientRequestToken: "This value helps ensure idempotency.
/// Secrets Manager uses this value to prevent the accidental creation of
/// duplicate versions if there are failures and retries during a
/// rotation."
pub(crate) async fn the_same_client_request_token_is_one_rotation(t: &Target) {
    let name = "contract/rotate/idempotent";
    create(t, name).await;
    let first = rotate(t, name, V3).await.unwrap();
    assert_eq!(first.version_id(), Some(V3));
    let again = rotate(t, name, V3).await.unwrap();
    assert_eq!(again.version_id(), Some(V3), "the same answer");
    assert_eq!(again.arn(), first.arn());
    let all: BTreeSet<String> = versions(&t.sm, name, true).await.into_keys().collect();
    assert_eq!(
        all,
        BTreeSet::from([V1.to_string(), V3.to_string()]),
        "no second version"
    );
    rotation_finishes(t, name, V3, V1).await;
    // And once it is over, the same token still starts nothing.
    assert_eq!(rotate(t, name, V3).await.unwrap().version_id(), Some(V3));
    assert_eq!(versions(&t.sm, name, true).await.len(), 2);
}

/// CancelRotateSecret, API reference: "Turns off automatic rotation, and if
/// a rotation is currently in progress, cancels the rotation." / "If you
/// cancel a rotation in progress, it can leave the `VersionStage` labels in
/// an unexpected state. You might need to remove the staging label
/// `AWSPENDING` from the partially created version." Its VersionId: "The
/// unique identifier of the version of the secret created during the
/// rotation. [...] We recommend that you remove the `VersionStage` value
/// `AWSPENDING` from this version so that Secrets Manager can delete it.
/// Failing to clean up a cancelled rotation can block you from starting
/// future rotations."
pub(crate) async fn cancel_turns_rotation_off_and_leaves_awspending_where_it_is(t: &Target) {
    let name = "contract/cancel/leftover";
    failed_rotation(t, name).await;
    let before = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(before.rotation_enabled(), Some(true));
    let c =
        t.sm.cancel_rotate_secret()
            .secret_id(name)
            .send()
            .await
            .unwrap();
    if t.departs(CancelAnswersCurrentVersion) {
        assert_eq!(c.version_id(), Some(V1), "AWSCURRENT's version");
    } else {
        assert_eq!(c.version_id(), Some(V2), "the version holding AWSPENDING");
    }
    let after = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(after.rotation_enabled(), Some(false));
    assert_eq!(
        after.rotation_lambda_arn(),
        Some(t.lambda.as_str()),
        "the Lambda is kept"
    );
    let l = labelled(&labels_of(after.version_ids_to_stages()));
    assert_eq!(
        holder(&l, PENDING).as_deref(),
        Some(V2),
        "AWSPENDING stays: {l:?}"
    );
    assert_eq!(holder(&l, CURRENT).as_deref(), Some(V1));
    // Not cleaned up, it blocks the next rotation.
    if !t.departs(PendingRuleNotEnforced) {
        assert_eq!(
            rotate(t, name, V3).await.unwrap_err(),
            format!("InvalidRequestException: {NOT_COMPLETE}")
        );
    }
}

/// UpdateSecretVersionStage, API reference: "Whenever you move
/// `AWSCURRENT`, Secrets Manager automatically moves the label
/// `AWSPREVIOUS` to the version that `AWSCURRENT` was removed from."; and
/// PutSecretValue (the setup): "If you don't include `VersionStages`, then
/// Secrets Manager automatically moves the staging label `AWSCURRENT` to
/// this version."
pub(crate) async fn moving_awscurrent_moves_awsprevious(t: &Target) {
    let name = "contract/stages/roll-back";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    assert_eq!(
        labelled(&labels(&t.sm, name).await),
        expect(&[(V1, &[PREVIOUS]), (V2, &[CURRENT])])
    );
    t.sm.update_secret_version_stage()
        .secret_id(name)
        .version_stage(CURRENT)
        .move_to_version_id(V1)
        .remove_from_version_id(V2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        labelled(&labels(&t.sm, name).await),
        expect(&[(V1, &[CURRENT]), (V2, &[PREVIOUS])])
    );
}

/// UpdateSecretVersionStage, RemoveFromVersionId: "If the staging label you
/// are trying to attach to one version is already attached to a different
/// version, then you must include this parameter and specify the version
/// that the label is to be removed from. If the label is attached and you
/// either do not specify this parameter, or the version ID does not match,
/// then the operation fails."
pub(crate) async fn remove_from_a_version_without_the_label_is_refused(t: &Target) {
    let name = "contract/stages/mismatch";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    let before = labels(&t.sm, name).await;
    let stage = || {
        t.sm.update_secret_version_stage()
            .secret_id(name)
            .version_stage(CURRENT)
            .move_to_version_id(V1)
    };
    assert_eq!(
        code(stage().remove_from_version_id(V1).send().await),
        "InvalidParameterException",
        "V1 does not hold AWSCURRENT"
    );
    assert_eq!(
        code(stage().send().await),
        "InvalidParameterException",
        "AWSCURRENT is on V2, and RemoveFromVersionId is missing"
    );
    assert_eq!(labels(&t.sm, name).await, before, "nothing changed");
}

/// UpdateSecretVersionStage, API reference: "If this action results in the
/// last label being removed from a version, then the version is considered
/// to be 'deprecated' and can be deleted by Secrets Manager."
/// ListSecretVersionIds, IncludeDeprecated: "Versions without staging
/// labels are considered deprecated and are subject to deletion by Secrets
/// Manager. By default, versions without staging labels aren't included."
/// DescribeSecret, VersionIdsToStages: "A list of the versions of the
/// secret that have staging labels attached."
pub(crate) async fn a_version_left_without_labels_is_deprecated(t: &Target) {
    let name = "contract/stages/deprecated";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    t.sm.update_secret_version_stage()
        .secret_id(name)
        .version_stage(PREVIOUS)
        .remove_from_version_id(V1)
        .send()
        .await
        .unwrap();
    let all = versions(&t.sm, name, true).await;
    assert_eq!(
        all,
        expect(&[(V1, &[]), (V2, &[CURRENT])]),
        "IncludeDeprecated"
    );
    let listed = versions(&t.sm, name, false).await;
    let described = labels(&t.sm, name).await;
    if t.departs(DeprecatedVersionsListed) {
        assert_eq!(listed, all);
        assert_eq!(described, all);
        return;
    }
    assert_eq!(listed, expect(&[(V2, &[CURRENT])]));
    assert_eq!(described, expect(&[(V2, &[CURRENT])]));
}

/// CancelRotateSecret, VersionId: "We recommend that you remove the
/// `VersionStage` value `AWSPENDING` from this version so that Secrets
/// Manager can delete it. Failing to clean up a cancelled rotation can
/// block you from starting future rotations." This is the dashboard's
/// "Retry rotation": UpdateSecretVersionStage removes AWSPENDING from the
/// failed attempt's version, then RotateSecret with a fresh token starts.
pub(crate) async fn removing_awspending_lets_rotation_start_again(t: &Target) {
    let name = "contract/retry/after-clean-up";
    failed_rotation(t, name).await;
    clear_pending(t, name, V2).await;
    let l = labelled(&labels(&t.sm, name).await);
    assert!(
        !l.contains_key(V2),
        "the failed attempt's version is deprecated: {l:?}"
    );
    let r = rotate(t, name, V3).await.unwrap();
    assert_eq!(r.version_id(), Some(V3));
    rotation_finishes(t, name, V3, V1).await;
}

/// CancelRotateSecret, API reference: "To turn on automatic rotation again,
/// call `RotateSecret`." RotateSecret, RotateImmediately: "If you set
/// `RotateImmediately` to `false`, Secrets Manager tests the rotation
/// configuration by running the `testSecret` step of the Lambda rotation
/// function. This test creates an `AWSPENDING` version of the secret and
/// then removes it." This is the dashboard's "Turn rotation back on" after
/// a cancel and a clean-up.
pub(crate) async fn rotate_later_turns_rotation_back_on_without_moving_awscurrent(t: &Target) {
    let name = "contract/retry/turn-back-on";
    failed_rotation(t, name).await;
    t.sm.cancel_rotate_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    clear_pending(t, name, V2).await;
    let r = rotate_later(t, name, V4).await;
    assert!(r.version_id().is_some());
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true), "rotation is on again");
    assert!(d.next_rotation_date().is_some());
    let l = labelled(&labels_of(d.version_ids_to_stages()));
    assert_eq!(
        holder(&l, CURRENT).as_deref(),
        Some(V1),
        "AWSCURRENT did not move"
    );
    if t.departs(TestRotationLeavesPending) {
        assert_eq!(holder(&l, PENDING).as_deref(), Some(V4), "{l:?}");
        return;
    }
    assert_eq!(
        holder(&l, PENDING),
        None,
        "the test version's AWSPENDING is removed: {l:?}"
    );
}
