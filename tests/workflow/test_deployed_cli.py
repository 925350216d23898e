"""The CLI for a deployed stack, against the stack's resources in moto: it finds the
stack's outputs through CloudFormation, as it would in AWS."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from bedrock_customize.cli import main
from bedrock_customize.offline import engine as offline
from tests.datasets import provisioned_unless_chosen, write_dataset

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
    path.write_text(json.dumps(provisioned_unless_chosen({"base_model": "nova-lite", "training_data": "train.jsonl", **extra})))
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


def wait_for_the_job_wait(sfn, arn: str) -> None:
    """Until the run waits on its job (a stop before the execution is under way races moto)."""
    deadline = time.monotonic() + 20
    while "Wait For Job" not in json.dumps(sfn.get_execution_history(executionArn=arn)["events"], default=str):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_stop_aborts_a_run_and_its_cleanup_follows(session, tmp_path, capsys):
    path = request_file(tmp_path, wait_seconds={"job": 30})
    assert main(["start", "--stack", STACK, "--request", str(path), "--name", "to-stop"]) == 0
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = session.machine_arn.replace(":stateMachine:", ":execution:") + ":to-stop"
    wait_for_the_job_wait(sfn, arn)
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


def test_start_uploads_a_raw_source_and_the_images_a_dataset_names_beside_it(session, tmp_path, capsys):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    raw = offline.ROOT / "examples" / "raw" / "dialogues.csv"
    path = tmp_path / "raw.json"
    path.write_text(json.dumps({"base_model": "nova-lite", "wait_seconds": {"job": 30}, "prepare": {
        "source": str(raw), "map": {"prompt": "dialogue", "completion": "summary"}}}))
    assert main(["start", "--stack", STACK, "--request", str(path), "--name", "raw-1"]) == 0
    arn = session.machine_arn.replace(":stateMachine:", ":execution:") + ":raw-1"
    sent = json.loads(sfn.describe_execution(executionArn=arn)["input"])
    assert sent["prepare"]["source"] == f"s3://{session.bucket}/datasets/raw-1/prepare.source/dialogues.csv"
    assert s3.get_object(Bucket=session.bucket, Key="datasets/raw-1/prepare.source/dialogues.csv")["Body"].read() == raw.read_bytes()
    wait_for_the_job_wait(sfn, arn)  # prepared in the pipeline and submitted
    sfn.stop_execution(executionArn=arn)

    vision = offline.ROOT / "examples" / "prepared" / "llama3.2-11b-vision"
    path = tmp_path / "vision.json"
    # Nova takes the same conversation format, in this session's region, and wants media in the dataset's bucket.
    path.write_text(json.dumps({"base_model": "nova-lite", "training_data": str(vision / "train.jsonl"),
                                "wait_seconds": {"job": 30}}))
    capsys.readouterr()
    assert main(["start", "--stack", STACK, "--request", str(path), "--name", "vision-1"]) == 0
    assert "train.jsonl with the 20 media files it names" in capsys.readouterr().out
    listed = s3.list_objects_v2(Bucket=session.bucket, Prefix="datasets/vision-1/training_data/media/")["KeyCount"]
    assert listed == 20
    wait_for_the_job_wait(sfn, arn.replace(":raw-1", ":vision-1"))  # Validate Request found every image in S3
    sfn.stop_execution(executionArn=arn.replace(":raw-1", ":vision-1"))
