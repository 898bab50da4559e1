use super::*;

// -- errors --------------------------------------------------------------

#[test]
fn unknown_field_suggests_the_closest_name() {
    assert_err(
        "prod regoin:eu-west-1",
        5,
        "unknown field \"regoin\" (did you mean region?)",
        &FIELDS,
    );
    assert_eq!(
        err("prod regoin:eu-west-1").to_string(),
        "at 5: unknown field \"regoin\" (did you mean region?); \
         expected one of name, tag, region, account, kms, rotation, deleted, service, health, rule, suppressed, rotated, next, step, cause, reader, readers, owner"
    );
    assert_err(
        "-Tags:x",
        1,
        "unknown field \"Tags\" (did you mean tag?)",
        &FIELDS,
    );
    assert_err(
        "arn:aws:x",
        0,
        "unknown field \"arn\" (to search for text with a colon, quote it: \"arn:…\")",
        &FIELDS,
    );
    // Positions count characters, not bytes.
    assert_eq!(err("ünïcode rotaton:on").position, 8);
    assert_eq!(
        err("ünïcode rotaton:on").message,
        "unknown field \"rotaton\" (did you mean rotation?)"
    );
}

#[test]
fn empty_values_after_a_field() {
    assert_err(
        "name:",
        5,
        "empty value after \"name:\"",
        &["a name, a name prefix or a glob like prod/*"],
    );
    assert_err(
        "a region: b",
        9,
        "empty value after \"region:\"",
        &["a region like eu-west-1"],
    );
    assert_err(
        "account:)",
        8,
        "empty value after \"account:\"",
        &["an account id"],
    );
    assert_err(
        "kms:\"\"",
        4,
        "empty value after \"kms:\"",
        &["default", "cmk", "part of a key id, ARN or alias"],
    );
    assert_err(
        "rotation:",
        9,
        "empty value after \"rotation:\"",
        &["on", "off"],
    );
    assert_err(
        "DELETED: x",
        8,
        "empty value after \"deleted:\"",
        &["yes", "no"],
    );
    assert_err(
        "(service:)",
        9,
        "empty value after \"service:\"",
        &["none", "a service name prefix like rds"],
    );
    assert_err("tag:", 4, "empty tag key after \"tag:\"", &["a tag key"]);
    assert_err(
        "tag:=alice",
        4,
        "empty tag key after \"tag:\"",
        &["a tag key"],
    );
    assert_err(
        "tag:\"\"",
        4,
        "empty tag key after \"tag:\"",
        &["a tag key"],
    );
}

#[test]
fn empty_tag_value_suggests_the_missing_tag_form() {
    let message = "missing value after \"tag:owner=\": write -tag:owner for secrets without \
                   this tag, tag:owner for any value, or tag:owner=\"\" for an empty value";
    assert_err("tag:owner=", 10, message, &["a tag value or glob"]);
    assert_err("tag:owner= prod", 10, message, &["a tag value or glob"]);
    assert_err("(tag:owner=)", 11, message, &["a tag value or glob"]);
    assert!(err("tag:\"cost center\"=")
        .message
        .contains("-tag:\"cost center\" for secrets without this tag"));
}

#[test]
fn bad_values_for_enumerated_fields() {
    assert_err(
        "rotation:maybe",
        9,
        "unknown value \"maybe\" for rotation",
        &["on", "off"],
    );
    assert_err(
        "rotation:onn",
        9,
        "unknown value \"onn\" for rotation (did you mean on?)",
        &["on", "off"],
    );
    assert_err(
        "deleted:true",
        8,
        "unknown value \"true\" for deleted",
        &["yes", "no"],
    );
    assert_err(
        "x deleted:yess",
        10,
        "unknown value \"yess\" for deleted (did you mean yes?)",
        &["yes", "no"],
    );
    assert_err(
        "kms:defualt",
        4,
        "unknown kms keyword \"defualt\" (did you mean default?); to search key ids for \
         this text, quote it: kms:\"defualt\"",
        &["default", "cmk", "part of a key id, ARN or alias"],
    );
    assert!(
        Query::parse("kms:\"defualt\"").is_ok(),
        "quoting searches for it"
    );
    assert!(
        Query::parse("kms:alias/default-2").is_ok(),
        "not just letters"
    );
}

#[test]
fn unterminated_quotes() {
    let message = "unterminated quote: add a closing \" (write \\\" for a quote inside)";
    assert_err("owner \"Alice", 6, message, &["a closing quote"]);
    assert_err("tag:owner=\"Alice", 10, message, &["a closing quote"]);
    assert_err("tag:\"own", 4, message, &["a closing quote"]);
    assert_err("name:\"prod", 5, message, &["a closing quote"]);
    assert_err(r#""abc\""#, 0, message, &["a closing quote"]);
    assert_err(r#""abc\"#, 0, message, &["a closing quote"]);
}

#[test]
fn unbalanced_parentheses() {
    let unclosed = "unclosed \"(\": add a \")\" to close it";
    assert_err("(a b", 0, unclosed, &["a closing parenthesis"]);
    assert_err("a (b OR (c)", 2, unclosed, &["a closing parenthesis"]);
    assert_err("(", 0, unclosed, &["a closing parenthesis"]);
    let unmatched = "unmatched \")\": there is no \"(\" before it to close";
    let after = ["a term", "OR", "the end of the query"];
    assert_err("a b)", 3, unmatched, &after);
    assert_err(")", 0, unmatched, &after);
    assert_err("(a)) b", 3, unmatched, &after);
}

#[test]
fn leading_and_dangling_or() {
    let before = "\"OR\" needs a term before it";
    let after = "\"OR\" needs a term after it";
    assert_err("OR a", 0, before, &["a term"]);
    assert_err("  OR", 2, before, &["a term"]);
    assert_err("x (OR a)", 3, before, &["a term"]);
    assert_err("a OR", 2, after, &["a term"]);
    assert_err("a OR   ", 2, after, &["a term"]);
    assert_err("(a OR ) b", 3, after, &["a term"]);
    assert_err("a OR OR b", 2, after, &["a term"]);
}

#[test]
fn empty_groups_and_quotes() {
    assert_err("()", 0, "empty parentheses: put a term inside", &["a term"]);
    assert_err(
        "a ( )",
        2,
        "empty parentheses: put a term inside",
        &["a term"],
    );
    assert_err(
        "a \"\"",
        2,
        "empty quotes: put the text to search for between them",
        &["text between the quotes"],
    );
}

#[test]
fn negation_needs_a_term_right_after_it() {
    let dash = "nothing to negate: write \"-\" right before a term, as in -tag:owner";
    let bang = "nothing to negate: write \"!\" right before a term, as in !tag:owner";
    assert_err("-", 0, dash, &["a term"]);
    assert_err("a - b", 2, dash, &["a term"]);
    assert_err("a ! b", 2, bang, &["a term"]);
    assert_err("(a -)", 3, dash, &["a term"]);
    assert_err("-OR b", 0, dash, &["a term"]);
    assert_err("--", 1, dash, &["a term"]);
}

#[test]
fn nesting_is_bounded() {
    let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(Query::parse(&ok).is_ok());
    let deep = format!(
        "{}a{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let message = "too deeply nested: at most 64 parentheses and negations inside one another";
    assert_err(&deep, MAX_DEPTH, message, &[]);
    assert_err(&format!("{}a", "-".repeat(1_000)), MAX_DEPTH, message, &[]);
    assert_eq!(err(&deep).to_string(), format!("at 64: {message}"));
    // Wide is fine up to the term limit: no recursion across terms.
    assert!(Query::parse(&"a ".repeat(MAX_TERMS)).is_ok());
}

#[test]
fn error_display_lists_one_or_many_expectations() {
    assert_eq!(
        err("(a").to_string(),
        "at 0: unclosed \"(\": add a \")\" to close it; expected a closing parenthesis"
    );
    assert_eq!(
        err("rotation:x").to_string(),
        "at 9: unknown value \"x\" for rotation; expected one of on, off"
    );
}
