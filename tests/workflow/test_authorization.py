"""Every call proven allowed, offline: the handlers' calls are checked against their own
synthesized roles, and a permission taken out of the template fails the run as AWS would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_customize.offline import engine as offline
from bedrock_customize.offline.handler_calls import _Arns, action, resources
from infra import constants as c
from infra.steps import ALL_FUNCTIONS
from tests.datasets import provisioned_unless_chosen, write_dataset


def without_permission(template: Path, tmp_path: Path, state: str, denied: str) -> Path:
    """A copy of the synthesized template whose `state` function's role lacks `denied`."""
    document = json.loads(template.read_text())
    (step,) = [s for s in ALL_FUNCTIONS if s.state == state]
    (role,) = [r["Properties"]["Role"]["Fn::GetAtt"][0] for r in document["Resources"].values()
               if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == step.handler]
    removed = 0
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            kept = [s for s in statements if denied not in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
            removed += len(statements) - len(kept)
            resource["Properties"]["PolicyDocument"]["Statement"] = kept
    assert removed == 1, f"{state}'s role has {removed} statements with {denied}"
    copy = tmp_path / template.name  # the stack's name comes from the file's
    copy.write_text(json.dumps(document))
    return copy


@pytest.mark.parametrize(("state", "denied"), [
    (c.SUBMIT_JOB, "bedrock:CreateModelCustomizationJob"),
    (c.VALIDATE_REQUEST, "s3:PutObject"),  # its validation report, under runs/
])
def test_a_permission_taken_out_of_the_template_fails_the_run_as_aws_would(local_template, tmp_path, state, denied):
    template = without_permission(local_template, tmp_path, state, denied)
    datasets = {"training_data": write_dataset(tmp_path / "train.jsonl", "conversation", 20),
                "test_data": write_dataset(tmp_path / "test.jsonl", "conversation", 5, start=20)}
    request = provisioned_unless_chosen({"base_model": "nova-lite", "training_data": "train.jsonl", "test_data": "test.jsonl"})
    result = offline.OfflineEngine(template, log=lambda _: None).run(request, execution_name=f"denied-{state[:6].lower()}",
                                                                    datasets=datasets)
    assert result.status == "FAILED" and result.error["error"] == "AwsAccessDeniedError", result.error
    assert f"is not authorized to perform: {denied}" in result.error["cause"]
    assert result.resources["leaked"] == [] and result.resources["created"] == []


ARNS = _Arns("us-east-1", "123456789012", ("us", "eu", "apac", "global"))


@pytest.mark.parametrize(("service", "operation", "params", "wanted", "resource"), [
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, "s3:GetObject", "arn:aws:s3:::b/k"),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "1"}, "s3:GetObjectVersion", "arn:aws:s3:::b/k"),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "p/"}, "s3:ListBucket", "arn:aws:s3:::b"),
    ("bedrock-runtime", "Converse", {"modelId": "us.meta.llama3-2-3b-instruct-v1:0"}, "bedrock:InvokeModel",
     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-3b-instruct-v1:0"),
    ("bedrock-runtime", "Converse", {"modelId": "amazon.nova-lite-v1:0"}, "bedrock:InvokeModel",
     "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"),
    ("lambda", "Invoke", {"FunctionName": "grader"}, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:grader"),
    ("dynamodb", "PutItem", {"TableName": "ledger"}, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/ledger"),
    ("stepfunctions", "DescribeExecution", {"executionArn": "arn:x"}, "states:DescribeExecution", "arn:x"),
    ("service-quotas", "ListServiceQuotas", {"ServiceCode": "bedrock"}, "servicequotas:ListServiceQuotas", "*"),
])
def test_each_call_is_judged_as_its_iam_action_on_its_resource(service, operation, params, wanted, resource):
    assert action(service, operation, params) == wanted
    assert resources(service, operation, params, ARNS)[0] == resource


def test_a_customization_job_is_judged_on_the_model_the_job_and_the_custom_model():
    named = resources("bedrock", "CreateModelCustomizationJob",
                      {"baseModelIdentifier": "amazon.nova-lite-v1:0:300k", "jobName": "job-1", "customModelName": "m-1"}, ARNS)
    assert named == ["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k",
                     "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/job-1",
                     "arn:aws:bedrock:us-east-1:123456789012:custom-model/m-1"]


def test_eventbridge_delivers_only_where_the_functions_resource_policy_admits_its_rule(local_template, tmp_path):
    document = json.loads(local_template.read_text())
    (step,) = [s for s in ALL_FUNCTIONS if s.state == c.NOTIFY_RUN]
    (function,) = [i for i, r in document["Resources"].items()
                   if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == step.handler]
    permissions = [i for i, r in document["Resources"].items() if r["Type"] == "AWS::Lambda::Permission"
                   and r["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
                   and r["Properties"]["Principal"] == "events.amazonaws.com"]
    assert permissions
    for logical_id in permissions:
        del document["Resources"][logical_id]
    template = tmp_path / local_template.name
    template.write_text(json.dumps(document))
    lines: list[str] = []
    datasets = {"training_data": write_dataset(tmp_path / "train.jsonl", "conversation", 20),
                "test_data": write_dataset(tmp_path / "test.jsonl", "conversation", 5, start=20)}
    request = provisioned_unless_chosen({"base_model": "nova-lite", "training_data": "train.jsonl", "test_data": "test.jsonl"})
    result = offline.OfflineEngine(template, log=lines.append).run(request, execution_name="no-notice", datasets=datasets)
    assert result.status == "SUCCEEDED" and result.notifications == []  # the run's own notice could not be delivered
    assert any(line.startswith("EventBridge: Notify Run failed") and "dead-letter queue" in line for line in lines)
