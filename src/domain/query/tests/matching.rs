use super::*;

// -- free text -----------------------------------------------------------

#[test]
fn blank_queries_match_everything() {
    for input in ["", "   ", "\t\n"] {
        let query = q(input);
        assert!(query.is_empty());
        assert!(query.matches(&payments()));
        assert_eq!(query.to_string(), "");
    }
    assert!(!q("x").is_empty());
}

#[test]
fn words_match_name_description_and_tag_values() {
    let mut s = payments();
    assert!(m("PAYMENTS", &s), "name");
    assert!(m("postgres", &s), "description");
    assert!(m("alice", &s), "tag value");
    assert!(m("postgres alice", &s), "all words, any field");
    assert!(!m("postgres bob", &s), "every word must match");
    assert!(!m("owner", &s), "tag keys are not free text");
    assert!(!m("us-east-1", &s), "region is not free text");
    s.description = Some("Überprüfung".into());
    assert!(m("überPRÜF", &s), "non-ASCII case folding");
    assert!(m("ÜBERPRÜF", &s));
}

#[test]
fn phrases_keep_spaces_and_escapes() {
    let mut s = payments();
    assert!(m("\"primary postgres\"", &s));
    assert!(!m("\"primary database\"", &s), "a phrase is one substring");
    assert!(m("\"Alice Smith\"", &s));
    s.description = Some(r#"say "hi" to C:\temp"#.into());
    assert!(m(r#""say \"hi\"""#, &s));
    assert!(m(r#""c:\\temp""#, &s), "\\\\ is one backslash");
    assert!(m(r#""c:\temp""#, &s), "a lone backslash stays");
    assert!(
        m("\"OR\"", &tagged("a", &[("x", "OR")])),
        "quoted OR is a word"
    );
    assert!(
        m("or", &tagged("a", &[("x", "OR")])),
        "lower-case or is a word"
    );
    assert!(
        m("\"-east\"", &secret("us-east-db")),
        "quoted leading dash is text"
    );
    assert!(m("\"arn:aws\"", &tagged("a", &[("x", "arn:aws:x")])));
    assert!(
        m("12:30", &tagged("a", &[("x", "at 12:30")])),
        "not a field name"
    );
}

// -- fields --------------------------------------------------------------

#[test]
fn name_prefix_and_glob() {
    let s = payments();
    assert!(m("name:prod/payments", &s), "prefix");
    assert!(m("name:PROD/", &s));
    assert!(!m("name:payments", &s), "a prefix, not a substring");
    assert!(m("name:prod/*", &s), "* crosses /");
    assert!(m("name:*/db", &s));
    assert!(!m("name:*/d", &s), "a glob covers the whole name");
    assert!(m("name:prod/payments/d?", &s));
    assert!(!m("name:prod/payments/?", &s));
    assert!(m("name:\"prod/payments/db\"", &s));
    assert!(m("Name:prod", &s), "field names ignore case");
}

#[test]
fn tag_presence_value_glob_and_empty_value() {
    let s = payments();
    assert!(m("tag:owner", &s));
    assert!(m("tag:OWNER", &s), "keys ignore case");
    assert!(!m("tag:own", &s), "keys match exactly");
    assert!(!m("tag:team", &s));
    assert!(m("tag:owner=\"alice smith\"", &s), "values ignore case");
    assert!(
        !m("tag:owner=alice", &s),
        "values match exactly without a glob"
    );
    assert!(m("tag:owner=alice*", &s));
    assert!(m("tag:owner=*SMITH", &s));
    assert!(m("tag:env=pro?", &s));
    assert!(
        !m("tag:env=alice*", &s),
        "the value belongs to the same tag"
    );
    assert!(
        m("tag:note=\"\"", &s),
        "quoted empty value matches an empty value"
    );
    assert!(!m("tag:env=\"\"", &s));
    let cfn = tagged("a", &[("aws:cloudformation:stack-name", "web")]);
    assert!(m("tag:aws:cloudformation:stack-name=web", &cfn));
    let spaced = tagged("a", &[("cost center", "R&D")]);
    assert!(m("tag:\"Cost Center\"=r&d", &spaced));
    let eq = tagged("a", &[("a=b", "c=d")]);
    assert!(
        m("tag:\"a=b\"=c=d", &eq),
        "= in a quoted key, and in a value"
    );
}

#[test]
fn region_and_account_exact_or_glob() {
    let mut s = payments();
    s.region = Arc::from("eu-west-1");
    assert!(m("region:eu-west-1", &s));
    assert!(m("region:EU-WEST-1", &s));
    assert!(!m("region:eu-west", &s), "exact without a glob");
    assert!(m("region:eu-*", &s));
    assert!(m("account:123456789012", &s));
    assert!(!m("account:12345678901", &s));
    assert!(m("account:1234*", &s));
}

#[test]
fn kms_default_customer_and_substring() {
    let mut s = payments();
    assert!(m("kms:default", &s), "no key id is the AWS managed key");
    assert!(!m("kms:cmk", &s));
    assert!(m("kms:aws/secretsmanager", &s), "searched as its alias");
    s.kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager".into());
    assert!(m("kms:DEFAULT", &s));
    s.kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:key/AbCd-1234".into());
    assert!(m("kms:cmk", &s));
    assert!(!m("kms:default", &s));
    assert!(m("kms:abcd-12", &s), "part of the key ARN");
    assert!(!m("kms:alias/payments", &s));
    s.kms_key_id = Some("alias/default-payments".into());
    assert!(
        m("kms:\"default\"", &s),
        "quoted: a substring, not the keyword"
    );
    assert!(!m("kms:default", &s));
}

#[test]
fn rotation_and_deleted() {
    let mut s = payments();
    assert!(m("rotation:off", &s) && !m("rotation:on", &s));
    assert!(m("deleted:no", &s) && !m("deleted:yes", &s));
    s.rotation_enabled = true;
    s.deleted = Some(Timestamp::new(1_800_000_000));
    assert!(m("rotation:ON", &s) && !m("rotation:off", &s));
    assert!(m("deleted:Yes", &s) && !m("deleted:no", &s));
    assert!(
        m("rotation:\"on\"", &s),
        "quoting a keyword value changes nothing"
    );
}

#[test]
fn service_prefix_and_none() {
    let mut s = payments();
    assert!(m("service:none", &s));
    assert!(!m("service:rds", &s));
    s.owning_service = Some("RDS".into());
    assert!(m("service:rds", &s));
    assert!(m("service:r", &s), "a prefix");
    assert!(!m("service:ds", &s));
    assert!(m("service:*D?", &s), "or a glob");
    assert!(!m("service:none", &s));
    assert!(!m("service:NONE", &s));
    s.owning_service = Some("none-such".into());
    assert!(
        m("service:\"none\"", &s),
        "quoted: a prefix, not the keyword"
    );
    assert!(!m("service:none", &s));
}

// -- operators -----------------------------------------------------------

#[test]
fn negation_of_terms_words_and_groups() {
    let s = payments();
    assert!(!m("-payments", &s));
    assert!(m("-staging", &s));
    assert!(!m("!tag:owner", &s));
    assert!(m("-tag:team", &s), "missing tag");
    assert!(m("-\"primary mysql\"", &s));
    assert!(!m("-(payments OR staging)", &s));
    assert!(m("-(payments staging)", &s));
    assert!(
        m("--payments", &s) && m("!-payments", &s),
        "double negation"
    );
    assert!(
        m("a-b", &tagged("a-b", &[])),
        "a dash inside a word is text"
    );
}

#[test]
fn and_or_precedence_and_parentheses() {
    let s = payments();
    assert!(m("payments OR staging", &s));
    assert!(m("staging OR payments", &s));
    assert!(!m("staging OR mysql", &s));
    // AND binds tighter: (staging mysql) OR (payments postgres)
    assert!(m("staging mysql OR payments postgres", &s));
    assert!(!m("payments (staging OR mysql)", &s));
    assert!(m("payments (staging OR postgres)", &s));
    assert!(
        m("(staging OR payments)(mysql OR postgres)", &s),
        "no space needed"
    );
    assert_eq!(
        q("a b OR c d").root(),
        Some(&Expr::Or(vec![
            Expr::And(vec![text("a"), text("b")]),
            Expr::And(vec![text("c"), text("d")]),
        ]))
    );
    assert_eq!(q("a (b c)"), q("a b c"), "groups of AND flatten");
    assert_eq!(q("(a OR b) OR c"), q("a OR b OR c"), "groups of OR flatten");
    assert_eq!(q("((a))"), q("a"));
}

fn text(s: &str) -> Expr {
    Expr::Term(Term::Text(Value::new(s)))
}

#[test]
fn ast_is_walkable() {
    let query = q("name:prod/* -tag:owner kms:cmk service:none rotation:off");
    let Some(Expr::And(items)) = query.root() else {
        panic!("an AND at the top");
    };
    let fields: Vec<_> = items
        .iter()
        .map(|e| match e {
            Expr::Term(t) => t.field(),
            Expr::Not(inner) => match &**inner {
                Expr::Term(t) => t.field(),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        fields,
        [
            Some("name"),
            Some("tag"),
            Some("kms"),
            Some("service"),
            Some("rotation")
        ]
    );
    assert_eq!(items[0], Expr::Term(Term::Name(Value::new("prod/*"))));
    let Expr::Term(Term::Name(v)) = &items[0] else {
        unreachable!()
    };
    assert!(v.is_glob());
    assert_eq!((v.as_str(), v.lower()), ("prod/*", "prod/*"));
    assert_eq!(items[2], Expr::Term(Term::Kms(Kms::Customer)));
    assert_eq!(items[3], Expr::Term(Term::Service(Service::Unmanaged)));
    assert_eq!(items[4], Expr::Term(Term::Rotation(false)));
    assert_eq!(Value::new("ÄB").lower(), "äb");
}
