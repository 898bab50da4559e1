//! The denial switch (`POST /__secretscope/denied-actions`), the demo
//! organisation's legacy account that starts with it, and the routing of
//! the diagnosis services in an organisation.

use super::*;
use crate::org::{OrgOptions, LEGACY_ACCOUNT, LEGACY_DENIED};
use axum::body::Body;
use tower::ServiceExt;

async fn post(ep: &LocalEndpoint, content_type: &str, body: &str) -> (u16, serde_json::Value) {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/__secretscope/denied-actions")
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = ep.router().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// The control route: JSON only (as every control POST), well-formed
/// actions only; the switch turns each service's access-denied answer on
/// for the actions listed, and an empty list lifts it.
#[tokio::test]
async fn the_denial_switch_is_a_json_control_route() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    let (status, _) = post(&ep.endpoint, "text/plain", r#"{"actions": ["ec2:*"]}"#).await;
    assert_eq!(status, 415);
    let (status, body) = post(
        &ep.endpoint,
        "application/json",
        r#"{"actions": ["DescribeKey"]}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        &ep.endpoint,
        "application/json",
        r#"{"actions": ["ec2:*", "kms:DescribeKey", "secretsmanager:GetResourcePolicy"]}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({ACCOUNT: ["ec2:*", "kms:DescribeKey", "secretsmanager:GetResourcePolicy"]})
    );
    assert_eq!(ep.endpoint.denied_actions()[ACCOUNT].len(), 3);
    let (code, status, _) = code_and_status(c.ec2.describe_route_tables().send().await);
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    let (code, _, _) = code_and_status(
        c.kms
            .describe_key()
            .key_id("alias/aws/secretsmanager")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    let sm = client(&ep).await;
    let plan = ep.endpoint.plan();
    let (code, _, message) = code_and_status(
        sm.get_resource_policy()
            .secret_id(&plan[0].arn)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains("secretsmanager:GetResourcePolicy on resource: arn:aws:secretsmanager:"),
        "{message}"
    );
    sm.describe_secret()
        .secret_id(&plan[0].arn)
        .send()
        .await
        .unwrap();

    let (status, body) = post(&ep.endpoint, "application/json", r#"{"actions": []}"#).await;
    assert_eq!((status, body), (200, serde_json::json!({})));
    c.ec2.describe_route_tables().send().await.unwrap();
}

/// The demo organisation's legacy account starts refusing
/// iam:SimulatePrincipalPolicy and kms:GetKeyPolicy (so those checks are
/// "could not be checked" once its role trusts the dashboard); its other
/// reads, and the other accounts', answer. IAM is global: a client in
/// us-east-1 reaches the legacy account, whose only region is
/// ap-southeast-2. The switch, per account, lifts it.
#[tokio::test]
async fn the_demo_legacy_account_refuses_simulation_and_key_policies() {
    let ep = crate::spawn_org(
        OrgOptions::demo(LocalOptions {
            seed_secrets: 60,
            ..options(60)
        }),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    // A key AssumeRole would hand out for the legacy account (signatures
    // are not verified).
    let legacy_key = format!("ASIA{LEGACY_ACCOUNT}TEST");
    let legacy = clients_as(&ep.url(), "ap-southeast-2", &legacy_key).await;
    let role = format!("arn:aws:iam::{LEGACY_ACCOUNT}:role/SecretsManagerRotation-payments");
    let simulate = |c: &Clients, role: String| {
        c.iam
            .simulate_principal_policy()
            .policy_source_arn(role)
            .action_names("secretsmanager:GetSecretValue")
            .send()
    };
    let (code, status, message) = code_and_status(simulate(&legacy, role.clone()).await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert!(message.starts_with(&format!(
        "User: arn:aws:sts::{LEGACY_ACCOUNT}:assumed-role/secretscope-read/"
    )));
    let key = "alias/aws/secretsmanager";
    let arn = legacy.kms.describe_key().key_id(key).send().await.unwrap();
    let arn = arn.key_metadata().unwrap().arn().unwrap().to_string();
    assert!(arn.starts_with(&format!("arn:aws:kms:ap-southeast-2:{LEGACY_ACCOUNT}:key/")));
    let (code, _, _) = code_and_status(legacy.kms.get_key_policy().key_id(&arn).send().await);
    assert_eq!(code, "AccessDeniedException");
    legacy.kms.list_grants().key_id(&arn).send().await.unwrap();
    legacy.ec2.describe_vpc_endpoints().send().await.unwrap();
    let f = "SecretsManagerRotation-ok-payments-postgres";
    let got = legacy
        .lambda
        .get_function()
        .function_name(f)
        .send()
        .await
        .unwrap();
    assert!(got
        .configuration()
        .unwrap()
        .function_arn()
        .unwrap()
        .starts_with(&format!("arn:aws:lambda:ap-southeast-2:{LEGACY_ACCOUNT}:")));

    let main = clients(&ep).await;
    let main_role = format!("arn:aws:iam::{ACCOUNT}:role/SecretsManagerRotation-payments");
    simulate(&main, main_role).await.unwrap();
    assert_eq!(
        ep.endpoint.denied_actions()[LEGACY_ACCOUNT],
        LEGACY_DENIED.map(String::from)
    );
    ep.endpoint.set_denied_actions(Some(LEGACY_ACCOUNT), &[]);
    simulate(&legacy, role).await.unwrap();
}

/// In an organisation, an `otherregion` function of the main account is
/// found in its own region (a region the account has no seed in), the
/// query protocol goes where the credential scope's service says, and a
/// form post for STS still reaches STS.
#[tokio::test]
async fn an_organisation_routes_the_diagnosis_services() {
    let ep = crate::spawn_org(
        OrgOptions::demo(LocalOptions {
            seed_secrets: 300,
            ..options(300)
        }),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let plan = ep.endpoint.plan();
    let other = with_lambda(&plan, LambdaBehaviour::OtherRegion)
        .rotation_lambda
        .clone()
        .unwrap();
    let west = clients_as(&ep.url(), "us-west-2", "test").await;
    let found = west
        .lambda
        .get_function()
        .function_name(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        found.configuration().unwrap().function_arn(),
        Some(other.as_str())
    );
    let east = clients(&ep).await;
    let err = east
        .lambda
        .get_function()
        .function_name(&other)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    let eu = clients_as(&ep.url(), "eu-west-1", "test").await;
    let out = eu.ec2.describe_vpc_endpoints().send().await.unwrap();
    assert!(out.vpc_endpoints()[0]
        .service_name()
        .is_some_and(|s| s == "com.amazonaws.eu-west-1.secretsmanager"));
    let sts = aws_sdk_secretsmanager::config::Region::new("us-east-1");
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(ep.url())
        .region(sts)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .load()
        .await;
    let assumed = aws_config::sts::AssumeRoleProvider::builder(crate::org::role_arn(
        crate::org::PAYMENTS_ACCOUNT,
    ))
    .external_id(crate::org::DEMO_EXTERNAL_ID)
    .session_name("diagnosis")
    .configure(&conf)
    .build()
    .await;
    use aws_credential_types::provider::ProvideCredentials;
    let creds = assumed.provide_credentials().await.unwrap();
    assert!(creds
        .access_key_id()
        .starts_with(&format!("ASIA{}", crate::org::PAYMENTS_ACCOUNT)));
}
