//! ListSecrets through the SDK: paging, the AWS fields, every filter key
//! against a reference reading of the rules, sort orders, bad parameters.

use super::*;

#[tokio::test]
async fn paging_returns_exactly_the_seeded_set() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let plan = ep.endpoint.plan();
    assert_eq!(plan.len(), 300);
    assert_eq!(ep.endpoint.secret_count(), 300);

    let listed = names(&list_all(&c, 7, false, vec![], None).await);
    let unique: BTreeSet<_> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "no secret twice");
    let expected: BTreeSet<_> = plan
        .iter()
        .filter(|p| !p.deleted)
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(unique, expected);

    let all = names(&list_all(&c, 7, true, vec![], None).await);
    let expected_all: BTreeSet<_> = plan.iter().map(|p| p.name.clone()).collect();
    assert_eq!(all.len(), 300);
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), expected_all);

    // The default page is 100.
    let first = c.list_secrets().send().await.unwrap();
    assert_eq!(first.secret_list().len(), 100);
    assert!(first.next_token().is_some());
}

#[tokio::test]
async fn list_entries_carry_the_aws_fields() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let by_name: HashMap<String, SeedSecret> = seeds(300)
        .into_iter()
        .map(|s| (s.data.name.clone(), s))
        .collect();
    for e in list_all(&c, 100, true, vec![], None).await {
        let s = &by_name[e.name().unwrap()];
        assert_eq!(e.arn(), Some(s.data.arn.as_str()));
        assert_eq!(
            e.kms_key_id().is_none(),
            s.plan.kms_default,
            "KmsKeyId omitted for the default key"
        );
        assert_eq!(e.rotation_enabled(), Some(s.data.rotation_enabled));
        assert_eq!(e.deleted_date().is_some(), s.plan.deleted);
        assert_eq!(e.owning_service(), s.data.owning_service.as_deref());
        assert_eq!(e.primary_region(), Some(REGION));
        assert_eq!(e.created_date().unwrap().secs(), s.data.created / 1000);
        if let Some(t) = e.last_accessed_date() {
            assert_eq!(
                t.secs() % 86_400,
                0,
                "LastAccessedDate is truncated to the day"
            );
        }
        let labelled = s
            .data
            .versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .count();
        assert_eq!(
            e.secret_versions_to_stages().map(|m| m.len()).unwrap_or(0),
            labelled
        );
        assert_eq!(e.tags().len(), s.data.tags.len());
    }
}

/// A straightforward re-statement of AWS's filter rules over the seed data.
fn reference(s: &seed::SecretData, key: &str, value: &str) -> bool {
    let (neg, v) = match value.strip_prefix('!') {
        Some(v) => (true, v),
        None => (false, value),
    };
    // Words end at punctuation, at lower→upper case and between letters and digits.
    let words = |t: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut prev: Option<char> = None;
        for c in t.chars() {
            let boundary = match prev {
                _ if !c.is_ascii_alphanumeric() => true,
                Some(p) => {
                    (p.is_ascii_lowercase() && c.is_ascii_uppercase())
                        || p.is_ascii_digit() != c.is_ascii_digit()
                }
                None => false,
            };
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if c.is_ascii_alphanumeric() {
                cur.push(c.to_ascii_lowercase());
                prev = Some(c);
            } else {
                prev = None;
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    };
    let word_match = |t: &str| {
        let tw = words(t);
        words(v)
            .iter()
            .all(|w| tw.iter().any(|x| x.starts_with(w.as_str())))
    };
    let hit = match key {
        "name" => s.name.starts_with(v),
        "tag-key" => s.tags.iter().any(|t| t.key.starts_with(v)),
        "tag-value" => s.tags.iter().any(|t| t.value.starts_with(v)),
        "primary-region" => s
            .primary_region
            .as_deref()
            .is_some_and(|r| r.starts_with(v)),
        "owning-service" => s
            .owning_service
            .as_deref()
            .is_some_and(|r| r.starts_with(v)),
        "description" => s.description.as_deref().is_some_and(word_match),
        "all" => {
            word_match(&s.name)
                || s.description.as_deref().is_some_and(word_match)
                || s.tags
                    .iter()
                    .any(|t| word_match(&t.key) || word_match(&t.value))
        }
        _ => unreachable!(),
    };
    hit != neg
}

#[tokio::test]
async fn every_filter_key_matches_the_reference() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let data = seeds(300);
    let cases: Vec<Vec<(&str, Vec<&str>)>> = vec![
        vec![("name", vec!["prod/"])],
        vec![("name", vec!["prod/payments", "staging/search"])],
        vec![("name", vec!["Prod/"])],
        vec![("name", vec!["!prod/"])],
        vec![("tag-key", vec!["owner"])],
        vec![("tag-key", vec!["!owner"])],
        vec![("tag-key", vec!["cost"])],
        vec![("tag-value", vec!["payments", "search"])],
        vec![("tag-value", vec!["confidential"])],
        vec![("description", vec!["owner"])],
        vec![("description", vec!["MANAGED by"])],
        vec![("description", vec!["!owner"])],
        vec![("primary-region", vec!["us-east"])],
        vec![("primary-region", vec!["eu-"])],
        vec![("owning-service", vec!["rds"])],
        vec![("owning-service", vec!["!rds"])],
        vec![("all", vec!["payments"])],
        vec![("all", vec!["PROD db"])],
        vec![("all", vec!["alice"])],
        vec![("tag-key", vec!["team"]), ("name", vec!["prod/"])],
        vec![("tag-key", vec!["!owner"]), ("all", vec!["payments"])],
    ];
    for case in cases {
        let filters: Vec<Filter> = case.iter().map(|(k, v)| filter(k, v)).collect();
        let got: BTreeSet<String> = names(&list_all(&c, 50, false, filters, None).await)
            .into_iter()
            .collect();
        let expected: BTreeSet<String> = data
            .iter()
            .filter(|s| s.data.deleted.is_none())
            .filter(|s| {
                case.iter()
                    .all(|(k, vals)| vals.iter().any(|v| reference(&s.data, k, v)))
            })
            .map(|s| s.data.name.clone())
            .collect();
        assert_eq!(got, expected, "filters {case:?}");
        assert!(
            expected.len() < 300,
            "filters {case:?} should not be trivially everything"
        );
    }
    // Sanity: the cases above are not vacuous.
    let owners = list_all(&c, 100, false, vec![filter("tag-key", &["!owner"])], None).await;
    assert!(!owners.is_empty());
    assert!(owners
        .iter()
        .all(|e| e.tags().iter().all(|t| t.key() != Some("owner"))));
}

#[tokio::test]
async fn sorting_by_each_key_and_order() {
    let ep = start(300).await;
    let c = client(&ep).await;
    let by_name: HashMap<String, SeedSecret> = seeds(300)
        .into_iter()
        .map(|s| (s.data.name.clone(), s))
        .collect();

    let asc = names(
        &list_all(
            &c,
            30,
            false,
            vec![],
            Some((SortByType::Name, SortOrderType::Asc)),
        )
        .await,
    );
    let mut sorted = asc.clone();
    sorted.sort();
    assert_eq!(asc, sorted);
    let desc = names(
        &list_all(
            &c,
            30,
            false,
            vec![],
            Some((SortByType::Name, SortOrderType::Desc)),
        )
        .await,
    );
    sorted.reverse();
    assert_eq!(desc, sorted);

    let created = list_all(
        &c,
        30,
        false,
        vec![],
        Some((SortByType::CreatedDate, SortOrderType::Asc)),
    )
    .await;
    assert!(created
        .windows(2)
        .all(|w| w[0].created_date().unwrap() <= w[1].created_date().unwrap()));
    // The default order is creation order.
    assert_eq!(
        names(&created),
        names(&list_all(&c, 30, false, vec![], None).await)
    );

    let changed = list_all(
        &c,
        30,
        false,
        vec![],
        Some((SortByType::LastChangedDate, SortOrderType::Desc)),
    )
    .await;
    assert!(changed
        .windows(2)
        .all(|w| w[0].last_changed_date().unwrap() >= w[1].last_changed_date().unwrap()));

    let accessed = list_all(
        &c,
        30,
        true,
        vec![],
        Some((SortByType::LastAccessedDate, SortOrderType::Asc)),
    )
    .await;
    assert_eq!(accessed.len(), 300);
    let key = |e: &sm::types::SecretListEntry| {
        by_name[e.name().unwrap()]
            .data
            .last_accessed
            .map(|t| t.div_euclid(86_400_000))
            .unwrap_or(i64::MIN)
    };
    assert!(accessed.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
    assert!(
        accessed[0].last_accessed_date().is_none(),
        "never-accessed secrets sort first"
    );
}

#[tokio::test]
async fn bad_list_parameters_get_aws_error_codes() {
    let ep = start(50).await;
    let c = client(&ep).await;
    assert_eq!(
        code(c.list_secrets().max_results(0).send().await),
        "ValidationException"
    );
    assert_eq!(
        code(c.list_secrets().max_results(101).send().await),
        "ValidationException"
    );
    assert_eq!(
        code(c.list_secrets().next_token("not-a-token!").send().await),
        "InvalidNextTokenException"
    );
    assert_eq!(
        code(
            c.list_secrets()
                .filters(filter("colour", &["red"]))
                .send()
                .await
        ),
        "ValidationException"
    );
    let eleven: Vec<&str> = vec!["a"; 11];
    assert_eq!(
        code(
            c.list_secrets()
                .filters(filter("name", &eleven))
                .send()
                .await
        ),
        "ValidationException"
    );
    // A token from one sort order is not valid for another.
    let page = c.list_secrets().max_results(5).send().await.unwrap();
    let token = page.next_token().unwrap().to_string();
    assert_eq!(
        code(
            c.list_secrets()
                .max_results(5)
                .sort_by(SortByType::Name)
                .next_token(token)
                .send()
                .await
        ),
        "InvalidNextTokenException"
    );
    assert_eq!(
        code(c.list_secret_version_ids().secret_id("nope").send().await),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(c.get_secret_value().secret_id("x").send().await),
        "InvalidRequestException"
    );
}

#[tokio::test]
async fn a_large_store_pages_by_any_order() {
    let ep = start(100_000).await;
    let c = client(&ep).await;
    let first = c
        .list_secrets()
        .sort_by(SortByType::Name)
        .sort_order(SortOrderType::Desc)
        .send()
        .await
        .unwrap();
    assert_eq!(first.secret_list().len(), 100);
    let second = c
        .list_secrets()
        .sort_by(SortByType::Name)
        .sort_order(SortOrderType::Desc)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let a = names(first.secret_list());
    let b = names(second.secret_list());
    assert!(a.last().unwrap() > b.first().unwrap());
    let filtered = c
        .list_secrets()
        .filters(filter("name", &["prod/payments/ledger/db/"]))
        .send()
        .await
        .unwrap();
    assert!(filtered
        .secret_list()
        .iter()
        .all(|e| e.name().unwrap().starts_with("prod/payments/ledger/db/")));
}
