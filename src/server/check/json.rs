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
        region: &s.region,
        rule: f.rule,
        secret: &s.name,
        severity: f.severity,
        since: f.since.map(|t| t.rfc3339()),
        suppressed: f.suppressed.as_deref(),
    }
}
