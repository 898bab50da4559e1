//! Simulated rotation.
//!
//! A rotation Lambda's behaviour is encoded in one word of its function
//! name (words are split at `-` and `_`, any case; the first behaviour word
//! wins; a name with none behaves `ok`):
//!
//! | word | the Lambda |
//! | --- | --- |
//! | `ok` | succeeds at every step |
//! | `broken` (or `failset`) | always fails at setSecret |
//! | `failcreate` | always fails at createSecret |
//! | `failtest` | always fails at testSecret |
//! | `failfinish` | always fails at finishSecret |
//! | `flaky` | fails at setSecret on its first invocation on this endpoint, then succeeds |
//! | `missing` | cannot be invoked: RotateSecret answers AccessDeniedException |
//!
//! so `SecretsManagerRotation-failtest-payments-postgres` fails at
//! testSecret. RotateSecret creates the AWSPENDING version and then [`run`]
//! plays the four Lambda steps, one `rotation_step` apart, against the
//! store. A failed step leaves the labels where they were: AWSPENDING on
//! the new version ("When rotation is unsuccessful, the AWSPENDING staging
//! label might be attached to an empty secret version." — RotateSecret, API
//! reference), AWSCURRENT where it was. Its message, in the words of the
//! rotation templates' log, always reads `<function> failed at <step>: …`.
//!
//! "If any rotation step fails, Secrets Manager retries the entire rotation
//! process multiple times." (user guide): after a failure [`run`] waits
//! [`ServiceRetries::delay_ms`](super::ServiceRetries) and plays the same
//! rotation again (same version), up to `retries` times (set at start by
//! `LocalOptions::service_retry_delay` and `service_retries`, later by
//! `POST /__secretscope/service-retries`), while nobody has touched the secret since
//! (see `Store::service_retry`). Each rotation leaves a [`RotationRecord`]
//! on its secret (steps, times, outcome), from which CloudTrail-like events
//! are served.

use super::seed::EpochMs;
use super::Inner;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a rotation Lambda does when Secrets Manager invokes it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum LambdaBehaviour {
    /// Every step succeeds.
    Ok,
    /// Always fails at setSecret.
    Broken,
    /// Fails at setSecret on its first invocation after seeding, succeeds afterwards.
    Flaky,
    /// Cannot be invoked: RotateSecret answers AccessDeniedException.
    Missing,
    /// Always fails at createSecret.
    FailCreate,
    /// Always fails at testSecret.
    FailTest,
    /// Always fails at finishSecret.
    FailFinish,
}

impl LambdaBehaviour {
    pub fn as_str(self) -> &'static str {
        match self {
            LambdaBehaviour::Ok => "ok",
            LambdaBehaviour::Broken => "broken",
            LambdaBehaviour::Flaky => "flaky",
            LambdaBehaviour::Missing => "missing",
            LambdaBehaviour::FailCreate => "failcreate",
            LambdaBehaviour::FailTest => "failtest",
            LambdaBehaviour::FailFinish => "failfinish",
        }
    }

    /// The Lambdas that always fail, one per step, in step order.
    pub const FAILING: [LambdaBehaviour; 4] = [
        LambdaBehaviour::FailCreate,
        LambdaBehaviour::Broken,
        LambdaBehaviour::FailTest,
        LambdaBehaviour::FailFinish,
    ];

    /// The step at which the Lambda fails on its `attempt`-th invocation on
    /// this endpoint (1 for the first), if it fails.
    pub fn fails_at(self, attempt: u32) -> Option<RotationStep> {
        match self {
            LambdaBehaviour::FailCreate => Some(RotationStep::CreateSecret),
            LambdaBehaviour::Broken => Some(RotationStep::SetSecret),
            LambdaBehaviour::Flaky if attempt <= 1 => Some(RotationStep::SetSecret),
            LambdaBehaviour::FailTest => Some(RotationStep::TestSecret),
            LambdaBehaviour::FailFinish => Some(RotationStep::FinishSecret),
            LambdaBehaviour::Ok | LambdaBehaviour::Flaky | LambdaBehaviour::Missing => None,
        }
    }

    /// The behaviour encoded in a Lambda ARN (or bare function name). A
    /// function whose name carries no behaviour word behaves `Ok`.
    pub fn of_lambda(arn: &str) -> LambdaBehaviour {
        let name = function_name(arn);
        for part in name.split(['-', '_']) {
            match part.to_ascii_lowercase().as_str() {
                "broken" | "failset" => return LambdaBehaviour::Broken,
                "failcreate" => return LambdaBehaviour::FailCreate,
                "failtest" => return LambdaBehaviour::FailTest,
                "failfinish" => return LambdaBehaviour::FailFinish,
                "flaky" => return LambdaBehaviour::Flaky,
                "missing" => return LambdaBehaviour::Missing,
                "ok" => return LambdaBehaviour::Ok,
                _ => {}
            }
        }
        LambdaBehaviour::Ok
    }
}

pub use crate::arn::function_name;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RotationStep {
    #[serde(rename = "createSecret")]
    CreateSecret,
    #[serde(rename = "setSecret")]
    SetSecret,
    #[serde(rename = "testSecret")]
    TestSecret,
    #[serde(rename = "finishSecret")]
    FinishSecret,
}

impl RotationStep {
    pub const ALL: [RotationStep; 4] = [
        RotationStep::CreateSecret,
        RotationStep::SetSecret,
        RotationStep::TestSecret,
        RotationStep::FinishSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RotationStep::CreateSecret => "createSecret",
            RotationStep::SetSecret => "setSecret",
            RotationStep::TestSecret => "testSecret",
            RotationStep::FinishSecret => "finishSecret",
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RotationOutcome {
    InProgress,
    Succeeded,
    Failed,
    /// CancelRotateSecret (or DeleteSecret) stopped it.
    Cancelled,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub step: RotationStep,
    pub at: EpochMs,
    pub ok: bool,
    pub message: Option<String>,
}

/// One rotation of one secret, as the demo endpoint ran (or, for seeded
/// history, as the seed says it ran).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RotationRecord {
    pub id: u64,
    pub version_id: String,
    pub lambda_arn: Option<String>,
    pub client_request_token: Option<String>,
    /// false when RotateImmediately was false: only testSecret ran.
    pub immediate: bool,
    pub started: EpochMs,
    pub finished: Option<EpochMs>,
    pub steps: Vec<StepRecord>,
    pub outcome: RotationOutcome,
    pub message: Option<String>,
    /// Seeded history rather than a rotation run by this process.
    pub seeded: bool,
    /// Started by Secrets Manager retrying a failed rotation, not by a
    /// RotateSecret call.
    #[serde(default)]
    pub service_retry: bool,
    /// The step at which this rotation was decided to fail, if any.
    #[serde(skip)]
    pub(crate) fail_at: Option<RotationStep>,
}

impl RotationRecord {
    /// Rotation `id` of version `version_id` by `lambda_arn`, started at
    /// `started` by a RotateSecret call that asked for it at once: in
    /// progress, no step run yet.
    pub(crate) fn new(
        id: u64,
        version_id: String,
        lambda_arn: Option<String>,
        started: EpochMs,
    ) -> RotationRecord {
        RotationRecord {
            id,
            version_id,
            lambda_arn,
            client_request_token: None,
            immediate: true,
            started,
            finished: None,
            steps: Vec::new(),
            outcome: RotationOutcome::InProgress,
            message: None,
            seeded: false,
            service_retry: false,
            fail_at: None,
        }
    }
}

/// The message a failing step leaves: `<function> failed at <step>: …`,
/// the rest in the words of the AWS rotation templates' log (or of the
/// Lambda runtime, for a flaky one that timed out).
pub(crate) fn failure_message(
    lambda: Option<&str>,
    behaviour: LambdaBehaviour,
    step: RotationStep,
    secret_arn: &str,
) -> String {
    let f = lambda.map(function_name).unwrap_or("managed rotation");
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME
    let mut parts = lambda.unwrap_or_default().split(':').skip(3);
    let region = parts
        .next()
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1");
    let account = parts
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or("123456789012");
    // A flaky Lambda (and, in the seed's history, one fixed since) timed out.
    let why = if matches!(behaviour, LambdaBehaviour::Flaky | LambdaBehaviour::Ok) {
        "Task timed out after 30.03 seconds".to_string()
    } else {
        match step {
            // The Lambda cannot reach Secrets Manager (botocore's text).
            RotationStep::CreateSecret => format!(
                "Connect timeout on endpoint URL: \"https://secretsmanager.{region}.amazonaws.com/\""
            ),
            RotationStep::SetSecret => format!(
                "Unable to log into database with previous, current, or pending secret of secret arn {secret_arn}"
            ),
            RotationStep::TestSecret => format!(
                "Unable to log into database with pending secret of secret ARN {secret_arn}"
            ),
            RotationStep::FinishSecret => format!(
                "An error occurred (AccessDeniedException) when calling the UpdateSecretVersionStage \
                 operation: User: arn:aws:sts::{account}:assumed-role/{f}-role/{f} is not authorized to \
                 perform: secretsmanager:UpdateSecretVersionStage on resource: {secret_arn} because no \
                 identity-based policy allows the secretsmanager:UpdateSecretVersionStage action"
            ),
        }
    };
    format!("{f} failed at {}: {why}", step.as_str())
}

/// Plays rotation `rotation_id` on secret `seq` (see [`play`]); when it
/// fails, Secrets Manager's own retries follow: up to `retries` times, each
/// `delay_ms` after the failure before it (as [`super::ServiceRetries`]
/// says when the failure happens), the same rotation again, as long as
/// nobody changed the secret in between.
pub(crate) async fn run(inner: Arc<Inner>, seq: u32, rotation_id: u64) {
    let mut rotation_id = rotation_id;
    let mut retried = 0;
    loop {
        play(&inner, seq, rotation_id).await;
        let failed = inner.store().outcome(seq, rotation_id) == Some(RotationOutcome::Failed);
        let how = inner.service_retries();
        if !failed || retried >= how.retries {
            return;
        }
        retried += 1;
        tokio::time::sleep(std::time::Duration::from_millis(how.delay_ms)).await;
        let now = inner.clock.now_ms();
        match inner.store_mut().service_retry(seq, rotation_id, now) {
            Some(id) => rotation_id = id,
            None => return,
        }
    }
}

/// Plays the four steps of rotation `rotation_id` on secret `seq`, one
/// `rotation_step` apart. Stops early when a step fails or when the rotation
/// was cancelled (its id is no longer the secret's running rotation).
async fn play(inner: &Inner, seq: u32, rotation_id: u64) {
    for step in RotationStep::ALL {
        tokio::time::sleep(inner.rotation_step).await;
        let now = inner.clock.now_ms();
        let keep_going = inner.store_mut().rotation_step(seq, rotation_id, step, now);
        if !keep_going {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_from_lambda_names() {
        let arn = |n: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{n}");
        assert_eq!(
            LambdaBehaviour::of_lambda(&arn("SecretsManagerRotation-ok-payments-postgres")),
            LambdaBehaviour::Ok
        );
        assert_eq!(
            LambdaBehaviour::of_lambda(&arn("SecretsManagerRotation-broken-x")),
            LambdaBehaviour::Broken
        );
        assert_eq!(
            LambdaBehaviour::of_lambda(&arn("SecretsManagerRotation-flaky-x:live")),
            LambdaBehaviour::Flaky
        );
        assert_eq!(
            LambdaBehaviour::of_lambda(&arn("SecretsManagerRotation-missing-x")),
            LambdaBehaviour::Missing
        );
        assert_eq!(
            LambdaBehaviour::of_lambda(&arn("my-rotator")),
            LambdaBehaviour::Ok
        );
        for (word, step) in [
            ("failcreate", RotationStep::CreateSecret),
            ("failset", RotationStep::SetSecret),
            ("broken", RotationStep::SetSecret),
            ("FailTest", RotationStep::TestSecret),
            ("failfinish", RotationStep::FinishSecret),
        ] {
            let b = LambdaBehaviour::of_lambda(&arn(&format!("SecretsManagerRotation-{word}-x")));
            assert_eq!(b.fails_at(1), Some(step), "{word}");
            assert_eq!(b.fails_at(5), Some(step), "{word} fails every time");
        }
        assert_eq!(
            LambdaBehaviour::Flaky.fails_at(1),
            Some(RotationStep::SetSecret)
        );
        assert_eq!(LambdaBehaviour::Flaky.fails_at(2), None);
        for b in LambdaBehaviour::FAILING {
            assert_eq!(
                LambdaBehaviour::of_lambda(&arn(&format!("x-{}-y", b.as_str()))),
                b
            );
        }
        assert_eq!(function_name(&arn("f:3")), "f");
    }

    /// The step a message names first (any case), as a reader of CloudWatch
    /// or of the rotation's error finds it (secretscope's
    /// `RotationStep::in_message` reads it so).
    fn first_step_in(message: &str) -> Option<RotationStep> {
        let lower = message.to_ascii_lowercase();
        RotationStep::ALL
            .into_iter()
            .filter_map(|s| {
                lower
                    .find(&s.as_str().to_ascii_lowercase())
                    .map(|at| (at, s))
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, s)| s)
    }

    /// Each step's message names that step first, and speaks of what that
    /// step does.
    #[test]
    fn failure_messages_name_their_step() {
        let secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/db-AbCdEf";
        let says = [
            "Connect timeout on endpoint URL: \"https://secretsmanager.eu-west-1.amazonaws.com/\"",
            "Unable to log into database with previous, current, or pending secret",
            "Unable to log into database with pending secret of secret ARN",
            "is not authorized to perform: secretsmanager:UpdateSecretVersionStage on resource: arn:aws:secretsmanager:eu-west-1",
        ];
        for (behaviour, said) in LambdaBehaviour::FAILING.into_iter().zip(says) {
            let lambda = format!(
                "arn:aws:lambda:eu-west-1:210987654321:function:SecretsManagerRotation-{}-payments-postgres",
                behaviour.as_str()
            );
            let step = behaviour.fails_at(1).unwrap();
            let m = failure_message(Some(&lambda), behaviour, step, secret);
            assert!(
                m.starts_with(&format!(
                    "SecretsManagerRotation-{}-payments-postgres failed at {}: ",
                    behaviour.as_str(),
                    step.as_str()
                )),
                "{m}"
            );
            assert!(m.contains(said), "{m}");
            assert_eq!(
                first_step_in(&m).map(|p| p.as_str()),
                Some(step.as_str()),
                "{m}"
            );
        }
        let flaky = failure_message(
            None,
            LambdaBehaviour::Flaky,
            RotationStep::SetSecret,
            secret,
        );
        assert_eq!(
            flaky,
            "managed rotation failed at setSecret: Task timed out after 30.03 seconds"
        );
    }
}
