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

use crate::domain::health::{evaluate, Finding, HealthConfig, ReplicaState, RuleId, Severity};
use crate::domain::{Secret, Timestamp};
use crate::server::aws::rate::RateLimiter;
use crate::server::aws::sync::{fetch_replicas, Syncer};
use crate::server::config::Config;
use crate::server::error::{AppError, ErrorKind};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;
use tokio::task::JoinSet;

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

/// One finding with the secret it is about.
#[derive(Clone, Debug)]
pub struct Row {
    pub secret: Arc<Secret>,
    pub finding: Finding,
}

/// What a check found, ready to render.
#[derive(Clone, Debug)]
pub struct Report {
    /// The endpoint URL, or "AWS Secrets Manager in <region>".
    pub source: String,
    pub region: String,
    pub evaluated_at: Timestamp,
    pub secrets: usize,
    pub fail_on: FailOn,
    /// The configuration the rules ran with (severity overrides included).
    pub cfg: HealthConfig,
    /// Active findings first, then worst first, then by secret name and rule.
    pub rows: Vec<Row>,
    /// Enabled rules that could not run, and why.
    pub not_evaluated: Vec<(RuleId, String)>,
}

impl Report {
    /// Evaluates `secrets` at `now`. `replicas` holds the replica status of
    /// the secrets it was fetched for; `None` when it was not fetched at all.
    pub fn build(
        secrets: &[Arc<Secret>],
        replicas: Option<&HashMap<Arc<str>, Vec<ReplicaState>>>,
        cfg: HealthConfig,
        now: Timestamp,
        fail_on: FailOn,
    ) -> Report {
        let mut rows: Vec<Row> = Vec::new();
        for s in secrets {
            let r = replicas.and_then(|m| m.get(&s.arn)).map(Vec::as_slice);
            rows.extend(evaluate(s, r, &cfg, now).into_iter().map(|finding| Row {
                secret: s.clone(),
                finding,
            }));
        }
        rows.sort_by(|a, b| {
            let (x, y) = (&a.finding, &b.finding);
            x.suppressed
                .is_some()
                .cmp(&y.suppressed.is_some())
                .then(y.severity.cmp(&x.severity))
                .then(a.secret.name.cmp(&b.secret.name))
                .then(a.secret.arn.cmp(&b.secret.arn))
                .then(x.rule.cmp(&y.rule))
        });
        let mut not_evaluated = Vec::new();
        if replicas.is_none() && cfg.is_enabled(RuleId::ReplicaFailed) {
            not_evaluated.push((
                RuleId::ReplicaFailed,
                "replica status is only in DescribeSecret (one call per secret): pass --replicas"
                    .to_string(),
            ));
        }
        Report {
            source: String::new(),
            region: String::new(),
            evaluated_at: now,
            secrets: secrets.len(),
            fail_on,
            cfg,
            rows,
            not_evaluated,
        }
    }

    /// The rules that ran, in rule order.
    pub fn rules(&self) -> impl Iterator<Item = RuleId> + '_ {
        RuleId::ALL
            .into_iter()
            .filter(|r| self.cfg.is_enabled(*r) && !self.not_evaluated.iter().any(|(n, _)| n == r))
    }

    pub fn active(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.finding.is_active())
    }

    /// Active findings at or above `--fail-on`.
    pub fn failing(&self) -> usize {
        match self.fail_on.0 {
            Some(min) => self.active().filter(|r| r.finding.severity >= min).count(),
            None => 0,
        }
    }

    pub fn failed(&self) -> bool {
        self.failing() > 0
    }

    pub fn exit_code(&self) -> u8 {
        if self.failed() {
            EXIT_FAILED
        } else {
            EXIT_PASSED
        }
    }

    /// Active findings by severity (every severity present, worst first).
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .into_iter()
            .map(|v| (v, self.active().filter(|r| r.finding.severity == v).count()))
            .collect()
    }

    pub fn suppressed(&self) -> usize {
        self.rows.len() - self.active().count()
    }
}

// ---------------------------------------------------------------------------
// Collecting

/// One list pass, then the version and replica passes the options ask for,
/// then the rules at `now`.
pub async fn collect(config: &Config, opts: &Options, now: Timestamp) -> Result<Report, AppError> {
    let cfg = rule_config(&config.health, &opts.rules);
    let syncers = Syncer::standalone(config).await?;
    // A check that missed a source would pass for the wrong reason: every
    // source must list.
    for (syncer, listed) in syncers
        .iter()
        .zip(futures_util::future::join_all(syncers.iter().map(|s| s.list_once())).await)
    {
        if let Err(e) = listed {
            let mut e = incomplete(format!("source {}: {}", syncer.id(), e.user));
            e.detail = format!("source {}: {}", syncer.id(), e.detail);
            return Err(e);
        }
    }
    let inventory = syncers[0].inventory.clone();

    let pending_matters =
        cfg.is_enabled(RuleId::RotationFailed) || cfg.is_enabled(RuleId::RotationOverdue);
    for syncer in syncers.iter().filter(|_| opts.versions && pending_matters) {
        let source = &syncer.source;
        let job: Vec<(Arc<str>, Arc<str>)> = inventory
            .snapshot()
            .secrets()
            .iter()
            .filter(|s| s.deleted.is_none() && s.pending_version().is_some())
            .filter(|s| source.reads(&s.account, &s.region))
            .map(|s| (s.arn.clone(), s.name.clone()))
            .collect();
        if !job.is_empty() {
            let report = syncer.version_pass(job, None).await;
            if report.failed > 0 {
                return Err(incomplete(
                    format!(
                        "the version dates of {} of {} secrets with a pending rotation could not be read ({}); \
                         rotation-failed cannot be judged without them (--no-versions skips them)",
                        report.failed,
                        report.needed,
                        report.last_error.as_deref().unwrap_or("no detail"),
                    ),
                ));
            }
        }
    }

    let snapshot = inventory.snapshot();
    let secrets = snapshot.secrets();
    let replicas = if opts.replicas && cfg.is_enabled(RuleId::ReplicaFailed) {
        Some(replica_pass(config, &syncers, secrets).await?)
    } else {
        None
    };
    let mut report = Report::build(secrets, replicas.as_ref(), cfg, now, opts.fail_on);
    let joined = |f: &dyn Fn(&Syncer) -> String| {
        let mut v: Vec<String> = Vec::new();
        for x in syncers.iter().map(|s| f(s)) {
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v.join(", ")
    };
    report.source = joined(&|s| s.source.endpoint.clone());
    report.region = joined(&|s| s.source.region.clone());
    Ok(report)
}

fn incomplete(user: String) -> AppError {
    let detail = user.clone();
    AppError::new(
        ErrorKind::Aws,
        format!("the check is incomplete: {user}"),
        detail,
    )
}

/// DescribeSecret for every secret that can have replicas (a replica itself,
/// whose primary is in another region, reports none), within the version
/// rate budget. A secret deleted since the list is skipped.
async fn replica_pass(
    config: &Config,
    syncers: &[Arc<Syncer>],
    secrets: &[Arc<Secret>],
) -> Result<HashMap<Arc<str>, Vec<ReplicaState>>, AppError> {
    let limiter = Arc::new(RateLimiter::new(config.sync.version_rate_per_sec));
    let concurrency = config.sync.version_concurrency.max(1);
    let mut todo = secrets
        .iter()
        .filter(|s| s.primary_region.as_deref().is_none_or(|p| *p == *s.region))
        .filter_map(|s| {
            let syncer = syncers
                .iter()
                .find(|y| y.source.reads(&s.account, &s.region))?;
            Some((s.arn.clone(), s.name.clone(), syncer.source.clone()))
        });
    let mut tasks = JoinSet::new();
    let mut out = HashMap::new();
    loop {
        while tasks.len() < concurrency {
            let Some((arn, name, source)) = todo.next() else {
                break;
            };
            let limiter = limiter.clone();
            tasks.spawn(async move {
                let r = fetch_replicas(&source, &limiter, &arn, &name).await;
                (arn, r)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined {
            Ok((arn, Ok(r))) => {
                out.insert(arn, r);
            }
            Ok((_, Err(e))) if e.kind == ErrorKind::NotFound => {}
            Ok((_, Err(e))) => {
                tasks.abort_all();
                return Err(incomplete(format!(
                    "replica status could not be read: {}",
                    e.user
                )));
            }
            Err(e) => {
                tasks.abort_all();
                return Err(AppError::internal(format!("replica task failed: {e}")));
            }
        }
    }
    Ok(out)
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

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------
// Text

/// Names, tags and status messages are written by others: no control
/// characters (terminal escapes, line breaks) reach the terminal or the log.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

fn text_line(out: &mut String, row: &Row) {
    let (s, f) = (&row.secret, &row.finding);
    let _ = write!(
        out,
        "  {:<8} {:<28} {}  ({}/{})",
        f.severity.as_str(),
        f.rule.as_str(),
        clean(&s.name),
        s.account,
        s.region
    );
    if let Some(since) = f.since {
        let _ = write!(out, "  since {}", since.display());
    }
    let _ = write!(out, "  {}", clean(&f.detail));
    if let Some(reason) = &f.suppressed {
        let _ = write!(out, "  [suppressed: {}]", clean(reason));
    }
    out.push('\n');
}

/// The summary line: verdict, counts, scope.
pub fn verdict(report: &Report) -> String {
    let counts: Vec<String> = report
        .counts()
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect();
    let head = match report.fail_on.0 {
        Some(min) if report.failed() => format!(
            "FAILED: {} finding{} at or above {min}",
            report.failing(),
            if report.failing() == 1 { "" } else { "s" }
        ),
        Some(min) => format!("passed: no finding at or above {min}"),
        None => "done (--fail-on none)".to_string(),
    };
    format!(
        "{head}; {} in {} secrets; {} suppressed",
        counts.join(", "),
        report.secrets,
        report.suppressed()
    )
}

/// Grouped by severity, worst first, one line per finding; suppressed
/// findings at the end when `include_suppressed`; then the summary line.
pub fn text(report: &Report, include_suppressed: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "secretscope check: {} secrets from {} ({}), evaluated {}",
        report.secrets,
        report.source,
        report.region,
        report.evaluated_at.display()
    );
    for (severity, n) in report.counts() {
        if n == 0 {
            continue;
        }
        let _ = writeln!(out, "\n{} ({n})", severity.as_str().to_uppercase());
        for row in report.active().filter(|r| r.finding.severity == severity) {
            text_line(&mut out, row);
        }
    }
    let suppressed = report.suppressed();
    if include_suppressed && suppressed > 0 {
        let _ = writeln!(out, "\nSUPPRESSED ({suppressed})");
        for row in report.rows.iter().filter(|r| !r.finding.is_active()) {
            text_line(&mut out, row);
        }
    }
    for (rule, why) in &report.not_evaluated {
        let _ = writeln!(out, "\nnot evaluated: {rule}: {why}");
    }
    out.push('\n');
    out.push_str(&verdict(report));
    if suppressed > 0 && !include_suppressed {
        out.push_str(" (--include-suppressed lists them)");
    }
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------
// JSON

fn rfc3339(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.rfc3339()))
}

/// The documented JSON shape (README, "secretscope check").
pub fn json(report: &Report) -> Value {
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(v, n)| (v.as_str().to_string(), json!(n)))
        .chain([("suppressed".to_string(), json!(report.suppressed()))])
        .collect();
    let rules: Vec<Value> = report
        .rules()
        .map(|id| {
            let i = id.info();
            json!({
                "id": id,
                "severity": report.cfg.severity_of(id),
                "title": i.title,
                "why": i.why,
                "fix": i.fix,
                "source": i.source,
            })
        })
        .collect();
    let not_evaluated: Vec<Value> = report
        .not_evaluated
        .iter()
        .map(|(rule, reason)| json!({"rule": rule, "reason": reason}))
        .collect();
    let findings: Vec<Value> = report
        .rows
        .iter()
        .map(
            |Row {
                 secret: s,
                 finding: f,
             }| {
                json!({
                    "secret": &*s.name,
                    "arn": &*s.arn,
                    "region": &*s.region,
                    "account": &*s.account,
                    "rule": f.rule,
                    "severity": f.severity,
                    "since": rfc3339(f.since),
                    "detail": f.detail,
                    "suppressed": f.suppressed,
                })
            },
        )
        .collect();
    json!({
        "version": JSON_VERSION,
        "tool": {"name": "secretscope", "version": env!("CARGO_PKG_VERSION")},
        "source": report.source,
        "region": report.region,
        "evaluated_at": report.evaluated_at.rfc3339(),
        "secrets": report.secrets,
        "fail_on": report.fail_on.as_str(),
        "failed": report.failed(),
        "counts": counts,
        "rules": rules,
        "not_evaluated": not_evaluated,
        "findings": findings,
    })
}

// ---------------------------------------------------------------------------
// SARIF 2.1.0, in the subset GitHub code scanning reads

/// critical/high → error, medium → warning, low/info → note.
pub fn sarif_level(v: Severity) -> &'static str {
    match v {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (> 9.0 critical, 7.0–8.9 high,
/// 4.0–6.9 medium, 0.1–3.9 low). `info` has none: a missing description is
/// not a security problem, so its rule is a plain recommendation.
pub fn security_severity(v: Severity) -> Option<&'static str> {
    match v {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// A path for the secret: code scanning needs a relative artifact URI, and
/// a secret is no file. `aws/secretsmanager/<account>/<region>/<name>`,
/// percent-encoded where a URI path needs it.
pub fn artifact_uri(s: &Secret) -> String {
    let mut uri = String::from("aws/secretsmanager/");
    for (i, part) in [&*s.account, &*s.region, &*s.name].into_iter().enumerate() {
        if i > 0 {
            uri.push('/');
        }
        uri.push_str(&crate::domain::links::uri_path(part));
    }
    uri
}

/// FNV-1a, 64 bits: stable across versions and platforms (std's hasher is
/// not), for result fingerprints.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The SARIF log: one run, the rules that ran, one result per finding.
pub fn sarif(report: &Report) -> Value {
    let ids: Vec<RuleId> = report.rules().collect();
    let rules: Vec<Value> = ids
        .iter()
        .map(|&id| {
            let i = id.info();
            let sev = report.cfg.severity_of(id);
            let mut properties = json!({
                "tags": ["security", "aws", "secrets-manager"],
                "precision": "high",
                "problem.severity": match sarif_level(sev) {
                    "note" => "recommendation",
                    l => l,
                },
            });
            if let Some(score) = security_severity(sev) {
                properties["security-severity"] = json!(score);
            }
            json!({
                "id": id,
                "name": i.title,
                "shortDescription": {"text": i.title},
                "fullDescription": {"text": i.why},
                "help": {
                    "text": format!("{}\n\nHow to fix: {}\n\nReference: {}", i.why, i.fix, i.source),
                    "markdown": format!("{}\n\n**How to fix.** {}\n\n**Reference.** {}", i.why, i.fix, i.source),
                },
                "defaultConfiguration": {"level": sarif_level(sev)},
                "properties": properties,
            })
        })
        .collect();
    let results: Vec<Value> = report
        .rows
        .iter()
        .map(|Row { secret: s, finding: f }| {
            let mut r = json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|id| *id == f.rule),
                "level": sarif_level(f.severity),
                "message": {"text": format!("{}: {}", s.name, f.detail)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(s)},
                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
                    },
                    "logicalLocations": [{
                        "name": &*s.name,
                        "fullyQualifiedName": &*s.arn,
                        "kind": "resource",
                    }],
                }],
                "partialFingerprints": {
                    "primaryLocationLineHash": format!("{:016x}:1", fnv1a(&[&s.arn, f.rule.as_str()])),
                },
                "properties": {
                    "severity": f.severity,
                    "since": rfc3339(f.since),
                    "account": &*s.account,
                    "region": &*s.region,
                },
            });
            if let Some(reason) = &f.suppressed {
                r["suppressions"] = json!([{"kind": "external", "justification": reason}]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .not_evaluated
        .iter()
        .map(|(rule, why)| {
            json!({
                "level": "warning",
                "message": {"text": format!("{rule} was not evaluated: {why}")},
                "associatedRule": {"id": rule},
            })
        })
        .collect();
    let mut driver = json!({
        "name": "secretscope",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(uri) = option_env!("CARGO_PKG_REPOSITORY").filter(|u| !u.is_empty()) {
        driver["informationUri"] = json!(uri);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [{
                "executionSuccessful": true,
                "endTimeUtc": report.evaluated_at.rfc3339(),
                "toolExecutionNotifications": notifications,
            }],
            "properties": {
                "source": report.source,
                "region": report.region,
                "secrets": report.secrets,
                "failOn": report.fail_on.as_str(),
                "failed": report.failed(),
            },
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::{secret, tagged};
    use crate::domain::{Label, Version, VersionId};
    use std::collections::BTreeSet;

    const NOW: Timestamp = Timestamp::new(1_795_000_000);
    const DAY: i64 = 86_400;

    fn ago(days: i64) -> Option<Timestamp> {
        Some(Timestamp::new(NOW.secs() - days * DAY))
    }

    /// Well kept, except that its rotation has been stuck for two days:
    /// exactly one finding, rotation-failed (critical).
    fn stuck() -> Secret {
        let mut s = tagged("prod/payments/db", &[("owner", "payments")]);
        s.description = Some("Payments primary".into());
        s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:123456789012:key/k1"));
        s.rotation_enabled = true;
        s.rotation_lambda_arn = Some(Arc::from(
            "arn:aws:lambda:us-east-1:123456789012:function:rotate-pg",
        ));
        s.created = ago(300);
        s.last_rotated = ago(20);
        s.last_changed = ago(2);
        s.last_accessed = ago(1);
        s.next_rotation = ago(-10);
        s.versions.push(Version {
            id: VersionId::parse("pending-1"),
            labels: [Label::Pending].into_iter().collect(),
            created: ago(2),
            last_accessed: None,
        });
        s
    }

    /// Never looked after: rotation-disabled and not-rotated-recently
    /// (medium), unused, default-kms-key and missing-required-tags (low),
    /// no-description (info).
    fn sloppy() -> Secret {
        secret("legacy/jenkins-token")
    }

    fn report(secrets: Vec<Secret>, fail_on: Option<Severity>) -> Report {
        let secrets: Vec<Arc<Secret>> = secrets.into_iter().map(Arc::new).collect();
        let mut r = Report::build(
            &secrets,
            None,
            HealthConfig::default(),
            NOW,
            FailOn(fail_on),
        );
        r.source = "http://127.0.0.1:4566".into();
        r.region = "us-east-1".into();
        r
    }

    fn suppress(mut s: Secret, value: &str) -> Secret {
        s.tags.push(crate::domain::Tag {
            key: Arc::from("secretscope:suppress"),
            value: Arc::from(value),
        });
        s
    }

    fn rules_of(r: &Report) -> Vec<(&str, RuleId)> {
        r.rows
            .iter()
            .map(|row| (&*row.secret.name, row.finding.rule))
            .collect()
    }

    #[test]
    fn fixtures_fire_what_they_say() {
        let r = report(vec![stuck(), sloppy()], None);
        assert_eq!(
            rules_of(&r),
            vec![
                ("prod/payments/db", RuleId::RotationFailed),
                ("legacy/jenkins-token", RuleId::RotationDisabled),
                ("legacy/jenkins-token", RuleId::NotRotatedRecently),
                ("legacy/jenkins-token", RuleId::Unused),
                ("legacy/jenkins-token", RuleId::DefaultKmsKey),
                ("legacy/jenkins-token", RuleId::MissingRequiredTags),
                ("legacy/jenkins-token", RuleId::NoDescription),
            ],
            "worst first across secrets, then by name and rule order"
        );
    }

    #[test]
    fn exit_code_is_decided_by_fail_on() {
        use Severity::*;
        for (secrets, fail_on, want) in [
            (vec![stuck(), sloppy()], Some(Critical), EXIT_FAILED),
            (vec![stuck(), sloppy()], None, EXIT_PASSED),
            (vec![sloppy()], Some(Critical), EXIT_PASSED),
            (vec![sloppy()], Some(High), EXIT_PASSED),
            (vec![sloppy()], Some(Medium), EXIT_FAILED),
            (vec![sloppy()], Some(Info), EXIT_FAILED),
            (vec![], Some(Info), EXIT_PASSED),
        ] {
            let names: Vec<String> = secrets.iter().map(|s| s.name.to_string()).collect();
            let r = report(secrets, fail_on);
            assert_eq!(
                r.exit_code(),
                want,
                "{names:?} --fail-on {}",
                r.fail_on.as_str()
            );
        }
        let r = report(vec![sloppy()], Some(Medium));
        assert_eq!(r.failing(), 2, "the two medium findings");
        assert_eq!(
            report(vec![sloppy()], Some(Low)).failing(),
            5,
            "medium and low"
        );
    }

    #[test]
    fn suppressed_findings_never_fail_but_are_kept() {
        let r = report(
            vec![suppress(stuck(), "rotation-failed: Lambda replaced, CHG-1")],
            Some(Severity::Info),
        );
        assert_eq!(r.exit_code(), EXIT_PASSED);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.suppressed(), 1);
        assert!(r.counts().iter().all(|(_, n)| *n == 0));
        // Suppressed rows come after every active one, whatever their severity.
        let r = report(
            vec![suppress(stuck(), "*: decommissioned next week"), sloppy()],
            Some(Severity::Critical),
        );
        assert_eq!(r.exit_code(), EXIT_PASSED);
        let last = r.rows.last().unwrap();
        assert_eq!(last.finding.rule, RuleId::RotationFailed);
        assert!(!last.finding.is_active());
        assert_eq!(r.rows[0].finding.rule, RuleId::RotationDisabled);
        // A suppression without a reason suppresses nothing.
        let r = report(
            vec![suppress(stuck(), "rotation-failed")],
            Some(Severity::Critical),
        );
        assert_eq!(r.exit_code(), EXIT_FAILED);
    }

    #[test]
    fn only_the_named_rules_run_even_if_disabled() {
        let mut cfg = HealthConfig::default();
        cfg.disabled.insert(RuleId::NoDescription);
        let only = rule_config(&cfg, &[RuleId::NoDescription, RuleId::Unused]);
        assert!(only.is_enabled(RuleId::NoDescription));
        assert!(only.is_enabled(RuleId::Unused));
        assert!(!only.is_enabled(RuleId::RotationFailed));
        assert_eq!(rule_config(&cfg, &[]), cfg, "no --rule: the configuration");
        let secrets = vec![Arc::new(sloppy())];
        let r = Report::build(&secrets, None, only, NOW, FailOn(Some(Severity::Low)));
        assert_eq!(
            rules_of(&r),
            vec![
                ("legacy/jenkins-token", RuleId::Unused),
                ("legacy/jenkins-token", RuleId::NoDescription),
            ]
        );
        assert_eq!(
            r.rules().collect::<Vec<_>>(),
            vec![RuleId::Unused, RuleId::NoDescription]
        );
        assert!(
            r.not_evaluated.is_empty(),
            "replica-failed was not asked for"
        );
    }

    #[test]
    fn replica_rule_is_not_evaluated_without_replica_status() {
        let secrets = vec![Arc::new(stuck())];
        let r = Report::build(&secrets, None, HealthConfig::default(), NOW, FailOn(None));
        assert_eq!(r.not_evaluated.len(), 1);
        assert_eq!(r.not_evaluated[0].0, RuleId::ReplicaFailed);
        assert!(r.rules().all(|id| id != RuleId::ReplicaFailed));
        let mut status = HashMap::new();
        status.insert(
            secrets[0].arn.clone(),
            vec![ReplicaState {
                region: "eu-west-1".into(),
                status: "Failed".into(),
                message: Some("KMS key disabled".into()),
                last_accessed: None,
            }],
        );
        let r = Report::build(
            &secrets,
            Some(&status),
            HealthConfig::default(),
            NOW,
            FailOn(None),
        );
        assert!(r.not_evaluated.is_empty());
        assert!(rules_of(&r).contains(&("prod/payments/db", RuleId::ReplicaFailed)));
    }

    #[test]
    fn fail_on_and_rule_arguments() {
        assert_eq!("high".parse::<FailOn>(), Ok(FailOn(Some(Severity::High))));
        assert_eq!(" NONE ".parse::<FailOn>(), Ok(FailOn(None)));
        assert_eq!("Critical".parse::<FailOn>().unwrap().as_str(), "critical");
        let e = "severe".parse::<FailOn>().unwrap_err();
        assert!(e.contains("severe") && e.contains("none"), "{e}");
        assert_eq!(parse_rule("unused"), Ok(RuleId::Unused));
        let e = parse_rule("unsued").unwrap_err();
        assert!(e.contains("unsued") && e.contains("rotation-failed"), "{e}");
    }

    #[test]
    fn text_groups_worst_first_with_a_summary() {
        let mut hostile = suppress(sloppy(), "*: owned by \u{1b}[31mnobody");
        hostile.name = Arc::from("legacy/evil\nFAKE: line");
        let r = report(vec![stuck(), hostile], Some(Severity::High));
        let t = text(&r, false);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "secretscope check: 2 secrets from http://127.0.0.1:4566 (us-east-1), evaluated 2026-11-18 11:06 UTC"
        );
        assert_eq!(lines[2], "CRITICAL (1)");
        assert!(
            lines[3].starts_with("  critical rotation-failed "),
            "{}",
            lines[3]
        );
        for part in [
            "prod/payments/db",
            "(123456789012/us-east-1)",
            "since 2026-11-16 11:06 UTC",
            "AWSPENDING has been on version pending-1",
        ] {
            assert!(lines[3].contains(part), "{part} in {}", lines[3]);
        }
        assert!(!t.contains("SUPPRESSED"), "{t}");
        assert!(!t.contains("jenkins") && !t.contains("evil"), "{t}");
        assert!(t.contains("not evaluated: replica-failed: "), "{t}");
        assert_eq!(
            *lines.last().unwrap(),
            "FAILED: 1 finding at or above high; critical 1, high 0, medium 0, low 0, info 0 in 2 secrets; 6 suppressed (--include-suppressed lists them)"
        );

        let t = text(&r, true);
        assert!(t.contains("\nSUPPRESSED (6)\n"), "{t}");
        assert!(
            t.contains("legacy/evil\\nFAKE: line"),
            "no raw line break from a name: {t}"
        );
        assert!(
            t.contains("[suppressed: owned by \\u{1b}[31mnobody]"),
            "{t}"
        );
        assert!(!t.contains('\u{1b}'));
        assert!(t
            .lines()
            .all(|l| !l.starts_with("FAKE") && !l.starts_with("::")));

        let clean = report(vec![], Some(Severity::High));
        assert!(text(&clean, false).ends_with(
            "passed: no finding at or above high; critical 0, high 0, medium 0, low 0, info 0 in 0 secrets; 0 suppressed\n"
        ));
    }

    #[test]
    fn json_shape() {
        let r = report(
            vec![
                stuck(),
                suppress(sloppy(), "unused: archived, see TICKET-9"),
            ],
            Some(Severity::Medium),
        );
        let v = json(&r);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "version",
            "tool",
            "source",
            "region",
            "evaluated_at",
            "secrets",
            "fail_on",
            "failed",
            "counts",
            "rules",
            "not_evaluated",
            "findings",
        ];
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(v["version"], 1);
        assert_eq!(v["evaluated_at"], "2026-11-18T11:06:40Z");
        assert_eq!(v["fail_on"], "medium");
        assert_eq!(v["failed"], true);
        assert_eq!(v["secrets"], 2);
        assert_eq!(
            v["counts"],
            serde_json::json!({"critical": 1, "high": 0, "medium": 2, "low": 2, "info": 1, "suppressed": 1})
        );
        assert_eq!(v["rules"].as_array().unwrap().len(), 12);
        assert_eq!(
            v["rules"][0],
            serde_json::json!({
                "id": "rotation-failed",
                "severity": "critical",
                "title": RuleId::RotationFailed.info().title,
                "why": RuleId::RotationFailed.info().why,
                "fix": RuleId::RotationFailed.info().fix,
                "source": RuleId::RotationFailed.info().source,
            })
        );
        assert_eq!(v["not_evaluated"][0]["rule"], "replica-failed");
        let f = &v["findings"][0];
        assert_eq!(
            *f,
            serde_json::json!({
                "secret": "prod/payments/db",
                "arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/db-AbCdEf",
                "region": "us-east-1",
                "account": "123456789012",
                "rule": "rotation-failed",
                "severity": "critical",
                "since": "2026-11-16T11:06:40Z",
                "detail": r.rows[0].finding.detail,
                "suppressed": null,
            })
        );
        let last = v["findings"].as_array().unwrap().last().unwrap();
        assert_eq!(last["rule"], "unused");
        assert_eq!(last["suppressed"], "archived, see TICKET-9");
        assert_eq!(
            v["findings"][1]["since"],
            Value::Null,
            "rotation-disabled has no start"
        );

        // A severity override shows in rules and findings alike.
        let mut cfg = HealthConfig::default();
        cfg.severity_overrides
            .insert(RuleId::DefaultKmsKey, Severity::High);
        let secrets = vec![Arc::new(sloppy())];
        let v = json(&Report::build(
            &secrets,
            None,
            cfg,
            NOW,
            FailOn(Some(Severity::High)),
        ));
        assert_eq!(v["failed"], true);
        assert_eq!(v["findings"][0]["rule"], "default-kms-key");
        assert_eq!(v["findings"][0]["severity"], "high");
        let rule = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "default-kms-key")
            .unwrap();
        assert_eq!(rule["severity"], "high");
    }

    #[test]
    fn sarif_for_code_scanning() {
        let r = report(
            vec![
                stuck(),
                suppress(sloppy(), "no-description: generated by Jenkins"),
            ],
            Some(Severity::High),
        );
        let v = sarif(&r);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(
            v["$schema"],
            "https://json.schemastore.org/sarif-2.1.0.json"
        );
        let run = &v["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "secretscope");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 12, "replica-failed did not run");
        for rule in rules {
            for key in ["id", "name", "shortDescription", "fullDescription", "help"] {
                assert!(rule.get(key).is_some(), "{key} in {rule}");
            }
            assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
            let full = rule["fullDescription"]["text"].as_str().unwrap();
            assert!(full.len() <= 1024, "GitHub's limit: {full}");
        }
        let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
        for (id, level, score) in [
            ("rotation-failed", "error", "9.5"),
            ("rotation-overdue", "error", "8.0"),
            ("rotation-disabled", "warning", "5.5"),
            ("unused", "note", "3.0"),
        ] {
            assert_eq!(rule(id)["defaultConfiguration"]["level"], level, "{id}");
            assert_eq!(rule(id)["properties"]["security-severity"], score, "{id}");
        }
        let info = rule("no-description");
        assert_eq!(info["defaultConfiguration"]["level"], "note");
        assert!(info["properties"].get("security-severity").is_none());
        assert_eq!(info["properties"]["problem.severity"], "recommendation");

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), r.rows.len());
        let first = &results[0];
        assert_eq!(first["ruleId"], "rotation-failed");
        let index = first["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], "rotation-failed");
        assert_eq!(first["level"], "error");
        assert!(first["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("prod/payments/db: The rotation by Lambda"));
        let loc = &first["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "aws/secretsmanager/123456789012/us-east-1/prod/payments/db"
        );
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 1);
        assert_eq!(
            loc["logicalLocations"][0]["fullyQualifiedName"],
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/payments/db-AbCdEf"
        );
        assert_eq!(loc["logicalLocations"][0]["kind"], "resource");
        assert!(first.get("suppressions").is_none());
        // One fingerprint per (secret, rule), the same on every run.
        let prints: BTreeSet<&str> = results
            .iter()
            .map(|r| {
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(prints.len(), results.len());
        assert_eq!(
            sarif(&r)["runs"][0]["results"][0]["partialFingerprints"],
            first["partialFingerprints"]
        );
        let levels: Vec<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(
            levels,
            ["error", "warning", "warning", "note", "note", "note", "note"]
        );
        let last = results.last().unwrap();
        assert_eq!(last["ruleId"], "no-description");
        assert_eq!(
            last["suppressions"],
            serde_json::json!([{"kind": "external", "justification": "generated by Jenkins"}])
        );
        let notes = &run["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(notes[0]["associatedRule"]["id"], "replica-failed");
        assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    }

    #[test]
    fn artifact_uris_are_relative_paths() {
        let mut s = secret("prod/db+ro@eu=1");
        assert_eq!(
            artifact_uri(&s),
            "aws/secretsmanager/123456789012/us-east-1/prod/db+ro@eu=1"
        );
        s.name = Arc::from("x y/ü#?%");
        assert_eq!(
            artifact_uri(&s),
            "aws/secretsmanager/123456789012/us-east-1/x%20y/%C3%BC%23%3F%25"
        );
    }
}
