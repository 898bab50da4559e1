//! `secretscope check` in process, against the seeded demo endpoint: exit
//! codes for a passing and a failing `--fail-on`, the JSON shape, the
//! findings against what the seed planned, suppression through a real tag,
//! and an endpoint that is down.

use super::planned;
use crate::domain::health::RuleId;
use crate::domain::Timestamp;
use crate::server::check::{self, FailOn, Format, Options};
use crate::server::config::Config;
use secretsmanager_emulator::Scenario;
use serde_json::Value;
use std::collections::BTreeSet;

const NOW: i64 = 1_795_000_000;

fn config_for(url: &str) -> Config {
    let mut c = Config::default();
    c.aws.endpoint_url = Some(url.to_string());
    c.aws.region = Some("us-east-1".into());
    c.aws.max_attempts = 2;
    c.sync.list_rate_per_sec = 0.0;
    c.sync.version_rate_per_sec = 0.0;
    c
}

struct Outcome {
    code: u8,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

async fn run(config: &Config, opts: Options) -> Outcome {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = check::run(config, &opts, Timestamp::new(NOW), &mut out, &mut err).await;
    Outcome {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

fn json_opts(fail_on: Option<crate::domain::health::Severity>) -> Options {
    Options {
        format: Format::Json,
        fail_on: FailOn(fail_on),
        ..Options::default()
    }
}

/// The secrets the findings of `rule` name.
fn named(doc: &Value, rule: &str) -> BTreeSet<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn check_gates_on_the_seeded_inventory() {
    use crate::domain::health::Severity::*;
    let seeded = super::seeded(400, 31, NOW).await;
    let plan = &seeded.plan;
    let config = config_for(&seeded.ep.url());

    // --fail-on none: exit 0 whatever is found.
    let all = run(&config, json_opts(None)).await;
    assert_eq!(all.code, check::EXIT_PASSED, "{}", all.stderr);
    let doc = all.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["tool"]["name"], "secretscope");
    assert_eq!(doc["source"], seeded.ep.url());
    assert_eq!(doc["region"], "us-east-1");
    assert_eq!(doc["evaluated_at"], "2026-11-18T11:06:40Z");
    assert_eq!(doc["secrets"], plan.len());
    assert_eq!(doc["fail_on"], "none");
    assert_eq!(doc["failed"], false);
    assert!(
        all.stderr.contains("done (--fail-on none)"),
        "{}",
        all.stderr
    );
    let findings = doc["findings"].as_array().unwrap();
    for f in findings {
        for key in [
            "secret",
            "arn",
            "region",
            "account",
            "rule",
            "severity",
            "since",
            "detail",
            "suppressed",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        assert_eq!(f["account"], "123456789012");
        assert!(f["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:us-east-1:"));
        assert!(f["since"].is_null() || f["since"].as_str().unwrap().ends_with('Z'));
    }
    // Counts add up to the active findings.
    let counts = doc["counts"].as_object().unwrap();
    let by_severity: u64 = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|k| counts[*k].as_u64().unwrap())
        .sum();
    assert_eq!(by_severity as usize, findings.len());
    assert_eq!(counts["suppressed"], 0, "the seed has no suppression tags");
    // Every rule ran but replica-failed and the read rules that apply
    // (check reads no CloudTrail); those say why not.
    let rules: Vec<&str> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let not: Vec<&str> = doc["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        not,
        [
            "replica-failed",
            "accessed-after-deletion",
            "read-previous-after-rotation"
        ]
    );
    assert_eq!(rules.len(), RuleId::ALL.len() - not.len());
    assert!(!rules.contains(&"replica-failed"));
    assert!(doc["rules"][0]["fix"]
        .as_str()
        .unwrap()
        .contains("rotate-secret"));

    // The findings are the seed's plan.
    assert_eq!(
        named(&doc, "default-kms-key"),
        planned(plan, |p| p.kms_default)
    );
    assert_eq!(
        named(&doc, "missing-required-tags"),
        planned(plan, |p| !p.has_owner_tag)
    );
    assert_eq!(
        named(&doc, "scheduled-for-deletion"),
        planned(plan, |p| p.deleted)
    );
    let failed_rotations = named(&doc, "rotation-failed");
    assert!(!failed_rotations.is_empty());
    assert!(failed_rotations.is_subset(&planned(plan, |p| matches!(
        p.scenario,
        Scenario::RotationFailed | Scenario::RotationFlaky
    ))));
    // The version pass dated every stuck rotation by its pending version.
    for f in findings.iter().filter(|f| f["rule"] == "rotation-failed") {
        assert!(f["since"].is_string(), "{f}");
        let detail = f["detail"].as_str().unwrap();
        assert!(!detail.contains("not fetched"), "{detail}");
    }

    // The same inventory fails a gate at critical: exit 1.
    let gate = run(&config, json_opts(Some(Critical))).await;
    assert_eq!(gate.code, check::EXIT_FAILED, "{}", gate.stderr);
    let doc = gate.json();
    assert_eq!(doc["failed"], true);
    assert_eq!(doc["fail_on"], "critical");
    assert!(gate.stderr.starts_with("FAILED: "), "{}", gate.stderr);

    // Only the info rule: a gate at low passes, at info fails.
    let only = |fail_on| Options {
        rules: vec![RuleId::NoDescription],
        ..json_opts(fail_on)
    };
    let low = run(&config, only(Some(Low))).await;
    assert_eq!(low.code, check::EXIT_PASSED, "{}", low.stderr);
    let doc = low.json();
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule"] == "no-description"));
    assert_eq!(doc["rules"].as_array().unwrap().len(), 1);
    assert_eq!(doc["not_evaluated"].as_array().unwrap().len(), 0);
    assert_eq!(
        run(&config, only(Some(Info))).await.code,
        check::EXIT_FAILED
    );

    // --replicas: DescribeSecret per secret; replica-failed is exactly the plan.
    let replicas = run(
        &config,
        Options {
            replicas: true,
            rules: vec![RuleId::ReplicaFailed],
            ..json_opts(Some(High))
        },
    )
    .await;
    let doc = replicas.json();
    let want = planned(plan, |p| p.scenario == Scenario::ReplicaFailed);
    assert!(!want.is_empty());
    assert_eq!(named(&doc, "replica-failed"), want);
    assert_eq!(doc["not_evaluated"].as_array().unwrap().len(), 0);
    assert_eq!(replicas.code, check::EXIT_FAILED, "replica-failed is high");
}

#[tokio::test]
async fn a_suppression_tag_keeps_the_finding_but_not_the_failure() {
    let seeded = super::seeded(300, 31, NOW).await;
    let config = config_for(&seeded.ep.url());
    let opts = || Options {
        rules: vec![RuleId::RotationFailed],
        ..json_opts(Some(crate::domain::health::Severity::Critical))
    };
    let before = run(&config, opts()).await;
    assert_eq!(before.code, check::EXIT_FAILED);
    let stuck = named(&before.json(), "rotation-failed");
    for name in &stuck {
        seeded
            .source
            .client
            .tag_resource()
            .secret_id(name)
            .tags(
                aws_sdk_secretsmanager::types::Tag::builder()
                    .key("secretscope:suppress")
                    .value("rotation-failed: Lambda replaced in CHG-1234")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let after = run(&config, opts()).await;
    assert_eq!(after.code, check::EXIT_PASSED, "{}", after.stderr);
    let doc = after.json();
    assert_eq!(named(&doc, "rotation-failed"), stuck, "still listed");
    assert_eq!(doc["counts"]["critical"], 0);
    assert_eq!(doc["counts"]["suppressed"], stuck.len());
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["suppressed"] == "Lambda replaced in CHG-1234"));

    // SARIF marks them as externally suppressed.
    let sarif = run(
        &config,
        Options {
            format: Format::Sarif,
            ..opts()
        },
    )
    .await;
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), stuck.len());
    for r in results {
        assert_eq!(r["suppressions"][0]["kind"], "external");
        assert_eq!(r["level"], "error");
    }
}

#[tokio::test]
async fn an_endpoint_that_is_down_exits_2_and_says_why() {
    let seeded = super::seeded(50, 31, NOW).await;
    let config = config_for(&seeded.ep.url());
    seeded.ep.endpoint.set_down(true);
    for format in [Format::Text, Format::Json, Format::Sarif] {
        let out = run(
            &config,
            Options {
                format,
                ..Options::default()
            },
        )
        .await;
        assert_eq!(out.code, check::EXIT_ERROR);
        assert!(out.stdout.is_empty(), "no half report: {}", out.stdout);
        assert!(
            out.stderr
                .starts_with("error: secretscope check could not run: "),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("ListSecrets"), "{}", out.stderr);
    }

    // Nothing listens at all.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let gone = config_for(&format!("http://127.0.0.1:{port}"));
    let out = run(&gone, Options::default()).await;
    assert_eq!(out.code, check::EXIT_ERROR);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        out.stderr
    );
}

/// Each rotation-failed finding carries its diagnosis: the seeded cause as
/// the JSON's `cause`, every check with its status, and the text names the
/// cause and the fix under the finding. `--no-diagnose` leaves it out.
#[tokio::test]
async fn failed_rotations_carry_their_diagnosis() {
    let seeded = super::seeded(300, 42, NOW).await;
    let mut config = config_for(&seeded.ep.url());
    config.diagnosis.calls_per_second = 500.0;
    let only_failed = |format| Options {
        format,
        fail_on: FailOn(None),
        rules: vec![RuleId::RotationFailed],
        ..Options::default()
    };
    let doc = run(&config, only_failed(Format::Json)).await.json();
    let mut checked = 0;
    for f in doc["findings"].as_array().unwrap() {
        let p = seeded
            .plan
            .iter()
            .find(|p| p.arn == f["arn"].as_str().unwrap())
            .unwrap();
        if p.scenario != Scenario::RotationFailed || p.rotation_lambda.is_none() {
            continue;
        }
        let d = &f["diagnosis"];
        assert_eq!(d["cause"].as_str(), p.cause.as_deref(), "{}: {d:#}", p.name);
        assert_eq!(d["checks"].as_array().unwrap().len(), 14);
        assert!(d["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"].is_string() && c["check"].is_string()));
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
    let text = run(&config, only_failed(Format::Text)).await.stdout;
    assert!(text.contains("cause network:"), "{text}");
    assert!(
        text.contains("fix: Create an interface VPC endpoint"),
        "{text}"
    );
    let bare = run(
        &config,
        Options {
            diagnose: false,
            ..only_failed(Format::Json)
        },
    )
    .await
    .json();
    assert!(bare["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("diagnosis").is_none()));
}
