//! What a check found: the findings of every secret, sorted, with the
//! verdict `--fail-on` gives them.

use super::{FailOn, EXIT_FAILED, EXIT_PASSED};
use crate::domain::health::{evaluate, Finding, HealthConfig, ReplicaState, RuleId, Severity};
use crate::domain::{Secret, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

/// One finding with the secret it is about.
#[derive(Clone, Debug)]
pub struct Row {
    pub secret: Arc<Secret>,
    pub finding: Finding,
    /// For a failed rotation: why, from its diagnosis (when made).
    pub diagnosis: Option<Arc<crate::domain::diagnosis::Diagnosis>>,
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
                diagnosis: None,
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
        // The read rules need CloudTrail's GetSecretValue events, which
        // `check` does not read: not evaluated wherever they would apply.
        for rule in [
            RuleId::AccessedAfterDeletion,
            RuleId::ReadPreviousAfterRotation,
            RuleId::NewReader,
        ] {
            let applies = secrets
                .iter()
                .filter(|s| crate::domain::health::not_evaluated(s, &cfg).contains(&rule))
                .count();
            if applies > 0 {
                not_evaluated.push((
                    rule,
                    format!("needs CloudTrail's GetSecretValue events, which check does not read ({applies} secret(s) it applies to); the dashboard's Readers and its background pass read them"),
                ));
            }
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
