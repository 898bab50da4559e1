//! Incidents, not rows: failures that share a cause (one Lambda, one VPC,
//! one key, one role) are one incident, with the count of secrets hit, so
//! one broken Lambda taking a dozen secrets down reads as one thing to fix.

use super::{CauseId, Diagnosis};
use crate::domain::Timestamp;
use serde::{Deserialize, Serialize};

/// One failure to group: a secret, when it broke, and its diagnosis (if read).
#[derive(Clone, Copy)]
pub struct Failure<'a> {
    pub secret_arn: &'a str,
    pub since: Option<Timestamp>,
    /// The rotation function: what failures with no cause found group by.
    pub lambda_arn: Option<&'a str>,
    pub diagnosis: Option<&'a Diagnosis>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// The shared cause; `None` when the checks found none (the failure is
    /// in the function's code or what it talks to: its log says).
    pub cause: Option<CauseId>,
    /// What they share: the Lambda, VPC, key or role (ARN or id), or the
    /// secret itself for a per-secret cause.
    pub subject: String,
    pub headline: String,
    /// The failed check's fix (of the first secret).
    pub fix: Option<String>,
    /// The secrets hit, oldest failure first.
    pub secrets: Vec<String>,
    /// The oldest failure.
    pub since: Option<Timestamp>,
}

/// The incidents of `failures`: grouped by (cause, subject), biggest first,
/// then oldest first. Failures without a diagnosis group by their Lambda.
pub fn incidents(failures: &[Failure<'_>]) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    let mut sorted: Vec<&Failure> = failures.iter().collect();
    sorted.sort_by_key(|f| (f.since.is_none(), f.since));
    for f in sorted {
        let found = f.diagnosis.and_then(|d| {
            let (cause, subject) = d.main_cause()?;
            let fix = d
                .checks
                .iter()
                .find(|c| c.cause == Some(cause) && c.status == super::Status::Failed)
                .and_then(|c| c.fix.clone());
            Some((
                Some(cause),
                subject.unwrap_or(f.secret_arn).to_string(),
                fix,
            ))
        });
        let (cause, subject, fix) =
            found.unwrap_or_else(|| (None, f.lambda_arn.unwrap_or(f.secret_arn).to_string(), None));
        match out
            .iter_mut()
            .find(|i| i.cause == cause && i.subject == subject)
        {
            Some(i) => i.secrets.push(f.secret_arn.to_string()),
            None => out.push(Incident {
                cause,
                headline: match cause {
                    Some(c) => c.headline().to_string(),
                    None => "The rotation function fails; its configuration checks passed".into(),
                },
                subject,
                fix,
                secrets: vec![f.secret_arn.to_string()],
                since: f.since,
            }),
        }
    }
    out.sort_by_key(|i| {
        (
            std::cmp::Reverse(i.secrets.len()),
            i.since.is_none(),
            i.since,
        )
    });
    out
}
