//! Where the inventory's memory goes, and the 1,000,000-secret stretch
//! (issue 25).
//!
//! Starts `secretscope local-endpoint --seed-secrets N` as a separate
//! process (so none of the endpoint's memory is counted here), then runs
//! `SOURCES` list passes over it through `aws-sdk-secretsmanager`
//! (`sync::list_pass`, rate budget lifted), each one posing as another
//! account: its secrets get that account in their ARN, so every source's
//! secrets are built and held apart, as `serve` holds ten accounts. Each
//! pass is published into one `Inventory` as its source (`publish_source`,
//! as the sync does), then the health rules run over the result.
//!
//! A counting global allocator gives the heap in use at each step; the
//! process's `VmHWM` and `VmRSS` are read from /proc/self/status. Then
//! `views::select` (parse + filter + sort, what every list page does) is
//! timed over a few searches.
//!
//! Run: `cargo bench --features ssr --bench memory`
//! Environment: `BENCH_BIN` (default target/release/secretscope),
//! `BENCH_SECRETS` (per source, default 100000), `BENCH_SOURCES`
//! (default 1), `BENCH_ITERS` (default 50).
//! Prints Markdown to stdout.

use secretscope::domain::health::HealthConfig;
use secretscope::domain::query::SearchIndex;
use secretscope::domain::tree::NameTree;
use secretscope::domain::Secret;
use secretscope::server::aws::build_client;
use secretscope::server::aws::rate::RateLimiter;
use secretscope::server::aws::sync::list_pass;
use secretscope::server::config::AwsSettings;
use secretscope::server::health::HealthView;
use secretscope::server::inventory::{Inventory, SourceKey};
use secretscope::server::selection::select;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes and blocks in use and the peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            BLOCKS.fetch_add(1, Relaxed);
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
        BLOCKS.fetch_sub(1, Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Relaxed) + new - l.size();
                PEAK.fetch_max(now, Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// A field of /proc/self/status in bytes (VmRSS, VmHWM).
fn status(key: &str) -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `local-endpoint` in its own process, stopped when dropped.
struct Endpoint(std::process::Child, String);

impl Endpoint {
    fn start(bin: &str, n: usize) -> Endpoint {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new(bin)
            .args(["local-endpoint", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--seed-secrets", &n.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin} local-endpoint: {e} (set BENCH_BIN)"));
        let deadline = Instant::now() + Duration::from_secs(600);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "local-endpoint did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Endpoint(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Secret `s` as listed in account `account` (its ARN says so).
fn in_account(mut s: Secret, account: &Arc<str>) -> Secret {
    if *s.account != **account {
        s.arn = Arc::from(s.arn.replacen(&*s.account, account, 1));
        s.account = account.clone();
    }
    s
}

include!("cases.rs");

fn main() {
    let bin = std::env::var("BENCH_BIN").unwrap_or_else(|_| "target/release/secretscope".into());
    let n = env_usize("BENCH_SECRETS", 100_000);
    let sources = env_usize("BENCH_SOURCES", 1).max(1);
    let iters = env_usize("BENCH_ITERS", 50).max(20);
    let endpoint = Endpoint::start(&bin, n);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let base = LIVE.load(Relaxed);
    let inventory = Arc::new(Inventory::new());
    let started = Instant::now();
    let mut listed_peak = 0;
    for k in 0..sources {
        let account: Arc<str> = Arc::from(format!("{:012}", 123_456_789_012u64 + k as u64));
        let source = runtime.block_on(build_client(&AwsSettings {
            endpoint_url: Some(endpoint.1.clone()),
            region: Some("us-east-1".into()),
            ..AwsSettings::default()
        }));
        let mut secrets = Vec::with_capacity(n);
        let stats = runtime
            .block_on(list_pass(&source, &RateLimiter::new(0.0), |s| {
                secrets.push(Arc::new(in_account(s, &account)))
            }))
            .expect("list pass");
        listed_peak = listed_peak.max(LIVE.load(Relaxed));
        inventory.publish_source(
            SourceKey {
                id: &format!("bench-{k}/us-east-1"),
                account: Some(&account),
                region: "us-east-1",
            },
            secrets,
            stats,
            secretscope::server::clock::now(),
            0,
        );
    }
    let synced = started.elapsed();
    drop(endpoint);
    let snapshot = inventory.snapshot();
    let total = snapshot.secrets().len();
    let heap_snapshot = LIVE.load(Relaxed) - base;
    let blocks = BLOCKS.load(Relaxed);
    let view = HealthView::compute(
        snapshot.clone(),
        &HealthConfig::default(),
        secretscope::server::clock::now(),
        &Default::default(),
    );
    let heap_view = LIVE.load(Relaxed) - base;

    // Each part on its own: built again, measured by the heap it adds.
    let before = LIVE.load(Relaxed);
    let index = SearchIndex::new(snapshot.secrets().iter().map(|s| &**s));
    let index_bytes = LIVE.load(Relaxed) - before;
    drop(index);
    let before = LIVE.load(Relaxed);
    let tree = NameTree::build(snapshot.secrets().iter().map(|s| &*s.name));
    let tree_bytes = LIVE.load(Relaxed) - before;
    drop(tree);
    let records = heap_snapshot.saturating_sub(index_bytes + tree_bytes);

    println!(
        "{total} secrets: {sources} list pass(es) of {n} from `local-endpoint --seed-secrets {n}` \
         (its own process) in {:.1} s; sizes: `Secret` {} B, `Version` {} B, `Tag` {} B.",
        synced.as_secs_f64(),
        std::mem::size_of::<Secret>(),
        std::mem::size_of::<secretscope::domain::Version>(),
        std::mem::size_of::<secretscope::domain::Tag>(),
    );
    println!();
    println!("| what | heap in use | per secret |");
    println!("| --- | ---: | ---: |");
    let row = |what: &str, bytes: usize| {
        println!(
            "| {what} | {:.1} MB | {} B |",
            mb(bytes),
            bytes / total.max(1)
        )
    };
    row("secret records (all but the index and the tree)", records);
    row("search index", index_bytes);
    row("name tree", tree_bytes);
    row("snapshot in all", heap_snapshot);
    row("snapshot + health view", heap_view);
    row(
        "heap peak while listing and publishing",
        PEAK.load(Relaxed).max(listed_peak) - base,
    );
    println!();
    println!(
        "Blocks in use after the snapshot: {blocks} ({:.1} per secret). Process: VmRSS {:.0} MB, \
         VmHWM {:.0} MB.",
        blocks as f64 / total.max(1) as f64,
        mb(status("VmRSS")),
        mb(status("VmHWM")),
    );
    println!();
    search_table(&view, iters);
    println!();
    println!(
        "After the searches: VmRSS {:.0} MB, VmHWM {:.0} MB.",
        mb(status("VmRSS")),
        mb(status("VmHWM"))
    );
}

/// `views::select` over each of bench/cases.rs's searches: p50, p95, max.
fn search_table(view: &HealthView, iters: usize) {
    println!("| search | matched | `select` p50 ms | p95 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for &(label, q, path, sort) in CASES {
        let matched = select(view, q, path, sort).matched.len();
        let mut samples: Vec<Duration> = (0..iters + 3)
            .map(|_| {
                let t = Instant::now();
                black_box(select(view, q, path, sort).matched.len());
                t.elapsed()
            })
            .skip(3)
            .collect();
        samples.sort();
        let pct = |p: f64| {
            let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1].as_secs_f64() * 1e3
        };
        println!(
            "| {label} | {matched} | {:.2} | {:.2} | {:.2} |",
            pct(0.5),
            pct(0.95),
            pct(1.0)
        );
    }
}
