//! Query evaluation over a 100,000-secret snapshot (issue 4).
//!
//! The snapshot is built the way `serve` builds it: the demo endpoint is
//! started in-process, seeded with 100,000 secrets (seed 42, as
//! `local-endpoint` and `serve --demo` use), and one real list pass runs
//! through `aws-sdk-secretsmanager` (`Syncer::list_once`, rate budget lifted).
//!
//! Then, for each query, after a warm-up:
//! - `views::select(&view, q, path, sort)`: parse + filter + sort, what
//!   every list page and export does first (budget: p95 ≤ 10 ms);
//! - `select` + `views::facets(&matched, q)`: the data of the list page apart
//!   from 50 rows and the folder tree;
//! - a breakdown: parse alone, `Query::select` over the snapshot's search
//!   index alone, facets alone; for reference, the plain scan
//!   (`Query::matches` over every secret) the index replaces, and the time
//!   to build the index (once per published snapshot).
//!
//! Run: `cargo bench --features ssr --bench query`
//! Environment: `BENCH_SECRETS` (default 100000), `BENCH_ITERS` (default 100,
//! at least 50), `BENCH_WARMUP` (default 5).
//! `BENCH_ONLY=health` runs the health section alone (issue 5).
//! Prints Markdown tables to stdout.

use secretscope::api::build::inventory::facets;
use secretscope::domain::health::{evaluate, summarize, HealthConfig};
use secretscope::domain::query::{Query, SearchIndex};
use secretscope::server::aws::build_client;
use secretscope::server::aws::sync::Syncer;
use secretscope::server::config::{AwsSettings, SyncSettings};
use secretscope::server::health::HealthView;
use secretscope::server::inventory::{Inventory, Snapshot};
use secretscope::server::selection::select;
use secretsmanager_emulator::{self as local, LocalOptions};
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

include!("cases.rs");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Nearest-rank percentile of sorted samples, in milliseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

struct Timing {
    samples: Vec<Duration>,
}

impl Timing {
    fn p50(&self) -> f64 {
        pct(&self.samples, 0.50)
    }
    fn p95(&self) -> f64 {
        pct(&self.samples, 0.95)
    }
    fn max(&self) -> f64 {
        pct(&self.samples, 1.0)
    }
}

/// Runs `f` `warmup` times untimed, then `iters` times timed.
fn measure(warmup: usize, iters: usize, mut f: impl FnMut() -> usize) -> Timing {
    for _ in 0..warmup {
        black_box(f());
    }
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        black_box(f());
        samples.push(t.elapsed());
    }
    samples.sort();
    Timing { samples }
}

/// Like [`measure`] for two functions, called alternately.
fn measure_pair(
    warmup: usize,
    iters: usize,
    mut f: impl FnMut() -> usize,
    mut g: impl FnMut() -> usize,
) -> (Timing, Timing) {
    for _ in 0..warmup {
        black_box(f());
        black_box(g());
    }
    let (mut a, mut b) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
    for _ in 0..iters {
        let t = Instant::now();
        black_box(f());
        a.push(t.elapsed());
        let t = Instant::now();
        black_box(g());
        b.push(t.elapsed());
    }
    a.sort();
    b.sort();
    (Timing { samples: a }, Timing { samples: b })
}

async fn build_snapshot(n: usize) -> (Arc<Snapshot>, Duration, Duration, usize) {
    let t_seed = Instant::now();
    let ep = local::spawn(
        LocalOptions {
            seed_secrets: n,
            ..LocalOptions::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .expect("demo endpoint starts");
    let seeded = t_seed.elapsed();
    let source = build_client(&AwsSettings {
        endpoint_url: Some(ep.url()),
        region: Some("us-east-1".into()),
        ..AwsSettings::default()
    })
    .await;
    let inventory = Arc::new(Inventory::new());
    let syncer = Syncer::new(
        source,
        inventory.clone(),
        SyncSettings {
            list_rate_per_sec: 0.0,
            ..SyncSettings::default()
        },
    );
    let t_list = Instant::now();
    let (stats, _needed) = syncer.list_once().await.expect("list pass");
    let listed = t_list.elapsed();
    ep.shutdown().await;
    (inventory.snapshot(), seeded, listed, stats.pages as usize)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let n = env_usize("BENCH_SECRETS", 100_000);
    let iters = env_usize("BENCH_ITERS", 100).max(50);
    let warmup = env_usize("BENCH_WARMUP", 5);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (snapshot, seeded, listed, pages) = runtime.block_on(build_snapshot(n));
    drop(runtime);
    let total = snapshot.secrets().len();
    assert_eq!(total, n, "the list pass returned every seeded secret");
    // What the pages read: the snapshot with every secret's rule summary.
    let view = HealthView::compute(
        snapshot.clone(),
        &HealthConfig::default(),
        secretscope::server::clock::now(),
        &Default::default(),
    );
    let load_before = loadavg();

    println!(
        "Snapshot: {total} secrets from the demo endpoint (seed 42) via one SDK list pass \
         ({pages} ListSecrets pages, {:.1} s, rate budget lifted; seeding took {:.1} s). \
         {} cores. {warmup} warm-up + {iters} timed iterations per cell; nearest-rank percentiles.",
        listed.as_secs_f64(),
        seeded.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
    if std::env::var("BENCH_ONLY").as_deref() != Ok("health") {
        query_sections(&view, &snapshot, warmup, iters);
    }
    health_section(&snapshot, iters, &load_before);
}

fn query_sections(view: &HealthView, snapshot: &Snapshot, warmup: usize, iters: usize) {
    println!("### `views::select` (parse + filter + sort) and `select` + `views::facets`");
    println!();
    println!(
        "| query | matched | select p50 ms | select p95 ms | select max ms | select+facets p50 ms | select+facets p95 ms |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");

    let mut worst_select_p95 = (0.0f64, "");
    let mut worst_page_p95 = (0.0f64, "");
    for &(label, q, path, sort) in CASES {
        let matched = select(view, q, path, sort).matched.len();
        let sel = measure(warmup, iters, || select(view, q, path, sort).matched.len());
        let page = measure(warmup, iters, || {
            let s = select(view, q, path, sort);
            facets(snapshot, &s.positions, q).len() + s.positions.len()
        });
        if sel.p95() > worst_select_p95.0 {
            worst_select_p95 = (sel.p95(), label);
        }
        if page.p95() > worst_page_p95.0 {
            worst_page_p95 = (page.p95(), label);
        }
        println!(
            "| {label} | {matched} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            sel.p50(),
            sel.p95(),
            sel.max(),
            page.p50(),
            page.p95()
        );
    }
    println!();
    println!(
        "Slowest `select` p95: {:.2} ms ({}); slowest `select` + `facets` p95: {:.2} ms ({}). \
         Budget: query evaluation p95 ≤ 10 ms.",
        worst_select_p95.0, worst_select_p95.1, worst_page_p95.0, worst_page_p95.1
    );
    sort_section(view, snapshot, warmup, iters);
    breakdown_section(view, snapshot, warmup, iters);
}

/// What sorting costs, per sorted case, measured against the same search unsorted.
fn sort_section(view: &HealthView, snapshot: &Snapshot, warmup: usize, iters: usize) {
    for &(label, q, path, sort) in CASES {
        if sort.is_empty() {
            continue;
        }
        // Sorted and unsorted alternately, so that load from elsewhere on the
        // machine falls on both alike.
        let (sorted, unsorted) = measure_pair(
            warmup,
            iters,
            || select(view, q, path, sort).matched.len(),
            || select(view, q, path, "").matched.len(),
        );
        // Facets do not depend on the order, but their memory access does.
        let in_order = select(view, q, path, sort).positions;
        let mut by_name = in_order.clone();
        by_name.sort_unstable();
        let (fac_sorted, fac_by_name) = measure_pair(
            warmup,
            iters,
            || facets(snapshot, black_box(&in_order), q).len(),
            || facets(snapshot, black_box(&by_name), q).len(),
        );
        println!(
            "Sort `{sort}` for {label}: `select` p50 {:.2} ms sorted, {:.2} ms unsorted \
             (measured alternately): {:.2} ms spent sorting. `views::facets` p50 over the same \
             positions in this order {:.2} ms, in snapshot (name) order {:.2} ms.",
            sorted.p50(),
            unsorted.p50(),
            sorted.p50() - unsorted.p50(),
            fac_sorted.p50(),
            fac_by_name.p50()
        );
    }
}

/// Where the time goes: parse, the filter, facets; and the index build.
fn breakdown_section(view: &HealthView, snapshot: &Snapshot, warmup: usize, iters: usize) {
    let total = snapshot.secrets().len();
    // Where the time goes: parse, the filter, facets; and the cost of the
    // index, paid once per published snapshot.
    let index_build = measure(1, 10, || {
        SearchIndex::new(snapshot.secrets().iter().map(|s| &**s)).len()
    });
    println!();
    println!("### Where the time goes (p50 / p95 ms)");
    println!();
    println!(
        "Paid once per published snapshot, not per request: `SearchIndex::new` over {total} \
         secrets {:.1} / {:.1} ms.",
        index_build.p50(),
        index_build.p95(),
    );
    println!();
    println!(
        "| query | parse | `Query::select(snapshot.index())` | for reference: `Query::matches` × {total} | `views::facets` |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for &(label, q, path, sort) in CASES {
        if !path.is_empty() || !sort.is_empty() {
            continue; // the same filter as the query alone
        }
        let parse = measure(warmup, iters, || {
            Query::parse(black_box(q)).map_or(0, |q| q.is_empty() as usize)
        });
        let query = Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        let positions = select(view, q, path, sort).positions;
        let scan = measure(warmup, iters, || {
            snapshot
                .secrets()
                .iter()
                .filter(|s| query.matches(s))
                .count()
        });
        let ix = measure(warmup, iters, || {
            query.select(black_box(snapshot.index())).len()
        });
        assert_eq!(
            query.select(snapshot.index()).len(),
            snapshot
                .secrets()
                .iter()
                .filter(|s| query.matches(s))
                .count(),
            "index and matches agree: {q}"
        );
        let fac = measure(warmup, iters, || {
            facets(snapshot, black_box(&positions), q).len()
        });
        println!(
            "| {label} | {:.4} / {:.4} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} |",
            parse.p50(),
            parse.p95(),
            ix.p50(),
            ix.p95(),
            scan.p50(),
            scan.p95(),
            fac.p50(),
            fac.p95(),
        );
    }
    println!();
}

fn health_section(snapshot: &Arc<Snapshot>, iters: usize, load_before: &str) {
    let total = snapshot.secrets().len();
    // Issue 5's budget: every rule over every secret in ≤ 50 ms. `summarize`
    // is what counts need (no finding text); `evaluate` builds every finding.
    let cfg = HealthConfig::default();
    let now = secretscope::server::clock::now();
    let health_iters = (iters / 5).max(10);
    let summarize_all = measure(2, health_iters, || {
        snapshot
            .secrets()
            .iter()
            .filter(|s| summarize(s, None, &cfg, black_box(now)).worst.is_some())
            .count()
    });
    let evaluate_all = measure(2, health_iters, || {
        snapshot
            .secrets()
            .iter()
            .map(|s| evaluate(s, None, &cfg, black_box(now)).len())
            .sum()
    });
    // What serve runs: summarize on every core, plus the counts.
    let view_all = measure(2, health_iters, || {
        HealthView::compute(snapshot.clone(), &cfg, black_box(now), &Default::default())
            .counts
            .secrets
    });
    let flagged = snapshot
        .secrets()
        .iter()
        .filter(|s| summarize(s, None, &cfg, now).worst.is_some())
        .count();
    println!(
        "### Health rules over {total} secrets (budget ≤ 50 ms): one thread, and `HealthView::compute` on {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "2 warm-up + {health_iters} timed passes; {flagged} secrets have at least one finding."
    );
    println!();
    println!("| pass | p50 ms | p95 ms | max ms |");
    println!("| --- | ---: | ---: | ---: |");
    for (label, t) in [
        (
            "`HealthView::compute` (summarize on every core + counts: what serve runs)",
            &view_all,
        ),
        ("`health::summarize` (counts, no text)", &summarize_all),
        (
            "`health::evaluate` (every finding with its sentence)",
            &evaluate_all,
        ),
    ] {
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} |",
            t.p50(),
            t.p95(),
            t.max()
        );
    }
    println!();
    println!(
        "Load average (1, 5, 15 min) before the timings: {load_before}; after: {}.",
        loadavg()
    );
}
