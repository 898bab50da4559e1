//! DescribeSecret and ListSecretVersionIds, the seed behind them, and
//! hostile metadata served verbatim.

use super::*;

#[tokio::test]
async fn describe_by_name_full_and_partial_arn() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.scenario == Scenario::ReplicaFailed);
    let by_name = c.describe_secret().secret_id(&p.name).send().await.unwrap();
    let by_arn = c.describe_secret().secret_id(&p.arn).send().await.unwrap();
    let partial = &p.arn[..p.arn.len() - 7];
    let by_partial = c.describe_secret().secret_id(partial).send().await.unwrap();
    for d in [&by_name, &by_arn, &by_partial] {
        assert_eq!(d.arn(), Some(p.arn.as_str()));
        assert_eq!(d.name(), Some(p.name.as_str()));
    }
    let replicas = by_name.replication_status();
    assert_eq!(replicas.len(), p.replica_regions.len());
    let failed: Vec<_> = replicas
        .iter()
        .filter(|r| r.status() == Some(&sm::types::StatusType::Failed))
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].status_message().is_some());
    let stages = by_name.version_ids_to_stages().unwrap();
    assert_eq!(
        stages
            .values()
            .filter(|l| l.iter().any(|x| x == "AWSCURRENT"))
            .count(),
        1
    );

    let deleted = pick(&plan, |p| p.deleted);
    let d = c
        .describe_secret()
        .secret_id(&deleted.name)
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date().is_some());

    assert_eq!(
        code(c.describe_secret().secret_id("no/such/secret").send().await),
        "ResourceNotFoundException"
    );
    let wrong_suffix = format!("{partial}-ZZZZZZ");
    assert_eq!(
        code(c.describe_secret().secret_id(wrong_suffix).send().await),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn version_ids_with_and_without_deprecated() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let p = pick(&plan, |p| p.deprecated_versions > 0 && !p.deleted);
    let current = c
        .list_secret_version_ids()
        .secret_id(&p.name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.versions().len(), p.versions - p.deprecated_versions);
    assert!(current
        .versions()
        .iter()
        .all(|v| !v.version_stages().is_empty()));
    assert_eq!(current.arn(), Some(p.arn.as_str()));
    let all = c
        .list_secret_version_ids()
        .secret_id(&p.name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), p.versions);
    assert_eq!(
        all.versions()
            .iter()
            .filter(|v| v.version_stages().is_empty())
            .count(),
        p.deprecated_versions
    );
    assert!(all
        .versions()
        .iter()
        .all(|v| !v.kms_key_ids().is_empty() && v.created_date().is_some()));

    // Paging one version at a time gives the same list.
    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let r = c
            .list_secret_version_ids()
            .secret_id(&p.arn)
            .include_deprecated(true)
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        paged.extend(
            r.versions()
                .iter()
                .map(|v| v.version_id().unwrap().to_string()),
        );
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let ids: Vec<String> = all
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap().to_string())
        .collect();
    assert_eq!(paged, ids);
}

#[test]
fn seeds_are_deterministic_and_scale() {
    let a = seed::generate(300, SEED, NOW, ACCOUNT, REGION);
    let b = seed::generate(300, SEED, NOW, ACCOUNT, REGION);
    assert_eq!(a, b);
    let arns: Vec<_> = a.iter().map(|s| (&s.plan.name, &s.plan.arn)).collect();
    let arns_b: Vec<_> = b.iter().map(|s| (&s.plan.name, &s.plan.arn)).collect();
    assert_eq!(arns, arns_b);
    let other = seed::generate(300, SEED + 1, NOW, ACCOUNT, REGION);
    assert_ne!(a[0].plan.arn, other[0].plan.arn);
    for s in &a {
        let suffix = &s.data.arn[s.data.arn.len() - 7..];
        assert!(suffix.starts_with('-') && suffix[1..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(s.data.arn.starts_with(&format!(
            "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{}",
            s.data.name
        )));
        if let Some(k) = &s.data.kms_key_id {
            assert!(k.starts_with(&format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/")));
        }
    }

    let n = 100_000;
    let big = seed::generate(n, SEED, NOW, ACCOUNT, REGION);
    assert_eq!(big.len(), n);
    let unique: std::collections::HashSet<_> = big.iter().map(|s| s.data.name.as_str()).collect();
    assert_eq!(unique.len(), n);
    let mut folders = std::collections::HashSet::new();
    for s in &big {
        let parts: Vec<&str> = s.data.name.split('/').collect();
        for k in 1..parts.len() {
            folders.insert(parts[..k].join("/"));
        }
    }
    assert!(
        (1_000..20_000).contains(&folders.len()),
        "{} folders",
        folders.len()
    );
    let mut counts: HashMap<Scenario, usize> = HashMap::new();
    for s in &big {
        *counts.entry(s.plan.scenario).or_default() += 1;
    }
    for (s, c) in &counts {
        assert!(*c >= n / 100, "{s:?}: {c}");
    }
    assert_eq!(counts.len(), 12);
}

#[tokio::test]
async fn hostile_metadata_is_served_verbatim() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    let hostile: Vec<&PlannedSecret> = plan.iter().filter(|p| p.hostile).collect();
    assert_eq!(hostile.len(), 5);
    assert!(hostile.iter().any(|p| p.name.contains("onerror=")));
    for p in hostile {
        let d = c.describe_secret().secret_id(&p.name).send().await.unwrap();
        assert_eq!(d.name(), Some(p.name.as_str()));
        let text = format!(
            "{} {:?}",
            d.description().unwrap_or_default(),
            d.tags()
                .iter()
                .map(|t| t.value().unwrap_or_default())
                .collect::<Vec<_>>()
        );
        assert!(
            seed::HOSTILE_PAYLOADS.iter().any(|h| text.contains(h)),
            "{text}"
        );
    }
}
