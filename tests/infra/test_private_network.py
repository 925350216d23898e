"""The stage's `vpc`, in the synthesized template: functions in private subnets behind a
security group that lets only HTTPS out, the endpoints they call, the jobs' subnets and group
in the functions' environment, and the service role's network permissions as the Bedrock
guide lists them. Created (isolated subnets, no NAT, flow logs) or existing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.app_builder import build_app
from infra.config import ConfigError
from infra.constructs.networking import GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS
from infra.steps import ALL_FUNCTIONS

EXISTING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnets": [
        {"id": "subnet-0123456789abcdef0", "availability_zone": "us-east-1a", "route_table_id": "rtb-0123456789abcdef0"},
        {"id": "subnet-0123456789abcdef1", "availability_zone": "us-east-1b", "route_table_id": "rtb-0123456789abcdef1"},
    ],
}


def lifecycle_functions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    handlers = {step.handler for step in ALL_FUNCTIONS}
    return {k: r for k, r in document["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") in handlers}


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in document["Resources"].items() if r["Type"] == kind}


pytestmark = pytest.mark.xdist_group("private-network")  # its module fixture runs once, on one worker

@pytest.fixture(scope="module")
def created(private_template) -> dict[str, Any]:
    return json.loads(private_template.read_text())


@pytest.fixture(scope="module")
def existing(tmp_path_factory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("cdk.out.existing-vpc")
    app, stack, _ = build_app(outdir=str(outdir), context={"stage": "dev", "stage_overrides": {"vpc": EXISTING}}, bundling=False)
    app.synth()
    return json.loads((outdir / f"{stack.stack_name}.template.json").read_text())


def test_a_created_vpc_has_isolated_subnets_no_nat_and_flow_logs(created):
    template = Template.from_json(created)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.has_resource_properties("AWS::EC2::FlowLog", {"ResourceType": "VPC", "TrafficType": "ALL"})
    assert all(r["Properties"]["MapPublicIpOnLaunch"] is False for r in of_type(created, "AWS::EC2::Subnet").values())
    assert not [r for r in of_type(created, "AWS::EC2::Route").values() if "GatewayId" in r["Properties"]]


def test_every_lifecycle_function_runs_in_the_private_subnets_behind_the_https_only_group(created):
    subnets = [{"Ref": k} for k in sorted(of_type(created, "AWS::EC2::Subnet"))]
    (functions_group,) = [k for k in of_type(created, "AWS::EC2::SecurityGroup") if k.startswith("NetworkFunctions")]
    for name, function in lifecycle_functions(created).items():
        config = function["Properties"]["VpcConfig"]
        assert sorted(config["SubnetIds"], key=json.dumps) == subnets, name
        assert config["SecurityGroupIds"] == [{"Fn::GetAtt": [functions_group, "GroupId"]}], name
    egress = created["Resources"][functions_group]["Properties"]["SecurityGroupEgress"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in egress] == [("tcp", 443, 443)]


def test_the_endpoints_cover_what_the_steps_call_and_admit_only_the_functions(created):
    endpoints = of_type(created, "AWS::EC2::VPCEndpoint").values()
    services = {e["Properties"]["ServiceName"]["Fn::Join"][1][-1].lstrip("."): e["Properties"] for e in endpoints}
    assert set(services) == set(GATEWAY_ENDPOINTS) | set(INTERFACE_ENDPOINTS)
    for name in INTERFACE_ENDPOINTS:
        assert services[name]["VpcEndpointType"] == "Interface" and services[name]["PrivateDnsEnabled"] is True
    for name in GATEWAY_ENDPOINTS:
        assert services[name]["VpcEndpointType"] == "Gateway" and len(services[name]["RouteTableIds"]) == 2
    (ingress,) = of_type(created, "AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["FromPort"] == ingress["Properties"]["ToPort"] == 443
    assert ingress["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("NetworkFunctions")


def test_the_jobs_get_the_subnets_and_their_own_group_and_the_service_role_the_guides_permissions(created):
    subnets = [{"Ref": k} for k in sorted(of_type(created, "AWS::EC2::Subnet"))]
    for function in lifecycle_functions(created).values():
        variables = function["Properties"]["Environment"]["Variables"]
        parts = variables["JOB_SUBNET_IDS"]["Fn::Join"][1]
        assert sorted((p for p in parts if isinstance(p, dict)), key=json.dumps) == subnets and "," in parts
        assert variables["JOB_SECURITY_GROUP_IDS"]["Fn::GetAtt"][0].startswith("NetworkJobs")
    template = Template.from_json(created)
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": "ec2:CreateNetworkInterface", "Condition": {
            "StringEquals": {"aws:RequestTag/BedrockManaged": ["true"]},
            "ArnEquals": {"aws:RequestTag/BedrockModelCustomizationJobArn": Match.any_value()}}}),
        Match.object_like({"Action": ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                                      "ec2:DeleteNetworkInterfacePermission"],
                           "Condition": {"StringEquals": {"ec2:ResourceTag/BedrockManaged": "true"}, "ArnEquals": Match.any_value()}}),
        Match.object_like({"Action": "ec2:CreateTags", "Condition": {
            "StringEquals": {"ec2:CreateAction": ["CreateNetworkInterface"]},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]}}}),
    ])}, "Roles": [{"Ref": Match.string_like_regexp("^BedrockServiceRole")}]})


def test_an_existing_vpc_is_used_as_given_and_nothing_of_it_is_created(existing):
    assert not of_type(existing, "AWS::EC2::VPC") and not of_type(existing, "AWS::EC2::Subnet")
    given = [s["id"] for s in EXISTING["subnets"]]
    for function in lifecycle_functions(existing).values():
        assert function["Properties"]["VpcConfig"]["SubnetIds"] == given
        assert function["Properties"]["Environment"]["Variables"]["JOB_SUBNET_IDS"] == ",".join(given)
    (s3,) = [e for e in of_type(existing, "AWS::EC2::VPCEndpoint").values() if "s3" in json.dumps(e["Properties"]["ServiceName"])]
    assert s3["Properties"]["RouteTableIds"] == [s["route_table_id"] for s in EXISTING["subnets"]]


def test_without_a_vpc_the_functions_have_no_network_settings(template_dict):
    assert not of_type(template_dict, "AWS::EC2::VPCEndpoint")
    assert all("VpcConfig" not in f["Properties"] and "JOB_SUBNET_IDS" not in f["Properties"]["Environment"]["Variables"]
               for f in lifecycle_functions(template_dict).values())


@pytest.mark.parametrize(("vpc", "message"), [
    ({"vpc_id": "vpc-0123456789abcdef0"}, "needs its private subnets"),
    ({"subnets": EXISTING["subnets"]}, "only with the vpc_id"),
    ({"endpoints": False}, "needs its endpoints"),
    ({"vpc_id": "vpc-1", "subnets": EXISTING["subnets"]}, "vpc.vpc_id"),
])
def test_a_malformed_vpc_setting_is_refused_naming_the_field(vpc, message):
    with pytest.raises(ConfigError, match=message):
        build_app(context={"stage": "dev", "stage_overrides": {"vpc": vpc}}, bundling=False)
