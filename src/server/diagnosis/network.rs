//! A VPC's way to Secrets Manager for a Lambda in it: its Secrets Manager
//! interface endpoints (DescribeVpcEndpoints), the Lambda's and the
//! endpoints' security groups (DescribeSecurityGroups) and the route
//! tables of the Lambda's subnets and the main one (DescribeRouteTables).

use super::{Diagnoser, Op, Place, MAX_PAGES};
use crate::domain::diagnosis::{
    NetworkFacts, Permission, Read, Route, RouteTable, SecurityGroup, VpcConfig, VpcEndpoint,
};
use aws_sdk_ec2::types::{self as ec2, Filter};

impl Diagnoser {
    /// The network of `vpc` in `region` (the Lambda's). Endpoints and
    /// route tables are kept per VPC, groups per set of group ids.
    pub(super) async fn network(
        &self,
        at: Place<'_>,
        region: &str,
        vpc: &VpcConfig,
    ) -> NetworkFacts {
        let key = at.key(region, &vpc.vpc_id);
        let (endpoints, route_tables) = tokio::join!(
            self.endpoints
                .get(&key, || self.read_endpoints(at, region, &vpc.vpc_id)),
            self.route_tables
                .get(&key, || self.read_route_tables(at, region, &vpc.vpc_id)),
        );
        let mut ids = vpc.security_group_ids.clone();
        if let Some(endpoints) = endpoints.found() {
            ids.extend(endpoints.iter().flat_map(|e| e.security_group_ids.clone()));
        }
        ids.sort();
        ids.dedup();
        // No ids would ask DescribeSecurityGroups for every group.
        let security_groups = if ids.is_empty() {
            Read::Found(Vec::new())
        } else {
            self.groups
                .get(&at.key(region, &ids.join(",")), || {
                    self.read_groups(at, region, &ids)
                })
                .await
        };
        let route_tables = route_tables.map(|tables| {
            tables
                .into_iter()
                .filter(|t| t.main || t.subnet_ids.iter().any(|s| vpc.subnet_ids.contains(s)))
                .collect()
        });
        NetworkFacts {
            endpoints,
            security_groups,
            route_tables,
        }
    }

    async fn read_endpoints(
        &self,
        at: Place<'_>,
        region: &str,
        vpc_id: &str,
    ) -> Read<Vec<VpcEndpoint>> {
        let ec2 = &self.clients(at.source, region).ec2;
        let service = format!("com.amazonaws.{region}.secretsmanager");
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let request = ec2
                .describe_vpc_endpoints()
                .filters(filter("vpc-id", vpc_id))
                .filters(filter("service-name", &service))
                .set_next_token(token.take());
            let op = Op::DescribeVpcEndpoints;
            let page = match self.call(op, at.account, region, request.send()).await {
                Ok(page) => page,
                Err(miss) => return miss,
            };
            out.extend(page.vpc_endpoints().iter().map(endpoint));
            token = next(page.next_token());
            if token.is_none() {
                break;
            }
        }
        Read::Found(out)
    }

    async fn read_groups(
        &self,
        at: Place<'_>,
        region: &str,
        ids: &[String],
    ) -> Read<Vec<SecurityGroup>> {
        let ec2 = &self.clients(at.source, region).ec2;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let request = ec2
                .describe_security_groups()
                .set_group_ids(Some(ids.to_vec()))
                .set_next_token(token.take());
            let op = Op::DescribeSecurityGroups;
            let page = match self.call(op, at.account, region, request.send()).await {
                Ok(page) => page,
                Err(miss) => return miss,
            };
            out.extend(page.security_groups().iter().map(|g| SecurityGroup {
                id: g.group_id().unwrap_or_default().to_string(),
                ingress: g.ip_permissions().iter().map(permission).collect(),
                egress: g.ip_permissions_egress().iter().map(permission).collect(),
            }));
            token = next(page.next_token());
            if token.is_none() {
                break;
            }
        }
        Read::Found(out)
    }

    async fn read_route_tables(
        &self,
        at: Place<'_>,
        region: &str,
        vpc_id: &str,
    ) -> Read<Vec<RouteTable>> {
        let ec2 = &self.clients(at.source, region).ec2;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let request = ec2
                .describe_route_tables()
                .filters(filter("vpc-id", vpc_id))
                .set_next_token(token.take());
            let op = Op::DescribeRouteTables;
            let page = match self.call(op, at.account, region, request.send()).await {
                Ok(page) => page,
                Err(miss) => return miss,
            };
            out.extend(page.route_tables().iter().map(route_table));
            token = next(page.next_token());
            if token.is_none() {
                break;
            }
        }
        Read::Found(out)
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn next(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_string)
}

pub fn endpoint(e: &ec2::VpcEndpoint) -> VpcEndpoint {
    VpcEndpoint {
        id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
        service_name: e.service_name().unwrap_or_default().to_string(),
        state: e
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        private_dns: e.private_dns_enabled().unwrap_or(false),
        security_group_ids: e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        dns_names: e
            .dns_entries()
            .iter()
            .filter_map(|d| d.dns_name().map(str::to_string))
            .collect(),
    }
}

pub fn permission(p: &ec2::IpPermission) -> Permission {
    let v4 = p.ip_ranges().iter().filter_map(|r| r.cidr_ip());
    let v6 = p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6());
    let lists = p
        .prefix_list_ids()
        .iter()
        .filter_map(|l| l.prefix_list_id());
    Permission {
        protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        cidrs: v4.chain(v6).chain(lists).map(str::to_string).collect(),
        groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
    }
}

pub fn route_table(t: &ec2::RouteTable) -> RouteTable {
    RouteTable {
        id: t.route_table_id().unwrap_or_default().to_string(),
        subnet_ids: t
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        main: t.associations().iter().any(|a| a.main() == Some(true)),
        routes: t.routes().iter().map(route).collect(),
    }
}

/// A route's destination and where it leads.
pub fn route(r: &ec2::Route) -> Route {
    let destination = r
        .destination_cidr_block()
        .or(r.destination_ipv6_cidr_block())
        .or(r.destination_prefix_list_id());
    let target = r
        .gateway_id()
        .or(r.nat_gateway_id())
        .or(r.transit_gateway_id())
        .or(r.vpc_peering_connection_id())
        .or(r.network_interface_id())
        .or(r.instance_id())
        .or(r.egress_only_internet_gateway_id())
        .or(r.local_gateway_id())
        .or(r.carrier_gateway_id())
        .or(r.core_network_arn());
    Route {
        destination: destination.unwrap_or_default().to_string(),
        target: target.unwrap_or_default().to_string(),
    }
}
