//! Who reads a secret, from the demo endpoint's CloudTrail: its simulated
//! applications' GetSecretValue events (the seed plans them, and tests add
//! more through `POST /__secretscope/reads`). The readers, counts, failures
//! and stages must match the plan; each read rule fires on its seeded case
//! and stays quiet elsewhere; LookupEvents stays within its quota; a long
//! history is cut short and says so; a scoped user sees only their scopes.

use super::app::TestApp;
use crate::api::{ReadersView, SecretDetail};
use crate::domain::links::query_value;
use crate::server::config::Config;
use secretsmanager_emulator::LocalOptions;

/// `n` secrets of seed 42 with CloudTrail read through the source.
async fn app(n: usize, config: impl FnOnce(&mut Config)) -> TestApp {
    let mut c = Config::default();
    c.cloudtrail.enabled = true;
    c.cloudtrail.lookback_days = 90;
    // The background pass is tested on its own; here pages read.
    c.readers.background_share = 0.0;
    config(&mut c);
    TestApp::builder()
        .config(c)
        .trails()
        .endpoint(LocalOptions {
            seed_secrets: n,
            seed: 42,
            ..LocalOptions::default()
        })
        .build()
        .await
}

/// The readers of `id`, asked until the lookup has finished.
async fn readers(c: &super::client::Client, id: &str, refresh: bool) -> ReadersView {
    let mut refresh = refresh;
    for _ in 0..600 {
        let res = c
            .post_form(
                "/api/get_readers",
                &format!("id={}&refresh={refresh}", query_value(id)),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let v: ReadersView = res.json();
        if v.loading.is_none() && (v.readers.is_some() || v.unavailable.is_some()) {
            return v;
        }
        refresh = false;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the readers lookup of {id} never finished");
}

#[tokio::test]
async fn out_of_scope_and_missing_answer_alike() {
    let t = app(120, |_| {}).await;
    let scoped = t.signed_in("payments").await;
    let out = scoped
        .post_form(
            "/api/get_readers",
            &format!("id={}&refresh=false", query_value(&t.out_of_scope)),
        )
        .await;
    let missing = scoped
        .post_form(
            "/api/get_readers",
            "id=prod%2Fno%2Fsuch-secret&refresh=false",
        )
        .await;
    assert_eq!(out.status, 403);
    assert_eq!(missing.status, 403);
    assert_eq!(
        out.body.replace(&t.out_of_scope, "X"),
        missing.body.replace("prod/no/such-secret", "X"),
        "the answer is no oracle"
    );
    let brief = scoped
        .post_form(
            "/api/readers_brief",
            &format!("id={}&focus=last-day", query_value(&t.out_of_scope)),
        )
        .await;
    assert_eq!(brief.status, 403);
    // In scope: answered.
    let v = readers(&scoped, &t.in_scope, false).await;
    assert!(v.unavailable.is_none(), "{:?}", v.unavailable);
}

#[tokio::test]
async fn without_cloudtrail_readers_are_unknown_and_the_read_rules_not_evaluated() {
    let t = app(120, |c| c.cloudtrail.enabled = false).await;
    let admin = t.signed_in("admin").await;
    let deleted =
        t.ep.endpoint
            .plan()
            .into_iter()
            .find(|p| p.deleted && !p.hostile)
            .expect("the seed schedules deletions");
    let v = readers(&admin, &deleted.arn, false).await;
    assert!(v.readers.is_none());
    assert!(v.unavailable.unwrap().contains("[cloudtrail] enabled"));
    let res = admin
        .post_form(
            "/api/get_secret",
            &format!("id={}&deprecated=false", query_value(&deleted.arn)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let d: SecretDetail = res.json();
    assert!(
        d.findings
            .iter()
            .all(|f| f.rule != crate::domain::health::RuleId::AccessedAfterDeletion),
        "never fired without reads"
    );
    let not: Vec<&str> = d.not_evaluated.iter().map(|n| n.rule.as_str()).collect();
    assert!(not.contains(&"accessed-after-deletion"), "{not:?}");
    assert!(d
        .not_evaluated
        .iter()
        .all(|n| n.why.contains("[cloudtrail] enabled")));
}
