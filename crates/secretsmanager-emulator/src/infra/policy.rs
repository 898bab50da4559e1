//! Just enough of IAM's policy language to decide what the simulated
//! infrastructure's policies (a Lambda's resource policy, a KMS key policy,
//! a secret's resource policy) allow: `Effect`, `Principal` (`AWS`,
//! `Service`, `*`), `Action` (with `*` and `?` wildcards, any case),
//! `Resource`, and of `Condition` only `StringEquals` on
//! `aws:SourceAccount`. A statement with any other condition is one the
//! emulator cannot evaluate, and it is left out (neither allows nor denies).

use serde_json::Value;

/// One statement, as far as the emulator reads it.
#[derive(Debug, Default)]
pub(crate) struct Statement {
    pub deny: bool,
    /// `AWS` principals (ARNs, account ids, `*`).
    pub aws: Vec<String>,
    /// `Service` principals.
    pub services: Vec<String>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// `StringEquals` `aws:SourceAccount`, when the statement has it.
    pub source_account: Option<String>,
    /// A condition the emulator does not evaluate.
    pub opaque_condition: bool,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (none when it does not parse).
pub(crate) fn statements(doc: &str) -> Vec<Statement> {
    let Ok(v) = serde_json::from_str::<Value>(doc) else {
        return Vec::new();
    };
    let list = match v.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    list.iter().map(statement).collect()
}

fn statement(s: &Value) -> Statement {
    let mut out = Statement {
        deny: s.get("Effect").and_then(Value::as_str) == Some("Deny"),
        actions: strings(s.get("Action")),
        resources: strings(s.get("Resource")),
        ..Statement::default()
    };
    match s.get("Principal") {
        Some(Value::String(p)) if p == "*" => out.aws.push("*".into()),
        Some(Value::Object(p)) => {
            out.aws = strings(p.get("AWS"));
            out.services = strings(p.get("Service"));
        }
        _ => {}
    }
    if let Some(Value::Object(cond)) = s.get("Condition") {
        for (op, keys) in cond {
            let Value::Object(keys) = keys else {
                out.opaque_condition = true;
                continue;
            };
            for (key, value) in keys {
                if op == "StringEquals" && key.eq_ignore_ascii_case("aws:SourceAccount") {
                    out.source_account = strings(Some(value)).into_iter().next();
                } else {
                    out.opaque_condition = true;
                }
            }
        }
    }
    out
}

/// `pattern` (with `*` and `?`) matches `value`, ignoring ASCII case.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
    fn go(p: &[u8], v: &[u8]) -> bool {
        match (p.first(), v.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], v) || (!v.is_empty() && go(p, &v[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &v[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &v[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), value.as_bytes())
}

impl Statement {
    pub fn covers_action(&self, action: &str) -> bool {
        self.actions.iter().any(|a| glob(a, action))
    }

    pub fn covers_resource(&self, resource: &str) -> bool {
        self.resources.is_empty() || self.resources.iter().any(|r| glob(r, resource))
    }

    /// Names `principal` (an IAM role or user ARN, or its assumed-role
    /// session) itself, or everyone.
    pub fn names(&self, principal: &str) -> bool {
        self.aws.iter().any(|p| p == "*" || p == principal)
    }

    /// Names the root of `account`: IAM policies of the account decide.
    pub fn delegates_to(&self, account: &str) -> bool {
        self.aws
            .iter()
            .any(|p| p == account || *p == format!("arn:aws:iam::{account}:root"))
    }
}

/// True when `doc` denies `principal` `action` on `resource` explicitly.
pub(crate) fn explicitly_denies(doc: &str, principal: &str, action: &str, resource: &str) -> bool {
    statements(doc).iter().any(|s| {
        s.deny
            && !s.opaque_condition
            && s.names(principal)
            && s.covers_action(action)
            && s.covers_resource(resource)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_statements() {
        assert!(glob("secretsmanager:*", "SecretsManager:GetSecretValue"));
        assert!(glob("kms:Get?eyPolicy", "kms:GetKeyPolicy"));
        assert!(!glob("kms:Decrypt", "kms:DecryptX"));
        assert!(glob("*", ""));
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny",
            "Principal":{"AWS":["arn:aws:iam::1:role/r"]},"Action":"secretsmanager:*","Resource":"*"}}"#;
        assert!(explicitly_denies(
            doc,
            "arn:aws:iam::1:role/r",
            "secretsmanager:GetSecretValue",
            "arn:x"
        ));
        assert!(!explicitly_denies(
            doc,
            "arn:aws:iam::1:role/other",
            "secretsmanager:GetSecretValue",
            "arn:x"
        ));
        let conditioned = doc.replace(
            "\"Resource\":\"*\"",
            "\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":{\"aws:SourceVpc\":\"vpc-1\"}}",
        );
        assert!(!explicitly_denies(
            &conditioned,
            "arn:aws:iam::1:role/r",
            "secretsmanager:GetSecretValue",
            "arn:x"
        ));
        let s = &statements(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"secretsmanager.amazonaws.com"},
            "Action":"lambda:InvokeFunction","Condition":{"StringEquals":{"AWS:SourceAccount":"1"}}}]}"#,
        )[0];
        assert_eq!(s.services, ["secretsmanager.amazonaws.com"]);
        assert_eq!(s.source_account.as_deref(), Some("1"));
        assert!(!s.opaque_condition && !s.deny);
        assert!(statements("not json").is_empty());
    }
}
