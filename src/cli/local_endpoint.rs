//! `secretscope local-endpoint`, and the demo organisation `serve --demo`
//! and `check --demo` start: the only place the command line reaches the
//! demo endpoint's code (everything else talks to it over HTTP).

use super::shutdown_signal;
use clap::Args;
use secretscope::server::config::{Config, SourceSettings};
use secretsmanager_emulator::{self as local, org, Faults, LocalOptions, RunningEndpoint};
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Args)]
pub struct LocalArgs {
    /// Address to listen on (use a loopback address).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    bind: SocketAddr,
    /// Number of secrets to seed (up to 100,000 and more).
    #[arg(long, value_name = "N", default_value_t = 300)]
    seed_secrets: usize,
    /// Seed of the deterministic generator.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Fraction of requests answered with ThrottlingException (0–1).
    #[arg(long, value_name = "R", default_value_t = 0.0)]
    throttle_rate: f64,
    /// Fraction of requests answered with HTTP 500 (0–1).
    #[arg(long, value_name = "R", default_value_t = 0.0)]
    error_rate: f64,
    /// Latency added to every request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// LookupEvents calls a second answered per account and region, past
    /// which ThrottlingException (AWS's quota: 2); 0: none.
    #[arg(long, value_name = "N", default_value_t = 0.0)]
    trail_quota: f64,
    /// Serve N accounts with --seed-secrets secrets each: the first for any
    /// credentials, the others by assuming
    /// arn:aws:iam::ACCOUNT:role/secretscope-read through STS at the same
    /// URL. Prints the [[sources]] that read them.
    #[arg(long, value_name = "N", conflicts_with = "demo_org")]
    accounts: Option<usize>,
    /// Serve the organisation `serve --demo` reads (three accounts, four
    /// regions, one role that refuses the dashboard).
    #[arg(long)]
    demo_org: bool,
}

fn validate_rate(name: &str, r: f64) -> anyhow::Result<f64> {
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        anyhow::bail!("{name} must be between 0 and 1, got {r}")
    }
}

/// Runs the endpoint until Ctrl-C, after printing where it is and how to
/// read it.
pub async fn run(args: LocalArgs) -> anyhow::Result<ExitCode> {
    let opts = LocalOptions {
        seed_secrets: args.seed_secrets,
        seed: args.seed,
        faults: Faults {
            throttle_rate: validate_rate("--throttle-rate", args.throttle_rate)?,
            error_rate: validate_rate("--error-rate", args.error_rate)?,
            latency_ms: args.latency_ms,
        },
        lookup_events_per_second: args.trail_quota,
        ..LocalOptions::default()
    };
    let org = match (args.accounts, args.demo_org) {
        (Some(n), _) if n > 1 => Some(org::OrgOptions::uniform(opts.clone(), n)),
        (_, true) => Some(org::OrgOptions::demo(opts.clone())),
        _ => None,
    };
    let started = match &org {
        Some(o) => local::spawn_org(o.clone(), args.bind).await,
        None => local::spawn(opts, args.bind).await,
    };
    let running = started
        .map_err(|e| anyhow::anyhow!("cannot start the demo endpoint on {}: {e}", args.bind))?;
    match (&org, &running.org) {
        (Some(o), Some(served)) => {
            println!(
                "demo organisation with {} secrets in {} accounts × regions at {}",
                served.secret_count(),
                o.tenants.len(),
                running.url()
            );
            #[derive(serde::Serialize)]
            struct Sources {
                sources: Vec<SourceSettings>,
            }
            let toml = toml::to_string(&Sources {
                sources: o.sources().into_iter().map(Into::into).collect(),
            })
            .unwrap_or_default();
            println!("read it with these sources (secretscope.toml):\n\n{toml}");
        }
        _ => println!(
            "demo Secrets Manager endpoint with {} secrets at {}",
            running.endpoint.secret_count(),
            running.url()
        ),
    }
    println!(
        "try: AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --endpoint-url {} --region us-east-1 secretsmanager list-secrets",
        running.url()
    );
    shutdown_signal().await;
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// The seeded demo organisation `--demo` reads, running until dropped.
pub struct Demo {
    running: RunningEndpoint,
}

impl Demo {
    /// Starts the seeded demo organisation (several accounts and regions,
    /// one of them refusing its role) on a free loopback port and points
    /// `config` at it, with the sources that read it unless `config` names
    /// its own.
    pub async fn start(config: &mut Config) -> anyhow::Result<Demo> {
        let opts = org::OrgOptions::demo(LocalOptions {
            seed_secrets: config.demo.seed_secrets,
            seed: config.demo.seed,
            ..LocalOptions::default()
        });
        if config.sources.is_empty() {
            config.sources = opts.demo_sources().into_iter().map(Into::into).collect();
        }
        let running = local::spawn_org(opts, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the demo endpoint: {e}"))?;
        config.aws.endpoint_url = Some(running.url());
        Ok(Demo { running })
    }

    pub fn url(&self) -> String {
        self.running.url()
    }

    /// Secrets in every account and region of the organisation.
    pub fn secret_count(&self) -> usize {
        self.running.org.as_ref().map_or(0, |o| o.secret_count())
    }

    /// Drops the sources of the legacy account, whose role refuses the
    /// dashboard on purpose (a failing source in `serve`, an incomplete
    /// `check`).
    pub fn without_refusing_account(config: &mut Config) {
        let refusing = org::role_arn(org::LEGACY_ACCOUNT);
        config
            .sources
            .retain(|s| s.role_arn.as_deref() != Some(&*refusing));
    }
}
