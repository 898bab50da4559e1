use super::*;

// -- index ---------------------------------------------------------------

#[test]
fn index_selects_what_matches_selects() {
    let mut deleted = tagged("old/db", &[("owner", "Bob")]);
    deleted.deleted = Some(Timestamp::new(1_800_000_000));
    deleted.owning_service = Some("RDS".into());
    let mut unicode = tagged("Übung/ä", &[("Team", "ÄRGER")]);
    unicode.kms_key_id = Some("alias/Café".into());
    let secrets = [payments(), deleted, unicode, secret("dev/app")];
    let index = SearchIndex::new(&secrets);
    assert_eq!((index.len(), index.is_empty()), (4, false));
    for (input, want) in [
        ("", vec![0, 1, 2, 3]),
        ("prod", vec![0]),
        ("postgres OR bob", vec![0, 1]),
        ("-tag:owner", vec![2, 3]),
        ("tag:team=ärger", vec![2]),
        ("name:übung/?", vec![2]),
        ("kms:CAFÉ", vec![2]),
        ("kms:default -deleted:yes", vec![0, 3]),
        ("service:rds", vec![1]),
        (
            "service:none rotation:off (app OR tag:env=prod)",
            vec![0, 3],
        ),
        ("\"db\u{0}alice\"", vec![]),
    ] {
        assert_eq!(q(input).select(&index), want, "for {input:?}");
        let by_matches: Vec<usize> = (0..secrets.len())
            .filter(|i| q(input).matches(&secrets[*i]))
            .collect();
        assert_eq!(by_matches, want, "matches, for {input:?}");
    }
    assert!(q("x").select(&SearchIndex::new([])).is_empty());
}

#[test]
fn index_agrees_whether_it_scans_columns_or_rows() {
    // 1 secret in 20 is in "payments": after it, the next terms see few
    // rows and test them one by one; alone, they scan whole columns.
    let secrets: Vec<Secret> = (0..400)
        .map(|i| {
            let team = if i % 20 == 0 { "payments" } else { "search" };
            let mut s = tagged(
                &format!("prod/{team}/db-{i}"),
                &[("owner", ["alice", "Bob"][i % 2])],
            );
            s.description = (i % 3 == 0).then(|| format!("Ticket {}", i % 7).into());
            s
        })
        .collect();
    let index = SearchIndex::new(&secrets);
    for input in [
        "payments ticket",
        "ticket payments",
        "payments name:*/db-1?",
        "name:*/db-1? payments",
        "payments bob",
        "payments -\"ticket 3\"",
        "name:prod/search/db-3*",
        "name:*db* -name:*search*",
    ] {
        let query = q(input);
        let want: Vec<usize> = (0..secrets.len())
            .filter(|i| query.matches(&secrets[*i]))
            .collect();
        assert_eq!(query.select(&index), want, "for {input:?}");
    }
}

#[test]
fn bitsets_cover_exactly_their_length() {
    for len in [0, 1, 63, 64, 65, 130] {
        assert_eq!(Bits::full(len).ones().count(), len);
        assert!(Bits::empty(len).is_empty());
    }
}
