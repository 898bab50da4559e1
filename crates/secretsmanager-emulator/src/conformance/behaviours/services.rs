//! Beyond the Secrets Manager operations: CloudTrail LookupEvents, STS
//! AssumeRole, and Secrets Manager's own retry of a failed rotation.

use super::*;

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
pub(crate) async fn cloudtrail_pages_rotation_events_with_the_failure(t: &Target) {
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
    // The CreateSecret call is on the trail too (as on AWS); the rotation
    // follows it.
    let oldest: Vec<&str> = names
        .iter()
        .rev()
        .filter(|n| **n != "CreateSecret")
        .take(3)
        .copied()
        .collect();
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
pub(crate) async fn assume_role_answers_credentials_for_a_trusting_role(t: &Target) {
    use aws_config::sts::AssumeRoleProvider;
    let role = super::super::role_arn(OTHER_ACCOUNT);
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
    let untrusting = AssumeRoleProvider::builder(super::super::role_arn(UNTRUSTING_ACCOUNT))
        .session_name("secretscope-contract")
        .configure(&t.base)
        .build()
        .await;
    let refused = untrusting.provide_credentials().await;
    let nameless = AssumeRoleProvider::builder(super::super::role_arn(OTHER_ACCOUNT))
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
pub(crate) async fn secrets_manager_retries_a_failed_rotation_itself(t: &Target) {
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
    tokio::time::sleep(super::super::DEMO_RETRY_DELAY * 3).await;
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
    tokio::time::sleep(super::super::DEMO_RETRY_DELAY * 3).await;
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
