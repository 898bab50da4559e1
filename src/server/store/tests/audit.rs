//! The audit trail: round trips, filters, paging, export, and hostile text
//! stored verbatim everywhere.

use super::*;
use crate::domain::access::{Grant, Role, Scope};
use crate::domain::audit::{AuditAction, AuditEvent, Outcome};

fn event(at: i64, actor: &str, action: AuditAction, target: &str, outcome: Outcome) -> AuditEvent {
    AuditEvent {
        at: t(at),
        actor: actor.to_string(),
        client: "127.0.0.1".to_string(),
        action,
        target: target.to_string(),
        outcome,
        detail: format!("{actor} {action} {target}"),
        request_id: format!("req-{at}"),
    }
}

/// Every record `filter` selects, through the page and the export paths,
/// which must agree; as (actor, target) pairs oldest first.
async fn selected(s: &Store, filter: &AuditFilter) -> Vec<(String, String)> {
    let page = s.audit_page(filter, 0, AUDIT_PAGE_MAX).await.unwrap();
    let mut exported = Vec::new();
    let n = s
        .audit_for_each(filter, |r| exported.push(r.clone()))
        .await
        .unwrap();
    assert_eq!(n as usize, exported.len());
    assert_eq!(page.total, n as i64, "{filter:?}");
    let mut paged = page.records;
    paged.reverse();
    assert_eq!(paged, exported, "{filter:?}");
    exported
        .into_iter()
        .map(|r| (r.event.actor, r.event.target))
        .collect()
}

pub(super) async fn audit_records_round_trip(s: &Store) {
    let empty = s.audit_page(&AuditFilter::default(), 0, 10).await.unwrap();
    assert_eq!((empty.records.len(), empty.total), (0, 0));
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for (i, action) in AuditAction::ALL.into_iter().enumerate() {
        let outcome = Outcome::ALL[i % Outcome::ALL.len()];
        let ev = event(i as i64, "alice", action, &format!("target-{i}"), outcome);
        ids.push(s.append_audit(&ev).await.unwrap());
        events.push(ev);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    let mut read = Vec::new();
    s.audit_for_each(&AuditFilter::default(), |r| read.push(r.clone()))
        .await
        .unwrap();
    let expected: Vec<AuditRecord> = ids
        .into_iter()
        .zip(events)
        .map(|(id, event)| AuditRecord { id, event })
        .collect();
    assert_eq!(read, expected, "every action and outcome round-trips");
}

pub(super) async fn audit_filters_by_each_field(s: &Store) {
    use AuditAction as A;
    use Outcome as O;
    let rows = [
        (0, "alice", A::Login, "", O::Allowed),
        (1, "bob", A::LoginFailed, "", O::Denied),
        (2, "alice", A::Rotate, "prod/Payments/DB", O::Allowed),
        (3, "alice", A::Rotate, "dev/payments/db", O::Failed),
        (4, "Alice", A::Rollback, "prod/search/key", O::Denied),
        (5, "bob", A::Rotate, "prod/50%_off", O::Allowed),
        (6, "carol", A::Restore, "ÄRGER/Straße", O::Allowed),
    ];
    for (at, actor, action, target, outcome) in rows {
        s.append_audit(&event(at, actor, action, target, outcome))
            .await
            .unwrap();
    }
    let pick = |idx: &[usize]| -> Vec<(String, String)> {
        idx.iter()
            .map(|&i| (rows[i].1.to_string(), rows[i].3.to_string()))
            .collect()
    };
    let none = AuditFilter::default;
    let by_actor = |a: &str| AuditFilter {
        actor: Some(a.into()),
        ..none()
    };
    let by_target = |t: &str| AuditFilter {
        target: Some(t.into()),
        ..none()
    };
    let cases: &[(AuditFilter, &[usize], &str)] = &[
        (none(), &[0, 1, 2, 3, 4, 5, 6], "no filter"),
        (
            by_actor("alice"),
            &[0, 2, 3],
            "actor: exact, case-sensitive",
        ),
        (by_actor("ali"), &[], "actor: not a substring"),
        (
            AuditFilter {
                action: Some(A::Rotate),
                ..none()
            },
            &[2, 3, 5],
            "action",
        ),
        (
            AuditFilter {
                action: Some(A::AccessGrant),
                ..none()
            },
            &[],
            "action never taken",
        ),
        (
            AuditFilter {
                outcome: Some(O::Denied),
                ..none()
            },
            &[1, 4],
            "outcome",
        ),
        (
            by_target("PAYMENTS/db"),
            &[2, 3],
            "target: substring, any case",
        ),
        (by_target("prod/"), &[2, 4, 5], "target: prefix"),
        (by_target("ärger/straße"), &[6], "target: Unicode case"),
        (
            by_target("ärger/STRASSE"),
            &[],
            "lower-casing, not case folding",
        ),
        (
            by_target("50%_"),
            &[5],
            "target: LIKE wildcards are literal",
        ),
        (by_target("%"), &[5], "target: % is literal"),
        (by_target("_"), &[5], "target: _ is literal"),
    ];
    for (filter, expected, why) in cases {
        assert_eq!(selected(s, filter).await, pick(expected), "{why}");
    }
    // Everything at once narrows.
    let all = AuditFilter {
        actor: Some("alice".into()),
        action: Some(A::Rotate),
        target: Some("payments".into()),
        outcome: Some(O::Failed),
        from: Some(t(0)),
        to: Some(t(100)),
    };
    assert_eq!(selected(s, &all).await, pick(&[3]));
}

pub(super) async fn audit_time_range_is_from_inclusive_to_exclusive(s: &Store) {
    for at in [-1, 0, 9, 10, 11, 19, 20, 21] {
        let ev = event(
            at,
            &format!("at{at}"),
            AuditAction::Login,
            "",
            Outcome::Allowed,
        );
        s.append_audit(&ev).await.unwrap();
    }
    let actors = |v: Vec<(String, String)>| v.into_iter().map(|(a, _)| a).collect::<Vec<_>>();
    let range = |from: Option<i64>, to: Option<i64>| AuditFilter {
        from: from.map(t),
        to: to.map(t),
        ..AuditFilter::default()
    };
    assert_eq!(
        actors(selected(s, &range(Some(10), Some(20))).await),
        ["at10", "at11", "at19"]
    );
    assert_eq!(
        actors(selected(s, &range(Some(10), None)).await),
        ["at10", "at11", "at19", "at20", "at21"]
    );
    assert_eq!(
        actors(selected(s, &range(None, Some(10))).await),
        ["at-1", "at0", "at9"]
    );
    assert_eq!(
        actors(selected(s, &range(Some(10), Some(10))).await),
        Vec::<String>::new()
    );
    assert_eq!(
        actors(selected(s, &range(Some(20), Some(10))).await),
        Vec::<String>::new()
    );
    assert_eq!(
        actors(selected(s, &range(Some(21), Some(22))).await),
        ["at21"]
    );
}

pub(super) async fn audit_pages_newest_first_with_total(s: &Store) {
    // Appended out of time order, with ties: order is at desc, then id desc.
    let ats = [5, 3, 5, 1, 9, 3, 7, 5, 2, 8];
    let mut ids = Vec::new();
    for (i, at) in ats.into_iter().enumerate() {
        let kind = if i % 2 == 0 { "even" } else { "odd" };
        let ev = event(
            at,
            kind,
            AuditAction::Rotate,
            &format!("s{i}"),
            Outcome::Allowed,
        );
        ids.push((at, s.append_audit(&ev).await.unwrap()));
    }
    let mut newest_first = ids.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    let all = AuditFilter::default();
    let mut paged = Vec::new();
    for page in 0..4 {
        let p = s.audit_page(&all, page * 3, 3).await.unwrap();
        assert_eq!(p.total, 10);
        assert_eq!(p.records.len(), if page < 3 { 3 } else { 1 });
        paged.extend(p.records.iter().map(|r| (r.event.at.secs() - T0, r.id)));
    }
    assert_eq!(paged, newest_first);
    let past_end = s.audit_page(&all, 10, 3).await.unwrap();
    assert_eq!((past_end.records.len(), past_end.total), (0, 10));
    // Out-of-range arguments are clamped, not errors.
    let p = s.audit_page(&all, -5, -1).await.unwrap();
    assert_eq!((p.records.len(), p.total), (0, 10));
    let p = s.audit_page(&all, -5, 2).await.unwrap();
    assert_eq!(p.records.len(), 2);
    assert_eq!(p.records[0].id, newest_first[0].1);
    // A filter's total counts only what it selects.
    let odd = AuditFilter {
        actor: Some("odd".into()),
        ..AuditFilter::default()
    };
    let p = s.audit_page(&odd, 1, 2).await.unwrap();
    assert_eq!(p.total, 5);
    assert_eq!(p.records.len(), 2);
    assert!(p.records.iter().all(|r| r.event.actor == "odd"));
}

pub(super) async fn audit_for_each_reads_everything_oldest_first(s: &Store) {
    // More than two batches, most of them at the same second, so that the
    // batches must continue by id within one time.
    let n = 2 * crate::server::store::audit::BATCH + 7;
    for i in 0..n {
        let at = if i % 100 == 99 { i } else { 1_000 - (i % 3) };
        let actor = if i % 2 == 0 { "even" } else { "odd" };
        let ev = event(
            at,
            actor,
            AuditAction::Login,
            &format!("n{i}"),
            Outcome::Allowed,
        );
        s.append_audit(&ev).await.unwrap();
    }
    let mut seen = Vec::new();
    let count = s
        .audit_for_each(&AuditFilter::default(), |r| {
            seen.push((r.event.at.secs(), r.id))
        })
        .await
        .unwrap();
    assert_eq!(count, n as u64);
    assert_eq!(seen.len(), n as usize);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "oldest first, each once");

    let odd = AuditFilter {
        actor: Some("odd".into()),
        ..AuditFilter::default()
    };
    let count = s
        .audit_for_each(&odd, |r| assert_eq!(r.event.actor, "odd"))
        .await;
    assert_eq!(count.unwrap(), (n / 2) as u64);
    let none = AuditFilter {
        actor: Some("nobody".into()),
        ..AuditFilter::default()
    };
    assert_eq!(s.audit_for_each(&none, |_| panic!()).await.unwrap(), 0);

    // Batches by hand: each continues after the last record of the one before.
    let first = s.audit_batch_after(&odd, None, 3).await.unwrap();
    let next = s.audit_batch_after(&odd, first.last(), 3).await.unwrap();
    let both = s.audit_batch_after(&odd, None, 6).await.unwrap();
    assert_eq!([first, next].concat(), both);

    // And newest first, walking back through the same-second runs: the
    // whole walk is the oldest-first one reversed.
    let mut back = Vec::new();
    let mut last: Option<AuditRecord> = None;
    loop {
        let batch = s.audit_batch_before(&odd, last.as_ref(), 7).await.unwrap();
        back.extend(batch.iter().map(|r| (r.event.at.secs(), r.id)));
        match batch.into_iter().next_back() {
            Some(r) => last = Some(r),
            None => break,
        }
    }
    let mut forward = Vec::new();
    s.audit_for_each(&odd, |r| forward.push((r.event.at.secs(), r.id)))
        .await
        .unwrap();
    forward.reverse();
    assert_eq!(back, forward);
}

const HOSTILE: &[&str] = &[
    "'; DROP TABLE users; --",
    "\"; DROP TABLE audit; --",
    "Robert'); DELETE FROM grants WHERE ('1'='1",
    "it's \"quoted\" `back` \\ backslash \\' $1 ? %s {}",
    "ünïcödé ☃ 🔑 日本語 עברית \u{202E}reversed",
    "line\nbreak\r\ttab",
    "<script>alert(1)</script>",
    "prefix:tag:*=%_",
];

pub(super) async fn hostile_text_is_stored_verbatim(s: &Store) {
    for (i, text) in HOSTILE.iter().enumerate() {
        let u = s.create_user(text, Some(text), t(i as i64)).await.unwrap();
        let got = s.user_by_name(text).await.unwrap().unwrap();
        assert_eq!(got, u);
        assert_eq!(got.password_hash.as_deref(), Some(*text));
        let g = Grant::new(Role::Operator, Scope::Prefix(text.to_string()));
        let id = s.add_grant(u.id, &g).await.unwrap();
        assert_eq!(
            s.grants_of(u.id).await.unwrap(),
            [StoredGrant { id, grant: g }]
        );
    }
    assert_eq!(s.count_users().await.unwrap(), HOSTILE.len() as i64);

    let big = "x'\"; ☃".repeat(10 * 1024 / 8);
    assert!(big.len() >= 10 * 1024);
    let mut expected = Vec::new();
    for (i, text) in HOSTILE.iter().chain([&big.as_str()]).enumerate() {
        let ev = AuditEvent {
            at: t(i as i64),
            actor: text.to_string(),
            client: text.to_string(),
            action: AuditAction::Denied,
            target: text.to_string(),
            outcome: Outcome::Denied,
            detail: text.to_string(),
            request_id: text.to_string(),
        };
        let id = s.append_audit(&ev).await.unwrap();
        expected.push(AuditRecord { id, event: ev });
    }
    let mut read = Vec::new();
    s.audit_for_each(&AuditFilter::default(), |r| read.push(r.clone()))
        .await
        .unwrap();
    assert_eq!(read, expected);
    // Found by themselves, as text, not as patterns.
    for text in HOSTILE {
        let by_actor = AuditFilter {
            actor: Some(text.to_string()),
            ..AuditFilter::default()
        };
        assert_eq!(selected(s, &by_actor).await.len(), 1, "{text}");
        let by_target = AuditFilter {
            target: Some(text.to_string()),
            ..AuditFilter::default()
        };
        assert!(!selected(s, &by_target).await.is_empty(), "{text}");
    }

    // NUL cannot be stored by PostgreSQL: both backends write U+FFFD.
    let mut nul = event(99, "a\0b", AuditAction::LoginFailed, "t\0", Outcome::Denied);
    nul.detail = "d\0".into();
    let id = s.append_audit(&nul).await.unwrap();
    let page = s.audit_page(&AuditFilter::default(), 0, 1).await.unwrap();
    assert_eq!(page.records[0].id, id);
    let stored = &page.records[0].event;
    assert_eq!(
        (
            stored.actor.as_str(),
            stored.target.as_str(),
            stored.detail.as_str()
        ),
        ("a\u{FFFD}b", "t\u{FFFD}", "d\u{FFFD}")
    );
    let by_nul_actor = AuditFilter {
        actor: Some("a\0b".into()),
        ..AuditFilter::default()
    };
    assert_eq!(selected(s, &by_nul_actor).await.len(), 1);

    // The tables are all still there.
    s.ping().await.unwrap();
    assert_eq!(s.count_users().await.unwrap(), HOSTILE.len() as i64);
}
