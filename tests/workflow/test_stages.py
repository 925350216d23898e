"""Multi-stage runs, offline: each stage trains on the one before (where the registry says the
guide allows it), every stage is validated and priced before the first job, and the last stage
(or each, with evaluate_stages) is evaluated against the original base model, one deployment at
a time; teardown and the ledger cover every stage.

The runs happen once (a module fixture); the module is one xdist group, so they run once."""

from __future__ import annotations

import json

import pytest

from bedrock_customize.offline import engine as offline
from bedrock_customize.offline.scenarios import SCENARIOS
from infra import constants as c
from tests.datasets import write_dataset
from tests.workflow.conftest import Runner

pytestmark = pytest.mark.xdist_group("stages")


def report(result: offline.RunResult) -> dict:
    return json.loads(result.objects["evaluation/report.json"])


def stage_datasets(tmp_path, *, broken_line: int | None = None) -> dict:
    """The run's own datasets and a second stage's (other records), as local files."""
    datasets = {
        "training_data": write_dataset(tmp_path / "train.jsonl", "conversation", 100),
        "validation_data": write_dataset(tmp_path / "validation.jsonl", "conversation", 4, start=100),
        "test_data": write_dataset(tmp_path / "test.jsonl", "conversation", 5, start=104),
        "stages.0.training_data": write_dataset(tmp_path / "stage-2.jsonl", "conversation", 60, start=200),
    }
    if broken_line is not None:
        lines = datasets["stages.0.training_data"].read_text().splitlines()
        lines[broken_line - 1] = '{"schemaVersion": "bedrock-conversation-2024", "messages": []}'
        datasets["stages.0.training_data"].write_text("\n".join(lines) + "\n")
    return datasets


SECOND_STAGE = [{"customization_type": "FINE_TUNING", "training_data": "stage-2.jsonl", "hyperparameters": {"epochCount": 1}}]


@pytest.fixture(scope="module")
def staged(local_template, tmp_path_factory) -> dict[str, offline.RunResult]:
    results = {}
    for name, change in (("evaluate-each", {}), ("last-only", {"evaluate_stages": False, "teardown": {"delete_custom_model": True}})):
        tmp_path = tmp_path_factory.mktemp(name)
        scenario = SCENARIOS["multi-stage"]
        results[name] = Runner(local_template, tmp_path).run(
            "nova-lite", request={**scenario.request, "stages": SECOND_STAGE, **change}, datasets=stage_datasets(tmp_path),
            faults=scenario.faults(), job_polls=scenario.job_polls, deployment_polls=scenario.deployment_polls,
        )
    return results


def test_the_multi_stage_scenario_ends_as_it_should_with_nothing_leaked(staged):
    for result in staged.values():
        assert result.status == SCENARIOS["multi-stage"].expected_status, result.error
        assert result.resources["leaked"] == []


def test_a_later_stage_customizes_the_earlier_stages_custom_model(staged):
    result = staged["evaluate-each"]
    jobs = {job.name: job.attributes["request"] for job in result.simulator.existing("customization_job")}
    name = result.execution_name
    first_model = next(m.arn for m in result.simulator.existing("custom_model") if m.name == f"model-{name}")
    assert jobs[f"job-{name}"]["baseModelIdentifier"] == "amazon.nova-lite-v1:0:300k"
    assert jobs[f"job-{name}-s2"]["baseModelIdentifier"] == first_model
    assert jobs[f"job-{name}-s2"]["trainingDataConfig"]["s3Uri"].endswith("/stages.0.training_data/stage-2.jsonl")
    assert jobs[f"job-{name}-s2"]["hyperParameters"]["epochCount"] == "1"
    # Both stages' custom models are in the ledger; kept, as the request keeps custom models.
    assert sorted(r["id"] for r in result.resources["retained"]) == [f"model-{name}", f"model-{name}-s2"]


def test_every_stage_is_validated_and_priced_before_the_first_job(staged):
    result = staged["evaluate-each"]
    validation = json.loads(result.objects["validation-report.json"])
    assert [s["label"] for s in validation["stages"]["stages"]] == ["stage 1 (FINE_TUNING)", "stage 2 (FINE_TUNING)"]
    assert validation["stage_datasets"][0][0]["records"] == 60 and validation["stage_datasets"][0][0]["valid"]
    items = [line["item"] for line in validation["cost_estimate"]["lines"]]
    assert "stage 1 (FINE_TUNING): training" in items and "stage 2 (FINE_TUNING): training" in items
    # evaluate_stages: both stages' evaluations are priced.
    assert {i.split(":")[0] for i in items if i.startswith("evaluation of")} == {"evaluation of stage 1", "evaluation of stage 2"}


def test_each_stage_is_evaluated_against_the_base_model_and_the_last_is_the_runs(staged):
    result = staged["evaluate-each"]
    data = report(result)
    assert data["base_model"] == "amazon.nova-lite-v1:0:300k"
    assert [(m["index"], m["custom_model"]) for m in data["stages"]] == [(1, "kept"), (2, "chosen")]
    assert all(m["metric"] is not None and m["report_uri"] for m in data["stages"])
    assert data["selected"]["index"] == 2 and "last stage" in data["selected"]["reason"]
    for index in (1, 2):
        assert f"models/{index}/evaluation/report.json" in result.objects
    serving = [e["event"] for e in result.simulator.ledger if e["type"] == "custom_model_deployment"]
    assert serving == ["created", "deleted", "created", "deleted"]  # one deployment at a time
    assert "<h2>Stages</h2>" in result.objects["evaluation/report.html"].decode()


def test_without_evaluate_stages_only_the_last_is_evaluated_and_teardown_covers_every_stage(staged):
    result = staged["last-only"]
    name = result.execution_name
    assert c.SELECT_MODEL not in result.states and result.states.count(c.NEXT_STAGE) == 2
    assert [e["id"] for e in result.simulator.ledger if e["type"] == "custom_model_deployment" and e["event"] == "created"] == [
        f"deploy-{name}-s2"]
    deleted = sorted(item["id"] for item in result.output["teardown"]["deleted"] if item["type"] == "custom_model")
    assert deleted == [f"model-{name}", f"model-{name}-s2"] and result.resources["retained"] == []
    assert report(result)["selected"]["index"] == 2


def test_a_bad_later_stage_dataset_is_refused_before_anything_is_created(runner):
    result = runner.run("nova-lite", request={"stages": SECOND_STAGE, "deployment": {"mode": "on_demand"}},
                        datasets=stage_datasets(runner.tmp_path, broken_line=7))
    assert result.status == "FAILED" and result.error["error"] == "DatasetInvalidError"
    assert result.resources["created"] == []
    assert "stages[0]" in result.error["cause"] and "line 7" in result.error["cause"]
    report = json.loads(result.objects["validation-report.json"])  # the full report names the stage's dataset too
    assert report["valid"] is False and report["stage_datasets"][0][0]["valid"] is False
