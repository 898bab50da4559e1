//! Readers from CloudTrail (issue 23): the LookupEvents calls, time and
//! memory of
//! 1. the readers of one busy secret (10,000 GetSecretValue events), at
//!    LookupEvents' quota (2 calls a second) and lifted;
//! 2. the background pass over 1,000 high-value secrets of the demo seed
//!    (their 30 days of reads), lifted, and on its default share of the
//!    quota (1 call a second) over the first `BENCH_PACED` of them, to
//!    measure the pace that the whole pass keeps.
//!
//! The demo endpoint runs in the same process and on the same cores (its
//! work, building the events on each call, is in every wall time); the
//! dashboard's code is what the pages and the pass run:
//! `server::readers::lookup` through a `RotationTrail`.
//!
//! Run: `nice -n 15 cargo bench --features ssr --bench readers`
//! Environment: `BENCH_BUSY` (events, default 10000), `BENCH_SECRETS`
//! (default 1000), `BENCH_PACED` (default 60). Prints Markdown to stdout.

use secretscope::api::ReadProgress;
use secretscope::domain::reads::Readers;
use secretscope::domain::Timestamp;
use secretscope::server::aws::rate::RateLimiter;
use secretscope::server::aws::RotationTrail;
use secretscope::server::config::{AwsSettings, CloudTrailSettings};
use secretscope::server::readers::{lookup, Ask, Loading};
use secretsmanager_emulator::{self as local, LocalOptions, PlannedReader, ReaderKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of this process, kB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn trail(url: &str, calls_per_second: f64, lookback_days: u32) -> RotationTrail {
    RotationTrail::build(
        &AwsSettings {
            endpoint_url: Some(url.to_string()),
            region: Some("us-east-1".into()),
            max_attempts: 3,
            ..AwsSettings::default()
        },
        &CloudTrailSettings {
            enabled: true,
            endpoint_url: None,
            lookback_days,
            calls_per_second,
        },
    )
    .await
}

/// One lookup of `arn` over the trail's window: the readers, the calls and
/// the seconds it took.
async fn read_one(
    t: &RotationTrail,
    arn: &str,
    max_events: u32,
    share: Option<&RateLimiter>,
) -> (Arc<Readers>, usize, f64) {
    let now = Timestamp::new(chrono::Utc::now().timestamp());
    let loading = Loading::new(t.since(now));
    let before = t.calls.span().0;
    let started = Instant::now();
    let ours = |_: &str| true;
    let found = lookup(
        t,
        Ask {
            arn,
            previous: None,
            window_start: t.since(now),
            now,
            max_events,
            share,
            ours: &ours,
        },
        &loading,
    )
    .await
    .expect("the lookup succeeds");
    let secs = started.elapsed().as_secs_f64();
    let ReadProgress { pages, .. } = loading.progress();
    assert_eq!(pages as usize, t.calls.span().0 - before);
    (found.readers, t.calls.span().0 - before, secs)
}

async fn busy_secret(n: u64) {
    let ep = local::spawn(
        LocalOptions {
            seed_secrets: 20,
            seed: 42,
            ..LocalOptions::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .expect("the endpoint starts");
    let plan = ep.endpoint.plan();
    let target = plan
        .iter()
        .find(|p| !p.deleted && !p.hostile)
        .expect("a secret");
    let account = target.arn.split(':').nth(4).unwrap().to_string();
    let now_ms = ep.endpoint.now_ms();
    let every = 30_000;
    ep.endpoint
        .add_reads(
            &target.arn,
            PlannedReader {
                principal: format!("arn:aws:iam::{account}:role/busy-app"),
                account,
                session: "busy-app-1".into(),
                stage: None,
                version_id: None,
                error: None,
                batch: false,
                from: now_ms - (n as i64) * every + 1_000,
                until: None,
                every,
                kind: ReaderKind::Steady,
            },
        )
        .expect("reads added");
    println!(
        "## 1. Readers of one busy secret ({n} GetSecretValue events added, plus the seed's)\n"
    );
    println!("| quota (calls/s) | LookupEvents calls | events read | readers | cut short | wall time (s) | RSS after − before (kB) |");
    println!("| ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    for rate in [2.0, 1_000_000.0] {
        let t = trail(&ep.url(), rate, 30).await;
        let rss = rss_kb();
        let (r, calls, secs) = read_one(&t, &target.arn, (n as u32) * 2, None).await;
        let grown = rss_kb().saturating_sub(rss);
        let (readers, events, cut) = (r.readers.len(), r.events, r.cut_short_at.is_some());
        let label = if rate < 10.0 {
            "2 (AWS)".to_string()
        } else {
            "lifted".to_string()
        };
        println!("| {label} | {calls} | {events} | {readers} | {cut} | {secs:.1} | {grown} |");
    }
    println!();
}

async fn background_pass(secrets: usize, paced: usize) {
    let ep = local::spawn(
        LocalOptions {
            seed_secrets: secrets,
            seed: 42,
            ..LocalOptions::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .expect("the endpoint starts");
    let plan = ep.endpoint.plan();
    let with_readers = plan.iter().filter(|p| !p.readers.is_empty()).count();
    println!("## 2. The background pass over {secrets} high-value secrets (30-day window)\n");
    println!(
        "Seed 42, {secrets} secrets, {with_readers} of them with planned readers; every secret treated as high value, each read once from an empty book (the pass's first round).\n"
    );
    println!("| share of the quota | secrets | LookupEvents calls | GetSecretValue events | wall time (s) | calls/s | RSS after − before (kB) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, rate, count) in [
        ("lifted", 1_000_000.0, secrets),
        ("1 call/s (default 0.5 × 2)", 1.0, paced),
    ] {
        let t = trail(&ep.url(), 2.0f64.max(rate), 30).await;
        let share = RateLimiter::new(rate);
        let rss = rss_kb();
        let started = Instant::now();
        let mut calls = 0;
        let mut events = 0u64;
        // Kept, as the inventory's book keeps them.
        let mut kept = Vec::new();
        for p in plan.iter().take(count) {
            let (r, c, _) = read_one(&t, &p.arn, 10_000, Some(&share)).await;
            calls += c;
            events += u64::from(r.events);
            kept.push(r);
        }
        let secs = started.elapsed().as_secs_f64();
        let grown = rss_kb().saturating_sub(rss);
        println!(
            "| {label} | {count} | {calls} | {events} | {secs:.1} | {:.2} | {grown} |",
            calls as f64 / secs
        );
        drop(kept);
    }
    println!();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // The demo endpoint does not check signatures; the SDK wants some.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDBENCH");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "bench");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let busy: u64 = env_num("BENCH_BUSY", 10_000);
    let secrets: usize = env_num("BENCH_SECRETS", 1_000);
    let paced: usize = env_num("BENCH_PACED", 60);
    println!("# Readers bench (`cargo bench --features ssr --bench readers`)\n");
    busy_secret(busy).await;
    background_pass(secrets, paced).await;
}
