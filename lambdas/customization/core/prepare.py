"""Validate Request: the request and its datasets are checked before anything is spent."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from customization.core.hyperparameters import plan_hyperparameters, resolve_hyperparameters
from customization.core.naming import RunNames
from customization.core.validation import DatasetSource, validate_sources
from customization.errors import DatasetInvalidError, RequestInvalidError
from customization.models.request import CustomizationRequest, split_s3_uri
from customization.models.steps import RunContext, ValidateRequestInput, Waits
from customization.registry import load_registry

if TYPE_CHECKING:
    from customization.adapters.ledger import RunLedger
    from customization.adapters.storage import ObjectStore
    from customization.settings import Settings

TAG_EXECUTION = "bedrock-customize:execution"
TAG_STACK = "bedrock-customize:stack"
TAG_EXPIRES = "bedrock-customize:expires-at"
DATA_ROLES = {"training_data": "training", "validation_data": "validation", "test_data": "test"}


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "request"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_request(raw: dict[str, object], *, bucket: str | None) -> CustomizationRequest:
    try:
        return CustomizationRequest.model_validate(raw, context={"bucket": bucket})
    except ValidationError as exc:
        raise RequestInvalidError(f"invalid request: {describe_validation_error(exc)}") from None


def run_tags(run: RunContext) -> dict[str, str]:
    return {TAG_EXECUTION: run.execution_name, TAG_STACK: run.stack_name}


def s3_source(role: str, uri: str, store: ObjectStore) -> DatasetSource:
    size = store.size(uri)
    if size is None:
        raise DatasetInvalidError(f"{role} data: {uri} does not exist")
    return DatasetSource(role=role, name=uri, lines=lambda: store.iter_lines(uri), size_bytes=size, bucket=split_s3_uri(uri)[0])


def prepare_run(
    event: ValidateRequestInput, settings: Settings, store: ObjectStore, ledger: RunLedger
) -> tuple[RunContext, dict[str, Any]]:
    request = parse_request(event.request, bucket=settings.BUCKET_NAME)
    model = load_registry().resolve(request.base_model)
    customization = model.customization(request.customization_type)
    prefix = f"runs/{event.execution_name}/"
    requested = resolve_hyperparameters(request.hyperparameters, customization.hyperparameters)
    batch_size = int(float(requested["batchSize"])) if "batchSize" in requested else None

    sources = [
        s3_source(DATA_ROLES[field], uri, store)
        for field in DATA_ROLES
        if (uri := getattr(request, field)) is not None
    ]
    reports = validate_sources(model, customization, sources, batch_size=batch_size, media_probe=lru_cache(maxsize=4096)(store.size))
    by_role = {r.role: r for r in reports}
    plan = plan_hyperparameters(
        request.hyperparameters,
        customization,
        training_records=by_role["training"].records,
        has_validation="validation" in by_role,
    )
    report = {
        "valid": all(r.valid for r in reports),
        "base_model": model.model_id,
        "customization_type": request.customization_type,
        "data_format": customization.data_format,
        "token_estimate": f"characters / {customization.limits.chars_per_token:g} (an estimate, not a tokenizer count)",
        "datasets": [r.as_dict() for r in reports],
        "hyperparameters": plan.values,
        "hyperparameter_adjustments": plan.adjustments,
    }
    report_uri = f"s3://{settings.BUCKET_NAME}/{prefix}validation-report.json"
    store.put_json(report_uri, report)
    invalid = [r.describe() for r in reports if not r.valid]
    if invalid:
        raise DatasetInvalidError(" | ".join(invalid) + f" (full report: {report_uri})")

    run = RunContext(
        execution_name=event.execution_name,
        execution_arn=event.execution_arn,
        stack_name=settings.STACK_NAME,
        bucket=settings.BUCKET_NAME,
        prefix=prefix,
        output_uri=f"s3://{settings.BUCKET_NAME}/{prefix}output/",
        base_model_id=model.model_id,
        base_model_invocation_id=model.invocation_id,
        customization_type=request.customization_type,
        data_format=customization.data_format,
        training_data=request.training_data,
        validation_data=request.validation_data,
        test_data=request.test_data,
        hyperparameters=plan.values,
        hyperparameter_adjustments=plan.adjustments,
        names=RunNames.for_execution(event.execution_name),
        deployment=request.deployment,
        evaluation=request.evaluation,
        teardown=request.teardown,
        budget=request.budget,
        wait_seconds=Waits(
            job=request.wait_seconds.job if request.wait_seconds.job is not None else settings.DEFAULT_JOB_WAIT_SECONDS,
            deployment=request.wait_seconds.deployment
            if request.wait_seconds.deployment is not None
            else settings.DEFAULT_DEPLOYMENT_WAIT_SECONDS,
        ),
        timeouts=request.timeouts,
        records={r.role: r.records for r in reports},
        estimated_training_tokens=by_role["training"].estimated_tokens,
    )
    # What the cleanup of an aborted or timed-out run needs, since no state payload reaches it.
    ledger.record_run(
        run.execution_name,
        {"stack": run.stack_name, "delete_custom_model": run.teardown.delete_custom_model, "base_model": run.base_model_id},
    )
    return run, report
