//! `--format text`, for people: findings grouped by severity, worst first,
//! then the verdict (which the machine formats print on stderr).

use super::{Report, Row};
use std::fmt::Write as _;

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
    if let Some(d) = &row.diagnosis {
        diagnosis_lines(out, d);
    }
}

/// The failed checks of a rotation's diagnosis (or that none failed), the
/// fix, and what could not be checked.
fn diagnosis_lines(out: &mut String, d: &crate::domain::diagnosis::Diagnosis) {
    use crate::domain::diagnosis::Status;
    let failed: Vec<_> = d
        .checks
        .iter()
        .filter(|c| c.status == Status::Failed)
        .collect();
    if failed.is_empty() {
        let _ = writeln!(
            out,
            "           cause: none found in the configuration (see the function's log)"
        );
    }
    for c in failed {
        let cause = c.cause.map_or("", |x| x.slug());
        let _ = writeln!(out, "           cause {cause}: {}", clean(&c.evidence));
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "           fix: {}", clean(fix));
        }
    }
    let missing = d.missing_permissions();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "           not checked without: {}",
            missing.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "           strategy: {} ({})",
        d.strategy.words(),
        clean(&d.strategy.source)
    );
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
