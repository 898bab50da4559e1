use super::*;

/// A session of the role `arn:aws:iam::111122223333:role/payments-api`.
const APP: &str = "arn:aws:sts::111122223333:assumed-role/payments-api/i-0abc";
const ETL: &str = "arn:aws:iam::999988887777:role/etl";
const CI: &str = "arn:aws:iam::111122223333:user/ci";
const LAMBDA: &str = "lambda.amazonaws.com";

/// Three readers, one of them (etl) refused every time.
fn read() -> Secret {
    read_by(
        secret("prod/a"),
        Some(&[(APP, true), (ETL, false), (CI, true), (APP, true)]),
    )
}

/// Looked up: nobody read it.
fn nobody() -> Secret {
    read_by(secret("prod/b"), Some(&[]))
}

/// Never looked up.
fn unread() -> Secret {
    read_by(secret("prod/c"), None)
}

/// Read by a service only.
fn by_service() -> Secret {
    read_by(
        tagged("dev/d", &[("team", "payments")]),
        Some(&[(LAMBDA, true)]),
    )
}

fn secrets() -> [Secret; 4] {
    [read(), nobody(), unread(), by_service()]
}

#[test]
fn reader_terms_parse_print_and_round_trip() {
    for (input, canonical) in [
        ("reader:payments-*", "reader:payments-*"),
        ("READER:Payments-API", "reader:Payments-API"),
        (
            "reader:arn:aws:iam::111122223333:role/etl",
            "reader:arn:aws:iam::111122223333:role/etl",
        ),
        ("reader:*:999988887777:*", "reader:*:999988887777:*"),
        ("reader:\"etl\"", "reader:etl"),
        ("reader:\"with space\"", "reader:\"with space\""),
        ("reader:none", "reader:none"),
        ("reader:\"none\"", "reader:none"),
        ("-reader:etl", "-reader:etl"),
        ("!reader:etl", "-reader:etl"),
        ("readers:3", "readers:3"),
        ("readers:007", "readers:7"),
        ("readers:>0", "readers:>0"),
        ("readers:>=2", "readers:>=2"),
        ("readers:<5", "readers:<5"),
        ("readers:<=1", "readers:<=1"),
        ("readers:none", "readers:none"),
        ("READERS:None", "readers:none"),
        ("readers:0", "readers:none"),
        ("readers:\"0\"", "readers:none"),
        ("readers:unknown", "readers:unknown"),
        ("readers:UNKNOWN", "readers:unknown"),
        ("-readers:unknown", "-readers:unknown"),
        ("readers:>0   reader:etl*", "readers:>0 reader:etl*"),
        (
            "(readers:none OR readers:unknown) name:prod/*",
            "(readers:none OR readers:unknown) name:prod/*",
        ),
        ("reader:etl OR cause:network", "reader:etl OR cause:network"),
    ] {
        let parsed = q(input);
        assert_eq!(parsed.to_string(), canonical, "for {input:?}");
        assert_eq!(q(canonical), parsed, "{canonical:?} reads back the same");
        assert!(!parsed.needs_facts(), "the secret carries its readers");
    }
    let term = |input: &str| match q(input).root().cloned() {
        Some(Expr::Term(t)) => t,
        other => panic!("{input:?} is not one term: {other:?}"),
    };
    for (input, want) in [
        ("readers:3", ReaderCount::Is(Cmp::Eq, 3)),
        ("readers:none", ReaderCount::Is(Cmp::Eq, 0)),
        ("readers:<5", ReaderCount::Is(Cmp::Lt, 5)),
        ("readers:<=5", ReaderCount::Is(Cmp::Le, 5)),
        ("readers:>5", ReaderCount::Is(Cmp::Gt, 5)),
        ("readers:>=5", ReaderCount::Is(Cmp::Ge, 5)),
        ("readers:4294967295", ReaderCount::Is(Cmp::Eq, u32::MAX)),
        ("readers:unknown", ReaderCount::Unknown),
    ] {
        assert_eq!(term(input), Term::Readers(want), "for {input:?}");
    }
    let t = term("reader:Payments-*");
    assert_eq!(t, Term::Reader(Value::new("Payments-*")));
    assert_eq!(t.field(), Some("reader"));
    assert_eq!(term("readers:1").field(), Some("readers"));
}

#[test]
fn reader_matches_the_arn_or_name_of_any_reader_failed_or_not() {
    let s = read();
    for yes in [
        "reader:payments-api",
        "reader:PAYMENTS-*",
        "reader:payments-ap?",
        "reader:arn:aws:iam::111122223333:role/payments-api",
        "reader:arn:aws:iam::111122223333:role/*",
        "reader:*:999988887777:*",
        // Its reads all failed: a reader still.
        "reader:etl",
        "reader:ci",
        "reader:*/ci",
        "reader:*",
        "reader:etl reader:ci",
        "reader:nobody OR reader:ci",
        "-reader:nobody",
        "-reader:*:444455556666:*",
        "-(reader:etl reader:nobody)",
    ] {
        assert!(m(yes, &s), "{yes} should match");
    }
    for no in [
        // Exactly, not a prefix or a substring.
        "reader:payments",
        "reader:api",
        "reader:arn:aws:iam::111122223333",
        // A session's ARN is folded into its role's.
        "reader:arn:aws:sts::111122223333:assumed-role/payments-api/i-0abc",
        "reader:i-0abc",
        "reader:*:444455556666:*",
        "reader:lambda.amazonaws.com",
        "-reader:etl",
        "!reader:*",
        "reader:etl -reader:ci",
    ] {
        assert!(!m(no, &s), "{no} should not match");
    }
    let service = by_service();
    for yes in [
        "reader:lambda.amazonaws.com",
        "reader:LAMBDA.*",
        "reader:*amazonaws*",
        "reader:* tag:team=payments",
    ] {
        assert!(m(yes, &service), "{yes} should match the service's");
    }
    assert!(!m("reader:lambda", &service));
}

#[test]
fn secrets_without_readers_match_no_reader_and_every_negation() {
    // Looked up and nobody read, or never looked up: no reader either way,
    // and a negation matches them as it matches anything its term does not.
    for s in [nobody(), unread()] {
        for term in ["reader:*", "reader:etl", "readers:>0", "readers:>=1"] {
            assert!(!m(term, &s), "{term} on {}", s.name);
            assert!(m(&format!("-{term}"), &s), "-{term} on {}", s.name);
        }
    }
    // Only the count tells them apart.
    assert!(m("readers:none", &nobody()) && !m("readers:none", &unread()));
    assert!(!m("readers:unknown", &nobody()) && m("readers:unknown", &unread()));
    assert!(!m("readers:<1", &unread()) && !m("readers:<=5", &unread()));
    assert!(m("-readers:<=5", &unread()));
    assert!(!m("readers:>=0", &unread()) && m("readers:>=0", &nobody()));
}

#[test]
fn readers_counts_distinct_principals_and_the_index_agrees() {
    // read: 3 principals (four reads), nobody: 0, unread: not looked up,
    // by_service: 1.
    let secrets = secrets();
    let index = SearchIndex::new(&secrets);
    for (input, want) in [
        ("readers:3", vec![0]),
        ("readers:4", vec![]),
        ("readers:1", vec![3]),
        ("readers:>0", vec![0, 3]),
        ("readers:>=1", vec![0, 3]),
        ("readers:>3", vec![]),
        ("readers:>=3", vec![0]),
        ("readers:<2", vec![1, 3]),
        ("readers:<=3", vec![0, 1, 3]),
        ("readers:>=0", vec![0, 1, 3]),
        ("readers:none", vec![1]),
        ("readers:0", vec![1]),
        ("readers:unknown", vec![2]),
        ("-readers:unknown", vec![0, 1, 3]),
        ("-readers:>0", vec![1, 2]),
        ("-readers:none", vec![0, 2, 3]),
        ("readers:none OR readers:unknown", vec![1, 2]),
        ("readers:4294967295", vec![]),
        ("readers:<4294967295", vec![0, 1, 3]),
        ("reader:*", vec![0, 3]),
        ("-reader:*", vec![1, 2]),
        ("reader:etl", vec![0]),
        ("reader:ETL readers:>=3", vec![0]),
        ("reader:*amazonaws.com OR reader:*/ci", vec![0, 3]),
        ("reader:*:111122223333:* -reader:ci", vec![]),
        ("reader:payments-api OR name:prod/b", vec![0, 1]),
        ("(reader:etl OR readers:unknown) name:prod/*", vec![0, 2]),
        ("readers:>0 tag:team=payments", vec![3]),
        ("-(reader:lambda.amazonaws.com OR readers:none)", vec![0, 2]),
    ] {
        assert_eq!(q(input).select(&index), want, "select, for {input:?}");
        let by_matches: Vec<usize> = (0..secrets.len())
            .filter(|i| q(input).matches(&secrets[*i]))
            .collect();
        assert_eq!(by_matches, want, "matches, for {input:?}");
    }
}

#[test]
fn bad_reader_values_are_refused_with_what_would_do() {
    let counts = expected_for("readers");
    assert_eq!(
        counts,
        [
            "a number like 3",
            ">0",
            ">=2",
            "<5",
            "<=1",
            "none",
            "unknown"
        ]
    );
    let whole = |raw: &str| {
        format!(
            "cannot read \"{raw}\" as a number of readers: write a whole number, \
             as in readers:3 or readers:>0"
        )
    };
    for bad in [
        ">x", ">", ">=", "=3", "=>2", "-1", "+3", "3.5", ">>1", "<= 2x", "*",
    ] {
        let input = format!("readers:{}", bad.replace(' ', ""));
        assert_err(&input, 8, &whole(&bad.replace(' ', "")), counts);
    }
    assert_err("prod readers:>x", 13, &whole(">x"), counts);
    assert_err("readers:", 8, "empty value after \"readers:\"", counts);
    assert_err("-readers:\"\"", 9, "empty value after \"readers:\"", counts);
    assert_err(
        "readers:non",
        8,
        "unknown value \"non\" for readers (did you mean none?)",
        counts,
    );
    assert_err(
        "readers:Unknwn",
        8,
        "unknown value \"Unknwn\" for readers (did you mean unknown?)",
        counts,
    );
    assert_err(
        "readers:many",
        8,
        "unknown value \"many\" for readers",
        counts,
    );
    assert_err(
        "readers:<0",
        8,
        "readers:<0 matches nothing (no secret has fewer than 0 readers); \
         write readers:none for secrets nobody read",
        counts,
    );
    assert_err(
        "readers:>=4294967296",
        8,
        "\">=4294967296\" is more readers than can be counted: at most 4294967295",
        counts,
    );
    let reader = expected_for("reader");
    assert_eq!(
        reader,
        ["a principal ARN, a role or user name, or a glob like payments-*"]
    );
    assert_err("reader:", 7, "empty value after \"reader:\"", reader);
    assert_err("(reader:\"\")", 8, "empty value after \"reader:\"", reader);
    assert_err(
        "readrs:>0",
        0,
        "unknown field \"readrs\" (did you mean readers?)",
        &FIELDS,
    );
    assert_err(
        "-readr:etl",
        1,
        "unknown field \"readr\" (did you mean reader?)",
        &FIELDS,
    );
}

#[test]
fn a_reader_glob_is_bounded_by_the_search_limit() {
    // No limit of its own: an IAM ARN may be 2048 characters, and the
    // search's limit already bounds the glob (and the glob's work).
    let too_long = format!("reader:{}", "*a".repeat(MAX_QUERY_CHARS / 2));
    let e = err(&too_long);
    assert!(
        e.message.contains("at most 2000 characters"),
        "{e:?} for a glob past the limit"
    );
    let longest = format!("reader:{}", "*a".repeat((MAX_QUERY_CHARS - 7) / 2));
    assert!(longest.chars().count() <= MAX_QUERY_CHARS);
    let query = q(&longest);
    let secrets = secrets();
    assert!(secrets.iter().all(|s| !query.matches(s)));
    assert!(query.select(&SearchIndex::new(&secrets)).is_empty());
    // Stars only: every reader, read or refused.
    let stars = q(&format!("reader:{}", "*".repeat(MAX_QUERY_CHARS - 7)));
    assert_eq!(stars.select(&SearchIndex::new(&secrets)), vec![0, 3]);
}
