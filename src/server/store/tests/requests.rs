//! Access requests: round trips, listing, merging, transitions, due grants.

use super::*;

fn new_request(principal: &str, by: &str, at: i64) -> crate::domain::requests::NewRequest {
    crate::domain::requests::NewRequest {
        secret: "prod/payments/db".into(),
        secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/db-AbCdEf"
            .into(),
        principal: principal.into(),
        justification: "INC-1: the worker cannot connect".into(),
        requested_by: by.into(),
        requested_at: t(at),
        duration_secs: 3_600,
        owner: "zoe@example.com (from the owner tag)".into(),
        approvers: vec!["operator".into(), "zoé".into()],
    }
}

const ROLE_A: &str = "arn:aws:iam::123456789012:role/a";
const ROLE_B: &str = "arn:aws:iam::123456789012:role/b";

pub(super) async fn access_requests_round_trip(s: &Store) {
    use crate::domain::requests::RequestStatus;
    let mut n = new_request(ROLE_A, "viewer", 10);
    n.justification = "<script>alert(1)</script>'; DROP TABLE users; --".into();
    let (r, merged) = s.create_request(&n).await.unwrap();
    assert!(!merged);
    assert_eq!(
        (&r.secret, &r.secret_arn, &r.principal, &r.justification),
        (&n.secret, &n.secret_arn, &n.principal, &n.justification)
    );
    assert_eq!(
        (&r.requested_by, r.requested_at, r.duration_secs),
        (&n.requested_by, n.requested_at, 3_600)
    );
    assert_eq!(
        (r.status, &r.owner, &r.approvers),
        (RequestStatus::Pending, &n.owner, &n.approvers)
    );
    assert_eq!(
        (
            r.decided_by.as_ref(),
            r.decided_at,
            r.comment.as_ref(),
            r.expires_at
        ),
        (None, None, None, None)
    );
    assert_eq!(s.access_request(r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(s.access_request(r.id + 100).await.unwrap(), None);
}

pub(super) async fn access_requests_are_listed_newest_first_by_filter(s: &Store) {
    use crate::domain::requests::RequestStatus;
    let n = new_request(ROLE_A, "viewer", 10);
    let (r, _) = s.create_request(&n).await.unwrap();
    let (b, _) = s
        .create_request(&new_request(ROLE_B, "operator", 20))
        .await
        .unwrap();
    let mut other = new_request(ROLE_A, "operator", 30);
    other.secret_arn.push('x');
    let (c, _) = s.create_request(&other).await.unwrap();
    let ids = |v: Vec<crate::domain::requests::AccessRequest>| {
        v.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    // Newest first; each filter alone and together.
    assert_eq!(
        ids(s
            .access_requests(&RequestFilter::default(), 10)
            .await
            .unwrap()),
        vec![c.id, b.id, r.id]
    );
    assert_eq!(
        ids(s
            .access_requests(&RequestFilter::default(), 2)
            .await
            .unwrap()),
        vec![c.id, b.id]
    );
    let by_op = RequestFilter {
        requested_by: Some("operator".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(s.access_requests(&by_op, 10).await.unwrap()),
        vec![c.id, b.id]
    );
    let on_first = RequestFilter {
        secret_arn: Some(n.secret_arn.clone()),
        ..Default::default()
    };
    assert_eq!(
        ids(s.access_requests(&on_first, 10).await.unwrap()),
        vec![b.id, r.id]
    );
    s.transition_request(
        b.id,
        RequestStatus::Pending,
        RequestStatus::Denied,
        &RequestChange::default(),
    )
    .await
    .unwrap();
    let pending = RequestFilter {
        statuses: vec![RequestStatus::Pending],
        ..Default::default()
    };
    assert_eq!(
        ids(s.access_requests(&pending, 10).await.unwrap()),
        vec![c.id, r.id]
    );
    let both = RequestFilter {
        statuses: vec![RequestStatus::Denied, RequestStatus::Active],
        requested_by: Some("operator".into()),
        ..Default::default()
    };
    assert_eq!(ids(s.access_requests(&both, 10).await.unwrap()), vec![b.id]);
    assert!(s
        .access_requests(&RequestFilter::default(), 0)
        .await
        .unwrap()
        .is_empty());

    // By time asked, not by id; the same time, the later id first.
    let mut older = new_request(ROLE_B, "admin", 5);
    older.secret_arn.push('y');
    let (d, _) = s.create_request(&older).await.unwrap();
    let mut tie = new_request(ROLE_A, "admin", 30);
    tie.secret_arn.push('z');
    let (e, _) = s.create_request(&tie).await.unwrap();
    assert_eq!(
        ids(s
            .access_requests(&RequestFilter::default(), 10)
            .await
            .unwrap()),
        vec![e.id, c.id, b.id, r.id, d.id]
    );
    let by_admin = RequestFilter {
        requested_by: Some("admin".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(s.access_requests(&by_admin, 10).await.unwrap()),
        vec![e.id, d.id]
    );
    // All three conditions at once.
    let all_three = RequestFilter {
        requested_by: Some("viewer".into()),
        statuses: vec![RequestStatus::Pending],
        secret_arn: Some(n.secret_arn.clone()),
    };
    assert_eq!(
        ids(s.access_requests(&all_three, 10).await.unwrap()),
        vec![r.id]
    );
}

pub(super) async fn unknown_request_status_is_a_decode_error(s: &Store) {
    let (r, _) = s
        .create_request(&new_request(ROLE_A, "viewer", 10))
        .await
        .unwrap();
    sqlx::query("UPDATE access_requests SET status = 'lost' WHERE id = $1")
        .bind(r.id)
        .execute(s.pool())
        .await
        .unwrap();
    let decode = |e: StoreError| matches!(e, StoreError::Db(sqlx::Error::Decode(_)));
    assert!(decode(s.access_request(r.id).await.unwrap_err()));
    assert!(decode(
        s.access_requests(&RequestFilter::default(), 10)
            .await
            .unwrap_err()
    ));
}

pub(super) async fn access_requests_merge_into_the_pending_one(s: &Store) {
    use crate::domain::requests::RequestStatus;
    let (a, merged) = s
        .create_request(&new_request(ROLE_A, "viewer", 10))
        .await
        .unwrap();
    assert!(!merged);
    // The same request again, as a second click sends it: nothing added.
    let (same, merged) = s
        .create_request(&new_request(ROLE_A, "viewer", 11))
        .await
        .unwrap();
    assert!(merged);
    assert_eq!(same, a);
    // A new line "requester: justification", with the longer time kept.
    let mut more = new_request(ROLE_A, "operator", 12);
    more.justification = "postmortem".into();
    more.duration_secs = 7_200;
    let (m, merged) = s.create_request(&more).await.unwrap();
    assert!(merged);
    assert_eq!(m.id, a.id);
    assert_eq!(
        m.justification,
        format!("{}\noperator: postmortem", a.justification)
    );
    assert_eq!(m.duration_secs, 7_200);
    // The same line again: appended once only; a shorter time changes nothing.
    let mut shorter = more.clone();
    shorter.duration_secs = 60;
    let (m2, merged) = s.create_request(&shorter).await.unwrap();
    assert!(merged);
    assert_eq!(
        (m2.id, m2.duration_secs, &m2.justification),
        (a.id, 7_200, &m.justification)
    );
    // Text contained only without its "requester: " prefix is another line.
    let mut part = new_request(ROLE_A, "admin", 13);
    part.justification = "post".into();
    let (m3, _) = s.create_request(&part).await.unwrap();
    assert_eq!(
        m3.justification,
        format!("{}\nadmin: post", m.justification)
    );
    // Everything else is the first request's.
    assert_eq!(
        (&m3.requested_by, m3.requested_at, m3.status),
        (&a.requested_by, a.requested_at, RequestStatus::Pending)
    );
    assert_eq!(s.access_request(a.id).await.unwrap(), Some(m3.clone()));
    // Another principal, or another secret, is another request.
    let (b, merged) = s
        .create_request(&new_request(ROLE_B, "viewer", 14))
        .await
        .unwrap();
    assert!(!merged && b.id != a.id);
    let mut elsewhere = new_request(ROLE_A, "viewer", 15);
    elsewhere.secret_arn.push('x');
    let (e, merged) = s.create_request(&elsewhere).await.unwrap();
    assert!(!merged && e.id != a.id && e.id != b.id);
    // A decided request is not merged into: a new one starts.
    s.transition_request(
        a.id,
        RequestStatus::Pending,
        RequestStatus::Denied,
        &RequestChange::default(),
    )
    .await
    .unwrap();
    let (c, merged) = s
        .create_request(&new_request(ROLE_A, "viewer", 16))
        .await
        .unwrap();
    assert!(!merged && c.id != a.id);
    assert_eq!(
        c.justification,
        new_request(ROLE_A, "viewer", 16).justification
    );
    // The same words from someone else are their line.
    let (c2, merged) = s
        .create_request(&new_request(ROLE_A, "operator", 17))
        .await
        .unwrap();
    assert!(merged);
    assert_eq!(
        c2.justification,
        format!("{0}\noperator: {0}", c.justification)
    );
    let denied = s.access_request(a.id).await.unwrap().unwrap();
    assert_eq!(
        (denied.status, denied.justification),
        (RequestStatus::Denied, m3.justification)
    );
}

pub(super) async fn concurrent_duplicate_requests_make_one(s: &Store) {
    // Two identical requests at once: one row, one of them merged.
    let same = new_request(ROLE_A, "viewer", 10);
    let (x, y) = tokio::join!(s.create_request(&same), s.create_request(&same));
    let ((x, mx), (y, my)) = (x.unwrap(), y.unwrap());
    assert_eq!(x.id, y.id);
    assert!(mx != my, "exactly one was merged");
    let all = s
        .access_requests(&RequestFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].justification, same.justification);

    // Several requesters at once on another principal: one row, one insert,
    // and every reason kept (no merge overwrites another's).
    let asks: Vec<_> = (0..6)
        .map(|i| {
            let mut n = new_request(ROLE_B, &format!("user{i}"), 20);
            n.justification = format!("reason {i}");
            n.duration_secs = 600 * (i + 1);
            n
        })
        .collect();
    let made = futures_util::future::join_all(asks.iter().map(|n| s.create_request(n))).await;
    let made: Vec<_> = made.into_iter().map(Result::unwrap).collect();
    assert_eq!(made.iter().filter(|(_, merged)| !merged).count(), 1);
    let id = made[0].0.id;
    assert!(made.iter().all(|(r, _)| r.id == id));
    let b = s.access_request(id).await.unwrap().unwrap();
    for n in &asks {
        assert!(
            b.justification.contains(&n.justification),
            "{}",
            b.justification
        );
    }
    assert_eq!(b.justification.lines().count(), 6, "{}", b.justification);
    assert_eq!(b.duration_secs, 3_600);
    let pending_b = RequestFilter {
        statuses: vec![crate::domain::requests::RequestStatus::Pending],
        ..Default::default()
    };
    assert_eq!(s.access_requests(&pending_b, 10).await.unwrap().len(), 2);
}

pub(super) async fn access_request_transitions_compare_and_set(s: &Store) {
    use crate::domain::requests::RequestStatus;
    let (r, _) = s
        .create_request(&new_request(ROLE_A, "viewer", 10))
        .await
        .unwrap();
    let approved = s
        .transition_request(
            r.id,
            RequestStatus::Pending,
            RequestStatus::Approved,
            &RequestChange {
                decided_by: Some("operator".into()),
                decided_at: Some(t(20)),
                expires_at: Some(t(3_620)),
                duration_secs: Some(1_800),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(approved.status, RequestStatus::Approved);
    assert_eq!(
        (
            approved.decided_by.as_deref(),
            approved.decided_at,
            approved.expires_at,
            approved.duration_secs,
            approved.comment
        ),
        (Some("operator"), Some(t(20)), Some(t(3_620)), 1_800, None)
    );
    // Only the Some fields change.
    let active = s
        .transition_request(
            r.id,
            RequestStatus::Approved,
            RequestStatus::Active,
            &RequestChange {
                comment: Some("granted".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            active.decided_by,
            active.expires_at,
            active.comment.as_deref()
        ),
        (approved.decided_by, approved.expires_at, Some("granted"))
    );
    // The wrong starting state: Conflict naming the real one; nothing moves.
    let e = s
        .transition_request(
            r.id,
            RequestStatus::Pending,
            RequestStatus::Denied,
            &RequestChange::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Conflict(t) if *t == format!("request {} is active", r.id)),
        "{e}"
    );
    assert_eq!(
        s.access_request(r.id).await.unwrap().unwrap().status,
        RequestStatus::Active
    );
    let e = s
        .transition_request(
            r.id + 99,
            RequestStatus::Pending,
            RequestStatus::Denied,
            &RequestChange::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
}

pub(super) async fn due_grants_may_hold_a_statement_and_are_past_their_time(s: &Store) {
    use crate::domain::requests::RequestStatus;
    let mut ids = Vec::new();
    for (i, (principal, expires, to)) in [
        (ROLE_A, 100, RequestStatus::Active),
        (ROLE_B, 50, RequestStatus::Active),
        (
            "arn:aws:iam::123456789012:role/c",
            10,
            RequestStatus::Approved,
        ),
        (
            "arn:aws:iam::123456789012:role/d",
            500,
            RequestStatus::Active,
        ),
        (
            "arn:aws:iam::123456789012:role/e",
            20,
            RequestStatus::Revoked,
        ),
        (
            "arn:aws:iam::123456789012:role/f",
            30,
            RequestStatus::Expired,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (r, _) = s
            .create_request(&new_request(principal, "viewer", i as i64))
            .await
            .unwrap();
        s.transition_request(
            r.id,
            RequestStatus::Pending,
            to,
            &RequestChange {
                expires_at: Some(t(expires)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        ids.push(r.id);
    }
    // Active without an expiry (as a caller might leave one): never due.
    let (open_ended, _) = s
        .create_request(&new_request(
            "arn:aws:iam::123456789012:role/g",
            "viewer",
            9,
        ))
        .await
        .unwrap();
    s.transition_request(
        open_ended.id,
        RequestStatus::Pending,
        RequestStatus::Active,
        &RequestChange::default(),
    )
    .await
    .unwrap();
    let due = |now| async move {
        s.due_grants(t(now))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    // Active, and approved or failed (whose statement may have been written
    // before something failed), at or before the time, oldest expiry first;
    // never revoked or expired ones.
    assert_eq!(due(100).await, vec![ids[2], ids[1], ids[0]]);
    assert_eq!(due(99).await, vec![ids[2], ids[1]]);
    assert_eq!(due(50).await, vec![ids[2], ids[1]]);
    assert_eq!(due(49).await, vec![ids[2]]);
    assert!(due(9).await.is_empty());
    assert_eq!(due(10_000).await, vec![ids[2], ids[1], ids[0], ids[3]]);
    let second = &s.due_grants(t(100)).await.unwrap()[1];
    assert_eq!(
        (second.status, second.expires_at),
        (RequestStatus::Active, Some(t(50)))
    );
}
