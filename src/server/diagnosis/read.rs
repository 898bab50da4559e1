//! The AWS calls a diagnosis makes, how many were made, and what a failed
//! one becomes: every error is a [`Read`], never an error page. Access
//! denied names the permission the dashboard lacked; "not found" is an
//! answer; anything else (throttled after the SDK's retries, unreachable,
//! over the call budget) is `Failed` with what happened.

use crate::domain::diagnosis::Read;
use crate::server::error::deep;
use crate::server::error::sdk::Failure;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::sync::atomic::{AtomicU64, Ordering};

/// One kind of AWS call a diagnosis makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    GetFunction,
    GetPolicy,
    DescribeVpcEndpoints,
    DescribeSecurityGroups,
    DescribeRouteTables,
    DescribeKey,
    GetKeyPolicy,
    ListGrants,
    SimulatePrincipalPolicy,
    GetResourcePolicy,
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::GetFunction,
        Op::GetPolicy,
        Op::DescribeVpcEndpoints,
        Op::DescribeSecurityGroups,
        Op::DescribeRouteTables,
        Op::DescribeKey,
        Op::GetKeyPolicy,
        Op::ListGrants,
        Op::SimulatePrincipalPolicy,
        Op::GetResourcePolicy,
    ];

    /// The IAM action the dashboard needs for it: `lambda:GetFunction`.
    pub fn permission(self) -> &'static str {
        match self {
            Op::GetFunction => "lambda:GetFunction",
            Op::GetPolicy => "lambda:GetPolicy",
            Op::DescribeVpcEndpoints => "ec2:DescribeVpcEndpoints",
            Op::DescribeSecurityGroups => "ec2:DescribeSecurityGroups",
            Op::DescribeRouteTables => "ec2:DescribeRouteTables",
            Op::DescribeKey => "kms:DescribeKey",
            Op::GetKeyPolicy => "kms:GetKeyPolicy",
            Op::ListGrants => "kms:ListGrants",
            Op::SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
            Op::GetResourcePolicy => "secretsmanager:GetResourcePolicy",
        }
    }

    /// `lambda`, `ec2`, `kms`, `iam`, `secretsmanager`.
    pub fn service(self) -> &'static str {
        self.permission().split_once(':').map_or("", |(s, _)| s)
    }

    /// `GetFunction`.
    pub fn name(self) -> &'static str {
        self.permission().split_once(':').map_or("", |(_, o)| o)
    }

    fn index(self) -> usize {
        Op::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// AWS calls made for diagnoses (each page of a paged read is one), and
/// reads refused because the call budget was spent.
#[derive(Debug, Default)]
pub struct Calls {
    made: [AtomicU64; Op::ALL.len()],
    over_budget: AtomicU64,
}

impl Calls {
    pub(super) fn made(&self, op: Op) {
        self.made[op.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn refused(&self) {
        self.over_budget.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls of `op` made so far.
    pub fn of(&self, op: Op) -> u64 {
        self.made[op.index()].load(Ordering::Relaxed)
    }

    /// Calls to `service` (`lambda`, `kms`, …) made so far.
    pub fn of_service(&self, service: &str) -> u64 {
        Op::ALL
            .iter()
            .filter(|o| o.service() == service)
            .map(|o| self.of(*o))
            .sum()
    }

    /// Every call made so far.
    pub fn total(&self) -> u64 {
        Op::ALL.iter().map(|o| self.of(*o)).sum()
    }

    /// Reads refused because their account and region's budget was spent.
    pub fn over_budget(&self) -> u64 {
        self.over_budget.load(Ordering::Relaxed)
    }
}

/// Codes by which a service refuses the caller's permissions: Lambda and
/// KMS say `AccessDeniedException`, IAM `AccessDenied`, EC2
/// `UnauthorizedOperation`.
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
];

/// Codes by which a service says the resource does not exist (EC2's are
/// `InvalidVpcID.NotFound`, `InvalidGroup.NotFound`, …: any `*.NotFound`).
const NOT_FOUND: &[&str] = &[
    "ResourceNotFoundException",
    "NotFoundException",
    "NoSuchEntity",
    "NoSuchEntityException",
];

/// What a failed call of `op` means for the diagnosis.
pub fn read_error<T, E>(op: Op, err: &SdkError<E, HttpResponse>) -> Read<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = deep(err);
    let (failure, code, message) = Failure::of(err, &detail);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let read = classify(op, failure, &code, &message, status);
    if let Read::Failed { .. } = &read {
        tracing::warn!(operation = op.permission(), %detail, "diagnosis read failed");
    }
    read
}

/// [`read_error`] once the error is read: the service's `code` and
/// `message` (empty when it did not answer), and the HTTP status if any.
pub fn classify<T>(
    op: Op,
    failure: Failure,
    code: &str,
    message: &str,
    status: Option<u16>,
) -> Read<T> {
    let text = message.to_ascii_lowercase();
    if DENIED.contains(&code)
        || text.contains("explicit deny")
        || text.contains("is not authorized to perform")
    {
        return Read::Denied {
            permission: op.permission().to_string(),
        };
    }
    if NOT_FOUND.contains(&code) || code.ends_with(".NotFound") {
        return Read::NotFound;
    }
    let p = op.permission();
    let message = match failure {
        Failure::Throttled => format!("{p} was throttled even after retrying ({code})"),
        Failure::Timeout => format!("{p} got no answer in time"),
        Failure::Unreachable => format!("{p} could not reach the endpoint"),
        Failure::NoCredentials | Failure::NoCredentialsToBuild => {
            format!("{p} found no AWS credentials")
        }
        Failure::NoRegion => format!("{p} has no region"),
        Failure::NotBuilt | Failure::Other => {
            format!("{p} failed; the server log has the details")
        }
        Failure::Denied | Failure::NotFound | Failure::Invalid | Failure::Answered => {
            let status = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            match message {
                "" => format!("{p} answered {code}{status}"),
                m => format!("{p} answered {code}{status}: {m}"),
            }
        }
    };
    Read::Failed { message }
}
