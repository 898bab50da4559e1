//! Lambda (REST-JSON): `GET /2015-03-31/functions/{FunctionName}`
//! (GetFunction) and `GET /2015-03-31/functions/{FunctionName}/policy`
//! (GetPolicy), for the functions of [`Infra::function`]. The function may
//! be named by name, partial ARN (`ACCOUNT:function:NAME`) or ARN, with a
//! `:QUALIFIER` or `?Qualifier=` (only `$LATEST` exists here).
//!
//! Errors as Lambda sends them: HTTP status, `x-amzn-errortype`, and a body
//! `{"Type": "User", "message": "…"}` (`{"Message": "…"}` for the access
//! denials of the authorization layer).

use super::{not_authorized, Function, Infra};
use crate::seed::EpochMs;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// A Lambda error response.
pub(crate) fn error(status: StatusCode, code: &'static str, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("x-amzn-errortype", HeaderValue::from_static(code));
    h.insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("0")),
    );
    resp
}

fn not_found(message: String) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        json!({"Type": "User", "message": message}),
    )
}

fn ok(body: Value) -> Response {
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// `2026-11-20T10:00:00.000+0000`, Lambda's LastModified.
fn last_modified(ms: EpochMs) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string())
        .unwrap_or_default()
}

/// (region, account, name, qualifier) a FunctionName names; region and
/// account None when it does not say.
fn reference(function: &str) -> (Option<&str>, Option<&str>, &str, Option<&str>) {
    let parts: Vec<&str> = function.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", region, account, "function", name, rest @ ..] => {
            (Some(*region), Some(*account), name, rest.first().copied())
        }
        [account, "function", name, rest @ ..] => {
            (None, Some(*account), name, rest.first().copied())
        }
        [name, rest @ ..] => (None, None, name, rest.first().copied()),
        [] => (None, None, "", None),
    }
}

fn configuration(f: &Function) -> Value {
    let revision = super::names::uuid(&format!("{}/revision", f.arn));
    let sha = {
        use base64::Engine;
        let h = super::names::fnv(&f.arn).to_le_bytes();
        base64::engine::general_purpose::STANDARD.encode(h.repeat(4))
    };
    let variables: Map<String, Value> = f
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut c = json!({
        "FunctionName": f.name,
        "FunctionArn": f.arn,
        "Runtime": f.runtime,
        "Role": f.role,
        "Handler": "lambda_function.lambda_handler",
        "CodeSize": 17_843,
        "Description": "Conducts an AWS SecretsManager secret rotation",
        "Timeout": f.timeout,
        "MemorySize": 128,
        "LastModified": last_modified(f.last_modified),
        "CodeSha256": sha,
        "Version": "$LATEST",
        "Environment": {"Variables": variables},
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": revision,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
    });
    if let Some(kind) = f.vpc {
        let v = super::ec2::vpc(&f.account, &f.region, kind);
        c["VpcConfig"] = json!({
            "SubnetIds": v.subnets,
            "SecurityGroupIds": [v.lambda_group.id],
            "VpcId": v.id,
            "Ipv6AllowedForDualStack": false,
        });
    }
    c
}

/// GetFunction (`policy` false) or GetPolicy (true) of `function`, asked by
/// `caller` in `account` × `region`.
pub(crate) fn get(
    infra: &Infra,
    (account, region, caller): (&str, &str, &str),
    function: &str,
    policy: bool,
    qualifier: Option<&str>,
) -> Response {
    let (in_region, in_account, name, qualified) = reference(function);
    let qualifier = qualifier.or(qualified).filter(|q| !q.is_empty());
    let (fn_region, fn_account) = (in_region.unwrap_or(region), in_account.unwrap_or(account));
    let arn = format!("arn:aws:lambda:{fn_region}:{fn_account}:function:{name}");
    let action = if policy {
        "lambda:GetPolicy"
    } else {
        "lambda:GetFunction"
    };
    if infra.denied(account, action) {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            json!({"Message": not_authorized(caller, action, Some(&arn))}),
        );
    }
    if name.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            json!({"Type": "User", "message": "FunctionName is required."}),
        );
    }
    if fn_region != region {
        return not_found(format!(
            "Functions from '{fn_region}' are not reachable in this region ('{region}')"
        ));
    }
    if fn_account != account {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            json!({"Message": format!(
                "User: {caller} is not authorized to perform: {action} on resource: {arn} because no \
                 resource-based policy allows the {action} action"
            )}),
        );
    }
    let f = infra.function(account, region, name);
    let f = match (f, qualifier) {
        (Some(f), None | Some("$LATEST")) => f,
        (_, Some(q)) if q != "$LATEST" => {
            return not_found(format!("Function not found: {arn}:{q}"))
        }
        _ => return not_found(format!("Function not found: {arn}")),
    };
    if policy {
        let revision = super::names::uuid(&format!("{}/revision", f.arn));
        return ok(json!({"Policy": f.policy, "RevisionId": revision}));
    }
    let tags: Map<String, Value> = f
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    ok(json!({
        "Configuration": configuration(&f),
        "Code": {
            "RepositoryType": "S3",
            "Location": format!("https://awslambda-{region}-tasks.s3.{region}.amazonaws.com/snapshots/{account}/{name}"),
        },
        "Tags": tags,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_references_and_dates() {
        assert_eq!(
            reference("arn:aws:lambda:us-west-2:123456789012:function:f:live"),
            (Some("us-west-2"), Some("123456789012"), "f", Some("live"))
        );
        assert_eq!(
            reference("123456789012:function:f"),
            (None, Some("123456789012"), "f", None)
        );
        assert_eq!(reference("f:$LATEST"), (None, None, "f", Some("$LATEST")));
        assert_eq!(
            last_modified(1_795_168_800_000),
            "2026-11-20T10:00:00.000+0000"
        );
    }
}
