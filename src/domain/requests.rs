//! Access requests: who asks for which IAM principal to read which secret,
//! for how long and why; the owner's decision; the resource-policy
//! statement a grant adds (with its expiry written into the policy itself),
//! and the diff a person sees before it is applied.
//!
//! Pure: parsing and validation, the statement, the policy edits. The store
//! keeps requests (`server::store::requests`), the server applies grants.

use super::arn::Arn;
use super::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RequestStatus {
    /// Waiting for the owner (or an admin).
    Pending,
    /// Approved with grants turned off: the owner applies it by hand.
    Approved,
    /// Approved and the statement is in the secret's resource policy.
    Active,
    Denied,
    /// The statement's time ran out and it was removed.
    Expired,
    /// Removed early.
    Revoked,
    /// Approved, but the statement could not be applied.
    Failed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 7] = [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Active,
        RequestStatus::Denied,
        RequestStatus::Expired,
        RequestStatus::Revoked,
        RequestStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Active => "active",
            RequestStatus::Denied => "denied",
            RequestStatus::Expired => "expired",
            RequestStatus::Revoked => "revoked",
            RequestStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still needs someone: a decision, or a grant that can be revoked.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestStatus::Pending | RequestStatus::Approved | RequestStatus::Active
        )
    }
}

/// One access request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: i64,
    /// The secret's name and ARN when it was asked for.
    pub secret: String,
    pub secret_arn: String,
    /// The IAM principal that is to read the secret.
    pub principal: String,
    /// Why; a merged duplicate appends `requester: text` lines.
    pub justification: String,
    pub requested_by: String,
    pub requested_at: Timestamp,
    /// How long the access should last once granted.
    pub duration_secs: i64,
    pub status: RequestStatus,
    /// The owner as resolved when it was asked for, and where from.
    pub owner: String,
    /// The dashboard users who may decide (admins may always).
    pub approvers: Vec<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub comment: Option<String>,
    /// When the grant ends (set on approval).
    pub expires_at: Option<Timestamp>,
    /// Everyone who asked (the first requester, then each whose request
    /// was merged into this one): none of them may decide it.
    pub askers: Vec<String>,
}

impl AccessRequest {
    /// True if `user` asked for this request, first or by a merge.
    pub fn asked_by(&self, user: &str) -> bool {
        self.requested_by == user || self.askers.iter().any(|a| a == user)
    }

    /// "viewer" or "viewer and operator": everyone who asked.
    pub fn askers_text(&self) -> String {
        let mut all = vec![self.requested_by.as_str()];
        all.extend(
            self.askers
                .iter()
                .map(String::as_str)
                .filter(|a| *a != self.requested_by),
        );
        match all.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => self.requested_by.clone(),
        }
    }
}

/// The account, when a principal names a whole account (`…:root`): a grant
/// to it lets any role or user in that account that its own IAM allows
/// read the secret.
pub fn whole_account(principal: &str) -> Option<&str> {
    Arn::parse(principal)
        .filter(|a| a.resource == "root")?
        .account_id()
}

impl AccessRequest {
    /// The Sid of the statement a grant for this request adds.
    pub fn sid(&self) -> String {
        sid_for(self.id)
    }
}

/// What a new request carries, checked by [`validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    pub secret: String,
    pub secret_arn: String,
    pub principal: String,
    pub justification: String,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub duration_secs: i64,
    pub owner: String,
    pub approvers: Vec<String>,
}

/// Every statement secretscope writes has a Sid starting with this; it
/// never touches one without it.
pub const SID_PREFIX: &str = "secretscope-access-";

pub fn sid_for(id: i64) -> String {
    format!("{SID_PREFIX}{id}")
}

/// What a grant allows: reading the value, as the README explains (and
/// kms:Decrypt on a customer managed key, which a resource policy on the
/// secret cannot give).
pub const GRANTED_ACTIONS: [&str; 2] = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
];

/// The principal ARN, trimmed, if it is one a resource policy can name: an
/// IAM role or user (with a path), or an account root, in any partition.
/// Otherwise a sentence saying what is wanted.
pub fn parse_principal(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    let bad = || {
        format!(
            "{p:?} is not an IAM principal ARN. Give a role or user ARN such as \
             arn:aws:iam::123456789012:role/app-reader (or …:user/NAME, …:root)."
        )
    };
    let Some(a) = Arn::parse(p) else {
        return Err(bad());
    };
    if a.service == "sts" && a.resource.starts_with("assumed-role/") {
        return Err(format!(
            "{p} is a session, which ends; name the role it assumed instead (arn:…:iam::ACCOUNT:role/NAME)."
        ));
    }
    if !matches!(a.partition, "aws" | "aws-cn" | "aws-us-gov")
        || a.service != "iam"
        || !a.region.is_empty()
        || a.account_id().is_none()
    {
        return Err(bad());
    }
    let resource = a.resource;
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 512
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
            && !s.starts_with('/')
            && !s.ends_with('/')
            && !s.contains("//")
    };
    let ok = resource == "root"
        || resource
            .strip_prefix("role/")
            .or_else(|| resource.strip_prefix("user/"))
            .is_some_and(name_ok);
    if ok {
        Ok(p.to_string())
    } else {
        Err(bad())
    }
}

/// A duration such as `30m`, `8h`, `36 hours`, `2d`, `2 days`, `1w` or
/// `1d 12h` (numbers each with a unit, added up), in seconds, between one
/// minute and `max_secs`; otherwise a sentence that says what is allowed.
/// Numbers too big for any clock are "longer than the most", not an
/// overflow.
pub fn parse_duration(raw: &str, max_secs: i64) -> Result<i64, String> {
    let t = raw.trim().to_ascii_lowercase();
    let max_text = duration_text(max_secs);
    let shown: String = raw.trim().chars().take(40).collect();
    let bad = || {
        format!("“{shown}” is not a duration: write a number and a unit, such as 8 hours, 2 days, 36h or 1w (at most {max_text}).")
    };
    let mut rest = t.as_str();
    let mut secs: i64 = 0;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        // Saturating: a number past i64 is simply longer than the maximum.
        let n = rest[..digits].bytes().fold(0i64, |n, b| {
            n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        });
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit_secs = match &rest[..unit_len] {
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            _ => return Err(bad()),
        };
        secs = secs.saturating_add(n.saturating_mul(unit_secs));
        parts += 1;
        rest = rest[unit_len..].trim_start_matches([' ', ',']);
        rest = rest.strip_prefix("and ").unwrap_or(rest);
        if parts > 4 {
            return Err(bad());
        }
    }
    if parts == 0 {
        return Err(bad());
    }
    if secs < 60 {
        return Err("Access must last at least a minute.".to_string());
    }
    if secs > max_secs {
        return Err(format!(
            "“{shown}” is longer than the most access may last here ({max_text}). Ask for at most {max_text}; it can be asked for again."
        ));
    }
    Ok(secs)
}

/// `1 week`, `3 days`, `8 hours`, `90 minutes`, `1 hour 5 minutes` (the
/// largest unit that divides it exactly; else hours and minutes).
pub fn duration_text(secs: i64) -> String {
    let unit = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    for (one, n) in [
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ] {
        if secs >= n && secs % n == 0 {
            return unit(secs / n, one);
        }
    }
    if secs >= 3_600 {
        format!(
            "{} {}",
            unit(secs / 3_600, "hour"),
            unit((secs % 3_600) / 60, "minute")
        )
    } else if secs >= 60 {
        unit(secs / 60, "minute")
    } else {
        unit(secs, "second")
    }
}

/// A justification, trimmed: required, and short enough to read.
pub fn parse_justification(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() < 10 {
        return Err(
            "Say why the access is needed (at least 10 characters): the owner decides on it."
                .to_string(),
        );
    }
    if t.chars().count() > 2_000 {
        return Err("The justification is longer than 2,000 characters; shorten it.".to_string());
    }
    Ok(t.to_string())
}

/// The statement a grant adds: read access for `principal` until `until`,
/// the expiry enforced by IAM itself (`DateLessThan aws:CurrentTime`), so
/// access ends on time even if secretscope is down then.
pub fn grant_statement(id: i64, principal: &str, until: Timestamp) -> Value {
    json!({
        "Sid": sid_for(id),
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": GRANTED_ACTIONS,
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:CurrentTime": until.rfc3339()}}
    })
}

/// The policy document with `statement` added (replacing one with the same
/// Sid); `current` is the secret's policy text, if it has one.
pub fn with_statement(current: Option<&str>, statement: Value) -> Result<Value, String> {
    let mut doc = parse_policy(current)?;
    let sid = statement.get("Sid").cloned();
    let list = statements_mut(&mut doc);
    list.retain(|s| s.get("Sid") != sid.as_ref() || sid.is_none());
    list.push(statement);
    Ok(doc)
}

/// The policy document without the statement `sid`, or `None` when nothing
/// else is left (the policy is then deleted). Only a secretscope Sid may be
/// removed: other statements are never touched.
pub fn without_statement(current: Option<&str>, sid: &str) -> Result<Option<Value>, String> {
    if !sid.starts_with(SID_PREFIX) {
        return Err(format!(
            "{sid} was not written by secretscope; it is left alone."
        ));
    }
    let mut doc = parse_policy(current)?;
    let list = statements_mut(&mut doc);
    list.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
    if list.is_empty() {
        return Ok(None);
    }
    Ok(Some(doc))
}

/// True when the policy text has a statement with this Sid.
pub fn has_statement(current: Option<&str>, sid: &str) -> bool {
    parse_policy(current).is_ok_and(|mut d| {
        statements_mut(&mut d)
            .iter()
            .any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
    })
}

fn parse_policy(current: Option<&str>) -> Result<Value, String> {
    let text = current.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        return Ok(json!({"Version": "2012-10-17", "Statement": []}));
    };
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        format!("The secret's resource policy is not JSON ({e}); it was left alone.")
    })?;
    if !doc.is_object() {
        return Err("The secret's resource policy is not a JSON object; it was left alone.".into());
    }
    Ok(doc)
}

/// The statements as a list (a single statement object becomes a list of one).
fn statements_mut(doc: &mut Value) -> &mut Vec<Value> {
    let obj = doc.as_object_mut().expect("checked to be an object");
    let entry = obj
        .entry("Statement")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        let one = entry.take();
        *entry = Value::Array(if one.is_null() { vec![] } else { vec![one] });
    }
    entry.as_array_mut().expect("made an array")
}

/// Pretty JSON of a policy (or nothing) for the diff.
pub fn pretty(doc: Option<&Value>) -> String {
    doc.map(|d| serde_json::to_string_pretty(d).unwrap_or_default())
        .unwrap_or_default()
}

/// A line diff of two texts: each line prefixed `  `, `- ` or `+ `
/// (longest common subsequence; policies are small).
pub fn diff(before: &str, after: &str) -> Vec<String> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", b[j]));
            j += 1;
        } else {
            out.push(format!("- {}", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_principal_is_a_whole_account() {
        assert_eq!(
            whole_account("arn:aws:iam::123456789012:root"),
            Some("123456789012")
        );
        assert_eq!(whole_account("arn:aws:iam::123456789012:role/root"), None);
        assert_eq!(whole_account("arn:aws:iam::123456789012:role/app"), None);
    }

    #[test]
    fn principals_are_roles_users_or_roots() {
        for ok in [
            "arn:aws:iam::123456789012:role/app-reader",
            "arn:aws:iam::123456789012:role/service-role/ci/deployer",
            "arn:aws:iam::123456789012:user/alice@example.com",
            "arn:aws-us-gov:iam::123456789012:root",
            "  arn:aws:iam::123456789012:role/x  ",
        ] {
            assert_eq!(parse_principal(ok).unwrap(), ok.trim(), "{ok}");
        }
        for bad in [
            "",
            "*",
            "alice",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:group/devs",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam::123456789012:role/<script>",
        ] {
            assert!(parse_principal(bad).is_err(), "{bad}");
        }
        assert!(
            parse_principal("arn:aws:sts::123456789012:assumed-role/app/session")
                .unwrap_err()
                .contains("name the role")
        );
    }

    #[test]
    fn durations_are_bounded() {
        let week = 604_800;
        assert_eq!(parse_duration("30m", week), Ok(1_800));
        assert_eq!(parse_duration("90m", week), Ok(5_400));
        assert_eq!(parse_duration(" 8h ", week), Ok(28_800));
        assert_eq!(parse_duration("36h", week), Ok(129_600));
        assert_eq!(parse_duration("36 Hours", week), Ok(129_600));
        assert_eq!(parse_duration("2d", week), Ok(172_800));
        assert_eq!(parse_duration("2 days", week), Ok(172_800));
        assert_eq!(parse_duration("1 day", week), Ok(86_400));
        assert_eq!(parse_duration("1d 12h", week), Ok(129_600));
        assert_eq!(parse_duration("1 day, 12 hours", week), Ok(129_600));
        assert_eq!(parse_duration("1 day and 30 minutes", week), Ok(88_200));
        assert_eq!(parse_duration("1w", week), Ok(week));
        assert_eq!(parse_duration("7 days", week), Ok(week));
        // Over the maximum: the message says the maximum.
        for long in [
            "8d",
            "7d 1m",
            "2w",
            "99999999999999999999h",
            "9223372036854775807w",
        ] {
            let e = parse_duration(long, week).unwrap_err();
            assert!(
                e.contains("longer than") && e.contains("(1 week)"),
                "{long}: {e}"
            );
        }
        for zero in ["0m", "0 days", "0h 0m"] {
            assert!(parse_duration(zero, week)
                .unwrap_err()
                .contains("at least a minute"));
        }
        for bad in [
            "",
            " ",
            "h",
            "8",
            "8 parsecs",
            "-1h",
            "2.5d",
            "two days",
            "2 days ago",
            "d2",
            "1h1h1h1h1h",
            "2 days; rm -rf /",
        ] {
            let e = parse_duration(bad, week).unwrap_err();
            assert!(
                e.contains("not a duration") && e.contains("at most 1 week"),
                "{bad}: {e}"
            );
        }
        // A long input is quoted short.
        let e = parse_duration(&"x".repeat(10_000), week).unwrap_err();
        assert!(e.len() < 200, "{e}");
        assert_eq!(duration_text(week), "1 week");
        assert_eq!(duration_text(5_400), "90 minutes");
        assert_eq!(duration_text(90_000), "25 hours");
        assert_eq!(duration_text(3_660), "61 minutes");
        assert_eq!(duration_text(3_601), "1 hour 0 minutes");
    }

    #[test]
    fn justifications_are_required_and_bounded() {
        assert!(parse_justification("  ").is_err());
        assert!(parse_justification("because").is_err());
        assert_eq!(
            parse_justification(" debugging INC-1234 payments outage ").unwrap(),
            "debugging INC-1234 payments outage"
        );
        assert!(parse_justification(&"x".repeat(2_001)).is_err());
    }

    #[test]
    fn grants_add_and_remove_only_their_own_statement() {
        let until = Timestamp::new(1_790_000_000);
        let theirs = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowServiceRoleRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        let st = grant_statement(7, "arn:aws:iam::123456789012:role/reader", until);
        assert_eq!(st["Sid"], "secretscope-access-7");
        assert_eq!(
            st["Condition"]["DateLessThan"]["aws:CurrentTime"],
            until.rfc3339()
        );
        let added = with_statement(Some(theirs), st.clone()).unwrap();
        let text = added.to_string();
        assert!(has_statement(Some(&text), "secretscope-access-7"));
        assert_eq!(added["Statement"].as_array().unwrap().len(), 2);
        // Applying it again replaces, not repeats.
        let again = with_statement(Some(&text), st).unwrap();
        assert_eq!(again["Statement"].as_array().unwrap().len(), 2);
        // Removing leaves theirs exactly as it was.
        let removed = without_statement(Some(&text), "secretscope-access-7")
            .unwrap()
            .unwrap();
        let original: Value = serde_json::from_str(theirs).unwrap();
        assert_eq!(removed["Statement"], original["Statement"]);
        // Their statement cannot be removed through this.
        assert!(without_statement(Some(theirs), "AllowServiceRoleRead").is_err());
        // A policy of only ours goes away entirely.
        let only = with_statement(
            None,
            grant_statement(8, "arn:aws:iam::123456789012:root", until),
        )
        .unwrap()
        .to_string();
        assert_eq!(
            without_statement(Some(&only), "secretscope-access-8"),
            Ok(None)
        );
        // A single statement object is kept as a list with ours added.
        let single = r#"{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}"#;
        let both = with_statement(
            Some(single),
            grant_statement(9, "arn:aws:iam::123456789012:root", until),
        )
        .unwrap();
        assert_eq!(both["Statement"][0]["Sid"], "One");
        assert!(with_statement(Some("not json"), json!({})).is_err());
    }

    #[test]
    fn the_diff_marks_added_and_removed_lines() {
        let d = diff("a\nb\nc", "a\nc\nd");
        assert_eq!(d, vec!["  a", "- b", "  c", "+ d"]);
        assert_eq!(diff("", "x"), vec!["+ x"]);
    }
}
