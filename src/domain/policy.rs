//! A resource policy read as sentences: who may (or may not) do what, under
//! which conditions. Pure; the raw JSON is shown beside it on request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub sid: Option<String>,
    /// True for `Deny`.
    pub deny: bool,
    /// "everyone (*)", ARNs, services; prefixed with "everyone except" for
    /// `NotPrincipal`.
    pub principals: Vec<String>,
    pub actions: Vec<String>,
    /// True when the statement lists `NotAction`: every action except these.
    pub not_actions: bool,
    pub resources: Vec<String>,
    /// `aws:CurrentTime DateLessThan 2026-12-01T00:00:00Z`, one per test.
    pub conditions: Vec<String>,
}

impl Statement {
    /// "Allow arn:aws:iam::1:role/app to secretsmanager:GetSecretValue".
    pub fn sentence(&self) -> String {
        let who = if self.principals.is_empty() {
            "the principals named elsewhere".to_string()
        } else {
            self.principals.join(", ")
        };
        let what = if self.actions.is_empty() {
            "nothing".to_string()
        } else if self.not_actions {
            format!("every action except {}", self.actions.join(", "))
        } else {
            self.actions.join(", ")
        };
        let verb = if self.deny { "Deny" } else { "Allow" };
        let mut s = format!("{verb} {who} to {what}");
        if !self.conditions.is_empty() {
            s.push_str(&format!(" when {}", self.conditions.join(" and ")));
        }
        s
    }

    /// A statement that lets anyone in (`*` principal without conditions).
    pub fn is_public(&self) -> bool {
        !self.deny && self.conditions.is_empty() && self.principals.iter().any(|p| p == EVERYONE)
    }
}

const EVERYONE: &str = "everyone (*)";

/// Parses a policy document; an error says what is wrong with it.
pub fn summarize(json: &str) -> Result<Vec<Statement>, String> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| format!("the policy is not valid JSON: {e}"))?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return Err("the policy has no Statement".to_string()),
    };
    statements.iter().map(statement).collect()
}

fn statement(v: &Value) -> Result<Statement, String> {
    let deny = match v.get("Effect").and_then(Value::as_str) {
        Some("Allow") => false,
        Some("Deny") => true,
        other => {
            return Err(format!(
                "a statement has Effect {other:?}, not Allow or Deny"
            ))
        }
    };
    let (principals, not_principal) = match (v.get("Principal"), v.get("NotPrincipal")) {
        (Some(p), _) => (principals(p), false),
        (None, Some(p)) => (principals(p), true),
        (None, None) => (Vec::new(), false),
    };
    let principals = if not_principal {
        vec![format!("everyone except {}", principals.join(", "))]
    } else {
        principals
    };
    let (actions, not_actions) = match (v.get("Action"), v.get("NotAction")) {
        (Some(a), _) => (strings(a), false),
        (None, Some(a)) => (strings(a), true),
        (None, None) => (Vec::new(), false),
    };
    let mut conditions = Vec::new();
    if let Some(Value::Object(ops)) = v.get("Condition") {
        for (op, tests) in ops {
            if let Value::Object(tests) = tests {
                for (key, value) in tests {
                    conditions.push(format!("{key} {op} {}", strings(value).join(" or ")));
                }
            }
        }
    }
    Ok(Statement {
        sid: v.get("Sid").and_then(Value::as_str).map(str::to_string),
        deny,
        principals,
        actions,
        not_actions,
        resources: v.get("Resource").map(strings).unwrap_or_default(),
        conditions,
    })
}

fn principals(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if s == "*" => vec![EVERYONE.to_string()],
        Value::Object(kinds) => kinds
            .iter()
            .flat_map(|(kind, ids)| {
                strings(ids)
                    .into_iter()
                    .map(move |id| match (kind.as_str(), id.as_str()) {
                        (_, "*") => EVERYONE.to_string(),
                        ("AWS", _) => id,
                        (k, _) => format!("{id} ({k})"),
                    })
            })
            .collect(),
        other => strings(other),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_statements_as_sentences() {
        let json = r#"{
          "Version": "2012-10-17",
          "Statement": [
            {"Sid": "secretscope-grant-1", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::111122223333:role/app"]},
             "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
             "Resource": "*",
             "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-12-01T00:00:00Z"}}},
            {"Effect": "Deny", "Principal": "*", "NotAction": "secretsmanager:DescribeSecret", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "secretsmanager:*"}
          ]}"#;
        let st = summarize(json).unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(
            st[0].sentence(),
            "Allow arn:aws:iam::111122223333:role/app to secretsmanager:GetSecretValue, \
             secretsmanager:DescribeSecret when aws:CurrentTime DateLessThan 2026-12-01T00:00:00Z"
        );
        assert_eq!(st[0].sid.as_deref(), Some("secretscope-grant-1"));
        assert_eq!(
            st[1].sentence(),
            "Deny everyone (*) to every action except secretsmanager:DescribeSecret"
        );
        assert!(!st[1].is_public(), "a deny is not an opening");
        assert_eq!(
            st[2].sentence(),
            "Allow lambda.amazonaws.com (Service) to secretsmanager:*"
        );
    }

    #[test]
    fn public_and_not_principal() {
        let st = summarize(
            r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "secretsmanager:GetSecretValue"}}"#,
        )
        .unwrap();
        assert!(st[0].is_public());
        let st = summarize(
            r#"{"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*"}]}"#,
        )
        .unwrap();
        assert_eq!(
            st[0].sentence(),
            "Deny everyone except arn:aws:iam::1:root to *"
        );
    }

    #[test]
    fn says_what_is_wrong() {
        assert!(summarize("{")
            .unwrap_err()
            .starts_with("the policy is not valid JSON"));
        assert_eq!(summarize("{}").unwrap_err(), "the policy has no Statement");
        assert_eq!(
            summarize(r#"{"Statement": [{"Effect": "Maybe"}]}"#).unwrap_err(),
            "a statement has Effect Some(\"Maybe\"), not Allow or Deny"
        );
    }
}
