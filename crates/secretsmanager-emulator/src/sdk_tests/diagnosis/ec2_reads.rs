//! EC2 DescribeVpcEndpoints, DescribeSecurityGroups and DescribeRouteTables
//! through `aws-sdk-ec2`, for the VPCs the rotation Lambdas run in.

use super::*;
use ec2::types::Filter as Ec2Filter;

fn f(name: &str, value: &str) -> Ec2Filter {
    Ec2Filter::builder().name(name).values(value).build()
}

/// The VPC config of the seeded Lambda of behaviour `b`.
async fn vpc_of(
    c: &Clients,
    plan: &[PlannedSecret],
    b: LambdaBehaviour,
) -> (String, Vec<String>, String) {
    let arn = with_lambda(plan, b).rotation_lambda.clone().unwrap();
    let out = c
        .lambda
        .get_function()
        .function_name(arn)
        .send()
        .await
        .unwrap();
    let v = out.configuration().unwrap().vpc_config().unwrap();
    (
        v.vpc_id().unwrap().to_string(),
        v.subnet_ids().to_vec(),
        v.security_group_ids()[0].clone(),
    )
}

/// The path of a healthy function in the application VPC: "Describes your
/// VPC endpoints." (DescribeVpcEndpoints, EC2 API reference) — filtered by
/// `vpc-id` and `service-name`, one Secrets Manager interface endpoint,
/// available, private DNS on ("privateDnsEnabled: (Interface endpoint)
/// Indicates whether the VPC is associated with a private hosted zone." —
/// VpcEndpoint), whose security group ("Describes the specified security
/// groups" — DescribeSecurityGroups) lets tcp 443 in from the Lambda's
/// group, which may send anywhere; its subnets' route table
/// (DescribeRouteTables, filter `association.subnet-id`: "The ID of the
/// subnet involved in the association.") routes only `local`.
#[tokio::test]
async fn a_healthy_function_reaches_secrets_manager_through_its_endpoint() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let healthy = plan
        .iter()
        .filter(|p| p.lambda_behaviour == Some(LambdaBehaviour::Ok))
        .filter_map(|p| p.rotation_lambda.clone())
        .collect::<BTreeSet<_>>();
    let mut in_app = None;
    for arn in healthy {
        let out = c
            .lambda
            .get_function()
            .function_name(&arn)
            .send()
            .await
            .unwrap();
        if let Some(v) = out.configuration().unwrap().vpc_config() {
            in_app = Some((
                v.vpc_id().unwrap().to_string(),
                v.subnet_ids().to_vec(),
                v.security_group_ids()[0].clone(),
            ));
            break;
        }
    }
    let (vpc, subnets, lambda_sg) = in_app.expect("a healthy function runs in a VPC");
    let service = format!("com.amazonaws.{REGION}.secretsmanager");
    let out = c
        .ec2
        .describe_vpc_endpoints()
        .filters(f("vpc-id", &vpc))
        .filters(f("service-name", &service))
        .send()
        .await
        .unwrap();
    let [e] = out.vpc_endpoints() else {
        panic!("{out:?}")
    };
    assert_eq!(e.vpc_id(), Some(vpc.as_str()));
    assert_eq!(e.service_name(), Some(service.as_str()));
    assert_eq!(e.vpc_endpoint_type().map(|t| t.as_str()), Some("Interface"));
    assert!(e
        .state()
        .unwrap()
        .as_str()
        .eq_ignore_ascii_case("available"));
    assert_eq!(e.private_dns_enabled(), Some(true));
    assert_eq!(e.subnet_ids(), subnets.as_slice());
    assert!(e
        .dns_entries()
        .iter()
        .any(|d| d.dns_name() == Some("secretsmanager.us-east-1.amazonaws.com")));
    let endpoint_sg = e.groups()[0].group_id().unwrap().to_string();
    let by_id = c
        .ec2
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(e.vpc_endpoint_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.vpc_endpoints().len(), 1);

    let out = c
        .ec2
        .describe_security_groups()
        .group_ids(&endpoint_sg)
        .group_ids(&lambda_sg)
        .send()
        .await
        .unwrap();
    let groups = out.security_groups();
    assert_eq!(groups.len(), 2);
    let endpoint = groups
        .iter()
        .find(|g| g.group_id() == Some(endpoint_sg.as_str()))
        .unwrap();
    let rule = &endpoint.ip_permissions()[0];
    assert_eq!(
        (rule.ip_protocol(), rule.from_port(), rule.to_port()),
        (Some("tcp"), Some(443), Some(443))
    );
    assert_eq!(
        rule.user_id_group_pairs()[0].group_id(),
        Some(lambda_sg.as_str())
    );
    let lambda = groups
        .iter()
        .find(|g| g.group_id() == Some(lambda_sg.as_str()))
        .unwrap();
    let out_rule = &lambda.ip_permissions_egress()[0];
    assert_eq!(out_rule.ip_protocol(), Some("-1"));
    assert_eq!(out_rule.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));

    let out = c
        .ec2
        .describe_route_tables()
        .filters(f("association.subnet-id", &subnets[0]))
        .send()
        .await
        .unwrap();
    let [t] = out.route_tables() else {
        panic!("{out:?}")
    };
    assert_eq!(t.vpc_id(), Some(vpc.as_str()));
    let routes: Vec<_> = t
        .routes()
        .iter()
        .map(|r| (r.destination_cidr_block(), r.gateway_id()))
        .collect();
    assert_eq!(routes, [(Some("10.0.0.0/16"), Some("local"))]);
    assert!(t
        .associations()
        .iter()
        .any(|a| a.subnet_id() == Some(subnets[0].as_str())));
    assert!(t.associations().iter().any(|a| a.main() == Some(true)));
}

/// The misconfigured paths: `failcreate`'s VPC has no endpoint and routes
/// only `local`; `endpointvar`'s has an endpoint with private DNS off and no
/// NAT; `nat`'s has no endpoint but `0.0.0.0/0` through a NAT gateway.
#[tokio::test]
async fn the_misconfigured_networks_show_their_cause() {
    let ep = start(300).await;
    let c = clients(&ep).await;
    let plan = ep.endpoint.plan();
    let endpoints = |vpc: String| {
        let ec2 = c.ec2.clone();
        async move {
            ec2.describe_vpc_endpoints()
                .filters(f("vpc-id", &vpc))
                .send()
                .await
                .unwrap()
                .vpc_endpoints()
                .to_vec()
        }
    };
    let routes = |subnet: String| {
        let ec2 = c.ec2.clone();
        async move {
            let out = ec2
                .describe_route_tables()
                .filters(f("association.subnet-id", &subnet))
                .send()
                .await
                .unwrap();
            out.route_tables()[0]
                .routes()
                .iter()
                .map(|r| {
                    let target = r.gateway_id().or(r.nat_gateway_id()).unwrap_or_default();
                    (
                        r.destination_cidr_block().unwrap_or_default().to_string(),
                        target.to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let (isolated, subnets, _) = vpc_of(&c, &plan, LambdaBehaviour::FailCreate).await;
    assert!(endpoints(isolated).await.is_empty());
    assert_eq!(
        routes(subnets[0].clone()).await,
        [("10.1.0.0/16".to_string(), "local".to_string())]
    );

    let (natless, subnets, _) = vpc_of(&c, &plan, LambdaBehaviour::EndpointVar).await;
    let found = endpoints(natless).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].private_dns_enabled(), Some(false));
    assert!(found[0]
        .dns_entries()
        .iter()
        .all(|d| d.dns_name().unwrap().contains(".vpce.amazonaws.com")));
    assert!(routes(subnets[1].clone())
        .await
        .iter()
        .all(|(_, t)| t == "local"));

    let (egress, subnets, _) = vpc_of(&c, &plan, LambdaBehaviour::Nat).await;
    assert!(endpoints(egress).await.is_empty());
    let r = routes(subnets[0].clone()).await;
    assert!(
        r.iter()
            .any(|(d, t)| d == "0.0.0.0/0" && t.starts_with("nat-")),
        "{r:?}"
    );
}

/// An id that does not exist is the documented `.NotFound` error ("The
/// specified VPC endpoint does not exist." — InvalidVpcEndpointId.NotFound;
/// "The specified security group does not exist." — InvalidGroup.NotFound,
/// EC2 error codes), and a filter EC2 does not know is InvalidParameterValue.
#[tokio::test]
async fn unknown_ec2_resources_are_not_found() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    let (code, status, message) = code_and_status(
        c.ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids("vpce-0123456789abcdef0")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("InvalidVpcEndpointId.NotFound", 400)
    );
    assert!(message.contains("vpce-0123456789abcdef0"), "{message}");
    let (code, _, _) = code_and_status(
        c.ec2
            .describe_security_groups()
            .group_ids("sg-0123456789abcdef0")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    let (code, _, _) = code_and_status(
        c.ec2
            .describe_route_tables()
            .route_table_ids("rtb-0123456789abcdef0")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRouteTableID.NotFound");
    let (code, _, _) = code_and_status(
        c.ec2
            .describe_route_tables()
            .filters(f("no-such-filter", "x"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    let none = c
        .ec2
        .describe_route_tables()
        .filters(f("vpc-id", "vpc-0123456789abcdef0"))
        .send()
        .await
        .unwrap();
    assert!(
        none.route_tables().is_empty(),
        "a filter that matches nothing is an empty answer"
    );
}

/// "UnauthorizedOperation: You are not authorized to perform this
/// operation." (EC2 error codes): the denial switch answers it, 403,
/// naming the action.
#[tokio::test]
async fn denied_ec2_reads_are_unauthorized_operations() {
    let ep = start(40).await;
    let c = clients(&ep).await;
    ep.endpoint
        .set_denied_actions(None, &["ec2:DescribeVpcEndpoints".to_string()]);
    let (code, status, message) = code_and_status(c.ec2.describe_vpc_endpoints().send().await);
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    assert_eq!(
        message,
        format!(
            "You are not authorized to perform this operation. User: arn:aws:iam::{ACCOUNT}:user/secretscope-demo \
             is not authorized to perform: ec2:DescribeVpcEndpoints because no identity-based policy \
             allows the ec2:DescribeVpcEndpoints action"
        )
    );
    c.ec2.describe_route_tables().send().await.unwrap();
    c.ec2.describe_security_groups().send().await.unwrap();
}
