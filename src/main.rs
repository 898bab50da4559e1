//! The `secretscope` command line: serve, sync, check, config, local-endpoint,
//! user, audit, and the actions on a secret (rotate, retry-rotation,
//! cancel-rotation, clear-pending, enable-rotation, rollback, restore).
//!
//! This file only parses the command line; each command group lives in
//! `cli/`, and what they all build from the configuration in
//! `cli/services.rs`.

mod cli;

use clap::{Parser, Subcommand};
use cli::actions::{ActionArgs, EnableArgs, RollbackArgs, RotateArgs, ACTION_HELP};
use cli::audit::AuditCommand;
use cli::check::CheckArgs;
use cli::local_endpoint::LocalArgs;
use cli::serve::ServeArgs;
use cli::sync::SyncArgs;
use cli::user::UserCommand;
use secretscope::domain::actions::ActionKind;
use secretscope::server::check::EXIT_CODES_HELP;
use std::path::PathBuf;
use std::process::ExitCode;

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
    #[command(after_help = EXIT_CODES_HELP)]
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    secretscope::server::inventory::memory::tune_allocator();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.config, cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One command, with the configuration file it was given (if any).
async fn run(config: Option<PathBuf>, command: Command) -> anyhow::Result<ExitCode> {
    let config = config.as_deref();
    match command {
        Command::Serve(args) => cli::serve::run(config, args).await,
        Command::Sync(args) => cli::sync::run(config, args).await,
        Command::Check(args) => Ok(cli::check::run(config, args).await),
        Command::Config => cli::config::print(config),
        Command::LocalEndpoint(args) => cli::local_endpoint::run(args).await,
        Command::User(cmd) => cli::user::run(config, cmd).await,
        Command::Audit(cmd) => cli::audit::run(config, cmd).await,
        Command::Rotate(args) => cli::actions::rotate(config, ActionKind::Rotate, args).await,
        Command::RetryRotation(args) => {
            cli::actions::rotate(config, ActionKind::RetryRotation, args).await
        }
        Command::CancelRotation(args) => {
            cli::actions::plain(config, ActionKind::CancelRotation, args).await
        }
        Command::ClearPending(args) => {
            cli::actions::plain(config, ActionKind::ClearPending, args).await
        }
        Command::EnableRotation(args) => cli::actions::enable_rotation(config, args).await,
        Command::Rollback(args) => cli::actions::rollback(config, args).await,
        Command::Restore(args) => cli::actions::plain(config, ActionKind::Restore, args).await,
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
