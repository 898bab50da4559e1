use super::*;

// -- facets --------------------------------------------------------------

#[test]
fn place_toggles_add_then_remove() {
    let added = toggle_place_term("prod", false, "210987654321");
    assert_eq!(added, "prod account:210987654321");
    assert_eq!(toggle_place_term(&added, false, "210987654321"), "prod");
    let both = toggle_place_term(&added, true, "eu-west-1");
    assert_eq!(both, "prod account:210987654321 region:eu-west-1");
    assert_eq!(
        toggle_place_term(&both, true, "EU-WEST-1"),
        "prod account:210987654321",
        "regions compare without case"
    );
    assert_eq!(
        toggle_place_term(&both, false, "123456789012"),
        "prod account:210987654321 region:eu-west-1 account:123456789012",
        "another account's term is added, not swapped"
    );
    let s = crate::domain::secret::fixtures::secret("prod/x");
    assert!(Query::parse(&toggle_place_term("", true, "us-east-1"))
        .unwrap()
        .matches(&s));
}

#[test]
fn toggle_adds_then_removes() {
    let added = toggle_tag_term("prod", "owner", Some("alice"));
    assert_eq!(added, "prod tag:owner=alice");
    assert_eq!(toggle_tag_term(&added, "owner", Some("alice")), "prod");
    assert_eq!(
        toggle_tag_term("", "owner", Some("alice")),
        "tag:owner=alice"
    );
    assert_eq!(
        toggle_tag_term("  ", "owner", Some("alice")),
        "tag:owner=alice"
    );
    assert_eq!(
        toggle_tag_term("tag:owner=alice", "owner", Some("alice")),
        ""
    );
}

#[test]
fn toggle_missing_tag() {
    assert_eq!(toggle_tag_term("prod", "owner", None), "prod -tag:owner");
    assert_eq!(toggle_tag_term("prod -tag:owner", "owner", None), "prod");
    assert_eq!(toggle_tag_term("!tag:OWNER prod", "owner", None), "prod");
    assert_eq!(
        toggle_tag_term("prod tag:owner", "owner", None),
        "prod tag:owner -tag:owner",
        "tag:owner is not the missing-tag term"
    );
}

#[test]
fn toggle_keeps_the_rest_of_the_query() {
    assert_eq!(
        toggle_tag_term(
            "name:\"a b\"  tag:OWNER=Alice   !rotation:on",
            "owner",
            Some("alice")
        ),
        "name:\"a b\" !rotation:on",
        "removal ignores case and keeps the other terms as written"
    );
    assert_eq!(
        toggle_tag_term("tag:owner=bob", "owner", Some("alice")),
        "tag:owner=bob tag:owner=alice"
    );
    assert_eq!(
        toggle_tag_term("(tag:env=prod) (a OR b)", "env", Some("prod")),
        "(a OR b)"
    );
    assert_eq!(
        toggle_tag_term("a OR b", "env", Some("prod")),
        "(a OR b) tag:env=prod",
        "a top-level OR is grouped"
    );
    assert_eq!(
        toggle_tag_term("a OR tag:env=prod", "env", Some("prod")),
        "(a OR tag:env=prod) tag:env=prod",
        "only top-level terms are removed"
    );
    let quoted = toggle_tag_term("x", "cost center", Some("R&D dept"));
    assert_eq!(quoted, "x tag:\"cost center\"=\"R&D dept\"");
    assert!(q(&quoted).matches(&tagged("x", &[("Cost Center", "r&d DEPT")])));
    assert_eq!(
        toggle_tag_term(&quoted, "cost center", Some("R&D dept")),
        "x"
    );
    assert_eq!(toggle_tag_term("x", "note", Some("")), "x tag:note=\"\"");
}

#[test]
fn toggle_on_a_query_with_an_error_works_on_words() {
    assert_eq!(
        toggle_tag_term("name: (", "owner", Some("alice")),
        "name: ( tag:owner=alice"
    );
    assert_eq!(
        toggle_tag_term("name: ( tag:owner=alice", "owner", Some("alice")),
        "name: ("
    );
}
