//! Who reads a secret, from the demo endpoint's CloudTrail: its simulated
//! applications' GetSecretValue events (the seed plans them, and tests add
//! more through `POST /__secretscope/reads`). The readers, counts, failures
//! and stages must match the plan; each read rule fires on its seeded case
//! and stays quiet elsewhere; LookupEvents stays within its quota; a long
//! history is cut short and says so; a scoped user sees only their scopes.

use super::app::TestApp;
use crate::api::{ReadersView, SecretDetail};
use crate::domain::health::RuleId;
use crate::domain::links::query_value;
use crate::domain::reads::{ReadError, Readers};
use crate::server::config::Config;
use secretsmanager_emulator::{LocalOptions, PlannedReader, PlannedSecret, ReaderKind};
use std::collections::{BTreeMap, BTreeSet};

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

/// Per principal ARN: (successful reads, failed reads, successful
/// AWSPREVIOUS reads) the plan makes in `[since, until]` (seconds).
type Figures = BTreeMap<String, (u64, u64, u64)>;

fn planned_figures(readers: &[PlannedReader], since: i64, until: i64) -> Figures {
    let mut out = Figures::new();
    for r in readers {
        let n = r.count(since * 1000, until * 1000);
        if n == 0 {
            continue;
        }
        let e = out.entry(r.principal.clone()).or_default();
        match (&r.error, r.stage.as_deref()) {
            (Some(_), _) => e.1 += n,
            (None, Some("AWSPREVIOUS")) => {
                e.0 += n;
                e.2 += n
            }
            (None, _) => e.0 += n,
        }
    }
    out
}

fn shown_figures(r: &Readers) -> Figures {
    r.readers
        .iter()
        .map(|x| {
            let prev = x.previous_reads().map_or(0, |p| u64::from(p.count));
            (
                x.principal.arn.to_string(),
                (u64::from(x.reads), u64::from(x.failed()), prev),
            )
        })
        .collect()
}

/// The error a planned reader's reads fail with, as the readers view names it.
fn planned_error(r: &PlannedReader) -> Option<ReadError> {
    let (code, message) = r.error.as_ref()?;
    ReadError::parse(Some(code), Some(message))
}

#[tokio::test]
async fn readers_counts_failures_and_stages_match_the_seeded_plan() {
    let t = app(300, |c| c.cloudtrail.calls_per_second = 1000.0).await;
    let admin = t.signed_in("admin").await;
    let plan = t.ep.endpoint.plan();
    let snapshot = t.state.inventory.snapshot();
    let own_account = snapshot.secrets()[0].account.to_string();
    let mut kinds_seen = std::collections::HashSet::new();
    let mut checked = 0;
    for p in plan.iter().filter(|p| !p.hostile) {
        // Every secret with a reader of a kind not checked yet, and a few more.
        let new_kind = p.readers.iter().any(|r| !kinds_seen.contains(&r.kind));
        if !new_kind && checked >= 12 {
            continue;
        }
        let v = readers(&admin, &p.arn, false).await;
        assert!(v.unavailable.is_none(), "{}: {:?}", p.name, v.unavailable);
        let r = v.readers.expect("looked up");
        assert_eq!(r.cut_short_at, None, "{}", p.name);
        assert_eq!(
            shown_figures(&r),
            planned_figures(&p.readers, r.since.secs(), r.until.secs()),
            "{} ({:?})",
            p.name,
            p.scenario
        );
        for planned in &p.readers {
            let Some(shown) = r
                .readers
                .iter()
                .find(|x| *x.principal.arn == planned.principal)
            else {
                continue;
            };
            kinds_seen.insert(planned.kind);
            assert_eq!(shown.principal.account.as_deref(), Some(&*planned.account));
            assert_eq!(
                shown.ours,
                planned.account == own_account,
                "{}",
                planned.principal
            );
            if let Some(err) = planned_error(planned) {
                assert!(
                    shown.failures.iter().any(|f| f.error == err),
                    "{}: {:?} in {:?}",
                    planned.principal,
                    err,
                    shown.failures
                );
            }
        }
        checked += 1;
    }
    for kind in [
        ReaderKind::Steady,
        ReaderKind::Previous,
        ReaderKind::AfterDeletion,
        ReaderKind::Denied,
        ReaderKind::DecryptFailed,
    ] {
        assert!(
            kinds_seen.contains(&kind),
            "the seed plans a {kind:?} reader"
        );
    }
}

/// What a read rule should say of a secret, from its plan: the principals
/// whose reads make it fire.
fn planned_rule(
    rule: RuleId,
    p: &PlannedSecret,
    s: &crate::domain::Secret,
    r: &Readers,
    now: i64,
) -> bool {
    let (since, until) = (r.since.secs() * 1000, r.until.secs() * 1000);
    let ok = |x: &PlannedReader| x.error.is_none();
    match rule {
        RuleId::AccessedAfterDeletion => s.deleted.is_some_and(|d| {
            p.readers
                .iter()
                .any(|x| x.latest(d.secs() * 1000, until).is_some())
        }),
        RuleId::ReadPreviousAfterRotation => {
            s.deleted.is_none()
                && s.last_rotated.is_some_and(|rot| {
                    let after = (rot.secs() + 2 * 86_400) * 1000;
                    p.readers.iter().any(|x| {
                        ok(x)
                            && x.stage.as_deref() == Some("AWSPREVIOUS")
                            && x.latest(since, until).is_some_and(|t| t > after)
                    })
                })
        }
        RuleId::NewReader => {
            let start = (now - 7 * 86_400) * 1000;
            s.high_value
                && p.readers.iter().filter(|x| ok(x)).any(|x| {
                    // Its first event of any kind, by the same principal.
                    let first = p
                        .readers
                        .iter()
                        .filter(|y| y.principal == x.principal)
                        .filter_map(|y| y.times(since, until).next())
                        .min();
                    first.is_some_and(|f| f >= start) && x.count(start, until) > 0
                })
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn each_read_rule_fires_on_its_seeded_case_and_stays_quiet_elsewhere() {
    let t = app(300, |c| {
        c.cloudtrail.calls_per_second = 1000.0;
        // One person opens every watched secret here: lift their budget.
        c.actions.aws_reads_burst = 100_000;
        c.actions.aws_reads_per_user_per_minute = 100_000;
        c.actions.page_reads_burst = 100_000;
        c.actions.page_reads_per_user_per_minute = 100_000;
    })
    .await;
    let admin = t.signed_in("admin").await;
    let snapshot = t.state.inventory.snapshot();
    let rules = [
        RuleId::AccessedAfterDeletion,
        RuleId::ReadPreviousAfterRotation,
        RuleId::NewReader,
    ];
    let mut fired: BTreeMap<RuleId, usize> = BTreeMap::new();
    let mut quiet: BTreeMap<RuleId, usize> = BTreeMap::new();
    for p in t.ep.endpoint.plan().iter().filter(|p| !p.hostile) {
        let s = snapshot.by_arn(&p.arn).expect("listed").clone();
        let watched = s.deleted.is_some()
            || s.high_value
            || p.readers.iter().any(|r| r.kind == ReaderKind::Previous);
        if !watched && quiet.values().sum::<usize>() > 30 {
            continue;
        }
        let v = readers(&admin, &p.arn, false).await;
        let r = v.readers.expect("looked up");
        let res = admin
            .post_form(
                "/api/get_secret",
                &format!("id={}&deprecated=false", query_value(&p.arn)),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let d: SecretDetail = res.json();
        let s = t.state.inventory.snapshot().by_arn(&p.arn).unwrap().clone();
        for rule in rules {
            let want = planned_rule(rule, p, &s, &r, d.now.secs());
            let got = d.findings.iter().any(|f| f.rule == rule);
            assert_eq!(
                got, want,
                "{rule} on {} ({:?}): {:#?}",
                p.name, p.scenario, d.findings
            );
            *(if got { &mut fired } else { &mut quiet })
                .entry(rule)
                .or_default() += 1;
            assert!(
                d.not_evaluated.iter().all(|n| n.rule != rule.as_str()),
                "looked up: evaluated"
            );
        }
    }
    for rule in rules {
        assert!(
            fired.get(&rule).is_some_and(|n| *n > 0),
            "{rule} never fired: {fired:?}"
        );
        assert!(
            quiet.get(&rule).is_some_and(|n| *n > 0),
            "{rule} always fired"
        );
    }
}

#[tokio::test]
async fn lookups_keep_to_the_quota_page_in_with_progress_and_say_when_cut_short() {
    // AWS's quota (2 calls a second), and a lookup that stops at 500 events.
    let t = app(120, |c| c.readers.max_events = 500).await;
    let admin = t.signed_in("admin").await;
    let now_ms = t.ep.endpoint.now_ms();
    let account = t.state.inventory.snapshot().secrets()[0]
        .account
        .to_string();
    // A busy reader: 2,000 reads in the last 2,000 minutes.
    let added =
        t.ep.endpoint
            .add_reads(
                &t.in_scope,
                PlannedReader {
                    principal: format!("arn:aws:iam::{account}:role/busy-app"),
                    account: account.clone(),
                    session: "busy-app-1".into(),
                    stage: None,
                    version_id: None,
                    error: None,
                    batch: false,
                    from: now_ms - 2_000 * 60_000 + 1_000,
                    until: None,
                    every: 60_000,
                    kind: ReaderKind::Steady,
                },
            )
            .unwrap();
    assert_eq!(added, 2_000);
    let mut progress_seen = false;
    let mut refresh = false;
    let v = loop {
        let res = admin
            .post_form(
                "/api/get_readers",
                &format!("id={}&refresh={refresh}", query_value(&t.in_scope)),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let v: ReadersView = res.json();
        match &v.loading {
            Some(p) => progress_seen |= p.pages > 0 && p.events > 0 && p.reached.is_some(),
            None if v.readers.is_some() => break v,
            None => {}
        }
        refresh = false;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(progress_seen, "a 10-page lookup shows its progress");
    let r = v.readers.unwrap();
    let cut = r.cut_short_at.expect("2,000 events, 500 read: cut short");
    assert!(
        cut > r.since,
        "read back to {cut:?}, not to the window's start"
    );
    let busy = r
        .readers
        .iter()
        .find(|x| x.principal.name() == "busy-app")
        .unwrap();
    assert!((450..=500).contains(&busy.reads), "{}", busy.reads);
    // The calls: ten pages of 50, at most 2 a second (the first at once).
    let trail = &t.state.trails[0].1.trail;
    let (calls, secs) = trail.calls.span();
    assert_eq!(calls, 10);
    // Each call waits for its slot, half a second after the one before; the
    // first is noted a moment after its slot was taken, so the span read
    // here can be that moment short of 4.5 s (the 50 ms allow for it; ten
    // calls sent unpaced would take milliseconds).
    assert!(
        (calls - 1) as f64 <= 2.0 * (secs + 0.05),
        "{calls} calls in {secs:.3} s: over LookupEvents' 2 a second"
    );
    // Asked again within the cache period: no call. Refreshed: only what
    // came since the last lookup (its 15 minutes of overlap), one page.
    let again = readers(&admin, &t.in_scope, false).await;
    assert_eq!(again.readers.as_ref(), Some(&r));
    assert_eq!(trail.calls.span().0, 10);
    let fresh = readers(&admin, &t.in_scope, true).await;
    assert_eq!(trail.calls.span().0, 11);
    let fresh = fresh.readers.unwrap();
    assert_eq!(
        fresh.cut_short_at,
        Some(cut),
        "the window read stays what it was"
    );
    let after = fresh
        .readers
        .iter()
        .find(|x| x.principal.name() == "busy-app")
        .unwrap();
    assert!(after.reads >= busy.reads, "no read counted twice or lost");
    assert!(after.reads <= busy.reads + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_pass_reads_high_value_secrets_and_alerts_each_new_reader_once() {
    let receiver = crate::server::alerts::tests::Receiver::start().await;
    let t = app(300, |c| {
        c.cloudtrail.calls_per_second = 1000.0;
        c.readers.background_share = 1.0;
        c.alerts.webhook_url = Some(receiver.url.clone());
    })
    .await;
    let watched: Vec<std::sync::Arc<str>> = t
        .state
        .inventory
        .snapshot()
        .secrets()
        .iter()
        .filter(|s| s.high_value)
        .map(|s| s.arn.clone())
        .collect();
    assert!(!watched.is_empty(), "the seed tags secrets restricted");
    let lease = crate::server::lease::Lease::new(
        t.state.auth.store.clone(),
        crate::server::lease::BACKGROUND,
        &Default::default(),
    );
    let _keeper = lease.spawn();
    let pass = crate::server::readers::pass::spawn(&t.state, &lease);
    assert_eq!(pass.len(), 1, "one pass per trail");
    // Nobody opens a page: the pass reads every high-value secret.
    let mut waited = 0;
    while !watched.iter().all(|a| {
        t.state
            .inventory
            .snapshot()
            .by_arn(a)
            .is_some_and(|s| s.reads.is_some())
    }) {
        waited += 1;
        assert!(waited < 600, "the pass never read every high-value secret");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let now = crate::server::clock::now();
    let snapshot = t.state.inventory.snapshot();
    let alarmed: BTreeSet<(String, String)> = watched
        .iter()
        .filter_map(|a| snapshot.by_arn(a))
        .flat_map(|s| {
            let found = crate::domain::health::evaluate(s, None, &t.state.config.health, now)
                .into_iter()
                .any(|f| f.rule == RuleId::NewReader);
            let start = now.secs() - 7 * 86_400;
            s.reads
                .iter()
                .flat_map(|r| r.readers.iter())
                .filter(move |r| found && r.first.secs() >= start && r.first_ok.is_some())
                .map(|r| (s.name.to_string(), r.principal.arn.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        !alarmed.is_empty(),
        "the seed plans a newcomer on a restricted secret"
    );
    let mut waited = 0;
    while receiver.bodies().len() < alarmed.len() {
        waited += 1;
        assert!(
            waited < 100,
            "{} of {} alerts",
            receiver.bodies().len(),
            alarmed.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Once each: looking again (a page, the pass) alerts nobody twice.
    for a in &watched {
        crate::server::readers::pass::alert_new_readers(&t.state, a, now);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let texts: Vec<String> = receiver
        .bodies()
        .iter()
        .map(|b| b["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(texts.len(), alarmed.len(), "{texts:#?}");
    for (name, principal) in &alarmed {
        assert_eq!(
            texts
                .iter()
                .filter(|x| x.contains(principal.as_str()) && x.contains(name.as_str()))
                .count(),
            1,
            "{principal} on {name}: {texts:#?}"
        );
    }
    for task in pass {
        task.abort();
    }
}
