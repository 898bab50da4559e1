use super::*;

// -- canonical text ------------------------------------------------------

const HAND_WRITTEN: &[&str] = &[
    "prod",
    "PROD db",
    "\"primary database\"",
    "name:prod/*",
    "name:prod/payments",
    "NAME:\"with space\"",
    "tag:owner=alice",
    "tag:env",
    "-tag:owner",
    "!tag:owner",
    "tag:owner=\"Alice Smith\"",
    "tag:\"cost center\"=\"R&D\"",
    "tag:\"a=b\"=c=d",
    "tag:owner=\"\"",
    "tag:aws:cloudformation:stack-name=web",
    "region:eu-west-1",
    "account:123456789012",
    "kms:default",
    "kms:CMK",
    "kms:alias/payments",
    "kms:\"default\"",
    "kms:\"defualt\"",
    "rotation:on",
    "rotation:OFF",
    "deleted:yes",
    "deleted:no",
    "service:rds",
    "service:none",
    "service:\"None\"",
    "step:setSecret",
    "step:set",
    "-step:any",
    "step:test OR step:FINISH",
    "cause:network",
    "cause:KMS-Key",
    "-cause:any",
    "cause:*",
    "cause:lambda-permission OR cause:\"network\"",
    "(cause:kms-key OR -cause:any) tag:team=payments",
    "reader:payments-*",
    "reader:arn:aws:iam::111122223333:role/etl",
    "-reader:\"with space\"",
    "readers:>=2 OR readers:none",
    "readers:0 -readers:UNKNOWN",
    "a OR b",
    "a b OR c d",
    "(a OR b) c",
    "-(a OR b)",
    "-(a b)",
    "--a",
    "((a))",
    "a (b c)",
    r#""say \"hi\" \\ bye""#,
    "\"OR\"",
    "or",
    "\"-x\"",
    "\"!x\"",
    "\"a:b\"",
    "12:30",
    "x OR (y OR z)",
    "name:\"with space\" OR -rotation:on (tag:env=prod* OR tag:env=dev)",
    "ünïcode ÜBER",
    "   spaced    out   ",
    "(a)(b)\"c\"d",
];

#[test]
fn hand_written_queries_round_trip() {
    for input in HAND_WRITTEN {
        let parsed = q(input);
        let shown = parsed.to_string();
        assert_eq!(
            Query::parse(&shown),
            Ok(parsed.clone()),
            "{input:?} shown as {shown:?}"
        );
        assert_eq!(q(&shown).to_string(), shown, "display is a fixed point");
    }
}

#[test]
fn canonical_forms() {
    for (input, canonical) in [
        ("!tag:owner", "-tag:owner"),
        ("a   b", "a b"),
        ("((a))", "a"),
        ("(a b) c", "a b c"),
        ("x OR (y OR z)", "x OR y OR z"),
        ("(a OR b) c", "(a OR b) c"),
        ("a b OR c", "a b OR c"),
        ("-(a)", "-a"),
        ("!(a b)", "-(a b)"),
        ("NAME:Prod/*", "name:Prod/*"),
        ("Rotation:ON deleted:No", "rotation:on deleted:no"),
        ("kms:DEFAULT kms:\"default\"", "kms:default kms:\"default\""),
        (
            "service:NONE service:\"none\"",
            "service:none service:\"none\"",
        ),
        ("\"prod\"", "prod"),
        ("\"a:b\" \"OR\" \"-x\"", "\"a:b\" \"OR\" \"-x\""),
        ("tag:\"owner\"=\"alice\"", "tag:owner=alice"),
        ("tag:owner=\"Alice Smith\"", "tag:owner=\"Alice Smith\""),
        ("tag:\"a=b\"=\"\"", "tag:\"a=b\"=\"\""),
        (r#""a\b""#, r"a\b"),
        (r#""a\"b""#, r#""a\"b""#),
    ] {
        assert_eq!(q(input).to_string(), canonical, "for {input:?}");
    }
}
