use super::*;

// -- properties ----------------------------------------------------------

fn tricky_value() -> impl Strategy<Value = crate::domain::query::Value> {
    prop_oneof![
        prop::sample::select(vec![
            "prod",
            "Alice",
            "OR",
            "or",
            "none",
            "None",
            "default",
            "DEFAULT",
            "cmk",
            "defualt",
            "-x",
            "!y",
            "a:b",
            "*",
            "?",
            "prod/*",
            "Ünï",
            "a\"b",
            "back\\slash",
            "with space",
            "(x)",
            "k=v",
            " ",
            "\\",
            "\"",
        ])
        .prop_map(crate::domain::query::Value::new),
        "[a-zA-Z0-9 _:/=*?\"\\\\()!\\-éÜ\t]{1,8}".prop_map(crate::domain::query::Value::new),
    ]
}

fn any_term() -> impl Strategy<Value = Term> {
    prop_oneof![
        tricky_value().prop_map(Term::Text),
        tricky_value().prop_map(Term::Name),
        (
            tricky_value(),
            prop::option::of(prop_oneof![
                Just(crate::domain::query::Value::new("")),
                tricky_value()
            ])
        )
            .prop_map(|(key, value)| Term::Tag { key, value }),
        tricky_value().prop_map(Term::Region),
        tricky_value().prop_map(Term::Account),
        prop_oneof![
            Just(Kms::Default),
            Just(Kms::Customer),
            tricky_value().prop_map(Kms::Contains)
        ]
        .prop_map(Term::Kms),
        any::<bool>().prop_map(Term::Rotation),
        any::<bool>().prop_map(Term::Deleted),
        prop_oneof![
            Just(Service::Unmanaged),
            tricky_value().prop_map(Service::Prefix)
        ]
        .prop_map(Term::Service),
        prop::option::of(prop::sample::select(RotationStep::ALL.to_vec())).prop_map(Term::Step),
        prop::option::of(prop::sample::select(CauseId::ALL.to_vec())).prop_map(Term::Cause),
        tricky_value().prop_map(Term::Reader),
        reader_count(any::<u32>()).prop_map(Term::Readers),
        prop_oneof![
            Just(OwnerTerm::None),
            Just(OwnerTerm::Known),
            Just(OwnerTerm::Conflict),
            tricky_value().prop_map(OwnerTerm::Name)
        ]
        .prop_map(Term::Owner),
    ]
}

/// `readers:` conditions on counts drawn from `n` (`<0` excepted: it is
/// refused, as it matches nothing).
fn reader_count(n: impl Strategy<Value = u32>) -> impl Strategy<Value = ReaderCount> {
    prop_oneof![
        Just(ReaderCount::Unknown),
        (
            prop::sample::select(vec![Cmp::Eq, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge]),
            n
        )
            .prop_map(|(cmp, n)| match (cmp, n) {
                (Cmp::Lt, 0) => ReaderCount::Is(Cmp::Le, 0),
                _ => ReaderCount::Is(cmp, n),
            }),
    ]
}

fn tree(leaf: impl Strategy<Value = Term> + 'static) -> impl Strategy<Value = Expr> {
    leaf.prop_map(Expr::Term)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_filter_map("and", Expr::and),
                prop::collection::vec(inner.clone(), 2..4).prop_filter_map("or", Expr::or),
                inner.prop_map(|e| !e),
            ]
        })
        // Two trees joined must stay within the parser's term limit.
        .prop_filter("at most half of MAX_TERMS terms", |e| {
            leaves(e) <= MAX_TERMS / 2
        })
}

fn leaves(e: &Expr) -> usize {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter().map(leaves).sum(),
        Expr::Not(inner) => leaves(inner),
        Expr::Term(_) => 1,
    }
}

#[test]
fn a_search_is_bounded_in_length_and_terms() {
    let ok = "a ".repeat(MAX_TERMS);
    assert!(Query::parse(&ok).is_ok());
    let e = Query::parse(&"a ".repeat(MAX_TERMS + 1)).unwrap_err();
    assert!(
        e.message
            .starts_with("too many terms: a search has at most 64"),
        "{e:?}"
    );
    // Parentheses are no way around it.
    let e = Query::parse(&format!("({})", "-zzq ".repeat(MAX_TERMS + 1))).unwrap_err();
    assert!(e.message.starts_with("too many terms"), "{e:?}");
    let long = "x".repeat(MAX_QUERY_CHARS + 1);
    let e = Query::parse(&long).unwrap_err();
    assert!(e.message.contains("at most 2000 characters"), "{e:?}");
    assert!(e.position <= long.chars().count());
    assert!(Query::parse(&"x".repeat(MAX_QUERY_CHARS)).is_ok());
    // The reviewer's 1.9 MB of -zzq terms is refused before parsing.
    assert!(Query::parse(&"-zzq ".repeat(400_000)).is_err());
}

fn pick(words: &'static [&'static str]) -> impl Strategy<Value = crate::domain::query::Value> {
    prop::sample::select(words).prop_map(crate::domain::query::Value::new)
}

/// Terms drawn from the same words as `any_secret`, so that they match
/// about as often as not.
fn related_term() -> impl Strategy<Value = Term> {
    prop_oneof![
        pick(&["prod", "alice", "DB", "ünï", "smith", "x", "über"]).prop_map(Term::Text),
        pick(&["prod", "prod/*", "*db", "dev/a??", "PROD/web", "staging/ü*"]).prop_map(Term::Name),
        (
            pick(&["owner", "OWNER", "env", "missing"]),
            prop::option::of(pick(&["alice", "alice*", "*smith", "", "ünï", "prod"]))
        )
            .prop_map(|(key, value)| Term::Tag { key, value }),
        pick(&["us-east-1", "eu-*", "EU-WEST-2"]).prop_map(Term::Region),
        pick(&["123456789012", "21*"]).prop_map(Term::Account),
        prop_oneof![
            Just(Kms::Default),
            Just(Kms::Customer),
            pick(&["alias", "payments", "ABCD", "aws/secrets"]).prop_map(Kms::Contains)
        ]
        .prop_map(Term::Kms),
        any::<bool>().prop_map(Term::Rotation),
        any::<bool>().prop_map(Term::Deleted),
        prop_oneof![
            Just(Service::Unmanaged),
            pick(&["rds", "RDS*", "lambda", "ü"]).prop_map(Service::Prefix)
        ]
        .prop_map(Term::Service),
        prop::option::of(prop::sample::select(vec![
            RotationStep::SetSecret,
            RotationStep::TestSecret
        ]))
        .prop_map(Term::Step),
        prop::option::of(prop::sample::select(SOME_CAUSES.to_vec())).prop_map(Term::Cause),
        pick(&[
            "payments-api",
            "PAYMENTS-*",
            "arn:aws:iam::111122223333:role/payments-api",
            "*:999988887777:*",
            "ci",
            "*",
            "lambda.amazonaws.com",
            "etl",
        ])
        .prop_map(Term::Reader),
        reader_count(0u32..4).prop_map(Term::Readers),
        prop_oneof![
            Just(OwnerTerm::None),
            Just(OwnerTerm::Known),
            Just(OwnerTerm::Conflict),
            pick(&["alice", "ALICE*", "bob@x.com", "Alice Smith", "nobody"])
                .prop_map(OwnerTerm::Name)
        ]
        .prop_map(Term::Owner),
    ]
}

/// The identities `any_secret`'s readers are drawn from (see `read_by`).
const SOME_READERS: [&str; 5] = [
    "arn:aws:sts::111122223333:assumed-role/payments-api/i-1",
    "arn:aws:iam::999988887777:role/etl",
    "arn:aws:iam::111122223333:user/ci",
    "arn:aws:iam::111122223333:user/Payments-Admin",
    "lambda.amazonaws.com",
];

/// The causes `related_term` and `any_secret` draw from: few, so that
/// `cause:` terms match about as often as not.
const SOME_CAUSES: [CauseId; 3] = [CauseId::Network, CauseId::KmsKey, CauseId::LambdaPermission];

fn any_secret() -> impl Strategy<Value = Secret> {
    let tag = (
        prop::sample::select(vec!["owner", "Owner", "env", "team"]),
        prop::sample::select(vec!["alice", "Alice Smith", "prod", "", "ÜNÏ"]),
    );
    (
        prop::sample::select(vec![
            "prod/payments/db",
            "Prod/Web",
            "dev/app",
            "staging/ünï/key",
            "x",
        ]),
        prop::option::of(prop::sample::select(vec![
            "Primary database",
            "ÜBER db",
            "owned by Alice",
            "Owner: bob@x.com",
            "",
        ])),
        prop::collection::vec(tag, 0..4),
        prop::sample::select(vec!["us-east-1", "eu-west-1", "EU-west-2"]),
        prop::sample::select(vec!["123456789012", "210987654321"]),
        prop::option::of(prop::sample::select(vec![
            "alias/aws/secretsmanager",
            "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
            "alias/payments",
        ])),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            "rds",
            "RDS-cluster",
            "lambda",
            "ünï",
        ])),
        // A failure: its step, and whether it is about the pending rotation.
        prop::option::of((
            prop::option::of(prop::sample::select(vec![
                RotationStep::SetSecret,
                RotationStep::TestSecret,
            ])),
            any::<bool>(),
        )),
        // The last diagnosis: none yet, nothing wrong, or some causes.
        prop::option::of(prop::collection::vec(
            prop::sample::select(SOME_CAUSES.to_vec()),
            0..3,
        )),
        // Readers: not looked up, nobody, or some (read or refused).
        prop::option::of(prop::collection::vec(
            (prop::sample::select(SOME_READERS.to_vec()), any::<bool>()),
            0..5,
        )),
    )
        .prop_map(
            |(
                name,
                description,
                tags,
                region,
                account,
                kms,
                rotation,
                deleted,
                service,
                failure,
                causes,
                readers,
            )| {
                let mut s = secret(name);
                s.description = description.map(Arc::from);
                s.tags = tags.into_iter().map(|(k, v)| Tag::new(k, v)).collect();
                s.region = Arc::from(region);
                s.account = Arc::from(account);
                s.kms_key_id = kms.map(Arc::from);
                s.rotation_enabled = rotation;
                s.deleted = deleted.then_some(Timestamp::new(1_800_000_000));
                s.owning_service = service.map(Arc::from);
                s.causes = causes.map(Arc::from);
                let s = read_by(s, readers.as_deref());
                match failure {
                    Some((step, for_pending)) => failing(s, step, for_pending),
                    None => s,
                }
            },
        )
}

/// Strings made of the language's own pieces, joined in any order.
fn syntax_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "name:",
            "tag:",
            "kms:",
            "rotation:",
            "service:",
            "step:",
            "set",
            "cause:",
            "network",
            "kms-key",
            "any",
            "reader:",
            "readers:",
            ">=",
            "<",
            "3",
            "none",
            "unknown",
            "regoin:",
            "owner",
            "=",
            "\"",
            "\\",
            "(",
            ")",
            "-",
            "!",
            "OR",
            " ",
            "on",
            "*",
            "?",
            "é",
            "ü",
            "\t",
            ":",
            "",
        ]),
        0..16,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_trees_round_trip(e in tree(any_term())) {
        let query = Query::from(e);
        let shown = query.to_string();
        prop_assert_eq!(Query::parse(&shown), Ok(query), "shown as {}", shown);
    }

    #[test]
    fn any_input_parses_or_fails_in_range(
        input in prop_oneof![any::<String>(), syntax_soup(), "[a-z:=\"\\\\()!\\- Ré\t*?]{0,30}"]
    ) {
        match Query::parse(&input) {
            Ok(query) => {
                let shown = query.to_string();
                prop_assert_eq!(Query::parse(&shown), Ok(query), "shown as {}", shown);
            }
            Err(e) => {
                prop_assert!(e.position <= input.chars().count(), "{:?} for {:?}", e, input);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    /// Long and hostile input: never a panic, and whatever parses is
    /// within the limits (so what a page builds from it is bounded).
    #[test]
    fn adversarial_input_stays_within_the_limits(
        input in prop_oneof![
            prop::collection::vec(syntax_soup(), 0..600).prop_map(|v| v.concat()),
            "[-!() a\"z:]{0,4000}",
            "(\\(|-){0,300}a",
        ]
    ) {
        match Query::parse(&input) {
            Ok(query) => {
                prop_assert!(input.chars().count() <= MAX_QUERY_CHARS);
                prop_assert!(query.root().map_or(0, leaves) <= MAX_TERMS);
                let toggled = toggle_tag_term(&input, "owner", Some("alice"));
                prop_assert!(toggled.chars().count() <= input.chars().count() + 64, "{}", toggled);
            }
            Err(e) => prop_assert!(e.position <= input.chars().count(), "{:?}", e),
        }
    }

    #[test]
    fn not_or_and_follow_logic(
        a in tree(related_term()),
        b in tree(related_term()),
        s in any_secret(),
    ) {
        let (ma, mb) = (Query::from(a.clone()).matches(&s), Query::from(b.clone()).matches(&s));
        prop_assert_eq!(q(&a.to_string()).matches(&s), ma, "through text: {}", a);
        prop_assert_eq!(q(&format!("-({a})")).matches(&s), !ma);
        prop_assert_eq!(q(&format!("!({a})")).matches(&s), !ma);
        prop_assert_eq!(q(&format!("({a}) OR ({b})")).matches(&s), ma || mb);
        prop_assert_eq!(q(&format!("({a}) ({b})")).matches(&s), ma && mb);
    }

    #[test]
    fn index_agrees_with_matches(
        e in tree(related_term()),
        secrets in prop::collection::vec(any_secret(), 0..70),
    ) {
        let query = Query::from(e);
        let want: Vec<usize> = (0..secrets.len()).filter(|i| query.matches(&secrets[*i])).collect();
        prop_assert_eq!(query.select(&SearchIndex::new(&secrets)), want, "for {}", query);
    }

    #[test]
    fn single_terms_negate(t in related_term(), s in any_secret()) {
        let shown = Expr::Term(t.clone()).to_string();
        prop_assert_eq!(q(&format!("-{shown}")).matches(&s), !t.matches(&s));
    }

    #[test]
    fn toggling_twice_restores_the_query(
        a in tree(related_term()),
        value in prop::option::of(pick(&["alice", "Alice Smith", "", "a\"b"])),
    ) {
        let input = a.to_string();
        let value = value.as_ref().map(crate::domain::query::Value::as_str);
        let once = toggle_tag_term(&input, "zz key", value);
        let once_parsed = q(&once);
        let twice = toggle_tag_term(&once, "zz key", value);
        prop_assert_eq!(q(&twice), q(&input), "{} -> {} -> {}", input, once, twice);
        // A secret that meets the new term: the rest decides.
        let s = match value {
            Some(v) => tagged("x", &[("ZZ Key", v)]),
            None => tagged("x", &[]),
        };
        prop_assert_eq!(once_parsed.matches(&s), q(&input).matches(&s));
    }
}
