//! Rotation diagnosis of 1,000 failed rotations across 10 sources (issue 22):
//! the AWS calls the diagnoser makes with its cache, and the time it takes.
//!
//! Setup, untimed, as `serve` gets there: the demo organisation is started
//! in-process (`OrgOptions::uniform`, 10 accounts of one region each, seed
//! 42, sized so that the seed plans at least 1,000 RotationFailed secrets);
//! the dashboard reads it through its own `[[sources]]` (`OrgOptions::sources`
//! → `SourceSettings` → `Sources::from_config`, nine of them by AssumeRole):
//! one list pass per source (`Syncer::list_once`), a version pass over the
//! failing secrets, CloudTrail's recent RotationFailed events per source
//! learned into the inventory (`failure_of` + `Inventory::note_failures`, as
//! the failure sweep does), then `failures::failing` over the health view:
//! the secrets the background diagnosis pass would diagnose. Of those, the
//! ones the seed planned as RotationFailed (all with a rotation Lambda) are
//! taken, 1,000 in all, the same number from each account, in the
//! snapshot's order.
//!
//! Then, for each call budget (the default 5 calls/s per account and
//! region, and lifted):
//! 1. cold pass: a new `Diagnoser`, `facts_many` + `diagnose` over the
//!    1,000: wall time, AWS calls by service and operation, reads refused
//!    over budget (`max_wait_seconds` is set high so that none is), causes;
//! 2. warm pass: the same `Diagnoser` again, within its TTL.
//!
//! And for comparison, a diagnosis without a cache: a `Diagnoser` with
//! `cache_ttl_seconds = 0` (budget lifted) reads the 1,000 one secret at a
//! time, so no read is shared by two secrets; its calls per secret.
//!
//! The endpoint runs in the same process and on the same cores: its work is
//! in every wall time here.
//!
//! Run: `nice -n 15 cargo bench --features ssr --bench diagnosis`
//! Environment: `BENCH_ACCOUNTS` (default 10), `BENCH_FAILED` (default
//! 1000), `BENCH_LIFTED` (the lifted budget, calls/s, default 1000000).
//! Prints Markdown to stdout.

use futures_util::future::join_all;
use secretscope::domain::diagnosis::{diagnose, incidents, CauseId, Diagnosis, Failure, Status};
use secretscope::domain::health::HealthConfig;
use secretscope::domain::rotation_failure::failure_of;
use secretscope::domain::rotation_history::RotationEvent;
use secretscope::domain::{Secret, Timestamp};
use secretscope::server::aws::sync::Syncer;
use secretscope::server::aws::{RotationTrail, Sources};
use secretscope::server::config::{CloudTrailSettings, Config};
use secretscope::server::diagnosis::{Diagnoser, DiagnosisSettings, Op};
use secretscope::server::failures::failing;
use secretscope::server::health::HealthView;
use secretscope::server::inventory::Inventory;
use secretsmanager_emulator::org::OrgOptions;
use secretsmanager_emulator::seed::{scenario_counts, PlannedSecret, Scenario};
use secretsmanager_emulator::{self as local, LocalOptions, RunningEndpoint};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default `[diagnosis] calls_per_second`.
const DEFAULT_RATE: f64 = 5.0;
const SERVICES: [&str; 5] = ["lambda", "ec2", "kms", "iam", "secretsmanager"];

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the setup made: the organisation, the dashboard's sources, the
/// secrets to diagnose and what the seed planned for them.
struct Setup {
    _endpoint: RunningEndpoint,
    sources: Sources,
    picked: Vec<Arc<Secret>>,
    planned: HashMap<String, PlannedSecret>,
    per_account: usize,
    total_secrets: usize,
    planned_failed: usize,
    dashboard_failing: usize,
    failures_learned: usize,
    trail_events: usize,
    took: Duration,
}

/// Secrets per account so that `accounts` accounts plan `want` RotationFailed.
fn size_for(accounts: usize, want: usize) -> usize {
    let failed = |n: usize| {
        scenario_counts(n)
            .into_iter()
            .find(|(s, _)| *s == Scenario::RotationFailed)
            .map_or(0, |(_, c)| c)
    };
    let mut n = 100;
    while failed(n) * accounts < want {
        n += 100;
    }
    while n > 100 && failed(n - 1) * accounts >= want {
        n -= 1;
    }
    n
}

async fn setup(accounts: usize, want: usize, now: Timestamp) -> Setup {
    let started = Instant::now();
    let per_account = size_for(accounts, want);
    let opts = OrgOptions::uniform(
        LocalOptions {
            seed_secrets: per_account,
            ..LocalOptions::default()
        },
        accounts,
    );
    let endpoint = local::spawn_org(opts.clone(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the demo organisation starts");
    let org = endpoint.org.clone().expect("an organisation");
    let mut planned = HashMap::new();
    for t in &opts.tenants {
        let tenant = org.tenant(&t.account, &t.region).expect("seeded");
        planned.extend(tenant.plan().into_iter().map(|p| (p.arn.clone(), p)));
    }
    let is_failed = |arn: &str| {
        planned
            .get(arn)
            .is_some_and(|p| p.scenario == Scenario::RotationFailed && !p.deleted)
    };

    let mut config = Config::default();
    config.aws.endpoint_url = Some(endpoint.url());
    config.sync.list_rate_per_sec = 0.0;
    config.sync.version_rate_per_sec = 0.0;
    config.sources = opts.sources().into_iter().map(Into::into).collect();
    let sources = Sources::from_config(&config).await.expect("sources");
    let inventory = Arc::new(Inventory::new());
    let syncers = Syncer::for_sources(&sources, &inventory, &config);
    let listed = join_all(syncers.iter().map(|s| s.list_once())).await;
    let versions = syncers.iter().zip(listed).map(|(syncer, listed)| {
        let (_, needed) = listed.expect("list pass");
        let needed = needed
            .into_iter()
            .filter(|(arn, _)| is_failed(arn))
            .collect();
        async move { syncer.version_pass(needed, None).await }
    });
    for report in join_all(versions).await {
        assert_eq!(report.failed, 0, "version pass: {:?}", report.last_error);
    }
    let (failures_learned, trail_events) = learn_failures(&sources, &inventory, now).await;

    let view = HealthView::compute(
        inventory.snapshot(),
        &HealthConfig::default(),
        now,
        &Default::default(),
    );
    let candidates = failing(&view);
    let quota = want.div_ceil(accounts);
    let mut taken: HashMap<Arc<str>, usize> = HashMap::new();
    let mut picked = Vec::with_capacity(want);
    for s in candidates.iter().filter(|s| is_failed(&s.arn)) {
        let n = taken.entry(s.account.clone()).or_default();
        if *n < quota && picked.len() < want {
            *n += 1;
            picked.push(s.clone());
        }
    }
    assert_eq!(picked.len(), want, "enough failed rotations to diagnose");
    assert!(picked.iter().all(|s| s.rotation_lambda_arn.is_some()));
    Setup {
        sources,
        total_secrets: view.snapshot.secrets().len(),
        planned_failed: planned.keys().filter(|a| is_failed(a)).count(),
        dashboard_failing: candidates.len(),
        picked,
        planned,
        per_account,
        failures_learned,
        trail_events,
        took: started.elapsed(),
        _endpoint: endpoint,
    }
}

/// The failure sweep's work: each source's recent RotationFailed events,
/// attached to their secrets. (failures attached, events read)
async fn learn_failures(
    sources: &Sources,
    inventory: &Inventory,
    now: Timestamp,
) -> (usize, usize) {
    let settings = CloudTrailSettings {
        enabled: true,
        endpoint_url: None,
        lookback_days: 90,
        // Setup, untimed: not held to LookupEvents' quota.
        calls_per_second: 1_000_000.0,
    };
    let lookups = sources.all().iter().map(|source| {
        let trail = RotationTrail::for_source(source, &settings);
        async move { trail.recent_failures(trail.since(now)).await }
    });
    let events: Vec<RotationEvent> = join_all(lookups)
        .await
        .into_iter()
        .flat_map(|r| r.expect("LookupEvents"))
        .collect();
    let mut by_arn: HashMap<&str, Vec<RotationEvent>> = HashMap::new();
    for e in &events {
        by_arn.entry(&e.secret_arn).or_default().push(e.clone());
    }
    let snapshot = inventory.snapshot();
    let seen: Vec<_> = by_arn
        .iter()
        .filter_map(|(arn, evs)| {
            let s = snapshot.by_arn(arn)?;
            Some((s.arn.clone(), failure_of(s, evs)?))
        })
        .collect();
    let learned = seen.len();
    inventory.note_failures(seen);
    (learned, events.len())
}

/// One pass: the calls it made (by [`Op::ALL`]), refusals, time, diagnoses.
struct Pass {
    calls: Vec<u64>,
    over_budget: u64,
    facts_time: Duration,
    diagnose_time: Duration,
    diagnoses: Vec<Diagnosis>,
}

impl Pass {
    fn total(&self) -> u64 {
        self.calls.iter().sum()
    }

    fn of_service(&self, service: &str) -> u64 {
        Op::ALL
            .iter()
            .zip(&self.calls)
            .filter(|(op, _)| op.service() == service)
            .map(|(_, n)| n)
            .sum()
    }

    fn wall(&self) -> Duration {
        self.facts_time + self.diagnose_time
    }
}

fn counted(d: &Diagnoser) -> (Vec<u64>, u64) {
    let calls = d.calls();
    (
        Op::ALL.iter().map(|op| calls.of(*op)).collect(),
        calls.over_budget(),
    )
}

/// `facts_many` + `diagnose` over `secrets`, as the background pass runs them.
async fn pass(d: &Diagnoser, sources: &Sources, secrets: &[Arc<Secret>], now: Timestamp) -> Pass {
    let (before, refused_before) = counted(d);
    let t = Instant::now();
    let facts = d.facts_many(sources, secrets).await;
    let facts_time = t.elapsed();
    let t = Instant::now();
    let diagnoses: Vec<Diagnosis> = secrets
        .iter()
        .zip(&facts)
        .map(|(s, f)| diagnose(s, f, now))
        .collect();
    let diagnose_time = t.elapsed();
    let (after, refused_after) = counted(d);
    Pass {
        calls: after.iter().zip(&before).map(|(a, b)| a - b).collect(),
        over_budget: refused_after - refused_before,
        facts_time,
        diagnose_time,
        diagnoses,
    }
}

fn settings(rate: f64, ttl: u64) -> DiagnosisSettings {
    DiagnosisSettings {
        calls_per_second: rate,
        cache_ttl_seconds: ttl,
        // So that no read is refused: the benchmark counts every call.
        max_wait_seconds: 3_600,
        ..DiagnosisSettings::default()
    }
}

/// Without a cache: each secret on its own (TTL 0, one at a time, so no
/// read is shared, not even one in flight). Calls per secret, and the pass.
async fn uncached(
    sources: &Sources,
    secrets: &[Arc<Secret>],
    rate: f64,
    now: Timestamp,
) -> (Vec<u64>, Pass) {
    let d = Diagnoser::new(&settings(rate, 0));
    let (before, refused_before) = counted(&d);
    let mut per_secret = Vec::with_capacity(secrets.len());
    let mut diagnoses = Vec::with_capacity(secrets.len());
    let t = Instant::now();
    for s in secrets {
        let made = d.calls().total();
        let facts = d.facts(sources, s).await;
        per_secret.push(d.calls().total() - made);
        diagnoses.push(diagnose(s, &facts, now));
    }
    let wall = t.elapsed();
    let (after, refused_after) = counted(&d);
    let pass = Pass {
        calls: after.iter().zip(&before).map(|(a, b)| a - b).collect(),
        over_budget: refused_after - refused_before,
        facts_time: wall,
        diagnose_time: Duration::ZERO,
        diagnoses,
    };
    (per_secret, pass)
}

fn rate_label(rate: f64) -> String {
    if rate == DEFAULT_RATE {
        format!("{rate} calls/s (default)")
    } else {
        format!("{rate} calls/s (lifted)")
    }
}

fn main() {
    let accounts = env_num("BENCH_ACCOUNTS", 10usize);
    let want = env_num("BENCH_FAILED", 1000usize);
    let lifted = env_num("BENCH_LIFTED", 1_000_000f64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(accounts, want, lifted));
}

async fn run(accounts: usize, want: usize, lifted: f64) {
    let now = secretscope::server::clock::now();
    let setup = setup(accounts, want, now).await;
    print_setup(&setup, accounts);

    let mut rows = Vec::new();
    let mut cold_passes = Vec::new();
    for rate in [DEFAULT_RATE, lifted] {
        let d = Diagnoser::new(&settings(rate, 600));
        let cold = pass(&d, &setup.sources, &setup.picked, now).await;
        let warm = pass(&d, &setup.sources, &setup.picked, now).await;
        assert!(warm.wall() < d.ttl(), "the warm pass ran within the TTL");
        assert_eq!(warm.diagnoses, cold.diagnoses, "warm = cold");
        rows.push((format!("cold, {}", rate_label(rate)), cold.clone_counts()));
        rows.push((format!("warm, {}", rate_label(rate)), warm.clone_counts()));
        cold_passes.push((rate, cold));
    }
    let (per_secret, nocache) = uncached(&setup.sources, &setup.picked, lifted, now).await;
    rows.push((
        format!("no cache, one secret at a time, {}", rate_label(lifted)),
        nocache.clone_counts(),
    ));
    print_calls(&rows, want);
    print_ops(&cold_passes, &nocache);
    print_uncached(&per_secret, &cold_passes[0].1);
    print_per_account(&setup, now).await;
    let cold = &cold_passes[0].1;
    assert_eq!(
        cold.diagnoses, cold_passes[1].1.diagnoses,
        "the budget changes when, not what"
    );
    print_causes(&setup, cold);
    print_agreement(&setup, cold, &nocache);
}

/// A pass's numbers without its diagnoses, for the table.
struct Counts {
    total: u64,
    by_service: Vec<u64>,
    over_budget: u64,
    facts_time: Duration,
    diagnose_time: Duration,
}

impl Pass {
    fn clone_counts(&self) -> Counts {
        Counts {
            total: self.total(),
            by_service: SERVICES.iter().map(|s| self.of_service(s)).collect(),
            over_budget: self.over_budget,
            facts_time: self.facts_time,
            diagnose_time: self.diagnose_time,
        }
    }
}

fn print_setup(s: &Setup, accounts: usize) {
    println!(
        "Organisation: {accounts} accounts × 1 region (us-east-1), {} secrets each (seed 42 + \
         account index), {} in all; the seed planned {} RotationFailed secrets. Read through \
         {} sources (the first with the base credentials, the others by AssumeRole). \
         CloudTrail: {} RotationFailed events read, a failure attached to {} secrets. \
         `failures::failing` over the health view: {} secrets (failed and flaky rotations); \
         diagnosed here: the {} the seed planned as RotationFailed ({} per account). \
         Setup (seed, list, versions, trail) {:.1} s, untimed below. {} cores.",
        s.per_account,
        s.total_secrets,
        s.planned_failed,
        s.sources.all().len(),
        s.trail_events,
        s.failures_learned,
        s.dashboard_failing,
        s.picked.len(),
        s.picked.len() / accounts.max(1),
        s.took.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
}

fn print_calls(rows: &[(String, Counts)], n: usize) {
    println!("### {n} failed rotations: AWS calls and time");
    println!();
    println!(
        "| pass | wall s | of it `diagnose` ms | AWS calls | lambda | ec2 | kms | iam | secretsmanager | over budget |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, c) in rows {
        let services: Vec<String> = c.by_service.iter().map(u64::to_string).collect();
        println!(
            "| {label} | {:.2} | {:.1} | {} | {} | {} |",
            (c.facts_time + c.diagnose_time).as_secs_f64(),
            c.diagnose_time.as_secs_f64() * 1000.0,
            c.total,
            services.join(" | "),
            c.over_budget
        );
    }
    println!();
}

fn print_ops(cold: &[(f64, Pass)], nocache: &Pass) {
    println!("### Calls by operation");
    println!();
    let heads: Vec<String> = cold
        .iter()
        .map(|(rate, _)| format!("cold, {}", rate_label(*rate)))
        .collect();
    println!("| operation | {} | no cache |", heads.join(" | "));
    println!("| --- |{} ---: |", " ---: |".repeat(cold.len()));
    for (i, op) in Op::ALL.iter().enumerate() {
        let cells: Vec<String> = cold.iter().map(|(_, p)| p.calls[i].to_string()).collect();
        println!(
            "| {} | {} | {} |",
            op.permission(),
            cells.join(" | "),
            nocache.calls[i]
        );
    }
    println!();
}

fn print_uncached(per_secret: &[u64], cold: &Pass) {
    let total: u64 = per_secret.iter().sum();
    let n = per_secret.len().max(1) as f64;
    let mut hist: BTreeMap<u64, usize> = BTreeMap::new();
    for c in per_secret {
        *hist.entry(*c).or_default() += 1;
    }
    let spread: Vec<String> = hist
        .iter()
        .map(|(calls, secrets)| format!("{calls} calls: {secrets}"))
        .collect();
    println!(
        "Without a cache: {total} calls for {} secrets, {:.2} per secret (secrets by calls \
         made: {}). With the cache the cold pass made {} calls: {:.1}× fewer ({:.2} per \
         secret); the warm pass none.",
        per_secret.len(),
        total as f64 / n,
        spread.join(", "),
        cold.total(),
        total as f64 / cold.total().max(1) as f64,
        cold.total() as f64 / n,
    );
    println!();
}

fn slug(c: Option<CauseId>) -> &'static str {
    c.map_or("(none found)", CauseId::slug)
}

/// Main causes, what `cause:` carries, the incidents, and checks that
/// could not be made.
fn print_causes(setup: &Setup, cold: &Pass) {
    #[derive(Default)]
    struct Row {
        main: usize,
        subjects: HashSet<String>,
        carried: usize,
        planned: usize,
    }
    let mut rows: BTreeMap<Option<CauseId>, Row> = BTreeMap::new();
    for (s, d) in setup.picked.iter().zip(&cold.diagnoses) {
        let main = d.main_cause();
        let row = rows.entry(main.map(|(c, _)| c)).or_default();
        row.main += 1;
        // The subject an incident groups by: the Lambda when no cause was found.
        let lambda = s.rotation_lambda_arn.as_deref().unwrap_or(&s.arn);
        row.subjects.insert(
            main.map_or(lambda, |(_, subj)| subj.unwrap_or(&s.arn))
                .to_string(),
        );
        for c in d.found() {
            rows.entry(Some(c)).or_default().carried += 1;
        }
        let planned = setup.planned[&*s.arn]
            .cause
            .as_deref()
            .and_then(CauseId::parse);
        rows.entry(planned).or_default().planned += 1;
    }
    println!("### Causes found (cold pass)");
    println!();
    println!(
        "| cause | secrets, as main cause | distinct subjects | secrets carrying it (`cause:`, failed or warning) | secrets the seed planned with it |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (cause, r) in &rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            slug(*cause),
            r.main,
            r.subjects.len(),
            r.carried,
            r.planned
        );
    }
    let failures: Vec<Failure> = setup
        .picked
        .iter()
        .zip(&cold.diagnoses)
        .map(|(s, d)| Failure {
            secret_arn: &s.arn,
            since: s.seen_failure().map(|f| f.at),
            lambda_arn: s.rotation_lambda_arn.as_deref(),
            diagnosis: Some(d),
        })
        .collect();
    let grouped = incidents(&failures);
    let with_cause = grouped.iter().filter(|i| i.cause.is_some()).count();
    let biggest: Vec<String> = grouped
        .iter()
        .take(3)
        .map(|i| format!("{} secrets ({})", i.secrets.len(), slug(i.cause)))
        .collect();
    println!();
    println!(
        "Incidents (`diagnosis::incidents`, grouped by (main cause, subject)): {} for {} \
         secrets, {with_cause} of them with a cause found and {} grouped by their Lambda with \
         none; the biggest: {}.",
        grouped.len(),
        failures.len(),
        grouped.len() - with_cause,
        biggest.join(", ")
    );
    print_unknown(cold);
}

/// Checks that could not be made, by check and evidence.
fn print_unknown(cold: &Pass) {
    let mut unknown: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for d in &cold.diagnoses {
        for c in &d.checks {
            if let Status::Unknown { .. } = c.status {
                *unknown.entry((c.id.slug(), &c.evidence)).or_default() += 1;
            }
        }
    }
    let total: usize = unknown.values().sum();
    println!();
    println!("Checks that could not be made (cold pass): {total}.");
    for ((id, evidence), n) in &unknown {
        println!("- {id}, {n} secrets: {evidence}");
    }
    println!();
}

/// The main cause against the seed's plan, and the uncached diagnoses
/// against the cached ones.
fn print_agreement(setup: &Setup, cold: &Pass, nocache: &Pass) {
    let mut agree = 0;
    let mut among_failed = 0;
    let mut differ: BTreeMap<(String, &str), (usize, &Secret, &Diagnosis)> = BTreeMap::new();
    for (s, d) in setup.picked.iter().zip(&cold.diagnoses) {
        let planned = setup.planned[&*s.arn].cause.clone();
        let main = d.main_cause().map(|(c, _)| c.slug());
        if planned.as_deref() == main {
            agree += 1;
        } else {
            let key = (
                planned.clone().unwrap_or_else(|| "(none)".into()),
                slug(d.main_cause().map(|(c, _)| c)),
            );
            differ.entry(key).or_insert((0, s, d)).0 += 1;
            eprintln!("differs from the plan: {} {}", s.arn, dates(s));
        }
        if planned
            .as_deref()
            .is_none_or(|p| d.causes().iter().any(|(c, _)| c.slug() == p))
        {
            among_failed += 1;
        }
    }
    let n = setup.picked.len();
    println!("### Diagnosis against the seed's plan");
    println!();
    println!(
        "Main cause = the cause the seed planned (none for the `broken` Lambda, whose database \
         refuses): {agree} of {n}; the planned cause among the failed checks' causes: \
         {among_failed} of {n}."
    );
    for ((planned, found), (count, s, d)) in &differ {
        println!();
        println!(
            "- planned {planned}, main cause {found}: {count} secrets, e.g. {} ({}):",
            d.secret_arn,
            dates(s)
        );
        for c in &d.checks {
            println!("  - {} ({}): {}", c.id.slug(), c.status.word(), c.evidence);
        }
    }
    let same = cold
        .diagnoses
        .iter()
        .zip(&nocache.diagnoses)
        .filter(|(a, b)| a == b)
        .count();
    println!();
    println!("Diagnoses without the cache equal to those with it: {same} of {n}.");
}

/// When a secret last rotated, its AWSPENDING version was made, and its
/// failure was seen.
fn dates(s: &Secret) -> String {
    let at = |t: Option<Timestamp>| t.map_or("unknown".into(), |t| t.display());
    let failure = s.seen_failure().map_or("no failure seen".into(), |f| {
        format!("failure seen {} (attempt {})", f.at.display(), f.attempt)
    });
    format!(
        "last rotated {}, AWSPENDING made {}, {failure}",
        at(s.last_rotated),
        at(s.pending_version().and_then(|v| v.created)),
    )
}

/// For comparison, not what the dashboard does: a `Diagnoser` and a
/// `facts_many` per account, all at once, at the default budget; and the
/// calls each account's budgets had to carry.
async fn print_per_account(setup: &Setup, now: Timestamp) {
    let mut by_account: BTreeMap<&str, Vec<Arc<Secret>>> = BTreeMap::new();
    for s in &setup.picked {
        by_account.entry(&s.account).or_default().push(s.clone());
    }
    let diagnosers: Vec<Diagnoser> = by_account
        .keys()
        .map(|_| Diagnoser::new(&settings(DEFAULT_RATE, 600)))
        .collect();
    let t = Instant::now();
    let passes = join_all(
        diagnosers
            .iter()
            .zip(by_account.values())
            .map(|(d, secrets)| pass(d, &setup.sources, secrets, now)),
    )
    .await;
    let wall = t.elapsed();
    let regional: Vec<u64> = passes
        .iter()
        .map(|p| p.total() - p.of_service("iam"))
        .collect();
    let iam: Vec<u64> = passes.iter().map(|p| p.of_service("iam")).collect();
    let total: u64 = passes.iter().map(Pass::total).sum();
    let refused: u64 = passes.iter().map(|p| p.over_budget).sum();
    let range = |v: &[u64]| {
        format!(
            "{}–{}",
            v.iter().min().unwrap_or(&0),
            v.iter().max().unwrap_or(&0)
        )
    };
    println!(
        "Per account, the cold pass makes {} calls to Lambda, EC2, KMS and Secrets Manager \
         (each account's budget in {}, and in another region for the Lambda there) and {} to \
         IAM (a budget of its own, `global`). For comparison (not what the dashboard does): a \
         `Diagnoser` and a `facts_many` per account, all {} at once ({} secrets in flight \
         instead of {}), at the default budget: {:.2} s, {total} calls, {refused} over budget.",
        range(&regional),
        setup.picked[0].region,
        range(&iam),
        passes.len(),
        passes.len() * secretscope::server::diagnosis::CONCURRENCY,
        secretscope::server::diagnosis::CONCURRENCY,
        wall.as_secs_f64(),
    );
    println!();
}
