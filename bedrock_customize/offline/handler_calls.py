"""Every AWS call a handler makes, offline, is authorized against that function's synthesized
role as IAM would: the call's action and resource (table below), judged by the role's
statements (`authorization.RolePolicies`). A call the role does not allow fails with
AccessDeniedException naming the action and resource, as in AWS; from private subnets, a
call to a service the VPC has no endpoint for times out (`networking`). The engine says which role
is calling (the function being invoked, carried into the threads it starts); the simulated
Bedrock's own calls on the service role's behalf are checked there, not here."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import botocore.handlers
from botocore.exceptions import ClientError
from botocore.model import OperationModel

from bedrock_customize.offline import networking
from bedrock_customize.offline.authorization import RolePolicies

# The role of the function whose handler is running (None: the engine or a service).
calling_role: contextvars.ContextVar[str | None] = contextvars.ContextVar("calling_role", default=None)
_active: dict[str, Any] = {}

PREFIX = {"bedrock-runtime": "bedrock", "stepfunctions": "states", "service-quotas": "servicequotas"}
ACTION = {
    ("bedrock-runtime", "Converse"): "bedrock:InvokeModel",
    ("bedrock-runtime", "ConverseStream"): "bedrock:InvokeModelWithResponseStream",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}
S3_BUCKET_OPERATIONS = {"ListObjectsV2", "ListObjectVersions", "GetBucketLocation"}


class _Arns:
    def __init__(self, region: str, account: str, profile_prefixes: tuple[str, ...]) -> None:
        self.region, self.account, self.profile_prefixes = region, account, profile_prefixes

    def bedrock(self, resource: str, identifier: str | None) -> str:
        if identifier and identifier.startswith("arn:"):
            return identifier
        return f"arn:aws:bedrock:{self.region}:{self.account}:{resource}/{identifier or '*'}"

    def model(self, identifier: str) -> str:
        if identifier.startswith("arn:"):
            return identifier
        if identifier.split(".", 1)[0] in self.profile_prefixes:
            return self.bedrock("inference-profile", identifier)
        return f"arn:aws:bedrock:{self.region}::foundation-model/{identifier}"


def resources(service: str, operation: str, p: dict[str, Any], arns: _Arns) -> list[str]:
    """The resources IAM evaluates the call against ("*" where the action takes none)."""
    region, account = arns.region, arns.account
    if service == "s3":
        if operation in S3_BUCKET_OPERATIONS:
            return [f"arn:aws:s3:::{p['Bucket']}"]
        return [f"arn:aws:s3:::{p['Bucket']}/{p.get('Key', '')}"]
    if service == "dynamodb":
        return [f"arn:aws:dynamodb:{region}:{account}:table/{p['TableName']}"]
    if service == "lambda":
        name = p["FunctionName"]
        return [name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"]
    if service == "sns":
        return [p["TopicArn"]]
    if service == "stepfunctions":
        return [p.get("executionArn") or p.get("stateMachineArn") or "*"]
    if service == "ssm" and "Name" in p:
        return [f"arn:aws:ssm:{region}:{account}:parameter/{p['Name'].lstrip('/')}"]
    if service == "iam" and "RoleName" in p:
        return [f"arn:aws:iam::{account}:role/{p['RoleName']}"]
    if service == "bedrock-runtime":
        return [arns.model(p["modelId"])]
    if service == "bedrock":
        return _bedrock(operation, p, arns)
    return ["*"]


def _bedrock(operation: str, p: dict[str, Any], arns: _Arns) -> list[str]:
    named: dict[str, Callable[[], list[str]]] = {
        "CreateModelCustomizationJob": lambda: [
            arns.model(p["baseModelIdentifier"]), arns.bedrock("model-customization-job", p["jobName"]),
            arns.bedrock("custom-model", p["customModelName"])],
        "GetModelCustomizationJob": lambda: [arns.bedrock("model-customization-job", p["jobIdentifier"])],
        "StopModelCustomizationJob": lambda: [arns.bedrock("model-customization-job", p["jobIdentifier"])],
        "GetFoundationModel": lambda: [arns.model(p["modelIdentifier"])],
        "DeleteCustomModel": lambda: [arns.bedrock("custom-model", p["modelIdentifier"])],
        "CreateProvisionedModelThroughput": lambda: [
            arns.bedrock("custom-model", p["modelId"]), arns.bedrock("provisioned-model", p["provisionedModelName"])],
        "GetProvisionedModelThroughput": lambda: [arns.bedrock("provisioned-model", p["provisionedModelId"])],
        "DeleteProvisionedModelThroughput": lambda: [arns.bedrock("provisioned-model", p["provisionedModelId"])],
        "CreateCustomModelDeployment": lambda: [
            arns.bedrock("custom-model", p["modelArn"]), arns.bedrock("custom-model-deployment", p["modelDeploymentName"])],
        "GetCustomModelDeployment": lambda: [arns.bedrock("custom-model-deployment", p["customModelDeploymentIdentifier"])],
        "DeleteCustomModelDeployment": lambda: [arns.bedrock("custom-model-deployment", p["customModelDeploymentIdentifier"])],
        "CreateEvaluationJob": lambda: [arns.bedrock("evaluation-job", p["jobName"])],
        "GetEvaluationJob": lambda: [arns.bedrock("evaluation-job", p["jobIdentifier"])],
        "StopEvaluationJob": lambda: [arns.bedrock("evaluation-job", p["jobIdentifier"])],
        "ListTagsForResource": lambda: [p["resourceARN"]],
        "TagResource": lambda: [p["resourceARN"]],
    }
    return named[operation]() if operation in named else ["*"]


def action(service: str, operation: str, p: dict[str, Any]) -> str:
    if service == "s3" and operation == "GetObject" and p.get("VersionId"):
        return "s3:GetObjectVersion"
    return ACTION.get((service, operation), f"{PREFIX.get(service, service)}:{operation}")


def _check(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
    role = calling_role.get()
    policies: RolePolicies | None = _active.get("policies")
    if role is None or policies is None:
        return
    reachable = _active["networks"].get(role)
    if reachable is not None and model.service_model.endpoint_prefix not in reachable:
        raise networking.unreachable(model.service_model.endpoint_prefix, reachable, model.name)
    service = model.service_model.service_name
    wanted = action(service, model.name, params)
    for resource in resources(service, model.name, params, _active["arns"]):
        if not policies.allows(role, wanted, resource):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": (
                f"User: {role} is not authorized to perform: {wanted} on resource: {resource} "
                "because no identity-based policy allows the action (offline IAM check)")}}, model.name)


class enforce:  # noqa: N801 - used as a context manager
    """While active, the calls made under `calling_role` are checked against `policies`, and,
    for a function in private subnets (`networks`: its role -> the services it can reach),
    against its network."""

    def __init__(
        self, policies: RolePolicies, *, region: str, account: str, profile_prefixes: tuple[str, ...],
        networks: dict[str, set[str]] | None = None,
    ) -> None:
        self.state = {"policies": policies, "arns": _Arns(region, account, profile_prefixes), "networks": networks or {}}

    def __enter__(self) -> None:
        _active.update(self.state)

    def __exit__(self, *_: object) -> None:
        _active.clear()


botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _check))
