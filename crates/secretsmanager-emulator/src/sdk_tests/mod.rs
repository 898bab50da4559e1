//! The demo endpoint, driven through the real `aws-sdk-secretsmanager` client
//! exactly as the dashboard drives AWS.

use crate::seed::{self, PlannedSecret, SeedSecret};
use crate::{
    spawn, Faults, LambdaBehaviour, LocalEndpoint, LocalOptions, RotationOutcome, RunningEndpoint,
    Scenario,
};
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager as sm;
use sm::config::{Credentials, Region};
use sm::error::ProvideErrorMetadata;
use sm::types::{Filter, FilterNameStringType, SortByType, SortOrderType, Tag};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

pub(crate) use crate::testing::finished_rotation;

const NOW: i64 = 1_760_000_000;
const SEED: u64 = 42;
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn options(n: usize) -> LocalOptions {
    LocalOptions {
        seed_secrets: n,
        seed: SEED,
        now: Some(NOW),
        rotation_step: Duration::from_millis(20),
        ..LocalOptions::default()
    }
}

async fn start_with(opts: LocalOptions) -> RunningEndpoint {
    spawn(opts, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the demo endpoint starts")
}

async fn start(n: usize) -> RunningEndpoint {
    start_with(options(n)).await
}

/// A client with explicit region and credentials (nothing probes instance metadata).
async fn client_with(url: &str, max_attempts: u32) -> sm::Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .load()
        .await;
    sm::Client::new(&conf)
}

async fn client(ep: &RunningEndpoint) -> sm::Client {
    client_with(&ep.url(), 3).await
}

fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().unwrap_or("<no code>").to_string(),
    }
}

fn seeds(n: usize) -> Vec<SeedSecret> {
    seed::generate(n, SEED, NOW, ACCOUNT, REGION)
}

fn pick(plan: &[PlannedSecret], f: impl Fn(&PlannedSecret) -> bool) -> &PlannedSecret {
    plan.iter()
        .find(|p| !p.hostile && f(p))
        .expect("the seed plans such a secret")
}

/// Every page of ListSecrets, by name, in the order returned.
async fn list_all(
    c: &sm::Client,
    page: i32,
    include_deleted: bool,
    filters: Vec<Filter>,
    sort: Option<(SortByType, SortOrderType)>,
) -> Vec<sm::types::SecretListEntry> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = c
            .list_secrets()
            .max_results(page)
            .include_planned_deletion(include_deleted)
            .set_filters(if filters.is_empty() {
                None
            } else {
                Some(filters.clone())
            })
            .set_next_token(token.clone());
        if let Some((by, order)) = &sort {
            req = req.sort_by(by.clone()).sort_order(order.clone());
        }
        let resp = req.send().await.expect("ListSecrets");
        assert!(resp.secret_list().len() <= page as usize);
        out.extend(resp.secret_list().iter().cloned());
        match resp.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
}

fn names(entries: &[sm::types::SecretListEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.name().unwrap().to_string())
        .collect()
}

fn filter(key: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .key(FilterNameStringType::from(key))
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

async fn stages(c: &sm::Client, id: &str) -> HashMap<String, Vec<String>> {
    c.describe_secret()
        .secret_id(id)
        .send()
        .await
        .expect("DescribeSecret")
        .version_ids_to_stages()
        .cloned()
        .unwrap_or_default()
}

fn holder(stages: &HashMap<String, Vec<String>>, label: &str) -> Option<String> {
    stages
        .iter()
        .find(|(_, l)| l.iter().any(|x| x == label))
        .map(|(v, _)| v.clone())
}

mod changes;
mod diagnosis;
mod endpoint;
mod listing;
mod read_control;
mod reads;
mod rotation;
mod trail_filters;
mod trail_reads;
mod trail_writes;
