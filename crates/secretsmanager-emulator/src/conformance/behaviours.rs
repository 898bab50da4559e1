//! The behaviours of the contract (see the module above): one function
//! each, over a [`Target`]'s SDK clients, each quoting the AWS
//! documentation it comes from. Where the target departs from AWS on a
//! point ([`Target::departs`]), the function checks the departure instead.

use super::Departure::*;
use super::{Target, ACCOUNT, EXTERNAL_ID, OTHER_ACCOUNT, REPLICA_REGION, UNTRUSTING_ACCOUNT};
use crate::LambdaBehaviour;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_secretsmanager as sm;
use sm::error::ProvideErrorMetadata;
use sm::types::{
    Filter, FilterNameStringType, ReplicaRegionType, RotationRulesType, SortByType, SortOrderType,
    Tag,
};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

const V0: &str = "00000000-0000-4000-8000-00000000c0de";
const V1: &str = "11111111-1111-4111-8111-111111111111";
const V2: &str = "22222222-2222-4222-8222-222222222222";
const V3: &str = "33333333-3333-4333-8333-333333333333";
const V4: &str = "44444444-4444-4444-8444-444444444444";
const CURRENT: &str = "AWSCURRENT";
const PENDING: &str = "AWSPENDING";
const PREVIOUS: &str = "AWSPREVIOUS";
/// RotateSecret's refusal while a previous rotation is not complete.
const NOT_COMPLETE: &str = "A previous rotation isn't complete. That rotation will be reattempted.";
const REPLICA: &str =
    "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

/// Version id → its labels (sorted), as DescribeSecret or
/// ListSecretVersionIds report them.
type Labels = BTreeMap<String, Vec<String>>;

/// Ok, or the error's code and message.
fn answered<T, E: ProvideErrorMetadata>(r: Result<T, E>) -> Result<(), (String, String)> {
    r.map(|_| ()).map_err(|e| {
        (
            e.code().unwrap_or("<no code>").to_string(),
            e.message().unwrap_or_default().to_string(),
        )
    })
}

/// The error code and message of a call that must fail.
fn error<T: std::fmt::Debug, E: ProvideErrorMetadata>(r: Result<T, E>) -> (String, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => answered::<(), E>(Err(e)).unwrap_err(),
    }
}

fn code<T: std::fmt::Debug, E: ProvideErrorMetadata>(r: Result<T, E>) -> String {
    error(r).0
}

fn labels_of(m: Option<&std::collections::HashMap<String, Vec<String>>>) -> Labels {
    m.into_iter()
        .flatten()
        .map(|(v, ls)| {
            let mut ls = ls.clone();
            ls.sort();
            (v.clone(), ls)
        })
        .collect()
}

/// DescribeSecret's VersionIdsToStages.
async fn labels(c: &sm::Client, id: &str) -> Labels {
    let d = c.describe_secret().secret_id(id).send().await.unwrap();
    labels_of(d.version_ids_to_stages())
}

/// The versions holding a label (leaving out any listed with none).
fn labelled(l: &Labels) -> Labels {
    l.iter()
        .filter(|(_, ls)| !ls.is_empty())
        .map(|(v, ls)| (v.clone(), ls.clone()))
        .collect()
}

fn holder(l: &Labels, label: &str) -> Option<String> {
    l.iter()
        .find(|(_, ls)| ls.iter().any(|x| x == label))
        .map(|(v, _)| v.clone())
}

fn expect(pairs: &[(&str, &[&str])]) -> Labels {
    pairs
        .iter()
        .map(|(v, ls)| (v.to_string(), ls.iter().map(|l| l.to_string()).collect()))
        .collect()
}

/// Every page of ListSecretVersionIds.
async fn versions(c: &sm::Client, id: &str, include_deprecated: bool) -> Labels {
    let mut out = Labels::new();
    let mut token = None;
    loop {
        let page = c
            .list_secret_version_ids()
            .secret_id(id)
            .include_deprecated(include_deprecated)
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for v in page.versions() {
            let mut ls = v.version_stages().to_vec();
            ls.sort();
            out.insert(v.version_id().unwrap().to_string(), ls);
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return out;
        }
    }
}

/// Polls `f` until it answers (at most about 30 s, then fails: the
/// behaviour never came about).
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..1500 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never: {what}");
}

fn rules() -> RotationRulesType {
    RotationRulesType::builder()
        .automatically_after_days(30)
        .build()
}

/// A secret `name` with one version, `V1`, holding AWSCURRENT.
async fn create(t: &Target, name: &str) -> String {
    let made =
        t.sm.create_secret()
            .name(name)
            .secret_string("placeholder")
            .client_request_token(V1)
            .send()
            .await
            .unwrap();
    made.arn().unwrap().to_string()
}

/// A new version `version` of `name` holding `stages` (AWSCURRENT when none).
async fn put(t: &Target, name: &str, version: &str, stages: &[&str]) {
    t.sm.put_secret_value()
        .secret_id(name)
        .secret_string("placeholder")
        .client_request_token(version)
        .set_version_stages(
            (!stages.is_empty()).then(|| stages.iter().map(|s| s.to_string()).collect()),
        )
        .send()
        .await
        .unwrap();
}

/// RotateSecret with rotation Lambda `lambda` and a 30-day schedule.
async fn rotate_by(
    t: &Target,
    name: &str,
    lambda: &str,
    token: &str,
) -> Result<sm::operation::rotate_secret::RotateSecretOutput, String> {
    t.sm.rotate_secret()
        .secret_id(name)
        .rotation_lambda_arn(lambda)
        .rotation_rules(rules())
        .client_request_token(token)
        .send()
        .await
        .map_err(|e| format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")))
}

/// RotateSecret with the target's working Lambda and a 30-day schedule.
async fn rotate(
    t: &Target,
    name: &str,
    token: &str,
) -> Result<sm::operation::rotate_secret::RotateSecretOutput, String> {
    rotate_by(t, name, &t.lambda, token).await
}

/// RotateSecret with RotateImmediately=false: rotation configured (the
/// working Lambda, a 30-day schedule) and on, nothing rotated.
async fn rotate_later(
    t: &Target,
    name: &str,
    token: &str,
) -> sm::operation::rotate_secret::RotateSecretOutput {
    t.sm.rotate_secret()
        .secret_id(name)
        .rotation_lambda_arn(&t.lambda)
        .rotation_rules(rules())
        .rotate_immediately(false)
        .client_request_token(token)
        .send()
        .await
        .unwrap()
}

/// Removes AWSPENDING from `version` (the first half of the dashboard's
/// "Retry rotation", and its "Clear pending version").
async fn clear_pending(t: &Target, name: &str, version: &str) {
    t.sm.update_secret_version_stage()
        .secret_id(name)
        .version_stage(PENDING)
        .remove_from_version_id(version)
        .send()
        .await
        .unwrap();
}

/// A secret with rotation configured and on (RotateSecret with
/// RotateImmediately=false), and a leftover AWSPENDING on `V2` while `V1`
/// holds AWSCURRENT: a rotation that failed.
async fn failed_rotation(t: &Target, name: &str) {
    create(t, name).await;
    rotate_later(t, name, V0).await;
    put(t, name, V2, &[PENDING]).await;
    let l = labelled(&labels(&t.sm, name).await);
    assert_eq!(holder(&l, CURRENT).as_deref(), Some(V1));
    assert_eq!(holder(&l, PENDING).as_deref(), Some(V2));
}

/// After RotateSecret answered `version`: the rotation Lambda finishes it,
/// so `version` takes AWSCURRENT and the one before AWSPREVIOUS.
async fn rotation_finishes(t: &Target, name: &str, version: &str, before: &str) {
    if t.departs(RotationLambdaNotRun) {
        let l = labelled(&labels(&t.sm, name).await);
        assert_eq!(holder(&l, PENDING).as_deref(), Some(version), "{l:?}");
        assert_eq!(holder(&l, CURRENT).as_deref(), Some(before), "{l:?}");
        return;
    }
    let l = eventually("the rotation finishes", || async {
        let l = labelled(&labels(&t.sm, name).await);
        (holder(&l, CURRENT).as_deref() == Some(version)).then_some(l)
    })
    .await;
    assert_eq!(holder(&l, PREVIOUS).as_deref(), Some(before), "{l:?}");
    assert_eq!(holder(&l, PENDING), None, "{l:?}");
}

/// RotateSecret, API reference: "If the `AWSPENDING` staging label is
/// present but not attached to the same version as `AWSCURRENT`, then any
/// later invocation of `RotateSecret` assumes that a previous rotation
/// request is still in progress and returns an error."
pub(super) async fn rotate_is_refused_over_a_leftover_awspending(t: &Target) {
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
pub(super) async fn awspending_on_awscurrent_does_not_block(t: &Target) {
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
pub(super) async fn the_same_client_request_token_is_one_rotation(t: &Target) {
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
pub(super) async fn cancel_turns_rotation_off_and_leaves_awspending_where_it_is(t: &Target) {
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
pub(super) async fn moving_awscurrent_moves_awsprevious(t: &Target) {
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
pub(super) async fn remove_from_a_version_without_the_label_is_refused(t: &Target) {
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
pub(super) async fn a_version_left_without_labels_is_deprecated(t: &Target) {
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
pub(super) async fn removing_awspending_lets_rotation_start_again(t: &Target) {
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
pub(super) async fn rotate_later_turns_rotation_back_on_without_moving_awscurrent(t: &Target) {
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

/// The service model (botocore's secretsmanager 2017-10-17 service-2.json)
/// gives every version id and ClientRequestToken a length of 32 to 64:
/// `"SecretVersionIdType":{"type":"string","max":64,"min":32}`,
/// `"ClientRequestTokenType":{"type":"string","max":64,"min":32}`; a request
/// outside the model is a ValidationException, whatever the secret, and
/// changes nothing. A well-formed id the secret does not have:
/// ResourceNotFoundException, "Secrets Manager can't find the resource that
/// you asked for."
pub(super) async fn version_ids_are_32_to_64_characters(t: &Target) {
    let name = "contract/stages/ids";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    let unknown =
        t.sm.update_secret_version_stage()
            .secret_id(name)
            .version_stage("contract")
            .move_to_version_id("99999999-9999-4999-8999-999999999999")
            .send()
            .await;
    if t.departs(UnknownVersionInvalidParameter) {
        let (code, message) = error(unknown);
        assert_eq!(code, "InvalidParameterException");
        assert!(message.contains("Not a valid version"), "{message}");
    } else {
        assert_eq!(code(unknown), "ResourceNotFoundException");
    }
    let short = "not-a-version";
    let long = "x".repeat(65);
    let stage = |secret: &str| {
        t.sm.update_secret_version_stage()
            .secret_id(secret)
            .version_stage(CURRENT)
    };
    let model = [
        stage(name)
            .move_to_version_id(short)
            .remove_from_version_id(V2)
            .send()
            .await,
        stage(name)
            .move_to_version_id(&long)
            .remove_from_version_id(V2)
            .send()
            .await,
        stage(name)
            .move_to_version_id(V1)
            .remove_from_version_id(short)
            .send()
            .await,
        stage("contract/no/such/secret")
            .move_to_version_id(short)
            .send()
            .await,
    ];
    let rotated =
        t.sm.rotate_secret()
            .secret_id(name)
            .rotation_lambda_arn(&t.lambda)
            .client_request_token("too-short")
            .send()
            .await;
    if t.departs(NoModelValidation) {
        let codes: Vec<String> = model.into_iter().map(code).collect();
        assert_eq!(
            codes,
            [
                "InvalidParameterException",
                "InvalidParameterException",
                "InvalidParameterException",
                "ResourceNotFoundException"
            ],
            "looked up, not validated"
        );
        assert_eq!(code(rotated), "InvalidParameterException");
    } else {
        for (r, field) in model.into_iter().zip([
            "moveToVersionId",
            "moveToVersionId",
            "removeFromVersionId",
            "moveToVersionId",
        ]) {
            let (code, message) = error(r);
            assert_eq!(code, "ValidationException", "{field}: {message}");
            assert!(
                message.contains(&format!("'{field}' failed to satisfy constraint")),
                "{message}"
            );
        }
        let (code, message) = error(rotated);
        assert_eq!(code, "ValidationException");
        assert!(message.contains("clientRequestToken"), "{message}");
    }
    if t.departs(RefusedStageChangeApplied) {
        assert_eq!(
            labelled(&labels(&t.sm, name).await),
            expect(&[(V1, &[PREVIOUS])]),
            "the refused calls took AWSCURRENT off V2"
        );
        return;
    }
    assert_eq!(
        labelled(&labels(&t.sm, name).await),
        expect(&[(V1, &[PREVIOUS]), (V2, &[CURRENT])]),
        "nothing changed"
    );
}

/// InvalidRequestException, API reference: "A parameter value is not valid
/// for the current state of the resource. Possible causes: [...] The secret
/// is scheduled for deletion." RestoreSecret: "Cancels the scheduled
/// deletion of a secret by removing the `DeletedDate` time stamp. You can
/// access a secret again after it has been restored."
pub(super) async fn a_secret_scheduled_for_deletion_refuses_changes_until_restored(t: &Target) {
    let name = "contract/deleted/db";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    t.sm.delete_secret()
        .secret_id(name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert!(d.deleted_date().is_some());
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let refused = rotate(t, name, V3).await.unwrap_err();
    assert!(
        refused.starts_with("InvalidRequestException: "),
        "{refused}"
    );
    assert_eq!(
        code(t.sm.cancel_rotate_secret().secret_id(name).send().await),
        "InvalidRequestException"
    );
    let changes = [
        answered(
            t.sm.update_secret_version_stage()
                .secret_id(name)
                .version_stage(CURRENT)
                .move_to_version_id(V1)
                .remove_from_version_id(V2)
                .send()
                .await,
        ),
        answered(
            t.sm.put_resource_policy()
                .secret_id(name)
                .resource_policy(policy)
                .send()
                .await,
        ),
        answered(t.sm.delete_resource_policy().secret_id(name).send().await),
    ];
    let codes: Vec<String> = changes
        .into_iter()
        .map(|r| r.err().map(|(code, _)| code).unwrap_or_default())
        .collect();
    if t.departs(DeletedSecretsChangeable) {
        assert_eq!(codes, ["", "", ""], "each succeeded");
    } else {
        assert_eq!(codes, ["InvalidRequestException"; 3]);
        assert_eq!(
            labelled(&labels(&t.sm, name).await),
            expect(&[(V1, &[PREVIOUS]), (V2, &[CURRENT])])
        );
    }
    t.sm.restore_secret().secret_id(name).send().await.unwrap();
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert!(d.deleted_date().is_none(), "restored");
    // Restored, it can be changed again.
    t.sm.put_resource_policy()
        .secret_id(name)
        .resource_policy(policy)
        .send()
        .await
        .unwrap();
}

/// User guide, "Promote a replica secret to a standalone secret": "A
/// replica secret can't be updated independently from its primary secret,
/// except for its encryption key." ("Replicate a secret to other Regions":
/// "If you turn on rotation for your primary secret, Secrets Manager
/// rotates the secret in the primary Region, and the new secret value
/// propagates to all of the associated replica secrets.") AWS answers
/// InvalidParameterException, "Operation not permitted on a replica secret.
/// Call must be made in primary secret's region." (as real accounts report
/// it: gruntwork-io/cloud-nuke#435, lgallard/terraform-aws-secrets-manager#188).
pub(super) async fn a_replica_refuses_changes_in_its_region(t: &Target) {
    let name = "contract/replicated/api-key";
    let primary =
        t.sm.create_secret()
            .name(name)
            .secret_string("placeholder")
            .client_request_token(V1)
            .add_replica_regions(ReplicaRegionType::builder().region(REPLICA_REGION).build())
            .send()
            .await
            .unwrap();
    let d = t
        .replica
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.primary_region(),
        Some(super::REGION),
        "a replica of the primary"
    );
    assert!(d
        .arn()
        .unwrap()
        .contains(&format!(":{REPLICA_REGION}:{ACCOUNT}:secret:{name}-")));
    assert_ne!(d.arn(), primary.arn());
    let p = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    let replicas: Vec<(&str, &str)> = p
        .replication_status()
        .iter()
        .map(|r| {
            (
                r.region().unwrap_or_default(),
                r.status().map_or("", |s| s.as_str()),
            )
        })
        .collect();
    assert_eq!(replicas, [(REPLICA_REGION, "InSync")]);

    let c = &t.replica;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let refused = [
        (
            "RotateSecret",
            answered(
                c.rotate_secret()
                    .secret_id(name)
                    .rotation_lambda_arn(&t.lambda)
                    .send()
                    .await,
            ),
        ),
        (
            "CancelRotateSecret",
            answered(c.cancel_rotate_secret().secret_id(name).send().await),
        ),
        (
            "RestoreSecret",
            answered(c.restore_secret().secret_id(name).send().await),
        ),
        (
            "PutResourcePolicy",
            answered(
                c.put_resource_policy()
                    .secret_id(name)
                    .resource_policy(policy)
                    .send()
                    .await,
            ),
        ),
        (
            "DeleteResourcePolicy",
            answered(c.delete_resource_policy().secret_id(name).send().await),
        ),
    ];
    for (op, r) in refused {
        let (code, message) = r.expect_err(op);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", REPLICA),
            "{op}"
        );
    }
    let staged = c
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("contract")
        .move_to_version_id(V1)
        .send()
        .await;
    if t.departs(ReplicaStagesChangeable) {
        staged.expect("moto changes the labels through the replica");
        return;
    }
    let (code, message) = error(staged);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterException", REPLICA)
    );
    assert_eq!(
        labels(&t.sm, name).await,
        expect(&[(V1, &[CURRENT])]),
        "the primary is unchanged"
    );
}

/// ListSecrets, API reference: "Lists the secrets that are stored by
/// Secrets Manager in the Amazon Web Services account, not including
/// secrets that are marked for deletion." IncludePlannedDeletion:
/// "Specifies whether to include secrets scheduled for deletion. By
/// default, secrets scheduled for deletion aren't included." NextToken: "If
/// there are more results available, in the response, Secrets Manager
/// includes `NextToken`. To get the next results, call `ListSecrets` again
/// with the value from `NextToken`." SortBy: "If not specified, secrets are
/// listed by `CreatedDate`." The dashboard pages with MaxResults and
/// IncludePlannedDeletion=true; the name filter and SortBy are for other
/// clients of the demo endpoint (the aws CLI, boto3).
pub(super) async fn list_secrets_pages_and_leaves_out_deleted_secrets_unless_asked(t: &Target) {
    let prefix = "contract/list/";
    let made = ["c", "a", "e", "b", "d"];
    for n in made {
        t.sm.create_secret()
            .name(format!("{prefix}{n}"))
            .secret_string("placeholder")
            .send()
            .await
            .unwrap();
    }
    t.sm.delete_secret()
        .secret_id(format!("{prefix}e"))
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let list = |include_deleted: bool, filter: bool, sort: Option<SortOrderType>| async move {
        let mut names = Vec::new();
        let mut deleted = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let mut req =
                t.sm.list_secrets()
                    .max_results(2)
                    .include_planned_deletion(include_deleted)
                    .set_next_token(token.take());
            if filter {
                req = req.filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(prefix)
                        .build(),
                );
            }
            if let Some(order) = &sort {
                req = req.sort_by(SortByType::Name).sort_order(order.clone());
            }
            let page = req.send().await.unwrap();
            assert!(page.secret_list().len() <= 2);
            for e in page.secret_list() {
                let n = e.name().unwrap().to_string();
                if let Some(short) = n.strip_prefix(prefix) {
                    if e.deleted_date().is_some() {
                        deleted.insert(short.to_string());
                    }
                    names.push(short.to_string());
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return (names, deleted),
            }
        }
    };
    let (live, deleted) = list(false, false, None).await;
    assert_eq!(
        live,
        ["c", "a", "b", "d"],
        "in creation order, the deleted one left out"
    );
    assert!(deleted.is_empty());
    let (all, deleted) = list(true, false, None).await;
    assert_eq!(all, made, "every page once, the deleted one too");
    assert_eq!(deleted, BTreeSet::from(["e".to_string()]));
    let (filtered, _) = list(true, true, None).await;
    assert_eq!(filtered, made, "the name filter");
    let (by_name, _) = list(true, true, Some(SortOrderType::Desc)).await;
    if t.departs(SortByIgnored) {
        assert_eq!(by_name, made, "creation order still");
        return;
    }
    assert_eq!(by_name, ["e", "d", "c", "b", "a"]);
}

/// DescribeSecret, API reference: "Retrieves the details of a secret. It
/// does not include the encrypted secret value. Secrets Manager only
/// returns fields that have a value in the response." The fields the
/// dashboard reads: ARN, Name, Description, KmsKeyId (absent for the
/// default key), RotationEnabled, RotationLambdaARN, RotationRules,
/// LastChangedDate, DeletedDate, NextRotationDate, Tags, VersionIdsToStages,
/// CreatedDate, PrimaryRegion ("The Region the secret is in.").
pub(super) async fn describe_secret_reports_what_the_dashboard_reads(t: &Target) {
    let name = "contract/describe/db";
    let made =
        t.sm.create_secret()
            .name(name)
            .description("Orders database. Owner: alice@example.com")
            .secret_string("placeholder")
            .client_request_token(V1)
            .tags(
                Tag::builder()
                    .key("owner")
                    .value("alice@example.com")
                    .build(),
            )
            .tags(Tag::builder().key("team").value("orders").build())
            .send()
            .await
            .unwrap();
    rotate_later(t, name, V0).await;
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(d.arn(), made.arn());
    assert!(d.arn().unwrap().starts_with(&format!(
        "arn:aws:secretsmanager:{}:{ACCOUNT}:secret:{name}-",
        super::REGION
    )));
    assert_eq!(d.name(), Some(name));
    assert_eq!(
        d.description(),
        Some("Orders database. Owner: alice@example.com")
    );
    assert_eq!(d.kms_key_id(), None, "the default key is not named");
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(d.rotation_lambda_arn(), Some(t.lambda.as_str()));
    assert_eq!(
        d.rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(30)
    );
    assert!(d.next_rotation_date().is_some());
    assert!(d.last_changed_date().is_some());
    assert!(d.created_date().is_some());
    assert!(d.deleted_date().is_none());
    assert_eq!(d.owning_service(), None);
    let tags: BTreeMap<&str, &str> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(
        tags,
        BTreeMap::from([("owner", "alice@example.com"), ("team", "orders")])
    );
    assert_eq!(
        holder(&labels_of(d.version_ids_to_stages()), CURRENT).as_deref(),
        Some(V1)
    );
    if t.departs(PrimaryRegionOnlyWhenReplicated) {
        assert_eq!(d.primary_region(), None);
    } else {
        assert_eq!(d.primary_region(), Some(super::REGION));
    }
    assert!(d.replication_status().is_empty());
    // By partial ARN (without the random suffix), too.
    let arn = d.arn().unwrap();
    let partial = &arn[..arn.len() - 7];
    let again =
        t.sm.describe_secret()
            .secret_id(partial)
            .send()
            .await
            .unwrap();
    assert_eq!(again.arn(), d.arn());
    assert_eq!(
        code(
            t.sm.describe_secret()
                .secret_id("contract/no/such/secret")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
}

/// GetResourcePolicy, API reference: "Retrieves the JSON text of the
/// resource-based policy document attached to the secret."
/// PutResourcePolicy: "Attaches a resource-based permission policy to a
/// secret." BlockPublicPolicy: "Specifies whether to block resource-based
/// policies that allow broad access to the secret, for example those that
/// use a wildcard for the principal." DeleteResourcePolicy: "Deletes the
/// resource-based permission policy attached to the secret."
/// ValidateResourcePolicy: "Validates that a resource policy does not grant
/// a wide range of principals access to your secret."; its
/// PolicyValidationPassed: "True if your policy passes validation,
/// otherwise false." (The dashboard validates, then puts with
/// BlockPublicPolicy, to grant access; deletes when nothing is left.)
pub(super) async fn resource_policies_are_read_written_deleted_and_validated(t: &Target) {
    let name = "contract/policy/db";
    create(t, name).await;
    let get = || async {
        t.sm.get_resource_policy()
            .secret_id(name)
            .send()
            .await
            .unwrap()
            .resource_policy()
            .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
    };
    assert_eq!(get().await, None, "no policy yet");
    let grant = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "secretscope-grant",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/reader")},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    });
    let public = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]
    });
    let validate = |p: &serde_json::Value| {
        t.sm.validate_resource_policy()
            .secret_id(name)
            .resource_policy(p.to_string())
            .send()
    };
    let (granted, broad) = (validate(&grant).await, validate(&public).await);
    if t.departs(ValidateResourcePolicyMissing) {
        assert!(granted.is_err() && broad.is_err());
    } else {
        assert!(granted.unwrap().policy_validation_passed);
        let broad = broad.unwrap();
        assert!(!broad.policy_validation_passed);
        assert!(!broad.validation_errors().is_empty());
    }
    t.sm.put_resource_policy()
        .secret_id(name)
        .resource_policy(grant.to_string())
        .block_public_policy(true)
        .send()
        .await
        .unwrap();
    assert_eq!(get().await, Some(grant.clone()));
    let blocked =
        t.sm.put_resource_policy()
            .secret_id(name)
            .resource_policy(public.to_string())
            .block_public_policy(true)
            .send()
            .await;
    if t.departs(PublicPolicyNotBlocked) {
        blocked.unwrap();
        assert_eq!(get().await, Some(public));
    } else {
        assert_eq!(code(blocked), "PublicPolicyException");
        assert_eq!(get().await, Some(grant), "unchanged");
    }
    t.sm.delete_resource_policy()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert_eq!(get().await, None);
}

/// Every event LookupEvents holds for `arn`, all pages of one event each:
/// (name, CloudTrailEvent record), in the order returned.
async fn trail_of(t: &Target, arn: &str) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = t
            .trail
            .lookup_events()
            .lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(LookupAttributeKey::ResourceName)
                    .attribute_value(arn)
                    .build()
                    .unwrap(),
            )
            .max_results(1)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        assert!(page.events().len() <= 1);
        for e in page.events() {
            assert!(
                ids.insert(e.event_id().unwrap().to_string()),
                "no event twice"
            );
            let record = serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap();
            out.push((e.event_name().unwrap().to_string(), record));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return out,
        }
    }
}

/// User guide, "Log Secrets Manager events with CloudTrail": "RotationFailed:
/// Generated when rotation fails." LookupEvents, API reference: "The events
/// list is sorted by time. The most recent event is listed first."
/// NextToken: "The token to use to get the next page of results after a
/// previous API call. If the token does not appear, there are no more
/// results to return." (The dashboard reads each failure's step from the
/// record's errorMessage.)
pub(super) async fn cloudtrail_pages_rotation_events_with_the_failure(t: &Target) {
    if t.departs(NoLookupEvents) {
        assert!(t.trail.lookup_events().max_results(5).send().await.is_err());
        return;
    }
    let name = "contract/trail/db";
    let arn = create(t, name).await;
    rotate_by(t, name, &t.demo_lambda(LambdaBehaviour::FailTest), V3)
        .await
        .unwrap();
    let events = eventually("RotationFailed is on the trail", || async {
        let events = trail_of(t, &arn).await;
        events
            .iter()
            .any(|(n, _)| n == "RotationFailed")
            .then_some(events)
    })
    .await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let oldest: Vec<&str> = names.iter().rev().take(3).copied().collect();
    assert_eq!(
        oldest,
        ["RotateSecret", "RotationStarted", "RotationFailed"],
        "{names:?}"
    );
    let times: Vec<&str> = events
        .iter()
        .map(|(_, r)| r["eventTime"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let (_, failed) = events
        .iter()
        .rev()
        .find(|(n, _)| n == "RotationFailed")
        .unwrap();
    assert_eq!(failed["eventSource"], "secretsmanager.amazonaws.com");
    assert_eq!(failed["eventType"], "AwsServiceEvent");
    assert_eq!(failed["additionalEventData"]["SecretId"], arn.as_str());
    let message = failed["errorMessage"].as_str().unwrap();
    assert!(message.contains("failed at testSecret: "), "{message}");
    let (_, call) = events
        .iter()
        .rev()
        .find(|(n, _)| n == "RotateSecret")
        .unwrap();
    assert_eq!(call["responseElements"]["versionId"], V3);
}

/// STS AssumeRole, API reference: "Returns a set of temporary security
/// credentials that you can use to access Amazon Web Services resources.
/// These temporary credentials consist of an access key ID, a secret access
/// key, and a security token." / "To assume a role from a different account,
/// your Amazon Web Services account must be trusted by the role." STS's
/// service model (botocore sts 2011-06-15): `"roleSessionNameType":
/// {"min":2, "max":64, "pattern":"[\w+=,.@-]*"}` (the dashboard sends the
/// configured session name).
pub(super) async fn assume_role_answers_credentials_for_a_trusting_role(t: &Target) {
    use aws_config::sts::AssumeRoleProvider;
    let role = super::role_arn(OTHER_ACCOUNT);
    let provider = AssumeRoleProvider::builder(&role)
        .session_name("secretscope-contract")
        .external_id(EXTERNAL_ID)
        .configure(&t.base)
        .build()
        .await;
    let creds = provider
        .provide_credentials()
        .await
        .expect("AssumeRole answers");
    assert!(!creds.access_key_id().is_empty());
    assert!(!creds.secret_access_key().is_empty());
    assert!(creds.session_token().is_some_and(|s| !s.is_empty()));
    assert!(creds.expiry().is_some());
    // The credentials reach the role's account.
    let sdk = t
        .base
        .clone()
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build();
    let other = sm::Client::new(&sdk);
    let made = other
        .create_secret()
        .name("contract/sts/db")
        .secret_string("placeholder")
        .send()
        .await
        .unwrap();
    assert!(
        made.arn()
            .unwrap()
            .contains(&format!(":{OTHER_ACCOUNT}:secret:")),
        "{made:?}"
    );
    let untrusting = AssumeRoleProvider::builder(super::role_arn(UNTRUSTING_ACCOUNT))
        .session_name("secretscope-contract")
        .configure(&t.base)
        .build()
        .await;
    let refused = untrusting.provide_credentials().await;
    let nameless = AssumeRoleProvider::builder(super::role_arn(OTHER_ACCOUNT))
        .session_name("s")
        .external_id(EXTERNAL_ID)
        .configure(&t.base)
        .build()
        .await
        .provide_credentials()
        .await;
    if t.departs(NoModelValidation) {
        nameless.expect("moto takes a one-character session name");
    } else {
        let e = format!(
            "{:?}",
            nameless.expect_err("a session name under 2 characters")
        );
        assert!(
            e.contains("ValidationError") && e.contains("roleSessionName"),
            "{e}"
        );
    }
    if t.departs(NoTrustPolicies) {
        refused.expect("moto trusts every caller");
    } else {
        let e = format!(
            "{:?}",
            refused.expect_err("the role does not trust the caller")
        );
        assert!(e.contains("AccessDenied"), "{e}");
    }
}

/// User guide, "Rotate secrets": "If any rotation step fails, Secrets
/// Manager retries the entire rotation process multiple times."
/// (DescribeSecret, NextRotationDate: "If rotation fails, Secrets Manager
/// retries the entire rotation process multiple times.") The same rotation:
/// its version keeps AWSPENDING, and no RotateSecret call is made; each
/// failed attempt is a RotationFailed of its own; a retry that succeeds
/// promotes the version; a cancelled rotation is not retried.
pub(super) async fn secrets_manager_retries_a_failed_rotation_itself(t: &Target) {
    if t.departs(NoServiceRetries) {
        return;
    }
    let count = |events: &[(String, serde_json::Value)], name: &str| {
        events.iter().filter(|(n, _)| n == name).count()
    };
    // A Lambda that fails once: Secrets Manager's retry promotes the version.
    let flaky = "contract/retries/flaky";
    let arn = create(t, flaky).await;
    rotate_by(t, flaky, &t.demo_lambda(LambdaBehaviour::Flaky), V3)
        .await
        .unwrap();
    rotation_finishes(t, flaky, V3, V1).await;
    let events = trail_of(t, &arn).await;
    assert_eq!(count(&events, "RotateSecret"), 1, "one call");
    assert_eq!(count(&events, "RotationFailed"), 1);
    assert_eq!(
        count(&events, "RotationStarted"),
        2,
        "the retry started by itself"
    );
    assert_eq!(count(&events, "RotationSucceeded"), 1);

    // A Lambda that always fails: retried a bounded number of times, the
    // same version holding AWSPENDING all along.
    let broken = "contract/retries/broken";
    let arn = create(t, broken).await;
    rotate_by(t, broken, &t.demo_lambda(LambdaBehaviour::FailFinish), V3)
        .await
        .unwrap();
    let attempts = 1 + t.service_retries as usize;
    let events = eventually("every retry failed", || async {
        let events = trail_of(t, &arn).await;
        (count(&events, "RotationFailed") == attempts).then_some(events)
    })
    .await;
    assert_eq!(count(&events, "RotateSecret"), 1);
    for (_, failed) in events.iter().filter(|(n, _)| n == "RotationFailed") {
        let m = failed["errorMessage"].as_str().unwrap();
        assert!(m.contains("failed at finishSecret: "), "{m}");
    }
    let l = labelled(&labels(&t.sm, broken).await);
    assert_eq!(l, expect(&[(V1, &[CURRENT]), (V3, &[PENDING])]));
    // However long one waits, no more than that.
    tokio::time::sleep(super::DEMO_RETRY_DELAY * 3).await;
    assert_eq!(count(&trail_of(t, &arn).await, "RotationFailed"), attempts);

    // A cancelled rotation is not retried.
    let cancelled = "contract/retries/cancelled";
    let arn = create(t, cancelled).await;
    rotate_by(
        t,
        cancelled,
        &t.demo_lambda(LambdaBehaviour::FailCreate),
        V3,
    )
    .await
    .unwrap();
    eventually("the rotation failed", || async {
        (count(&trail_of(t, &arn).await, "RotationFailed") == 1).then_some(())
    })
    .await;
    t.sm.cancel_rotate_secret()
        .secret_id(cancelled)
        .send()
        .await
        .unwrap();
    let started = count(&trail_of(t, &arn).await, "RotationStarted");
    tokio::time::sleep(super::DEMO_RETRY_DELAY * 3).await;
    let events = trail_of(t, &arn).await;
    assert_eq!(
        count(&events, "RotationStarted"),
        started,
        "not retried after the cancel"
    );
    let l = labelled(&labels(&t.sm, cancelled).await);
    assert_eq!(
        holder(&l, PENDING).as_deref(),
        Some(V3),
        "createSecret failed, its version kept AWSPENDING"
    );
}
