//! The writes: staging labels, deletion and restore, resource policies,
//! tags, CreateSecret.

use super::*;

#[tokio::test]
async fn update_version_stage_rolls_back() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| {
        p.scenario == Scenario::Healthy && p.versions >= 2 && p.custom_labels.is_empty()
    });
    let before = stages(&c, &p.name).await;
    let current = holder(&before, "AWSCURRENT").unwrap();
    let previous = holder(&before, "AWSPREVIOUS").unwrap();

    let err = c
        .update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&previous)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(err.message().unwrap().contains("RemoveFromVersionId"));

    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&previous)
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    let after = stages(&c, &p.name).await;
    assert_eq!(holder(&after, "AWSCURRENT"), Some(previous.clone()));
    assert_eq!(holder(&after, "AWSPREVIOUS"), Some(current.clone()));
    assert_eq!(after[&previous], vec!["AWSCURRENT".to_string()]);

    // A custom label, then removed: the version left without labels becomes deprecated.
    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("blue")
        .move_to_version_id(&current)
        .send()
        .await
        .unwrap();
    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("AWSPREVIOUS")
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    c.update_secret_version_stage()
        .secret_id(&p.name)
        .version_stage("blue")
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    assert!(!stages(&c, &p.name).await.contains_key(&current));
    let all = c
        .list_secret_version_ids()
        .secret_id(&p.name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert!(all
        .versions()
        .iter()
        .any(|v| v.version_id() == Some(current.as_str()) && v.version_stages().is_empty()));
    // The service model gives MoveToVersionId and RemoveFromVersionId
    // (SecretVersionIdType) a length of 32 to 64 characters: a shorter id
    // is a ValidationException, before the secret is looked up; a
    // well-formed id the secret does not have is not found.
    assert_eq!(
        code(
            c.update_secret_version_stage()
                .secret_id(&p.name)
                .version_stage("AWSCURRENT")
                .move_to_version_id("no-such-version")
                .remove_from_version_id(&previous)
                .send()
                .await
        ),
        "ValidationException"
    );
    assert_eq!(
        code(
            c.update_secret_version_stage()
                .secret_id(&p.name)
                .version_stage("AWSCURRENT")
                .move_to_version_id("00000000-0000-4000-8000-000000000000")
                .remove_from_version_id(&previous)
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn delete_and_restore() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::NeverRotated);
    assert_eq!(
        code(
            c.delete_secret()
                .secret_id(&p.name)
                .recovery_window_in_days(3)
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    assert_eq!(
        code(
            c.delete_secret()
                .secret_id(&p.name)
                .recovery_window_in_days(7)
                .force_delete_without_recovery(true)
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    let d = c
        .delete_secret()
        .secret_id(&p.name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert!(d.deletion_date().unwrap().secs() >= NOW + 7 * 86_400);
    let visible = names(&list_all(&c, 100, false, vec![], None).await);
    assert!(!visible.contains(&p.name));
    assert!(names(&list_all(&c, 100, true, vec![], None).await).contains(&p.name));
    assert!(c
        .describe_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap()
        .deleted_date()
        .is_some());
    let err = c
        .tag_resource()
        .secret_id(&p.name)
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err.message().unwrap().contains("marked for deletion"));
    assert_eq!(
        code(c.delete_secret().secret_id(&p.name).send().await),
        "InvalidRequestException"
    );

    c.restore_secret().secret_id(&p.name).send().await.unwrap();
    assert!(c
        .describe_secret()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap()
        .deleted_date()
        .is_none());
    assert_eq!(
        code(c.restore_secret().secret_id(&p.name).send().await),
        "InvalidRequestException"
    );

    c.delete_secret()
        .secret_id(&p.arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(c.describe_secret().secret_id(&p.name).send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(ep.endpoint.secret_count(), 299);
    // Forcing the delete of a secret that is gone is not an error.
    c.delete_secret()
        .secret_id(&p.name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn resource_policies() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| !p.deleted && !p.has_resource_policy);
    let none = c
        .get_resource_policy()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(none.resource_policy(), None);
    assert_eq!(none.arn(), Some(p.arn.as_str()));

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    c.put_resource_policy()
        .secret_id(&p.name)
        .resource_policy(policy)
        .block_public_policy(true)
        .send()
        .await
        .unwrap();
    let got = c
        .get_resource_policy()
        .secret_id(&p.arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.resource_policy(), Some(policy));

    assert_eq!(
        code(
            c.put_resource_policy()
                .secret_id(&p.name)
                .resource_policy("{not json")
                .send()
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    assert_eq!(
        code(
            c.put_resource_policy()
                .secret_id(&p.name)
                .resource_policy(r#"{"Version":"2012-10-17"}"#)
                .send()
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    let public = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    assert_eq!(
        code(
            c.put_resource_policy()
                .secret_id(&p.name)
                .resource_policy(public)
                .block_public_policy(true)
                .send()
                .await
        ),
        "PublicPolicyException"
    );
    c.put_resource_policy()
        .secret_id(&p.name)
        .resource_policy(public)
        .block_public_policy(false)
        .send()
        .await
        .unwrap();

    c.delete_resource_policy()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_resource_policy()
            .secret_id(&p.name)
            .send()
            .await
            .unwrap()
            .resource_policy(),
        None
    );
    let seeded = pick(&plan, |p| !p.deleted && p.has_resource_policy);
    assert!(c
        .get_resource_policy()
        .secret_id(&seeded.name)
        .send()
        .await
        .unwrap()
        .resource_policy()
        .is_some());
}

#[tokio::test]
async fn tag_and_untag() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| {
        !p.deleted && !p.has_owner_tag && p.owning_service.is_none()
    });
    c.tag_resource()
        .secret_id(&p.name)
        .tags(Tag::builder().key("owner").value("zoe@example.com").build())
        .tags(Tag::builder().key("team").value("payments").build())
        .send()
        .await
        .unwrap();
    let tags =
        |d: &sm::operation::describe_secret::DescribeSecretOutput| -> HashMap<String, String> {
            d.tags()
                .iter()
                .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
                .collect()
        };
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert_eq!(
        tags(&d).get("owner").map(String::as_str),
        Some("zoe@example.com")
    );
    assert_eq!(tags(&d).get("team").map(String::as_str), Some("payments"));
    let filtered =
        names(&list_all(&c, 100, false, vec![filter("tag-value", &["zoe@"])], None).await);
    assert!(filtered.contains(&p.name));
    // The cached orders follow the change: it is now the most recently changed secret.
    let newest = c
        .list_secrets()
        .sort_by(SortByType::LastChangedDate)
        .sort_order(SortOrderType::Desc)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(names(newest.secret_list()), vec![p.name.clone()]);
    let by_changed = list_all(
        &c,
        13,
        false,
        vec![],
        Some((SortByType::LastChangedDate, SortOrderType::Asc)),
    )
    .await;
    assert_eq!(by_changed.last().unwrap().name(), Some(p.name.as_str()));
    assert!(by_changed
        .windows(2)
        .all(|w| w[0].last_changed_date().unwrap() <= w[1].last_changed_date().unwrap()));

    c.untag_resource()
        .secret_id(&p.name)
        .tag_keys("owner")
        .send()
        .await
        .unwrap();
    let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    assert!(!tags(&d).contains_key("owner"));
    assert_eq!(tags(&d).get("team").map(String::as_str), Some("payments"));
}

#[tokio::test]
async fn create_secret_holds_no_value() {
    let ep = start(10).await;
    let c = client(&ep).await;
    let token = "11111111-2222-3333-4444-555555555555";
    let created = c
        .create_secret()
        .name("test/created/api-key")
        .description("Owner: test@example.com")
        .secret_string("this value is dropped")
        .client_request_token(token)
        .tags(Tag::builder().key("owner").value("test").build())
        .send()
        .await
        .unwrap();
    assert_eq!(created.version_id(), Some(token));
    assert!(created
        .arn()
        .unwrap()
        .starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:test/created/api-key-"));
    let s = stages(&c, "test/created/api-key").await;
    assert_eq!(s.get(token), Some(&vec!["AWSCURRENT".to_string()]));
    // The same token again is the same request.
    let again = c
        .create_secret()
        .name("test/created/api-key")
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.arn(), created.arn());
    assert_eq!(
        code(c.create_secret().name("test/created/api-key").send().await),
        "ResourceExistsException"
    );
    assert_eq!(
        code(c.create_secret().name("bad name <x>").send().await),
        "InvalidParameterException"
    );
    assert_eq!(ep.endpoint.secret_count(), 11);
    let by_name = names(
        &list_all(
            &c,
            4,
            true,
            vec![],
            Some((SortByType::Name, SortOrderType::Asc)),
        )
        .await,
    );
    assert_eq!(by_name.len(), 11);
    assert!(by_name.windows(2).all(|w| w[0] < w[1]));
    assert!(by_name.contains(&"test/created/api-key".to_string()));
    assert_eq!(
        code(
            c.get_secret_value()
                .secret_id("test/created/api-key")
                .send()
                .await
        ),
        "InvalidRequestException"
    );
}
