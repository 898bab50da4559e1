//! `secretscope config`: the effective configuration, secrets redacted.

use super::services::Services;
use std::path::Path;
use std::process::ExitCode;

/// Prints the configuration as defaults < file < environment make it.
pub fn print(config_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let services = Services::load(config_file)?;
    print!("{}", services.config().to_redacted_toml());
    Ok(ExitCode::SUCCESS)
}
