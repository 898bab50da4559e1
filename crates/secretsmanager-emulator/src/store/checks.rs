//! The parameter checks operations share (lengths, ids, rotation rules,
//! tags, page sizes and tokens), with AWS's own messages.

use crate::protocol::{ApiError, RulesReq, TagReq};
use crate::seed::{EpochMs, RotationRules, Tag, DAY, HOUR};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

pub(crate) fn encode_token<T: Serialize>(t: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(t).expect("token serialises"))
}

pub(crate) fn decode_token<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            ApiError::client(
                "InvalidNextTokenException",
                "The NextToken value is invalid.",
            )
        })
}

pub(crate) fn max_results(v: Option<i64>) -> Result<usize, ApiError> {
    match v {
        None => Ok(100),
        Some(n) if n < 1 => Err(ApiError::validation(format!(
            "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(n) if n > 100 => Err(ApiError::validation(format!(
            "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        ))),
        Some(n) => Ok(n as usize),
    }
}

pub(crate) fn required(v: Option<String>, field: &str) -> Result<String, ApiError> {
    v.ok_or_else(|| ApiError::missing(field))
}

/// A string member within the length range of the service model
/// (`field` as the model names it: `moveToVersionId`), when present.
pub(crate) fn check_len(
    field: &str,
    v: Option<&str>,
    min: usize,
    max: usize,
) -> Result<(), ApiError> {
    match v.and_then(|v| ApiError::length(field, v.chars().count(), min, max)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A version id or ClientRequestToken (the model's SecretVersionIdType and
/// ClientRequestTokenType): 32 to 64 characters.
pub(crate) fn check_version_id(field: &str, v: Option<&str>) -> Result<(), ApiError> {
    check_len(field, v, 32, 64)
}

/// SecretId: required, 1 to 2048 characters (SecretIdType).
pub(crate) fn secret_id(v: Option<String>) -> Result<String, ApiError> {
    let id = required(v, "SecretId")?;
    check_len("secretId", Some(&id), 1, 2048)?;
    Ok(id)
}

/// `rate(N days)` / `rate(N hours)` in milliseconds.
pub(crate) fn parse_rate(expr: &str) -> Option<EpochMs> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: i64 = n.parse().ok()?;
    match unit.trim() {
        "day" | "days" => Some(n * DAY),
        "hour" | "hours" => Some(n * HOUR),
        _ => None,
    }
}

/// When the next scheduled rotation is due, counted from `from`.
pub(crate) fn next_rotation(rules: Option<&RotationRules>, from: EpochMs) -> Option<EpochMs> {
    let r = rules?;
    if let Some(expr) = &r.schedule_expression {
        if let Some(every) = parse_rate(expr) {
            return Some(from + every);
        }
        if expr.starts_with("cron(") {
            // An approximation: the next day at 00:00 UTC.
            return Some(from.div_euclid(DAY) * DAY + DAY);
        }
    }
    r.automatically_after_days.map(|d| from + d * DAY)
}

pub(crate) fn validate_rules(r: &RulesReq) -> Result<(), ApiError> {
    if let Some(d) = r.automatically_after_days {
        if !(1..=1000).contains(&d) {
            return Err(ApiError::validation(format!(
                "Value '{d}' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value {}",
                if d < 1 { "greater than or equal to 1" } else { "less than or equal to 1000" }
            )));
        }
    }
    if let Some(e) = &r.schedule_expression {
        let ok = parse_rate(e).is_some_and(|ms| (4 * HOUR..=1000 * DAY).contains(&ms))
            || (e.starts_with("cron(") && e.ends_with(')'));
        if !ok {
            return Err(ApiError::invalid_parameter(format!(
                "The schedule expression {e} is invalid. Use a rate expression such as rate(10 days) or a cron expression."
            )));
        }
    }
    if let Some(d) = &r.duration {
        let hours = d.strip_suffix('h').and_then(|n| n.parse::<i64>().ok());
        if !hours.is_some_and(|h| (1..=24).contains(&h)) {
            return Err(ApiError::invalid_parameter(format!(
                "The rotation window duration {d} is invalid. Use a duration in hours from 1h to 24h."
            )));
        }
    }
    if r.automatically_after_days.is_none() && r.schedule_expression.is_none() {
        return Err(ApiError::invalid_parameter(
            "You must specify AutomaticallyAfterDays or ScheduleExpression in RotationRules.",
        ));
    }
    Ok(())
}

pub(crate) fn validate_tags(tags: &[TagReq]) -> Result<Vec<Tag>, ApiError> {
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        let key = t
            .key
            .clone()
            .ok_or_else(|| ApiError::missing("Tags.member.Key"))?;
        let value = t.value.clone().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(ApiError::invalid_parameter(
                "A tag key must be 1 to 128 characters and a tag value at most 256 characters.",
            ));
        }
        if key.starts_with("aws:") {
            return Err(ApiError::invalid_parameter(format!(
                "The tag key {key} uses the aws: prefix, which is reserved for AWS use."
            )));
        }
        out.push(Tag { key, value });
    }
    Ok(out)
}

pub(crate) fn name_allowed(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

pub(crate) fn required_list<T>(v: Option<Vec<T>>, field: &str) -> Result<Vec<T>, ApiError> {
    v.ok_or_else(|| ApiError::missing(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("rate(30 days)"), Some(30 * DAY));
        assert_eq!(parse_rate("rate(4 hours)"), Some(4 * HOUR));
        assert_eq!(parse_rate("cron(0 4 * * ? *)"), None);
        assert_eq!(
            next_rotation(
                Some(&RotationRules {
                    automatically_after_days: Some(7),
                    ..RotationRules::default()
                }),
                0
            ),
            Some(7 * DAY)
        );
    }
}
