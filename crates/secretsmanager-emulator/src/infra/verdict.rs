//! How a rotation goes, decided from the configuration the services show:
//! whether Secrets Manager may invoke the Lambda at all (RotateSecret's
//! AccessDeniedException otherwise), and else the first step at which what
//! the Lambda meets fails it, in the words the rotation templates (and the
//! AWS calls they make) log.
//!
//! - RotateSecret: "When you add a Lambda rotation function Amazon Resource
//!   Name (ARN) to your secret, Secrets Manager checks the permissions of the
//!   function. The role policy for the function must grant the Secrets
//!   Manager service principal secretsmanager.amazonaws.com permission to
//!   invoke the function (lambda:InvokeFunction)." (user guide,
//!   troubleshoot_rotation, "I get 'access denied' when trying to configure
//!   rotation for my secret"); "The Lambda function and the Secrets Manager
//!   secret that invokes the function must be in the same AWS Region. If
//!   located different regions, you receive a 'Lambda does not exist' error
//!   message" (user guide, rotating-secrets-lambda-function-customizing).
//! - createSecret: "The most common reason for a timeout during rotation is
//!   that the rotation function cannot access either Secrets Manager or the
//!   target database or service." (troubleshoot_rotation); the secret's
//!   resource policy, the role's policies and the KMS key then decide
//!   GetSecretValue (DecryptionFailure: "Secrets Manager can't decrypt the
//!   protected secret text using the provided KMS key." — GetSecretValue,
//!   API reference).
//! - setSecret: the database (`broken`), the function's timeout, a `flaky`
//!   first attempt; testSecret: a `failtest` function's bad change;
//!   finishSecret: UpdateSecretVersionStage on the role.

use super::{iam, names::parse_arn, Infra};
use crate::rotation::{LambdaBehaviour, RotationStep};
use crate::seed::SecretData;

/// RotateSecret's answer when Secrets Manager cannot invoke the function.
pub(crate) const ACCESS_DENIED_LAMBDA: &str = "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.";

/// Seconds a setSecret needs (it talks to the database).
const SET_SECRET_SECONDS: u32 = 5;

/// How a rotation of a secret by a Lambda goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Secrets Manager cannot invoke it: RotateSecret answers
    /// AccessDeniedException with this message.
    Refused(String),
    /// It runs, and fails at this step with this message (`<function>
    /// failed at <step>: …`), or succeeds.
    Runs(Option<(RotationStep, String)>),
}

fn call_error(code: &str, op: &str, message: &str) -> String {
    format!("An error occurred ({code}) when calling the {op} operation: {message}")
}

/// What a running rotation's Lambda is and may do.
struct Runner<'a> {
    f: super::Function,
    /// Its role session (`arn:aws:sts::ACCT:assumed-role/ROLE/FUNCTION`).
    session: String,
    role: Option<iam::Role>,
    secret: &'a SecretData,
}

/// A step's failure, in the `<function> failed at <step>: …` form.
type Failure = (RotationStep, String);

impl Runner<'_> {
    fn allows(&self, action: &str) -> bool {
        self.role.as_ref().is_some_and(|r| r.allows(action))
    }

    fn failed(&self, step: RotationStep, why: String) -> Failure {
        (
            step,
            format!("{} failed at {}: {why}", self.f.name, step.as_str()),
        )
    }

    /// createSecret: it reaches Secrets Manager, and may DescribeSecret,
    /// GetSecretValue (the resource policy, its role, the KMS key) and
    /// PutSecretValue.
    fn create_secret(&self, infra: &Infra) -> Result<(), Failure> {
        let (f, arn, session) = (&self.f, &self.secret.arn, &self.session);
        let step = RotationStep::CreateSecret;
        let reaches = f.vpc.is_none_or(|kind| {
            super::ec2::vpc(&f.account, &f.region, kind)
                .reaches_secrets_manager(f.endpoint_variable(), &f.region)
        });
        if !reaches {
            let why = format!("Task timed out after {}.03 seconds", f.timeout);
            return Err(self.failed(step, why));
        }
        let denied_by_policy = self.secret.resource_policy.as_deref().is_some_and(|p| {
            [f.role.as_str(), session.as_str()].iter().any(|who| {
                super::policy::explicitly_denies(p, who, "secretsmanager:GetSecretValue", arn)
            })
        });
        if denied_by_policy {
            let why = format!(
                "User: {session} is not authorized to perform: secretsmanager:GetSecretValue on \
                 resource: {arn} with an explicit deny in a resource-based policy"
            );
            let e = call_error("AccessDeniedException", "GetSecretValue", &why);
            return Err(self.failed(step, e));
        }
        for op in ["DescribeSecret", "GetSecretValue", "PutSecretValue"] {
            let action = format!("secretsmanager:{op}");
            if !self.allows(&action) {
                let why = super::not_authorized(session, &action, Some(arn));
                return Err(self.failed(step, call_error("AccessDeniedException", op, &why)));
            }
        }
        let (account, region) = parse_arn(arn)
            .map(|a| (a.account, a.region))
            .unwrap_or_default();
        let key = self
            .secret
            .kms_key_id
            .as_deref()
            .unwrap_or("alias/aws/secretsmanager");
        let Some(k) = infra.key(account, region, key, true) else {
            // A key the emulator does not know (made up by a test): usable.
            return Ok(());
        };
        let state = match k.state() {
            "Disabled" => Some("disabled"),
            "PendingDeletion" => Some("pending deletion"),
            _ => None,
        };
        if let Some(state) = state {
            let why = format!(
                "Secrets Manager can't decrypt the protected secret text using the provided KMS \
                 key. {} is {state}.",
                k.arn
            );
            return Err(self.failed(
                step,
                call_error("DecryptionFailure", "GetSecretValue", &why),
            ));
        }
        if !k.lets_decrypt(&f.role, session, self.allows("kms:Decrypt")) {
            let e = call_error(
                "AccessDeniedException",
                "GetSecretValue",
                "Access to KMS is not allowed",
            );
            return Err(self.failed(step, e));
        }
        Ok(())
    }

    /// setSecret (the database, the function's timeout), testSecret (a bad
    /// change), finishSecret (UpdateSecretVersionStage on its role).
    fn later_steps(&self, attempt: u32) -> Result<(), Failure> {
        let f = &self.f;
        if f.timeout < SET_SECRET_SECONDS {
            let why = format!("Task timed out after {}.00 seconds", f.timeout);
            return Err(self.failed(RotationStep::SetSecret, why));
        }
        match f.behaviour {
            LambdaBehaviour::Broken => {
                let why = "FATAL: password authentication failed for user \"app\"";
                return Err(self.failed(RotationStep::SetSecret, why.into()));
            }
            LambdaBehaviour::Flaky if attempt <= 1 => {
                let why = "Task timed out after 30.03 seconds";
                return Err(self.failed(RotationStep::SetSecret, why.into()));
            }
            LambdaBehaviour::FailTest => {
                let why = format!(
                    "Unable to log into database with pending secret of secret ARN {}",
                    self.secret.arn
                );
                return Err(self.failed(RotationStep::TestSecret, why));
            }
            _ => {}
        }
        let action = "secretsmanager:UpdateSecretVersionStage";
        if !self.allows(action) {
            let why = super::not_authorized(&self.session, action, Some(&self.secret.arn));
            let e = call_error("AccessDeniedException", "UpdateSecretVersionStage", &why);
            return Err(self.failed(RotationStep::FinishSecret, e));
        }
        Ok(())
    }
}

impl Infra {
    /// How the `attempt`-th rotation (1 for the first on this endpoint) of
    /// secret `d` by `lambda` goes (no Lambda: a service's managed rotation,
    /// which succeeds).
    pub(crate) fn verdict(&self, d: &SecretData, lambda: Option<&str>, attempt: u32) -> Verdict {
        let Some(lambda) = lambda else {
            return Verdict::Runs(None);
        };
        let (account, region) = parse_arn(&d.arn)
            .map(|a| (a.account, a.region))
            .unwrap_or_default();
        let (fn_region, fn_account, name) = super::lambda_location(lambda, account, region);
        let Some(f) = self.function(fn_account, fn_region, name) else {
            return Verdict::Refused(ACCESS_DENIED_LAMBDA.to_string());
        };
        if fn_region != region {
            return Verdict::Refused(format!(
                "Lambda does not exist: {} is in {fn_region}; a rotation function must be in the \
                 secret's Region ({region}).",
                f.arn
            ));
        }
        if !f.invokable_by_secrets_manager(account) {
            return Verdict::Refused(ACCESS_DENIED_LAMBDA.to_string());
        }
        let runner = Runner {
            session: format!(
                "arn:aws:sts::{fn_account}:assumed-role/{}/{}",
                f.role_name, f.name
            ),
            role: iam::role(fn_account, &f.role),
            secret: d,
            f,
        };
        let outcome = runner
            .create_secret(self)
            .and_then(|()| runner.later_steps(attempt));
        Verdict::Runs(outcome.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::names::SpecialKey;
    use crate::seed::{SecretData, SeedSecret};

    const A: &str = "210987654321";
    const R: &str = "eu-west-1";

    fn secret(kms: Option<String>, policy: Option<String>) -> SecretData {
        let seeds: Vec<SeedSecret> = crate::seed::generate(1, 1, 1_760_000_000, A, R);
        SecretData {
            arn: format!("arn:aws:secretsmanager:{R}:{A}:secret:prod/db-AbCdEf"),
            kms_key_id: kms,
            resource_policy: policy,
            ..seeds[0].data.clone()
        }
    }

    fn lambda(word: &str) -> String {
        format!("arn:aws:lambda:{R}:{A}:function:SecretsManagerRotation-{word}-payments-postgres")
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

    /// Each word's rotation, on the secret the seed would give it, goes as
    /// the table in `rotation.rs` says, and a failure's message names its
    /// step first.
    #[test]
    fn each_word_fails_as_its_configuration_makes_it() {
        let infra = Infra::new(1_760_000_000_000);
        let plain = secret(None, None);
        let arn = plain.arn.clone();
        let session = |role: &str, word: &str| {
            format!("arn:aws:sts::{A}:assumed-role/{role}/SecretsManagerRotation-{word}-payments-postgres")
        };
        let deny = serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny",
            "Principal": {"AWS": format!("arn:aws:iam::{A}:role/SecretsManagerRotation-payments")},
            "Action": "secretsmanager:*", "Resource": "*"}]})
        .to_string();
        let on = |b: LambdaBehaviour| match b {
            LambdaBehaviour::NoKmsAccess => secret(Some(SpecialKey::KeyAdminOnly.arn(A, R)), None),
            LambdaBehaviour::KeyDisabled => secret(Some(SpecialKey::Disabled.arn(A, R)), None),
            LambdaBehaviour::KeyPending => {
                secret(Some(SpecialKey::PendingDeletion.arn(A, R)), None)
            }
            LambdaBehaviour::Denied => secret(None, Some(deny.clone())),
            _ => plain.clone(),
        };
        for b in LambdaBehaviour::ALL {
            if b == LambdaBehaviour::OtherRegion {
                continue;
            }
            let v = infra.verdict(&on(b), Some(&lambda(b.as_str())), 1);
            match (b.refused(), b.fails_at(1), &v) {
                (true, _, Verdict::Refused(m)) => assert_eq!(m, ACCESS_DENIED_LAMBDA),
                (false, None, Verdict::Runs(None)) => {}
                (false, Some(step), Verdict::Runs(Some((at, m)))) => {
                    assert_eq!(*at, step, "{b:?}: {m}");
                    assert!(
                        m.starts_with(&format!(
                            "SecretsManagerRotation-{}-payments-postgres failed at {}: ",
                            b.as_str(),
                            step.as_str()
                        )),
                        "{m}"
                    );
                    assert_eq!(first_step_in(m), Some(step), "{m}");
                }
                other => panic!("{b:?}: {other:?}"),
            }
        }
        let says = |b: LambdaBehaviour| match infra.verdict(&on(b), Some(&lambda(b.as_str())), 1) {
            Verdict::Runs(Some((_, m))) => m,
            other => panic!("{other:?}"),
        };
        assert!(says(LambdaBehaviour::FailCreate).ends_with("Task timed out after 30.03 seconds"));
        assert!(says(LambdaBehaviour::EndpointVar).ends_with("Task timed out after 30.03 seconds"));
        assert!(says(LambdaBehaviour::Timeout)
            .ends_with("failed at setSecret: Task timed out after 3.00 seconds"));
        assert!(says(LambdaBehaviour::Broken)
            .ends_with("FATAL: password authentication failed for user \"app\""));
        assert!(says(LambdaBehaviour::FailTest)
            .ends_with(&format!("with pending secret of secret ARN {arn}")));
        assert!(says(LambdaBehaviour::FailFinish).ends_with(&format!(
            "An error occurred (AccessDeniedException) when calling the UpdateSecretVersionStage \
             operation: User: {} is not authorized to perform: secretsmanager:UpdateSecretVersionStage \
             on resource: {arn} because no identity-based policy allows the \
             secretsmanager:UpdateSecretVersionStage action",
            session("SecretsManagerRotation-payments-nostage", "failfinish")
        )));
        assert!(says(LambdaBehaviour::NoKmsAccess).ends_with(
            "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: \
             Access to KMS is not allowed"
        ));
        assert!(says(LambdaBehaviour::KeyDisabled).ends_with(&format!(
            "An error occurred (DecryptionFailure) when calling the GetSecretValue operation: Secrets \
             Manager can't decrypt the protected secret text using the provided KMS key. {} is disabled.",
            SpecialKey::Disabled.arn(A, R)
        )));
        assert!(says(LambdaBehaviour::KeyPending).ends_with("is pending deletion."));
        assert!(says(LambdaBehaviour::Denied).ends_with(&format!(
            "User: {} is not authorized to perform: secretsmanager:GetSecretValue on resource: {arn} \
             with an explicit deny in a resource-based policy",
            session("SecretsManagerRotation-payments", "denied")
        )));
        // A flaky Lambda's second attempt succeeds.
        assert_eq!(
            infra.verdict(&plain, Some(&lambda("flaky")), 2),
            Verdict::Runs(None)
        );
        // The cause is the configuration: an `ok` Lambda on a disabled key's
        // secret fails the same way, a `keydisabled` one on a healthy secret
        // does not.
        assert!(matches!(
            infra.verdict(&on(LambdaBehaviour::KeyDisabled), Some(&lambda("ok")), 1),
            Verdict::Runs(Some((RotationStep::CreateSecret, _)))
        ));
        assert_eq!(
            infra.verdict(&plain, Some(&lambda("keydisabled")), 1),
            Verdict::Runs(None)
        );
        // Managed rotation, and functions that do not exist.
        assert_eq!(infra.verdict(&plain, None, 1), Verdict::Runs(None));
        assert_eq!(
            infra.verdict(&plain, Some("no-such-function"), 1),
            Verdict::Refused(ACCESS_DENIED_LAMBDA.into())
        );
    }

    /// Every seeded secret's Lambda exists where its ARN says (but the
    /// `missing` ones), and its next rotation goes as its plan announces:
    /// refused, failing at the planned step, or succeeding.
    #[test]
    fn every_seeded_rotation_goes_as_planned() {
        for (n, seed) in [(300, 42), (1000, 7)] {
            let seeds = crate::seed::generate(n, seed, 1_760_000_000, A, R);
            let mut infra = Infra::new(1_760_000_000_000);
            infra.register(A, R, &seeds);
            for s in &seeds {
                let lambda = s.data.rotation_lambda_arn.as_deref();
                if let Some(l) = lambda {
                    let (r, a, name) = crate::infra::lambda_location(l, A, R);
                    let missing = s.plan.lambda_behaviour == Some(LambdaBehaviour::Missing);
                    assert_eq!(infra.function(a, r, name).is_none(), missing, "{l}");
                }
                match infra.verdict(&s.data, lambda, 1) {
                    Verdict::Refused(_) => assert!(s.plan.rotate_refused, "{}", s.data.name),
                    Verdict::Runs(failure) => {
                        assert!(!s.plan.rotate_refused, "{}", s.data.name);
                        assert_eq!(
                            failure.map(|(step, _)| step),
                            s.plan.fails_at,
                            "{}",
                            s.data.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_function_in_another_region_is_refused() {
        let mut infra = Infra::new(1_760_000_000_000);
        let other = format!("arn:aws:lambda:us-west-2:{A}:function:SecretsManagerRotation-otherregion-payments-postgres");
        let mut d = secret(None, None);
        d.rotation_lambda_arn = Some(other.clone());
        infra.register(
            A,
            R,
            &[SeedSecret {
                data: d.clone(),
                plan: crate::seed::generate(1, 1, 0, A, R)[0].plan.clone(),
            }],
        );
        match infra.verdict(&d, Some(&other), 1) {
            Verdict::Refused(m) => assert!(m.starts_with("Lambda does not exist: "), "{m}"),
            v => panic!("{v:?}"),
        }
        // Named in the secret's own region, it is not there at all.
        let here = other.replace(":us-west-2:", &format!(":{R}:"));
        assert_eq!(
            infra.verdict(&d, Some(&here), 1),
            Verdict::Refused(ACCESS_DENIED_LAMBDA.into())
        );
    }
}
