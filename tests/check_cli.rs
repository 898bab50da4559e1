//! `secretscope check` as a pipeline runs it: the real binary, its exit
//! codes and its stdout, against the demo endpoint it starts itself
//! (`--demo`), an endpoint where nothing listens, and bad arguments.

mod common;

use common::{code, text};
use std::process::Output;

fn check(args: &[&str]) -> Output {
    // No secretscope.toml, AWS profile or instance metadata from around the test.
    let dir = tempfile::tempdir().unwrap();
    common::secretscope(dir.path())
        .arg("check")
        .args(args)
        .env("SECRETSCOPE_DEMO_SEED_SECRETS", "150")
        .env("SECRETSCOPE_AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap()
}

#[test]
fn demo_json_passes_with_fail_on_none() {
    let o = check(&["--demo", "--format", "json", "--fail-on", "none"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    // The demo organisation minus its refusing account: 150 seeded in the
    // main account, 15 of its own in eu-west-1 (its replicas count once, at
    // their primary) and 30 in the payments account.
    assert_eq!(doc["secrets"], 150 + 15 + 30);
    assert_eq!(doc["region"], "us-east-1, eu-west-1");
    assert_eq!(doc["failed"], false);
    assert!(!doc["findings"].as_array().unwrap().is_empty());
    assert!(
        doc["counts"]["critical"].as_u64().unwrap() > 0,
        "the demo has stuck rotations"
    );
}

#[test]
fn demo_fails_the_default_gate() {
    let o = check(&["--demo"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("\nCRITICAL ("), "{out}");
    assert!(out.lines().last().unwrap().starts_with("FAILED: "), "{out}");
}

#[test]
fn demo_passes_a_gate_its_rules_stay_under() {
    let o = check(&[
        "--demo",
        "--rule",
        "no-description",
        "--fail-on",
        "low",
        "--format",
        "sarif",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["ruleId"] == "no-description"));
}

#[test]
fn an_unreachable_endpoint_exits_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let o = check(&["--endpoint-url", &url, "--format", "json"]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(
        err.contains("secretscope check could not run") && err.contains(&url),
        "{err}"
    );
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--fail-on", "severe"][..],
        &["--rule", "no-such-rule"],
        &["--format", "xml"],
        &["--demo", "--endpoint-url", "http://127.0.0.1:1"],
    ] {
        let o = check(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty());
    }
    let o = check(&["--rule", "no-such-rule"]);
    assert!(
        text(&o.stderr).contains("rotation-failed"),
        "lists the rule ids"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let o = common::help(&["check"]);
    assert_eq!(code(&o), 0);
    let help = text(&o.stdout);
    for line in [
        "Exit codes:",
        "  0  no active finding",
        "  1  at least one",
        "  2  the check could not run",
    ] {
        assert!(help.contains(line), "{line} in {help}");
    }
}
