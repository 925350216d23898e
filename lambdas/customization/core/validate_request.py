"""Validate Request, the first state: the request, the account and every dataset are checked
before anything is spent, the test set is chosen, the hyperparameters and the cost estimate
fixed, and the run's context recorded. A failure here ends the run with nothing created.

`check_datasets` and `plan_run` are shared with `bedrock-customize estimate`, so the CLI
prices a run exactly as this state does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from customization.core.costs import CostEstimate, Workload, enforce_budget, estimate_cost
from customization.core.experiments import plan_stages, plan_sweep
from customization.core.graders import check_references, grader_function, try_grader
from customization.core.hyperparameters import HyperparameterPlan, plan_hyperparameters
from customization.core.preflight import account_preflight, preflight
from customization.core.request_rules import parse_request
from customization.datasets.invocation_logs import check_logs
from customization.datasets.media import MediaLookups
from customization.datasets.report import DatasetReport
from customization.datasets.validator import DatasetSource, batch_size_for, validate_sources
from customization.errors import DatasetInvalidError, RequestInvalidError
from customization.evaluation.test_set import choose_test_set, hold_out_test_set, split_counts
from customization.models.s3 import split_s3_uri
from customization.models.steps import RunContext, ValidateRequestInput, Waits
from customization.registry import BaseModelSpec, CustomizationSpec, load_registry
from customization.vocabulary import DATA_FIELDS, VALIDATION_REPORT, DataRole, RunNames, run_prefix

# The grader's trial must answer well inside this state's own 300 s, or the run is refused.
GRADER_TRIAL_SECONDS = 120

if TYPE_CHECKING:
    from customization.adapters.bedrock import FoundationModels
    from customization.adapters.graders import Graders
    from customization.adapters.ledger import RunLedger
    from customization.adapters.quotas import AccountQuotas
    from customization.adapters.roles import ServiceRoles
    from customization.adapters.storage import ObjectStore
    from customization.models.experiments import StagesPlan, SweepPlan
    from customization.models.request import CustomizationRequest, StageSettings
    from customization.settings import Settings


def check_datasets(
    request: CustomizationRequest, model: BaseModelSpec, sources: list[DatasetSource], *, media: MediaLookups | None
) -> list[DatasetReport]:
    """Every dataset against its model's rules, at the batch size the job will train with (a
    sweep's: the candidate's whose token limit per record is the tightest, as every candidate
    trains on every record)."""
    customization = model.customization(request.customization_type)
    candidates = request.sweep.expand() if request.sweep else [{}]
    sizes = [batch_size_for({**request.hyperparameters, **values}, customization.hyperparameters) for values in candidates]
    batch_size = min(sizes, key=customization.limits.tokens_limit)
    try:
        return validate_sources(model, customization, sources, batch_size=batch_size, media=media)
    finally:
        if media is not None:
            media.close()


def workload(reports: dict[str, DatasetReport], split: dict[str, int], max_samples: int) -> Workload:
    """Tokens the job trains on (after any hold-out) and what the evaluation will send."""
    training = reports[DataRole.TRAINING]
    per_record = training.estimated_tokens / training.records if training.records else 0.0
    test = reports.get(DataRole.TEST)
    test_per_record = test.estimated_tokens / test.records if test and test.records else per_record
    return Workload(
        training_tokens=round(per_record * split["training_records"]),
        test_samples=min(max_samples, split["test_records"]),
        test_tokens_per_sample=test_per_record,
        training_records=split["training_records"],
    )


def estimate_run(
    request: CustomizationRequest, model: BaseModelSpec, reports: dict[str, DatasetReport], counts: dict[str, int]
) -> tuple[CostEstimate, HyperparameterPlan]:
    """The hyperparameters the job will get and what the run will cost, from validated datasets."""
    plan = plan_hyperparameters(
        request.hyperparameters, model.customization(request.customization_type),
        training_records=counts["training_records"], has_validation=DataRole.VALIDATION in reports,
    )
    epochs = plan.values.get("epochCount")
    estimate = estimate_cost(
        request, model, load_registry(), workload(reports, counts, request.evaluation.max_samples),
        epochs=int(float(epochs)) if epochs else 1, hyperparameters=plan.values,
    )
    return estimate, plan


@dataclass(frozen=True)
class RunPlan:
    """What the valid datasets decide before anything is spent."""

    customization: CustomizationSpec
    reports: dict[str, DatasetReport]
    holdout: set[int]
    holdout_reason: str | None
    counts: dict[str, int]
    hyperparameters: HyperparameterPlan
    estimate: CostEstimate


def plan_run(request: CustomizationRequest, model: BaseModelSpec, reports: list[DatasetReport]) -> RunPlan:
    """The test set, the split's record counts, the hyperparameters and the cost estimate."""
    customization = model.customization(request.customization_type)
    by_role = {report.role: report for report in reports}
    holdout, reason = choose_test_set(request, customization, by_role)
    counts = split_counts(request, by_role, holdout)
    estimate, hyperparameters = estimate_run(request, model, by_role, counts)
    return RunPlan(customization, by_role, holdout, reason, counts, hyperparameters, estimate)


def teacher_ids(request: CustomizationRequest) -> tuple[set[str], str]:
    """The names a distillation teacher is logged under (its model id, its profile), and its name."""
    teacher = load_registry().teacher(request.distillation.teacher) if request.distillation else None
    if teacher is None:
        return set(), "none"
    return {teacher.model_id, teacher.bare_id, *teacher.invocation_ids()}, teacher.display_name


def logs_report(request: CustomizationRequest, objects: Iterable[tuple[str, bytes]]) -> DatasetReport:
    """The invocation logs a distillation reads, checked as its training data."""
    assert request.invocation_logs is not None
    ids, name = teacher_ids(request)
    return check_logs(request.invocation_logs, objects, teacher_ids=ids, teacher=name)


def stage_request(request: CustomizationRequest, stage: StageSettings) -> CustomizationRequest:
    """A later stage as a request of its own: its customization, data and hyperparameters."""
    return request.model_copy(update={
        "customization_type": stage.customization_type, "training_data": stage.training_data,
        "validation_data": stage.validation_data, "test_data": None, "hyperparameters": stage.hyperparameters,
        "distillation": None, "invocation_logs": None, "reinforcement": None, "stages": None,
    })


def check_stage_datasets(request: CustomizationRequest, stage: StageSettings, model: BaseModelSpec, store: ObjectStore) -> list[DatasetReport]:
    """A later stage's datasets, against the rules of its own customization."""
    own = stage_request(request, stage)
    sources = [s3_source(role, uri, store) for field, role in DATA_FIELDS.items() if (uri := getattr(own, field)) is not None]
    return check_datasets(own, model, sources, media=MediaLookups(store, concurrency=store.max_concurrency))


@dataclass(frozen=True)
class _StagePlan:
    reports: dict[str, DatasetReport]
    counts: dict[str, int]


def _stage_plan(reports: list[DatasetReport]) -> _StagePlan:
    by_role = {report.role: report for report in reports}
    return _StagePlan(by_role, {"training_records": by_role[DataRole.TRAINING].records, "test_records": 0})


def priced(request: CustomizationRequest, model: BaseModelSpec, plan: RunPlan | _StagePlan) -> tuple[CostEstimate, dict[str, str]]:
    """The estimate and the hyperparameters of one trained model (a candidate, a stage), on the
    datasets already checked."""
    estimate, hyperparameters = estimate_run(request, model, plan.reports, plan.counts)
    return estimate, hyperparameters.values


def plan_experiment(
    request: CustomizationRequest, model: BaseModelSpec, plan: RunPlan, *, execution_name: str, job_headroom: int | None,
    stage_reports: list[list[DatasetReport]], first_training: str,
) -> tuple[SweepPlan | None, StagesPlan | None, CostEstimate]:
    """A sweep's candidates or the stages, with the estimate of them all (the run's own plan's
    estimate for a one-model run). Shared with `bedrock-customize estimate`."""
    if request.sweep is not None:
        sweep, estimate = plan_sweep(request, execution_name, job_headroom=job_headroom,
                                     estimate=lambda candidate: priced(candidate, model, plan))
        return sweep, None, estimate
    if request.stages:
        later = [(*priced(stage_request(request, stage), model, _stage_plan(checked)),
                  model.customization(stage.customization_type).data_format)
                 for stage, checked in zip(request.stages, stage_reports, strict=True)]
        first = (plan.estimate, plan.hyperparameters.values, plan.customization.data_format, first_training)
        stages, estimate = plan_stages(request, execution_name, first, later)
        return None, stages, estimate
    return None, None, plan.estimate


def s3_source(role: str, uri: str, store: ObjectStore) -> DatasetSource:
    size = store.size(uri)
    if size is None:
        raise DatasetInvalidError(f"{role} data: {uri} does not exist")
    return DatasetSource(role=role, name=uri, lines=lambda: store.iter_lines(uri), size_bytes=size, bucket=split_s3_uri(uri)[0])


def _run_context(
    event: ValidateRequestInput, settings: Settings, request: CustomizationRequest, model: BaseModelSpec, plan: RunPlan,
    split: dict[str, Any], grader_arn: str | None, experiment: tuple[SweepPlan | None, StagesPlan | None, CostEstimate],
) -> RunContext:
    """`experiment`: the sweep or the stages and the estimate of them all (plan_experiment)."""
    sweep, stages, estimate = experiment
    prefix = run_prefix(event.execution_name)
    waits = request.wait_seconds
    registry = load_registry()
    geography = registry.geography_of(settings.AWS_REGION)
    teacher = registry.teacher(request.distillation.teacher) if request.distillation else None
    invoked = {spec.display_name: spec.invocation_id_in(geography) for spec in (model, teacher) if spec is not None}
    for name, invocation_id in invoked.items():
        if invocation_id is None:
            raise RequestInvalidError(f"{name} has no inference profile in the {geography} geography of {settings.AWS_REGION}; "
                                      "it cannot be invoked from this stack's region (registry: profile_geographies)")
    return RunContext(
        execution_name=event.execution_name,
        execution_arn=event.execution_arn,
        stack_name=settings.STACK_NAME,
        bucket=settings.BUCKET_NAME,
        prefix=prefix,
        output_uri=f"s3://{settings.BUCKET_NAME}/{prefix}output/",
        base_model_id=model.model_id,
        base_model_invocation_id=invoked[model.display_name],
        customization_type=request.customization_type,
        data_format=plan.customization.data_format,
        training_data=split["training_uri"] or (request.invocation_logs.source if request.invocation_logs else ""),
        validation_data=request.validation_data,
        test_data=split["test_uri"],
        split=split,
        hyperparameters=plan.hyperparameters.values,
        hyperparameter_adjustments=plan.hyperparameters.adjustments,
        teacher_invocation_id=invoked[teacher.display_name] if teacher else None,
        teacher_max_response_length=request.distillation.max_response_length if request.distillation else None,
        reinforcement=request.reinforcement,
        grader_arn=grader_arn,
        invocation_logs=request.invocation_logs,
        model_name=request.model_name,
        names=RunNames.for_execution(event.execution_name),
        deployment=request.deployment,
        evaluation=request.evaluation,
        teardown=request.teardown,
        budget=request.budget,
        wait_seconds=Waits(
            job=waits.job if waits.job is not None else settings.DEFAULT_JOB_WAIT_SECONDS,
            deployment=waits.deployment if waits.deployment is not None else settings.DEFAULT_DEPLOYMENT_WAIT_SECONDS,
        ),
        timeouts=request.timeouts,
        records={**{role: r.records for role, r in plan.reports.items()}, "training": split["training_records"],
                 "test": split["test_records"]},
        estimated_training_tokens=plan.estimate.training_tokens_per_epoch,
        cost_estimate=estimate,
        sweep=sweep,
        stages=stages,
    )


def validate_request(
    event: ValidateRequestInput,
    *,
    settings: Settings,
    store: ObjectStore,
    ledger: RunLedger,
    foundation_models: FoundationModels,
    quotas: AccountQuotas,
    roles: ServiceRoles,
    graders: Graders,
) -> tuple[RunContext, dict[str, Any]]:
    request = parse_request(event.request, bucket=settings.BUCKET_NAME)
    if request.training_data is None and request.invocation_logs is None:  # the state machine prepares raw data first
        raise RequestInvalidError("training_data: none given, and the raw data was not prepared")
    model = load_registry().resolve(request.base_model)
    checked = preflight(model, request.customization_type, region=settings.AWS_REGION, foundation_models=foundation_models)
    account = account_preflight(request, settings=settings, store=store, quotas=quotas, roles=roles)
    checked += account.notes

    report_uri = f"s3://{settings.BUCKET_NAME}/{run_prefix(event.execution_name)}{VALIDATION_REPORT}"
    sources = [s3_source(role, uri, store) for field, role in DATA_FIELDS.items() if (uri := getattr(request, field)) is not None]
    reports = check_datasets(request, model, sources, media=MediaLookups(store, concurrency=store.max_concurrency))
    if request.invocation_logs is not None:  # the logs are the training data
        logs = request.invocation_logs.source
        reports.insert(0, logs_report(request, ((uri, store.read_bytes(uri)) for uri in store.list_keys(logs))))
    stage_reports = [check_stage_datasets(request, stage, model, store) for stage in request.stages or []]
    invalid = [r.describe() for r in reports if not r.valid]
    invalid += [f"stages[{i}] {r.describe()}" for i, checked_stage in enumerate(stage_reports) for r in checked_stage if not r.valid]
    if invalid:
        store.put_json(report_uri, {
            "valid": False, "base_model": model.model_id, "datasets": [r.as_dict() for r in reports],
            "stage_datasets": [[r.as_dict() for r in checked_stage] for checked_stage in stage_reports] or None,
        })
        raise DatasetInvalidError(" | ".join(invalid) + f" (full report: {report_uri})")

    grader_arn, grader_trial = None, None
    if request.reinforcement is not None:  # the grader must be able to score this data, and answer
        grader_arn = grader_function(request.reinforcement, settings)
        for field in ("training_data", "validation_data"):
            if (uri := getattr(request, field)) is not None:
                check_references(request.reinforcement, store.iter_lines(uri), uri)
        grader_trial = try_grader(request.reinforcement, grader_arn, store.iter_lines(request.training_data), graders=graders)

    plan = plan_run(request, model, reports)
    split = hold_out_test_set(
        request, plan.holdout, plan.holdout_reason, plan.counts, store=store,
        data_prefix=f"s3://{settings.BUCKET_NAME}/{run_prefix(event.execution_name)}data/",
    )
    experiment = plan_experiment(
        request, model, plan, execution_name=event.execution_name, job_headroom=account.job_headroom,
        stage_reports=stage_reports, first_training=split["training_uri"] or request.training_data or "",
    )
    sweep, stages, estimate = experiment
    report = {
        "valid": True,
        "split": split,
        "base_model": model.model_id,
        "customization_type": request.customization_type,
        "data_format": plan.customization.data_format,
        "token_estimate": f"characters / {plan.customization.limits.chars_per_token:g} (an estimate, not a tokenizer count)",
        "datasets": [r.as_dict() for r in reports],
        "hyperparameters": plan.hyperparameters.values,
        "hyperparameter_adjustments": plan.hyperparameters.adjustments,
        "preflight": checked,
        "grader_trial": grader_trial,
        "cost_estimate": estimate.model_dump(mode="json"),
        "budget_usd": request.budget.max_usd,
        "sweep": sweep.model_dump(mode="json") if sweep else None,
        "stages": stages.model_dump(mode="json") if stages else None,
        "stage_datasets": [[r.as_dict() for r in checked_stage] for checked_stage in stage_reports] or None,
    }
    store.put_json(report_uri, report)
    enforce_budget(estimate, request.budget.max_usd)

    run = _run_context(event, settings, request, model, plan, split, grader_arn, experiment)
    # What the cleanup of an aborted or timed-out run needs, since no state payload reaches it.
    ledger.record_run(
        run.execution_name,
        {"stack": run.stack_name, "delete_custom_model": run.teardown.delete_custom_model, "base_model": run.base_model_id},
    )
    return run, report
