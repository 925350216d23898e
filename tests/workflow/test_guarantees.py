"""No billable resource outlives its run: every scenario, every injected failure, the
janitor, and steps that run twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_customize.offline.scenarios import SCENARIOS
from bedrock_customize.requests import load_request, local_datasets
from customization.errors import ThrottlingError
from customization.vocabulary import DATA_FIELDS
from infra import constants as c
from infra.steps import STEPS
from tests.datasets import write_dataset

# The experiments' scenarios run once each in test_sweeps.py and test_stages.py, with these guarantees and their own.
EXPERIMENT_SCENARIOS = tuple(name for name in SCENARIOS if name.startswith(("sweep", "multi-stage")))


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"


def scenario_request(scenario) -> tuple[dict, dict | None]:
    """The scenario's request and datasets: on its example's data where it names one (as
    `run-local --scenario` runs it), else on the test datasets."""
    if scenario.example is None:
        return scenario.request, None
    path = EXAMPLES / f"{scenario.example}.json"
    example = load_request(path)
    kept = {key: value for key, value in example.items() if key not in DATA_FIELDS}
    return {**kept, **scenario.request}, local_datasets(example, path.parent)


@pytest.mark.parametrize("name", [name for name in SCENARIOS if name not in EXPERIMENT_SCENARIOS])
def test_every_scenario_ends_as_it_should_with_nothing_leaked(runner, name):
    scenario = SCENARIOS[name]
    request, datasets = scenario_request(scenario)
    result = runner.run(
        request.get("base_model", "nova-lite"), request.get("customization_type", "FINE_TUNING"),
        request=request, datasets=datasets, faults=scenario.faults(), crashes=scenario.crashes,
        abort_when=scenario.abort_when, job_polls=scenario.job_polls, deployment_polls=scenario.deployment_polls,
    )
    assert result.status == scenario.expected_status, result.error
    assert result.resources["leaked"] == []
    if name == "teacher-cannot-teach":  # refused in Validate Request, naming who can teach Nova Lite
        assert result.resources["created"] == [] and result.error["error"] == "RequestInvalidError"
        assert "cannot teach amazon.nova-lite-v1:0:300k; the teachers that can: amazon.nova-pro-v1:0" in result.error["cause"]
    if name == "grader-fails":  # the grader was tried before the job, and its failure named
        assert result.resources["created"] == [] and result.error["error"] == "GraderFailedError"
        assert "the grader raised on its first batch (SIMULATED crash)" in result.error["cause"]
        assert result.states[-2:] == [c.VALIDATION_FAILED, c.RUN_NOT_STARTED]
    if name == "judged":  # the judge's metric is reported for both models, with its interval
        report = json.loads(result.objects["evaluation/report.json"])
        assert report["metrics"]["base"]["judge"] == report["metrics"]["custom"]["judge"] == 0.0 and "judge" in report["ci95"]
    if name == "second-engine":  # Bedrock's evaluation job ran, and its metrics are in the report's
        report = json.loads(result.objects["evaluation/report.json"])
        assert report["second_engine"]["status"] == "Completed" and report["second_engine"]["metrics"]
    if name == "images":  # every test image went to both models, and the page shows them
        assert {(kind, how) for _, kind, how in result.simulator.media_seen} == {("image", "bytes")}
        assert "<img src='data:image/png;base64," in result.objects["evaluation/report.html"].decode()
    if result.status in c.CLEANUP_STATUSES:
        assert result.cleanup is not None and result.cleanup["status"] == result.status


def test_the_throttled_scenario_really_throttled_every_call(runner):
    scenario = SCENARIOS["throttled"]
    result = runner.run("nova-lite", faults=scenario.faults())
    assert result.status == "SUCCEEDED"
    calls, injected = result.simulator.calls, result.simulator.injected
    assert len(injected) * 2 == len(calls)  # every call's first attempt was throttled, its retry answered
    assert {entry.split(" on ")[1] for entry in injected} == set(calls)


def test_an_aborted_job_is_stopped_by_the_cleanup(runner):
    scenario = SCENARIOS["abort-during-job"]
    result = runner.run("nova-lite", request=scenario.request, abort_when=scenario.abort_when, job_polls=50)
    assert result.status == "ABORTED" and c.TEAR_DOWN not in result.states
    assert [e["event"] for e in result.simulator.ledger if e["type"] == "customization_job"] == ["created", "stopped"]
    assert result.cleanup["cleanup"]["stopped"] == [{"type": "customization_job", "id": f"job-{result.execution_name}"}]
    subjects = [n["subject"] for n in result.notifications]
    # Two rules match the status change; EventBridge delivers to each, in no set order.
    assert sorted(subjects) == [f"Cleanup after run {result.execution_name} (ABORTED)", f"Run {result.execution_name} ABORTED"]


def test_a_job_past_its_time_limit_is_stopped_and_the_run_torn_down(runner):
    scenario = SCENARIOS["job-timeout"]
    result = runner.run("nova-lite", request=scenario.request, job_polls=1000)
    assert result.status == "FAILED" and result.error["error"] == "JobTimeoutError"
    assert "past the request's limit of 1 s; it has been stopped" in result.error["cause"]


TASKS = [step.state for step in STEPS]


@pytest.mark.parametrize("state", TASKS)
@pytest.mark.parametrize("failure", ["exception", "throttling"])
def test_failure_injection_matrix(runner, state, failure):
    injected = RuntimeError(f"injected failure in {state}") if failure == "exception" else ThrottlingError(
        f"Rate exceeded in {state} (injected, persistent)"
    )
    # Check Evaluation Job only runs when Bedrock's evaluation job is asked for, Prepare Dataset
    # when the request names raw data.
    request = {"evaluation": {"bedrock_evaluation_job": True}} if state == c.CHECK_EVALUATION_JOB else {}
    datasets = None
    if state == c.PREPARE_DATASET:
        request = {"prepare": {"source": "raw.jsonl", "test_fraction": 0.1}}
        datasets = {"prepare.source": write_dataset(runner.tmp_path / "raw.jsonl", "conversation", 100)}
    if state == c.SELECT_MODEL:  # a sweep's
        request = {"sweep": {"grid": {"learningRate": [1e-05, 2e-05]}}}
    if state == c.NEXT_STAGE:  # a multi-stage run's
        request = {"stages": [{"training_data": "stage-2.jsonl"}]}
        datasets = {name: write_dataset(runner.tmp_path / file, "conversation", count, start=start) for name, file, count, start in (
            ("training_data", "train.jsonl", 100, 0), ("test_data", "test.jsonl", 5, 100),
            ("stages.0.training_data", "stage-2.jsonl", 60, 200))}
    result = runner.run("nova-lite", crashes={state: injected}, request=request, datasets=datasets)

    assert result.status == "FAILED"
    assert result.resources["leaked"] == [], result.resources
    assert not [r for r in result.resources["created"] if r["type"] == "provisioned_throughput"
                and r not in result.resources["deleted"]]
    expected = type(injected).__name__
    assert result.error["error"] == expected
    assert str(injected) in result.error["cause"] and not result.error["cause"].startswith("{")
    if failure == "throttling":
        assert result.handler_calls.count(state) == 3  # retried twice (stage `local`), then given up


def test_a_deployment_not_ready_in_time_is_deleted(runner):
    result = runner.run(
        "nova-lite", deployment_polls=1000,
        request={"wait_seconds": {"deployment": 1}, "timeouts": {"deployment_ready_minutes": 0.02}},
    )
    assert result.status == "FAILED" and result.error["error"] == "DeploymentTimeoutError"
    assert "was not ready after" in result.error["cause"]
    assert [r["type"] for r in result.resources["deleted"]] == ["provisioned_throughput"]
    assert result.resources["leaked"] == []


def test_a_cleanup_that_keeps_failing_leaves_its_event_in_the_dead_letter_queue_and_the_janitor_deletes(local_template, tmp_path):
    import json

    import boto3

    from bedrock_customize.offline import engine as offline
    from bedrock_customize.offline.simulator import Faults

    lines: list[str] = []
    engine = offline.OfflineEngine(local_template, log=lines.append)
    crash = {c.CLEAN_UP_RUN: "the cleanup crashed (SIMULATED, on every attempt)"}
    with engine.session(region="us-east-1", faults=Faults(converse_delay_seconds=0.2), crashes=crash) as session:
        datasets = {"training_data": write_dataset(tmp_path / "train.jsonl", "conversation", 100)}
        request = engine._upload({"base_model": "nova-lite", "deployment": {"mode": "provisioned"}}, datasets,
                                 session.bucket, "dead-letter-1", session.region)
        # Stopped by hand during the evaluation: Tear Down never runs, the deployment exists.
        result = session.execute(request, "dead-letter-1", abort_when=lambda states: c.SCORE_SAMPLES in states)
        assert result.status == "ABORTED" and result.cleanup is None
        # Delivered, then retried by Lambda as an asynchronous invocation (twice), then kept in the queue.
        assert "Lambda: Clean Up Run failed 3 times; the event is in the dead-letter queue" in lines
        sqs = boto3.client("sqs", region_name=session.region)
        (url,) = sqs.list_queues()["QueueUrls"]
        (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        assert json.loads(message["Body"])["detail"]["status"] == "ABORTED"
        assert message["MessageAttributes"]["RULE_TARGET"]["StringValue"] == c.CLEAN_UP_RUN
        (deployment,) = [r for r in session.simulator.inventory()["leaked"] if r["type"] == "provisioned_throughput"]
        # The janitor, on its schedule, still deletes what the run left.
        session.invoke(c.JANITOR, {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
        assert session.simulator.inventory()["leaked"] == []
        assert deployment in session.simulator.inventory()["deleted"]
