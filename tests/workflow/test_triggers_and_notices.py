"""Runs that start themselves from request files, and the notices when runs end."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from bedrock_customize.offline import engine as offline
from bedrock_customize.offline.simulator import Faults
from infra import constants as c
from tests.datasets import write_dataset


@pytest.fixture
def session(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-east-1") as session:
        yield session


def wait_until_done(session, timeout: float = 60) -> list[dict]:
    sfn = boto3.client("stepfunctions", region_name=session.region)
    deadline = time.monotonic() + timeout
    while True:
        executions = sfn.list_executions(stateMachineArn=session.machine_arn)["executions"]
        if all(e["status"] != "RUNNING" for e in executions) or time.monotonic() > deadline:
            return executions
        time.sleep(0.1)


def test_a_request_file_starts_exactly_one_run_even_when_its_event_comes_twice(session, tmp_path):
    data = write_dataset(tmp_path / "train.jsonl", "conversation", 20)
    boto3.client("s3", region_name=session.region).upload_file(str(data), session.bucket, "datasets/train.jsonl")
    request = {"base_model": "nova-lite", "training_data": f"s3://{session.bucket}/datasets/train.jsonl",
               "deployment": {"mode": "none"}}
    event = session.put_request_file("requests/weekly-refresh.json", json.dumps(request).encode())

    first = session.invoke(c.START_FROM_REQUEST, event)
    second = session.invoke(c.START_FROM_REQUEST, event)

    assert first["started"] is True and second["started"] is False and second["duplicate"] is True
    assert first["execution_name"] == second["execution_name"]
    assert first["execution_name"].startswith("weekly-refresh-")
    executions = wait_until_done(session)
    assert [e["name"] for e in executions] == [first["execution_name"]]
    assert executions[0]["status"] == "SUCCEEDED"


def test_a_new_version_of_the_same_file_is_a_new_run(session):
    request = {"base_model": "nova-lite", "training_data": f"s3://{session.bucket}/missing.jsonl"}
    first = session.invoke(c.START_FROM_REQUEST, session.put_request_file("requests/r.json", json.dumps(request).encode()))
    second = session.invoke(c.START_FROM_REQUEST, session.put_request_file("requests/r.json", json.dumps(request).encode()))
    assert first["execution_name"] != second["execution_name"] and first["started"] and second["started"]
    wait_until_done(session)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"base_model": "gpt-4", "training_data": "s3://x/y"}).encode(), "unknown base model 'gpt-4'"),
        (json.dumps({"base_model": "nova-lite", "training_data": "s3://elsewhere/t.jsonl"}).encode(), "outside the pipeline bucket"),
    ],
)
def test_an_invalid_request_file_starts_nothing_and_leaves_a_rejection(session, body, reason):
    outcome = session.invoke(c.START_FROM_REQUEST, session.put_request_file("requests/bad.json", body))
    assert outcome["started"] is False and reason in outcome["rejected"]
    sfn = boto3.client("stepfunctions", region_name=session.region)
    assert sfn.list_executions(stateMachineArn=session.machine_arn)["executions"] == []
    rejection = boto3.client("s3", region_name=session.region).get_object(Bucket=session.bucket, Key="requests/bad.rejected.txt")
    assert reason in rejection["Body"].read().decode()
    (notice,) = session.notifications()
    assert notice["subject"] == "Rejected request requests/bad.json" and reason in notice["message"]


def test_a_successful_run_is_announced_with_the_gate_and_the_report(runner):
    result = runner.run("nova-lite")
    (notice,) = result.notifications
    assert notice["subject"] == f"Run {result.execution_name} succeeded: PROMOTED"
    assert "report.html" in notice["message"] and "improved by" in notice["message"]
    total = result.output["run"]["cost_estimate"]["total_usd"]
    assert f"Estimated cost before the run: ${total:,.2f}" in notice["message"]


def test_a_failed_run_is_announced_with_the_failed_state_and_the_cause(runner):
    result = runner.run("nova-lite", faults=Faults(job_failure_message="the data could not be read"))
    (notice,) = result.notifications
    assert notice["subject"] == f"Run {result.execution_name} FAILED"
    assert f"ended FAILED in {c.CHECK_JOB}" in notice["message"] and "the data could not be read" in notice["message"]


def job_event(name: str, arn: str, status: str, failure: str | None = None) -> dict:
    detail = {"jobName": name, "jobArn": arn, "jobStatus": status, **({"failureMessage": failure} if failure else {})}
    return {"source": "aws.bedrock", "detail-type": "Model Customization Job State Change", "detail": detail}


def test_job_state_changes_of_this_stacks_jobs_become_notices(session, tmp_path):
    ours = session.simulator.add_untracked("customization_job", "x", {})
    session.simulator.resources[ours].attributes["tags"] = {"bedrock-customize:stack": "BedrockCustomization-local",
                                                            "bedrock-customize:execution": "run-7"}
    other = session.simulator.add_untracked("customization_job", "y", {"bedrock-customize:stack": "Another"})

    assert session.invoke(c.NOTIFY_JOB_PROGRESS, job_event("job-run-7", ours, "Failed", "bad data"))["notified"] is True
    assert session.invoke(c.NOTIFY_JOB_PROGRESS, job_event("job-other", other, "Completed"))["notified"] is False
    (notice,) = session.notifications()
    assert notice["subject"] == "Job job-run-7 is Failed" and "of run run-7 is Failed: bad data" in notice["message"]


EVENTS = Path(__file__).resolve().parents[1] / "events"


def sample(name: str, **detail: object) -> dict:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    return {**event, "detail": {**event["detail"], **detail}}


def test_the_documented_sample_events_reach_exactly_the_functions_their_rules_name(session):
    # S3 Object Created, through EventBridge: a request file in the bucket starts a run.
    created = sample("s3-object-created", bucket={"name": session.bucket})
    created["detail"]["object"] = {**created["detail"]["object"], "key": "requests/weekly.json"}
    assert session.targets_of(created) == [c.START_FROM_REQUEST]
    elsewhere = {**created, "detail": {**created["detail"], "object": {"key": "datasets/weekly.json"}}}
    other_bucket = {**created, "detail": {**created["detail"], "bucket": {"name": "someone-elses-bucket"}}}
    assert session.targets_of(elsewhere) == [] and session.targets_of(other_bucket) == []
    # Step Functions Execution Status Change: every end is announced; the ones that may skip Tear Down are cleaned up.
    for status in ("FAILED", "ABORTED", "TIMED_OUT"):
        ended = sample("states-execution-status-change", stateMachineArn=session.machine_arn, status=status)
        assert sorted(session.targets_of(ended)) == sorted([c.CLEAN_UP_RUN, c.NOTIFY_RUN]), status
    assert session.targets_of(sample("states-execution-status-change", stateMachineArn=session.machine_arn,
                                     status="SUCCEEDED")) == [c.NOTIFY_RUN]
    assert session.targets_of(sample("states-execution-status-change", stateMachineArn=session.machine_arn,
                                     status="RUNNING")) == []
    assert session.targets_of(sample("states-execution-status-change")) == []  # another state machine
    # Bedrock's Model Customization Job State Change: the job's progress is announced.
    assert session.targets_of(sample("bedrock-model-customization-job-state-change")) == [c.NOTIFY_JOB_PROGRESS]
    renamed = sample("bedrock-model-customization-job-state-change")
    renamed["detail"] = {("status" if k == "jobStatus" else k): v for k, v in renamed["detail"].items()}
    assert session.targets_of(renamed) == []  # the pattern filters on jobStatus, the field Bedrock sends
