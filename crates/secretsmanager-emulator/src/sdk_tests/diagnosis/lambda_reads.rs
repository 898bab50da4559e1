//! Lambda GetFunction and GetPolicy through `aws-sdk-lambda`.

use super::*;

fn configuration(
    out: &lambda::operation::get_function::GetFunctionOutput,
) -> &lambda::types::FunctionConfiguration {
    out.configuration()
        .expect("GetFunction answers the configuration")
}

fn epoch_ms(last_modified: &str) -> i64 {
    chrono::DateTime::parse_from_str(last_modified, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .unwrap_or_else(|e| panic!("{last_modified}: {e}"))
        .timestamp_millis()
}

/// "Returns information about the function or function version, with a
/// link to download the deployment package that's valid for 10 minutes."
/// (GetFunction, Lambda API reference). FunctionName: "The name or ARN of
/// the Lambda function, version, or alias." — name, full ARN and partial
/// ARN all name it.
#[tokio::test]
async fn get_function_answers_a_healthy_rotation_function() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let p = with_lambda(&plan, LambdaBehaviour::Ok);
    let arn = p.rotation_lambda.clone().unwrap();
    let name = crate::arn::function_name(&arn).to_string();
    let out = c
        .lambda
        .get_function()
        .function_name(&arn)
        .send()
        .await
        .unwrap();
    let f = configuration(&out);
    assert_eq!(f.function_name(), Some(name.as_str()));
    assert_eq!(f.function_arn(), Some(arn.as_str()));
    assert_eq!(f.runtime().map(|r| r.as_str()), Some("python3.12"));
    assert_eq!(f.timeout(), Some(30));
    let team = p.team.as_deref().unwrap();
    assert_eq!(
        f.role(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/SecretsManagerRotation-{team}").as_str())
    );
    // "The date and time that the function was last updated, in ISO-8601
    // format (YYYY-MM-DDThh:mm:ss.sTZD)." (FunctionConfiguration)
    let modified = f.last_modified().unwrap();
    assert!(
        modified.ends_with("+0000") && modified.len() == 28,
        "{modified}"
    );
    assert!(
        epoch_ms(modified) < NOW * 1000 - 300 * 86_400_000,
        "long before"
    );
    let vars = f.environment().and_then(|e| e.variables()).unwrap();
    assert_eq!(
        vars.get("SECRETS_MANAGER_ENDPOINT").map(String::as_str),
        Some("https://secretsmanager.us-east-1.amazonaws.com")
    );
    let app = out
        .tags()
        .unwrap()
        .get("serverlessrepo:applicationId")
        .unwrap();
    assert!(
        app.starts_with(
            "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManager"
        ),
        "{app}"
    );

    let by_name = c
        .lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(configuration(&by_name).function_arn(), Some(arn.as_str()));
    let partial = format!("{ACCOUNT}:function:{name}");
    let by_partial = c
        .lambda
        .get_function()
        .function_name(&partial)
        .send()
        .await
        .unwrap();
    assert_eq!(
        configuration(&by_partial).function_arn(),
        Some(arn.as_str())
    );

    // About half of the healthy functions run in the application VPC, with
    // both template strategies among them.
    let mut in_vpc = 0;
    let mut strategies = BTreeSet::new();
    let healthy: BTreeSet<String> = plan
        .iter()
        .filter(|p| p.lambda_behaviour == Some(LambdaBehaviour::Ok))
        .filter_map(|p| p.rotation_lambda.clone())
        .collect();
    for arn in &healthy {
        let out = c
            .lambda
            .get_function()
            .function_name(arn)
            .send()
            .await
            .unwrap();
        in_vpc += usize::from(configuration(&out).vpc_config().is_some());
        let app = &out.tags().unwrap()["serverlessrepo:applicationId"];
        strategies.extend(
            ["SingleUser", "MultiUser"]
                .into_iter()
                .filter(|s| app.ends_with(s)),
        );
    }
    assert!(
        in_vpc * 4 > healthy.len() && in_vpc * 4 < healthy.len() * 3,
        "{in_vpc} of {}",
        healthy.len()
    );
    assert_eq!(strategies.len(), 2, "{strategies:?}");
}

/// The misconfigured functions show their cause: a VPC with no way out
/// (`failcreate`), a 3-second Timeout (`timeout`), a deprecated runtime
/// (`deprecated`), a change 1 to 3 hours before the failure (`failtest`), a
/// role without UpdateSecretVersionStage (`failfinish`).
#[tokio::test]
async fn get_function_shows_each_misconfiguration() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let get = |b: LambdaBehaviour| {
        let arn = with_lambda(&plan, b).rotation_lambda.clone().unwrap();
        let lambda = c.lambda.clone();
        async move {
            lambda
                .get_function()
                .function_name(arn)
                .send()
                .await
                .unwrap()
        }
    };
    let isolated = crate::infra::names::ec2_id("vpc", ACCOUNT, REGION, "isolated/vpc");
    let out = get(LambdaBehaviour::FailCreate).await;
    let vpc = configuration(&out).vpc_config().unwrap();
    assert_eq!(vpc.vpc_id(), Some(isolated.as_str()));
    assert_eq!(vpc.subnet_ids().len(), 2);
    assert_eq!(vpc.security_group_ids().len(), 1);
    assert_eq!(
        configuration(&get(LambdaBehaviour::Timeout).await).timeout(),
        Some(3)
    );
    let deprecated = get(LambdaBehaviour::Deprecated).await;
    assert_eq!(
        configuration(&deprecated).runtime().map(|r| r.as_str()),
        Some("python3.7")
    );
    let natless = crate::infra::names::ec2_id("vpc", ACCOUNT, REGION, "natless/vpc");
    let out = get(LambdaBehaviour::EndpointVar).await;
    assert_eq!(
        configuration(&out).vpc_config().and_then(|v| v.vpc_id()),
        Some(natless.as_str())
    );
    let finish = get(LambdaBehaviour::FailFinish).await;
    assert!(configuration(&finish).role().unwrap().ends_with("-nostage"));

    let p = with_lambda(&plan, LambdaBehaviour::FailTest);
    let failed = ep
        .endpoint
        .secret_data(&p.name)
        .unwrap()
        .versions
        .iter()
        .find(|v| v.stages == ["AWSPENDING"])
        .unwrap()
        .created;
    let modified = epoch_ms(
        configuration(&get(LambdaBehaviour::FailTest).await)
            .last_modified()
            .unwrap(),
    );
    let before = failed - modified;
    assert!(
        (3_600_000..=3 * 3_600_000).contains(&before),
        "changed {before} ms before"
    );
}

/// "Returns the resource-based IAM policy for a function, version, or
/// alias." (GetPolicy); "The role policy for the function must grant the
/// Secrets Manager service principal secretsmanager.amazonaws.com permission
/// to invoke the function (lambda:InvokeFunction)." (user guide,
/// troubleshoot_rotation): a healthy function's does, with the account as
/// aws:SourceAccount; a `noinvoke` one's does not.
#[tokio::test]
async fn get_policy_shows_who_may_invoke() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let policy = |b: LambdaBehaviour| {
        let arn = with_lambda(&plan, b).rotation_lambda.clone().unwrap();
        let lambda = c.lambda.clone();
        async move {
            let out = lambda.get_policy().function_name(arn).send().await.unwrap();
            assert!(out.revision_id().is_some());
            serde_json::from_str::<serde_json::Value>(out.policy().unwrap()).unwrap()
        }
    };
    let ok = policy(LambdaBehaviour::Ok).await;
    let s = &ok["Statement"][0];
    assert_eq!(s["Principal"]["Service"], "secretsmanager.amazonaws.com");
    assert_eq!(s["Action"], "lambda:InvokeFunction");
    assert_eq!(s["Condition"]["StringEquals"]["AWS:SourceAccount"], ACCOUNT);
    let none = policy(LambdaBehaviour::NoInvoke).await;
    let statements = none["Statement"].as_array().unwrap();
    assert!(!statements.is_empty());
    assert!(statements
        .iter()
        .all(|s| s["Principal"]["Service"] != "secretsmanager.amazonaws.com"));
}

/// ResourceNotFoundException: "The resource specified in the request does
/// not exist." (GetFunction, Errors) — a `missing` function, a name the
/// seed never made, a function of another region asked in this one; an
/// `otherregion` function is found in its own region.
#[tokio::test]
async fn unknown_functions_are_resource_not_found() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let missing = with_lambda(&plan, LambdaBehaviour::Missing)
        .rotation_lambda
        .clone()
        .unwrap();
    let err = c
        .lambda
        .get_function()
        .function_name(&missing)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some(format!("Function not found: {missing}").as_str())
    );
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
    let err = c
        .lambda
        .get_policy()
        .function_name("no-such-function")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));

    let other = with_lambda(&plan, LambdaBehaviour::OtherRegion)
        .rotation_lambda
        .clone()
        .unwrap();
    assert!(other.starts_with("arn:aws:lambda:us-west-2:"), "{other}");
    let err = c
        .lambda
        .get_function()
        .function_name(&other)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    assert_eq!(
        err.message(),
        Some("Functions from 'us-west-2' are not reachable in this region ('us-east-1')")
    );
    let west = clients_as(&ep.url(), "us-west-2", "test").await;
    let found = west
        .lambda
        .get_function()
        .function_name(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(configuration(&found).function_arn(), Some(other.as_str()));
    let (code, status, _) = code_and_status(
        west.lambda
            .get_function()
            .function_name(crate::arn::function_name(&missing))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ResourceNotFoundException", 404));
}

/// A caller whose policies do not allow lambda:GetFunction gets 403
/// AccessDeniedException naming the action, and so for GetPolicy.
#[tokio::test]
async fn denied_lambda_reads_are_access_denied() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let arn = with_lambda(&plan, LambdaBehaviour::Ok)
        .rotation_lambda
        .clone()
        .unwrap();
    ep.endpoint
        .set_denied_actions(None, &["lambda:GetFunction".to_string()]);
    let (code, status, message) =
        code_and_status(c.lambda.get_function().function_name(&arn).send().await);
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 403));
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/secretscope-demo is not authorized to perform: \
             lambda:GetFunction on resource: {arn} because no identity-based policy allows the \
             lambda:GetFunction action"
        )
    );
    c.lambda
        .get_policy()
        .function_name(&arn)
        .send()
        .await
        .unwrap();
    ep.endpoint
        .set_denied_actions(None, &["lambda:*".to_string()]);
    let (code, _, _) = code_and_status(c.lambda.get_policy().function_name(&arn).send().await);
    assert_eq!(code, "AccessDeniedException");
    ep.endpoint.set_denied_actions(None, &[]);
    c.lambda
        .get_function()
        .function_name(&arn)
        .send()
        .await
        .unwrap();
}
