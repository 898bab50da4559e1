//! `secretscope check`: the arguments, the demo it can check, and the exit
//! code; the check itself is `server::check`.

use super::local_endpoint::Demo;
use super::services::Services;
use super::AwsArgs;
use clap::Args;
use secretscope::domain::health::RuleId;
use secretscope::server::check::{self, FailOn, Format};
use secretscope::server::clock;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
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
    /// Skip diagnosing failed rotations (the rotation Lambda, its network, KMS key and role;
    /// read-only Lambda, EC2, KMS and IAM calls within [diagnosis] calls_per_second).
    #[arg(long)]
    no_diagnose: bool,
}

/// `check` exits 2 for every error of its own (1 means findings).
pub async fn run(config_file: Option<&Path>, args: CheckArgs) -> ExitCode {
    let could_not_run = |e: anyhow::Error| {
        eprintln!("error: secretscope check could not run: {e}");
        ExitCode::from(check::EXIT_ERROR)
    };
    let mut services = match Services::load(config_file) {
        Ok(s) => s.with_aws(args.aws),
        Err(e) => return could_not_run(e),
    };
    let _demo = if args.demo {
        let config = services.config_mut();
        match Demo::start(config).await {
            Ok(d) => {
                // The gate over the demo shows the rules at work; the legacy
                // account, whose role refuses the dashboard on purpose, would
                // make every check incomplete (a refused source fails a check).
                Demo::without_refusing_account(config);
                Some(d)
            }
            Err(e) => return could_not_run(e),
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
        diagnose: !args.no_diagnose,
    };
    let code = check::run(
        services.config(),
        &opts,
        clock::now(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
    .await;
    ExitCode::from(code)
}
