//! The gatherer without AWS: how each failure becomes a [`Read`], what is
//! kept of an answer, the cache, the call budget and the settings. The
//! reads against moto_server are in [`moto`].

mod moto;

use super::budget::Budgets;
use super::cache::Cache;
use super::key::key_facts;
use super::lambda::{lambda_facts, lambda_time};
use super::network::{permission, route, route_table};
use super::role::{decision, in_order};
use super::*;
use crate::domain::diagnosis::Decision;
use crate::domain::secret::fixtures::secret;
use crate::domain::Timestamp;
use crate::server::aws::client::build_client;
use crate::server::config::{AwsSettings, Config};
use aws_sdk_lambda::error::ErrorMetadata;
use aws_sdk_lambda::operation::get_function::{GetFunctionError, GetFunctionOutput};
use aws_sdk_lambda::types::{EnvironmentResponse, FunctionConfiguration, Runtime};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use std::sync::atomic::{AtomicUsize, Ordering};

type Error = SdkError<GetFunctionError, HttpResponse>;

fn answered(status: u16, code: &str, message: &str) -> Error {
    let mut meta = ErrorMetadata::builder().message(message);
    if !code.is_empty() {
        meta = meta.code(code);
    }
    let err = GetFunctionError::generic(meta.build());
    let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
    SdkError::service_error(err, raw)
}

fn read(op: Op, err: Error) -> Read<()> {
    read_error(op, &err)
}

#[test]
fn access_denied_names_the_permission_the_dashboard_lacks() {
    let denied = |p: &str| Read::Denied {
        permission: p.to_string(),
    };
    let cases = [
        (
            Op::GetFunction,
            "AccessDeniedException",
            "lambda:GetFunction",
        ),
        (Op::DescribeKey, "AccessDeniedException", "kms:DescribeKey"),
        (
            Op::SimulatePrincipalPolicy,
            "AccessDenied",
            "iam:SimulatePrincipalPolicy",
        ),
        (
            Op::DescribeVpcEndpoints,
            "UnauthorizedOperation",
            "ec2:DescribeVpcEndpoints",
        ),
        (
            Op::GetResourcePolicy,
            "AccessDeniedException",
            "secretsmanager:GetResourcePolicy",
        ),
    ];
    for (op, code, permission) in cases {
        assert_eq!(
            read(op, answered(400, code, "no")),
            denied(permission),
            "{code}"
        );
    }
    // An explicit deny is a refusal whatever code carries it.
    let explicit = answered(
        400,
        "SomethingElse",
        "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: kms:ListGrants \
         on resource: arn:aws:kms:us-east-1:1:key/k with an explicit deny in a service control policy",
    );
    assert_eq!(read(Op::ListGrants, explicit), denied("kms:ListGrants"));
}

#[test]
fn not_found_codes_are_an_answer() {
    for code in [
        "ResourceNotFoundException",
        "NotFoundException",
        "NoSuchEntity",
        "InvalidVpcID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidRouteTableID.NotFound",
    ] {
        assert_eq!(
            read(Op::GetPolicy, answered(404, code, "gone")),
            Read::NotFound,
            "{code}"
        );
    }
}

#[test]
fn every_other_failure_says_what_happened() {
    let failed = |m: &str| Read::Failed {
        message: m.to_string(),
    };
    assert_eq!(
        read(
            Op::GetFunction,
            answered(400, "ThrottlingException", "Rate exceeded")
        ),
        failed("lambda:GetFunction was throttled even after retrying (ThrottlingException)")
    );
    assert_eq!(
        read(
            Op::ListGrants,
            answered(400, "KMSInvalidStateException", "pending")
        ),
        failed("kms:ListGrants answered KMSInvalidStateException (HTTP 400): pending")
    );
    // moto's SimulatePrincipalPolicy: an HTML 500 without an error code.
    assert_eq!(
        read(Op::SimulatePrincipalPolicy, answered(500, "", "")),
        failed("iam:SimulatePrincipalPolicy answered Unknown (HTTP 500)")
    );
    assert_eq!(
        read(Op::DescribeKey, SdkError::timeout_error("slow")),
        failed("kms:DescribeKey got no answer in time")
    );
    let refused = ConnectorError::io("connection refused".into());
    assert_eq!(
        read(Op::DescribeRouteTables, SdkError::dispatch_failure(refused)),
        failed("ec2:DescribeRouteTables could not reach the endpoint")
    );
    // Expired credentials are not a missing permission: nothing to grant.
    let expired = read(
        Op::GetFunction,
        answered(403, "ExpiredTokenException", "expired"),
    );
    assert!(matches!(expired, Read::Failed { .. }), "{expired:?}");
}

#[test]
fn operations_name_their_service_and_action() {
    let services: Vec<&str> = Op::ALL.iter().map(|o| o.service()).collect();
    assert_eq!(
        services,
        [
            "lambda",
            "lambda",
            "ec2",
            "ec2",
            "ec2",
            "kms",
            "kms",
            "kms",
            "iam",
            "secretsmanager"
        ]
    );
    assert_eq!(Op::DescribeSecurityGroups.name(), "DescribeSecurityGroups");
    let calls = Calls::default();
    calls.made(Op::GetFunction);
    calls.made(Op::GetPolicy);
    calls.made(Op::DescribeKey);
    assert_eq!(
        (
            calls.total(),
            calls.of_service("lambda"),
            calls.of(Op::DescribeKey)
        ),
        (3, 2, 1)
    );
}

#[test]
fn of_a_function_only_the_endpoint_variable_is_kept() {
    let env = EnvironmentResponse::builder()
        .variables(
            "SECRETS_MANAGER_ENDPOINT",
            "https://vpce-1.secretsmanager.example",
        )
        .variables("DB_PASSWORD", "hunter2-never-kept")
        .build();
    let config = FunctionConfiguration::builder()
        .function_arn("arn:aws:lambda:eu-west-1:123456789012:function:rotate")
        .runtime(Runtime::Python312)
        .timeout(30)
        .last_modified("2024-03-01T12:34:56.789+0000")
        .role("arn:aws:iam::123456789012:role/rotation")
        .environment(env)
        .vpc_config(
            aws_sdk_lambda::types::VpcConfigResponse::builder()
                .vpc_id("")
                .build(),
        )
        .build();
    let out = GetFunctionOutput::builder()
        .configuration(config)
        .tags("b", "2")
        .tags("a", "1")
        .build();
    let f = lambda_facts(
        "arn:aws:lambda:eu-west-1:123456789012:function:rotate",
        &out,
    );
    assert_eq!(f.runtime.as_deref(), Some("python3.12"));
    assert_eq!(f.timeout, Some(30));
    assert_eq!(f.last_modified, Some(Timestamp::new(1_709_296_496)));
    assert_eq!(
        f.role.as_deref(),
        Some("arn:aws:iam::123456789012:role/rotation")
    );
    assert_eq!(f.vpc, None, "an empty VpcConfig is no VPC");
    assert_eq!(
        f.secrets_manager_endpoint.as_deref(),
        Some("https://vpce-1.secretsmanager.example")
    );
    assert_eq!(f.tags, [("a".into(), "1".into()), ("b".into(), "2".into())]);
    assert!(!format!("{f:?}").contains("hunter2"));
    assert!(!serde_json::to_string(&f).unwrap().contains("DB_PASSWORD"));
}

#[test]
fn lambda_times_in_either_format() {
    assert_eq!(
        lambda_time("2024-03-01T12:34:56.789+0000"),
        Some(Timestamp::new(1_709_296_496))
    );
    assert_eq!(
        lambda_time("2024-03-01T12:34:56.523901000Z"),
        Some(Timestamp::new(1_709_296_496))
    );
    assert_eq!(lambda_time("yesterday"), None);
}

#[test]
fn keys_routes_and_rules_as_the_checks_read_them() {
    use aws_sdk_ec2::types as ec2;
    use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeyState};
    let meta = KeyMetadata::builder()
        .key_id("k")
        .arn("arn:aws:kms:us-east-1:1:key/k")
        .key_state(KeyState::PendingDeletion)
        .key_manager(KeyManagerType::Customer)
        .deletion_date(aws_smithy_types::DateTime::from_secs(1_900_000_000))
        .build()
        .unwrap();
    let k = key_facts(&meta);
    assert_eq!(
        (
            k.arn.as_str(),
            k.state.as_str(),
            k.managed_by_aws,
            k.deletion_date
        ),
        (
            "arn:aws:kms:us-east-1:1:key/k",
            "PendingDeletion",
            false,
            Some(Timestamp::new(1_900_000_000))
        )
    );
    let table = ec2::RouteTable::builder()
        .route_table_id("rtb-1")
        .associations(ec2::RouteTableAssociation::builder().main(true).build())
        .associations(
            ec2::RouteTableAssociation::builder()
                .subnet_id("subnet-1")
                .build(),
        )
        .routes(
            ec2::Route::builder()
                .destination_cidr_block("0.0.0.0/0")
                .nat_gateway_id("nat-1")
                .build(),
        )
        .build();
    let t = route_table(&table);
    assert_eq!(
        (t.main, t.subnet_ids.as_slice()),
        (true, &["subnet-1".to_string()][..])
    );
    assert_eq!(
        (
            t.routes[0].destination.as_str(),
            t.routes[0].target.as_str()
        ),
        ("0.0.0.0/0", "nat-1")
    );
    let local = route(
        &ec2::Route::builder()
            .destination_cidr_block("10.0.0.0/16")
            .gateway_id("local")
            .build(),
    );
    assert_eq!(local.target, "local");
    let rule = permission(
        &ec2::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(ec2::IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .user_id_group_pairs(ec2::UserIdGroupPair::builder().group_id("sg-2").build())
            .build(),
    );
    assert_eq!(
        (
            rule.protocol.as_str(),
            rule.from_port,
            rule.cidrs,
            rule.groups
        ),
        (
            "tcp",
            Some(443),
            vec!["10.0.0.0/16".to_string()],
            vec!["sg-2".to_string()]
        )
    );
}

#[test]
fn decisions_come_in_the_order_asked() {
    use aws_sdk_iam::types::PolicyEvaluationDecisionType as D;
    assert_eq!(decision(&D::Allowed), Decision::Allowed);
    assert_eq!(decision(&D::ExplicitDeny), Decision::ExplicitDeny);
    assert_eq!(decision(&D::ImplicitDeny), Decision::ImplicitDeny);
    assert_eq!(decision(&D::from("somethingNew")), Decision::ImplicitDeny);
    let answered = vec![
        (
            "secretsmanager:putsecretvalue".to_string(),
            Decision::ImplicitDeny,
        ),
        (
            "secretsmanager:DescribeSecret".to_string(),
            Decision::Allowed,
        ),
    ];
    assert_eq!(
        in_order(&ROLE_ACTIONS_FOR_TEST, &answered),
        [
            (
                "secretsmanager:DescribeSecret".to_string(),
                Decision::Allowed
            ),
            (
                "secretsmanager:PutSecretValue".to_string(),
                Decision::ImplicitDeny
            ),
        ]
    );
}

const ROLE_ACTIONS_FOR_TEST: [&str; 2] = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:PutSecretValue",
];

/// A read that counts how often it ran, and answers `answer` after 50 ms.
async fn counted<T>(runs: &AtomicUsize, answer: Read<T>) -> Read<T> {
    runs.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    answer
}

#[tokio::test(start_paused = true)]
async fn one_read_per_resource_and_ttl_and_concurrent_readers_wait_for_it() {
    let cache: Cache<String> = Cache::new(Duration::from_secs(600));
    let runs = AtomicUsize::new(0);
    let found = || Read::Found("policy".to_string());
    let (a, b, c) = tokio::join!(
        cache.get("fn-1", || counted(&runs, found())),
        cache.get("fn-1", || counted(&runs, found())),
        cache.get("fn-1", || counted(&runs, found())),
    );
    assert_eq!((a.clone(), b, c), (found(), found(), found()));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "three readers, one call");
    tokio::time::advance(Duration::from_secs(599)).await;
    cache.get("fn-1", || counted(&runs, found())).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "kept within the TTL");
    cache.get("fn-2", || counted(&runs, Read::NotFound)).await;
    cache.get("fn-2", || counted(&runs, Read::NotFound)).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "NotFound is an answer, kept"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    cache.get("fn-1", || counted(&runs, found())).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3, "read again after the TTL");
    assert_eq!(cache.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_reads_go_to_their_waiters_and_are_not_kept() {
    let cache: Cache<String> = Cache::new(Duration::from_secs(600));
    let runs = AtomicUsize::new(0);
    let failed = || Read::Failed {
        message: "throttled".to_string(),
    };
    let (a, b) = tokio::join!(
        cache.get("k", || counted(&runs, failed())),
        cache.get("k", || counted(&runs, failed())),
    );
    assert_eq!((a, b), (failed(), failed()));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let again = cache
        .get("k", || counted(&runs, Read::Found("ok".into())))
        .await;
    assert_eq!(again, Read::Found("ok".into()));
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the failure was not kept");
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_refuses_rather_than_queues() {
    // One call a second, waiting at most two seconds: two may wait.
    let budgets = Budgets::new(1.0, Duration::from_secs(2));
    let start = tokio::time::Instant::now();
    assert!(
        budgets.spend("1", "us-east-1").await,
        "the first goes at once"
    );
    let (a, b, c) = tokio::join!(
        budgets.spend("1", "us-east-1"),
        budgets.spend("1", "us-east-1"),
        budgets.spend("1", "us-east-1"),
    );
    assert_eq!((a, b, c), (true, true, false));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(
        budgets.spend("1", "eu-west-1").await,
        "each region has its own budget"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

/// One source at `url`, one attempt per call, each at most `timeout` seconds.
async fn loopback_sources(url: &str, timeout: u64) -> Sources {
    let source = build_client(&AwsSettings {
        endpoint_url: Some(url.to_string()),
        region: Some("us-east-1".into()),
        max_attempts: 1,
        attempt_timeout_secs: timeout,
        ..AwsSettings::default()
    })
    .await;
    Sources::from(source)
}

#[tokio::test(start_paused = true)]
async fn over_budget_reads_fail_and_are_counted() {
    let settings = DiagnosisSettings {
        calls_per_second: 1.0,
        max_wait_seconds: 1,
        ..Default::default()
    };
    let d = Diagnoser::new(&settings);
    let sources = loopback_sources("http://127.0.0.1:9", 2).await;
    // Nothing listens on port 9: the calls made fail, the others are refused.
    let mut s = secret("prod/db");
    s.rotation_lambda_arn = Some("arn:aws:lambda:us-east-1:123456789012:function:rotate".into());
    let facts = d.facts(&sources, &s).await;
    fn message<T: std::fmt::Debug>(r: &Read<T>) -> String {
        match r {
            Read::Failed { message } => message.clone(),
            other => panic!("{other:?}"),
        }
    }
    let messages = [
        message(&facts.lambda),
        message(&facts.key),
        message(&facts.resource_policy),
    ];
    assert!(
        messages
            .iter()
            .any(|m| m.contains("over the call budget of account 123456789012 in us-east-1")),
        "{messages:?}"
    );
    assert!(d.calls().over_budget() >= 1);
    assert_eq!(d.calls().total() + d.calls().over_budget(), 3);
}

#[tokio::test]
async fn off_or_without_a_source_nothing_is_called() {
    let sources = loopback_sources("http://127.0.0.1:9", 2).await;
    let off = Diagnoser::new(&DiagnosisSettings {
        enabled: false,
        ..Default::default()
    });
    let facts = off.facts(&sources, &secret("prod/db")).await;
    assert_eq!(
        facts.key,
        Read::Failed {
            message: "rotation diagnosis is off ([diagnosis] enabled = false)".into()
        }
    );
    assert!(!off.enabled());
    let on = Diagnoser::new(&DiagnosisSettings::default());
    let mut elsewhere = secret("prod/db");
    elsewhere.region = "eu-west-1".into();
    let facts = on.facts(&sources, &elsewhere).await;
    assert_eq!(
        facts.lambda,
        Read::Failed {
            message: "no configured source reads account 123456789012 in eu-west-1".into()
        }
    );
    assert_eq!((off.calls().total(), on.calls().total()), (0, 0));
}

#[test]
fn the_counters_on_metrics() {
    let d = Diagnoser::new(&DiagnosisSettings::default());
    d.calls.made(Op::GetFunction);
    d.calls.made(Op::GetFunction);
    d.calls.refused();
    let mut e = Exposition::default();
    d.write_metrics(&mut e);
    let samples = crate::server::metrics::tests::parse(&e.finish()).unwrap();
    let get = |name: &str, op: Option<&str>| {
        samples
            .iter()
            .find(|s| {
                s.name == name
                    && op.is_none_or(|o| s.labels.get("operation").is_some_and(|l| l == o))
            })
            .map(|s| s.value)
    };
    assert_eq!(
        get("secretscope_diagnosis_aws_calls_total", Some("GetFunction")),
        Some(2.0)
    );
    assert_eq!(
        get("secretscope_diagnosis_aws_calls_total", Some("ListGrants")),
        Some(0.0)
    );
    assert_eq!(
        get("secretscope_diagnosis_over_budget_total", None),
        Some(1.0)
    );
}

#[test]
fn settings_default_layer_and_validate() {
    let d = DiagnosisSettings::default();
    assert_eq!(
        (
            d.enabled,
            d.cache_ttl_seconds,
            d.calls_per_second,
            d.max_wait_seconds
        ),
        (true, 600, 5.0, 30)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[diagnosis]\ncache_ttl_seconds = 60\ncalls_per_second = 2.5\n",
    )
    .unwrap();
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let c = Config::load_from(
        Some(&file),
        env(&[("SECRETSCOPE_DIAGNOSIS_ENABLED", "false")]),
    )
    .unwrap();
    assert_eq!(
        (
            c.diagnosis.enabled,
            c.diagnosis.cache_ttl_seconds,
            c.diagnosis.calls_per_second
        ),
        (false, 60, 2.5)
    );
    let err = Config::load_from(
        Some(&file),
        env(&[("SECRETSCOPE_DIAGNOSIS_CALLS_PER_SECOND", "0")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("diagnosis.calls_per_second"), "{err}");
    std::fs::write(&file, "[diagnosis]\nmax_wait_seconds = 0\n").unwrap();
    let err = Config::load_from(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("diagnosis.max_wait_seconds"), "{err}");
    std::fs::write(&file, "[diagnosis]\ncalls_per_sec = 1\n").unwrap();
    let err = Config::load_from(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("calls_per_sec"), "{err}");
}
