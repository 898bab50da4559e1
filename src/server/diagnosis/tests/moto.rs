//! The gatherer against moto_server: a scenario made through the SDK
//! (roles, functions with and without an invoke permission, a function in
//! a VPC with no endpoint, one in another region, a disabled key, a key
//! pending deletion, a secret with a resource policy), read back as Facts.
//!
//! What moto does not do as AWS does, and what is asserted instead:
//! - SimulatePrincipalPolicy is not implemented (moto answers HTTP 500 with
//!   an HTML page): `role` degrades to `Failed`, never an error.
//! - A function's VpcConfig answers `VpcId: "vpc-123abc"` whatever the
//!   subnets' VPC: DescribeVpcEndpoints and DescribeRouteTables of it find
//!   nothing (`Found([])`), which is also what a VPC without a Secrets
//!   Manager endpoint reads as.
//! - `alias/aws/secretsmanager` is created on first DescribeKey as a
//!   customer managed key (KeyManager `CUSTOMER`, not `AWS`).
//! - Access is never denied (moto does not enforce IAM here); the denials
//!   are tested on the error table in `super`.

use super::*;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, VpcConfig as LambdaVpc};
use secretsmanager_emulator::testing::moto::start as start_moto;

const ACCOUNT: &str = "123456789012";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn fast() -> DiagnosisSettings {
    DiagnosisSettings {
        calls_per_second: 1000.0,
        ..Default::default()
    }
}

/// The SDK clients the scenario is made with, on `source`'s endpoint.
struct Setup {
    sdk: aws_config::SdkConfig,
    lambda: aws_sdk_lambda::Client,
    kms: aws_sdk_kms::Client,
    ec2: aws_sdk_ec2::Client,
    sm: aws_sdk_secretsmanager::Client,
    role: String,
}

impl Setup {
    async fn new(source: &Source) -> Setup {
        let iam = aws_sdk_iam::Client::new(&source.sdk);
        let role = iam
            .create_role()
            .role_name("rotation")
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .arn;
        Setup {
            sdk: source.sdk.clone(),
            lambda: aws_sdk_lambda::Client::new(&source.sdk),
            kms: aws_sdk_kms::Client::new(&source.sdk),
            ec2: aws_sdk_ec2::Client::new(&source.sdk),
            sm: source.client.clone(),
            role,
        }
    }

    /// A function named `name` (in `region`, when given), optionally in a
    /// VPC; returns its ARN.
    async fn function(&self, name: &str, region: Option<&str>, vpc: Option<LambdaVpc>) -> String {
        let zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        let env = Environment::builder()
            .variables(
                "SECRETS_MANAGER_ENDPOINT",
                "https://secretsmanager.us-east-1.amazonaws.com",
            )
            .variables("EXCLUDE_CHARACTERS", "never-kept")
            .build();
        let client = match region {
            Some(r) => aws_sdk_lambda::Client::new(
                &self
                    .sdk
                    .clone()
                    .into_builder()
                    .region(Region::new(r.to_string()))
                    .build(),
            ),
            None => self.lambda.clone(),
        };
        let request = client
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(&self.role)
            .handler("lambda_function.lambda_handler")
            .timeout(30)
            .environment(env)
            .tags(
                "serverlessrepo:applicationId",
                "SecretsManagerRDSPostgreSQLRotationSingleUser",
            )
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .set_vpc_config(vpc);
        request.send().await.unwrap().function_arn.unwrap()
    }

    async fn allow_secrets_manager(&self, function: &str) {
        self.lambda
            .add_permission()
            .function_name(function)
            .statement_id("SecretsManagerAccess")
            .action("lambda:InvokeFunction")
            .principal("secretsmanager.amazonaws.com")
            .send()
            .await
            .unwrap();
    }

    /// A new customer managed key: its id and ARN.
    async fn key(&self) -> (String, String) {
        let meta = self
            .kms
            .create_key()
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        (meta.key_id, meta.arn.unwrap())
    }

    async fn secret(&self, name: &str) -> String {
        self.sm
            .create_secret()
            .name(name)
            .secret_string("placeholder")
            .send()
            .await
            .unwrap()
            .arn
            .unwrap()
    }
}

/// The secret as the inventory would know it: its ARN, Lambda and key.
fn known(arn: &str, lambda: Option<&str>, key: Option<&str>) -> Arc<Secret> {
    let mut s = secret("x");
    s.arn = arn.into();
    s.name = crate::domain::arn::Arn::parse(arn)
        .and_then(|a| a.secret_name())
        .unwrap_or("x")
        .into();
    s.rotation_enabled = lambda.is_some();
    s.rotation_lambda_arn = lambda.map(Into::into);
    s.kms_key_id = key.map(Into::into);
    Arc::new(s)
}

#[tokio::test]
async fn facts_of_a_scenario_made_in_moto() {
    let moto = start_moto().await;
    let sources = loopback_sources(&moto.url, 60).await;
    let setup = Setup::new(sources.primary()).await;

    let open = setup.function("rotate-open", None, None).await;
    setup.allow_secrets_manager("rotate-open").await;
    let closed = setup.function("rotate-closed", None, None).await;
    let vpc = setup
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let subnet = setup
        .ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let group = setup
        .ec2
        .create_security_group()
        .group_name("rotation")
        .description("rotation lambda")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    let in_vpc = LambdaVpc::builder()
        .subnet_ids(&subnet)
        .security_group_ids(&group)
        .build();
    let vpc_fn = setup.function("rotate-vpc", None, Some(in_vpc)).await;
    let west = setup.function("rotate-west", Some("us-west-2"), None).await;
    let gone = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:rotate-gone");

    // moto's DisableKey and ScheduleKeyDeletion want the key id (AWS also takes the ARN).
    let (disabled_id, disabled) = setup.key().await;
    setup
        .kms
        .disable_key()
        .key_id(&disabled_id)
        .send()
        .await
        .unwrap();
    let (pending, _) = setup.key().await;
    setup
        .kms
        .schedule_key_deletion()
        .key_id(&pending)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();

    let guarded = setup.secret("prod/guarded").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"}]}"#;
    setup
        .sm
        .put_resource_policy()
        .secret_id(&guarded)
        .resource_policy(policy)
        .send()
        .await
        .unwrap();
    let plain = setup.secret("prod/plain").await;
    let networked = setup.secret("prod/networked").await;
    let far = setup.secret("prod/far").await;
    let orphan = setup.secret("prod/orphan").await;

    let d = Diagnoser::new(&fast());
    let secrets = [
        known(&guarded, Some(&open), Some(&disabled)),
        // A secret may name its key by id, ARN or alias.
        known(&plain, Some(&closed), Some(&pending)),
        known(&networked, Some(&vpc_fn), None),
        known(&far, Some(&west), None),
        known(&orphan, Some(&gone), None),
    ];
    let facts = d.facts_many(&sources, &secrets).await;
    let [guarded, plain, networked, far, orphan] = &facts[..] else {
        panic!("one Facts per secret: {facts:?}");
    };

    // The function with an invoke permission, its key disabled, a policy.
    let lambda = guarded.lambda.found().expect("rotate-open is read");
    assert_eq!(lambda.arn, open);
    assert_eq!(lambda.runtime.as_deref(), Some("python3.12"));
    assert_eq!(lambda.timeout, Some(30));
    assert!(lambda.last_modified.is_some());
    assert_eq!(lambda.role.as_deref(), Some(setup.role.as_str()));
    assert_eq!(lambda.vpc, None);
    assert_eq!(
        lambda.secrets_manager_endpoint.as_deref(),
        Some("https://secretsmanager.us-east-1.amazonaws.com")
    );
    assert!(!format!("{lambda:?}").contains("never-kept"));
    assert_eq!(
        lambda.tags,
        [(
            "serverlessrepo:applicationId".to_string(),
            "SecretsManagerRDSPostgreSQLRotationSingleUser".to_string()
        )]
    );
    let invoke = lambda.policy.found().expect("rotate-open has a policy");
    assert!(invoke.contains("secretsmanager.amazonaws.com"), "{invoke}");
    assert_eq!(guarded.network, None);
    let key = guarded.key.found().expect("the disabled key is read");
    assert_eq!(
        (key.arn.as_str(), key.state.as_str(), key.managed_by_aws),
        (disabled.as_str(), "Disabled", false)
    );
    assert!(key.policy.found().is_some_and(|p| p.contains("Statement")));
    assert_eq!(key.grants, Read::Found(vec![]));
    assert!(
        matches!(&guarded.role, Read::Failed { message } if message.starts_with("iam:SimulatePrincipalPolicy")),
        "moto has no SimulatePrincipalPolicy: {:?}",
        guarded.role
    );
    let read_policy = guarded.resource_policy.found().expect("a resource policy");
    assert!(read_policy.contains("DeleteSecret"), "{read_policy}");

    // No invoke permission; a key pending deletion; no resource policy.
    let lambda = plain.lambda.found().expect("rotate-closed is read");
    assert_eq!(lambda.policy, Read::NotFound);
    let key = plain.key.found().expect("the pending key is read");
    assert_eq!(key.state, "PendingDeletion");
    assert!(key.deletion_date.is_some());
    assert_eq!(plain.resource_policy, Read::NotFound);

    // In a VPC without a Secrets Manager endpoint; the default key.
    let lambda = networked.lambda.found().expect("rotate-vpc is read");
    let in_vpc = lambda.vpc.as_ref().expect("it runs in a VPC");
    assert_eq!(
        (in_vpc.subnet_ids.clone(), in_vpc.security_group_ids.clone()),
        (vec![subnet], vec![group.clone()])
    );
    let network = networked
        .network
        .as_ref()
        .expect("network facts for a VPC function");
    assert_eq!(network.endpoints, Read::Found(vec![]));
    let groups = network
        .security_groups
        .found()
        .expect("the Lambda's group is read");
    assert_eq!(
        groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        [group.as_str()]
    );
    assert!(groups[0]
        .egress
        .iter()
        .any(|p| p.protocol == "-1" && p.cidrs == ["0.0.0.0/0"]));
    assert!(network.route_tables.found().is_some());
    let key = networked
        .key
        .found()
        .expect("alias/aws/secretsmanager is read");
    assert!(key.arn.starts_with("arn:aws:kms:us-east-1:"), "{}", key.arn);

    // A function in another region than its secret is read there.
    assert_eq!(
        far.lambda.found().map(|l| l.arn.as_str()),
        Some(west.as_str())
    );
    assert!(west.starts_with("arn:aws:lambda:us-west-2:"), "{west}");

    // A function that is gone; its role is then unknown.
    assert_eq!(orphan.lambda, Read::NotFound);
    assert_eq!(orphan.network, None);
    assert!(
        matches!(orphan.role, Read::Failed { .. }),
        "{:?}",
        orphan.role
    );

    let calls = d.calls();
    assert_eq!(calls.of(Op::GetFunction), 5);
    assert_eq!(
        calls.of(Op::GetPolicy),
        4,
        "not for the function that is gone"
    );
    assert_eq!(calls.of(Op::GetResourcePolicy), 5);
    assert_eq!(
        (
            calls.of(Op::DescribeVpcEndpoints),
            calls.of(Op::DescribeSecurityGroups),
            calls.of(Op::DescribeRouteTables)
        ),
        (1, 1, 1)
    );
    // The default key is read once although three secrets use it.
    assert_eq!(calls.of(Op::DescribeKey), 3);
}

#[tokio::test]
async fn secrets_sharing_a_lambda_and_a_key_cost_one_read_of_each() {
    let moto = start_moto().await;
    let sources = loopback_sources(&moto.url, 60).await;
    let setup = Setup::new(sources.primary()).await;
    let shared = setup.function("rotate-shared", None, None).await;
    setup.allow_secrets_manager("rotate-shared").await;
    let (_, key) = setup.key().await;
    let mut secrets = Vec::new();
    for i in 0..6 {
        let arn = setup.secret(&format!("prod/app-{i}")).await;
        secrets.push(known(&arn, Some(&shared), Some(&key)));
    }
    let d = Diagnoser::new(&fast());

    // Two at once: the second waits for the first's reads.
    let (a, b) = tokio::join!(
        d.facts(&sources, &secrets[0]),
        d.facts(&sources, &secrets[1])
    );
    assert_eq!(a.lambda, b.lambda);
    assert!(
        a.lambda.found().is_some() && a.key.found().is_some(),
        "{a:?}"
    );
    let calls = d.calls();
    let reads = |op| calls.of(op);
    assert_eq!((reads(Op::GetFunction), reads(Op::GetPolicy)), (1, 1));
    assert_eq!(
        (
            reads(Op::DescribeKey),
            reads(Op::GetKeyPolicy),
            reads(Op::ListGrants)
        ),
        (1, 1, 1)
    );
    assert_eq!(reads(Op::GetResourcePolicy), 2, "one per secret");

    // The rest, many at a time, and the first two again: all kept.
    let all = d.facts_many(&sources, &secrets).await;
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|f| f.lambda == a.lambda && f.key == a.key));
    assert_eq!((reads(Op::GetFunction), reads(Op::DescribeKey)), (1, 1));
    assert_eq!(reads(Op::GetResourcePolicy), 6);
    // moto fails every simulation, and a failed read is not kept: each
    // secret asks again on itself (8 times); the key's simulations are
    // shared only while one is in flight.
    assert!(reads(Op::SimulatePrincipalPolicy) >= 8 + 2);
    assert_eq!(calls.over_budget(), 0);
}
