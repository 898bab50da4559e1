//! `secretscope sync`: one list pass over every source (and, with
//! `--versions`, the version pass), a summary, and exit 1 if it failed.

use super::services::Services;
use super::AwsArgs;
use clap::Args;
use secretscope::server::aws::sync::Syncer;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args)]
pub struct SyncArgs {
    #[command(flatten)]
    aws: AwsArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Also fetch version dates (ListSecretVersionIds) within the rate budget and wait for them.
    #[arg(long)]
    versions: bool,
}

pub async fn run(config_file: Option<&Path>, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let services = Services::load(config_file)?.with_aws(args.aws);
    let syncers = Syncer::standalone(services.config())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.user))?;
    let started = Instant::now();
    // Every source at once, each within its own rate budget.
    let results = futures_util::future::join_all(
        syncers
            .iter()
            .map(|s| sync_source(s, args.versions, started)),
    )
    .await;
    let ok = results.iter().all(|r| r["ok"] == json!(true));
    let summary = match <[serde_json::Value; 1]>::try_from(results) {
        Ok([one]) => one,
        Err(all) => summarise(all, ok, started),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if ok {
        println!(
            "synced {} secrets from {} in {} ms ({} pages, {} API calls)",
            summary["secrets"],
            summary["source"],
            summary["duration_ms"],
            summary["pages"],
            summary["api_calls"]
        );
    } else {
        for e in summary["errors"].as_array().into_iter().flatten() {
            eprintln!("sync failed: {}", e.as_str().unwrap_or_default());
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The sums over several sources, each source's summary under `sources`.
fn summarise(all: Vec<serde_json::Value>, ok: bool, started: Instant) -> serde_json::Value {
    let sum = |k: &str| all.iter().filter_map(|r| r[k].as_u64()).sum::<u64>();
    let errors: Vec<serde_json::Value> = all
        .iter()
        .flat_map(|r| {
            let source = r["name"].as_str().unwrap_or_default().to_string();
            r["errors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |e| json!(format!("{source}: {}", e.as_str().unwrap_or_default())))
        })
        .collect();
    json!({
        "ok": ok,
        "source": format!("{} sources", all.len()),
        "secrets": sum("secrets"),
        "pages": sum("pages"),
        "api_calls": sum("api_calls"),
        "duration_ms": started.elapsed().as_millis() as u64,
        "errors": errors,
        "sources": all,
    })
}

/// One source's list pass (and version pass), as the JSON `sync` prints.
async fn sync_source(syncer: &Arc<Syncer>, versions: bool, started: Instant) -> serde_json::Value {
    let source = &syncer.source;
    match syncer.list_once().await {
        Ok((stats, needed)) => {
            let versions = if versions {
                Some(syncer.version_pass(needed, None).await)
            } else {
                None
            };
            let failed_versions = versions.as_ref().is_some_and(|v| v.failed > 0);
            let errors: Vec<String> = versions
                .as_ref()
                .and_then(|v| v.last_error.clone())
                .into_iter()
                .collect();
            json!({
                "ok": !failed_versions,
                "name": source.id(),
                "source": source.endpoint,
                "region": source.region,
                "account": source.account(),
                "secrets": stats.secrets,
                "pages": stats.pages,
                "api_calls": source.counters.values().attempts,
                "throttled": stats.throttled,
                "server_errors": stats.server_errors,
                "list_duration_ms": stats.duration_ms,
                "duration_ms": started.elapsed().as_millis() as u64,
                "versions": versions,
                "errors": errors,
            })
        }
        Err(e) => json!({
            "ok": false,
            "name": source.id(),
            "source": source.endpoint,
            "region": source.region,
            "account": source.account(),
            "secrets": 0,
            "api_calls": source.counters.values().attempts,
            "duration_ms": started.elapsed().as_millis() as u64,
            "errors": [e.user],
            "detail": e.detail,
        }),
    }
}
