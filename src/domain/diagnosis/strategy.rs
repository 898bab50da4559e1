//! Single user or alternating users: what a roll back to AWSPREVIOUS does.
//!
//! With single-user rotation the Lambda changed the one user's password in
//! the database, so AWSPREVIOUS holds a password that no longer works there;
//! with alternating users AWSPREVIOUS is the other user, still valid (user
//! guide, "Rotation strategies"). Nothing in Secrets Manager says which a
//! secret uses; the rotation function's origin does: the AWS rotation
//! templates are `…RotationSingleUser` and `…RotationMultiUser`, and
//! functions deployed from them carry the serverless application's id as a
//! tag. A `secretscope:rotation-strategy` tag on the secret overrides.

use super::facts::LambdaFacts;
use crate::domain::Secret;
use serde::{Deserialize, Serialize};

/// The tag that states a secret's strategy: `single-user` or `alternating`.
pub const STRATEGY_TAG: &str = "secretscope:rotation-strategy";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StrategyKind {
    SingleUser,
    Alternating,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    pub kind: StrategyKind,
    /// Where it was read: "tag secretscope:rotation-strategy",
    /// "template SecretsManagerRDSPostgreSQLRotationSingleUser", …
    pub source: String,
}

impl Strategy {
    pub fn words(&self) -> &'static str {
        match self.kind {
            StrategyKind::SingleUser => "single user",
            StrategyKind::Alternating => "alternating users",
            StrategyKind::Unknown => "unknown",
        }
    }

    /// What Roll back's dialog says, for a single-user secret.
    pub fn rollback_warning(&self) -> Option<&'static str> {
        (self.kind == StrategyKind::SingleUser).then_some(
            "This secret rotates a single user: the rotation changed that user's password in the \
             database, so the AWSPREVIOUS value no longer signs in. Rolling back would hand \
             applications a dead password. Instead, fix what failed and retry the rotation, or \
             rotate now to make a fresh password that works.",
        )
    }
}

/// A strategy named by a word: the tag's value, a template or function name.
fn in_words(text: &str) -> Option<StrategyKind> {
    let t = text.to_ascii_lowercase().replace(['-', '_', ' '], "");
    if t.contains("singleuser") {
        Some(StrategyKind::SingleUser)
    } else if t.contains("multiuser") || t.contains("alternating") {
        Some(StrategyKind::Alternating)
    } else {
        None
    }
}

/// The strategy of `secret`'s rotation: its tag, else the rotation
/// function's template tag, else the function's name.
pub fn strategy(secret: &Secret, lambda: Option<&LambdaFacts>) -> Strategy {
    let found = |kind, source: String| Strategy { kind, source };
    if let Some(v) = secret.tag(STRATEGY_TAG) {
        if let Some(k) = in_words(v) {
            return found(k, format!("tag {STRATEGY_TAG}={v}"));
        }
    }
    let templates = lambda
        .into_iter()
        .flat_map(|l| l.tags.iter())
        .filter(|(k, _)| {
            k == "serverlessrepo:applicationId" || k == "aws:serverlessrepo:applicationId"
        });
    for (_, app) in templates {
        if let Some(k) = in_words(app) {
            let name = app.rsplit('/').next().unwrap_or(app);
            return found(k, format!("AWS rotation template {name}"));
        }
    }
    if let Some(arn) = secret.rotation_lambda_arn.as_deref() {
        let name = crate::domain::arn::function_name(arn);
        if let Some(k) = in_words(name) {
            return found(k, format!("function name {name}"));
        }
    }
    found(
        StrategyKind::Unknown,
        format!("no template tag, function name or {STRATEGY_TAG} tag says"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::fixtures::{secret, tagged};

    #[test]
    fn the_tag_wins_then_the_template_then_the_name() {
        let mut s = tagged("prod/db", &[(STRATEGY_TAG, "alternating")]);
        s.rotation_lambda_arn =
            Some("arn:aws:lambda:us-east-1:1:function:rotate-singleuser-pg".into());
        let l = LambdaFacts {
            tags: vec![(
                "serverlessrepo:applicationId".into(),
                "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationMultiUser".into(),
            )],
            ..LambdaFacts::default()
        };
        assert_eq!(strategy(&s, Some(&l)).kind, StrategyKind::Alternating);
        s.tags.clear();
        let t = strategy(&s, Some(&l));
        assert_eq!(t.kind, StrategyKind::Alternating);
        assert_eq!(
            t.source,
            "AWS rotation template SecretsManagerRDSPostgreSQLRotationMultiUser"
        );
        let n = strategy(&s, None);
        assert_eq!(n.kind, StrategyKind::SingleUser);
        assert!(n.rollback_warning().is_some());
        let none = strategy(&secret("x"), None);
        assert_eq!(none.kind, StrategyKind::Unknown);
        assert!(none.rollback_warning().is_none());
    }
}
