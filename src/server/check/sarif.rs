//! `--format sarif`: SARIF 2.1.0, in the subset GitHub code scanning reads.
//!
//! The fields of every type here are declared in the order `check` has
//! always printed them in (sorted by name, byte-wise: it printed a sorted
//! map); the tests pin the bytes.

use super::{Report, Row};
use crate::domain::health::{RuleId, Severity};
use crate::domain::Secret;
use serde::Serialize;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log: one run, the rules that ran, one result per finding.
#[derive(Serialize)]
pub struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct Run<'a> {
    invocations: [Invocation; 1],
    properties: RunProperties<'a>,
    results: Vec<SarifResult<'a>>,
    tool: Tool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    end_time_utc: String,
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

/// A rule that did not run, and why.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    associated_rule: RuleRef,
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
struct RuleRef {
    id: RuleId,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    fail_on: &'static str,
    failed: bool,
    region: &'a str,
    secrets: usize,
    source: &'a str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    name: &'static str,
    rules: Vec<Rule>,
    semantic_version: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    default_configuration: Level,
    full_description: Text,
    help: Help,
    id: RuleId,
    name: &'static str,
    properties: RuleProperties,
    short_description: Text,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
struct Help {
    markdown: String,
    text: String,
}

#[derive(Serialize)]
struct RuleProperties {
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    tags: [&'static str; 3],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    level: &'static str,
    locations: [Location<'a>; 1],
    message: Text,
    partial_fingerprints: Fingerprints,
    properties: ResultProperties<'a>,
    rule_id: RuleId,
    /// The rule's place in the driver's rules (null if it did not run).
    rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression<'a>; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    logical_locations: [LogicalLocation<'a>; 1],
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    fully_qualified_name: &'a str,
    kind: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: TextRegion,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

/// A secret is no file: every result is at line 1, column 1.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TextRegion {
    end_column: u32,
    end_line: u32,
    start_column: u32,
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fingerprints {
    primary_location_line_hash: String,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    account: &'a str,
    region: &'a str,
    severity: Severity,
    /// RFC 3339, or null.
    since: Option<String>,
}

#[derive(Serialize)]
struct Suppression<'a> {
    justification: &'a str,
    kind: &'static str,
}

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

/// The SARIF log of `report`.
pub fn sarif(report: &Report) -> SarifLog<'_> {
    let ids: Vec<RuleId> = report.rules().collect();
    let notifications = report
        .not_evaluated
        .iter()
        .map(|(rule, why)| Notification {
            associated_rule: RuleRef { id: *rule },
            level: "warning",
            message: Text {
                text: format!("{rule} was not evaluated: {why}"),
            },
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    SarifLog {
        schema: SCHEMA,
        runs: [Run {
            invocations: [Invocation {
                end_time_utc: report.evaluated_at.rfc3339(),
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            properties: RunProperties {
                fail_on: report.fail_on.as_str(),
                failed: report.failed(),
                region: &report.region,
                secrets: report.secrets,
                source: &report.source,
            },
            results: report.rows.iter().map(|row| result(row, &ids)).collect(),
            tool: Tool {
                driver: Driver {
                    information_uri: option_env!("CARGO_PKG_REPOSITORY").filter(|u| !u.is_empty()),
                    name: "secretscope",
                    rules: ids.iter().map(|&id| rule(report, id)).collect(),
                    semantic_version: version,
                    version,
                },
            },
        }],
        version: "2.1.0",
    }
}

/// A rule that ran, at the severity it ran with.
fn rule(report: &Report, id: RuleId) -> Rule {
    let i = id.info();
    let sev = report.cfg.severity_of(id);
    Rule {
        default_configuration: Level {
            level: sarif_level(sev),
        },
        full_description: Text {
            text: i.why.to_string(),
        },
        help: Help {
            markdown: format!(
                "{}\n\n**How to fix.** {}\n\n**Reference.** {}",
                i.why, i.fix, i.source
            ),
            text: format!(
                "{}\n\nHow to fix: {}\n\nReference: {}",
                i.why, i.fix, i.source
            ),
        },
        id,
        name: i.title,
        properties: RuleProperties {
            precision: "high",
            problem_severity: match sarif_level(sev) {
                "note" => "recommendation",
                l => l,
            },
            security_severity: security_severity(sev),
            tags: ["security", "aws", "secrets-manager"],
        },
        short_description: Text {
            text: i.title.to_string(),
        },
    }
}

/// One finding, located at its secret; suppressed ones say why.
fn result<'a>(row: &'a Row, ids: &[RuleId]) -> SarifResult<'a> {
    let (s, f) = (&row.secret, &row.finding);
    SarifResult {
        level: sarif_level(f.severity),
        locations: [Location {
            logical_locations: [LogicalLocation {
                fully_qualified_name: &s.arn,
                kind: "resource",
                name: &s.name,
            }],
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: artifact_uri(s),
                },
                region: TextRegion {
                    end_column: 1,
                    end_line: 1,
                    start_column: 1,
                    start_line: 1,
                },
            },
        }],
        message: Text {
            text: format!("{}: {}", s.name, f.detail),
        },
        partial_fingerprints: Fingerprints {
            primary_location_line_hash: format!("{:016x}:1", fnv1a(&[&s.arn, f.rule.as_str()])),
        },
        properties: ResultProperties {
            account: &s.account,
            region: &s.region,
            severity: f.severity,
            since: f.since.map(|t| t.rfc3339()),
        },
        rule_id: f.rule,
        rule_index: ids.iter().position(|id| *id == f.rule),
        suppressions: f.suppressed.as_deref().map(|reason| {
            [Suppression {
                justification: reason,
                kind: "external",
            }]
        }),
    }
}
