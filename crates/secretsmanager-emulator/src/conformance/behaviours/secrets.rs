//! Secrets as a whole: version ids, deletion and restore, replicas,
//! ListSecrets paging, DescribeSecret, resource policies.

use super::*;

/// The service model (botocore's secretsmanager 2017-10-17 service-2.json)
/// gives every version id and ClientRequestToken a length of 32 to 64:
/// `"SecretVersionIdType":{"type":"string","max":64,"min":32}`,
/// `"ClientRequestTokenType":{"type":"string","max":64,"min":32}`; a request
/// outside the model is a ValidationException, whatever the secret, and
/// changes nothing. A well-formed id the secret does not have:
/// ResourceNotFoundException, "Secrets Manager can't find the resource that
/// you asked for."
pub(crate) async fn version_ids_are_32_to_64_characters(t: &Target) {
    let name = "contract/stages/ids";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    let unknown =
        t.sm.update_secret_version_stage()
            .secret_id(name)
            .version_stage("contract")
            .move_to_version_id("99999999-9999-4999-8999-999999999999")
            .send()
            .await;
    if t.departs(UnknownVersionInvalidParameter) {
        let (code, message) = error(unknown);
        assert_eq!(code, "InvalidParameterException");
        assert!(message.contains("Not a valid version"), "{message}");
    } else {
        assert_eq!(code(unknown), "ResourceNotFoundException");
    }
    let short = "not-a-version";
    let long = "x".repeat(65);
    let stage = |secret: &str| {
        t.sm.update_secret_version_stage()
            .secret_id(secret)
            .version_stage(CURRENT)
    };
    let model = [
        stage(name)
            .move_to_version_id(short)
            .remove_from_version_id(V2)
            .send()
            .await,
        stage(name)
            .move_to_version_id(&long)
            .remove_from_version_id(V2)
            .send()
            .await,
        stage(name)
            .move_to_version_id(V1)
            .remove_from_version_id(short)
            .send()
            .await,
        stage("contract/no/such/secret")
            .move_to_version_id(short)
            .send()
            .await,
    ];
    let rotated =
        t.sm.rotate_secret()
            .secret_id(name)
            .rotation_lambda_arn(&t.lambda)
            .client_request_token("too-short")
            .send()
            .await;
    if t.departs(NoModelValidation) {
        let codes: Vec<String> = model.into_iter().map(code).collect();
        assert_eq!(
            codes,
            [
                "InvalidParameterException",
                "InvalidParameterException",
                "InvalidParameterException",
                "ResourceNotFoundException"
            ],
            "looked up, not validated"
        );
        assert_eq!(code(rotated), "InvalidParameterException");
    } else {
        for (r, field) in model.into_iter().zip([
            "moveToVersionId",
            "moveToVersionId",
            "removeFromVersionId",
            "moveToVersionId",
        ]) {
            let (code, message) = error(r);
            assert_eq!(code, "ValidationException", "{field}: {message}");
            assert!(
                message.contains(&format!("'{field}' failed to satisfy constraint")),
                "{message}"
            );
        }
        let (code, message) = error(rotated);
        assert_eq!(code, "ValidationException");
        assert!(message.contains("clientRequestToken"), "{message}");
    }
    if t.departs(RefusedStageChangeApplied) {
        assert_eq!(
            labelled(&labels(&t.sm, name).await),
            expect(&[(V1, &[PREVIOUS])]),
            "the refused calls took AWSCURRENT off V2"
        );
        return;
    }
    assert_eq!(
        labelled(&labels(&t.sm, name).await),
        expect(&[(V1, &[PREVIOUS]), (V2, &[CURRENT])]),
        "nothing changed"
    );
}

/// InvalidRequestException, API reference: "A parameter value is not valid
/// for the current state of the resource. Possible causes: [...] The secret
/// is scheduled for deletion." RestoreSecret: "Cancels the scheduled
/// deletion of a secret by removing the `DeletedDate` time stamp. You can
/// access a secret again after it has been restored."
pub(crate) async fn a_secret_scheduled_for_deletion_refuses_changes_until_restored(t: &Target) {
    let name = "contract/deleted/db";
    create(t, name).await;
    put(t, name, V2, &[]).await;
    t.sm.delete_secret()
        .secret_id(name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert!(d.deleted_date().is_some());
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let refused = rotate(t, name, V3).await.unwrap_err();
    assert!(
        refused.starts_with("InvalidRequestException: "),
        "{refused}"
    );
    assert_eq!(
        code(t.sm.cancel_rotate_secret().secret_id(name).send().await),
        "InvalidRequestException"
    );
    let changes = [
        answered(
            t.sm.update_secret_version_stage()
                .secret_id(name)
                .version_stage(CURRENT)
                .move_to_version_id(V1)
                .remove_from_version_id(V2)
                .send()
                .await,
        ),
        answered(
            t.sm.put_resource_policy()
                .secret_id(name)
                .resource_policy(policy)
                .send()
                .await,
        ),
        answered(t.sm.delete_resource_policy().secret_id(name).send().await),
    ];
    let codes: Vec<String> = changes
        .into_iter()
        .map(|r| r.err().map(|(code, _)| code).unwrap_or_default())
        .collect();
    if t.departs(DeletedSecretsChangeable) {
        assert_eq!(codes, ["", "", ""], "each succeeded");
    } else {
        assert_eq!(codes, ["InvalidRequestException"; 3]);
        assert_eq!(
            labelled(&labels(&t.sm, name).await),
            expect(&[(V1, &[PREVIOUS]), (V2, &[CURRENT])])
        );
    }
    t.sm.restore_secret().secret_id(name).send().await.unwrap();
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert!(d.deleted_date().is_none(), "restored");
    // Restored, it can be changed again.
    t.sm.put_resource_policy()
        .secret_id(name)
        .resource_policy(policy)
        .send()
        .await
        .unwrap();
}

/// User guide, "Promote a replica secret to a standalone secret": "A
/// replica secret can't be updated independently from its primary secret,
/// except for its encryption key." ("Replicate a secret to other Regions":
/// "If you turn on rotation for your primary secret, Secrets Manager
/// rotates the secret in the primary Region, and the new secret value
/// propagates to all of the associated replica secrets.") AWS answers
/// InvalidParameterException, "Operation not permitted on a replica secret.
/// Call must be made in primary secret's region." (as real accounts report
/// it: gruntwork-io/cloud-nuke#435, lgallard/terraform-aws-secrets-manager#188).
pub(crate) async fn a_replica_refuses_changes_in_its_region(t: &Target) {
    let name = "contract/replicated/api-key";
    let primary =
        t.sm.create_secret()
            .name(name)
            .secret_string("placeholder")
            .client_request_token(V1)
            .add_replica_regions(ReplicaRegionType::builder().region(REPLICA_REGION).build())
            .send()
            .await
            .unwrap();
    let d = t
        .replica
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.primary_region(),
        Some(super::super::REGION),
        "a replica of the primary"
    );
    assert!(d
        .arn()
        .unwrap()
        .contains(&format!(":{REPLICA_REGION}:{ACCOUNT}:secret:{name}-")));
    assert_ne!(d.arn(), primary.arn());
    let p = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    let replicas: Vec<(&str, &str)> = p
        .replication_status()
        .iter()
        .map(|r| {
            (
                r.region().unwrap_or_default(),
                r.status().map_or("", |s| s.as_str()),
            )
        })
        .collect();
    assert_eq!(replicas, [(REPLICA_REGION, "InSync")]);

    let c = &t.replica;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let refused = [
        (
            "RotateSecret",
            answered(
                c.rotate_secret()
                    .secret_id(name)
                    .rotation_lambda_arn(&t.lambda)
                    .send()
                    .await,
            ),
        ),
        (
            "CancelRotateSecret",
            answered(c.cancel_rotate_secret().secret_id(name).send().await),
        ),
        (
            "RestoreSecret",
            answered(c.restore_secret().secret_id(name).send().await),
        ),
        (
            "PutResourcePolicy",
            answered(
                c.put_resource_policy()
                    .secret_id(name)
                    .resource_policy(policy)
                    .send()
                    .await,
            ),
        ),
        (
            "DeleteResourcePolicy",
            answered(c.delete_resource_policy().secret_id(name).send().await),
        ),
    ];
    for (op, r) in refused {
        let (code, message) = r.expect_err(op);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", REPLICA),
            "{op}"
        );
    }
    let staged = c
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("contract")
        .move_to_version_id(V1)
        .send()
        .await;
    if t.departs(ReplicaStagesChangeable) {
        staged.expect("moto changes the labels through the replica");
        return;
    }
    let (code, message) = error(staged);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterException", REPLICA)
    );
    assert_eq!(
        labels(&t.sm, name).await,
        expect(&[(V1, &[CURRENT])]),
        "the primary is unchanged"
    );
}

/// ListSecrets, API reference: "Lists the secrets that are stored by
/// Secrets Manager in the Amazon Web Services account, not including
/// secrets that are marked for deletion." IncludePlannedDeletion:
/// "Specifies whether to include secrets scheduled for deletion. By
/// default, secrets scheduled for deletion aren't included." NextToken: "If
/// there are more results available, in the response, Secrets Manager
/// includes `NextToken`. To get the next results, call `ListSecrets` again
/// with the value from `NextToken`." SortBy: "If not specified, secrets are
/// listed by `CreatedDate`." The dashboard pages with MaxResults and
/// IncludePlannedDeletion=true; the name filter and SortBy are for other
/// clients of the demo endpoint (the aws CLI, boto3).
pub(crate) async fn list_secrets_pages_and_leaves_out_deleted_secrets_unless_asked(t: &Target) {
    let prefix = "contract/list/";
    let made = ["c", "a", "e", "b", "d"];
    for n in made {
        t.sm.create_secret()
            .name(format!("{prefix}{n}"))
            .secret_string("placeholder")
            .send()
            .await
            .unwrap();
    }
    t.sm.delete_secret()
        .secret_id(format!("{prefix}e"))
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let list = |include_deleted: bool, filter: bool, sort: Option<SortOrderType>| async move {
        let mut names = Vec::new();
        let mut deleted = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let mut req =
                t.sm.list_secrets()
                    .max_results(2)
                    .include_planned_deletion(include_deleted)
                    .set_next_token(token.take());
            if filter {
                req = req.filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(prefix)
                        .build(),
                );
            }
            if let Some(order) = &sort {
                req = req.sort_by(SortByType::Name).sort_order(order.clone());
            }
            let page = req.send().await.unwrap();
            assert!(page.secret_list().len() <= 2);
            for e in page.secret_list() {
                let n = e.name().unwrap().to_string();
                if let Some(short) = n.strip_prefix(prefix) {
                    if e.deleted_date().is_some() {
                        deleted.insert(short.to_string());
                    }
                    names.push(short.to_string());
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return (names, deleted),
            }
        }
    };
    let (live, deleted) = list(false, false, None).await;
    assert_eq!(
        live,
        ["c", "a", "b", "d"],
        "in creation order, the deleted one left out"
    );
    assert!(deleted.is_empty());
    let (all, deleted) = list(true, false, None).await;
    assert_eq!(all, made, "every page once, the deleted one too");
    assert_eq!(deleted, BTreeSet::from(["e".to_string()]));
    let (filtered, _) = list(true, true, None).await;
    assert_eq!(filtered, made, "the name filter");
    let (by_name, _) = list(true, true, Some(SortOrderType::Desc)).await;
    if t.departs(SortByIgnored) {
        assert_eq!(by_name, made, "creation order still");
        return;
    }
    assert_eq!(by_name, ["e", "d", "c", "b", "a"]);
}

/// DescribeSecret, API reference: "Retrieves the details of a secret. It
/// does not include the encrypted secret value. Secrets Manager only
/// returns fields that have a value in the response." The fields the
/// dashboard reads: ARN, Name, Description, KmsKeyId (absent for the
/// default key), RotationEnabled, RotationLambdaARN, RotationRules,
/// LastChangedDate, DeletedDate, NextRotationDate, Tags, VersionIdsToStages,
/// CreatedDate, PrimaryRegion ("The Region the secret is in.").
pub(crate) async fn describe_secret_reports_what_the_dashboard_reads(t: &Target) {
    let name = "contract/describe/db";
    let made =
        t.sm.create_secret()
            .name(name)
            .description("Orders database. Owner: alice@example.com")
            .secret_string("placeholder")
            .client_request_token(V1)
            .tags(
                Tag::builder()
                    .key("owner")
                    .value("alice@example.com")
                    .build(),
            )
            .tags(Tag::builder().key("team").value("orders").build())
            .send()
            .await
            .unwrap();
    rotate_later(t, name, V0).await;
    let d = t.sm.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(d.arn(), made.arn());
    assert!(d.arn().unwrap().starts_with(&format!(
        "arn:aws:secretsmanager:{}:{ACCOUNT}:secret:{name}-",
        super::super::REGION
    )));
    assert_eq!(d.name(), Some(name));
    assert_eq!(
        d.description(),
        Some("Orders database. Owner: alice@example.com")
    );
    assert_eq!(d.kms_key_id(), None, "the default key is not named");
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(d.rotation_lambda_arn(), Some(t.lambda.as_str()));
    assert_eq!(
        d.rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(30)
    );
    assert!(d.next_rotation_date().is_some());
    assert!(d.last_changed_date().is_some());
    assert!(d.created_date().is_some());
    assert!(d.deleted_date().is_none());
    assert_eq!(d.owning_service(), None);
    let tags: BTreeMap<&str, &str> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(
        tags,
        BTreeMap::from([("owner", "alice@example.com"), ("team", "orders")])
    );
    assert_eq!(
        holder(&labels_of(d.version_ids_to_stages()), CURRENT).as_deref(),
        Some(V1)
    );
    if t.departs(PrimaryRegionOnlyWhenReplicated) {
        assert_eq!(d.primary_region(), None);
    } else {
        assert_eq!(d.primary_region(), Some(super::super::REGION));
    }
    assert!(d.replication_status().is_empty());
    // By partial ARN (without the random suffix), too.
    let arn = d.arn().unwrap();
    let partial = &arn[..arn.len() - 7];
    let again =
        t.sm.describe_secret()
            .secret_id(partial)
            .send()
            .await
            .unwrap();
    assert_eq!(again.arn(), d.arn());
    assert_eq!(
        code(
            t.sm.describe_secret()
                .secret_id("contract/no/such/secret")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
}

/// GetResourcePolicy, API reference: "Retrieves the JSON text of the
/// resource-based policy document attached to the secret."
/// PutResourcePolicy: "Attaches a resource-based permission policy to a
/// secret." BlockPublicPolicy: "Specifies whether to block resource-based
/// policies that allow broad access to the secret, for example those that
/// use a wildcard for the principal." DeleteResourcePolicy: "Deletes the
/// resource-based permission policy attached to the secret."
/// ValidateResourcePolicy: "Validates that a resource policy does not grant
/// a wide range of principals access to your secret."; its
/// PolicyValidationPassed: "True if your policy passes validation,
/// otherwise false." (The dashboard validates, then puts with
/// BlockPublicPolicy, to grant access; deletes when nothing is left.)
pub(crate) async fn resource_policies_are_read_written_deleted_and_validated(t: &Target) {
    let name = "contract/policy/db";
    create(t, name).await;
    let get = || async {
        t.sm.get_resource_policy()
            .secret_id(name)
            .send()
            .await
            .unwrap()
            .resource_policy()
            .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
    };
    assert_eq!(get().await, None, "no policy yet");
    let grant = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "secretscope-grant",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/reader")},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    });
    let public = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]
    });
    let validate = |p: &serde_json::Value| {
        t.sm.validate_resource_policy()
            .secret_id(name)
            .resource_policy(p.to_string())
            .send()
    };
    let (granted, broad) = (validate(&grant).await, validate(&public).await);
    if t.departs(ValidateResourcePolicyMissing) {
        assert!(granted.is_err() && broad.is_err());
    } else {
        assert!(granted.unwrap().policy_validation_passed);
        let broad = broad.unwrap();
        assert!(!broad.policy_validation_passed);
        assert!(!broad.validation_errors().is_empty());
    }
    t.sm.put_resource_policy()
        .secret_id(name)
        .resource_policy(grant.to_string())
        .block_public_policy(true)
        .send()
        .await
        .unwrap();
    assert_eq!(get().await, Some(grant.clone()));
    let blocked =
        t.sm.put_resource_policy()
            .secret_id(name)
            .resource_policy(public.to_string())
            .block_public_policy(true)
            .send()
            .await;
    if t.departs(PublicPolicyNotBlocked) {
        blocked.unwrap();
        assert_eq!(get().await, Some(public));
    } else {
        assert_eq!(code(blocked), "PublicPolicyException");
        assert_eq!(get().await, Some(grant), "unchanged");
    }
    t.sm.delete_resource_policy()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert_eq!(get().await, None);
}
