//! The commands, one file per group. `main.rs` parses the command line and
//! calls the `run` of a group; every group builds what it needs through
//! [`services::Services`].

pub mod actions;
pub mod audit;
pub mod check;
pub mod config;
pub mod local_endpoint;
pub mod serve;
pub mod services;
pub mod sync;
pub mod user;

use clap::Args;

/// Where the commands that read Secrets Manager read it: flags over the
/// configuration's `[aws]`.
#[derive(Args, Clone, Default)]
pub struct AwsArgs {
    /// Secrets Manager endpoint to call instead of AWS's (moto, the demo endpoint, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: from the AWS environment or profile; us-east-1 for a loopback endpoint).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config to take credentials and region from.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Ctrl-C or SIGTERM: what stops `serve` and `local-endpoint`.
pub async fn shutdown_signal() {
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
