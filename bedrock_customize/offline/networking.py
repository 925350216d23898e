"""Private networking, offline: the template's VPC, subnets, route tables, security groups and
endpoints are created in moto's EC2, and what AWS enforces is judged from them, not from the
code under test:

- Lambda refuses a function in subnets unless its role may manage network interfaces;
- from private subnets with no route out, a call reaches a service only through an endpoint of
  the VPC: a gateway endpoint on the subnet's route table, or an interface endpoint with
  private DNS whose security group admits the caller's on 443 (the caller's group letting 443
  out). Any other call times out, as it would in AWS;
- Bedrock places a job's network interfaces only in subnets and security groups that exist in
  one VPC, as the service role, and reads S3 from there only through an S3 endpoint.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from botocore.exceptions import ConnectTimeoutError

from bedrock_customize.offline import clients
from bedrock_customize.offline.authorization import RolePolicies
from bedrock_customize.offline.template import Template

HTTPS = 443
# What Lambda checks of a function's role when the function is given subnets.
LAMBDA_NETWORK_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface")


def create(template: Template, region: str) -> None:
    """Create the template's EC2 networking in moto and record the ids the template refers to."""
    ec2 = clients.client("ec2", region)
    for logical_id, resource in template.resources("AWS::EC2::VPC").items():
        template.refs[logical_id] = ec2.create_vpc(CidrBlock=resource["Properties"]["CidrBlock"])["Vpc"]["VpcId"]
    for logical_id, resource in template.resources("AWS::EC2::Subnet").items():
        props = template.resolve(resource["Properties"])
        template.refs[logical_id] = ec2.create_subnet(
            VpcId=props["VpcId"], CidrBlock=props["CidrBlock"], AvailabilityZone=props["AvailabilityZone"])["Subnet"]["SubnetId"]
    for logical_id, resource in template.resources("AWS::EC2::RouteTable").items():
        template.refs[logical_id] = ec2.create_route_table(
            VpcId=template.resolve(resource["Properties"]["VpcId"]))["RouteTable"]["RouteTableId"]
    for resource in template.resources("AWS::EC2::SubnetRouteTableAssociation").values():
        props = template.resolve(resource["Properties"])
        ec2.associate_route_table(RouteTableId=props["RouteTableId"], SubnetId=props["SubnetId"])
    for logical_id, resource in template.resources("AWS::EC2::SecurityGroup").items():
        props = resource["Properties"]
        group = ec2.create_security_group(GroupName=logical_id, Description=props["GroupDescription"],
                                          VpcId=template.resolve(props["VpcId"]))["GroupId"]
        template.refs[logical_id] = group
        template.attributes[(logical_id, "GroupId")] = group
    for logical_id, resource in template.resources("AWS::EC2::SecurityGroup").items():
        group = template.refs[logical_id]
        # A group CloudFormation creates keeps only the egress it declares.
        ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        rules = [_permission(template.resolve(rule)) for rule in resource["Properties"].get("SecurityGroupEgress", [])]
        if rules:
            ec2.authorize_security_group_egress(GroupId=group, IpPermissions=rules)
        ingress = [_permission(template.resolve(rule)) for rule in resource["Properties"].get("SecurityGroupIngress", [])]
        if ingress:
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=ingress)
    for resource in template.resources("AWS::EC2::SecurityGroupIngress").values():
        props = template.resolve(resource["Properties"])
        ec2.authorize_security_group_ingress(GroupId=props["GroupId"], IpPermissions=[_permission(props)])
    for resource in template.resources("AWS::EC2::SecurityGroupEgress").values():
        props = template.resolve(resource["Properties"])
        ec2.authorize_security_group_egress(GroupId=props["GroupId"], IpPermissions=[_permission(props)])
    for logical_id, resource in template.resources("AWS::EC2::VPCEndpoint").items():
        props = template.resolve(resource["Properties"])
        kind = props.get("VpcEndpointType", "Gateway")
        extra = {"RouteTableIds": props.get("RouteTableIds", [])} if kind == "Gateway" else {
            "SubnetIds": props.get("SubnetIds", []), "SecurityGroupIds": props.get("SecurityGroupIds", []),
            "PrivateDnsEnabled": bool(props.get("PrivateDnsEnabled", False))}
        endpoint = ec2.create_vpc_endpoint(VpcId=props["VpcId"], ServiceName=props["ServiceName"], VpcEndpointType=kind, **extra)
        template.refs[logical_id] = endpoint["VpcEndpoint"]["VpcEndpointId"]


def _permission(rule: dict[str, Any]) -> dict[str, Any]:
    permission: dict[str, Any] = {"IpProtocol": str(rule["IpProtocol"])}
    if "FromPort" in rule:
        permission |= {"FromPort": int(rule["FromPort"]), "ToPort": int(rule["ToPort"])}
    if "CidrIp" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"]}]
    for key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
        if key in rule:
            permission["UserIdGroupPairs"] = [{"GroupId": rule[key]}]
    if "DestinationPrefixListId" in rule:
        permission["PrefixListIds"] = [{"PrefixListId": rule["DestinationPrefixListId"]}]
    return permission


def check_function_role(policies: RolePolicies, function: dict[str, Any], region: str, account: str) -> None:
    """Lambda's check when a function is given subnets (CreateFunction fails otherwise)."""
    function_name, role_arn = function["FunctionName"], function["Role"]
    interface = f"arn:aws:ec2:{region}:{account}:network-interface/eni-offline"
    for action in LAMBDA_NETWORK_ACTIONS:
        if not policies.allows(role_arn, action, "*" if action.startswith("ec2:Describe") else interface):
            raise RuntimeError(
                f"InvalidParameterValueException: creating function {function_name}: the provided execution role does "
                f"not have permissions to call {action.split(':')[1]} on EC2 (offline Lambda check)")


def _admits(rules: list[dict[str, Any]], *, group: str | None = None, address: str | None = None, prefix_list: bool = False) -> bool:
    """Whether any rule lets TCP 443 through from (or to) the group, the address, or (a
    gateway's) a prefix list."""
    for rule in rules:
        if rule.get("IpProtocol") not in ("tcp", "-1", "6"):
            continue
        if rule.get("IpProtocol") == "tcp" and not rule.get("FromPort", 0) <= HTTPS <= rule.get("ToPort", 65535):
            continue
        if group and any(pair.get("GroupId") == group for pair in rule.get("UserIdGroupPairs", [])):
            return True
        if prefix_list and rule.get("PrefixListIds"):
            return True
        if address and any(ipaddress.ip_address(address) in ipaddress.ip_network(r["CidrIp"]) for r in rule.get("IpRanges", [])):
            return True
    return False


class Reachability:
    """Which services a caller in given subnets, with given security groups, can reach."""

    def __init__(self, region: str) -> None:
        self.ec2 = clients.client("ec2", region)

    def services(self, subnet_ids: list[str], group_ids: list[str]) -> set[str]:
        subnets = self.ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        vpcs = {s["VpcId"] for s in subnets}
        groups = self.ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"] if group_ids else []
        tables = {a["RouteTableId"] for t in self.ec2.describe_route_tables()["RouteTables"] for a in t.get("Associations", [])
                  if a.get("SubnetId") in subnet_ids}
        reachable: set[str] = set()
        for endpoint in self.ec2.describe_vpc_endpoints()["VpcEndpoints"]:
            if endpoint["VpcId"] not in vpcs:
                continue
            service = endpoint["ServiceName"].split(".", 3)[-1]
            if endpoint["VpcEndpointType"] == "Gateway":
                if tables & set(endpoint.get("RouteTableIds", [])) and any(
                        _admits(g["IpPermissionsEgress"], address="52.216.0.1", prefix_list=True) for g in groups):
                    reachable.add(service)
                continue
            if not endpoint.get("PrivateDnsEnabled"):
                continue  # the SDK's default hostname would not resolve to the endpoint
            endpoint_groups = self.ec2.describe_security_groups(
                GroupIds=[g["GroupId"] for g in endpoint.get("Groups", [])])["SecurityGroups"] if endpoint.get("Groups") else []
            cidr = self.ec2.describe_vpcs(VpcIds=[endpoint["VpcId"]])["Vpcs"][0]["CidrBlock"]
            inside = str(next(ipaddress.ip_network(cidr).hosts()))
            for caller in groups:
                out = _admits(caller["IpPermissionsEgress"], group=None, address=inside) or any(
                    _admits(caller["IpPermissionsEgress"], group=g["GroupId"]) for g in endpoint_groups)
                into = any(_admits(g["IpPermissions"], group=caller["GroupId"]) for g in endpoint_groups)
                if out and into:
                    reachable.add(service)
        return reachable

    def job_problems(self, vpc_config: dict[str, Any]) -> list[str]:
        """Why Bedrock could not run a job with this vpcConfig (none: it can)."""
        subnet_ids, group_ids = list(vpc_config.get("subnetIds", [])), list(vpc_config.get("securityGroupIds", []))
        try:
            subnets = self.ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
            groups = self.ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
        except Exception as exc:  # noqa: BLE001 - an unknown id
            return [f"vpcConfig names a subnet or security group that does not exist ({exc})"]
        if len({s["VpcId"] for s in subnets} | {g["VpcId"] for g in groups}) != 1:
            return ["vpcConfig's subnets and security groups are not all in one VPC"]
        if "s3" not in self.services(subnet_ids, group_ids):
            return ["the job's network interfaces cannot reach S3: the VPC has no S3 endpoint on the subnets' route "
                    "tables that the job's security groups let HTTPS through to"]
        return []


def unreachable(name: str, reachable: set[str], operation: str) -> ConnectTimeoutError:
    """`name`: the service's endpoint prefix (botocore's), which is also its endpoint's service name."""
    return ConnectTimeoutError(endpoint_url=(
        f"https://{name}.amazonaws.com ({operation}: the function runs in private subnets with no VPC endpoint "
        f"for {name}; reachable: {', '.join(sorted(reachable)) or 'nothing'}; offline network check)"))
