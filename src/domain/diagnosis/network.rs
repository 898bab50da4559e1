//! Can a Lambda in a VPC reach Secrets Manager? A function attached to a
//! VPC has no internet access of its own; it reaches Secrets Manager
//! through an interface VPC endpoint (with private DNS, so the service's
//! public name resolves to it) whose security group lets the function in on
//! HTTPS, or through a NAT gateway on its subnets' default route. Without
//! either, every call times out: AWS's most common cause of rotation
//! timeouts (user guide, "Troubleshoot rotation").

use super::facts::{NetworkFacts, Permission, Read, SecurityGroup, VpcConfig, VpcEndpoint};

/// How the function reaches Secrets Manager, or why it cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// Through this interface endpoint (private DNS on).
    Endpoint(String),
    /// Through this NAT gateway.
    Nat(String),
    /// No way out; the sentence says what is missing.
    None(String),
    /// A read was refused (the permission) or failed (`None`).
    Unknown(Option<String>, String),
}

fn unknown<T>(r: &Read<T>) -> Option<Path> {
    match r {
        Read::Found(_) | Read::NotFound => None,
        Read::Denied { permission } => Some(Path::Unknown(
            Some(permission.clone()),
            format!("the dashboard may not call {permission}"),
        )),
        Read::Failed { message } => Some(Path::Unknown(None, message.clone())),
    }
}

/// True when `rule` lets TCP port 443 through.
fn allows_443(rule: &Permission) -> bool {
    let proto = rule.protocol.as_str();
    if proto == "-1" || proto == "all" {
        return true;
    }
    if proto != "tcp" && proto != "6" {
        return false;
    }
    match (rule.from_port, rule.to_port) {
        (Some(from), Some(to)) => from <= 443 && 443 <= to,
        _ => true,
    }
}

/// True when `rules` let 443 to or from `peers` (or any address).
fn lets_in(rules: &[Permission], peers: &[String]) -> bool {
    rules.iter().any(|r| {
        allows_443(r) && (!r.cidrs.is_empty() || r.groups.iter().any(|g| peers.contains(g)))
    })
}

fn groups<'a>(all: &'a [SecurityGroup], ids: &[String]) -> Vec<&'a SecurityGroup> {
    all.iter().filter(|g| ids.contains(&g.id)).collect()
}

/// The endpoint the function can use, or what stops it.
fn through_endpoint(
    vpc: &VpcConfig,
    endpoints: &[VpcEndpoint],
    sgs: &[SecurityGroup],
) -> Result<String, String> {
    let usable: Vec<_> = endpoints
        .iter()
        .filter(|e| {
            e.service_name.ends_with(".secretsmanager") && e.state.eq_ignore_ascii_case("available")
        })
        .collect();
    let Some(e) = usable.iter().find(|e| e.private_dns) else {
        return Err(match usable.first() {
            Some(e) => format!(
                "endpoint {} has private DNS off, so the public name does not resolve to it",
                e.id
            ),
            None => format!("{} has no Secrets Manager interface endpoint", vpc.vpc_id),
        });
    };
    let out = groups(sgs, &vpc.security_group_ids)
        .iter()
        .any(|g| lets_in(&g.egress, &e.security_group_ids));
    if !out {
        return Err(format!(
            "the function's security groups ({}) do not allow HTTPS (443) out to endpoint {}",
            vpc.security_group_ids.join(", "),
            e.id
        ));
    }
    let into = groups(sgs, &e.security_group_ids)
        .iter()
        .any(|g| lets_in(&g.ingress, &vpc.security_group_ids));
    if !into {
        return Err(format!(
            "endpoint {}'s security groups ({}) do not allow HTTPS (443) in from the function",
            e.id,
            e.security_group_ids.join(", ")
        ));
    }
    Ok(e.id.clone())
}

/// The NAT gateway each of the function's subnets defaults to, if all do.
fn through_nat(vpc: &VpcConfig, facts: &NetworkFacts) -> Option<String> {
    let tables = facts.route_tables.found()?;
    let main = tables.iter().find(|t| t.main);
    let mut nat = None;
    for subnet in &vpc.subnet_ids {
        let table = tables
            .iter()
            .find(|t| t.subnet_ids.contains(subnet))
            .or(main)?;
        let gw = table
            .routes
            .iter()
            .find(|r| r.destination == "0.0.0.0/0" && r.target.starts_with("nat-"))?;
        nat = Some(gw.target.clone());
    }
    nat
}

/// How a function in `vpc` reaches Secrets Manager.
pub fn path(vpc: &VpcConfig, facts: &NetworkFacts) -> Path {
    if let Some(u) = unknown(&facts.endpoints).or_else(|| unknown(&facts.security_groups)) {
        return u;
    }
    let endpoints = facts.endpoints.found().map(Vec::as_slice).unwrap_or(&[]);
    let sgs = facts
        .security_groups
        .found()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let why = match through_endpoint(vpc, endpoints, sgs) {
        Ok(id) => return Path::Endpoint(id),
        Err(why) => why,
    };
    if let Some(u) = unknown(&facts.route_tables) {
        return u;
    }
    match through_nat(vpc, facts) {
        Some(nat) if lets_out_anywhere(vpc, sgs) => Path::Nat(nat),
        Some(nat) => Path::None(format!(
            "{why}; its subnets route to {nat}, but its security groups do not allow HTTPS out"
        )),
        None => Path::None(format!(
            "{why}, and its subnets ({}) have no default route to a NAT gateway",
            vpc.subnet_ids.join(", ")
        )),
    }
}

fn lets_out_anywhere(vpc: &VpcConfig, sgs: &[SecurityGroup]) -> bool {
    groups(sgs, &vpc.security_group_ids).iter().any(|g| {
        g.egress
            .iter()
            .any(|r| allows_443(r) && !r.cidrs.is_empty())
    })
}

/// Whether the `SECRETS_MANAGER_ENDPOINT` URL is reachable given `path`:
/// `Ok` with how, or `Err` with why not; `None` when it cannot be judged.
pub fn endpoint_variable(
    url: &str,
    region: &str,
    vpc: Option<&VpcConfig>,
    facts: Option<&NetworkFacts>,
    path: Option<&Path>,
) -> Option<Result<String, String>> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let public = host == format!("secretsmanager.{region}.amazonaws.com")
        || host == format!("secretsmanager-fips.{region}.amazonaws.com");
    let Some(vpc) = vpc else {
        return public.then(|| {
            Ok(format!(
                "{host} is the public endpoint, reachable outside a VPC"
            ))
        });
    };
    if public {
        return match path? {
            Path::Endpoint(id) => Some(Ok(format!(
                "{host} resolves to endpoint {id} (private DNS)"
            ))),
            Path::Nat(nat) => Some(Ok(format!("{host} is reached through {nat}"))),
            Path::None(_) => Some(Err(format!(
                "{host} is the public endpoint, and {} has neither an endpoint with private DNS \
                 nor a NAT gateway",
                vpc.vpc_id
            ))),
            Path::Unknown(..) => None,
        };
    }
    if host.contains(".vpce.amazonaws.com") {
        let endpoints = facts?.endpoints.found()?;
        return Some(
            match endpoints.iter().find(|e| {
                e.dns_names
                    .iter()
                    .any(|d| host.ends_with(&d.to_ascii_lowercase()))
            }) {
                Some(e) => Ok(format!("{host} is endpoint {} in {}", e.id, vpc.vpc_id)),
                None => Err(format!(
                    "{host} is not an endpoint of {} (another VPC's, or deleted)",
                    vpc.vpc_id
                )),
            },
        );
    }
    None
}
