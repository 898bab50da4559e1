//! Amazon Resource Names: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`,
//! read in one place.
//!
//! The resource is everything after the fifth colon, colons included
//! (`secret:prod/db-AbCdEf`, `function:rotate:live`, `role/path/name`).

/// An ARN's six parts, borrowed from the text. Region and account may be
/// empty (IAM ARNs have no region, S3 ARNs neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The parts of `s`, when it starts with `arn:` and has all six.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }

    /// The account, when it is an AWS account id (twelve digits).
    pub fn account_id(&self) -> Option<&'a str> {
        let a = self.account;
        (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())).then_some(a)
    }

    /// The Lambda function of `…:function:NAME[:qualifier]`.
    pub fn function_name(&self) -> Option<&'a str> {
        let rest = self.resource.strip_prefix("function:")?;
        Some(rest.split(':').next().unwrap_or(rest))
    }

    /// An IAM role's path and name (`role/PATH/NAME` → `PATH/NAME`), when
    /// this is a role ARN with one.
    pub fn role(&self) -> Option<&'a str> {
        if self.service != "iam" {
            return None;
        }
        self.resource
            .strip_prefix("role/")
            .filter(|r| !r.is_empty())
    }

    /// An IAM role's name, without its path (`role/PATH/NAME` → `NAME`).
    pub fn role_name(&self) -> Option<&'a str> {
        self.role()?.rsplit('/').next().filter(|n| !n.is_empty())
    }

    /// A secret's name: `secret:NAME-AbCdEf` → `NAME` (Secrets Manager
    /// appends a hyphen and six characters to every secret's ARN).
    pub fn secret_name(&self) -> Option<&'a str> {
        let rest = self.resource.strip_prefix("secret:")?;
        let (name, suffix) = rest.rsplit_once('-')?;
        (suffix.len() == 6 && !name.is_empty()).then_some(name)
    }
}

/// The function name of a Lambda ARN (`…:function:NAME[:qualifier]`), or the input itself.
pub fn function_name(arn: &str) -> &str {
    Arn::parse(arn)
        .and_then(|a| a.function_name())
        .unwrap_or(arn)
}

/// The account and region of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:…`),
/// when it has both.
pub fn account_region(arn: &str) -> Option<(&str, &str)> {
    let a = Arn::parse(arn)?;
    (!a.region.is_empty() && !a.account.is_empty()).then_some((a.account, a.region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let a = Arn::parse("arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/x:y-AbCdEf")
            .unwrap();
        assert_eq!(
            (a.partition, a.service, a.region, a.account, a.resource),
            (
                "aws",
                "secretsmanager",
                "eu-west-1",
                "210987654321",
                "secret:prod/x:y-AbCdEf"
            )
        );
        assert_eq!(a.account_id(), Some("210987654321"));
        assert_eq!(a.secret_name(), Some("prod/x:y"));
        for bad in ["prod/db", "arn:aws:iam::1", "aws:iam::1:2:3", ""] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:rot"),
            "rot"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:rot:live"),
            "rot"
        );
        assert_eq!(function_name("rot"), "rot");
        let role = Arn::parse("arn:aws-us-gov:iam::210987654321:role/path/r").unwrap();
        assert_eq!((role.role(), role.role_name()), (Some("path/r"), Some("r")));
        let user = Arn::parse("arn:aws:iam::210987654321:user/r").unwrap();
        assert_eq!(user.role(), None);
        assert_eq!(Arn::parse("arn:aws:iam::1:role/").unwrap().role(), None);
        assert_eq!(
            account_region("arn:aws:kms:us-east-1:123456789012:key/k"),
            Some(("123456789012", "us-east-1"))
        );
        assert_eq!(account_region("arn:aws:iam::123456789012:root"), None);
        assert_eq!(
            Arn::parse("arn:aws:secretsmanager:us-east-1:1:secret:short-abc")
                .unwrap()
                .secret_name(),
            None
        );
    }
}
