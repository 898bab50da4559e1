//! `secretscope serve`: the dashboard, over AWS or (`--demo`) over the
//! seeded demo organisation it starts itself.

use super::local_endpoint::Demo;
use super::services::{Services, Wiring};
use super::{shutdown_signal, AwsArgs};
use clap::Args;
use secretscope::server::auth::users;
use secretscope::server::config::Config;
use secretscope::server::store::Store;
use secretscope::server::Background;
use secretscope::web as http;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
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

/// Starts the dashboard and serves it until Ctrl-C or SIGTERM.
pub async fn run(config_file: Option<&Path>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut services = Services::load(config_file)?.with_aws(args.aws);
    let config = services.config_mut();
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
    let demo = match args.demo {
        true => Some(start_demo(config).await?),
        false => None,
    };
    let source_label = match &demo {
        Some(d) => format!(
            "demo organisation at {} (seeded, {} secrets in 3 accounts; the legacy account's role refuses the dashboard, \
             to show a failing source)",
            d.url(),
            d.secret_count()
        ),
        None => config
            .aws
            .endpoint_url
            .clone()
            .unwrap_or_else(|| "AWS Secrets Manager".to_string()),
    };
    warn_without_site(config);
    check_sign_in(config)?;
    let sources = services.sources().await?;

    let bind = services.config().bind;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr()?;
    let store = ServeStore::new(args.demo);
    let (store_handle, logins) = store.open(&services).await?;
    let state = services
        .serving(
            addr,
            Wiring {
                store: store_handle,
                sources,
                source_label: source_label.clone(),
            },
        )
        .with_source_trails();
    // The sync and the health monitor on every replica; the once-only work
    // (alerts, sweeps) under the lease.
    let background = Background::start(&state);
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
    // Released, so another replica takes the once-only work over at once.
    background.stop().await;
    store.remove();
    drop(demo);
    Ok(ExitCode::SUCCESS)
}

/// Starts the demo organisation and sets what the demo shows on: CloudTrail
/// (the endpoint serves LookupEvents for its simulated rotations, at the
/// same URL) and access requests granted on its policies, decided by the
/// seed's owners (people at example.com, `@team` handles) as demo users.
async fn start_demo(config: &mut Config) -> anyhow::Result<Demo> {
    let demo = Demo::start(config).await?;
    config.cloudtrail.enabled = true;
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
    Ok(demo)
}

fn warn_without_site(config: &Config) {
    let pkg = config.site_root.join("pkg").join("secretscope.wasm");
    if !pkg.exists() {
        tracing::warn!(
            "{} is missing: pages will render without interactivity. Build the site with `cargo leptos build` \
             or run from the repository root.",
            pkg.display()
        );
    }
}

/// Somebody must be able to sign in, and single sign-on must be complete.
fn check_sign_in(config: &Config) -> anyhow::Result<()> {
    config
        .auth
        .check()
        .map_err(|e| anyhow::anyhow!("single sign-on is not configured right: {e}"))?;
    if !config.auth.password_login && !config.auth.oidc.enabled() {
        anyhow::bail!(
            "auth.password_login is false and auth.oidc.issuer_url is not set: nobody could sign in"
        );
    }
    Ok(())
}

/// The demo keeps its users and sessions in a throwaway SQLite file in the
/// temporary directory (removed at start and exit): nothing is written next
/// to the checkout, and every start has the same logins. (Not `:memory:`:
/// that database dies with its one connection.) Without the demo: the
/// configured store.
struct ServeStore {
    file: Option<PathBuf>,
}

impl ServeStore {
    fn new(demo: bool) -> ServeStore {
        ServeStore {
            file: demo.then(|| {
                std::env::temp_dir().join(format!("secretscope-demo-{}.db", std::process::id()))
            }),
        }
    }

    /// The store, and the logins to print: the demo users, or the admin
    /// created now because the store had none.
    async fn open(&self, services: &Services) -> anyhow::Result<(Store, Vec<String>)> {
        let url = match &self.file {
            Some(path) => {
                self.remove();
                format!("sqlite://{}", path.display())
            }
            None => services.config().store.url(),
        };
        let store = services.open_store(&url).await?;
        let logins = if self.file.is_some() {
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
        Ok((store, logins))
    }

    /// Removes the demo's database file and its WAL companions, if present.
    fn remove(&self) {
        let Some(path) = &self.file else { return };
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}
