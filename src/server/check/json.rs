//! `--format json`: the documented shape (README, "secretscope check"),
//! version [`JSON_VERSION`].
//!
//! The fields of every type here are declared in alphabetical order, the
//! order `check` has always printed them in (it printed a sorted map); the
//! tests pin the bytes.

use super::{Report, Row, JSON_VERSION};
use crate::domain::health::{RuleId, Severity};
use serde::Serialize;

#[derive(Serialize)]
pub struct JsonReport<'a> {
    counts: Counts,
    evaluated_at: String,
    fail_on: &'static str,
    failed: bool,
    findings: Vec<Finding<'a>>,
    not_evaluated: Vec<NotEvaluated<'a>>,
    region: &'a str,
    rules: Vec<Rule>,
    secrets: usize,
    source: &'a str,
    tool: Tool,
    version: u32,
}

/// Active findings by severity, and the suppressed ones.
#[derive(Serialize)]
struct Counts {
    critical: usize,
    high: usize,
    info: usize,
    low: usize,
    medium: usize,
    suppressed: usize,
}

#[derive(Serialize)]
struct Finding<'a> {
    account: &'a str,
    arn: &'a str,
    detail: &'a str,
    /// For rotation-failed: the diagnosis, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<DiagnosisJson<'a>>,
    region: &'a str,
    rule: RuleId,
    secret: &'a str,
    severity: Severity,
    /// RFC 3339, or null.
    since: Option<String>,
    /// The suppression's reason, or null when active.
    suppressed: Option<&'a str>,
}

#[derive(Serialize)]
struct DiagnosisJson<'a> {
    /// The first failed check's cause (`lambda-permission`), or null.
    cause: Option<&'static str>,
    checks: Vec<CheckJson<'a>>,
    /// `single-user`, `alternating` or `unknown`, and where it was read.
    strategy: &'static str,
    strategy_source: &'a str,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    cause: Option<&'static str>,
    check: &'static str,
    evidence: &'a str,
    fix: Option<&'a str>,
    /// The permission the dashboard lacked, for "could not be checked".
    missing_permission: Option<&'a str>,
    /// `passed`, `failed`, `warning`, `could not be checked`, `not applicable`.
    status: &'static str,
}

fn diagnosis_json(d: &crate::domain::diagnosis::Diagnosis) -> DiagnosisJson<'_> {
    use crate::domain::diagnosis::{Status, StrategyKind};
    DiagnosisJson {
        cause: d.main_cause().map(|(c, _)| c.slug()),
        checks: d
            .checks
            .iter()
            .map(|c| CheckJson {
                cause: c.cause.map(|x| x.slug()),
                check: c.id.slug(),
                evidence: &c.evidence,
                fix: c.fix.as_deref(),
                missing_permission: match &c.status {
                    Status::Unknown { permission } => permission.as_deref(),
                    _ => None,
                },
                status: c.status.word(),
            })
            .collect(),
        strategy: match d.strategy.kind {
            StrategyKind::SingleUser => "single-user",
            StrategyKind::Alternating => "alternating",
            StrategyKind::Unknown => "unknown",
        },
        strategy_source: &d.strategy.source,
    }
}

#[derive(Serialize)]
struct NotEvaluated<'a> {
    reason: &'a str,
    rule: RuleId,
}

/// A rule that ran, with the severity it ran with.
#[derive(Serialize)]
struct Rule {
    fix: &'static str,
    id: RuleId,
    severity: Severity,
    source: &'static str,
    title: &'static str,
    why: &'static str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// The JSON document of `report`.
pub fn json(report: &Report) -> JsonReport<'_> {
    let count = |v: Severity| {
        report
            .counts()
            .into_iter()
            .find(|(s, _)| *s == v)
            .map_or(0, |(_, n)| n)
    };
    JsonReport {
        counts: Counts {
            critical: count(Severity::Critical),
            high: count(Severity::High),
            info: count(Severity::Info),
            low: count(Severity::Low),
            medium: count(Severity::Medium),
            suppressed: report.suppressed(),
        },
        evaluated_at: report.evaluated_at.rfc3339(),
        fail_on: report.fail_on.as_str(),
        failed: report.failed(),
        findings: report.rows.iter().map(finding).collect(),
        not_evaluated: report
            .not_evaluated
            .iter()
            .map(|(rule, reason)| NotEvaluated {
                reason,
                rule: *rule,
            })
            .collect(),
        region: &report.region,
        rules: report
            .rules()
            .map(|id| {
                let i = id.info();
                Rule {
                    fix: i.fix,
                    id,
                    severity: report.cfg.severity_of(id),
                    source: i.source,
                    title: i.title,
                    why: i.why,
                }
            })
            .collect(),
        secrets: report.secrets,
        source: &report.source,
        tool: Tool {
            name: "secretscope",
            version: env!("CARGO_PKG_VERSION"),
        },
        version: JSON_VERSION,
    }
}

fn finding(row: &Row) -> Finding<'_> {
    let (s, f) = (&row.secret, &row.finding);
    Finding {
        account: &s.account,
        arn: &s.arn,
        detail: &f.detail,
        diagnosis: row.diagnosis.as_deref().map(diagnosis_json),
        region: &s.region,
        rule: f.rule,
        secret: &s.name,
        severity: f.severity,
        since: f.since.map(|t| t.rfc3339()),
        suppressed: f.suppressed.as_deref(),
    }
}
