use super::*;

fn described(name: &str, desc: Option<&str>, tags: &[(&str, &str)]) -> Secret {
    let mut s = tagged(name, tags);
    s.description = desc.map(Into::into);
    s
}

/// A tag owner, a description owner, both agreeing, both disagreeing, none.
fn secrets() -> [Secret; 6] {
    [
        described(
            "a/tag-only",
            Some("used by payments"),
            &[("owner", "zoe@x.com")],
        ),
        described("b/desc-only", Some("Owner: zoe.clark@x.com"), &[]),
        described(
            "c/agree",
            Some("contact ZOE@X.COM"),
            &[("Owner", "zoe@x.com")],
        ),
        described(
            "d/conflict",
            Some("Owner: zoe.clark@x.com"),
            &[("owner", "zoe@x.com")],
        ),
        described("e/nobody", Some("DO NOT DELETE"), &[("team", "payments")]),
        described("f/blank-tag", None, &[("owner", "  ")]),
    ]
}

#[test]
fn owner_terms_parse_and_print_back() {
    for (input, term) in [
        ("owner:none", Term::Owner(OwnerTerm::None)),
        ("OWNER:Known", Term::Owner(OwnerTerm::Known)),
        ("owner:conflict", Term::Owner(OwnerTerm::Conflict)),
        (
            "owner:zoe*",
            Term::Owner(OwnerTerm::Name(Value::new("zoe*"))),
        ),
        (
            "owner:\"none\"",
            Term::Owner(OwnerTerm::Name(Value::new("none"))),
        ),
    ] {
        let parsed = q(input);
        assert_eq!(parsed.root(), Some(&Expr::Term(term)), "{input}");
        assert_eq!(q(&parsed.to_string()), parsed, "round trip of {input}");
    }
    assert_eq!(q("owner:none").to_string(), "owner:none");
    assert_eq!(q("owner:\"none\"").to_string(), "owner:\"none\"");
    assert_eq!(
        q("owner:zoe").to_string(),
        "owner:zoe",
        "a name, not a typo"
    );
    assert_eq!(q("owner:\"nnone\"").to_string(), "owner:\"nnone\"");
}

#[test]
fn misspelt_owner_keywords_are_refused_with_the_word_meant() {
    let e = err("owner:nnone");
    assert_eq!(e.position, 6);
    assert!(e.message.contains("did you mean none?"), "{e:?}");
    assert!(e.message.contains("owner:\"nnone\""), "{e:?}");
    assert!(err("owner:konflict")
        .message
        .contains("did you mean conflict?"));
    assert!(err("owner:knwn").message.contains("did you mean known?"));
    assert_eq!(
        err("owner:").expected,
        [
            "none",
            "known",
            "conflict",
            "an owner name or a glob like zoe*"
        ]
    );
    assert!(err("ownr:none").message.contains("did you mean owner?"));
}

#[test]
fn owner_terms_match_tag_and_description_owners() {
    let all = secrets();
    let names = |input: &str| -> Vec<&str> {
        let query = q(input);
        all.iter()
            .filter(|s| query.matches(s))
            .map(|s| &*s.name)
            .collect()
    };
    assert_eq!(names("owner:none"), ["e/nobody", "f/blank-tag"]);
    assert_eq!(
        names("owner:known"),
        ["a/tag-only", "b/desc-only", "c/agree", "d/conflict"]
    );
    assert_eq!(names("owner:conflict"), ["d/conflict"]);
    // A name matches the tag's owner or the description's, in any case.
    assert_eq!(
        names("owner:ZOE.CLARK@X.COM"),
        ["b/desc-only", "d/conflict"]
    );
    assert_eq!(
        names("owner:zoe@x.com"),
        ["a/tag-only", "c/agree", "d/conflict"]
    );
    assert_eq!(names("owner:zoe*").len(), 4);
    assert_eq!(
        names("owner:zoe"),
        Vec::<&str>::new(),
        "exact unless a glob"
    );
    // Without an owner tag is not without an owner.
    assert_eq!(names("-tag:owner"), ["b/desc-only", "e/nobody"]);
    assert_eq!(names("-tag:owner owner:none"), ["e/nobody"]);
}

#[test]
fn the_index_agrees_and_knows_each_rows_owner() {
    let all = secrets();
    let index = SearchIndex::new(&all);
    for input in [
        "owner:none",
        "owner:known",
        "owner:conflict",
        "-owner:conflict",
        "owner:zoe*",
        "owner:ZOE@x.com",
        "owner:\"zoe.clark@x.com\" OR owner:none",
    ] {
        let query = q(input);
        let want: Vec<usize> = (0..all.len()).filter(|&i| query.matches(&all[i])).collect();
        assert_eq!(query.select(&index), want, "{input}");
    }
    let states: Vec<OwnerState> = (0..all.len()).map(|i| index.owner_state(i)).collect();
    assert_eq!(
        states,
        [
            OwnerState::Known,
            OwnerState::Known,
            OwnerState::Known,
            OwnerState::Conflict,
            OwnerState::None,
            OwnerState::None
        ]
    );
}

#[test]
fn keyword_facets_toggle_their_term() {
    assert_eq!(toggle_term_text("", "rotation:off"), "rotation:off");
    let two = toggle_term_text("rotation:off", "kms:default");
    assert_eq!(two, "rotation:off kms:default");
    assert_eq!(toggle_term_text(&two, "rotation:off"), "kms:default");
    assert_eq!(
        toggle_term_text("ROTATION:OFF name:prod/*", "rotation:off"),
        "name:prod/*",
        "keywords compare without case"
    );
    assert_eq!(
        toggle_term_text("a OR b", "owner:none"),
        "(a OR b) owner:none"
    );
    assert_eq!(toggle_term_text("x -name:*/*", "-name:*/*"), "x");
    assert_eq!(toggle_term_text("x", "health:high"), "x health:high");
}
