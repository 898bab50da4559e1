use super::*;

const SET: Option<RotationStep> = Some(RotationStep::SetSecret);

#[test]
fn step_terms_parse_print_and_round_trip() {
    for (input, canonical) in [
        ("step:setSecret", "step:setSecret"),
        ("step:setsecret", "step:setSecret"),
        ("STEP:SETSECRET", "step:setSecret"),
        ("step:set", "step:setSecret"),
        ("step:Create", "step:createSecret"),
        ("step:test", "step:testSecret"),
        ("step:finishSecret", "step:finishSecret"),
        ("step:\"set\"", "step:setSecret"),
        ("step:any", "step:any"),
        ("step:ANY", "step:any"),
        ("step:*", "step:any"),
        ("-step:setSecret", "-step:setSecret"),
        ("!step:any", "-step:any"),
        (
            "step:set OR step:test name:prod/*",
            "step:setSecret OR step:testSecret name:prod/*",
        ),
    ] {
        let parsed = q(input);
        assert_eq!(parsed.to_string(), canonical, "for {input:?}");
        assert_eq!(q(canonical), parsed, "{canonical:?} reads back the same");
        assert!(!parsed.needs_facts(), "the secret carries its failure");
    }
    for step in RotationStep::ALL {
        let term = Expr::Term(Term::Step(Some(step)));
        assert_eq!(term.to_string(), format!("step:{step}"));
        assert_eq!(q(&term.to_string()).root(), Some(&term));
    }
    assert_eq!(q("step:set").root(), Some(&Expr::Term(Term::Step(SET))));
    assert_eq!(q("step:any").root(), Some(&Expr::Term(Term::Step(None))));
    let Some(Expr::Term(t)) = q("step:any").root().cloned() else {
        unreachable!()
    };
    assert_eq!(t.field(), Some("step"));
}

#[test]
fn step_matches_the_failure_seen_for_the_pending_rotation() {
    let s = failing(secret("prod/db"), SET, true);
    assert_eq!(
        s.seen_failure().and_then(|f| f.step),
        SET,
        "the fixture applies"
    );
    for yes in [
        "step:setSecret",
        "step:setsecret",
        "step:SetSecret",
        "step:set",
        "step:any",
        "step:*",
        "-step:testSecret",
        "step:set name:prod/*",
        "step:create OR step:set",
    ] {
        assert!(m(yes, &s), "{yes} should match");
    }
    for no in [
        "step:testSecret",
        "step:create",
        "step:finish",
        "-step:setSecret",
        "!step:set",
        "-step:any",
        "step:set name:dev/*",
    ] {
        assert!(!m(no, &s), "{no} should not match");
    }
}

#[test]
fn step_needs_a_seen_failure_with_a_known_step() {
    let plain = secret("prod/db");
    let unnamed = failing(secret("prod/db"), None, true);
    assert!(unnamed.seen_failure().is_some());
    // A failure older than the pending version is about another rotation.
    let stale = failing(secret("prod/db"), SET, false);
    assert!(stale.failure.is_some() && stale.seen_failure().is_none());
    // Once AWSPENDING is gone (cleared, or the rotation finished), the
    // failure no longer applies either.
    let mut cleared = failing(secret("prod/db"), SET, true);
    cleared.versions.pop();
    assert!(cleared.seen_failure().is_none());
    for s in [&plain, &unnamed, &stale, &cleared] {
        assert!(!m("step:any", s) && !m("step:set", s), "{s:?}");
        assert!(m("-step:any", s) && m("-step:set", s), "{s:?}");
    }
}

#[test]
fn unknown_steps_are_refused_with_the_four_names() {
    let steps = expected_for("step");
    assert_eq!(
        steps,
        [
            "createSecret",
            "setSecret",
            "testSecret",
            "finishSecret",
            "any"
        ]
    );
    assert_err(
        "step:sett",
        5,
        "unknown rotation step \"sett\" (did you mean setSecret?)",
        steps,
    );
    assert_err(
        "prod step:tesSecret",
        10,
        "unknown rotation step \"tesSecret\" (did you mean testSecret?)",
        steps,
    );
    assert_err(
        "step:finsh",
        5,
        "unknown rotation step \"finsh\" (did you mean finishSecret?)",
        steps,
    );
    assert_err(
        "step:an",
        5,
        "unknown rotation step \"an\" (did you mean any?)",
        steps,
    );
    assert_err("step:rotate", 5, "unknown rotation step \"rotate\"", steps);
    // No globs: the steps are few, and `any` (or `*`) covers them all.
    assert_err(
        "step:set*",
        5,
        "unknown rotation step \"set*\" (did you mean setSecret?)",
        steps,
    );
    assert_err("step:", 5, "empty value after \"step:\"", steps);
    assert_eq!(
        err("step:lambda").to_string(),
        "at 5: unknown rotation step \"lambda\"; expected one of \
         createSecret, setSecret, testSecret, finishSecret, any"
    );
    assert_err(
        "stpe:set",
        0,
        "unknown field \"stpe\" (did you mean step?)",
        &FIELDS,
    );
}

#[test]
fn index_selects_by_step_as_matches_does() {
    let secrets = [
        failing(secret("prod/a"), SET, true),
        failing(secret("prod/b"), Some(RotationStep::TestSecret), true),
        failing(secret("prod/c"), None, true),
        failing(secret("prod/d"), SET, false),
        secret("prod/e"),
        failing(tagged("dev/f", &[("owner", "alice")]), SET, true),
    ];
    let index = SearchIndex::new(&secrets);
    for (input, want) in [
        ("step:setSecret", vec![0, 5]),
        ("step:set tag:owner", vec![5]),
        ("step:test", vec![1]),
        ("step:any", vec![0, 1, 5]),
        ("-step:any", vec![2, 3, 4]),
        ("-step:set", vec![1, 2, 3, 4]),
        ("step:create OR step:finish", vec![]),
        ("step:test OR name:prod/e", vec![1, 4]),
    ] {
        assert_eq!(q(input).select(&index), want, "select, for {input:?}");
        let by_matches: Vec<usize> = (0..secrets.len())
            .filter(|i| q(input).matches(&secrets[*i]))
            .collect();
        assert_eq!(by_matches, want, "matches, for {input:?}");
    }
}
