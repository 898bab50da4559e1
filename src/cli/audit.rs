//! `secretscope audit export`: the audit trail of the configured store as
//! CSV. The export is itself audited, before anything is written.

use super::services::Services;
use super::user::local_request;
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use secretscope::domain::audit::{AuditAction, AuditQuery, Outcome};
use secretscope::server::audit::{csv_stream, export_detail, Reader};
use secretscope::server::auth::{users, write_audit};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
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
pub struct AuditFilterArgs {
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

/// Exits 2, having written nothing, when the filters do not parse.
pub async fn run(config_file: Option<&Path>, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
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
    let services = Services::load(config_file)?;
    let store = services.store().await?;
    // The export is recorded before anything is written; no record, no export.
    write_audit(
        &store,
        &local_request(),
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
