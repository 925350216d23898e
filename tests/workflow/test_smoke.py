"""The acceptance run (`make smoke-aws`) offline, against the stack in the emulator: it refuses
before deploying without credentials or over budget, runs and checks the real lifecycle, and
destroys the stack on every exit."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import NoCredentialsError

from bedrock_customize import smoke
from bedrock_customize.cli import estimate_document
from bedrock_customize.offline import engine as offline

STACK = "Smoke"


class EmulatedStack:
    """Deploys by naming the emulated stack's outputs in CloudFormation, as `cdk deploy` would."""

    def __init__(self, session, *, fail_after_deploy: Exception | None = None) -> None:
        self.session, self.fail_after_deploy = session, fail_after_deploy
        self.calls: list[str] = []

    def deploy(self) -> None:
        self.calls.append("deploy")
        if self.session is None:  # a deployment that fails before the stack exists
            raise self.fail_after_deploy or RuntimeError("no emulated stack")
        outputs = {"StateMachineArn": self.session.machine_arn, "BucketName": self.session.bucket,
                   "LedgerTableName": self.session.template.output("LedgerTableName")}
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName=STACK, TemplateBody=json.dumps({
            "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()}}))
        if self.fail_after_deploy:
            raise self.fail_after_deploy

    def destroy(self) -> None:
        self.calls.append("destroy")


@pytest.fixture
def session(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-east-1") as session:
        yield session


def test_the_acceptance_run_deploys_runs_checks_and_destroys(session):
    lines: list[str] = []
    stack = EmulatedStack(session)
    assert smoke.smoke(budget=10, stack=STACK, deployer=stack, estimator=estimate_document, interval=0.2, log=lines.append) == 0
    assert stack.calls == ["deploy", "destroy"]
    assert lines[0].startswith("account 123456789012: the acceptance run is estimated at $0.0")
    (result,) = [line for line in lines if line.startswith("estimate $")]
    assert "for the evaluation and the deployment" in result and result.endswith("run SUCCEEDED")
    assert not [line for line in lines if line.startswith("LEFT RUNNING")]
    assert session.simulator.existing("custom_model") == []  # teardown.delete_custom_model


@pytest.fixture
def emulated_account():
    from moto import mock_aws

    with mock_aws():  # credentials and an account, no stack
        yield


def test_it_refuses_over_budget_or_without_credentials_and_deploys_nothing(emulated_account):
    stack = EmulatedStack(None)
    with pytest.raises(smoke.SmokeRefused, match=r"the estimate \$0\.0\d is above the budget \$0\.00; nothing was deployed"):
        smoke.smoke(budget=0.001, stack=STACK, deployer=stack, estimator=estimate_document, log=lambda _: None)

    class NoCredentials:
        def get_caller_identity(self):
            raise NoCredentialsError()

    with pytest.raises(smoke.SmokeRefused, match="no usable AWS credentials"):
        smoke.smoke(budget=10, stack=STACK, deployer=stack, estimator=estimate_document, clients=lambda _: NoCredentials(),
                    log=lambda _: None)
    assert stack.calls == []


@pytest.mark.parametrize("failure", [RuntimeError("the deployment failed halfway"), KeyboardInterrupt()])
def test_the_stack_is_destroyed_on_every_exit(emulated_account, failure):
    stack = EmulatedStack(None, fail_after_deploy=failure)
    with pytest.raises(type(failure)):
        smoke.smoke(budget=10, stack=STACK, deployer=stack, estimator=estimate_document, interval=0.2, log=lambda _: None)
    assert stack.calls == ["deploy", "destroy"]
