//! The `secretscope` command line: serve, sync, check, config, local-endpoint,
//! user, audit, and the four actions on a secret (rotate, cancel-rotation,
//! rollback, restore).

use clap::{Args, Parser, Subcommand};
use secretscope::domain::access::{Grant, Role, Scope};
use secretscope::domain::actions::{is_production, ActionKind, Request, Seen};
use secretscope::domain::health::RuleId;
use secretscope::server::auth::{users, Auth, RequestInfo};
use secretscope::server::aws::sync::{self, Syncer};
use secretscope::server::aws::Sources;
use secretscope::server::check::{self, FailOn, Format};
use secretscope::server::config::Config;
use secretscope::server::error::ErrorKind;
use secretscope::server::inventory::Inventory;
use secretscope::server::store::Store;
use secretscope::server::{http, AppState, Background};
use secretsmanager_emulator::{self as local, Faults, LocalOptions, RunningEndpoint};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "secretscope",
    version,
    about = "A web dashboard over AWS Secrets Manager: inventory, rotation health and actions. It never reads a secret value.",
    long_about = None,
)]
struct Cli {
    /// Configuration file (default: ./secretscope.toml if it exists). Environment
    /// variables SECRETSCOPE_* override it; flags override both.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log filter, e.g. `info`, `secretscope=debug`.
    #[arg(long, global = true, env = "SECRETSCOPE_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the dashboard.
    Serve(ServeArgs),
    /// Run one sync and print a summary; exits non-zero if it fails.
    Sync(SyncArgs),
    /// Run one sync and the health rules; print the findings (text, JSON or
    /// SARIF) and exit 1 if one is at or above --fail-on, to gate a pipeline.
    #[command(after_help = check::EXIT_CODES_HELP)]
    Check(CheckArgs),
    /// Print the effective configuration (defaults < file < environment).
    Config,
    /// Run the demo Secrets Manager endpoint alone (for boto3, the aws CLI, tests).
    LocalEndpoint(LocalArgs),
    /// Manage dashboard users and their grants (in the configured store).
    #[command(subcommand)]
    User(UserCommand),
    /// Read the audit trail (in the configured store).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Rotate a secret now: Secrets Manager puts AWSPENDING on a new version
    /// and runs the secret's rotation Lambda.
    ///
    /// Refused (as Secrets Manager refuses RotateSecret) while a version other
    /// than AWSCURRENT's holds AWSPENDING: a rotation running, failed or
    /// cancelled; use retry-rotation then. Refused too when the secret has no
    /// rotation Lambda. The command returns once the rotation has started,
    /// or with --wait once it is promoted, failed or given up on (5 minutes).
    #[command(after_help = ACTION_HELP)]
    Rotate(RotateArgs),
    /// Retry a failed or stuck rotation: remove AWSPENDING from the version
    /// the last attempt left it on (UpdateSecretVersionStage), then rotate
    /// again (RotateSecret).
    ///
    /// The version left without a label is deprecated; Secrets Manager
    /// deletes it later. Both calls are recorded in the audit trail.
    #[command(after_help = ACTION_HELP)]
    RetryRotation(RotateArgs),
    /// Cancel a secret's rotation in progress; this also turns its automatic
    /// rotation off.
    ///
    /// AWSPENDING stays on the half-rotated version, and Secrets Manager
    /// starts no rotation while it is there: clear-pending removes it, then
    /// enable-rotation turns the schedule back on.
    #[command(after_help = ACTION_HELP)]
    CancelRotation(ActionArgs),
    /// Remove AWSPENDING from the version a failed or cancelled rotation left
    /// it on (UpdateSecretVersionStage with RemoveFromVersionId), so a
    /// rotation can start again. Nothing else changes.
    #[command(after_help = ACTION_HELP)]
    ClearPending(ActionArgs),
    /// Turn automatic rotation back on with the Lambda and schedule the
    /// secret kept (RotateSecret); with --now it also rotates at once,
    /// otherwise Secrets Manager only tests the configuration (testSecret)
    /// and rotates in the next scheduled window.
    #[command(after_help = ACTION_HELP)]
    EnableRotation(EnableArgs),
    /// Move AWSCURRENT back to the version holding AWSPREVIOUS (or to
    /// --to-version); the version it leaves gets AWSPREVIOUS.
    ///
    /// Applications that read AWSCURRENT get the earlier value from their next
    /// read (cached values last until their cache expires).
    #[command(after_help = ACTION_HELP)]
    Rollback(RollbackArgs),
    /// Restore a secret scheduled for deletion: the deletion is cancelled and
    /// the secret keeps its value and labels.
    ///
    /// Applications can read the secret again at once.
    #[command(after_help = ACTION_HELP)]
    Restore(ActionArgs),
}

/// The end of the help of the actions.
const ACTION_HELP: &str = "\
The secret is found with one DescribeSecret (the account is not listed),
then read fresh (DescribeSecret, ListSecretVersionIds) and checked
against the action just before the call. The request and its outcome are
recorded in the audit trail of the configured store as local:$USER (see
`secretscope audit export --actor local:$USER`). A secret matching
actions.production (default prod/*, production/*, prd/*) is changed only
with --confirm and its exact name.

Exit codes:
  0  done; stdout says what changed
  1  not done: Secrets Manager could not be reached, or denied or failed the
     call; the secret does not exist, or changed while the command
     ran; the per-minute action limit was reached; the store cannot be opened
  2  not done, bad input: --confirm missing or not the secret's name, an
     unknown --to-version, an action the secret's state does not allow
     (nothing to restore, no rotation configured, a rotation in progress),
     a request Secrets Manager rejected as invalid, or wrong arguments

Examples:
  secretscope restore dev/payments/api-key
  secretscope rollback prod/payments/db --confirm prod/payments/db
  secretscope rollback staging/db --to-version VERSION_ID --region eu-west-1
  secretscope cancel-rotation prod/orders/db --confirm prod/orders/db
  secretscope retry-rotation staging/orders/db --wait
  secretscope clear-pending dev/orders/db
  secretscope enable-rotation dev/orders/db --now";

#[derive(Args)]
struct ActionArgs {
    /// The secret's name or ARN.
    #[arg(value_name = "NAME")]
    name: String,
    /// The secret's name, typed again: required for production secrets
    /// (actions.production); when given for any other secret it must match too.
    #[arg(long, value_name = "NAME")]
    confirm: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Args)]
struct RotateArgs {
    #[command(flatten)]
    action: ActionArgs,
    /// Follow the rotation, printing each state, until the new version is
    /// AWSCURRENT (exit 0), the rotation failed or is still pending after 5
    /// minutes (exit 1).
    #[arg(long)]
    wait: bool,
}

#[derive(Args)]
struct EnableArgs {
    #[command(flatten)]
    action: ActionArgs,
    /// Rotate at once (RotateImmediately=true) rather than in the next window.
    #[arg(long)]
    now: bool,
}

#[derive(Args)]
struct RollbackArgs {
    #[command(flatten)]
    action: ActionArgs,
    /// Move AWSCURRENT to this version id instead of the one holding AWSPREVIOUS.
    #[arg(long, value_name = "ID")]
    to_version: Option<String>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write the audit records matching the filters as CSV, oldest first,
    /// to standard output (or --output). The export is itself audited.
    Export {
        #[command(flatten)]
        filter: AuditFilterArgs,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Args)]
struct AuditFilterArgs {
    /// Only this actor (exact user name; `local:NAME` for the console).
    #[arg(long, default_value = "")]
    actor: String,
    /// Only this action: login, login.failed, denied, user.create, grant.add, secret.rotate, …
    #[arg(long, default_value = "")]
    action: String,
    /// Only targets containing this text (any case).
    #[arg(long, default_value = "")]
    target: String,
    /// allowed, denied or failed.
    #[arg(long, default_value = "")]
    outcome: String,
    /// From this time (UTC): 2026-11-23, 2026-11-23T07:30 or RFC 3339.
    #[arg(long, default_value = "")]
    from: String,
    /// Up to and including this day or minute (UTC).
    #[arg(long, default_value = "")]
    to: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user with one grant. The password is read from standard
    /// input (one line; at least 12 characters).
    Add {
        name: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// `*` (everything, the default), a name prefix such as
        /// `prod/payments/`, or `tag:KEY=VALUE`.
        #[arg(long, default_value = "*")]
        scope: String,
    },
    /// List users, their state and grants.
    List,
    /// Disable a user: their sessions stop working at once.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Set a user's password, read from standard input (one line).
    Passwd { name: String },
    /// Add a grant to a user.
    Grant {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "*")]
        scope: String,
    },
    /// Remove a grant from a user.
    Revoke {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "*")]
        scope: String,
    },
}

#[derive(Args, Clone, Default)]
struct AwsArgs {
    /// Secrets Manager endpoint to call instead of AWS's (moto, the demo endpoint, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// AWS region (default: from the AWS environment or profile; us-east-1 for a loopback endpoint).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// AWS profile from ~/.aws/config to take credentials and region from.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Start the built-in demo endpoint on a free loopback port and read it instead of AWS.
    #[arg(long, conflicts_with = "endpoint_url")]
    demo: bool,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    bind: Option<SocketAddr>,
    #[command(flatten)]
    aws: AwsArgs,
    /// With --demo: how many secrets the demo endpoint is seeded with.
    #[arg(long, value_name = "N", requires = "demo")]
    seed_secrets: Option<usize>,
    /// Directory with the built site (wasm, js, css, public files).
    #[arg(long, value_name = "DIR")]
    site_root: Option<PathBuf>,
}

#[derive(Args)]
struct SyncArgs {
    #[command(flatten)]
    aws: AwsArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Also fetch version dates (ListSecretVersionIds) within the rate budget and wait for them.
    #[arg(long)]
    versions: bool,
}

#[derive(Args)]
struct CheckArgs {
    /// Check a freshly seeded built-in demo endpoint instead of AWS.
    #[arg(long, conflicts_with = "endpoint_url")]
    demo: bool,
    #[command(flatten)]
    aws: AwsArgs,
    /// Output on stdout: text for people, json (documented shape), sarif (2.1.0, for code scanning).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 1 if an active (not suppressed) finding is at or above this severity:
    /// critical, high, medium, low, info, or none (never).
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    fail_on: FailOn,
    /// Run only this rule (repeatable); overrides health.disabled. Default: every enabled rule.
    #[arg(long = "rule", value_name = "ID", value_parser = check::parse_rule)]
    rules: Vec<RuleId>,
    /// Also list suppressed findings in the text output (JSON and SARIF always carry them, marked).
    #[arg(long)]
    include_suppressed: bool,
    /// Skip ListSecretVersionIds for secrets with a pending rotation (rotation-failed then
    /// dates a stuck rotation by the secret's last change).
    #[arg(long)]
    no_versions: bool,
    /// Evaluate replica-failed: one DescribeSecret per secret, within sync.version_rate_per_sec.
    #[arg(long)]
    replicas: bool,
}

#[derive(Args)]
struct LocalArgs {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(cli.config, args).await,
            Command::Sync(args) => run_sync(cli.config, args).await,
            Command::Check(args) => Ok(run_check(cli.config, args).await),
            Command::Config => {
                let config = Config::load(cli.config.as_deref())?;
                print!("{}", config.to_redacted_toml());
                Ok(ExitCode::SUCCESS)
            }
            Command::LocalEndpoint(args) => local_endpoint(args).await,
            Command::User(cmd) => user_command(cli.config, cmd).await,
            Command::Audit(cmd) => audit_command(cli.config, cmd).await,
            Command::Rotate(args) => {
                let extra = Extra {
                    wait: args.wait,
                    ..Extra::default()
                };
                action_command(cli.config, ActionKind::Rotate, args.action, extra).await
            }
            Command::RetryRotation(args) => {
                let extra = Extra {
                    wait: args.wait,
                    ..Extra::default()
                };
                action_command(cli.config, ActionKind::RetryRotation, args.action, extra).await
            }
            Command::CancelRotation(args) => {
                action_command(
                    cli.config,
                    ActionKind::CancelRotation,
                    args,
                    Extra::default(),
                )
                .await
            }
            Command::ClearPending(args) => {
                action_command(cli.config, ActionKind::ClearPending, args, Extra::default()).await
            }
            Command::EnableRotation(args) => {
                let extra = Extra {
                    immediately: args.now,
                    ..Extra::default()
                };
                action_command(cli.config, ActionKind::EnableRotation, args.action, extra).await
            }
            Command::Rollback(args) => {
                let extra = Extra {
                    to_version: args.to_version,
                    ..Extra::default()
                };
                action_command(cli.config, ActionKind::Rollback, args.action, extra).await
            }
            Command::Restore(args) => {
                action_command(cli.config, ActionKind::Restore, args, Extra::default()).await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn apply_aws(config: &mut Config, aws: AwsArgs) {
    if aws.endpoint_url.is_some() {
        config.aws.endpoint_url = aws.endpoint_url;
    }
    if aws.region.is_some() {
        config.aws.region = aws.region;
    }
    if aws.profile.is_some() {
        config.aws.profile = aws.profile;
    }
}

fn validate_rate(name: &str, r: f64) -> anyhow::Result<f64> {
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        anyhow::bail!("{name} must be between 0 and 1, got {r}")
    }
}

async fn local_endpoint(args: LocalArgs) -> anyhow::Result<ExitCode> {
    let opts = LocalOptions {
        seed_secrets: args.seed_secrets,
        seed: args.seed,
        faults: Faults {
            throttle_rate: validate_rate("--throttle-rate", args.throttle_rate)?,
            error_rate: validate_rate("--error-rate", args.error_rate)?,
            latency_ms: args.latency_ms,
        },
        ..LocalOptions::default()
    };
    let org = match (args.accounts, args.demo_org) {
        (Some(n), _) if n > 1 => Some(local::org::OrgOptions::uniform(opts.clone(), n)),
        (_, true) => Some(local::org::OrgOptions::demo(opts.clone())),
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
                sources: Vec<secretscope::server::config::SourceSettings>,
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

async fn run_sync(config_file: Option<PathBuf>, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(config_file.as_deref())?;
    apply_aws(&mut config, args.aws);
    let syncers = Syncer::standalone(&config)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.user))?;
    let started = std::time::Instant::now();
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
        Err(all) => {
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
                        .map(move |e| {
                            json!(format!("{source}: {}", e.as_str().unwrap_or_default()))
                        })
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

/// One source's list pass (and version pass), as the JSON `sync` prints.
async fn sync_source(
    syncer: &Arc<Syncer>,
    versions: bool,
    started: std::time::Instant,
) -> serde_json::Value {
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

/// Starts the seeded demo organisation (several accounts and regions, one
/// of them refusing its role) on a free loopback port and points `config`
/// at it, with the sources that read it unless `config` names its own; it
/// runs until the returned handle is dropped.
async fn start_demo(config: &mut Config) -> anyhow::Result<RunningEndpoint> {
    let opts = local::org::OrgOptions::demo(LocalOptions {
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
    Ok(running)
}

/// `check` exits 2 for every error of its own (1 means findings).
async fn run_check(config_file: Option<PathBuf>, args: CheckArgs) -> ExitCode {
    let mut config = match Config::load(config_file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: secretscope check could not run: {e}");
            return ExitCode::from(check::EXIT_ERROR);
        }
    };
    apply_aws(&mut config, args.aws);
    let _demo = if args.demo {
        match start_demo(&mut config).await {
            Ok(d) => {
                // The gate over the demo shows the rules at work; the legacy
                // account, whose role refuses the dashboard on purpose, would
                // make every check incomplete (a refused source fails a check).
                config.sources.retain(|s| {
                    s.role_arn.as_deref()
                        != Some(&*local::org::role_arn(local::org::LEGACY_ACCOUNT))
                });
                Some(d)
            }
            Err(e) => {
                eprintln!("error: secretscope check could not run: {e}");
                return ExitCode::from(check::EXIT_ERROR);
            }
        }
    } else {
        None
    };
    let opts = check::Options {
        format: args.format,
        fail_on: args.fail_on,
        rules: args.rules,
        include_suppressed: args.include_suppressed,
        versions: !args.no_versions,
        replicas: args.replicas,
    };
    let code = check::run(
        &config,
        &opts,
        sync::now(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
    .await;
    ExitCode::from(code)
}

async fn serve(config_file: Option<PathBuf>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(config_file.as_deref())?;
    apply_aws(&mut config, args.aws);
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if let Some(root) = args.site_root {
        config.site_root = root;
    }
    if let Some(n) = args.seed_secrets {
        config.demo.seed_secrets = n;
    }

    // The demo endpoint lives as long as the server.
    let mut _demo = None;
    let source_label;
    if args.demo {
        let running = start_demo(&mut config).await?;
        // The demo endpoint serves CloudTrail's LookupEvents for its
        // simulated rotations, at the same URL.
        config.cloudtrail.enabled = true;
        // Approvals grant on the demo endpoint's policies; the seed's owners
        // (people at example.com, `@team` handles) decide as demo users.
        config.requests.grants = true;
        if config.requests.owners.is_empty() {
            config.requests.owners = [
                ("*@example.com", "operator"),
                ("@payments-team", "payments"),
            ]
            .into_iter()
            .map(|(owner, user)| (owner.to_string(), vec![user.to_string()]))
            .collect();
        }
        source_label = format!(
            "demo organisation at {} (seeded, {} secrets in 3 accounts; the legacy account's role refuses the dashboard, \
             to show a failing source)",
            running.url(),
            running.org.as_ref().map_or(0, |o| o.secret_count())
        );
        _demo = Some(running);
    } else {
        source_label = config
            .aws
            .endpoint_url
            .clone()
            .unwrap_or_else(|| "AWS Secrets Manager".to_string());
    }

    let pkg = config.site_root.join("pkg").join("secretscope.wasm");
    if !pkg.exists() {
        tracing::warn!(
            "{} is missing: pages will render without interactivity. Build the site with `cargo leptos build` \
             or run from the repository root.",
            pkg.display()
        );
    }

    config
        .auth
        .check()
        .map_err(|e| anyhow::anyhow!("single sign-on is not configured right: {e}"))?;
    if !config.auth.password_login && !config.auth.oidc.enabled() {
        anyhow::bail!(
            "auth.password_login is false and auth.oidc.issuer_url is not set: nobody could sign in"
        );
    }
    let sources = Sources::from_config(&config)
        .await
        .map_err(|e| anyhow::anyhow!("the configuration's sources are not valid: {e}"))?;
    let inventory = Arc::new(Inventory::new());

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr()?;
    let leptos_options = leptos::prelude::LeptosOptions::builder()
        .output_name("secretscope")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    // The demo keeps its users and sessions in a throwaway SQLite file in
    // the temporary directory (removed at exit): nothing is written next to
    // the checkout, and every start has the same logins. (Not `:memory:`:
    // that database dies with its one connection.)
    let demo_db = args
        .demo
        .then(|| std::env::temp_dir().join(format!("secretscope-demo-{}.db", std::process::id())));
    let store_url = match &demo_db {
        Some(path) => {
            remove_db(path);
            format!("sqlite://{}", path.display())
        }
        None => config.store.url(),
    };
    let store = Store::open(&store_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store ({}): {e}", redact_url(&store_url)))?;
    let logins: Vec<String> = if args.demo {
        users::ensure_demo_users(&store).await?;
        users::demo_logins()
            .into_iter()
            .map(|(name, password, grant)| format!("{name} / {password}  ({grant})"))
            .collect()
    } else {
        match users::bootstrap_admin(&store).await? {
            Some(password) => vec![format!(
                "admin / {password}  (admin on *; created now because the store had no users: \
                 it is shown only this once, change it with `secretscope user passwd admin`)"
            )],
            None => Vec::new(),
        }
    };
    let auth = Arc::new(Auth::new(store, config.auth.clone()));
    let state = AppState::new(
        leptos_options,
        inventory,
        Arc::new(config),
        source_label.clone(),
        sources,
        auth,
    )
    .with_source_trails();
    // The sync and the health monitor (and through it the alerts).
    let _background = Background::start(&state);
    let app = http::router(state);

    println!("secretscope is running at http://{addr}/");
    println!("  reading: {source_label}");
    if args.demo {
        println!("  demo logins (name / password):");
    }
    for l in &logins {
        println!("    {l}");
    }
    println!("  stop with Ctrl-C");
    http::serve(listener, app, shutdown_signal()).await?;
    if let Some(path) = &demo_db {
        remove_db(path);
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes a SQLite database file and its WAL companions, if present.
fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn read_password() -> anyhow::Result<String> {
    use std::io::BufRead as _;
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("password (input is shown; pipe it in to hide it): ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn grant_of(role: &str, scope: &str) -> anyhow::Result<Grant> {
    Ok(Grant::new(Role::parse(role)?, Scope::parse(scope)?))
}

async fn audit_command(
    config_file: Option<PathBuf>,
    cmd: AuditCommand,
) -> anyhow::Result<ExitCode> {
    use futures_util::StreamExt;
    use secretscope::domain::audit::{AuditAction, AuditQuery, Outcome};
    use secretscope::server::audit::{csv_stream, export_detail, Reader};
    use std::io::Write;
    let AuditCommand::Export { filter, output } = cmd;
    let q = AuditQuery {
        actor: filter.actor,
        action: filter.action,
        target: filter.target,
        outcome: filter.outcome,
        from: filter.from,
        to: filter.to,
    };
    let parsed = match q.filter() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let config = Config::load(config_file.as_deref())?;
    let store = Store::open(&config.store.url()).await?;
    // The export is recorded before anything is written; no record, no export.
    let req = RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    };
    secretscope::server::auth::write_audit(
        &store,
        &req,
        users::local_admin().actor(),
        AuditAction::AuditExport,
        "",
        Outcome::Allowed,
        export_detail(&q),
    )
    .await?;
    let mut out: Box<dyn Write> = match &output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut chunks = std::pin::pin!(csv_stream(store.clone(), Reader::Everything, parsed));
    let mut records = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        out.write_all(chunk.text.as_bytes())?;
        records += chunk.records;
    }
    out.flush()?;
    store.close().await;
    eprintln!(
        "exported {records} audit records{}",
        output.map_or(String::new(), |p| format!(" to {}", p.display()))
    );
    Ok(ExitCode::SUCCESS)
}

async fn user_command(config_file: Option<PathBuf>, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_file.as_deref())?;
    let store = Store::open(&config.store.url()).await?;
    let can = users::local_admin();
    let req = RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    };
    let done = match cmd {
        UserCommand::Add { name, role, scope } => {
            let grant = grant_of(&role, &scope)?;
            let password = read_password()?;
            users::add(&store, &can, &req, name.trim(), password, grant.clone()).await?;
            format!("created {} with {grant}", name.trim())
        }
        UserCommand::List => {
            let all = store.list_users().await?;
            if all.is_empty() {
                println!("no users yet: `serve` creates an admin on first start");
            }
            for u in all {
                let grants: Vec<String> = store
                    .grants_of(u.id)
                    .await?
                    .into_iter()
                    .map(|g| g.grant.to_string())
                    .collect();
                println!(
                    "{}\t{}\t{}",
                    u.name,
                    if u.disabled { "disabled" } else { "active" },
                    if grants.is_empty() {
                        "no grants".to_string()
                    } else {
                        grants.join(", ")
                    }
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        UserCommand::Disable { name } => {
            users::set_disabled(&store, &can, &req, &name, true).await?;
            format!("disabled {name}")
        }
        UserCommand::Enable { name } => {
            users::set_disabled(&store, &can, &req, &name, false).await?;
            format!("enabled {name}")
        }
        UserCommand::Passwd { name } => {
            let password = read_password()?;
            users::set_password(&store, &can, &req, &name, password).await?;
            format!("password of {name} changed")
        }
        UserCommand::Grant { name, role, scope } => {
            let grant = grant_of(&role, &scope)?;
            users::grant(&store, &can, &req, &name, grant.clone()).await?;
            format!("granted {grant} to {name}")
        }
        UserCommand::Revoke { name, role, scope } => {
            let grant = grant_of(&role, &scope)?;
            if users::revoke(&store, &can, &req, &name, &grant).await? {
                format!("revoked {grant} from {name}")
            } else {
                format!("{name} does not hold {grant}: nothing changed")
            }
        }
    };
    println!("{done}");
    Ok(ExitCode::SUCCESS)
}

/// `secretscope rotate|cancel-rotation|rollback|restore NAME`: one
/// DescribeSecret to find the secret, then the action through the same
/// service the dashboard's buttons use, as the console's local administrator.
/// An action command's arguments beyond the secret and --confirm.
#[derive(Default)]
struct Extra {
    to_version: Option<String>,
    immediately: bool,
    /// Follow the rotation it starts until it ends.
    wait: bool,
}

async fn action_command(
    config_file: Option<PathBuf>,
    kind: ActionKind,
    args: ActionArgs,
    extra: Extra,
) -> anyhow::Result<ExitCode> {
    let Extra {
        to_version,
        immediately,
        wait,
    } = extra;
    let mut config = Config::load(config_file.as_deref())?;
    apply_aws(&mut config, args.aws);
    // The store first: an action whose audit record cannot be written must
    // not happen, and opening it is cheaper than listing the account.
    let store_url = config.store.url();
    let store = Store::open(&store_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store ({}): {e}", redact_url(&store_url)))?;
    // One DescribeSecret finds it (by name or ARN): no need to list the account.
    let id = args.name.trim();
    // A name is looked for through the first source; an ARN through the
    // source that reads its account and region.
    let sources = Sources::from_config(&config)
        .await
        .map_err(|e| anyhow::anyhow!("the configuration's sources are not valid: {e}"))?;
    let source = match id.starts_with("arn:") {
        true => sources.for_arn(id).unwrap_or(sources.primary()),
        false => sources.primary(),
    }
    .clone();
    let secret = match secretscope::server::detail::describe(&source, id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::info!(detail = %e.detail, "DescribeSecret before {kind} failed");
            let why = if e.kind == ErrorKind::NotFound {
                format!(
                    "No secret named {id} exists in Secrets Manager at {}.",
                    source.endpoint
                )
            } else {
                e.user
            };
            eprintln!("error: {why}");
            store.close().await;
            return Ok(ExitCode::FAILURE);
        }
    };
    // The name to check --confirm against (the id may be an ARN).
    let name = secret.name.to_string();
    let production = is_production(&name, &config.actions.production);
    let typed_name = match args.confirm.as_deref().map(str::trim) {
        Some(typed) if typed != name => {
            eprintln!(
                "error: --confirm {typed} is not the secret's name {name}. Nothing was done."
            );
            store.close().await;
            return Ok(ExitCode::from(2));
        }
        Some(typed) => typed.to_string(),
        None if production => {
            let to = match kind {
                ActionKind::Rotate => "rotate it",
                ActionKind::RetryRotation => "retry its rotation",
                ActionKind::CancelRotation => "cancel its rotation",
                ActionKind::ClearPending => "clear its pending version",
                ActionKind::EnableRotation => "turn its rotation back on",
                ActionKind::Rollback => "roll it back",
                ActionKind::Restore => "restore it",
            };
            eprintln!(
                "error: {name} is a production secret: pass --confirm {name} to {to}. Nothing was done."
            );
            store.close().await;
            return Ok(ExitCode::from(2));
        }
        None => name.clone(),
    };

    let leptos_options = leptos::prelude::LeptosOptions::builder()
        .output_name("secretscope")
        .build();
    let source_label = source.endpoint.clone();
    let auth = Arc::new(Auth::new(store.clone(), config.auth.clone()));
    let state = AppState::new(
        leptos_options,
        Arc::new(Inventory::new()),
        Arc::new(config),
        source_label,
        sources,
        auth,
    );
    // Following a rotation asks CloudTrail whether it failed, when enabled.
    let state = if wait {
        state.with_source_trails()
    } else {
        state
    };
    let req = Request {
        kind,
        to_version,
        seen: Seen::default(),
        typed_name,
        token: String::new(),
        immediately,
    };
    let result = secretscope::server::actions::run_local(&state, &secret, req).await;
    let code = match result {
        Ok(done) => {
            println!("{}", done.message);
            if wait && kind.starts_rotation() {
                follow_rotation(&state, &done.secret).await
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            tracing::info!(kind = ?e.kind, detail = %e.detail, "{kind} of {id} failed");
            eprintln!("error: {}", e.user);
            if e.user.contains("Use Retry rotation") {
                eprintln!("hint: secretscope retry-rotation {name} (add --wait to follow it)");
            }
            if e.kind == ErrorKind::InvalidInput {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    };
    store.close().await;
    Ok(code)
}

/// `rotate --wait`: prints each state the server-side follower records
/// until it ends; 0 when the new version was promoted.
async fn follow_rotation(state: &AppState, name: &str) -> ExitCode {
    use secretscope::domain::actions::RotationStage;
    let mut printed = 1; // the start, already said
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let Some(p) = state.actions.rotation(name) else {
            return ExitCode::FAILURE;
        };
        for (at, text) in p.steps.iter().skip(printed) {
            println!("{} {text}", at.display());
        }
        printed = p.steps.len();
        if p.finished() {
            return if p.stage == RotationStage::Promoted {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    }
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://[redacted]@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
