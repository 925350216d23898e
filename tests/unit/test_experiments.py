"""Select Model and the sweep's plan, with fakes: the winner by loss, what becomes of the
losers' custom models, a failed candidate, a sweep where nothing completed, and the Map's bound."""

from __future__ import annotations

import pytest

from customization.core.experiments import plan_sweep, select_model
from customization.core.request_rules import parse_request
from customization.errors import NoModelTrainedError
from customization.models.steps import StepInput
from customization.vocabulary import ResourceKind
from tests.fakes import FakeBedrock, FakeLedger, FakeStore
from tests.runs import BUCKET, run_context

VALIDATION = f"s3://{BUCKET}/data/validation.jsonl"
RATES = [1e-06, 1e-05, 0.0001]


def sweep_run(**sweep):
    """A run with a sweep of three learning rates, as Validate Request plans it."""
    run = run_context(validation_data=VALIDATION, sweep={"grid": {"learningRate": RATES}, **sweep})
    request = parse_request({"base_model": "nova-lite", "training_data": f"s3://{BUCKET}/data/train.jsonl",
                             "validation_data": VALIDATION, "sweep": {"grid": {"learningRate": RATES}, **sweep}}, bucket=BUCKET)
    plan, estimate = plan_sweep(request, run.execution_name, job_headroom=2,
                                estimate=lambda candidate: (run.cost_estimate, {k: str(v) for k, v in candidate.hyperparameters.items()}))
    return run.model_copy(update={"sweep": plan, "cost_estimate": estimate})


def trained(run, bedrock, store, losses):
    """Each candidate's completed job (its custom model, its validation loss), or its error."""
    entries = []
    for plan, loss in zip(run.sweep.candidates, losses, strict=True):
        if loss is None:
            entries.append({"index": plan.index, "error": {"Error": "JobFailedError", "Cause": '{"errorMessage": "it broke"}'}})
            continue
        model_arn = bedrock._add(ResourceKind.CUSTOM_MODEL, plan.names.custom_model_name, "custom-model", "Active", {})
        job_arn = f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{plan.names.job_name}"
        output = f"{run.output_uri}model-customization-job-{plan.names.job_name}/"
        store.objects[f"{output}step_wise_training_metrics.csv"] = b"step_number,epoch_number,training_loss\n0,0,2.0\n1,1,1.0\n"
        store.objects[f"{output}validation_metrics.csv"] = (
            f"step_number,epoch_number,validation_loss\n0,0,{loss + 1}\n1,1,{loss}\n".encode())
        entries.append({"index": plan.index, "job": {"job_arn": job_arn, "job_name": plan.names.job_name,
                                                     "status": "Completed", "custom_model_arn": model_arn}})
    return entries


def test_by_loss_the_lowest_validation_loss_wins_and_the_losers_models_are_deleted():
    run, bedrock, ledger, store = sweep_run(), FakeBedrock(), FakeLedger(), FakeStore()
    state = StepInput(run=run, trained=trained(run, bedrock, store, [0.9, 0.7, None]))
    document = select_model(state, bedrock=bedrock, ledger=ledger, store=store)
    experiment = document["experiment"]
    assert experiment["selected"]["index"] == 2 and experiment["next"] == "deploy"
    assert experiment["selected"]["reason"] == "the lowest final validation loss, 0.7000; next: candidate 1 at 0.9000"
    results = {r["index"]: r for r in experiment["results"]}
    assert [results[i]["custom_model"] for i in (1, 2)] == ["deleted", "chosen"]
    assert results[3]["status"] == "Failed" and results[3]["failure"] == "it broke"
    assert [call[0] for call in bedrock.calls] == ["delete_custom_model"]
    assert ledger.status(run.execution_name, ResourceKind.CUSTOM_MODEL, run.sweep.candidates[0].names.custom_model_name) == "deleted"
    # The run goes on as the winner: its names, its hyperparameters.
    assert document["run"]["names"] == run.sweep.candidates[1].names.model_dump()
    assert document["run"]["hyperparameters"]["learningRate"] == "1e-05"


def test_keep_candidates_keeps_every_model():
    run, bedrock, ledger, store = sweep_run(keep_candidates=True), FakeBedrock(), FakeLedger(), FakeStore()
    document = select_model(StepInput(run=run, trained=trained(run, bedrock, store, [0.9, 0.7, 0.8])),
                            bedrock=bedrock, ledger=ledger, store=store)
    assert [r["custom_model"] for r in document["experiment"]["results"]] == ["kept", "chosen", "kept"]
    assert bedrock.calls == []


def test_a_sweep_in_which_nothing_completed_names_each_failure():
    run, bedrock, ledger, store = sweep_run(), FakeBedrock(), FakeLedger(), FakeStore()
    with pytest.raises(NoModelTrainedError, match="no candidate completed: candidate 1: it broke; candidate 2: it broke"):
        select_model(StepInput(run=run, trained=trained(run, bedrock, store, [None, None, None])),
                     bedrock=bedrock, ledger=ledger, store=store)


@pytest.mark.parametrize(("max_parallel", "headroom", "bound"), [(3, 2, 2), (2, 5, 2), (3, None, 3), (3, 0, 1)])
def test_the_maps_bound_is_max_parallel_within_the_job_quotas_headroom(max_parallel, headroom, bound):
    request = parse_request({"base_model": "nova-lite", "training_data": f"s3://{BUCKET}/data/train.jsonl", "validation_data": VALIDATION,
                             "sweep": {"grid": {"learningRate": RATES}, "max_parallel": max_parallel}}, bucket=BUCKET)
    run = run_context()
    plan, estimate = plan_sweep(request, "run-1", job_headroom=headroom, estimate=lambda candidate: (run.cost_estimate, {}))
    assert plan.max_parallel == bound and [c.names.job_name for c in plan.candidates] == ["job-run-1-c1", "job-run-1-c2", "job-run-1-c3"]
    trainings = [line for line in estimate.lines if line.item.endswith(": training")]
    assert len(trainings) == 3 and estimate.total_usd == pytest.approx(sum(line.usd for line in estimate.lines))
