//! STS as the organisation answers it: AssumeRole in the query protocol
//! (form-encoded request, XML answer), for the roles the organisation
//! trusts, checking the external id and the request as AWS's API model does.

use super::{system_now, OrgInner};
use crate::query::{form_pairs, xml, xml_escape};
use axum::http::StatusCode;
use axum::response::Response;

pub(super) fn sts_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error>\
         <RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(message),
        uuid::Uuid::new_v4()
    );
    xml(status, body)
}

/// STS over the query protocol: `AssumeRole` and `GetCallerIdentity`.
pub(super) fn sts(inner: &OrgInner, body: &[u8]) -> Response {
    let pairs = form_pairs(body);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("Action") {
        Some("AssumeRole") => {}
        Some(other) => {
            return sts_error(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                &format!("The action {other} is not supported by the secretscope demo endpoint."),
            )
        }
        None => {
            return sts_error(
                StatusCode::BAD_REQUEST,
                "MissingAction",
                "Action is required.",
            )
        }
    }
    let (Some(role), Some(session)) = (get("RoleArn"), get("RoleSessionName")) else {
        return sts_error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "RoleArn and RoleSessionName are required.",
        );
    };
    if let Some(message) = assume_role_invalid(role, session, get("ExternalId")) {
        return sts_error(StatusCode::BAD_REQUEST, "ValidationError", &message);
    }
    let caller = format!(
        "arn:aws:iam::{}:user/secretscope-demo",
        inner.tenants()[0].account
    );
    let denied = || {
        sts_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}"
            ),
        )
    };
    let allowed = inner.roles().iter().any(|r| {
        r.arn == role
            && r.trusted
            && r.external_id
                .as_deref()
                .is_none_or(|id| get("ExternalId") == Some(id))
    });
    let account = crate::arn::role_account(role);
    let (true, Some(account)) = (allowed, account) else {
        return denied();
    };
    let suffix: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_uppercase()
        .chars()
        .take(4)
        .collect();
    let key = format!("ASIA{account}{suffix}");
    let expires = chrono::DateTime::from_timestamp(system_now() + 3600, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let role_name = role.rsplit('/').next().unwrap_or("role");
    let body = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleResult>\
         <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>demo-secret-{suffix}</SecretAccessKey>\
         <SessionToken>demo-session-{suffix}</SessionToken><Expiration>{expires}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA{account}:{}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{}/{}</Arn></AssumedRoleUser>\
         </AssumeRoleResult>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></AssumeRoleResponse>",
        xml_escape(session),
        xml_escape(role_name),
        xml_escape(session),
        uuid::Uuid::new_v4()
    );
    tracing::debug!(role, "demo STS AssumeRole granted");
    xml(StatusCode::OK, body)
}

/// Why an AssumeRole request is outside STS's service model, if it is:
/// RoleArn 20 to 2048 characters, RoleSessionName 2 to 64 of `[\w+=,.@-]`,
/// ExternalId 2 to 1224 of `[\w+=,.@:/-]`.
fn assume_role_invalid(role: &str, session: &str, external_id: Option<&str>) -> Option<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let members = [
        ("roleArn", Some(role), 20, 2048, None),
        (
            "roleSessionName",
            Some(session),
            2,
            64,
            Some(("[\\w+=,.@-]*", "+=,.@-")),
        ),
        (
            "externalId",
            external_id,
            2,
            1224,
            Some(("[\\w+=,.@:\\/-]*", "+=,.@:/-")),
        ),
    ];
    for (field, value, min, max, pattern) in members {
        let Some(v) = value else { continue };
        if let Some(e) = crate::ApiError::length(field, v.chars().count(), min, max) {
            return Some(e.message);
        }
        if let Some((regex, others)) = pattern {
            if !v.chars().all(|c| word(c) || others.contains(c)) {
                return Some(format!(
                    "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
                     Member must satisfy regular expression pattern: {regex}"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assume_role_requests_are_checked_against_the_model() {
        let role = "arn:aws:iam::210987654321:role/secretscope-read";
        assert_eq!(
            assume_role_invalid(role, "secretscope", Some("ext-1")),
            None
        );
        let short = assume_role_invalid(role, "s", None).unwrap();
        assert_eq!(
            short,
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy \
             constraint: Member must have length greater than or equal to 2"
        );
        assert!(assume_role_invalid(role, &"s".repeat(65), None)
            .unwrap()
            .contains("less than or equal to 64"));
        assert!(assume_role_invalid(role, "a b", None)
            .unwrap()
            .contains("regular expression pattern"));
        assert!(assume_role_invalid(role, "ok", Some("x"))
            .unwrap()
            .contains("'externalId'"));
        assert!(assume_role_invalid("arn:x", "ok", None)
            .unwrap()
            .contains("'roleArn'"));
        assert_eq!(
            assume_role_invalid(role, "a.b@c=d,e+f-g_h", Some("tenant:1/x")),
            None
        );
    }
}
