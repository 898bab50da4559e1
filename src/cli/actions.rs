//! `secretscope rotate|retry-rotation|cancel-rotation|clear-pending|
//! enable-rotation|rollback|restore NAME`: one DescribeSecret to find the
//! secret, then the action through the same service the dashboard's buttons
//! use, as the console's local administrator.

use super::services::{Services, Wiring};
use super::AwsArgs;
use clap::Args;
use secretscope::domain::actions::{is_production, ActionKind, Request, RotationStage, Seen};
use secretscope::domain::Secret;
use secretscope::server::actions::run_local;
use secretscope::server::aws::Source;
use secretscope::server::error::ErrorKind;
use secretscope::server::AppState;
use std::path::Path;
use std::process::ExitCode;

/// The end of the help of the actions.
pub const ACTION_HELP: &str = "\
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
pub struct ActionArgs {
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
pub struct RotateArgs {
    #[command(flatten)]
    action: ActionArgs,
    /// Follow the rotation, printing each state, until the new version is
    /// AWSCURRENT (exit 0), the rotation failed or is still pending after 5
    /// minutes (exit 1).
    #[arg(long)]
    wait: bool,
}

#[derive(Args)]
pub struct EnableArgs {
    #[command(flatten)]
    action: ActionArgs,
    /// Rotate at once (RotateImmediately=true) rather than in the next window.
    #[arg(long)]
    now: bool,
}

#[derive(Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    action: ActionArgs,
    /// Move AWSCURRENT to this version id instead of the one holding AWSPREVIOUS.
    #[arg(long, value_name = "ID")]
    to_version: Option<String>,
}

/// An action command's arguments beyond the secret and --confirm.
#[derive(Default)]
struct Extra {
    to_version: Option<String>,
    immediately: bool,
    /// Follow the rotation it starts until it ends.
    wait: bool,
}

/// `rotate` and `retry-rotation`, which can `--wait`.
pub async fn rotate(
    config_file: Option<&Path>,
    kind: ActionKind,
    args: RotateArgs,
) -> anyhow::Result<ExitCode> {
    let extra = Extra {
        wait: args.wait,
        ..Extra::default()
    };
    run(config_file, kind, args.action, extra).await
}

/// `enable-rotation`, which can rotate `--now`.
pub async fn enable_rotation(
    config_file: Option<&Path>,
    args: EnableArgs,
) -> anyhow::Result<ExitCode> {
    let extra = Extra {
        immediately: args.now,
        ..Extra::default()
    };
    run(config_file, ActionKind::EnableRotation, args.action, extra).await
}

/// `rollback`, to AWSPREVIOUS or `--to-version`.
pub async fn rollback(config_file: Option<&Path>, args: RollbackArgs) -> anyhow::Result<ExitCode> {
    let extra = Extra {
        to_version: args.to_version,
        ..Extra::default()
    };
    run(config_file, ActionKind::Rollback, args.action, extra).await
}

/// The actions with no argument of their own: `cancel-rotation`,
/// `clear-pending`, `restore`.
pub async fn plain(
    config_file: Option<&Path>,
    kind: ActionKind,
    args: ActionArgs,
) -> anyhow::Result<ExitCode> {
    run(config_file, kind, args, Extra::default()).await
}

async fn run(
    config_file: Option<&Path>,
    kind: ActionKind,
    args: ActionArgs,
    extra: Extra,
) -> anyhow::Result<ExitCode> {
    let Extra {
        to_version,
        immediately,
        wait,
    } = extra;
    let services = Services::load(config_file)?.with_aws(args.aws);
    // The store first: an action whose audit record cannot be written must
    // not happen, and opening it is cheaper than listing the account.
    let store = services.open_store(&services.config().store.url()).await?;
    // One DescribeSecret finds it (by name or ARN): no need to list the account.
    let id = args.name.trim();
    // A name is looked for through the first source; an ARN through the
    // source that reads its account and region.
    let sources = services.sources().await?;
    let source = match id.starts_with("arn:") {
        true => sources.for_arn(id).unwrap_or(sources.primary()),
        false => sources.primary(),
    }
    .clone();
    let found = find(&source, kind, id).await.and_then(|secret| {
        let typed_name = confirmed(&services, kind, &secret, args.confirm.as_deref())?;
        Ok((secret, typed_name))
    });
    let (secret, typed_name) = match found {
        Ok(found) => found,
        Err(code) => {
            store.close().await;
            return Ok(code);
        }
    };
    let wiring = Wiring {
        store: store.clone(),
        sources,
        source_label: source.endpoint.clone(),
    };
    let state = services.for_command(wiring);
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
    let code = match run_local(&state, &secret, req).await {
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
                eprintln!(
                    "hint: secretscope retry-rotation {} (add --wait to follow it)",
                    secret.name
                );
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

/// The secret `id` (a name or an ARN) as DescribeSecret reads it through
/// `source`; exit 1, said on stderr, when it cannot be read.
async fn find(source: &Source, kind: ActionKind, id: &str) -> Result<Secret, ExitCode> {
    match secretscope::server::detail::describe(source, id).await {
        Ok(s) => Ok(s),
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
            Err(ExitCode::FAILURE)
        }
    }
}

/// The name the action is confirmed with: `--confirm`'s, which must be the
/// secret's name, and is required for a production secret; exit 2, said on
/// stderr, otherwise.
fn confirmed(
    services: &Services,
    kind: ActionKind,
    secret: &Secret,
    confirm: Option<&str>,
) -> Result<String, ExitCode> {
    // The name to check --confirm against (the id may be an ARN).
    let name = secret.name.to_string();
    let production = is_production(&name, &services.config().actions.production);
    match confirm.map(str::trim) {
        Some(typed) if typed != name => {
            eprintln!(
                "error: --confirm {typed} is not the secret's name {name}. Nothing was done."
            );
            Err(ExitCode::from(2))
        }
        Some(typed) => Ok(typed.to_string()),
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
            Err(ExitCode::from(2))
        }
        None => Ok(name),
    }
}

/// `rotate --wait`: prints each state the server-side follower records
/// until it ends; 0 when the new version was promoted.
async fn follow_rotation(state: &AppState, name: &str) -> ExitCode {
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
