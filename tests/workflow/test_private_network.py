"""A stage with a `vpc`, offline: the functions run in isolated subnets and reach AWS only
through the endpoints the template declares; each customization job gets the same subnets. The
engine creates the networking in moto's EC2 and judges reachability and Lambda's and Bedrock's
network checks from it, so a missing endpoint, rule or permission fails the run as in AWS."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.workflow.conftest import Runner

Resources = dict[str, dict[str, Any]]


def edited(template: Path, tmp_path: Path, edit: Callable[[Resources], None]) -> Path:
    document = json.loads(template.read_text())
    edit(document["Resources"])
    copy = tmp_path / template.name  # the stack's name comes from the file's
    copy.write_text(json.dumps(document))
    return copy


def of_type(resources: Resources, kind: str) -> Resources:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def endpoint_service(resource: dict[str, Any]) -> str:
    return resource["Properties"]["ServiceName"]["Fn::Join"][1][-1].lstrip(".")


def test_a_run_in_private_subnets_succeeds_with_its_job_placed_in_them(private_template, tmp_path):
    result = Runner(private_template, tmp_path).run("nova-micro", request={"deployment": {"mode": "on_demand"}})
    assert result.status == "SUCCEEDED", result.error
    (job,) = [r for r in result.simulator.resources.values() if r.kind == "customization_job"]
    network = job.attributes["request"]["vpcConfig"]
    assert len(network["subnetIds"]) == 2 and len(network["securityGroupIds"]) == 1
    checked = json.loads(result.objects["validation-report.json"])["preflight"]
    assert any("IAM is not reachable from the stage's private subnets" in line for line in checked)
    assert result.resources["leaked"] == []


@pytest.mark.parametrize("service", ["servicequotas", "bedrock-runtime"])  # pre-flight's quota check; the evaluation
def test_a_missing_endpoint_times_out_the_call_that_needs_it_and_nothing_is_left_running(private_template, tmp_path, service):
    def drop(resources: Resources) -> None:
        (name,) = [k for k, v in of_type(resources, "AWS::EC2::VPCEndpoint").items() if endpoint_service(v) == service]
        del resources[name]

    result = Runner(edited(private_template, tmp_path, drop), tmp_path).run(
        "nova-micro", request={"deployment": {"mode": "on_demand"}})
    assert result.status == "FAILED"
    assert f"no VPC endpoint for {service}" in json.dumps(result.error)
    assert result.resources["leaked"] == []


def test_a_job_whose_security_group_lets_nothing_out_is_refused_before_it_starts(private_template, tmp_path):
    def close(resources: Resources) -> None:
        (jobs,) = [v for k, v in of_type(resources, "AWS::EC2::SecurityGroup").items() if k.startswith("NetworkJobs")]
        jobs["Properties"]["SecurityGroupEgress"] = []

    result = Runner(edited(private_template, tmp_path, close), tmp_path).run("nova-micro")
    assert result.status == "FAILED"
    assert "cannot reach S3" in json.dumps(result.error)
    assert not [r for r in result.simulator.resources.values() if r.kind == "customization_job"]


def test_lambda_refuses_a_function_whose_role_may_not_manage_network_interfaces(private_template, tmp_path):
    def strip(resources: Resources) -> None:
        for policy in of_type(resources, "AWS::IAM::Policy").values():
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            policy["Properties"]["PolicyDocument"]["Statement"] = [
                s for s in statements if "ec2:CreateNetworkInterface" not in json.dumps(s["Action"])]

    with pytest.raises(RuntimeError, match="does not have permissions to call CreateNetworkInterface"):
        Runner(edited(private_template, tmp_path, strip), tmp_path).run("nova-micro")
