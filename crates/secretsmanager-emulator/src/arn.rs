//! The few ARN shapes the emulator reads: a Lambda function's and an IAM
//! role's. Its own, so the emulator depends on nothing of the dashboard.

/// The function name of a Lambda ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`), or the
/// whole string when it has no `:function:` part.
pub fn function_name(arn: &str) -> &str {
    match arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => arn,
    }
}

/// The account of `arn:aws:iam::ACCOUNT:role/NAME`, if it has that shape.
pub fn role_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (arn_, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let ok = arn_ == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|r| !r.is_empty());
    ok.then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_and_role_accounts() {
        let f = "arn:aws:lambda:eu-west-1:210987654321:function:rotate-db";
        assert_eq!(function_name(f), "rotate-db");
        assert_eq!(function_name(&format!("{f}:3")), "rotate-db");
        assert_eq!(function_name("rotate-db"), "rotate-db");
        assert_eq!(
            role_account("arn:aws:iam::210987654321:role/reader"),
            Some("210987654321")
        );
        assert_eq!(
            role_account("arn:aws-cn:iam::210987654321:role/a/b"),
            Some("210987654321")
        );
        for bad in [
            "arn:aws:iam::21098765432:role/reader",
            "arn:aws:iam:us-east-1:210987654321:role/reader",
            "arn:aws:iam::210987654321:user/reader",
            "arn:aws:iam::210987654321:role/",
            "arn:aws:sts::210987654321:role/reader",
        ] {
            assert_eq!(role_account(bad), None, "{bad}");
        }
    }
}
