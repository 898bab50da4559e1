//! Leases, the announced alarms and the webhook outbox: what several
//! replicas on one database agree on.

use super::*;

pub(super) async fn leases_are_exclusive_renewed_and_released(s: &Store) {
    assert_eq!(s.lease_holder("work").await.unwrap(), None);
    assert!(s.acquire_lease("work", "a", 30_000).await.unwrap());
    assert!(
        !s.acquire_lease("work", "b", 30_000).await.unwrap(),
        "held by a and not expired: b is refused"
    );
    let held = s.lease_holder("work").await.unwrap().unwrap();
    assert_eq!(held.holder, "a");
    assert!(
        held.remaining_ms > 20_000 && held.remaining_ms <= 30_000,
        "{held:?}"
    );
    // Renewing is taking it again: the holder stays, the expiry moves.
    assert!(s.acquire_lease("work", "a", 60_000).await.unwrap());
    let renewed = s.lease_holder("work").await.unwrap().unwrap();
    assert_eq!(renewed.holder, "a");
    assert!(renewed.remaining_ms > 30_000, "{renewed:?}");
    // Leases are independent of each other.
    assert!(s.acquire_lease("other", "b", 30_000).await.unwrap());
    // Only the holder releases it; then anyone takes it at once.
    assert!(!s.release_lease("work", "b").await.unwrap());
    assert!(!s.acquire_lease("work", "b", 30_000).await.unwrap());
    assert!(s.release_lease("work", "a").await.unwrap());
    assert_eq!(s.lease_holder("work").await.unwrap(), None);
    assert!(s.acquire_lease("work", "b", 30_000).await.unwrap());
    assert_eq!(s.lease_holder("work").await.unwrap().unwrap().holder, "b");
}

pub(super) async fn an_expired_lease_is_taken_over(s: &Store) {
    // A lease of no time has expired as soon as it is written (the
    // database's clock does not go back), as a dead holder's would.
    assert!(s.acquire_lease("work", "a", 0).await.unwrap());
    assert!(s.lease_holder("work").await.unwrap().unwrap().remaining_ms <= 0);
    assert!(
        s.acquire_lease("work", "b", 30_000).await.unwrap(),
        "expired: taken over"
    );
    assert!(
        !s.acquire_lease("work", "a", 30_000).await.unwrap(),
        "the old holder cannot renew what it lost"
    );
    assert!(!s.release_lease("work", "a").await.unwrap());
    assert_eq!(s.lease_holder("work").await.unwrap().unwrap().holder, "b");
}

pub(super) async fn concurrent_acquires_make_one_holder(s: &Store) {
    let tries = (0..8).map(|i| {
        let s = s.clone();
        tokio::spawn(async move { s.acquire_lease("work", &format!("h{i}"), 30_000).await })
    });
    let mut won = 0;
    for t in tries {
        if t.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1, "exactly one of eight concurrent takers holds it");
}

fn change<'a>(arn: &'a str, from: Option<&'a str>, to: Option<&'a str>) -> AlarmChange<'a> {
    AlarmChange { arn, from, to }
}

fn message(about: &str) -> NewMessage {
    (None, about.to_string(), format!("{{\"text\":\"{about}\"}}"))
}

pub(super) async fn alarm_changes_are_announced_once(s: &Store) {
    assert_eq!(s.announced().await.unwrap(), Announced::default());
    // The start: every current alarm at once, with one summary.
    let start = [change("arn:a", None, Some("failed"))];
    let n = s
        .announce(&start, true, T0, |won| {
            assert_eq!(won, [0]);
            vec![message("start summary")]
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    // A second replica starting finds the start said: nothing again.
    let again = s
        .announce(&start, true, T0, |_| vec![message("start summary")])
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(
        s.announced().await.unwrap(),
        Announced {
            baseline: true,
            alarms: vec![("arn:a".into(), "failed".into())],
        }
    );
    // Two replicas see the same changes from the same announced state: the
    // first announces them, the second's compare-and-set fails and it
    // records nothing.
    let changes = [
        change("arn:a", Some("failed"), None),
        change("arn:b", None, Some("overdue")),
    ];
    for expected in [vec![0, 1], vec![]] {
        let n = s
            .announce(&changes, false, T0 + 60, |won| {
                assert_eq!(won, expected);
                won.iter()
                    .map(|i| message(&format!("change {i}")))
                    .collect()
            })
            .await
            .unwrap();
        assert_eq!(n, expected.len());
    }
    // overdue → failed, then a stale overdue → failed again: once.
    let worse = [change("arn:b", Some("overdue"), Some("failed"))];
    assert_eq!(s.announce(&worse, false, T0, |_| vec![]).await.unwrap(), 1);
    assert_eq!(s.announce(&worse, false, T0, |_| vec![]).await.unwrap(), 0);
    assert_eq!(
        s.announced().await.unwrap().alarms,
        [("arn:b".to_string(), "failed".to_string())]
    );
    let pending = s.pending_messages(10).await.unwrap();
    let abouts: Vec<&str> = pending.iter().map(|m| m.about.as_str()).collect();
    assert_eq!(abouts, ["start summary", "change 0", "change 1"]);
}

pub(super) async fn messages_are_recorded_once_per_key_and_finished_once(s: &Store) {
    assert!(s.record_message(None, "one", "{}", T0).await.unwrap());
    assert!(s.record_message(None, "two", "{}", T0).await.unwrap());
    let key = Some("new-reader arn:a role/x");
    assert!(s
        .record_message(key, "reader", "{\"text\":\"r\"}", T0)
        .await
        .unwrap());
    assert!(
        !s.record_message(key, "reader", "{\"text\":\"r\"}", T0 + 1)
            .await
            .unwrap(),
        "a key is recorded once ever"
    );
    let pending = s.pending_messages(10).await.unwrap();
    let abouts: Vec<&str> = pending.iter().map(|m| m.about.as_str()).collect();
    assert_eq!(abouts, ["one", "two", "reader"], "in the order recorded");
    assert_eq!(pending[2].payload, "{\"text\":\"r\"}");
    assert!(s.finish_message(pending[0].id, true, T0).await.unwrap());
    assert!(
        !s.finish_message(pending[0].id, true, T0).await.unwrap(),
        "finished once"
    );
    assert!(s.finish_message(pending[1].id, false, T0).await.unwrap());
    assert_eq!(s.pending_messages(1).await.unwrap()[0].about, "reader");
    assert_eq!(s.message_counts().await.unwrap(), (1, 1, 1));
    // Old posted messages go; pending ones stay, however old.
    assert_eq!(
        s.prune_messages(T0).await.unwrap(),
        0,
        "done at T0: not before it"
    );
    assert_eq!(s.prune_messages(T0 + 1).await.unwrap(), 2);
    assert_eq!(s.message_counts().await.unwrap(), (1, 0, 0));
}
