//! How long LookupEvents takes over the simulated reads (issue 23), in
//! process (no socket, no SDK): one page of `EventName=GetSecretValue`
//! over each account × region of the default demo organisation, the
//! lookups that must not pay for reads, and a secret of 10,000 reads.
//!
//! ```sh
//! cargo run --release -p secretsmanager-emulator --example read_lookups
//! ```

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use secretsmanager_emulator::org::{OrgOptions, Organisation};
use secretsmanager_emulator::{LocalEndpoint, LocalOptions, PlannedReader, ReaderKind};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const NOW: i64 = 1_760_000_000;
const DAY: i64 = 86_400_000;
const RUNS: usize = 21;

async fn lookup(ep: &LocalEndpoint, body: &Value) -> Value {
    let mut h = HeaderMap::new();
    h.insert(
        "x-amz-target",
        HeaderValue::from_static("CloudTrail_20131101.LookupEvents"),
    );
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    let resp = ep.handle(h, Bytes::from(body.to_string())).await;
    assert!(resp.status().is_success(), "{body}: {}", resp.status());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The median of `RUNS` lookups, and the last answer.
async fn time(ep: &LocalEndpoint, body: &Value) -> (Duration, Value) {
    let mut took = Vec::with_capacity(RUNS);
    let mut last = Value::Null;
    for _ in 0..RUNS {
        let t = Instant::now();
        last = lookup(ep, body).await;
        took.push(t.elapsed());
    }
    took.sort();
    (took[RUNS / 2], last)
}

fn attr(key: &str, value: &str) -> Value {
    json!({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}], "MaxResults": 50})
}

fn events(v: &Value) -> usize {
    v["Events"].as_array().map_or(0, Vec::len)
}

/// The default seed's mix: secrets with readers, readers by kind.
fn mix(plan: &[secretsmanager_emulator::PlannedSecret]) {
    let with = plan.iter().filter(|p| !p.readers.is_empty()).count();
    let readers: Vec<&PlannedReader> = plan.iter().flat_map(|p| &p.readers).collect();
    let mut kinds = std::collections::BTreeMap::new();
    for r in &readers {
        *kinds.entry(format!("{:?}", r.kind)).or_insert(0) += 1;
    }
    let secrets_with = |k: ReaderKind| {
        plan.iter()
            .filter(|p| p.readers.iter().any(|r| r.kind == k))
            .count()
    };
    println!(
        "the first account's mix: {with} of {} secrets read, {} readers {kinds:?}; \
         secrets with Previous {}, AfterDeletion {}, Newcomer {}, Denied {}, DecryptFailed {}; \
         batch {}, users {}, from other accounts {}",
        plan.len(),
        readers.len(),
        secrets_with(ReaderKind::Previous),
        secrets_with(ReaderKind::AfterDeletion),
        secrets_with(ReaderKind::Newcomer),
        secrets_with(ReaderKind::Denied),
        secrets_with(ReaderKind::DecryptFailed),
        readers.iter().filter(|r| r.batch).count(),
        readers
            .iter()
            .filter(|r| r.principal.contains(":user/"))
            .count(),
        readers
            .iter()
            .filter(|r| r.account != "123456789012")
            .count(),
    );
}

#[tokio::main]
async fn main() {
    let opts = OrgOptions::demo(LocalOptions {
        now: Some(NOW),
        ..LocalOptions::default()
    });
    let tenants: Vec<(String, String)> = opts
        .tenants
        .iter()
        .map(|t| (t.account.clone(), t.region.clone()))
        .collect();
    let t = Instant::now();
    let org = Organisation::new(opts);
    println!("demo organisation seeded in {:?}", t.elapsed());
    let now = NOW * 1000;
    let mut total = 0u64;
    for (account, region) in &tenants {
        let ep = org.tenant(account, region).unwrap();
        let plan = ep.plan();
        let readers: Vec<&PlannedReader> = plan.iter().flat_map(|p| &p.readers).collect();
        let reads: u64 = readers
            .iter()
            .map(|r| r.count(now - 90 * DAY, now) * if r.batch { 2 } else { 1 })
            .sum();
        total += reads;
        let (page, answer) = time(&ep, &attr("EventName", "GetSecretValue")).await;
        let token = answer["NextToken"].as_str().unwrap_or_default().to_string();
        let mut next = attr("EventName", "GetSecretValue");
        next["NextToken"] = json!(token);
        let (second, _) = time(&ep, &next).await;
        let (failed, f) = time(&ep, &attr("EventName", "RotationFailed")).await;
        let (all, _) = time(&ep, &json!({"MaxResults": 50})).await;
        println!(
            "{account} {region}: {} secrets, {} readers, {reads} read events in 90 days; \
             EventName=GetSecretValue page {page:?} (next page {second:?}), \
             EventName=RotationFailed page {failed:?} ({} events), no attribute {all:?}",
            plan.len(),
            readers.len(),
            events(&f)
        );
    }
    println!("the demo organisation: {total} read events in 90 days");
    mix(&org.first().plan());

    // A busy secret: 10,000 reads, a minute apart, up to now.
    let ep = org.first().clone();
    let p = ep.plan()[0].clone();
    let reader = PlannedReader {
        principal: "arn:aws:iam::123456789012:role/bench-reader".into(),
        account: "123456789012".into(),
        session: "bench-1".into(),
        stage: None,
        version_id: None,
        error: None,
        batch: false,
        from: now - 10_000 * 60_000,
        until: Some(now),
        every: 60_000,
        kind: ReaderKind::Steady,
    };
    assert_eq!(ep.add_reads(&p.arn, reader), Ok(10_000));
    let (first, answer) = time(&ep, &attr("ResourceName", &p.arn)).await;
    let t = Instant::now();
    let mut pages = 1;
    let mut seen = events(&answer);
    let mut token = answer["NextToken"].as_str().map(str::to_string);
    while let Some(tk) = token {
        let mut q = attr("ResourceName", &p.arn);
        q["NextToken"] = json!(tk);
        let a = lookup(&ep, &q).await;
        seen += events(&a);
        pages += 1;
        token = a["NextToken"].as_str().map(str::to_string);
    }
    let every_page = t.elapsed();
    let id = answer["Events"][25]["EventId"]
        .as_str()
        .unwrap()
        .to_string();
    let (by_id, found) = time(&ep, &attr("EventId", &id)).await;
    println!(
        "a secret with 10,000 reads: ResourceName page {first:?}; all {pages} pages ({seen} events) {every_page:?}; \
         EventId of one of its reads {by_id:?} ({} found)",
        events(&found)
    );
}
