"""Model versions, offline: a promoted run with a model_name becomes that name's next version
with its lineage, and its ARN goes into the name's SSM parameter; `bedrock-customize models`
lists, shows, promotes, rolls back and deletes against the deployed stack (its outputs found
through CloudFormation), never deleting on a rollback and never deleting the current version."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from bedrock_customize.cli import main
from bedrock_customize.offline import engine as offline
from tests.datasets import write_dataset

STACK = "Versioned"


pytestmark = pytest.mark.xdist_group("versions")  # its module fixture runs once, on one worker

@pytest.fixture(scope="module")
def versioned(local_template, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("versioned")
    engine = offline.OfflineEngine(local_template, log=lambda _: None)
    with engine.session(region="us-east-1") as session:
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName=STACK, TemplateBody=json.dumps({
            "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {name: {"Value": session.template.output(name)} for name in (
                "StateMachineArn", "BucketName", "ModelVersionsTableName", "ModelParameterPrefix")},
        }))
        training = write_dataset(tmp_path / "train.jsonl", "conversation", 100)
        results = []
        for run in ("summarizer-1", "summarizer-2"):
            request = engine._upload({"base_model": "nova-lite", "model_name": "summarizer", "deployment": {"mode": "on_demand"}},
                                     {"training_data": training}, session.bucket, run, session.region)
            results.append(session.execute(request, run))
        yield session, results, training


def parameter(session) -> str:
    name = f"{session.template.output('ModelParameterPrefix')}/summarizer"
    return boto3.client("ssm", region_name=session.region).get_parameter(Name=name)["Parameter"]["Value"]


def model_arns(results) -> list[str]:
    return [r.output["job"]["custom_model_arn"] for r in results]


def test_each_promoted_run_becomes_the_next_version_with_its_lineage_and_is_current(versioned, capsys):
    session, results, training = versioned
    assert [r.status for r in results] == ["SUCCEEDED", "SUCCEEDED"]
    assert [r.output["version"]["version"] for r in results] == [1, 2]
    assert parameter(session) == model_arns(results)[1]
    assert all(r.resources["leaked"] == [] for r in results)
    assert {"type": "custom_model", "id": "model-summarizer-1"} in results[1].resources["retained"]

    assert main(["models", "show", "--stack", STACK, "summarizer", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"summarizer v1 [registered] {model_arns(results)[0]}")
    lineage = json.loads(out[out.index("{"):out.rindex("}") + 1])
    (train,) = [d for d in lineage["datasets"] if d["role"] == "training"]
    assert lineage["base_model"] == "amazon.nova-lite-v1:0:300k" and lineage["execution_name"] == "summarizer-1"
    assert lineage["metrics"]["primary_metric"] == "rougeL" and len(lineage["metrics"]["ci95"]) == 2
    assert train["version_id"] and len(train["sha256"]) == 64 and lineage["hyperparameters"]
    assert lineage["report_uri"].startswith("s3://") and "runs/summarizer-1/" in lineage["report_uri"]
    # The split the job trained on, by its bytes.
    bucket, key = train["uri"].removeprefix("s3://").split("/", 1)
    body = boto3.client("s3", region_name=session.region).get_object(Bucket=bucket, Key=key, VersionId=train["version_id"])["Body"]
    assert hashlib.sha256(body.read()).hexdigest() == train["sha256"]


def test_rollback_promote_and_delete_keep_the_current_version_safe(versioned, capsys):
    session, results, _ = versioned
    first, second = model_arns(results)
    assert main(["models", "rollback", "--stack", STACK, "summarizer"]) == 0
    assert "rolled back to version 1" in capsys.readouterr().out and parameter(session) == first
    assert second in session.simulator.resources  # a rollback deletes nothing

    assert main(["models", "delete", "--stack", STACK, "summarizer", "1"]) == 1
    assert "version 1 is the current version of summarizer" in capsys.readouterr().err
    assert main(["models", "rollback", "--stack", STACK, "summarizer"]) == 1
    assert "nothing to roll back to" in capsys.readouterr().err

    assert main(["models", "promote", "--stack", STACK, "summarizer", "2"]) == 0
    assert parameter(session) == second
    assert main(["models", "delete", "--stack", STACK, "summarizer", "1"]) == 0
    assert first not in session.simulator.resources
    assert main(["models", "promote", "--stack", STACK, "summarizer", "1"]) == 1
    assert "was deleted" in capsys.readouterr().err
    assert main(["models", "list", "--stack", STACK]) == 0
    assert "summarizer  current: 2  versions kept: 1 of 2" in capsys.readouterr().out
    assert main(["models", "show", "--stack", STACK, "nobody"]) == 1


def test_a_run_without_a_model_name_registers_nothing(versioned):
    session, results, training = versioned
    before = parameter(session)
    request = session.engine._upload({"base_model": "nova-lite", "deployment": {"mode": "on_demand"}},
                                     {"training_data": training}, session.bucket, "unnamed-1", session.region)
    result = session.execute(request, "unnamed-1")
    assert result.status == "SUCCEEDED" and result.resources["leaked"] == []
    assert result.output["version"] == {"registered": False, "model_name": None, "version": None, "parameter": None,
                                        "why": "the request names no model_name"}
    assert parameter(session) == before
