//! Simulated rotation.
//!
//! A rotation Lambda's behaviour is encoded in its function name
//! (`SecretsManagerRotation-ok-…`, `-broken-…`, `-flaky-…`, `-missing-…`).
//! RotateSecret creates the AWSPENDING version and then [`run`] plays the four
//! Lambda steps, one `rotation_step` apart, against the store. Each rotation
//! leaves a [`RotationRecord`] on its secret (steps, times, outcome), from which
//! CloudTrail-like events can be served later.

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
}

impl LambdaBehaviour {
    pub fn as_str(self) -> &'static str {
        match self {
            LambdaBehaviour::Ok => "ok",
            LambdaBehaviour::Broken => "broken",
            LambdaBehaviour::Flaky => "flaky",
            LambdaBehaviour::Missing => "missing",
        }
    }

    /// The behaviour encoded in a Lambda ARN (or bare function name). A
    /// function whose name carries no behaviour word behaves `Ok`.
    pub fn of_lambda(arn: &str) -> LambdaBehaviour {
        let name = function_name(arn);
        for part in name.split(['-', '_']) {
            match part.to_ascii_lowercase().as_str() {
                "broken" => return LambdaBehaviour::Broken,
                "flaky" => return LambdaBehaviour::Flaky,
                "missing" => return LambdaBehaviour::Missing,
                "ok" => return LambdaBehaviour::Ok,
                _ => {}
            }
        }
        LambdaBehaviour::Ok
    }
}

pub use crate::domain::secret::function_name;

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
    /// The step at which this rotation was decided to fail, if any.
    #[serde(skip)]
    pub(crate) fail_at: Option<RotationStep>,
}

/// The message a failing step leaves, in the words of a Lambda's log.
pub(crate) fn failure_message(
    lambda: Option<&str>,
    behaviour: LambdaBehaviour,
    step: RotationStep,
) -> String {
    let f = lambda.map(function_name).unwrap_or("managed rotation");
    match behaviour {
        LambdaBehaviour::Flaky => format!("{f} failed at {}: Task timed out after 30.03 seconds", step.as_str()),
        _ => format!(
            "{f} failed at {}: Unable to log into database with pending secret (FATAL: password authentication failed)",
            step.as_str()
        ),
    }
}

/// Plays the four steps of rotation `rotation_id` on secret `seq`, one
/// `rotation_step` apart. Stops early when a step fails or when the rotation
/// was cancelled (its id is no longer the secret's running rotation).
pub(crate) async fn run(inner: Arc<Inner>, seq: u32, rotation_id: u64) {
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
        assert_eq!(function_name(&arn("f:3")), "f");
    }
}
