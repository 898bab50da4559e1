//! Each behaviour word's rotation through the SDK: RotateSecret on the
//! seeded secret whose Lambda it is fails the way its configuration makes
//! it (or succeeds), on the rotation record and in CloudTrail's
//! RotationFailed.

use super::*;
use aws_sdk_cloudtrail as ct;
use ct::types::{LookupAttribute, LookupAttributeKey};

/// Removes AWSPENDING from a failed attempt's version, so RotateSecret may
/// start again ("If the AWSPENDING staging label is present but not attached
/// to the same version as AWSCURRENT, then any later invocation of
/// RotateSecret assumes that a previous rotation request is still in
/// progress and returns an error." — RotateSecret, API reference).
async fn clear_pending(c: &sm::Client, id: &str) {
    if let Some(stuck) = holder(&stages(c, id).await, "AWSPENDING") {
        c.update_secret_version_stage()
            .secret_id(id)
            .version_stage("AWSPENDING")
            .remove_from_version_id(stuck)
            .send()
            .await
            .unwrap();
    }
}

/// The newest RotationFailed's errorMessage CloudTrail has for `arn`.
async fn rotation_failed(url: &str, arn: &str) -> Option<String> {
    let trail = ct::Client::new(&config(url, REGION, "test").await);
    let page = trail
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::ResourceName)
                .attribute_value(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    page.events()
        .iter()
        .find(|e| e.event_name() == Some("RotationFailed"))
        .map(|e| {
            let record: serde_json::Value =
                serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap();
            record["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
}

/// What a failed rotation by `b` says after its step (the table in
/// `rotation.rs`).
fn says(b: LambdaBehaviour) -> &'static str {
    match b {
        LambdaBehaviour::Broken => "FATAL: password authentication failed for user \"app\"",
        LambdaBehaviour::FailCreate | LambdaBehaviour::EndpointVar => "Task timed out after 30.03 seconds",
        LambdaBehaviour::FailTest => "Unable to log into database with pending secret of secret ARN",
        LambdaBehaviour::FailFinish => {
            "An error occurred (AccessDeniedException) when calling the UpdateSecretVersionStage operation"
        }
        LambdaBehaviour::Timeout => "Task timed out after 3.00 seconds",
        LambdaBehaviour::NoKmsAccess => {
            "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: Access to KMS is not allowed"
        }
        LambdaBehaviour::KeyDisabled => "Secrets Manager can't decrypt the protected secret text using the provided KMS key",
        LambdaBehaviour::KeyPending => "is pending deletion.",
        LambdaBehaviour::Denied => "with an explicit deny in a resource-based policy",
        other => panic!("{other:?} does not fail a step"),
    }
}

/// Every failure cause of the seed, in turn: the plan says how its next
/// rotation goes, and it goes so.
///
/// - "When rotation is unsuccessful, the AWSPENDING staging label might be
///   attached to an empty secret version." (RotateSecret, API reference):
///   a failing step leaves AWSPENDING on the new version, AWSCURRENT where
///   it was, and CloudTrail's RotationFailed ("Generated when rotation
///   fails." — user guide, CloudTrail events) carries the step and message.
/// - "When you add a Lambda rotation function Amazon Resource Name (ARN) to
///   your secret, Secrets Manager checks the permissions of the function."
///   (user guide, troubleshoot_rotation): `noinvoke` (its policy) and
///   `missing` (gone) are AccessDeniedException at RotateSecret; and "The
///   Lambda function and the Secrets Manager secret that invokes the
///   function must be in the same AWS Region. If located different regions,
///   you receive a 'Lambda does not exist' error message" (user guide,
///   rotating-secrets-lambda-function-customizing): `otherregion`.
#[tokio::test]
async fn each_cause_fails_its_rotation_as_the_plan_says() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    for b in seed::FAILING_IN_TURN
        .into_iter()
        .chain([LambdaBehaviour::Missing])
    {
        let p = with_lambda(&plan, b);
        clear_pending(&c, &p.arn).await;
        let before = stages(&c, &p.arn).await;
        let current = holder(&before, "AWSCURRENT");
        let rotated = c.rotate_secret().secret_id(&p.arn).send().await;
        if p.rotate_refused {
            let err = rotated.unwrap_err();
            assert_eq!(err.code(), Some("AccessDeniedException"), "{b:?}");
            let m = err.message().unwrap();
            if b == LambdaBehaviour::OtherRegion {
                assert!(
                    m.starts_with("Lambda does not exist: arn:aws:lambda:us-west-2:"),
                    "{m}"
                );
            } else {
                assert!(
                    m.contains("grants access to the principal secretsmanager.amazonaws.com"),
                    "{m}"
                );
            }
            assert_eq!(stages(&c, &p.arn).await, before, "{b:?}: nothing changed");
            continue;
        }
        let version = rotated.unwrap().version_id().unwrap().to_string();
        let record = finished_rotation(&ep.endpoint, &p.name).await;
        let step = p.fails_at.unwrap_or_else(|| panic!("{b:?} fails a step"));
        assert_eq!(record.outcome, RotationOutcome::Failed, "{b:?}");
        let last = record.steps.last().unwrap();
        assert_eq!((last.step, last.ok), (step, false), "{b:?}");
        let message = record.message.unwrap();
        assert!(
            message.contains(&format!(" failed at {}: ", step.as_str())),
            "{message}"
        );
        assert!(message.contains(says(b)), "{b:?}: {message}");
        let after = stages(&c, &p.arn).await;
        assert_eq!(holder(&after, "AWSCURRENT"), current, "{b:?}");
        assert_eq!(holder(&after, "AWSPENDING"), Some(version), "{b:?}");
        let trail = rotation_failed(&ep.url(), &p.arn).await.unwrap();
        assert_eq!(trail, message, "{b:?}: CloudTrail records the failure");
    }
}

/// The functions that rotate fine although the dashboard may warn about
/// them: `deprecated` (python3.7: Lambda does not block invoking a function
/// on a deprecated runtime) and `nat` (no endpoint, but a NAT gateway to
/// the public endpoint: "you can enable your Lambda function to access a
/// Secrets Manager public endpoint by adding a NAT gateway" — user guide,
/// "Network access for Lambda rotation function").
#[tokio::test]
async fn deprecated_and_nat_functions_rotate_fine() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    for b in [LambdaBehaviour::Deprecated, LambdaBehaviour::Nat] {
        let p = with_lambda(&plan, b);
        assert_eq!(
            (p.fails_at, p.rotate_refused, p.cause.as_deref()),
            (None, false, None)
        );
        let rotated = c.rotate_secret().secret_id(&p.arn).send().await.unwrap();
        let record = finished_rotation(&ep.endpoint, &p.name).await;
        assert_eq!(record.outcome, RotationOutcome::Succeeded, "{b:?}");
        assert_eq!(
            holder(&stages(&c, &p.arn).await, "AWSCURRENT").as_deref(),
            rotated.version_id()
        );
    }
}

/// The cause is the configuration, not the word: a secret encrypted with
/// the disabled key fails with an `ok` Lambda at createSecret, and so does a
/// healthy secret once its resource policy denies its function's role.
#[tokio::test]
async fn a_healthy_function_fails_on_a_misconfigured_secret() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let ok = plan
        .iter()
        .filter(|p| !p.hostile && p.scenario == Scenario::Healthy)
        .filter(|p| p.lambda_behaviour == Some(LambdaBehaviour::Ok))
        .take(2)
        .collect::<Vec<_>>();
    c.create_secret()
        .name("diagnosis/on-a-disabled-key")
        .kms_key_id("alias/rotation-disabled")
        .secret_string("dropped by the endpoint")
        .send()
        .await
        .unwrap();
    let lambda = ok[0].rotation_lambda.clone().unwrap();
    c.rotate_secret()
        .secret_id("diagnosis/on-a-disabled-key")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap();
    let record = finished_rotation(&ep.endpoint, "diagnosis/on-a-disabled-key").await;
    assert_eq!(record.outcome, RotationOutcome::Failed);
    let message = record.message.unwrap();
    assert!(
        message.contains("failed at createSecret: An error occurred (DecryptionFailure)"),
        "{message}"
    );

    let team = ok[1].team.clone().unwrap();
    let deny = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/SecretsManagerRotation-{team}")},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]});
    c.put_resource_policy()
        .secret_id(&ok[1].arn)
        .resource_policy(deny.to_string())
        .send()
        .await
        .unwrap();
    c.rotate_secret()
        .secret_id(&ok[1].arn)
        .send()
        .await
        .unwrap();
    let record = finished_rotation(&ep.endpoint, &ok[1].name).await;
    assert_eq!(record.outcome, RotationOutcome::Failed);
    assert!(record
        .message
        .unwrap()
        .ends_with("with an explicit deny in a resource-based policy"));
}
