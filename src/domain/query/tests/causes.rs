use super::*;

const KMS: CauseId = CauseId::KmsKey;
const NET: CauseId = CauseId::Network;

#[test]
fn cause_terms_parse_print_and_round_trip() {
    for (input, canonical) in [
        ("cause:network", "cause:network"),
        ("cause:NETWORK", "cause:network"),
        ("CAUSE:Kms-Key", "cause:kms-key"),
        ("cause:\"lambda-permission\"", "cause:lambda-permission"),
        ("cause:any", "cause:any"),
        ("cause:ANY", "cause:any"),
        ("cause:*", "cause:any"),
        ("-cause:network", "-cause:network"),
        ("!cause:any", "-cause:any"),
        (
            "cause:kms-key   tag:team=payments",
            "cause:kms-key tag:team=payments",
        ),
        (
            "(cause:network OR cause:kms-key) -step:any",
            "(cause:network OR cause:kms-key) -step:any",
        ),
        (
            "cause:network OR cause:kms-access name:prod/*",
            "cause:network OR cause:kms-access name:prod/*",
        ),
    ] {
        let parsed = q(input);
        assert_eq!(parsed.to_string(), canonical, "for {input:?}");
        assert_eq!(q(canonical), parsed, "{canonical:?} reads back the same");
        assert!(!parsed.needs_facts(), "the secret carries its causes");
    }
    for cause in CauseId::ALL {
        let term = Expr::Term(Term::Cause(Some(cause)));
        assert_eq!(term.to_string(), format!("cause:{}", cause.slug()));
        assert_eq!(q(&term.to_string()).root(), Some(&term));
        let upper = format!("cause:{}", cause.slug().to_uppercase());
        assert_eq!(q(&upper).root(), Some(&term), "for {upper:?}");
    }
    assert_eq!(
        q("cause:network").root(),
        Some(&Expr::Term(Term::Cause(Some(NET))))
    );
    assert_eq!(q("cause:any").root(), Some(&Expr::Term(Term::Cause(None))));
    let Some(Expr::Term(t)) = q("cause:any").root().cloned() else {
        unreachable!()
    };
    assert_eq!(t.field(), Some("cause"));
}

#[test]
fn cause_matches_any_of_the_causes_the_diagnosis_found() {
    let s = diagnosed(
        tagged("prod/pay", &[("team", "payments")]),
        Some(&[KMS, NET]),
    );
    for yes in [
        "cause:kms-key",
        "cause:NETWORK",
        "cause:any",
        "cause:*",
        "-cause:lambda-permission",
        "cause:kms-key tag:team=payments",
        "cause:lambda-missing OR cause:network",
        "(cause:role-permission OR tag:team=payments) cause:network",
        "-(cause:kms-access OR cause:resource-policy)",
        "cause:network -step:any",
    ] {
        assert!(m(yes, &s), "{yes} should match");
    }
    for no in [
        "cause:lambda-permission",
        "cause:kms-access",
        "-cause:kms-key",
        "!cause:network",
        "-cause:any",
        "cause:kms-key tag:team=search",
        "cause:kms-key -tag:team",
        "cause:lambda-missing OR cause:role-permission",
        "-(cause:network OR cause:resource-policy)",
    ] {
        assert!(!m(no, &s), "{no} should not match");
    }
}

#[test]
fn cause_needs_a_diagnosis_that_found_one() {
    // Never diagnosed, and diagnosed with nothing wrong: no cause either way.
    let never = diagnosed(secret("prod/db"), None);
    let healthy = diagnosed(secret("prod/db"), Some(&[]));
    for s in [&never, &healthy] {
        assert!(!m("cause:any", s) && !m("cause:network", s), "{s:?}");
        assert!(m("-cause:any", s) && m("-cause:network", s), "{s:?}");
    }
    // The cause alone is enough: the step of a failure does not matter.
    let lambda = diagnosed(
        failing(secret("prod/db"), Some(RotationStep::SetSecret), true),
        Some(&[CauseId::LambdaPermission]),
    );
    for yes in ["cause:lambda-permission", "cause:any step:set"] {
        assert!(m(yes, &lambda), "{yes} should match");
    }
    assert!(!m("cause:lambda-permission -step:any", &lambda));
    // Every cause finds exactly the secrets that have it.
    for cause in CauseId::ALL {
        let s = diagnosed(secret("x"), Some(&[cause]));
        for other in CauseId::ALL {
            let term = format!("cause:{}", other.slug());
            assert_eq!(m(&term, &s), other == cause, "{term} on {cause:?}");
        }
    }
}

#[test]
fn unknown_causes_are_refused_with_the_valid_words() {
    let words = expected_for("cause");
    let mut want: Vec<&str> = CauseId::ALL.iter().map(|c| c.slug()).collect();
    want.push("any");
    assert_eq!(words, want.as_slice(), "every slug, then any");
    for slug in ["lambda-permission", "network", "kms-key"] {
        assert!(words.contains(&slug), "{slug}");
    }
    assert_err(
        "cause:netwrk",
        6,
        "unknown cause \"netwrk\" (did you mean network?)",
        words,
    );
    assert_err(
        "prod cause:KMS_KEY",
        11,
        "unknown cause \"KMS_KEY\" (did you mean kms-key?)",
        words,
    );
    assert_err(
        "(cause:lambda-permision OR x)",
        7,
        "unknown cause \"lambda-permision\" (did you mean lambda-permission?)",
        words,
    );
    assert_err(
        "cause:an",
        6,
        "unknown cause \"an\" (did you mean any?)",
        words,
    );
    assert_err("cause:lambda", 6, "unknown cause \"lambda\"", words);
    // No globs: the causes are few, and `any` (or `*`) covers them all.
    assert_err(
        "cause:kms-key*",
        6,
        "unknown cause \"kms-key*\" (did you mean kms-key?)",
        words,
    );
    assert_err("cause:", 6, "empty value after \"cause:\"", words);
    assert_err("-cause:\"\"", 7, "empty value after \"cause:\"", words);
    let shown = err("cause:timeout").to_string();
    assert_eq!(
        shown,
        format!(
            "at 6: unknown cause \"timeout\"; expected one of {}",
            want.join(", ")
        )
    );
    assert!(
        shown.starts_with(
            "at 6: unknown cause \"timeout\"; expected one of lambda-missing, lambda-region, \
             lambda-permission, "
        ) && shown.ends_with(", resource-policy, any"),
        "{shown}"
    );
    assert_err(
        "casue:network",
        0,
        "unknown field \"casue\" (did you mean cause?)",
        &FIELDS,
    );
}

#[test]
fn index_selects_by_cause_as_matches_does() {
    let secrets = [
        diagnosed(secret("prod/a"), Some(&[KMS, NET])),
        diagnosed(secret("prod/b"), Some(&[NET])),
        diagnosed(secret("prod/c"), Some(&[])),
        diagnosed(secret("prod/d"), None),
        diagnosed(
            tagged("dev/e", &[("team", "payments")]),
            Some(&[KMS, CauseId::ResourcePolicy]),
        ),
        diagnosed(
            failing(secret("dev/f"), Some(RotationStep::TestSecret), true),
            Some(&[CauseId::LambdaTimeout]),
        ),
    ];
    let index = SearchIndex::new(&secrets);
    for (input, want) in [
        ("cause:network", vec![0, 1]),
        ("cause:KMS-KEY", vec![0, 4]),
        ("cause:kms-key tag:team=payments", vec![4]),
        ("cause:any", vec![0, 1, 4, 5]),
        ("cause:*", vec![0, 1, 4, 5]),
        ("-cause:any", vec![2, 3]),
        ("-cause:network", vec![2, 3, 4, 5]),
        ("cause:lambda-missing OR cause:role-permission", vec![]),
        ("cause:resource-policy OR name:prod/c", vec![2, 4]),
        ("(cause:network OR cause:kms-key) -cause:network", vec![4]),
        ("cause:any step:test", vec![5]),
        ("cause:lambda-timeout -step:any", vec![]),
    ] {
        assert_eq!(q(input).select(&index), want, "select, for {input:?}");
        let by_matches: Vec<usize> = (0..secrets.len())
            .filter(|i| q(input).matches(&secrets[*i]))
            .collect();
        assert_eq!(by_matches, want, "matches, for {input:?}");
    }
}
