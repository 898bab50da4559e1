//! EC2 (query protocol, Version 2016-11-15, XML in the
//! `http://ec2.amazonaws.com/doc/2016-11-15/` namespace):
//! DescribeVpcEndpoints, DescribeSecurityGroups and DescribeRouteTables,
//! over the four VPCs every account × region has here:
//!
//! | VPC (Name tag) | CIDR | what a rotation Lambda in it meets |
//! | --- | --- | --- |
//! | `rotation-app` | 10.0.0.0/16 | a Secrets Manager interface endpoint, private DNS on, its security group allowing tcp 443 from the Lambda's group: reaches Secrets Manager |
//! | `rotation-isolated` | 10.1.0.0/16 | routes only `local`, no endpoint: cannot (`failcreate`) |
//! | `rotation-natless` | 10.2.0.0/16 | an endpoint with private DNS off, no NAT: only the endpoint's own DNS names reach it (`endpointvar`) |
//! | `rotation-egress` | 10.3.0.0/16 | no endpoint, `0.0.0.0/0` through a NAT gateway: reaches the public endpoint (`nat`) |
//!
//! Each has two subnets (zones `a` and `b`), one route table (the main one,
//! also associated with both subnets), the Lambda's security group (egress
//! all) and, with an endpoint, the endpoint's group. Ids are
//! [`ec2_id`](super::names::ec2_id)s of account, region and what they are.
//!
//! An endpoint's `state` is sent as `available`, as EC2 sends it (the API
//! reference lists the values capitalised, `Available`; the SDK's `State`
//! then holds it as an unknown variant: compare `as_str()` ignoring case).

use super::names::ec2_id;
use super::{not_authorized, policy, Infra};
use crate::query::{request_id, xml, xml_escape, Query};
use axum::http::StatusCode;
use axum::response::Response;

pub(crate) const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum VpcKind {
    App,
    Isolated,
    Natless,
    Egress,
}

impl VpcKind {
    pub const ALL: [VpcKind; 4] = [
        VpcKind::App,
        VpcKind::Isolated,
        VpcKind::Natless,
        VpcKind::Egress,
    ];

    pub fn word(self) -> &'static str {
        match self {
            VpcKind::App => "app",
            VpcKind::Isolated => "isolated",
            VpcKind::Natless => "natless",
            VpcKind::Egress => "egress",
        }
    }

    fn octet(self) -> u8 {
        self as u8
    }
}

/// An interface endpoint for Secrets Manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub id: String,
    pub private_dns: bool,
    pub group: String,
    pub dns_names: Vec<String>,
}

/// One security group rule: protocol, ports, CIDRs, groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub protocol: &'static str,
    pub ports: Option<(u16, u16)>,
    pub cidrs: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Vpc {
    pub kind: VpcKind,
    pub id: String,
    pub cidr: String,
    pub subnets: Vec<String>,
    pub route_table: String,
    /// (destination, target): `local`, `nat-…`.
    pub routes: Vec<(String, String)>,
    pub lambda_group: Group,
    pub endpoint: Option<(Endpoint, Group)>,
}

/// The VPC of `kind` in `account` × `region`.
pub(crate) fn vpc(account: &str, region: &str, kind: VpcKind) -> Vpc {
    let id = |prefix: &str, what: &str| {
        ec2_id(prefix, account, region, &format!("{}/{what}", kind.word()))
    };
    let cidr = format!("10.{}.0.0/16", kind.octet());
    let lambda_group = Group {
        id: id("sg", "lambda"),
        name: format!("rotation-lambda-{}", kind.word()),
        ingress: Vec::new(),
        egress: vec![Rule {
            protocol: "-1",
            ports: None,
            cidrs: vec!["0.0.0.0/0".into()],
            groups: Vec::new(),
        }],
    };
    let mut routes = vec![(cidr.clone(), "local".to_string())];
    if kind == VpcKind::Egress {
        routes.push(("0.0.0.0/0".into(), id("nat", "nat")));
    }
    let endpoint = matches!(kind, VpcKind::App | VpcKind::Natless).then(|| {
        let eid = id("vpce", "secretsmanager");
        let mut dns_names = vec![
            format!(
                "{eid}-{:08x}.secretsmanager.{region}.vpce.amazonaws.com",
                super::names::fnv(&eid) as u32
            ),
            format!(
                "{eid}-{:08x}-{region}a.secretsmanager.{region}.vpce.amazonaws.com",
                super::names::fnv(&eid) as u32
            ),
        ];
        let private_dns = kind == VpcKind::App;
        if private_dns {
            dns_names.push(format!("secretsmanager.{region}.amazonaws.com"));
        }
        let group = Group {
            id: id("sg", "endpoint"),
            name: format!("secretsmanager-endpoint-{}", kind.word()),
            ingress: vec![Rule {
                protocol: "tcp",
                ports: Some((443, 443)),
                cidrs: Vec::new(),
                groups: vec![lambda_group.id.clone()],
            }],
            egress: lambda_group.egress.clone(),
        };
        (
            Endpoint {
                id: eid,
                private_dns,
                group: group.id.clone(),
                dns_names,
            },
            group,
        )
    });
    Vpc {
        kind,
        id: id("vpc", "vpc"),
        cidr,
        subnets: vec![id("subnet", "a"), id("subnet", "b")],
        route_table: id("rtb", "main"),
        routes,
        lambda_group,
        endpoint,
    }
}

/// Every VPC of `account` × `region`.
pub(crate) fn vpcs(account: &str, region: &str) -> Vec<Vpc> {
    VpcKind::ALL
        .into_iter()
        .map(|k| vpc(account, region, k))
        .collect()
}

impl Rule {
    fn https(&self) -> bool {
        (self.protocol == "-1" || self.protocol == "tcp")
            && self.ports.is_none_or(|(lo, hi)| lo <= 443 && 443 <= hi)
    }

    /// Lets HTTPS in from (or out to) `group`'s members.
    fn allows_https_from(&self, group: &str) -> bool {
        self.https()
            && (self.groups.iter().any(|g| g == group)
                || self.cidrs.iter().any(|c| c == "0.0.0.0/0"))
    }
}

impl Vpc {
    /// True when a Lambda in this VPC (in its Lambda security group),
    /// calling Secrets Manager at `endpoint_var` (its SECRETS_MANAGER_ENDPOINT,
    /// else the public name), gets there: through a NAT gateway to the
    /// public endpoint, or through the VPC's interface endpoint when the
    /// name it calls resolves to it (private DNS, or the endpoint's own name)
    /// and the endpoint's group lets it in.
    pub fn reaches_secrets_manager(&self, endpoint_var: Option<&str>, region: &str) -> bool {
        let endpoint_group = self
            .endpoint
            .as_ref()
            .map(|(_, g)| g.id.as_str())
            .unwrap_or("");
        let out = self
            .lambda_group
            .egress
            .iter()
            .any(|r| r.allows_https_from(endpoint_group));
        if !out {
            return false;
        }
        if self
            .routes
            .iter()
            .any(|(d, t)| d == "0.0.0.0/0" && (t.starts_with("nat-") || t.starts_with("igw-")))
        {
            return true;
        }
        let host = endpoint_var
            .map(|u| {
                u.trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_string()
            })
            .unwrap_or_else(|| format!("secretsmanager.{region}.amazonaws.com"));
        self.endpoint.as_ref().is_some_and(|(e, g)| {
            e.dns_names.contains(&host)
                && g.ingress
                    .iter()
                    .any(|r| r.allows_https_from(&self.lambda_group.id))
        })
    }
}

/// EC2's error document.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
             <Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
            xml_escape(message),
            request_id()
        ),
    )
}

fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", xml_escape(value))
}

fn set(name: &str, items: impl IntoIterator<Item = String>) -> String {
    let inner: String = items
        .into_iter()
        .map(|i| format!("<item>{i}</item>"))
        .collect();
    if inner.is_empty() {
        format!("<{name}/>")
    } else {
        format!("<{name}>{inner}</{name}>")
    }
}

fn name_tag(name: &str) -> String {
    set(
        "tagSet",
        [format!("{}{}", el("key", "Name"), el("value", name))],
    )
}

fn rule_xml(r: &Rule, account: &str) -> String {
    let mut s = el("ipProtocol", r.protocol);
    if let Some((lo, hi)) = r.ports {
        s += &el("fromPort", &lo.to_string());
        s += &el("toPort", &hi.to_string());
    }
    s += &set(
        "groups",
        r.groups
            .iter()
            .map(|g| el("userId", account) + &el("groupId", g)),
    );
    s += &set("ipRanges", r.cidrs.iter().map(|c| el("cidrIp", c)));
    s + "<ipv6Ranges/><prefixListIds/>"
}

fn group_xml(g: &Group, vpc: &Vpc, account: &str, region: &str) -> String {
    el("ownerId", account)
        + &el("groupId", &g.id)
        + &el("groupName", &g.name)
        + &el(
            "groupDescription",
            &format!("{} ({})", g.name, vpc.kind.word()),
        )
        + &el("vpcId", &vpc.id)
        + &set(
            "ipPermissions",
            g.ingress.iter().map(|r| rule_xml(r, account)),
        )
        + &set(
            "ipPermissionsEgress",
            g.egress.iter().map(|r| rule_xml(r, account)),
        )
        + &el(
            "securityGroupArn",
            &format!("arn:aws:ec2:{region}:{account}:security-group/{}", g.id),
        )
}

fn endpoint_xml(v: &Vpc, e: &Endpoint, g: &Group, account: &str, region: &str) -> String {
    let service = format!("com.amazonaws.{region}.secretsmanager");
    el("vpcEndpointId", &e.id)
        + &el("vpcEndpointType", "Interface")
        + &el("vpcId", &v.id)
        + &el("serviceName", &service)
        + &el("state", "available")
        + &el(
            "policyDocument",
            r#"{"Statement":[{"Action":"*","Effect":"Allow","Principal":"*","Resource":"*"}]}"#,
        )
        + "<routeTableIdSet/>"
        + &set("subnetIdSet", v.subnets.iter().map(|s| xml_escape(s)))
        + &set(
            "groupSet",
            [el("groupId", &g.id) + &el("groupName", &g.name)],
        )
        + &el(
            "privateDnsEnabled",
            if e.private_dns { "true" } else { "false" },
        )
        + &el("requesterManaged", "false")
        + &set(
            "networkInterfaceIdSet",
            v.subnets
                .iter()
                .map(|s| xml_escape(&format!("eni-{}", &s[7..]))),
        )
        + &set(
            "dnsEntrySet",
            e.dns_names
                .iter()
                .map(|n| el("dnsName", n) + &el("hostedZoneId", "Z7HUB22UULQXV")),
        )
        + &el("creationTimestamp", "2025-03-04T09:30:00.000Z")
        + &name_tag(&format!("secretsmanager-{}", v.kind.word()))
        + &el("ownerId", account)
}

fn route_table_xml(v: &Vpc, account: &str) -> String {
    let routes = v.routes.iter().map(|(dest, target)| {
        let (via, origin) = if target == "local" {
            (el("gatewayId", "local"), "CreateRouteTable")
        } else {
            (el("natGatewayId", target), "CreateRoute")
        };
        el("destinationCidrBlock", dest) + &via + &el("state", "active") + &el("origin", origin)
    });
    let state = "<associationState><state>associated</state></associationState>";
    let main = el(
        "routeTableAssociationId",
        &format!("rtbassoc-{}", &v.route_table[4..]),
    ) + &el("routeTableId", &v.route_table)
        + &el("main", "true")
        + state;
    let subnets = v.subnets.iter().map(|s| {
        el("routeTableAssociationId", &format!("rtbassoc-{}", &s[7..]))
            + &el("routeTableId", &v.route_table)
            + &el("subnetId", s)
            + &el("main", "false")
            + state
    });
    el("routeTableId", &v.route_table)
        + &el("vpcId", &v.id)
        + &el("ownerId", account)
        + &set("routeSet", routes)
        + &set("associationSet", std::iter::once(main).chain(subnets))
        + "<propagatingVgwSet/>"
        + &name_tag(&format!("rotation-{}", v.kind.word()))
}

fn matches_all(
    filters: &[(String, Vec<String>)],
    field: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<bool, String> {
    for (name, values) in filters {
        let have = field(name).ok_or_else(|| name.clone())?;
        if !values
            .iter()
            .any(|v| have.iter().any(|h| policy::glob(v, h)))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An EC2 error before it is rendered: status, code, message.
type Fail = (StatusCode, &'static str, String);

fn bad_filter(name: &str) -> Fail {
    (
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        format!("The filter '{name}' is invalid"),
    )
}

/// One EC2 request of `caller` in `account` × `region`.
pub(crate) fn dispatch(
    infra: &Infra,
    (account, region, caller): (&str, &str, &str),
    body: &[u8],
) -> Response {
    let q = Query::new(body);
    let Some(action) = q.get("Action") else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingAction",
            "The request must contain the parameter Action",
        );
    };
    if !matches!(
        action,
        "DescribeVpcEndpoints" | "DescribeSecurityGroups" | "DescribeRouteTables"
    ) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("The action {action} is not valid for this web service."),
        );
    }
    let permission = format!("ec2:{action}");
    if infra.denied(account, &permission) {
        return error(
            StatusCode::FORBIDDEN,
            "UnauthorizedOperation",
            &format!(
                "You are not authorized to perform this operation. {}",
                not_authorized(caller, &permission, None)
            ),
        );
    }
    let vpcs = vpcs(account, region);
    let filters = q.filters();
    let (items, set_name) = match action {
        "DescribeVpcEndpoints" => match endpoints(&vpcs, &q, &filters, account, region) {
            Ok(items) => (items, "vpcEndpointSet"),
            Err((status, code, message)) => return error(status, code, &message),
        },
        "DescribeSecurityGroups" => match groups(&vpcs, &q, &filters, account, region) {
            Ok(items) => (items, "securityGroupInfo"),
            Err((status, code, message)) => return error(status, code, &message),
        },
        _ => match route_tables(&vpcs, &q, &filters, account) {
            Ok(items) => (items, "routeTableSet"),
            Err((status, code, message)) => return error(status, code, &message),
        },
    };
    xml(
        StatusCode::OK,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{XMLNS}\">{}{}</{action}Response>",
            el("requestId", &request_id()),
            set(set_name, items)
        ),
    )
}

/// The ids asked for by `PREFIX.N` that are not among `known`.
fn unknown_ids(q: &Query, prefix: &str, known: &[String]) -> Option<String> {
    q.list(prefix).into_iter().find(|id| !known.contains(id))
}

fn endpoints(
    vpcs: &[Vpc],
    q: &Query,
    filters: &[(String, Vec<String>)],
    account: &str,
    region: &str,
) -> Result<Vec<String>, Fail> {
    let all: Vec<(&Vpc, &Endpoint, &Group)> = vpcs
        .iter()
        .filter_map(|v| v.endpoint.as_ref().map(|(e, g)| (v, e, g)))
        .collect();
    let ids: Vec<String> = all.iter().map(|(_, e, _)| e.id.clone()).collect();
    if let Some(id) = unknown_ids(q, "VpcEndpointId", &ids) {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidVpcEndpointId.NotFound",
            format!("The Vpc Endpoint Id '{id}' does not exist"),
        ));
    }
    let asked = q.list("VpcEndpointId");
    let mut out = Vec::new();
    for (v, e, g) in all {
        let keep = matches_all(filters, |name| match name {
            "vpc-id" => Some(vec![v.id.clone()]),
            "service-name" => Some(vec![format!("com.amazonaws.{region}.secretsmanager")]),
            "vpc-endpoint-id" => Some(vec![e.id.clone()]),
            "vpc-endpoint-type" => Some(vec!["Interface".into()]),
            "vpc-endpoint-state" => Some(vec!["available".into()]),
            _ => None,
        })
        .map_err(|n| bad_filter(&n))?;
        if keep && (asked.is_empty() || asked.contains(&e.id)) {
            out.push(endpoint_xml(v, e, g, account, region));
        }
    }
    Ok(out)
}

fn groups(
    vpcs: &[Vpc],
    q: &Query,
    filters: &[(String, Vec<String>)],
    account: &str,
    region: &str,
) -> Result<Vec<String>, Fail> {
    let all: Vec<(&Vpc, &Group)> = vpcs
        .iter()
        .flat_map(|v| {
            std::iter::once((v, &v.lambda_group)).chain(v.endpoint.as_ref().map(|(_, g)| (v, g)))
        })
        .collect();
    let ids: Vec<String> = all.iter().map(|(_, g)| g.id.clone()).collect();
    if let Some(id) = unknown_ids(q, "GroupId", &ids) {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidGroup.NotFound",
            format!("The security group '{id}' does not exist"),
        ));
    }
    let asked = q.list("GroupId");
    let mut out = Vec::new();
    for (v, g) in all {
        let keep = matches_all(filters, |name| match name {
            "vpc-id" => Some(vec![v.id.clone()]),
            "group-id" => Some(vec![g.id.clone()]),
            "group-name" => Some(vec![g.name.clone()]),
            _ => None,
        })
        .map_err(|n| bad_filter(&n))?;
        if keep && (asked.is_empty() || asked.contains(&g.id)) {
            out.push(group_xml(g, v, account, region));
        }
    }
    Ok(out)
}

fn route_tables(
    vpcs: &[Vpc],
    q: &Query,
    filters: &[(String, Vec<String>)],
    account: &str,
) -> Result<Vec<String>, Fail> {
    let ids: Vec<String> = vpcs.iter().map(|v| v.route_table.clone()).collect();
    if let Some(id) = unknown_ids(q, "RouteTableId", &ids) {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidRouteTableID.NotFound",
            format!("The routeTable ID '{id}' does not exist"),
        ));
    }
    let asked = q.list("RouteTableId");
    let mut out = Vec::new();
    for v in vpcs {
        let keep = matches_all(filters, |name| match name {
            "vpc-id" => Some(vec![v.id.clone()]),
            "route-table-id" => Some(vec![v.route_table.clone()]),
            "association.subnet-id" => Some(v.subnets.clone()),
            "association.main" => Some(vec!["true".into()]),
            _ => None,
        })
        .map_err(|n| bad_filter(&n))?;
        if keep && (asked.is_empty() || asked.contains(&v.route_table)) {
            out.push(route_table_xml(v, account));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_vpcs_reach_secrets_manager() {
        let (a, r) = ("123456789012", "us-east-1");
        let public = format!("https://secretsmanager.{r}.amazonaws.com");
        assert!(vpc(a, r, VpcKind::App).reaches_secrets_manager(Some(&public), r));
        assert!(vpc(a, r, VpcKind::App).reaches_secrets_manager(None, r));
        assert!(!vpc(a, r, VpcKind::Isolated).reaches_secrets_manager(Some(&public), r));
        assert!(vpc(a, r, VpcKind::Egress).reaches_secrets_manager(Some(&public), r));
        let natless = vpc(a, r, VpcKind::Natless);
        assert!(!natless.reaches_secrets_manager(Some(&public), r));
        let own = format!(
            "https://{}",
            natless.endpoint.as_ref().unwrap().0.dns_names[0]
        );
        assert!(
            natless.reaches_secrets_manager(Some(&own), r),
            "its own name resolves to it"
        );
        let ids: std::collections::HashSet<String> = vpcs(a, r).into_iter().map(|v| v.id).collect();
        assert_eq!(ids.len(), 4);
    }
}
