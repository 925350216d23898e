"""What a request must satisfy for its base model, checked against the registry.

The request model (`models/request.py`) states the shape and ranges; the rules that need the
registry (is the model known, does it take this customization, these hyperparameters, a
validation set, this deployment) and the evaluation's metric table live here, once. Every
entry point calls `parse_request`: Validate Request, the request-file trigger, the CLI and the
stage's schedules at synthesis. Pure: no AWS calls.
"""

from __future__ import annotations

from pydantic import ValidationError

from customization.core.hyperparameters import HyperparameterError, resolve_hyperparameters
from customization.datasets.conversion import ConversionError, check_roles
from customization.errors import RequestInvalidError
from customization.evaluation.metrics import METRICS
from customization.models.request import BUILT_IN_GRADERS, CustomizationRequest, DeploymentSettings
from customization.registry import (
    BaseModelSpec,
    CustomizationSpec,
    Registry,
    UnknownBaseModelError,
    UnsupportedCustomizationError,
    load_registry,
)
from customization.vocabulary import DATA_FIELDS


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "request"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def check_distillation(request: CustomizationRequest, student: BaseModelSpec, registry: Registry) -> tuple[str, str] | None:
    """A DISTILLATION run names a teacher that may teach its student; no other run names one."""
    settings = request.distillation
    if request.customization_type != "DISTILLATION":
        if request.invocation_logs is not None:
            return "invocation_logs", f"only a DISTILLATION run distils from invocation logs, not {request.customization_type}"
        return ("distillation", f"a teacher is only for customization_type DISTILLATION, not {request.customization_type}") \
            if settings else None
    able = registry.teachers_of(student.model_id)
    choices = ", ".join(f"{t.model_id} ({', '.join(t.aliases)})" for t in able) or "none"
    if settings is None:
        return "request", f"customization_type DISTILLATION needs distillation.teacher; for {student.model_id}: {choices}"
    try:
        teacher = registry.teacher(settings.teacher)
    except UnknownBaseModelError as exc:
        return "distillation.teacher", str(exc)
    if teacher.withdrawn:
        return "distillation.teacher", f"{teacher.display_name} no longer teaches: {teacher.withdrawn}"
    if student.model_id not in teacher.students:
        return "distillation.teacher", (
            f"{teacher.display_name} cannot teach {student.model_id}; the teachers that can: {choices}")
    if settings.max_response_length > teacher.max_response_tokens:
        return "distillation.max_response_length", (
            f"{settings.max_response_length} is above {teacher.display_name}'s output limit of {teacher.max_response_tokens} tokens")
    return check_invocation_logs(request)


def check_invocation_logs(request: CustomizationRequest) -> tuple[str, str] | None:
    """Logs replace the prompts file of a distillation, and cannot be split for a test set."""
    if request.invocation_logs is None:
        return None
    if request.training_data is not None or request.prepare is not None:
        return "request", "invocation_logs: give the logs or a prompts file (training_data, prepare), not both"
    if request.test_data is None and request.deployment.mode != "none":
        return "request", ("invocation_logs: give test_data too (logs are not split for a held-out test set), "
                           "or deployment.mode 'none' to skip the evaluation")
    return None


def check_reinforcement(request: CustomizationRequest, registry: Registry) -> tuple[str, str] | None:
    """A REINFORCEMENT_FINE_TUNING run names its grader; no other run names one. An LLM judge
    is one of the registry's (the built-in grader's role may invoke only those)."""
    settings = request.reinforcement
    if request.customization_type != "REINFORCEMENT_FINE_TUNING":
        return ("reinforcement", f"a grader is only for customization_type REINFORCEMENT_FINE_TUNING, not "
                f"{request.customization_type}") if settings else None
    if settings is None:
        return "request", ("customization_type REINFORCEMENT_FINE_TUNING needs reinforcement.grader: a built-in kind "
                           f"({', '.join(BUILT_IN_GRADERS)}) or kind lambda with your function_arn")
    if settings.grader.kind == "llm_judge":
        try:
            registry.judge(settings.grader.judge)
        except UnknownBaseModelError as exc:
            return "reinforcement.grader.judge", str(exc)
    return None


def _values(hyperparameters: dict[str, object]) -> str:
    return ", ".join(f"{name}={value}" for name, value in hyperparameters.items())


def check_sweep(request: CustomizationRequest, customization: CustomizationSpec) -> tuple[str, str] | None:
    """Every candidate's hyperparameters fit the model; the choice can be measured."""
    sweep = request.sweep
    if sweep is None:
        return None
    if request.stages:
        return "request", "sweep and stages: a run is a sweep or a multi-stage run, not both"
    for index, values in enumerate(sweep.expand(), 1):
        try:
            resolve_hyperparameters({**request.hyperparameters, **values}, customization.hyperparameters)
        except HyperparameterError as exc:
            return "sweep", f"candidate {index} ({_values(values)}): {exc}"
    if sweep.select_by == "validation_loss":
        if customization.limits.validation_records is None:
            return "sweep.select_by", (f"validation_loss: {request.customization_type} takes no validation set, so there is no "
                                       "validation loss to compare; use select_by primary_metric")
        has_validation = request.validation_data or (request.prepare is not None and request.prepare.validation_fraction > 0)
        if not has_validation:
            return "sweep.select_by", ("validation_loss compares the candidates' validation loss: give validation_data "
                                       "(or prepare.validation_fraction), or use select_by primary_metric")
    elif request.deployment.mode == "none":
        return "sweep.select_by", "primary_metric evaluates every candidate; deployment.mode 'none' evaluates nothing"
    return None


def check_stages(request: CustomizationRequest, spec: BaseModelSpec) -> tuple[str, str] | None:
    """Each stage customizes the previous stage's custom model, where the guide says the model
    can be customized again (the registry's continues_from, with its source)."""
    if not request.stages:
        return ("evaluate_stages", "is for a run with stages") if request.evaluate_stages else None
    if request.prepare is not None:
        return "request", "stages: name each stage's prepared data (prepare converts one dataset for a one-stage run)"
    if request.test_data is None and request.deployment.mode != "none":
        return "request", ("stages: give test_data (records of the last stage's task): the evaluation compares the last "
                           "stage's model with the base model")
    if request.evaluate_stages and request.deployment.mode == "none":
        return "evaluate_stages", "deployment.mode 'none' evaluates nothing"
    previous = request.customization_type
    for index, stage in enumerate(request.stages):
        where = f"stages[{index}]"
        try:
            customization = spec.customization(stage.customization_type)
        except UnsupportedCustomizationError as exc:
            return f"{where}.customization_type", str(exc)
        if previous not in customization.continues_from:
            allowed = ", ".join(customization.continues_from)
            read = spec.sources.get("ids_regions_types", "the model's customization page")
            rule = (f"the guide allows it only from {allowed} ({customization.continues_source})" if allowed else
                    f"Bedrock customizes it only from the foundation model: the registry records no guide statement that "
                    f"{stage.customization_type} may start from a custom model of {spec.display_name} (read: {read})")
            return f"{where}.customization_type", (
                f"{spec.display_name}'s {stage.customization_type} cannot start from the {previous} model of the stage before: {rule}")
        if stage.validation_data and customization.limits.validation_records is None:
            return f"{where}.validation_data", f"{spec.display_name} takes no validation set for {stage.customization_type}"
        try:
            resolve_hyperparameters(stage.hyperparameters, customization.hyperparameters)
        except HyperparameterError as exc:
            return f"{where}.hyperparameters", str(exc)
        previous = stage.customization_type
    return None


def request_problem(request: CustomizationRequest, registry: Registry) -> tuple[str, str] | None:
    """The first rule the request breaks for its base model, as (field, message); None when it
    fits. The field is "request" where a rule relates two fields."""
    try:
        spec = registry.resolve(request.base_model)
    except UnknownBaseModelError as exc:
        return "base_model", str(exc)
    try:
        customization = spec.customization(request.customization_type)
    except UnsupportedCustomizationError as exc:
        return "request", f"customization_type: {exc}"
    try:
        resolve_hyperparameters(request.hyperparameters, customization.hyperparameters)
    except HyperparameterError as exc:
        return "request", str(exc)
    problem = (check_distillation(request, spec, registry) or check_reinforcement(request, registry)
               or check_sweep(request, customization) or check_stages(request, spec))
    if problem:
        return problem
    if request.validation_data and customization.limits.validation_records is None:
        return "request", f"validation_data: {spec.display_name} takes no validation set for {request.customization_type}"
    early = sorted(name for name in request.hyperparameters if name.startswith("earlyStopping"))
    if early and not request.validation_data:
        return "request", f"hyperparameters.{early[0]}: early stopping needs validation_data (it watches validation loss)"
    if request.prepare is not None:
        given = [name for name in DATA_FIELDS if getattr(request, name)]
        if given:
            return "request", f"prepare: {given[0]} is what prepare makes; give the raw data or the dataset, not both"
        if request.prepare.source.lower().endswith(".parquet"):  # the Lambda asset has no Parquet reader
            return "prepare.source", ("Parquet is read by `bedrock-customize prepare` on your machine, not in the "
                                      "pipeline; prepare it there and name the prepared files, or give CSV or JSON Lines")
        try:
            if request.prepare.map:  # without one, the shapes are recognised
                check_roles(dict(request.prepare.map))
        except ConversionError as exc:
            return "prepare.map", str(exc).removeprefix("--map: ")
    if request.model_name and request.teardown.delete_custom_model:
        return "request", ("teardown.delete_custom_model: a run with model_name keeps its promoted custom model as a "
                           "version; use teardown.delete_rejected_model to delete the ones the gate rejects")
    if request.model_name and request.deployment.mode == "none":
        return "request", "model_name: a version is kept only once the evaluation promotes it; deployment.mode 'none' evaluates nothing"
    evaluation = request.evaluation
    if evaluation.bedrock_evaluation_job and request.deployment.mode not in (None, "provisioned"):
        return "request", (
            "evaluation.bedrock_evaluation_job: Bedrock evaluation jobs take a provisioned throughput, "
            "not an on-demand deployment; set deployment.mode to 'provisioned'"
        )
    if request.deployment.mode == "on_demand" and not spec.on_demand_deployment:
        return "request", f"deployment.mode: {spec.model_id} does not support on-demand deployment; use 'provisioned' or 'none'"
    metric = METRICS.get(evaluation.primary_metric)
    if metric is None:
        return "evaluation.primary_metric", f"{evaluation.primary_metric!r} is not a metric; known: {', '.join(METRICS)}"
    if metric.needs == "reinforcement" and request.reinforcement is None:
        return "request", f"evaluation.primary_metric: {metric.name} is only measured in a REINFORCEMENT_FINE_TUNING run"
    if metric.needs and metric.needs != "reinforcement" and not getattr(evaluation, metric.needs):
        return "request", f"evaluation.primary_metric: {metric.name} is only measured with evaluation.{metric.needs} set"
    if evaluation.judge is not None:
        try:
            registry.judge(evaluation.judge.model)
        except UnknownBaseModelError as exc:
            return "evaluation.judge.model", str(exc)
        grader = request.reinforcement.grader if request.reinforcement else None
        if grader is not None and grader.kind == "llm_judge" and registry.judge(grader.judge) != registry.judge(evaluation.judge.model):
            return "request", "evaluation.judge.model: use the reinforcement grader's judge, so one judge's rates price both"
    if evaluation.embedding_model not in registry.embedding_models:
        return "evaluation.embedding_model", (
            f"{evaluation.embedding_model!r} is not an embedding model the stack may invoke; "
            f"known: {', '.join(registry.embedding_models)}"
        )
    return None


def parse_request(raw: dict[str, object], *, bucket: str | None, registry: Registry | None = None) -> CustomizationRequest:
    """The request's shape, then its rules for the base model; RequestInvalidError names the
    field and the rule."""
    registry = registry or load_registry()
    try:
        request = CustomizationRequest.model_validate(raw, context={"bucket": bucket})
    except ValidationError as exc:
        problems = describe_validation_error(exc)
        model = raw.get("base_model")
        if isinstance(model, str) and model and not problems.startswith("base_model:"):
            try:  # an unknown model is named along with the shape's problems, first, as its field comes first
                registry.resolve(model)
            except UnknownBaseModelError as unknown:
                problems = f"base_model: {unknown}; {problems}"
        raise RequestInvalidError(f"invalid request: {problems}") from None
    problem = request_problem(request, registry)
    if problem is not None:
        field, message = problem
        raise RequestInvalidError(f"invalid request: {field}: {message}")
    if request.deployment.mode is None:
        request = request.model_copy(update={"deployment": cost_safe_deployment(request, registry)})
    sweep = request.sweep
    if sweep and sweep.select_by == "primary_metric" and request.deployment.mode == "provisioned" and not sweep.accept_provisioned_cost:
        raise RequestInvalidError(
            "invalid request: sweep.select_by: primary_metric deploys every candidate, and here each takes a provisioned "
            "throughput (billed per model-unit hour, one at a time); set sweep.accept_provisioned_cost to accept that cost "
            "(`bedrock-customize estimate` prices it), or select by validation_loss, which deploys only the winner")
    if request.reinforcement is not None and "primary_metric" not in request.evaluation.model_fields_set:
        # A reinforcement run is judged by what it was trained to raise, unless the request says otherwise.
        request = request.model_copy(update={"evaluation": request.evaluation.model_copy(update={"primary_metric": "reward"})})
    return request


def cost_safe_deployment(request: CustomizationRequest, registry: Registry) -> DeploymentSettings:
    """A request that does not choose deployment.mode gets the cheapest its model offers for the
    evaluation: on demand (billed per token) where it can, else a no-commitment provisioned
    throughput (billed per hour, deleted after the evaluation)."""
    spec = registry.resolve(request.base_model)
    if request.evaluation.bedrock_evaluation_job:
        return request.deployment.chosen("provisioned", (
            "deployment.mode was not given: provisioned, as Bedrock's evaluation job (evaluation.bedrock_evaluation_job) "
            "takes a provisioned throughput"))
    if spec.on_demand_deployment:
        return request.deployment.chosen("on_demand", (
            f"deployment.mode was not given: on_demand, the cheapest {spec.display_name} offers for the evaluation "
            "(billed per token, no hourly charge)"))
    return request.deployment.chosen("provisioned", (
        f"deployment.mode was not given: provisioned, as {spec.display_name} has no on-demand deployment "
        "(billed per model-unit hour until Tear Down deletes it)"))
