"""Sweeps, offline: a sweep's candidates train in a Map bounded by max_parallel and the job
quota's headroom, one is chosen (by validation loss or by the evaluation's metric), the
others' custom models are deleted, the ledger and the cleanup cover every candidate, and the
report, the page and summary.json carry the candidates and the choice.

Each scenario runs once (a module fixture); the module is one xdist group, so it runs once."""

from __future__ import annotations

import json

import pytest

from bedrock_customize.offline import engine as offline
from bedrock_customize.offline.scenarios import SCENARIOS
from infra import constants as c
from tests.workflow.conftest import Runner

pytestmark = pytest.mark.xdist_group("sweeps")
SWEEP_SCENARIOS = ("sweep", "sweep-by-metric", "sweep-candidate-fails", "sweep-abort")


@pytest.fixture(scope="module")
def ran(local_template, tmp_path_factory) -> dict[str, offline.RunResult]:
    """Each sweep scenario, run once, as `run-local --scenario` runs it (on the test datasets)."""
    results = {}
    for name in SWEEP_SCENARIOS:
        scenario = SCENARIOS[name]
        runner = Runner(local_template, tmp_path_factory.mktemp(name))
        results[name] = runner.run(
            "nova-lite", request=scenario.request, faults=scenario.faults(), crashes=scenario.crashes,
            abort_when=scenario.abort_when, job_polls=scenario.job_polls, deployment_polls=scenario.deployment_polls,
        )
    return results


def report(result: offline.RunResult) -> dict:
    return json.loads(result.objects["evaluation/report.json"])


def created(result: offline.RunResult, kind: str) -> list[str]:
    return [e["id"] for e in result.simulator.ledger if e["event"] == "created" and e["type"] == kind]


@pytest.mark.parametrize("name", SWEEP_SCENARIOS)
def test_every_sweep_scenario_ends_as_it_should_with_nothing_leaked(ran, name):
    result = ran[name]
    assert result.status == SCENARIOS[name].expected_status, result.error
    assert result.resources["leaked"] == []
    if result.status in c.CLEANUP_STATUSES:
        assert result.cleanup is not None and result.cleanup["status"] == result.status


def test_candidates_train_at_most_as_many_at_once_as_the_job_quota_allows(ran):
    """max_parallel is 3, the simulated account's concurrent-jobs quota 2 (which the simulated
    Bedrock enforces): the Map ran two at a time and every candidate trained."""
    result = ran["sweep"]
    sweep = result.output["run"]["sweep"]
    assert (sweep["requested_parallel"], sweep["job_headroom"], sweep["max_parallel"]) == (3, 2, 2)
    assert result.simulator.peak_jobs_in_progress == 2
    assert len(created(result, "customization_job")) == 3
    assert result.states.count(c.SUBMIT_CANDIDATE_JOB) == 3 and c.SUBMIT_JOB not in result.states


def test_by_validation_loss_only_the_winner_is_deployed_and_the_losers_models_are_deleted(ran):
    result = ran["sweep"]
    name = result.execution_name
    selected = result.output["experiment"]["selected"]
    # The simulated loss is lowest at the registry's default learning rate (1e-05 for Nova Lite).
    assert selected["index"] == 2 and selected["reason"].startswith("the lowest final validation loss")
    assert created(result, "provisioned_throughput") == [f"pt-{name}-c2"]
    assert result.resources["retained"] == [{"type": "custom_model", "id": f"model-{name}-c2"}]
    assert sorted(e["id"] for e in result.simulator.ledger if e["event"] == "deleted" and e["type"] == "custom_model") == [
        f"model-{name}-c1", f"model-{name}-c3"]
    assert result.output["job"]["custom_model_arn"].endswith(next(
        r["custom_model_arn"] for r in result.output["experiment"]["results"] if r["index"] == 2).rsplit("/", 1)[-1])


def test_the_report_and_the_page_carry_every_candidate_and_the_choice(ran, tmp_path):
    result = ran["sweep"]
    data = report(result)
    assert [(m["index"], m["status"], m["custom_model"]) for m in data["candidates"]] == [
        (1, "Completed", "deleted"), (2, "Completed", "chosen"), (3, "Completed", "deleted")]
    assert [m["hyperparameters"]["learningRate"] for m in data["candidates"]] == ["1e-06", "1e-05", "0.0001"]
    losses = [m["final_validation_loss"] for m in data["candidates"]]
    assert losses[1] == min(losses) and all(m["estimated_usd"] > 0 for m in data["candidates"])
    assert data["selected"]["index"] == 2
    page = result.objects["evaluation/report.html"].decode()
    assert "Sweep: the candidates" in page and "<b>Chosen: candidate 2</b>" in page
    # One chart of the three training curves, one of the three validation curves.
    assert page.count("candidate 1 training") == 1 and page.count("validation</text>") == 3
    summary = json.loads(offline.write_summary(result, tmp_path, "nova-lite").read_text())
    assert [m["label"] for m in summary["candidates"]] == ["candidate 1", "candidate 2", "candidate 3"]
    assert summary["selected"] == data["selected"] and summary["peak_jobs_in_progress"] == 2


def test_the_estimate_and_the_ledger_cover_every_candidate(ran):
    result = ran["sweep"]
    estimate = json.loads(result.objects["validation-report.json"])["cost_estimate"]
    items = [line["item"] for line in estimate["lines"]]
    assert [i for i in items if i.endswith(": training")] == [f"candidate {n}: training" for n in (1, 2, 3)]
    # By loss, one deployment is priced: the winner's.
    assert sum(1 for i in items if i.endswith("provisioned throughput")) == 1
    assert estimate["total_usd"] == pytest.approx(sum(line["usd"] for line in estimate["lines"]), abs=1e-3)
    jobs = {e["id"] for e in result.simulator.ledger if e["type"] == "customization_job"}
    assert jobs == {f"job-{result.execution_name}-c{n}" for n in (1, 2, 3)}


def test_by_metric_every_candidate_is_evaluated_one_deployment_at_a_time(ran):
    result = ran["sweep-by-metric"]
    name = result.execution_name
    serving = [(e["event"], e["id"]) for e in result.simulator.ledger if e["type"] == "custom_model_deployment"]
    assert serving == [("created", f"deploy-{name}-c1"), ("deleted", f"deploy-{name}-c1"),
                       ("created", f"deploy-{name}-c2"), ("deleted", f"deploy-{name}-c2")]
    for index in (1, 2):  # each candidate's own report, kept under models/<index>/
        assert json.loads(result.objects[f"models/{index}/evaluation/report.json"])["candidates"] is None
    data = report(result)
    metrics = {m["index"]: m["metric"] for m in data["candidates"]}
    assert metrics[1] > metrics[2]  # 1e-05 is the simulation's best rate; 1e-04 learned less of the style
    assert data["selected"]["index"] == 1 and data["selected"]["reason"].startswith("the highest rougeL")
    assert data["metrics"]["custom"]["rougeL"] == pytest.approx(metrics[1])
    assert result.output["evaluation"]["report_uri"].endswith(f"runs/{name}/evaluation/report.json")
    assert c.REGISTER_VERSION in result.states and result.states.count(c.SELECT_MODEL) == 3


def test_a_failed_candidate_does_not_stop_the_others_and_is_reported(ran):
    result = ran["sweep-candidate-fails"]
    candidates = {m["index"]: m for m in report(result)["candidates"]}
    assert candidates[3]["status"] == "Failed" and "Internal error while training (SIMULATED)" in candidates[3]["failure"]
    assert candidates[3]["custom_model"] == "none"
    assert {candidates[1]["status"], candidates[2]["status"]} == {"Completed"}
    assert report(result)["selected"]["index"] == 2


def test_aborting_a_sweep_stops_every_job_still_training(ran):
    result = ran["sweep-abort"]
    assert result.status == "ABORTED" and c.TEAR_DOWN not in result.states
    name = result.execution_name
    started = created(result, "customization_job")
    assert len(started) == 2  # two at a time: the third had not started
    assert sorted(item["id"] for item in result.cleanup["cleanup"]["stopped"]) == sorted(started)
    assert {f"job-{name}-c1", f"job-{name}-c2"} == set(started)


def test_a_sweep_over_its_budget_is_refused_before_anything_is_created(runner):
    """Each candidate alone fits the budget; the three together do not."""
    result = runner.run("nova-lite", request={"sweep": SCENARIOS["sweep"].request["sweep"], "budget": {"max_usd": 5}})
    assert result.status == "FAILED" and result.error["error"] == "BudgetExceededError"
    assert result.resources["created"] == []


def test_the_job_quota_bounds_the_map_even_below_max_parallel(runner):
    from bedrock_customize.offline.simulator import Faults

    result = runner.run("nova-lite", request={"sweep": {"grid": {"learningRate": [1e-05, 2e-05]}, "max_parallel": 2}},
                        faults=Faults(quota_values={"Concurrent model customization jobs": 1}))
    assert result.status == "SUCCEEDED", result.error
    assert result.output["run"]["sweep"]["max_parallel"] == 1 and result.simulator.peak_jobs_in_progress == 1
