//! Each check: the healthy case passes, the misconfigured case fails with
//! its evidence and fix, and a refused read says "could not be checked"
//! naming the permission.

use super::*;
use crate::domain::rotation_failure::RotationFailure;
use crate::domain::secret::fixtures::secret;
use crate::domain::{Secret, Timestamp};
use std::sync::Arc;

const NOW: i64 = 1_796_000_000;
const ACCOUNT: &str = "123456789012";
const LAMBDA: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRotation-payments-postgres";
const ROLE: &str = "arn:aws:iam::123456789012:role/SecretsManagerRotation-payments";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1111-2222";

fn rotating() -> Secret {
    let mut s = secret("prod/payments/db");
    s.rotation_enabled = true;
    s.rotation_lambda_arn = Some(Arc::from(LAMBDA));
    s.kms_key_id = Some(Arc::from(KEY));
    s.last_rotated = Some(Timestamp::new(NOW - 40 * 86_400));
    s
}

fn invoke_policy(condition: bool) -> String {
    let cond = if condition {
        format!(r#","Condition":{{"StringEquals":{{"aws:SourceAccount":"{ACCOUNT}"}}}}"#)
    } else {
        String::new()
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"SecretsManagerAccess","Effect":"Allow","Principal":{{"Service":"secretsmanager.amazonaws.com"}},"Action":"lambda:InvokeFunction","Resource":"{LAMBDA}"{cond}}}]}}"#
    )
}

fn sg(id: &str, ingress_from: &[&str]) -> SecurityGroup {
    SecurityGroup {
        id: id.into(),
        ingress: vec![Permission {
            protocol: "tcp".into(),
            from_port: Some(443),
            to_port: Some(443),
            cidrs: vec![],
            groups: ingress_from.iter().map(|g| g.to_string()).collect(),
        }],
        egress: vec![Permission {
            protocol: "-1".into(),
            cidrs: vec!["0.0.0.0/0".into()],
            ..Permission::default()
        }],
    }
}

fn in_vpc() -> VpcConfig {
    VpcConfig {
        vpc_id: "vpc-0app".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        security_group_ids: vec!["sg-lambda".into()],
    }
}

fn endpoint(private_dns: bool) -> VpcEndpoint {
    VpcEndpoint {
        id: "vpce-0sm".into(),
        service_name: "com.amazonaws.us-east-1.secretsmanager".into(),
        state: "available".into(),
        private_dns,
        security_group_ids: vec!["sg-endpoint".into()],
        dns_names: vec!["vpce-0sm-abc.secretsmanager.us-east-1.vpce.amazonaws.com".into()],
    }
}

fn local_only(nat: Option<&str>) -> Vec<RouteTable> {
    let mut routes = vec![Route {
        destination: "10.0.0.0/16".into(),
        target: "local".into(),
    }];
    if let Some(n) = nat {
        routes.push(Route {
            destination: "0.0.0.0/0".into(),
            target: n.into(),
        });
    }
    vec![RouteTable {
        id: "rtb-main".into(),
        subnet_ids: vec![],
        main: true,
        routes,
    }]
}

/// Everything right: a function in a VPC with an endpoint, a customer
/// managed key delegating to IAM, a role allowed everything.
fn healthy() -> Facts {
    Facts {
        lambda: Read::Found(LambdaFacts {
            arn: LAMBDA.into(),
            runtime: Some("python3.12".into()),
            timeout: Some(30),
            last_modified: Some(Timestamp::new(NOW - 90 * 86_400)),
            role: Some(ROLE.into()),
            vpc: Some(in_vpc()),
            secrets_manager_endpoint: None,
            tags: vec![],
            policy: Read::Found(invoke_policy(true)),
        }),
        network: Some(NetworkFacts {
            endpoints: Read::Found(vec![endpoint(true)]),
            security_groups: Read::Found(vec![
                sg("sg-lambda", &[]),
                sg("sg-endpoint", &["sg-lambda"]),
            ]),
            route_tables: Read::Found(local_only(None)),
        }),
        key: Read::Found(KeyFacts {
            arn: KEY.into(),
            state: "Enabled".into(),
            managed_by_aws: false,
            deletion_date: None,
            policy: Read::Found(format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
            )),
            grants: Read::Found(vec![]),
        }),
        role: Read::Found(
            ROLE_ACTIONS
                .iter()
                .chain(KEY_ACTIONS.iter())
                .map(|a| (a.to_string(), Decision::Allowed))
                .collect(),
        ),
        resource_policy: Read::NotFound,
    }
}

fn run(s: &Secret, f: &Facts) -> Diagnosis {
    diagnose(s, f, Timestamp::new(NOW))
}

fn the(d: &Diagnosis, id: CheckId) -> &Check {
    d.checks
        .iter()
        .find(|c| c.id == id)
        .expect("the check is made")
}

fn lambda_mut(f: &mut Facts) -> &mut LambdaFacts {
    match &mut f.lambda {
        Read::Found(l) => l,
        _ => unreachable!(),
    }
}

fn key_mut(f: &mut Facts) -> &mut KeyFacts {
    match &mut f.key {
        Read::Found(k) => k,
        _ => unreachable!(),
    }
}

/// `d`'s check `id` failed with `cause`, its evidence saying `says`.
fn assert_fails(d: &Diagnosis, id: CheckId, cause: CauseId, says: &str) {
    let c = the(d, id);
    assert_eq!(c.status, Status::Failed, "{id:?}: {c:?}");
    assert_eq!(c.cause, Some(cause));
    assert!(c.evidence.contains(says), "{id:?} evidence: {}", c.evidence);
    assert!(c.fix.as_deref().is_some_and(|f| !f.is_empty()));
}

fn assert_unknown(d: &Diagnosis, id: CheckId, permission: &str) {
    let c = the(d, id);
    assert_eq!(
        c.status,
        Status::Unknown {
            permission: Some(permission.into())
        },
        "{id:?}: {c:?}"
    );
    assert!(c.evidence.contains(permission));
    assert!(d.missing_permissions().contains(&permission));
}

#[test]
fn a_healthy_rotation_passes_every_check() {
    let d = run(&rotating(), &healthy());
    for c in &d.checks {
        assert!(
            matches!(c.status, Status::Passed | Status::NotApplicable),
            "{:?}: {:?} {}",
            c.id,
            c.status,
            c.evidence
        );
    }
    assert!(d.causes().is_empty() && d.main_cause().is_none());
    assert_eq!(d.checks.len(), 14, "every check is reported");
    assert!(the(&d, CheckId::Network).evidence.contains("vpce-0sm"));
}

#[test]
fn no_rotation_function_no_checks() {
    let mut s = rotating();
    s.rotation_lambda_arn = None;
    assert!(run(&s, &healthy()).checks.is_empty());
}

#[test]
fn lambda_missing() {
    let mut f = healthy();
    f.lambda = Read::NotFound;
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::LambdaExists,
        CauseId::LambdaMissing,
        "no function",
    );
    assert_eq!(d.main_cause(), Some((CauseId::LambdaMissing, Some(LAMBDA))));
    f.lambda = Read::Denied {
        permission: "lambda:GetFunction".into(),
    };
    assert_unknown(
        &run(&rotating(), &f),
        CheckId::LambdaExists,
        "lambda:GetFunction",
    );
}

#[test]
fn lambda_in_another_region() {
    let mut s = rotating();
    s.rotation_lambda_arn = Some(Arc::from(LAMBDA.replace("us-east-1", "us-west-2")));
    let d = run(&s, &healthy());
    assert_fails(
        &d,
        CheckId::LambdaRegion,
        CauseId::LambdaRegion,
        "us-west-2",
    );
    assert_eq!(
        the(&run(&rotating(), &healthy()), CheckId::LambdaRegion).status,
        Status::Passed
    );
}

#[test]
fn invoke_permission_and_source_account() {
    let mut f = healthy();
    lambda_mut(&mut f).policy = Read::NotFound;
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::LambdaInvokePolicy,
        CauseId::LambdaPermission,
        "secretsmanager.amazonaws.com",
    );
    assert!(the(&d, CheckId::LambdaInvokePolicy)
        .fix
        .as_deref()
        .unwrap()
        .contains("add-permission"));
    // A statement for another service is no grant either.
    lambda_mut(&mut f).policy =
        Read::Found(invoke_policy(true).replace("secretsmanager", "events"));
    assert_eq!(
        the(&run(&rotating(), &f), CheckId::LambdaInvokePolicy).status,
        Status::Failed
    );
    // Granted without aws:SourceAccount: passes, with a confused-deputy warning.
    lambda_mut(&mut f).policy = Read::Found(invoke_policy(false));
    let d = run(&rotating(), &f);
    assert_eq!(the(&d, CheckId::LambdaInvokePolicy).status, Status::Passed);
    assert_eq!(
        the(&d, CheckId::LambdaSourceAccount).status,
        Status::Warning
    );
    assert!(d.main_cause().is_none(), "a warning is no cause of failure");
    lambda_mut(&mut f).policy = Read::Denied {
        permission: "lambda:GetPolicy".into(),
    };
    assert_unknown(
        &run(&rotating(), &f),
        CheckId::LambdaInvokePolicy,
        "lambda:GetPolicy",
    );
}

#[test]
fn network_without_endpoint_or_nat() {
    let mut f = healthy();
    let nf = f.network.as_mut().unwrap();
    nf.endpoints = Read::Found(vec![]);
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::Network,
        CauseId::Network,
        "has no Secrets Manager interface endpoint",
    );
    assert_eq!(d.main_cause(), Some((CauseId::Network, Some("vpc-0app"))));
    // A NAT gateway on the default route is a way out.
    f.network.as_mut().unwrap().route_tables = Read::Found(local_only(Some("nat-0abc")));
    let d = run(&rotating(), &f);
    assert_eq!(the(&d, CheckId::Network).status, Status::Passed);
    assert!(the(&d, CheckId::Network).evidence.contains("nat-0abc"));
    // An endpoint without private DNS does not catch the public name.
    let nf = f.network.as_mut().unwrap();
    nf.route_tables = Read::Found(local_only(None));
    nf.endpoints = Read::Found(vec![endpoint(false)]);
    assert_fails(
        &run(&rotating(), &f),
        CheckId::Network,
        CauseId::Network,
        "private DNS off",
    );
    // An endpoint whose security group does not let the function in.
    let nf = f.network.as_mut().unwrap();
    nf.endpoints = Read::Found(vec![endpoint(true)]);
    nf.security_groups = Read::Found(vec![sg("sg-lambda", &[]), sg("sg-endpoint", &["sg-other"])]);
    assert_fails(
        &run(&rotating(), &f),
        CheckId::Network,
        CauseId::Network,
        "do not allow HTTPS (443) in",
    );
    f.network.as_mut().unwrap().endpoints = Read::Denied {
        permission: "ec2:DescribeVpcEndpoints".into(),
    };
    assert_unknown(
        &run(&rotating(), &f),
        CheckId::Network,
        "ec2:DescribeVpcEndpoints",
    );
    // Outside a VPC there is nothing to check.
    let mut out = healthy();
    lambda_mut(&mut out).vpc = None;
    out.network = None;
    assert_eq!(
        the(&run(&rotating(), &out), CheckId::Network).status,
        Status::NotApplicable
    );
}

#[test]
fn endpoint_variable_must_be_reachable() {
    let mut f = healthy();
    let public = "https://secretsmanager.us-east-1.amazonaws.com";
    lambda_mut(&mut f).secrets_manager_endpoint = Some(public.into());
    assert_eq!(
        the(&run(&rotating(), &f), CheckId::EndpointVariable).status,
        Status::Passed
    );
    // The public name from a VPC whose endpoint has no private DNS, no NAT.
    f.network.as_mut().unwrap().endpoints = Read::Found(vec![endpoint(false)]);
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::EndpointVariable,
        CauseId::Network,
        "public endpoint",
    );
    // The endpoint's own DNS name works without private DNS.
    lambda_mut(&mut f).secrets_manager_endpoint =
        Some("https://vpce-0sm-abc.secretsmanager.us-east-1.vpce.amazonaws.com".into());
    let d = run(&rotating(), &f);
    assert_eq!(
        the(&d, CheckId::EndpointVariable).status,
        Status::Passed,
        "{:?}",
        the(&d, CheckId::EndpointVariable)
    );
    lambda_mut(&mut f).secrets_manager_endpoint =
        Some("https://vpce-0gone-xyz.secretsmanager.us-east-1.vpce.amazonaws.com".into());
    assert_fails(
        &run(&rotating(), &f),
        CheckId::EndpointVariable,
        CauseId::Network,
        "not an endpoint of vpc-0app",
    );
}

#[test]
fn key_disabled_or_pending_deletion() {
    let mut f = healthy();
    key_mut(&mut f).state = "Disabled".into();
    let d = run(&rotating(), &f);
    assert_fails(&d, CheckId::KeyState, CauseId::KmsKey, "is Disabled");
    assert_eq!(d.main_cause(), Some((CauseId::KmsKey, Some(KEY))));
    key_mut(&mut f).state = "PendingDeletion".into();
    key_mut(&mut f).deletion_date = Some(Timestamp::new(NOW + 5 * 86_400));
    let d = run(&rotating(), &f);
    assert_fails(&d, CheckId::KeyState, CauseId::KmsKey, "pending deletion");
    assert!(the(&d, CheckId::KeyState)
        .fix
        .as_deref()
        .unwrap()
        .contains("cancel-key-deletion"));
    f.key = Read::Denied {
        permission: "kms:DescribeKey".into(),
    };
    assert_unknown(&run(&rotating(), &f), CheckId::KeyState, "kms:DescribeKey");
}

#[test]
fn key_policy_must_let_the_role_decrypt() {
    let mut f = healthy();
    key_mut(&mut f).policy = Read::Found(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/KeyAdmin"},"Action":"kms:*","Resource":"*"}]}"#.into(),
    );
    let d = run(&rotating(), &f);
    assert_fails(&d, CheckId::KeyAccess, CauseId::KmsAccess, "kms:Decrypt");
    // A grant to the role is enough.
    key_mut(&mut f).grants = Read::Found(vec![Grant {
        grantee: ROLE.into(),
        operations: vec!["Decrypt".into(), "GenerateDataKey".into()],
    }]);
    assert_eq!(
        the(&run(&rotating(), &f), CheckId::KeyAccess).status,
        Status::Passed
    );
    // Delegated to IAM, IAM must allow it.
    let mut g = healthy();
    g.role = Read::Found(
        ROLE_ACTIONS
            .iter()
            .map(|a| (a.to_string(), Decision::Allowed))
            .chain(
                KEY_ACTIONS
                    .iter()
                    .map(|a| (a.to_string(), Decision::ImplicitDeny)),
            )
            .collect(),
    );
    assert_fails(
        &run(&rotating(), &g),
        CheckId::KeyAccess,
        CauseId::KmsAccess,
        "kms:Decrypt",
    );
    key_mut(&mut g).policy = Read::Denied {
        permission: "kms:GetKeyPolicy".into(),
    };
    assert_unknown(
        &run(&rotating(), &g),
        CheckId::KeyAccess,
        "kms:GetKeyPolicy",
    );
    // The AWS managed key needs nothing of its policy.
    key_mut(&mut g).managed_by_aws = true;
    assert_eq!(
        the(&run(&rotating(), &g), CheckId::KeyAccess).status,
        Status::Passed
    );
}

#[test]
fn cross_account_readers_need_a_customer_managed_key() {
    let mut f = healthy();
    f.resource_policy = Read::Found(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#.into(),
    );
    assert_eq!(
        the(&run(&rotating(), &f), CheckId::KeyCrossAccount).status,
        Status::Passed
    );
    key_mut(&mut f).managed_by_aws = true;
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::KeyCrossAccount,
        CauseId::KmsCrossAccount,
        "210987654321",
    );
}

#[test]
fn role_permissions_from_the_simulation() {
    let mut f = healthy();
    f.role = Read::Found(
        ROLE_ACTIONS
            .iter()
            .map(|a| {
                let d = if a.ends_with("UpdateSecretVersionStage") {
                    Decision::ImplicitDeny
                } else {
                    Decision::Allowed
                };
                (a.to_string(), d)
            })
            .collect(),
    );
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::RolePermissions,
        CauseId::RolePermission,
        "secretsmanager:UpdateSecretVersionStage",
    );
    assert_eq!(d.main_cause(), Some((CauseId::RolePermission, Some(ROLE))));
    f.role = Read::Denied {
        permission: "iam:SimulatePrincipalPolicy".into(),
    };
    assert_unknown(
        &run(&rotating(), &f),
        CheckId::RolePermissions,
        "iam:SimulatePrincipalPolicy",
    );
}

#[test]
fn resource_policy_deny() {
    let mut f = healthy();
    f.resource_policy = Read::Found(format!(
        r#"{{"Statement":[{{"Sid":"NoRotation","Effect":"Deny","Principal":{{"AWS":"{ROLE}"}},"Action":"secretsmanager:*","Resource":"*"}}]}}"#
    ));
    let d = run(&rotating(), &f);
    assert_fails(
        &d,
        CheckId::ResourcePolicy,
        CauseId::ResourcePolicy,
        "NoRotation",
    );
    // A deny for someone else is not about the function.
    f.resource_policy = Read::Found(
        r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:role/other"},"Action":"secretsmanager:*","Resource":"*"}]}"#.into(),
    );
    assert_eq!(
        the(&run(&rotating(), &f), CheckId::ResourcePolicy).status,
        Status::Passed
    );
    f.resource_policy = Read::Denied {
        permission: "secretsmanager:GetResourcePolicy".into(),
    };
    assert_unknown(
        &run(&rotating(), &f),
        CheckId::ResourcePolicy,
        "secretsmanager:GetResourcePolicy",
    );
}

fn failing(message: &str, at: i64) -> Secret {
    let mut s = rotating();
    s.versions.push(crate::domain::Version {
        id: crate::domain::VersionId::parse("v-pending"),
        labels: [crate::domain::Label::Pending].into_iter().collect(),
        created: Some(Timestamp::new(at - 60)),
        last_accessed: None,
    });
    s.failure = Some(Arc::new(RotationFailure {
        at: Timestamp::new(at),
        step: None,
        attempt: 1,
        message: Some(message.into()),
    }));
    s
}

#[test]
fn timeout_runtime_and_recent_change() {
    let mut f = healthy();
    lambda_mut(&mut f).timeout = Some(3);
    // Short, and the failure timed out: the cause.
    let s = failing(
        "x failed at setSecret: Task timed out after 3.00 seconds",
        NOW - 3600,
    );
    assert_fails(
        &run(&s, &f),
        CheckId::LambdaTimeout,
        CauseId::LambdaTimeout,
        "timeout 3 s",
    );
    // Short but nothing timed out: a warning.
    assert_eq!(
        the(&run(&rotating(), &f), CheckId::LambdaTimeout).status,
        Status::Warning
    );
    lambda_mut(&mut f).runtime = Some("python3.7".into());
    let d = run(&rotating(), &f);
    assert_eq!(the(&d, CheckId::LambdaRuntime).status, Status::Warning);
    assert!(the(&d, CheckId::LambdaRuntime)
        .evidence
        .contains("2023-12-04"));
    // Changed two hours before the failure, after the last success.
    let mut g = healthy();
    lambda_mut(&mut g).last_modified = Some(Timestamp::new(NOW - 3 * 3600));
    let s = failing(
        "x failed at testSecret: Unable to log into database",
        NOW - 3600,
    );
    assert_fails(
        &run(&s, &g),
        CheckId::LambdaChanged,
        CauseId::LambdaChanged,
        "before the failure",
    );
    // Any change between the last success and the failure is suspect,
    // however long before the failure it came.
    lambda_mut(&mut g).last_modified = Some(Timestamp::new(NOW - 20 * 86_400));
    assert_fails(
        &run(&s, &g),
        CheckId::LambdaChanged,
        CauseId::LambdaChanged,
        "before the failure",
    );
    // One before the last success is not.
    lambda_mut(&mut g).last_modified = Some(Timestamp::new(NOW - 50 * 86_400));
    assert_eq!(
        the(&run(&s, &g), CheckId::LambdaChanged).status,
        Status::Passed
    );
    lambda_mut(&mut g).last_modified = Some(Timestamp::new(NOW - 3 * 3600));
    // The same change with no failure is just a date.
    assert_eq!(
        the(&run(&rotating(), &g), CheckId::LambdaChanged).status,
        Status::Passed
    );
}

#[test]
fn failures_sharing_a_cause_are_one_incident() {
    let mut broken = healthy();
    lambda_mut(&mut broken).policy = Read::NotFound;
    let secrets: Vec<Secret> = (0..3)
        .map(|i| {
            let mut s = rotating();
            s.arn = Arc::from(format!(
                "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:s{i}-AbCdEf"
            ));
            s
        })
        .collect();
    let mut keyless = healthy();
    key_mut(&mut keyless).state = "Disabled".into();
    let diagnoses: Vec<Diagnosis> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| run(s, if i < 2 { &broken } else { &keyless }))
        .collect();
    let failures: Vec<incidents::Failure> = secrets
        .iter()
        .zip(&diagnoses)
        .enumerate()
        .map(|(i, (s, d))| incidents::Failure {
            secret_arn: &s.arn,
            since: Some(Timestamp::new(NOW - 1000 * i as i64)),
            lambda_arn: s.rotation_lambda_arn.as_deref(),
            diagnosis: Some(d),
        })
        .collect();
    let found = incidents(&failures);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].cause, Some(CauseId::LambdaPermission));
    assert_eq!(found[0].subject, LAMBDA);
    assert_eq!(found[0].secrets.len(), 2);
    // Oldest failure first inside an incident.
    assert!(found[0].secrets[0].contains(":s1-"));
    assert_eq!(found[1].cause, Some(CauseId::KmsKey));
    // Without a diagnosis, failures group by their function.
    let bare: Vec<incidents::Failure> = failures
        .iter()
        .map(|f| incidents::Failure {
            diagnosis: None,
            ..*f
        })
        .collect();
    let found = incidents(&bare);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].cause, None);
    assert_eq!(found[0].secrets.len(), 3);
}

#[test]
fn causes_round_trip_their_slugs() {
    for c in CauseId::ALL {
        assert_eq!(CauseId::parse(c.slug()), Some(c));
        assert_eq!(CauseId::parse(&c.slug().to_uppercase()), Some(c));
        assert!(!c.headline().is_empty() && !c.check().title().is_empty());
    }
    assert_eq!(CauseId::parse("nope"), None);
}
