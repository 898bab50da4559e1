//! `secretscope check`: one sync, the health rules, a report on stdout and an
//! exit code that can gate a pipeline.
//!
//! What it reads (metadata only, like the dashboard):
//!
//! 1. ListSecrets, every page (deleted secrets included): enough for every
//!    rule but two.
//! 2. ListSecretVersionIds for the secrets with a rotation pending, unless
//!    `--no-versions`: `rotation-failed` (and `rotation-overdue`, which
//!    defers to it) dates a stuck rotation by the pending version's creation;
//!    without it they fall back to the secret's last change, which can hide a
//!    rotation stuck for hours behind a later edit. Only the pending secrets
//!    need it, so it costs a handful of calls, not one per secret.
//! 3. DescribeSecret for every secret, with `--replicas` only: replica
//!    status is in no list call, so `replica-failed` costs one call per
//!    secret. Without `--replicas` the rule is reported as not evaluated.
//!
//! Both extra passes keep to `sync.version_rate_per_sec` and
//! `sync.version_concurrency`. If any call of any pass fails (after the
//! SDK's retries), the check is incomplete and exits 2: a gate must not pass
//! because it could not look.
//!
//! Exit codes: [`EXIT_PASSED`] (0), [`EXIT_FAILED`] (1: an active finding at
//! or above `--fail-on`), [`EXIT_ERROR`] (2: the check could not run).
//! Suppressed findings never fail a run; they are listed, marked, in every
//! format (in text with `--include-suppressed`, otherwise only counted).
//!
//! The module: [`collect`] gathers (the list, version and replica passes),
//! [`Report`] is what was found, and each output format renders it from
//! its own `Serialize` types: [`text`], [`json`], [`sarif`].

mod collect;
mod json;
mod report;
mod sarif;
#[cfg(test)]
mod tests;
mod text;

pub use collect::collect;
pub use json::{json, JsonReport};
pub use report::{Report, Row};
pub use sarif::{artifact_uri, sarif, sarif_level, security_severity, SarifLog};
pub use text::{text, verdict};

use crate::domain::health::{HealthConfig, RuleId, Severity};
use crate::domain::Timestamp;
use crate::server::config::Config;
use std::io::Write;

/// No active finding at or above `--fail-on`.
pub const EXIT_PASSED: u8 = 0;
/// At least one active finding at or above `--fail-on`.
pub const EXIT_FAILED: u8 = 1;
/// The check could not run (or not completely): configuration, credentials,
/// the endpoint, a failed call. Bad arguments also exit 2 (clap's code).
pub const EXIT_ERROR: u8 = 2;

/// `--help` text after the options.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  no active finding at or above --fail-on (suppressed findings never count)
  1  at least one active finding at or above --fail-on
  2  the check could not run or is incomplete (configuration, credentials,
     endpoint unreachable, a failed AWS call), or the arguments are wrong

Examples:
  secretscope check --region eu-west-1 --fail-on critical
  secretscope check --format sarif --fail-on none > secretscope.sarif
  secretscope check --format json --rule rotation-failed --rule rotation-overdue
  secretscope check --demo";

/// The version of the JSON shape; bumped only on an incompatible change.
pub const JSON_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// `--fail-on`: a severity, or `none` (never fail on findings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailOn(pub Option<Severity>);

impl FailOn {
    pub fn as_str(self) -> &'static str {
        self.0.map_or("none", Severity::as_str)
    }
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(FailOn(None));
        }
        Severity::parse(s).map(|v| FailOn(Some(v))).ok_or_else(|| {
            format!("`{s}` is not a severity; use critical, high, medium, low, info or none")
        })
    }
}

/// For clap: a rule id, or a sentence listing the valid ones.
pub fn parse_rule(s: &str) -> Result<RuleId, String> {
    RuleId::parse(s).ok_or_else(|| {
        let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        format!("`{s}` is not a rule id; the rules are: {}", ids.join(", "))
    })
}

#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    pub fail_on: FailOn,
    /// Only these rules (whatever `health.disabled` says); empty: every
    /// rule the configuration enables.
    pub rules: Vec<RuleId>,
    /// List suppressed findings in the text output too.
    pub include_suppressed: bool,
    /// Fetch the version dates of secrets with a rotation pending.
    pub versions: bool,
    /// DescribeSecret every secret for its replica status.
    pub replicas: bool,
    /// Diagnose each failed rotation (Lambda, KMS, EC2, IAM metadata).
    pub diagnose: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: Format::Text,
            fail_on: FailOn(Some(Severity::High)),
            rules: Vec::new(),
            include_suppressed: false,
            versions: true,
            replicas: false,
            diagnose: true,
        }
    }
}

/// The configuration the rules run with: `only`, when given, replaces the
/// enabled set.
pub fn rule_config(cfg: &HealthConfig, only: &[RuleId]) -> HealthConfig {
    let mut cfg = cfg.clone();
    if !only.is_empty() {
        cfg.disabled = RuleId::ALL
            .into_iter()
            .filter(|r| !only.contains(r))
            .collect();
    }
    cfg
}

/// The whole command after argument parsing: collect, render to `out`,
/// errors to `err`; returns the exit code.
pub async fn run(
    config: &Config,
    opts: &Options,
    now: Timestamp,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let report = match collect(config, opts, now).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(detail = %e.detail, "check failed");
            let _ = writeln!(err, "error: secretscope check could not run: {}", e.user);
            return EXIT_ERROR;
        }
    };
    let rendered = match opts.format {
        Format::Text => text(&report, opts.include_suppressed),
        Format::Json => pretty(&json(&report)),
        Format::Sarif => pretty(&sarif(&report)),
    };
    if let Err(e) = out
        .write_all(rendered.as_bytes())
        .and_then(|()| out.flush())
    {
        let _ = writeln!(err, "error: cannot write the report: {e}");
        return EXIT_ERROR;
    }
    if opts.format != Format::Text {
        // The verdict for the log, out of the way of the machine output.
        let _ = writeln!(err, "{}", verdict(&report));
    }
    report.exit_code()
}

/// Pretty JSON and a final line break, as `--format json|sarif` prints it.
fn pretty(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
