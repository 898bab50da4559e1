//! What the rotation Lambda's role may do: IAM SimulatePrincipalPolicy of
//! the role's identity policies, for [`ROLE_ACTIONS`] on the secret and,
//! with a customer managed key, [`KEY_ACTIONS`] on the key.

use super::{failed, Diagnoser, Op, Place, MAX_PAGES};
use crate::domain::diagnosis::{Decision, KeyFacts, LambdaFacts, Read, KEY_ACTIONS, ROLE_ACTIONS};
use crate::domain::Secret;
use aws_sdk_iam::types::PolicyEvaluationDecisionType;

/// The budget IAM calls spend: IAM is one endpoint for the whole account.
pub const IAM_REGION: &str = "global";

impl Diagnoser {
    /// The Lambda role's decisions: [`ROLE_ACTIONS`] on the secret, in that
    /// order, then, for a customer managed key, [`KEY_ACTIONS`] on the key
    /// (both in the same Vec; an AWS managed key's access goes through
    /// Secrets Manager, so it is not simulated). When either simulation
    /// fails, its failure is the read. A Lambda that could not be read
    /// leaves the role unknown: its denial (naming `lambda:GetFunction`) or
    /// failure is passed on.
    pub(super) async fn role(
        &self,
        at: Place<'_>,
        secret: &Secret,
        lambda: &Read<LambdaFacts>,
        key: &Read<KeyFacts>,
    ) -> Read<Vec<(String, Decision)>> {
        let role = match lambda {
            Read::Found(l) => match &l.role {
                Some(role) => role,
                None => return failed("the rotation function has no execution role"),
            },
            Read::NotFound => {
                return failed("the rotation function does not exist, so it has no role")
            }
            Read::Denied { permission } => {
                return Read::Denied {
                    permission: permission.clone(),
                }
            }
            Read::Failed { message } => {
                return failed(&format!(
                    "the rotation function's role is not known: {message}"
                ))
            }
        };
        let on_secret = self.simulate(at, role, &secret.arn, &ROLE_ACTIONS);
        let Some(key) = key.found().filter(|k| !k.managed_by_aws) else {
            return on_secret.await;
        };
        let on_key = self.simulate(at, role, &key.arn, &KEY_ACTIONS);
        match tokio::join!(on_secret, on_key) {
            (Read::Found(mut decisions), Read::Found(on_key)) => {
                decisions.extend(on_key);
                Read::Found(decisions)
            }
            (Read::Found(_), miss) | (miss, _) => miss,
        }
    }

    /// SimulatePrincipalPolicy of `role` for `actions` on `resource`, in
    /// the order of `actions`.
    async fn simulate(
        &self,
        at: Place<'_>,
        role: &str,
        resource: &str,
        actions: &[&str],
    ) -> Read<Vec<(String, Decision)>> {
        let iam = &self.clients(at.source, &at.source.region).iam;
        let key = at.key(IAM_REGION, &format!("{role}|{resource}"));
        self.simulations
            .get(&key, || async {
                let mut results: Vec<(String, Decision)> = Vec::new();
                let mut marker: Option<String> = None;
                for _ in 0..MAX_PAGES {
                    let request = iam
                        .simulate_principal_policy()
                        .policy_source_arn(role)
                        .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
                        .resource_arns(resource)
                        .set_marker(marker.take());
                    let op = Op::SimulatePrincipalPolicy;
                    let page = match self.call(op, at.account, IAM_REGION, request.send()).await {
                        Ok(page) => page,
                        Err(miss) => return miss,
                    };
                    results.extend(page.evaluation_results().iter().map(|r| {
                        (
                            r.eval_action_name().to_string(),
                            decision(r.eval_decision()),
                        )
                    }));
                    marker = page
                        .marker()
                        .filter(|_| page.is_truncated())
                        .map(str::to_string);
                    if marker.is_none() {
                        break;
                    }
                }
                Read::Found(in_order(actions, &results))
            })
            .await
    }
}

/// IAM's decision; one this code does not know counts as not allowed.
pub fn decision(d: &PolicyEvaluationDecisionType) -> Decision {
    match d.as_str() {
        "allowed" => Decision::Allowed,
        "explicitDeny" => Decision::ExplicitDeny,
        _ => Decision::ImplicitDeny,
    }
}

/// One decision per action asked, in the order asked (IAM's action names
/// compare without case); an action IAM did not answer is left out.
pub fn in_order(actions: &[&str], results: &[(String, Decision)]) -> Vec<(String, Decision)> {
    actions
        .iter()
        .filter_map(|a| {
            let (_, d) = results
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(a))?;
            Some((a.to_string(), *d))
        })
        .collect()
}
