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

mod rotation;
mod secrets;
mod services;

pub(super) use rotation::*;
pub(super) use secrets::*;
pub(super) use services::*;
