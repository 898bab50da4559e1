//! The conformance contract: each behaviour of Secrets Manager, CloudTrail
//! and STS that the dashboard relies on, written down once (in
//! [`behaviours`]) as a function over the real AWS SDK clients, each with
//! the sentence of AWS's API reference or user guide it comes from, and
//! run against two implementations:
//!
//! - the demo endpoint (this crate), which must meet the
//!   whole contract: it is the emulator, and AWS's documentation is its
//!   oracle (DESIGN.md, rule 8);
//! - moto_server, an independent implementation, which meets it except
//!   where it departs from AWS's documentation. Its departures are listed,
//!   with why, in [`MOTO_DEPARTURES`]; on those points the moto run checks
//!   that moto still behaves as listed (or skips, where it cannot be
//!   asked), so the list stays true: every listed departure must be met
//!   by the run, and a departure moto no longer has fails it.
//!
//! Each behaviour makes the secrets it needs through the SDK (CreateSecret,
//! PutSecretValue: setup only; the dashboard itself never writes or reads a
//! value) under its own names, so they share one server per target.

mod behaviours;
pub(crate) use crate::testing::moto;

use crate::org::{role_arn, OrgOptions, RoleSpec, TenantSpec};
use crate::{seed, spawn_org, LambdaBehaviour, LocalOptions, RunningEndpoint};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_cloudtrail as ct;
use aws_sdk_secretsmanager as sm;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sm::config::{Credentials, Region};
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::Duration;

/// The account the base credentials reach, in both implementations.
pub(super) const ACCOUNT: &str = "123456789012";
pub(super) const REGION: &str = "us-east-1";
/// Where replicas are made.
pub(super) const REPLICA_REGION: &str = "eu-west-1";
/// An account reached by assuming its role (trusting, with an external id).
pub(super) const OTHER_ACCOUNT: &str = "111122223333";
pub(super) const EXTERNAL_ID: &str = "secretscope-contract";
/// An account whose role does not trust the caller.
pub(super) const UNTRUSTING_ACCOUNT: &str = "444455556666";

/// A point where an implementation departs from AWS's documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Departure {
    PendingRuleNotEnforced,
    PendingOnCurrentRefused,
    CancelAnswersCurrentVersion,
    DeprecatedVersionsListed,
    NoModelValidation,
    UnknownVersionInvalidParameter,
    RefusedStageChangeApplied,
    DeletedSecretsChangeable,
    ReplicaStagesChangeable,
    PrimaryRegionOnlyWhenReplicated,
    SortByIgnored,
    PublicPolicyNotBlocked,
    ValidateResourcePolicyMissing,
    RotationLambdaNotRun,
    TestRotationLeavesPending,
    NoLookupEvents,
    NoTrustPolicies,
    NoServiceRetries,
}

/// Where moto_server (5.x, as `.ci/setup` installs it) departs from AWS's
/// documentation, and why. The moto run asserts each is still so.
pub(super) const MOTO_DEPARTURES: &[(Departure, &str)] = &[
    (
        Departure::PendingRuleNotEnforced,
        "moto checks the AWSPENDING rule the wrong way round: it starts a rotation over a leftover \
         AWSPENDING (moving the label to its new version), which AWS refuses",
    ),
    (
        Departure::PendingOnCurrentRefused,
        "by the same inverted check, moto refuses RotateSecret when AWSPENDING shares AWSCURRENT's \
         version ('Previous rotation request is still in progress.'), the state AWS documents as a \
         finished rotation",
    ),
    (
        Departure::CancelAnswersCurrentVersion,
        "CancelRotateSecret's VersionId is moto's default version (AWSCURRENT's), not the version \
         of the cancelled rotation that holds AWSPENDING",
    ),
    (
        Departure::DeprecatedVersionsListed,
        "ListSecretVersionIds ignores IncludeDeprecated (versions without a label are always \
         listed) and DescribeSecret lists them in VersionIdsToStages with no labels",
    ),
    (
        Departure::NoModelValidation,
        "moto does not check the service models' length constraints: a version id or \
         ClientRequestToken of the wrong length is looked up or refused with \
         InvalidParameterException, where AWS answers ValidationException before any lookup; \
         STS takes a one-character RoleSessionName",
    ),
    (
        Departure::UnknownVersionInvalidParameter,
        "a well-formed version id the secret does not have is InvalidParameterException ('Not a \
         valid version'), not ResourceNotFoundException",
    ),
    (
        Departure::RefusedStageChangeApplied,
        "UpdateSecretVersionStage takes the label off RemoveFromVersionId before it checks \
         MoveToVersionId, so a call refused for its MoveToVersionId still removes the label: \
         the secret can be left with no AWSCURRENT",
    ),
    (
        Departure::DeletedSecretsChangeable,
        "UpdateSecretVersionStage, PutResourcePolicy and DeleteResourcePolicy succeed on a secret \
         scheduled for deletion (RotateSecret and CancelRotateSecret are refused, as on AWS)",
    ),
    (
        Departure::ReplicaStagesChangeable,
        "UpdateSecretVersionStage is not refused on a replica (the other changes are, with AWS's \
         InvalidParameterException and text)",
    ),
    (
        Departure::PrimaryRegionOnlyWhenReplicated,
        "DescribeSecret leaves out PrimaryRegion unless the secret has replicas (AWS: 'The Region \
         the secret is in.')",
    ),
    (
        Departure::SortByIgnored,
        "ListSecrets ignores SortBy and SortOrder: secrets always come in creation order",
    ),
    (
        Departure::PublicPolicyNotBlocked,
        "PutResourcePolicy ignores BlockPublicPolicy and stores a policy that allows everyone",
    ),
    (
        Departure::ValidateResourcePolicyMissing,
        "ValidateResourcePolicy is not implemented (moto answers a server error)",
    ),
    (
        Departure::RotationLambdaNotRun,
        "moto invokes a rotation Lambda without running it (with Docker off its Lambda backend \
         answers every invocation with a canned success), so nothing tests or finishes the new \
         version: it keeps AWSPENDING and AWSCURRENT never moves",
    ),
    (
        Departure::TestRotationLeavesPending,
        "RotateSecret with RotateImmediately=false leaves its test version holding AWSPENDING \
         instead of removing it, which then blocks nothing in moto but would in AWS",
    ),
    (
        Departure::NoLookupEvents,
        "moto's CloudTrail has no LookupEvents (it answers an error) and records no Secrets \
         Manager events",
    ),
    (
        Departure::NoTrustPolicies,
        "moto's STS AssumeRole hands out credentials for any role: no trust policy is evaluated",
    ),
    (
        Departure::NoServiceRetries,
        "moto runs no rotation Lambda, so no rotation fails and Secrets Manager's own retries \
         never happen: not asked of moto",
    ),
];

/// One implementation under the contract, with the clients the dashboard
/// would use against it.
pub(super) struct Target {
    pub name: &'static str,
    /// The base credentials in [`REGION`].
    pub base: SdkConfig,
    pub sm: sm::Client,
    /// The same credentials in [`REPLICA_REGION`].
    pub replica: sm::Client,
    pub trail: ct::Client,
    /// A rotation Lambda that does its work.
    pub lambda: String,
    /// How Secrets Manager retries failed rotations here (for the
    /// behaviours that wait for it).
    pub service_retries: u32,
    departures: &'static [(Departure, &'static str)],
    met: Mutex<BTreeSet<Departure>>,
}

impl Target {
    /// True when this implementation departs from AWS on `d` (and the
    /// behaviour asking then checks the departure instead).
    pub fn departs(&self, d: Departure) -> bool {
        let listed = self.departures.iter().any(|(x, _)| *x == d);
        if listed {
            self.met.lock().unwrap_or_else(|e| e.into_inner()).insert(d);
        }
        listed
    }

    /// A rotation Lambda of the demo endpoint that behaves as `b` (its
    /// behaviour is in its name, see `local::rotation`).
    pub fn demo_lambda(&self, b: LambdaBehaviour) -> String {
        seed::lambda_arn(REGION, ACCOUNT, b, "contract")
    }
}

/// The base SDK configuration against `url` in `region`.
async fn sdk(url: &str, region: &'static str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .load()
        .await
}

async fn target(
    name: &'static str,
    url: String,
    lambda: String,
    service_retries: u32,
    departures: &'static [(Departure, &'static str)],
) -> Target {
    let base = sdk(&url, REGION).await;
    let replica = sm::Client::new(&sdk(&url, REPLICA_REGION).await);
    Target {
        name,
        sm: sm::Client::new(&base),
        trail: ct::Client::new(&base),
        replica,
        base,
        lambda,
        service_retries,
        departures,
        met: Mutex::new(BTreeSet::new()),
    }
}

/// The wait before the demo endpoint's Secrets Manager retries a failed
/// rotation, here: short, so that the retries happen while the test waits.
const DEMO_RETRY_DELAY: Duration = Duration::from_millis(200);
const DEMO_RETRIES: u32 = 2;

/// The demo organisation the contract runs on: empty accounts, the one
/// the base credentials reach in two regions, one reached by a trusting
/// role, one whose role does not trust.
async fn demo() -> (RunningEndpoint, Target) {
    let tenant = |account: &str, region: &str| TenantSpec {
        account: account.into(),
        region: region.into(),
        seed_secrets: 0,
        seed: 1,
    };
    let opts = OrgOptions {
        base: LocalOptions {
            seed_secrets: 0,
            rotation_step: Duration::from_millis(20),
            service_retry_delay: DEMO_RETRY_DELAY,
            service_retries: DEMO_RETRIES,
            ..LocalOptions::default()
        },
        tenants: vec![
            tenant(ACCOUNT, REGION),
            tenant(ACCOUNT, REPLICA_REGION),
            tenant(OTHER_ACCOUNT, REGION),
        ],
        roles: vec![
            RoleSpec {
                arn: role_arn(OTHER_ACCOUNT),
                external_id: Some(EXTERNAL_ID.into()),
                trusted: true,
            },
            RoleSpec {
                arn: role_arn(UNTRUSTING_ACCOUNT),
                external_id: None,
                trusted: false,
            },
        ],
        denied_actions: Default::default(),
    };
    let ep = spawn_org(opts, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the demo endpoint starts");
    let lambda = seed::lambda_arn(REGION, ACCOUNT, LambdaBehaviour::Ok, "contract");
    let t = target("demo endpoint", ep.url(), lambda, DEMO_RETRIES, &[]).await;
    (ep, t)
}

/// A contract behaviour: an async function of a [`Target`].
type Behaviour = for<'a> fn(&'a Target) -> BoxFuture<'a, ()>;

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        /// Every behaviour of the contract, by name.
        const CONTRACT: &[(&str, Behaviour)] = &[
            $((stringify!($name), |t| Box::pin(behaviours::$name(t)))),*
        ];
    };
}

contract![
    rotate_is_refused_over_a_leftover_awspending,
    awspending_on_awscurrent_does_not_block,
    the_same_client_request_token_is_one_rotation,
    cancel_turns_rotation_off_and_leaves_awspending_where_it_is,
    moving_awscurrent_moves_awsprevious,
    remove_from_a_version_without_the_label_is_refused,
    a_version_left_without_labels_is_deprecated,
    removing_awspending_lets_rotation_start_again,
    rotate_later_turns_rotation_back_on_without_moving_awscurrent,
    version_ids_are_32_to_64_characters,
    a_secret_scheduled_for_deletion_refuses_changes_until_restored,
    a_replica_refuses_changes_in_its_region,
    list_secrets_pages_and_leaves_out_deleted_secrets_unless_asked,
    describe_secret_reports_what_the_dashboard_reads,
    resource_policies_are_read_written_deleted_and_validated,
    cloudtrail_pages_rotation_events_with_the_failure,
    assume_role_answers_credentials_for_a_trusting_role,
    secrets_manager_retries_a_failed_rotation_itself,
];

/// Runs every behaviour on `t` (each to its end, whatever the others do)
/// and fails with the list of those that failed.
async fn run(t: &Target) {
    let mut failed = Vec::new();
    for (name, behaviour) in CONTRACT {
        if let Err(e) = AssertUnwindSafe(behaviour(t)).catch_unwind().await {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} does not meet the contract in {} of {} behaviours:\n{}",
        t.name,
        failed.len(),
        CONTRACT.len(),
        failed.join("\n")
    );
}

#[tokio::test]
async fn the_demo_endpoint_meets_the_whole_contract() {
    let (_ep, t) = demo().await;
    run(&t).await;
    assert!(t.met.lock().unwrap().is_empty());
}

#[tokio::test]
async fn moto_server_meets_the_contract_but_for_its_listed_departures() {
    let server = moto::start().await;
    let lambda = server
        .stub_lambda(&format!(
            "SecretsManagerRotation-{}-contract",
            LambdaBehaviour::Ok.as_str()
        ))
        .await;
    assert_eq!(
        lambda,
        seed::lambda_arn(REGION, ACCOUNT, LambdaBehaviour::Ok, "contract"),
        "the same Lambda ARN on both"
    );
    let t = target(
        "moto_server",
        server.url.clone(),
        lambda,
        0,
        MOTO_DEPARTURES,
    )
    .await;
    run(&t).await;
    // Every listed departure was met: the list says nothing moto no longer does.
    let listed: BTreeSet<Departure> = MOTO_DEPARTURES.iter().map(|(d, _)| *d).collect();
    assert_eq!(*t.met.lock().unwrap(), listed);
}

#[test]
fn departures_are_listed_once_each_with_a_reason() {
    let mut seen = BTreeSet::new();
    for (d, why) in MOTO_DEPARTURES {
        assert!(seen.insert(*d), "{d:?} twice");
        assert!(why.len() > 40, "{d:?} says why");
    }
}

#[test]
fn service_retries_wait_an_hour_by_default() {
    let o = LocalOptions::default();
    assert_eq!(o.service_retry_delay, Duration::from_secs(3600));
    assert!(o.service_retries >= 2, "'multiple times'");
}
