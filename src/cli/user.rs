//! `secretscope user …`: dashboard users and their grants, in the
//! configured store, changed as the console's local administrator (and
//! audited as `local:$USER`).

use super::services::Services;
use clap::Subcommand;
use secretscope::domain::access::{Grant, Role, Scope};
use secretscope::server::auth::{users, RequestInfo};
use secretscope::server::store::Store;
use std::path::Path;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCommand {
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

/// The console's request facts in the audit trail.
pub fn local_request() -> RequestInfo {
    RequestInfo {
        client: "local".into(),
        request_id: "-".into(),
    }
}

pub async fn run(config_file: Option<&Path>, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let services = Services::load(config_file)?;
    let store = services.store().await?;
    let can = users::local_admin();
    let req = local_request();
    let done = match cmd {
        UserCommand::Add { name, role, scope } => {
            let grant = grant_of(&role, &scope)?;
            let password = read_password()?;
            users::add(&store, &can, &req, name.trim(), password, grant.clone()).await?;
            format!("created {} with {grant}", name.trim())
        }
        UserCommand::List => {
            list(&store).await?;
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

/// One line per user: name, state, grants (tab-separated).
async fn list(store: &Store) -> anyhow::Result<()> {
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
    Ok(())
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
