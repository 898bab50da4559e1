//! Each output format of a fixed report: text, JSON and SARIF, their
//! shapes, and their bytes.

use super::*;
use crate::domain::health::{HealthConfig, RuleId, Severity};
use crate::domain::secret::fixtures::secret;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A format's document as a JSON value, to index.
fn value(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap()
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
    let v = value(json(&r));
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
    // 15 rules, less replica-failed and read-previous-after-rotation (not
    // evaluated: no replica status, no CloudTrail reads).
    assert_eq!(v["rules"].as_array().unwrap().len(), 13);
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
    let v = value(json(&Report::build(
        &secrets,
        None,
        cfg,
        NOW,
        FailOn(Some(Severity::High)),
    )));
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
    let v = value(sarif(&r));
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
    assert_eq!(
        rules.len(),
        13,
        "replica-failed and read-previous-after-rotation did not run"
    );
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
        value(sarif(&r))["runs"][0]["results"][0]["partialFingerprints"],
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

/// `check` printed its JSON and SARIF from maps sorted by key before they
/// had types; the types declare their fields in that order, so the bytes
/// are the same: printing a document directly equals printing it through a
/// (sorted) `Value`.
#[test]
fn machine_formats_keep_their_key_order() {
    let r = report(
        vec![
            stuck(),
            suppress(sloppy(), "unused: archived, see TICKET-9"),
        ],
        Some(Severity::Medium),
    );
    let sorted = |v: Value| pretty(&v);
    assert_eq!(pretty(&json(&r)), sorted(value(json(&r))));
    assert_eq!(pretty(&sarif(&r)), sorted(value(sarif(&r))));
    let clean = report(vec![], None);
    assert_eq!(pretty(&json(&clean)), sorted(value(json(&clean))));
    assert_eq!(pretty(&sarif(&clean)), sorted(value(sarif(&clean))));
}
