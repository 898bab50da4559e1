//! IAM SimulatePrincipalPolicy through `aws-sdk-iam`, for the rotation
//! Lambdas' roles.

use super::*;
use iam::types::PolicyEvaluationDecisionType as Decision;

/// What the AWS rotation templates' role must be allowed on its secret.
const ROLE_ACTIONS: [&str; 4] = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
];

async fn simulate(
    c: &Clients,
    role: &str,
    secret: &str,
    resource_policy: Option<String>,
) -> Vec<(String, String, Decision)> {
    let mut req = c
        .iam
        .simulate_principal_policy()
        .policy_source_arn(role)
        .resource_arns(secret)
        .set_resource_policy(resource_policy);
    for a in ROLE_ACTIONS {
        req = req.action_names(a);
    }
    req.send()
        .await
        .unwrap()
        .evaluation_results()
        .iter()
        .map(|r| {
            (
                r.eval_action_name().to_string(),
                r.eval_resource_name().unwrap_or_default().to_string(),
                r.eval_decision().clone(),
            )
        })
        .collect()
}

async fn role_of(c: &Clients, p: &PlannedSecret) -> String {
    let arn = p.rotation_lambda.clone().unwrap();
    let out = c
        .lambda
        .get_function()
        .function_name(arn)
        .send()
        .await
        .unwrap();
    out.configuration().unwrap().role().unwrap().to_string()
}

/// "Simulate how a set of IAM policies attached to an IAM entity works with
/// a list of API operations and Amazon Web Services resources to determine
/// the policies' effective permissions." (SimulatePrincipalPolicy, IAM API
/// reference): a healthy function's role is `allowed` the four rotation
/// actions on its secret (one result per action, EvalResourceName the
/// secret); a `failfinish` function's role gets `implicitDeny` for
/// UpdateSecretVersionStage only.
#[tokio::test]
async fn simulation_shows_what_each_rotation_role_may_do() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let ok = with_lambda(&plan, LambdaBehaviour::Ok);
    let results = simulate(&c, &role_of(&c, ok).await, &ok.arn, None).await;
    assert_eq!(results.len(), 4);
    for ((action, resource, decision), expected) in results.iter().zip(ROLE_ACTIONS) {
        assert_eq!(
            (action.as_str(), resource.as_str()),
            (expected, ok.arn.as_str())
        );
        assert_eq!(decision, &Decision::Allowed, "{action}");
    }
    let finish = with_lambda(&plan, LambdaBehaviour::FailFinish);
    let role = role_of(&c, finish).await;
    assert!(role.ends_with("-nostage"), "{role}");
    let decisions: Vec<Decision> = simulate(&c, &role, &finish.arn, None)
        .await
        .into_iter()
        .map(|(_, _, d)| d)
        .collect();
    assert_eq!(
        decisions,
        [
            Decision::Allowed,
            Decision::Allowed,
            Decision::Allowed,
            Decision::ImplicitDeny
        ]
    );
}

/// "ResourcePolicy: A resource-based policy to include in the simulation
/// provided as a string." (SimulatePrincipalPolicy): with the `denied`
/// secret's resource policy (its GetResourcePolicy), every action is an
/// `explicitDeny` for the function's role.
#[tokio::test]
async fn simulation_with_the_resource_policy_shows_its_explicit_deny() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let sm = client(&ep).await;
    let plan = ep.endpoint.plan();
    let denied = with_lambda(&plan, LambdaBehaviour::Denied);
    let policy = sm
        .get_resource_policy()
        .secret_id(&denied.arn)
        .send()
        .await
        .unwrap()
        .resource_policy()
        .map(str::to_string);
    assert!(policy.is_some());
    let role = role_of(&c, denied).await;
    let without = simulate(&c, &role, &denied.arn, None).await;
    assert!(without.iter().all(|(_, _, d)| *d == Decision::Allowed));
    let with = simulate(&c, &role, &denied.arn, policy).await;
    assert!(
        with.iter().all(|(_, _, d)| *d == Decision::ExplicitDeny),
        "{with:?}"
    );
}

/// NoSuchEntity: "The request was rejected because it referenced a resource
/// entity that does not exist. The error message describes the resource."
/// (SimulatePrincipalPolicy, Errors).
#[tokio::test]
async fn unknown_roles_are_no_such_entity() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    let err = c
        .iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:role/nobody"))
        .action_names("secretsmanager:GetSecretValue")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_no_such_entity_exception()),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some("The role with name nobody cannot be found.")
    );
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
}

/// A caller refused iam:SimulatePrincipalPolicy gets 403 AccessDenied
/// naming the action and the role.
#[tokio::test]
async fn denied_simulation_is_access_denied() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    ep.endpoint
        .set_denied_actions(None, &["iam:SimulatePrincipalPolicy".to_string()]);
    let role = format!("arn:aws:iam::{ACCOUNT}:role/SecretsManagerRotation-payments");
    let (code, status, message) = code_and_status(
        c.iam
            .simulate_principal_policy()
            .policy_source_arn(&role)
            .action_names("secretsmanager:GetSecretValue")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/secretscope-demo is not authorized to perform: \
             iam:SimulatePrincipalPolicy on resource: {role} because no identity-based policy allows \
             the iam:SimulatePrincipalPolicy action"
        )
    );
}
