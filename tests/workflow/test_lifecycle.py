"""The whole lifecycle, executed offline, on the happy path and on failure paths."""

from __future__ import annotations

import json

import pytest

from bedrock_customize.offline.simulator import Faults
from infra import constants as c
from tests.datasets import write_dataset
from tests.workflow.conftest import PREFLIGHT_READS

HAPPY_PATH = [
    c.RAW_DATA, c.VALIDATE_REQUEST, c.SUBMIT_JOB, c.WAIT_FOR_JOB, c.CHECK_JOB, c.JOB_COMPLETE, c.DEPLOY_MODEL,
    c.DEPLOYMENT_REQUESTED, c.WAIT_FOR_DEPLOYMENT, c.CHECK_DEPLOYMENT, c.DEPLOYMENT_READY, c.PLAN_EVALUATION,
    c.SHARD_EVALUATION, c.SCORE_SAMPLES, c.REPORT_EVALUATION, c.TEAR_DOWN, c.RUN_FAILED_CHOICE, c.RUN_SUCCEEDED,
]


def in_order(expected: list[str], states: list[str]) -> bool:
    remaining = iter(states)
    return all(state in remaining for state in expected)


def kinds(resources: list[dict[str, str]]) -> list[str]:
    return sorted(r["type"] for r in resources)


@pytest.mark.parametrize(
    ("base_model", "customization_type"),
    [
        ("amazon.nova-lite-v1:0:300k", "FINE_TUNING"),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "FINE_TUNING"),
        ("meta.llama3-2-11b-instruct-v1:0:128k", "FINE_TUNING"),
        ("meta.llama3-2-90b-instruct-v1:0:128k", "FINE_TUNING"),
        ("amazon.titan-text-express-v1:0:8k", "CONTINUED_PRE_TRAINING"),
    ],
)
def test_the_happy_path_for_each_notebook_model(runner, base_model, customization_type):
    result = runner.run(base_model, customization_type, job_polls=2, deployment_polls=1)

    assert result.status == "SUCCEEDED", result.error
    assert in_order(HAPPY_PATH, result.states)
    assert result.states.count(c.CHECK_JOB) == 3  # InProgress twice, then Completed
    assert {"type": "provisioned_throughput", "id": f"pt-{result.execution_name}"} in result.resources["created"]
    assert {"type": "provisioned_throughput", "id": f"pt-{result.execution_name}"} in result.resources["deleted"]
    assert result.resources["leaked"] == []
    evaluation = result.output["evaluation"]
    assert evaluation["samples"] == 5 and evaluation["failed"] == 0
    assert evaluation["base"]["rougeL"] >= 0 and evaluation["custom"]["rougeL"] >= 0
    assert evaluation["verdict"].startswith("custom model is")
    report = json.loads(result.objects["evaluation/report.json"])
    assert len(report["samples"]) == 5 and report["base_model_invocation_id"] == evaluation["base_model"]


def test_the_submitted_job_carries_the_merged_hyperparameters_and_run_prefix(runner):
    result = runner.run("nova-lite", request={"hyperparameters": {"epochCount": 3}})
    (job,) = [r for r in result.simulator.ledger if r["type"] == "customization_job"]
    request = result.simulator.resources[job["arn"]].attributes["request"]
    # 100 training records / 160 rounds to 1 warm-up step (the Nova rule), recorded in the report.
    assert request["hyperParameters"] == {"epochCount": "3", "learningRate": "1e-05", "learningRateWarmupSteps": "1"}
    report = json.loads(result.objects["validation-report.json"])
    assert report["hyperparameter_adjustments"][0].startswith("learningRateWarmupSteps: 1 instead of the default 10")
    assert request["outputDataConfig"]["s3Uri"].endswith(f"/runs/{result.execution_name}/output/")
    assert request["validationDataConfig"]["validators"][0]["s3Uri"].endswith("validation.jsonl")
    assert {"key": "bedrock-customize:execution", "value": result.execution_name} in request["jobTags"]
    assert len(request["clientRequestToken"]) == 64


def test_the_simulated_job_writes_its_training_metrics(runner):
    result = runner.run("nova-lite")
    bucket = result.bucket
    assert result.status == "SUCCEEDED"
    # The engine downloads the run prefix; the job's artifacts sit under output/model-customization-job-<id>/.
    metrics = [k for k in result.objects if k.endswith("step_wise_training_metrics.csv")]
    validation = [k for k in result.objects if k.endswith("validation_metrics.csv")]
    assert metrics and validation, sorted(result.objects)
    header = result.objects[metrics[0]].decode().splitlines()[0]
    assert header == "step_number,epoch_number,training_loss,perplexity" and bucket


def test_a_failed_job_fails_the_run_with_bedrocks_message_and_nothing_deployed(runner):
    message = "Training data validation failed: the service could not parse record 17"
    result = runner.run("nova-lite", faults=Faults(job_failure_message=message))

    assert result.status == "FAILED"
    assert result.error["error"] == "JobFailedError"
    assert message in result.error["cause"] and "{" not in result.error["cause"]
    assert in_order([c.CHECK_JOB, c.TEAR_DOWN, c.RUN_FAILED_CHOICE, c.RUN_FAILED], result.states)
    assert c.DEPLOY_MODEL not in result.states
    assert "provisioned_throughput" not in kinds(result.resources["created"])
    assert result.resources["leaked"] == []


def test_an_evaluation_crash_after_deployment_is_torn_down(runner):
    result = runner.run("nova-lite", crashes={c.SCORE_SAMPLES: "scoring process died"})

    assert result.status == "FAILED"
    assert result.error == {"error": "InjectedCrash", "cause": "scoring process died"}
    assert in_order([c.SCORE_SAMPLES, c.TEAR_DOWN, c.RUN_FAILED], result.states)
    assert kinds(result.resources["created"]).count("provisioned_throughput") == 1
    assert kinds(result.resources["deleted"]) == ["provisioned_throughput"]
    assert result.resources["leaked"] == []


def test_a_failed_deployment_is_deleted_and_fails_the_run(runner):
    result = runner.run("nova-lite", faults=Faults(deployment_failure_message="capacity unavailable"))
    assert result.status == "FAILED" and result.error["error"] == "DeploymentFailedError"
    assert "capacity unavailable" in result.error["cause"]
    assert result.resources["leaked"] == [] and kinds(result.resources["deleted"]) == ["provisioned_throughput"]


def test_an_on_demand_deployment_for_a_model_that_supports_it(runner):
    result = runner.run("nova-lite", request={"deployment": {"mode": "on_demand"}, "teardown": {"delete_custom_model": True}})
    assert result.status == "SUCCEEDED", result.error
    assert kinds(result.resources["deleted"]) == ["custom_model", "custom_model_deployment"]
    assert result.resources["leaked"] == [] and result.resources["retained"] == []


def test_deployment_none_skips_evaluation_and_deploys_nothing(runner):
    result = runner.run("haiku", request={"deployment": {"mode": "none"}})
    assert result.status == "SUCCEEDED"
    assert c.PLAN_EVALUATION not in result.states and c.TEAR_DOWN in result.states
    assert kinds(result.resources["created"]) == ["custom_model", "customization_job"]


def test_a_bad_request_is_rejected_before_anything_is_created(runner):
    result = runner.run("nova-lite", request={"hyperparameters": {"epochCount": 50}})
    assert result.status == "FAILED"
    assert result.error["error"] == "RequestInvalidError"
    assert "epochCount: 50 is outside the allowed range [1, 5]" in result.error["cause"]
    assert result.states == [c.RAW_DATA, c.VALIDATE_REQUEST, c.VALIDATION_FAILED, c.RUN_NOT_STARTED]
    assert result.resources["created"] == [] and result.simulator.calls == []


def test_a_bad_dataset_is_rejected_naming_the_line_and_rule(runner, tmp_path):
    good = runner.tmp_path / "good.jsonl"
    write_dataset(good, "conversation", 10)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text() + '{"schemaVersion": "x", "messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}\n')
    result = runner.run("nova-lite", datasets={"training_data": bad})
    assert result.status == "FAILED" and result.error["error"] == "DatasetInvalidError"
    assert "line 11: turn-order: the first turn must be the user's" in result.error["cause"]
    assert result.simulator.calls == PREFLIGHT_READS  # nothing created
    assert json.loads(result.objects["validation-report.json"])["valid"] is False
