"""The janitor on a mix of deployments, and create steps that run twice."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bedrock_customize.offline import engine as offline
from customization.vocabulary import TAG_EXECUTION, TAG_EXPIRES, TAG_STACK
from infra import constants as c
from tests.datasets import provisioned_unless_chosen, write_dataset

STACK = "BedrockCustomization-local"
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def stamp(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def session(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-east-1") as session:
        yield session


def upload(session, tmp_path, count=20) -> dict[str, str]:
    path = write_dataset(tmp_path / "train.jsonl", "conversation", count)
    boto3.client("s3", region_name=session.region).upload_file(str(path), session.bucket, "datasets/train.jsonl")
    return provisioned_unless_chosen({"base_model": "nova-lite", "training_data": f"s3://{session.bucket}/datasets/train.jsonl",
                                      "wait_seconds": {"job": 60, "deployment": 0}})


def test_the_janitor_deletes_only_this_stacks_deployments_of_finished_or_expired_runs(session, tmp_path):
    sfn = boto3.client("stepfunctions", region_name=session.region)
    # A run that is still going (waiting 60 s for its job) and one that has ended.
    arn = sfn.start_execution(stateMachineArn=session.machine_arn, name="still-running", input=json.dumps(upload(session, tmp_path)))["executionArn"]
    # Past its pre-flight (whose quota check would count the throughputs added below), waiting for its job.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
        e.get("stateEnteredEventDetails", {}).get("name") == c.WAIT_FOR_JOB for e in sfn.get_execution_history(executionArn=arn)["events"]
    ):
        time.sleep(0.05)
    add = session.simulator.add_untracked
    ours = {TAG_STACK: STACK}
    running = add("provisioned_throughput", "pt-running", {**ours, TAG_EXECUTION: "still-running", TAG_EXPIRES: stamp(timedelta(hours=2))})
    expired = add("custom_model_deployment", "deploy-expired", {**ours, TAG_EXECUTION: "still-running", TAG_EXPIRES: stamp(-timedelta(minutes=1))})
    finished = add("provisioned_throughput", "pt-finished", {**ours, TAG_EXECUTION: "long-gone-run"})
    untagged = add("provisioned_throughput", "pt-someone-elses", {})
    foreign = add("provisioned_throughput", "pt-other-stack", {TAG_STACK: "AnotherStack", TAG_EXECUTION: "long-gone-run"})

    report = session.invoke(c.JANITOR, SCHEDULED)

    deleted = {item["id"]: item["reason"] for item in report["deleted"]}
    assert deleted == {"deploy-expired": "its time limit passed", "pt-finished": "its run is unknown"}
    assert [item["id"] for item in report["kept"]] == ["pt-running"]
    assert report["untouched_foreign"] == 2
    remaining = set(session.simulator.resources)
    assert {running, untagged, foreign} <= remaining and not {expired, finished} & remaining
    (notice,) = session.notifications()
    assert notice["subject"] == "Janitor deleted 2 deployment(s)" and "its time limit passed" in notice["message"]
    sfn.stop_execution(executionArn=session.machine_arn.replace(":stateMachine:", ":execution:") + ":still-running")


def test_the_janitor_deletes_a_deployment_whose_run_has_ended(session, tmp_path):
    sfn = boto3.client("stepfunctions", region_name=session.region)
    arn = sfn.start_execution(stateMachineArn=session.machine_arn, name="ended", input=json.dumps(upload(session, tmp_path)))["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.get_execution_history(executionArn=arn)["events"][1:] and time.monotonic() < deadline:
        time.sleep(0.05)  # the interpreter must have started before it can be stopped
    sfn.stop_execution(executionArn=arn)
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    session.simulator.add_untracked("provisioned_throughput", "pt-ended", {TAG_STACK: STACK, TAG_EXECUTION: "ended"})
    report = session.invoke(c.JANITOR, SCHEDULED)
    assert report["deleted"] == [{"type": "provisioned_throughput", "id": "pt-ended", "execution": "ended", "reason": "its run is ABORTED"}]


def test_each_create_step_run_twice_makes_one_resource_and_tear_down_twice_is_safe(session, tmp_path):
    name = "twice"
    validated = session.invoke(c.VALIDATE_REQUEST, {
        "request": upload(session, tmp_path), "execution_name": name,
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:machine:{name}",
    })
    state = {"run": validated["run"]}

    first, second = (session.invoke(c.SUBMIT_JOB, state) for _ in range(2))
    assert first == second and len(session.simulator.existing("customization_job")) == 1
    state["job"] = first
    while state["job"]["status"] != "Completed":
        state["job"] = session.invoke(c.CHECK_JOB, state)

    first, second = (session.invoke(c.DEPLOY_MODEL, state) for _ in range(2))
    assert first["arn"] == second["arn"] and len(session.simulator.existing("provisioned_throughput")) == 1

    # Tear Down reads the ledger, not the payload: a payload without the deployment still deletes it.
    outcome = session.invoke(c.TEAR_DOWN, {"run": state["run"]})
    assert outcome["deleted"] == [{"type": "provisioned_throughput", "id": f"pt-{name}"}]
    again = session.invoke(c.TEAR_DOWN, {"run": state["run"]})
    assert again["deleted"] == [] and again["already_gone"] == []
    assert session.simulator.existing("provisioned_throughput") == []

    ledger = boto3.resource("dynamodb", region_name=session.region).Table(session.template.refs[
        next(iter(session.template.resources("AWS::DynamoDB::Table")))
    ])
    statuses = {item["resource"]: item["status"] for item in ledger.scan()["Items"] if item["resource"] != "run"}
    assert statuses == {
        f"customization_job#job-{name}": "finished",
        f"custom_model#model-{name}": "created",
        f"provisioned_throughput#pt-{name}": "deleted",
    }
