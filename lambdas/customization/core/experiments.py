"""Runs that train several models: planning a sweep's candidates and a multi-stage run's stages
(in Validate Request, before anything is spent), then, as they train, Next Stage and Select
Model.

Select Model is the one place a winner is chosen. After a sweep by validation loss it picks
the lowest final validation loss and the winner alone is deployed and evaluated. After a
sweep by metric (or a multi-stage run asked to evaluate each stage) it is entered again after
each model's evaluation: it deletes that model's deployment, so one exists at a time, and
hands the next model over, until all are evaluated. The custom models of the candidates not
chosen are deleted unless the request keeps them; every model is in the ledger, so Tear Down
and the cleanup of an aborted run cover them all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from customization.core.costs import CostPart, combine_estimates, training_usd
from customization.core.teardown import delete_resource, readable_failure
from customization.errors import NoModelTrainedError
from customization.evaluation.contracts import EvaluationReport
from customization.evaluation.page import render_report
from customization.evaluation.report import report_pictures, training_analysis, with_experiment
from customization.models.experiments import (
    ExperimentState,
    Selection,
    StagesPlan,
    SweepPlan,
    TrainedModelPlan,
    TrainedModelResult,
)
from customization.models.steps import EvaluationSummary, JobState, RunContext, StepInput
from customization.vocabulary import REPORT_HTML, REPORT_JSON, ResourceKind, RunNames

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.ledger import RunLedger
    from customization.adapters.storage import ObjectStore
    from customization.models.costs import CostEstimate
    from customization.models.request import CustomizationRequest

CURVE_POINTS = 60  # a training curve is thinned to this many points for the state and the page
Estimator = Callable[["CustomizationRequest"], tuple["CostEstimate", dict[str, str]]]


# -- planning, in Validate Request ------------------------------------------------------------

def plan_sweep(
    request: CustomizationRequest, execution_name: str, *, estimate: Estimator, job_headroom: int | None,
) -> tuple[SweepPlan, CostEstimate]:
    """Every candidate's hyperparameters and estimate; the sweep's estimate counts each
    candidate's training, and the serving of one (by loss) or of each (by metric)."""
    sweep = request.sweep
    assert sweep is not None
    each_served = sweep.select_by == "primary_metric"
    candidates: list[TrainedModelPlan] = []
    parts: list[CostPart] = []
    for index, values in enumerate(sweep.expand(), 1):
        cost, hyperparameters = estimate(request.model_copy(update={"hyperparameters": {**request.hyperparameters, **values}}))
        label = f"candidate {index}"
        parts.append((label, cost, "both" if each_served else "training"))
        candidates.append(TrainedModelPlan(
            index=index, label=label, hyperparameters=hyperparameters, estimated_usd=training_usd(cost),
            names=RunNames.for_execution(f"{execution_name}-c{index}"),
        ))
    if not each_served:  # the winner's deployment and evaluation, whichever wins (they cost the same)
        parts.append(("the winner's evaluation", parts[0][1], "serving"))
    parallel = sweep.max_parallel if job_headroom is None else max(1, min(sweep.max_parallel, job_headroom))
    served = "each candidate's deployment and evaluation" if each_served else "the winner's deployment and evaluation (one)"
    combined = combine_estimates(parts, note=f"a sweep of {len(candidates)} candidates: each one's training, and {served}")
    plan = SweepPlan(select_by=sweep.select_by, max_parallel=parallel, requested_parallel=sweep.max_parallel,
                     job_headroom=job_headroom, keep_candidates=sweep.keep_candidates, candidates=candidates)
    return plan, combined


def plan_stages(
    request: CustomizationRequest, execution_name: str, first: tuple[CostEstimate, dict[str, str], str, str],
    later: list[tuple[CostEstimate, dict[str, str], str]],
) -> tuple[StagesPlan, CostEstimate]:
    """The stages in order (the request's own first) and one estimate: every stage's training,
    and the evaluation of the last stage (of each stage, when evaluate_stages)."""
    assert request.stages is not None
    first_cost, first_hyperparameters, first_format, first_training = first
    stages = [TrainedModelPlan(
        index=1, label=f"stage 1 ({request.customization_type})", hyperparameters=first_hyperparameters,
        names=RunNames.for_execution(execution_name), estimated_usd=training_usd(first_cost),
        customization_type=request.customization_type, data_format=first_format, training_data=first_training,
        validation_data=request.validation_data,
    )]
    parts: list[CostPart] = [(stages[0].label, first_cost, "training")]
    for index, (stage, (cost, hyperparameters, data_format)) in enumerate(zip(request.stages, later, strict=True), 2):
        label = f"stage {index} ({stage.customization_type})"
        stages.append(TrainedModelPlan(
            index=index, label=label, hyperparameters=hyperparameters, estimated_usd=training_usd(cost),
            names=RunNames.for_execution(f"{execution_name}-s{index}"), customization_type=stage.customization_type,
            data_format=data_format, training_data=stage.training_data, validation_data=stage.validation_data,
        ))
        parts.append((label, cost, "training"))
    evaluated = range(1, len(stages) + 1) if request.evaluate_stages else [len(stages)]
    parts += [(f"evaluation of stage {index}", first_cost, "serving") for index in evaluated]
    combined = combine_estimates(parts, note=f"{len(stages)} stages, each trained in turn on the one before; "
                                 f"{len(evaluated)} evaluated against the base model")
    return StagesPlan(stages=stages, evaluate_stages=request.evaluate_stages), combined


# -- what a trained model left ----------------------------------------------------------------

def _thinned(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    step = max(1, -(-len(points) // CURVE_POINTS))
    kept = points[::step]
    return kept if not points or kept[-1] == points[-1] else [*kept, points[-1]]


def trained_result(run: RunContext, plan: TrainedModelPlan, job: JobState, store: ObjectStore) -> TrainedModelResult:
    """A completed job's model with its losses, read as the report reads them."""
    training = training_analysis(run, job, store)
    return TrainedModelResult(
        index=plan.index, label=plan.label, hyperparameters=plan.hyperparameters, status=job.status, job_arn=job.job_arn,
        custom_model_arn=job.custom_model_arn, estimated_usd=plan.estimated_usd,
        final_training_loss=training.final_training_loss, final_validation_loss=training.final_validation_loss,
        training_curve=_thinned(training.training_curve or []), validation_curve=training.validation_curve or [],
    )


def _candidate_results(run: RunContext, trained: list[dict[str, Any]], store: ObjectStore) -> list[TrainedModelResult]:
    """What each iteration of Train Candidates ended with: a completed job, or the error that ended it."""
    assert run.sweep is not None
    by_index = {int(entry["index"]): entry for entry in trained}
    results = []
    for plan in run.sweep.candidates:
        entry = by_index.get(plan.index, {})
        if entry.get("job"):
            results.append(trained_result(run.for_model(plan), plan, JobState.model_validate(entry["job"]), store))
        else:
            failure = readable_failure(entry["error"]) if entry.get("error") else None
            results.append(TrainedModelResult(
                index=plan.index, label=plan.label, hyperparameters=plan.hyperparameters, estimated_usd=plan.estimated_usd,
                status="Stopped" if failure and failure.error == "JobStoppedError" else "Failed",
                failure=failure.cause if failure else "the candidate's iteration recorded nothing",
            ))
    return results


# -- Next Stage ---------------------------------------------------------------------------------

def next_stage(state: StepInput, *, store: ObjectStore) -> dict[str, Any]:
    """Record the stage just trained; start the next one from its custom model, or go on to
    the evaluation of the last (or of each, when evaluate_stages)."""
    run, job = state.run, state.require_job()
    assert run.stages is not None
    plans = run.stages.stages
    experiment = state.experiment or ExperimentState(kind="stages", select_by="last_stage", results=[])
    done = plans[len(experiment.results)]
    experiment.results.append(trained_result(run, done, job, store))
    if len(experiment.results) < len(plans):
        following = plans[len(experiment.results)]
        experiment.next = "train"
        started_from = run.for_model(following).model_copy(update={"base_custom_model_arn": job.custom_model_arn})
        return {"run": started_from.model_dump(mode="json"), "experiment": experiment.model_dump(mode="json", exclude_none=True)}
    if run.stages.evaluate_stages:
        experiment.next = "select"
    else:
        experiment.next, experiment.done = "deploy", True
        experiment.selected = Selection(index=done.index, label=done.label, reason=LAST_STAGE_REASON)
        experiment.results[-1].custom_model = "chosen"
    return {"run": run.model_dump(mode="json"), "job": job.model_dump(mode="json"), "experiment": experiment.model_dump(mode="json", exclude_none=True)}


LAST_STAGE_REASON = "the last stage's model is the run's model (each stage customizes the one before)"


# -- Select Model -------------------------------------------------------------------------------

def _evaluates_each(run: RunContext) -> bool:
    return bool(run.sweep and run.sweep.select_by == "primary_metric") or bool(run.stages and run.stages.evaluate_stages)


def _plans(run: RunContext) -> list[TrainedModelPlan]:
    return run.sweep.candidates if run.sweep else run.stages.stages if run.stages else []


def _release(state: StepInput, *, bedrock: BedrockControl, ledger: RunLedger) -> None:
    """Delete the deployment the last model was evaluated on, before the next one's exists."""
    deployment = state.deployment
    if deployment is None or deployment.arn is None or deployment.kind == "none":
        return
    delete_resource(state.run.execution_name, deployment.kind, deployment.name or deployment.arn, deployment.arn,
                    ledger=ledger, bedrock=bedrock)


def _choose(experiment: ExperimentState, completed: list[TrainedModelResult], primary: str) -> tuple[TrainedModelResult, str]:
    if experiment.select_by == "last_stage":
        return completed[-1], LAST_STAGE_REASON
    if experiment.select_by == "primary_metric":
        ranked = sorted((r for r in completed if r.metric is not None),
                        key=lambda r: (-(r.metric or 0.0), r.final_validation_loss if r.final_validation_loss is not None else 1e9))
        if ranked:
            best = ranked[0]
            runner = f"; next: {ranked[1].label} at {ranked[1].metric:.4f}" if len(ranked) > 1 else ""
            return best, f"the highest {primary} of the custom model on the test set, {best.metric:.4f}{runner}"
    measured = "final_validation_loss" if any(r.final_validation_loss is not None for r in completed) else "final_training_loss"
    ranked = sorted((r for r in completed if getattr(r, measured) is not None), key=lambda r: getattr(r, measured))
    if not ranked:
        return completed[0], "no candidate reported a loss, so the first completed one is kept"
    best, words = ranked[0], measured.replace("_", " ")
    runner = f"; next: {ranked[1].label} at {getattr(ranked[1], measured):.4f}" if len(ranked) > 1 else ""
    fallback = "" if measured == "final_validation_loss" else " (no candidate reported a validation loss)"
    return best, f"the lowest {words}{fallback}, {getattr(best, measured):.4f}{runner}"


def select_model(state: StepInput, *, bedrock: BedrockControl, ledger: RunLedger, store: ObjectStore) -> dict[str, Any]:
    run = state.run
    experiment = state.experiment
    if experiment is None:  # straight from Train Candidates
        assert run.sweep is not None
        experiment = ExperimentState(kind="sweep", select_by=run.sweep.select_by,
                                     results=_candidate_results(run, state.trained or [], store))
    plans = {plan.index: plan for plan in _plans(run)}
    if experiment.evaluating is not None:  # back from the evaluation of one model
        _release(state, bedrock=bedrock, ledger=ledger)
        evaluated = next(r for r in experiment.results if r.index == experiment.evaluating)
        if state.evaluation is not None:
            evaluated.metric = (state.evaluation.custom or {}).get(state.evaluation.primary_metric)
            evaluated.ci95 = state.evaluation.ci95
            evaluated.report_uri = state.evaluation.report_uri
            evaluated.evaluation = state.evaluation.model_dump(mode="json")
        experiment.evaluating = None
    completed = [r for r in experiment.results if r.status == "Completed"]
    if not completed:
        raise NoModelTrainedError("no candidate completed: " + "; ".join(f"{r.label}: {r.failure}" for r in experiment.results))
    if _evaluates_each(run):
        pending = [r for r in completed if r.report_uri is None]
        if pending:
            following = pending[0]
            experiment.evaluating, experiment.next = following.index, "deploy"
            evaluated_run = run.for_model(plans[following.index], own_prefix=True)
            return {"run": evaluated_run.model_dump(mode="json"), "job": _job_of(following, plans[following.index]),
                    "experiment": experiment.model_dump(mode="json", exclude_none=True)}
    winner, reason = _choose(experiment, completed, run.evaluation.primary_metric)
    keep = experiment.kind == "stages" or (run.sweep is not None and run.sweep.keep_candidates)
    for result in completed:
        if result is winner:
            result.custom_model = "chosen"
        elif keep:
            result.custom_model = "kept"
        else:
            _delete_model(run, plans[result.index], result, bedrock=bedrock, ledger=ledger)
    experiment.selected = Selection(index=winner.index, label=winner.label, reason=reason)
    experiment.done = True
    chosen_run = run.for_model(plans[winner.index])
    document: dict[str, Any] = {"job": _job_of(winner, plans[winner.index])}
    if winner.evaluation is not None:  # already evaluated: its report becomes the run's
        experiment.next = "register"
        document["evaluation"] = _publish_report(chosen_run, winner, experiment, store).model_dump(mode="json")
    else:
        experiment.next = "deploy"
    document["experiment"] = experiment.model_dump(mode="json", exclude_none=True)
    document["run"] = chosen_run.model_dump(mode="json")
    return document


def _job_of(result: TrainedModelResult, plan: TrainedModelPlan) -> dict[str, Any]:
    return JobState(job_arn=result.job_arn or "", job_name=plan.names.job_name, status=result.status,
                    custom_model_arn=result.custom_model_arn).model_dump(mode="json")


def _delete_model(run: RunContext, plan: TrainedModelPlan, result: TrainedModelResult, *,
                  bedrock: BedrockControl, ledger: RunLedger) -> None:
    delete_resource(run.execution_name, ResourceKind.CUSTOM_MODEL, plan.names.custom_model_name,
                    result.custom_model_arn or plan.names.custom_model_name, ledger=ledger, bedrock=bedrock)
    result.custom_model = "deleted"


def _publish_report(run: RunContext, winner: TrainedModelResult, experiment: ExperimentState, store: ObjectStore) -> EvaluationSummary:
    """The winner's report, with every model beside it, as the run's own report.json and page."""
    assert winner.evaluation is not None and winner.report_uri is not None
    report = with_experiment(EvaluationReport.model_validate(json.loads(store.read_text(winner.report_uri))), experiment)
    report_uri, html_uri = run.uri(REPORT_JSON), run.uri(REPORT_HTML)
    store.put_json(report_uri, report.model_dump(mode="json"))
    store.put_bytes(html_uri, render_report(report, report_pictures(report.samples, store)).encode(), "text/html; charset=utf-8")
    summary = EvaluationSummary.model_validate(winner.evaluation)
    return summary.model_copy(update={"report_uri": report_uri, "report_html_uri": html_uri})
