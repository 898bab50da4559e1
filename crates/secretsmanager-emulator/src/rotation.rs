//! Simulated rotation.
//!
//! A rotation Lambda's behaviour is a word in its function name (words are
//! split at `-` and `_`, any case; the first behaviour word wins):
//! `SecretsManagerRotation-failtest-payments-postgres`. The word decides the
//! function's configuration (what Lambda's GetFunction and GetPolicy answer,
//! see [`crate::infra`]), and a rotation fails the way AWS would *because of
//! that configuration* (or, for the words marked "secret", of the
//! configuration the seed gives the secrets that use it):
//!
//! | word | configuration | RotateSecret / the rotation |
//! | --- | --- | --- |
//! | `ok` | python3.12, Timeout 30, role `SecretsManagerRotation-{team}` allowed DescribeSecret, GetSecretValue, PutSecretValue and UpdateSecretVersionStage, policy lets `secretsmanager.amazonaws.com` invoke it (`AWS:SourceAccount` the account); about half in the VPC `app` (a Secrets Manager endpoint, private DNS on) | succeeds |
//! | `broken` (or `failset`) | healthy | fails at setSecret: `FATAL: password authentication failed for user "app"` (the database refuses: not in metadata) |
//! | `failcreate` | in the VPC `isolated`: its subnets route only `local`, no Secrets Manager endpoint | fails at createSecret: `Task timed out after 30.03 seconds` |
//! | `failtest` | healthy, LastModified 1 to 3 hours before its seeded failure | fails at testSecret: `Unable to log into database with pending secret of secret ARN …` |
//! | `failfinish` | role `SecretsManagerRotation-{team}-nostage`, without UpdateSecretVersionStage | fails at finishSecret: `An error occurred (AccessDeniedException) when calling the UpdateSecretVersionStage operation: User: arn:aws:sts::ACCT:assumed-role/ROLE/FUNC is not authorized to perform: secretsmanager:UpdateSecretVersionStage on resource: … because no identity-based policy allows …` |
//! | `flaky` | healthy | fails at setSecret on its first invocation on this endpoint (`Task timed out after 30.03 seconds`), then succeeds |
//! | `missing` | GetFunction: ResourceNotFoundException | RotateSecret: AccessDeniedException (`Secrets Manager cannot invoke the specified Lambda function. …`) |
//! | `noinvoke` | its policy lets only `events.amazonaws.com` invoke it | RotateSecret: AccessDeniedException, the same text |
//! | `otherregion` | lives in another region than its secret (`us-west-2`, or `us-east-1` for a `us-west-2` secret) | RotateSecret: AccessDeniedException (`Lambda does not exist: …`) |
//! | `timeout` | Timeout 3 | fails at setSecret: `Task timed out after 3.00 seconds` |
//! | `nokmsaccess` | healthy; secret: encrypted with `alias/rotation-keyadmin-only`, whose policy names only `role/KeyAdmin` and whose grants are not the Lambda role's | fails at createSecret: `An error occurred (AccessDeniedException) when calling the GetSecretValue operation: Access to KMS is not allowed` |
//! | `keydisabled` | healthy; secret: encrypted with `alias/rotation-disabled` (Disabled) | fails at createSecret: `An error occurred (DecryptionFailure) when calling the GetSecretValue operation: Secrets Manager can't decrypt the protected secret text using the provided KMS key. <key ARN> is disabled.` |
//! | `keypending` | healthy; secret: encrypted with `alias/rotation-pending-deletion` (PendingDeletion) | the same, `… is pending deletion.` |
//! | `denied` | healthy; secret: its resource policy denies the Lambda's role `secretsmanager:*` | fails at createSecret: `… User: … is not authorized to perform: secretsmanager:GetSecretValue on resource: … with an explicit deny in a resource-based policy` |
//! | `endpointvar` | in the VPC `natless` (a Secrets Manager endpoint with private DNS off, no NAT); SECRETS_MANAGER_ENDPOINT the public name | fails at createSecret: `Task timed out after 30.03 seconds` |
//! | `deprecated` | python3.7 | succeeds: Lambda does not block invoking a function on a deprecated runtime (the dashboard warns) |
//! | `nat` | in the VPC `egress` (no endpoint, `0.0.0.0/0` through a NAT gateway) | succeeds |
//!
//! A name with no behaviour word names no function unless the seed made it
//! (RotateSecret: AccessDeniedException, as for `missing`).
//!
//! RotateSecret creates the AWSPENDING version and then [`run`] plays the
//! four Lambda steps, one `rotation_step` apart, against the store. A failed
//! step leaves the labels where they were: AWSPENDING on the new version
//! ("When rotation is unsuccessful, the AWSPENDING staging label might be
//! attached to an empty secret version." — RotateSecret, API reference),
//! AWSCURRENT where it was. Its message always reads
//! `<function> failed at <step>: …`.
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

/// What a rotation Lambda does when Secrets Manager invokes it: the
/// behaviour word of its name (see the module's table).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum LambdaBehaviour {
    /// Every step succeeds.
    Ok,
    /// Always fails at setSecret: the database refuses the password.
    Broken,
    /// Fails at setSecret on its first invocation after seeding, succeeds afterwards.
    Flaky,
    /// Does not exist: RotateSecret answers AccessDeniedException.
    Missing,
    /// Runs in a VPC with no path to Secrets Manager: times out at createSecret.
    FailCreate,
    /// Changed just before it failed: always fails at testSecret.
    FailTest,
    /// Its role lacks UpdateSecretVersionStage: fails at finishSecret.
    FailFinish,
    /// Its policy does not let Secrets Manager invoke it: RotateSecret
    /// answers AccessDeniedException.
    NoInvoke,
    /// In another region than its secret: RotateSecret answers
    /// AccessDeniedException.
    OtherRegion,
    /// Timeout 3 seconds: times out at setSecret.
    Timeout,
    /// Its secret's key does not let its role decrypt: fails at createSecret.
    NoKmsAccess,
    /// Its secret's key is disabled: fails at createSecret.
    KeyDisabled,
    /// Its secret's key is pending deletion: fails at createSecret.
    KeyPending,
    /// Its secret's resource policy denies its role: fails at createSecret.
    Denied,
    /// SECRETS_MANAGER_ENDPOINT names a host it cannot reach from its VPC:
    /// times out at createSecret.
    EndpointVar,
    /// A deprecated runtime (python3.7): rotates fine.
    Deprecated,
    /// In a VPC that reaches Secrets Manager through a NAT gateway: rotates fine.
    Nat,
}

impl LambdaBehaviour {
    /// Every behaviour, in the order of the module's table.
    pub const ALL: [LambdaBehaviour; 17] = [
        LambdaBehaviour::Ok,
        LambdaBehaviour::Broken,
        LambdaBehaviour::FailCreate,
        LambdaBehaviour::FailTest,
        LambdaBehaviour::FailFinish,
        LambdaBehaviour::Flaky,
        LambdaBehaviour::Missing,
        LambdaBehaviour::NoInvoke,
        LambdaBehaviour::OtherRegion,
        LambdaBehaviour::Timeout,
        LambdaBehaviour::NoKmsAccess,
        LambdaBehaviour::KeyDisabled,
        LambdaBehaviour::KeyPending,
        LambdaBehaviour::Denied,
        LambdaBehaviour::EndpointVar,
        LambdaBehaviour::Deprecated,
        LambdaBehaviour::Nat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LambdaBehaviour::Ok => "ok",
            LambdaBehaviour::Broken => "broken",
            LambdaBehaviour::Flaky => "flaky",
            LambdaBehaviour::Missing => "missing",
            LambdaBehaviour::FailCreate => "failcreate",
            LambdaBehaviour::FailTest => "failtest",
            LambdaBehaviour::FailFinish => "failfinish",
            LambdaBehaviour::NoInvoke => "noinvoke",
            LambdaBehaviour::OtherRegion => "otherregion",
            LambdaBehaviour::Timeout => "timeout",
            LambdaBehaviour::NoKmsAccess => "nokmsaccess",
            LambdaBehaviour::KeyDisabled => "keydisabled",
            LambdaBehaviour::KeyPending => "keypending",
            LambdaBehaviour::Denied => "denied",
            LambdaBehaviour::EndpointVar => "endpointvar",
            LambdaBehaviour::Deprecated => "deprecated",
            LambdaBehaviour::Nat => "nat",
        }
    }

    /// The Lambdas that always fail, one per step, in step order.
    pub const FAILING: [LambdaBehaviour; 4] = [
        LambdaBehaviour::FailCreate,
        LambdaBehaviour::Broken,
        LambdaBehaviour::FailTest,
        LambdaBehaviour::FailFinish,
    ];

    /// The step at which a rotation by this Lambda fails on its
    /// `attempt`-th invocation on this endpoint (1 for the first), on the
    /// secrets the seed gives it (the key words' and `denied`'s cause is in
    /// those secrets); None when it succeeds or is never invoked.
    pub fn fails_at(self, attempt: u32) -> Option<RotationStep> {
        use LambdaBehaviour as B;
        match self {
            B::FailCreate
            | B::EndpointVar
            | B::NoKmsAccess
            | B::KeyDisabled
            | B::KeyPending
            | B::Denied => Some(RotationStep::CreateSecret),
            B::Broken | B::Timeout => Some(RotationStep::SetSecret),
            B::Flaky if attempt <= 1 => Some(RotationStep::SetSecret),
            B::FailTest => Some(RotationStep::TestSecret),
            B::FailFinish => Some(RotationStep::FinishSecret),
            B::Ok
            | B::Flaky
            | B::Missing
            | B::NoInvoke
            | B::OtherRegion
            | B::Deprecated
            | B::Nat => None,
        }
    }

    /// True when RotateSecret with this Lambda answers AccessDeniedException
    /// (Secrets Manager cannot invoke it).
    pub fn refused(self) -> bool {
        matches!(
            self,
            LambdaBehaviour::Missing | LambdaBehaviour::NoInvoke | LambdaBehaviour::OtherRegion
        )
    }

    /// The misconfiguration that makes its rotations fail, as the dashboard's
    /// diagnosis names it (`network`, `kms-key`, …); None when it rotates
    /// fine or fails for a reason metadata cannot show (`broken`: the
    /// database refuses; `flaky`: a timeout that passed).
    pub fn cause(self) -> Option<&'static str> {
        use LambdaBehaviour as B;
        match self {
            B::FailCreate | B::EndpointVar => Some("network"),
            B::FailTest => Some("lambda-changed"),
            B::FailFinish => Some("role-permission"),
            B::Missing => Some("lambda-missing"),
            B::NoInvoke => Some("lambda-permission"),
            B::OtherRegion => Some("lambda-region"),
            B::Timeout => Some("lambda-timeout"),
            B::NoKmsAccess => Some("kms-access"),
            B::KeyDisabled | B::KeyPending => Some("kms-key"),
            B::Denied => Some("resource-policy"),
            B::Ok | B::Broken | B::Flaky | B::Deprecated | B::Nat => None,
        }
    }

    /// The behaviour one word of a name names, if any (any case).
    pub fn from_word(word: &str) -> Option<LambdaBehaviour> {
        let w = word.to_ascii_lowercase();
        if w == "failset" {
            return Some(LambdaBehaviour::Broken);
        }
        Self::ALL.into_iter().find(|b| b.as_str() == w)
    }

    /// The first behaviour word of a Lambda ARN's (or bare name's) function name.
    pub fn word_in(arn: &str) -> Option<LambdaBehaviour> {
        function_name(arn)
            .split(['-', '_'])
            .find_map(LambdaBehaviour::from_word)
    }

    /// The behaviour encoded in a Lambda ARN (or bare function name). A
    /// function whose name carries no behaviour word behaves `Ok` (if it
    /// exists: see [`crate::infra`]).
    pub fn of_lambda(arn: &str) -> LambdaBehaviour {
        Self::word_in(arn).unwrap_or(LambdaBehaviour::Ok)
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
    /// The step at which this rotation was decided to fail, if any, and
    /// the message it fails with (see `crate::infra::verdict`).
    #[serde(skip)]
    pub(crate) fail_at: Option<(RotationStep, String)>,
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
        for b in LambdaBehaviour::ALL {
            let named = arn(&format!(
                "SecretsManagerRotation-{}-payments-postgres",
                b.as_str()
            ));
            assert_eq!(LambdaBehaviour::word_in(&named), Some(b));
            assert_eq!(
                serde_json::to_value(b).unwrap(),
                serde_json::json!(b.as_str())
            );
            // A Lambda RotateSecret cannot invoke runs no step.
            assert!(!(b.refused() && b.fails_at(1).is_some()), "{b:?}");
        }
        assert_eq!(LambdaBehaviour::word_in(&arn("my-rotator")), None);
    }
}
