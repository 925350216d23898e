"""The CLI for a deployed stack, against the stack's resources in moto: it finds the
stack's outputs through CloudFormation, as it would in AWS."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from bedrock_customize.cli import main
from bedrock_customize.offline import engine as offline
from tests.datasets import write_dataset

STACK = "Deployed"


@pytest.fixture
def session(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-east-1") as session:
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName=STACK, TemplateBody=json.dumps({
            "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {"StateMachineArn": {"Value": session.machine_arn}, "BucketName": {"Value": session.bucket}},
        }))
        yield session


def request_file(tmp_path, **extra):
    write_dataset(tmp_path / "train.jsonl", "conversation", 20)
    path = tmp_path / "weekly.json"
    path.write_text(json.dumps({"base_model": "nova-lite", "training_data": "train.jsonl", **extra}))
    return path


def test_start_uploads_local_data_and_watch_follows_the_run_to_its_end(session, tmp_path, capsys):
    # Polls a second apart, so that watch sees the waits.
    path = request_file(tmp_path, wait_seconds={"job": 1, "deployment": 1})
    assert main(["start", "--stack", STACK, "--request", str(path), "--name", "weekly-1"]) == 0
    out = capsys.readouterr().out
    assert f"s3://{session.bucket}/datasets/weekly-1/training_data/train.jsonl" in out
    assert "started arn:aws:states:us-east-1:123456789012:execution:" in out and "console.aws.amazon.com" in out

    assert main(["watch", "--stack", STACK, "--interval", "0.2", "weekly-1"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("weekly-1 ended SUCCEEDED")
    # One line per change, each with the phase bar, the state, the statuses seen and the time.
    shown = [line for line in out.splitlines() if line.startswith("[")]
    assert shown[0].startswith("[##----------] validate  | "), shown  # "starting" or Validate Request: a race
    assert any("| Wait For Job | job InProgress |" in line for line in shown), shown
    assert any("| Wait For Deployment | job Completed | deployment Creating |" in line for line in shown), shown
    final = shown[-1]
    assert final.startswith("[############] done") and "| Run Succeeded | job Completed | deployment InService |" in final

    assert main(["status", "--stack", STACK, "weekly-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("weekly-1: SUCCEEDED") and "PROMOTED" in out

    assert main(["list", "--stack", STACK]) == 0
    assert "SUCCEEDED  weekly-1" in capsys.readouterr().out

    assert main(["report", "--stack", STACK, "--out", str(tmp_path / "r"), "weekly-1"]) == 0
    assert json.loads((tmp_path / "r" / "report.json").read_text())["promoted"] is True


def test_stop_aborts_a_run_and_its_cleanup_follows(session, tmp_path, capsys):
    path = request_file(tmp_path, wait_seconds={"job": 30})
    assert main(["start", "--stack", STACK, "--request", str(path), "--name", "to-stop"]) == 0
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = session.machine_arn.replace(":stateMachine:", ":execution:") + ":to-stop"
    deadline = time.monotonic() + 20
    while "Wait For Job" not in json.dumps(sfn.get_execution_history(executionArn=arn)["events"], default=str):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert main(["stop", "--stack", STACK, "to-stop"]) == 0
    assert "the cleanup deletes what the run created" in capsys.readouterr().out
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        time.sleep(0.05)
    assert main(["watch", "--stack", STACK, "to-stop"]) == 1


def test_aws_errors_are_one_readable_line(session, capsys):
    assert main(["status", "--stack", "NoSuchStack", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bedrock-customize: find stack NoSuchStack: ValidationError:") and "Traceback" not in err
    assert main(["status", "--stack", STACK, "never-ran"]) == 1
    assert "ExecutionDoesNotExist" in capsys.readouterr().err


def test_a_missing_request_file_is_a_usage_error(session, tmp_path, capsys):
    assert main(["start", "--stack", STACK, "--request", str(tmp_path / "nope.json")]) == 2
    assert "request file not found" in capsys.readouterr().err
