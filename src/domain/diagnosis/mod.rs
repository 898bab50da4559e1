//! Why a rotation fails, read from configuration: the rotation Lambda
//! (exists, region, invoke policy, runtime, timeout, recent change), its
//! network path to Secrets Manager, the secret's KMS key, the Lambda role's
//! permissions and the secret's resource policy, and the rotation strategy
//! (single user or alternating users). Pure: the server gathers [`Facts`]
//! through the AWS SDK and [`diagnose`] turns them into checks.

pub mod checks;
pub mod facts;
pub mod incidents;
mod kms;
pub mod network;
pub mod strategy;
#[cfg(test)]
mod tests;

pub use checks::diagnose;
pub use facts::*;
pub use incidents::{incidents, Failure, Incident};
pub use strategy::{Strategy, StrategyKind};

use serde::{Deserialize, Serialize};

/// One check of a diagnosis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckId {
    LambdaExists,
    LambdaRegion,
    LambdaInvokePolicy,
    LambdaSourceAccount,
    LambdaRuntime,
    LambdaTimeout,
    LambdaChanged,
    Network,
    EndpointVariable,
    KeyState,
    KeyAccess,
    KeyCrossAccount,
    RolePermissions,
    ResourcePolicy,
}

impl CheckId {
    /// The check's name in `check --format json`: `lambda-invoke-policy`.
    pub fn slug(self) -> &'static str {
        match self {
            CheckId::LambdaExists => "lambda-exists",
            CheckId::LambdaRegion => "lambda-region",
            CheckId::LambdaInvokePolicy => "lambda-invoke-policy",
            CheckId::LambdaSourceAccount => "lambda-source-account",
            CheckId::LambdaRuntime => "lambda-runtime",
            CheckId::LambdaTimeout => "lambda-timeout",
            CheckId::LambdaChanged => "lambda-changed",
            CheckId::Network => "network",
            CheckId::EndpointVariable => "endpoint-variable",
            CheckId::KeyState => "key-state",
            CheckId::KeyAccess => "key-access",
            CheckId::KeyCrossAccount => "key-cross-account",
            CheckId::RolePermissions => "role-permissions",
            CheckId::ResourcePolicy => "resource-policy",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::LambdaExists => "Rotation function exists",
            CheckId::LambdaRegion => "Function is in the secret's region",
            CheckId::LambdaInvokePolicy => "Secrets Manager may invoke the function",
            CheckId::LambdaSourceAccount => "Invoke permission is limited to this account",
            CheckId::LambdaRuntime => "Runtime is supported",
            CheckId::LambdaTimeout => "Timeout leaves room for four steps",
            CheckId::LambdaChanged => "Function unchanged since the last rotation",
            CheckId::Network => "Network path to Secrets Manager",
            CheckId::EndpointVariable => "SECRETS_MANAGER_ENDPOINT is reachable",
            CheckId::KeyState => "KMS key is enabled",
            CheckId::KeyAccess => "Function's role may use the KMS key",
            CheckId::KeyCrossAccount => "Cross-account readers have a customer managed key",
            CheckId::RolePermissions => "Function's role may rotate this secret",
            CheckId::ResourcePolicy => "Resource policy does not deny the function",
        }
    }
}

/// A cause of failure: what `cause:` searches for and incidents group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CauseId {
    LambdaMissing,
    LambdaRegion,
    LambdaPermission,
    LambdaRuntime,
    LambdaTimeout,
    LambdaChanged,
    Network,
    KmsKey,
    KmsAccess,
    KmsCrossAccount,
    RolePermission,
    ResourcePolicy,
}

impl CauseId {
    pub const ALL: [CauseId; 12] = [
        CauseId::LambdaMissing,
        CauseId::LambdaRegion,
        CauseId::LambdaPermission,
        CauseId::LambdaRuntime,
        CauseId::LambdaTimeout,
        CauseId::LambdaChanged,
        CauseId::Network,
        CauseId::KmsKey,
        CauseId::KmsAccess,
        CauseId::KmsCrossAccount,
        CauseId::RolePermission,
        CauseId::ResourcePolicy,
    ];

    /// The word `cause:` takes: `lambda-permission`.
    pub fn slug(self) -> &'static str {
        match self {
            CauseId::LambdaMissing => "lambda-missing",
            CauseId::LambdaRegion => "lambda-region",
            CauseId::LambdaPermission => "lambda-permission",
            CauseId::LambdaRuntime => "lambda-runtime",
            CauseId::LambdaTimeout => "lambda-timeout",
            CauseId::LambdaChanged => "lambda-changed",
            CauseId::Network => "network",
            CauseId::KmsKey => "kms-key",
            CauseId::KmsAccess => "kms-access",
            CauseId::KmsCrossAccount => "kms-cross-account",
            CauseId::RolePermission => "role-permission",
            CauseId::ResourcePolicy => "resource-policy",
        }
    }

    pub fn parse(word: &str) -> Option<CauseId> {
        let w = word.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|c| c.slug() == w)
    }

    /// "The rotation function is gone".
    pub fn headline(self) -> &'static str {
        match self {
            CauseId::LambdaMissing => "The rotation function is gone",
            CauseId::LambdaRegion => "The rotation function is in another region",
            CauseId::LambdaPermission => "Secrets Manager may not invoke the rotation function",
            CauseId::LambdaRuntime => "The rotation function's runtime is deprecated",
            CauseId::LambdaTimeout => "The rotation function times out",
            CauseId::LambdaChanged => "The rotation function changed just before it failed",
            CauseId::Network => "The rotation function has no network path to Secrets Manager",
            CauseId::KmsKey => "The secret's KMS key is disabled or pending deletion",
            CauseId::KmsAccess => "The function's role may not use the secret's KMS key",
            CauseId::KmsCrossAccount => "Readers in other accounts need a customer managed key",
            CauseId::RolePermission => "The function's role lacks Secrets Manager permissions",
            CauseId::ResourcePolicy => "The secret's resource policy denies the function",
        }
    }

    /// The check whose failure is this cause.
    pub fn check(self) -> CheckId {
        match self {
            CauseId::LambdaMissing => CheckId::LambdaExists,
            CauseId::LambdaRegion => CheckId::LambdaRegion,
            CauseId::LambdaPermission => CheckId::LambdaInvokePolicy,
            CauseId::LambdaRuntime => CheckId::LambdaRuntime,
            CauseId::LambdaTimeout => CheckId::LambdaTimeout,
            CauseId::LambdaChanged => CheckId::LambdaChanged,
            CauseId::Network => CheckId::Network,
            CauseId::KmsKey => CheckId::KeyState,
            CauseId::KmsAccess => CheckId::KeyAccess,
            CauseId::KmsCrossAccount => CheckId::KeyCrossAccount,
            CauseId::RolePermission => CheckId::RolePermissions,
            CauseId::ResourcePolicy => CheckId::ResourcePolicy,
        }
    }
}

impl std::fmt::Display for CauseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

/// How a check came out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Passed,
    /// Found wrong: a cause of failure.
    Failed,
    /// Risky but not what fails a rotation by itself.
    Warning,
    /// Could not be checked: the dashboard lacks `permission` (when named),
    /// or the read failed.
    Unknown {
        permission: Option<String>,
    },
    /// Does not apply (a function outside a VPC has no network check).
    NotApplicable,
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Warning => "warning",
            Status::Unknown { .. } => "could not be checked",
            Status::NotApplicable => "not applicable",
        }
    }
}

/// One check's result: what was found, and what to do when it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub id: CheckId,
    pub status: Status,
    /// What was read: "python3.7, deprecated since 2023-12-04".
    pub evidence: String,
    /// What to do, when it failed or warns.
    pub fix: Option<String>,
    /// The cause it names when failed.
    pub cause: Option<CauseId>,
    /// The resource the cause is about (the Lambda, VPC, key or role ARN or
    /// id): incidents group by (cause, subject).
    pub subject: Option<String>,
}

/// A diagnosis of one secret's rotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub secret_arn: String,
    pub checks: Vec<Check>,
    pub strategy: Strategy,
}

impl Diagnosis {
    /// Every cause a failed or warning check names, once each, in check
    /// order: what the secret carries for `cause:`.
    pub fn found(&self) -> Vec<CauseId> {
        let mut out: Vec<CauseId> = Vec::new();
        for c in &self.checks {
            if matches!(c.status, Status::Failed | Status::Warning) {
                if let Some(cause) = c.cause.filter(|x| !out.contains(x)) {
                    out.push(cause);
                }
            }
        }
        out
    }

    /// The failed checks' causes, in check order.
    pub fn causes(&self) -> Vec<(CauseId, Option<&str>)> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Failed)
            .filter_map(|c| Some((c.cause?, c.subject.as_deref())))
            .collect()
    }

    /// The first failed check's cause: what an incident is filed under.
    pub fn main_cause(&self) -> Option<(CauseId, Option<&str>)> {
        self.causes().into_iter().next()
    }

    /// The permissions the dashboard lacked for the checks it could not make.
    pub fn missing_permissions(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self
            .checks
            .iter()
            .filter_map(|c| match &c.status {
                Status::Unknown {
                    permission: Some(p),
                } => Some(p.as_str()),
                _ => None,
            })
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    }
}
