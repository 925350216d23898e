from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import VpcSettings

# What the steps call, as the endpoint services of a VPC with no route out. The offline engine
# fails a step's call to any service not reachable here, so a missing one shows in the tests.
GATEWAY_ENDPOINTS = {"s3": ec2.GatewayVpcEndpointAwsService.S3, "dynamodb": ec2.GatewayVpcEndpointAwsService.DYNAMODB}
INTERFACE_ENDPOINTS = {
    "bedrock": ec2.InterfaceVpcEndpointAwsService.BEDROCK,
    "bedrock-runtime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "states": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    "servicequotas": ec2.InterfaceVpcEndpointAwsService("servicequotas"),
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "xray": ec2.InterfaceVpcEndpointAwsService.XRAY,
    "ssm": ec2.InterfaceVpcEndpointAwsService.SSM,  # Register Version keeps the current version's ARN
    # Validate Request calls a reinforcement grader before the job starts.
    "lambda": ec2.InterfaceVpcEndpointAwsService.LAMBDA_,
}
HTTPS = ec2.Port.tcp(443)


class PrivateNetwork(Construct):
    """The stage's VPC (existing, or created with isolated subnets and no NAT gateway), the
    endpoints the steps call, a security group for the functions and one for the
    customization jobs' network interfaces. Nothing here routes to the internet: the subnets
    reach AWS only through the endpoints."""

    def __init__(self, scope: Construct, id_: str, *, settings: VpcSettings, key: kms.IKey, retention: logs.RetentionDays) -> None:
        super().__init__(scope, id_)
        if settings.vpc_id:
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self, "Vpc", vpc_id=settings.vpc_id,
                availability_zones=[s.availability_zone for s in settings.subnets],
                private_subnet_ids=[s.id for s in settings.subnets],
                private_subnet_route_table_ids=[s.route_table_id for s in settings.subnets],
            )
            selection: dict[str, Any] = {"subnets": self.vpc.private_subnets}
        else:
            self.vpc = ec2.Vpc(
                self, "Vpc", ip_addresses=ec2.IpAddresses.cidr(settings.cidr), max_azs=settings.availability_zones,
                nat_gateways=0, subnet_configuration=[
                    ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22)],
            )
            flow_logs = logs.LogGroup(self, "FlowLogs", retention=retention, encryption_key=key,
                                      removal_policy=cdk.RemovalPolicy.DESTROY)
            self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
            selection = {"subnet_type": ec2.SubnetType.PRIVATE_ISOLATED}
        self._selection = selection
        self.subnets = ec2.SubnetSelection(**selection)
        # HTTPS out, nothing else: the gateway endpoints' addresses are the region's S3 and
        # DynamoDB prefix lists, which CloudFormation cannot name, so the subnets' routes decide
        # where 443 goes (in a created VPC: the endpoints, and nowhere else).
        self.functions = ec2.SecurityGroup(
            self, "Functions", vpc=self.vpc, allow_all_outbound=False,
            description="the lifecycle functions: HTTPS to the VPC endpoints",
        )
        self.functions.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "AWS APIs through the VPC endpoints")
        self.jobs = ec2.SecurityGroup(
            self, "Jobs", vpc=self.vpc, allow_all_outbound=False,
            description="the network interfaces of Bedrock customization jobs: HTTPS to S3 through its gateway",
        )
        self.jobs.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "the job's data and outputs through the S3 gateway endpoint")
        if settings.endpoints:
            self._endpoints()

    def _endpoints(self) -> None:
        for name, service in GATEWAY_ENDPOINTS.items():
            self.vpc.add_gateway_endpoint(f"{name.title()}Gateway", service=service, subnets=[self.subnets])
        endpoints = ec2.SecurityGroup(
            self, "Endpoints", vpc=self.vpc, allow_all_outbound=False,
            description="the interface endpoints: HTTPS from the lifecycle functions",
        )
        endpoints.add_ingress_rule(self.functions, HTTPS, "the lifecycle functions")
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                f"{name.title().replace('-', '')}Endpoint", service=service, subnets=self.subnets, security_groups=[endpoints],
                private_dns_enabled=True, open=False,
            )

    @property
    def subnet_ids(self) -> list[str]:
        return self.vpc.select_subnets(**self._selection).subnet_ids

    def subnet_arns(self) -> list[str]:
        stack = cdk.Stack.of(self)
        return [stack.format_arn(service="ec2", resource="subnet", resource_name=s) for s in self.subnet_ids]

    def function_statements(self) -> list[iam.PolicyStatement]:
        """What Lambda needs of a function's own role to attach it to these subnets: CDK adds
        these only to roles it creates, and Lambda refuses the function without them."""
        stack = cdk.Stack.of(self)
        interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        group = stack.format_arn(service="ec2", resource="security-group", resource_name=self.functions.security_group_id)
        return [
            iam.PolicyStatement(actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], resources=["*"]),
            iam.PolicyStatement(actions=["ec2:CreateNetworkInterface"], resources=[interfaces, *self.subnet_arns(), group]),
            iam.PolicyStatement(actions=["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                                         "ec2:UnassignPrivateIpAddresses"], resources=[interfaces]),
        ]

    def bedrock_job_statements(self) -> list[iam.PolicyStatement]:
        """What the Bedrock service role needs to place a job's network interfaces in these
        subnets (the user guide's "Attach VPC permissions to a model customization role")."""
        stack = cdk.Stack.of(self)
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        group = stack.format_arn(service="ec2", resource="security-group", resource_name=self.jobs.security_group_id)
        return [
            iam.PolicyStatement(actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                                         "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], resources=["*"]),
            iam.PolicyStatement(actions=["ec2:CreateNetworkInterface"], resources=[interfaces], conditions={
                "StringEquals": {"aws:RequestTag/BedrockManaged": ["true"]},
                "ArnEquals": {"aws:RequestTag/BedrockModelCustomizationJobArn": [jobs]},
            }),
            iam.PolicyStatement(actions=["ec2:CreateNetworkInterface"], resources=[*self.subnet_arns(), group]),
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                resources=["*"], conditions={
                    "ArnEquals": {"ec2:Subnet": self.subnet_arns(), "ec2:ResourceTag/BedrockModelCustomizationJobArn": [jobs]},
                    "StringEquals": {"ec2:ResourceTag/BedrockManaged": "true"},
                }),
            iam.PolicyStatement(actions=["ec2:CreateTags"], resources=[interfaces], conditions={
                "StringEquals": {"ec2:CreateAction": ["CreateNetworkInterface"]},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]},
            }),
        ]
