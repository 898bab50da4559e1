//! What the diagnosis reads: metadata of a rotation's Lambda, its network,
//! its KMS key and its role, as the server gathered it through the AWS SDK
//! (or could not). Never a secret value.
//!
//! Every read is a [`Read`]: the thing, "not found" (an answer, and often
//! the finding), or "could not be read" naming the IAM permission the
//! dashboard lacked, so a missing permission degrades to "could not be
//! checked" instead of an error page.

use crate::domain::Timestamp;
use serde::{Deserialize, Serialize};

/// The outcome of one metadata read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Read<T> {
    Found(T),
    /// AWS answered that the resource does not exist.
    NotFound,
    /// AWS refused the read: the dashboard's principal lacks `permission`
    /// (`lambda:GetFunction`).
    Denied {
        permission: String,
    },
    /// The read failed otherwise (throttled, unreachable, over the call
    /// budget): what happened, for the evidence.
    Failed {
        message: String,
    },
}

impl<T> Read<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Read::Found(t) => Some(t),
            _ => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Read<U> {
        match self {
            Read::Found(t) => Read::Found(f(t)),
            Read::NotFound => Read::NotFound,
            Read::Denied { permission } => Read::Denied { permission },
            Read::Failed { message } => Read::Failed { message },
        }
    }
}

/// A Lambda function's configuration (GetFunction).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LambdaFacts {
    pub arn: String,
    /// `python3.12`; `None` for container images.
    pub runtime: Option<String>,
    /// Seconds.
    pub timeout: Option<u32>,
    pub last_modified: Option<Timestamp>,
    /// The execution role's ARN.
    pub role: Option<String>,
    /// Set when the function runs in a VPC.
    pub vpc: Option<VpcConfig>,
    /// The `SECRETS_MANAGER_ENDPOINT` environment variable, when set (the
    /// AWS rotation templates read it). Only this variable is kept.
    pub secrets_manager_endpoint: Option<String>,
    /// The function's tags (`serverlessrepo:applicationId` names the AWS
    /// rotation template it was deployed from).
    pub tags: Vec<(String, String)>,
    /// The function's resource-based policy (GetPolicy) as JSON; `NotFound`
    /// when it has none.
    pub policy: Read<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcConfig {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

/// What a VPC offers a function in it on the way to Secrets Manager
/// (DescribeVpcEndpoints, DescribeSecurityGroups, DescribeRouteTables).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkFacts {
    /// The VPC's interface endpoints for Secrets Manager
    /// (`com.amazonaws.REGION.secretsmanager`).
    pub endpoints: Read<Vec<VpcEndpoint>>,
    /// The Lambda's and the endpoints' security groups.
    pub security_groups: Read<Vec<SecurityGroup>>,
    /// The route tables of the Lambda's subnets (and the VPC's main one).
    pub route_tables: Read<Vec<RouteTable>>,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Read::Failed {
            message: "not read".into(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcEndpoint {
    pub id: String,
    pub service_name: String,
    /// `available`, `pending`, …
    pub state: String,
    pub private_dns: bool,
    pub security_group_ids: Vec<String>,
    /// Its DNS names (`vpce-0abc-xyz.secretsmanager.us-east-1.vpce.amazonaws.com`).
    pub dns_names: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub ingress: Vec<Permission>,
    pub egress: Vec<Permission>,
}

/// One security group rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// `tcp`, `udp`, `icmp`, or `-1` for all.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub cidrs: Vec<String>,
    /// Security groups it allows traffic to or from.
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    /// The subnets explicitly associated with it.
    pub subnet_ids: Vec<String>,
    /// The VPC's main route table (used by subnets with no association).
    pub main: bool,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// `0.0.0.0/0`
    pub destination: String,
    /// `nat-0abc`, `igw-0abc`, `local`, `tgw-…`, `eni-…`, `pcx-…`.
    pub target: String,
}

/// A KMS key's metadata (DescribeKey), its policy and grants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFacts {
    pub arn: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, …
    pub state: String,
    /// True for an AWS managed key (`aws/secretsmanager`): KeyManager `AWS`.
    pub managed_by_aws: bool,
    pub deletion_date: Option<Timestamp>,
    /// GetKeyPolicy (`default`), as JSON.
    pub policy: Read<String>,
    /// ListGrants.
    pub grants: Read<Vec<Grant>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    /// `Decrypt`, `GenerateDataKey`, …
    pub operations: Vec<String>,
}

/// IAM's answer for one action (SimulatePrincipalPolicy's EvalDecision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

/// Everything read for one secret's rotation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// GetFunction of the rotation Lambda (`NotFound`: it is gone).
    pub lambda: Read<LambdaFacts>,
    /// Only when the Lambda runs in a VPC.
    pub network: Option<NetworkFacts>,
    /// DescribeKey of the secret's key (`alias/aws/secretsmanager` without one).
    pub key: Read<KeyFacts>,
    /// SimulatePrincipalPolicy of the Lambda's role on this secret, for
    /// [`ROLE_ACTIONS`], in that order.
    pub role: Read<Vec<(String, Decision)>>,
    /// The secret's resource policy (GetResourcePolicy); `NotFound` when it
    /// has none.
    pub resource_policy: Read<String>,
}

/// What a rotation Lambda's role must be allowed on its secret (the AWS
/// rotation templates' policy), simulated in this order.
pub const ROLE_ACTIONS: [&str; 4] = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
];

/// What the Lambda's role needs of a customer managed key (user guide,
/// "Permissions for rotation Lambda functions").
pub const KEY_ACTIONS: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];
