"""Validate Request: the request and its datasets are checked before anything is spent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from customization.core.datasets import DatasetReport, validate_lines
from customization.core.hyperparameters import resolve_hyperparameters
from customization.core.naming import RunNames
from customization.errors import DatasetInvalidError, RequestInvalidError
from customization.models.request import CustomizationRequest
from customization.models.steps import RunContext, ValidateRequestInput, Waits
from customization.registry import load_registry

if TYPE_CHECKING:
    from customization.adapters.storage import ObjectStore
    from customization.settings import Settings

TAG_EXECUTION = "bedrock-customize:execution"
TAG_STACK = "bedrock-customize:stack"


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


def prepare_run(event: ValidateRequestInput, settings: Settings, store: ObjectStore) -> tuple[RunContext, dict[str, object]]:
    request = parse_request(event.request, bucket=settings.BUCKET_NAME)
    model = load_registry().resolve(request.base_model)
    customization = model.customization(request.customization_type)
    prefix = f"runs/{event.execution_name}/"

    datasets = {
        "training_data": request.training_data,
        "validation_data": request.validation_data,
        "test_data": request.test_data,
    }
    reports: dict[str, DatasetReport] = {}
    for field, uri in datasets.items():
        if uri is None:
            continue
        if not store.exists(uri):
            raise DatasetInvalidError(f"{field}: {uri} does not exist")
        reports[field] = validate_lines(store.iter_lines(uri), customization.data_format)

    report = {
        "valid": all(r.valid for r in reports.values()),
        "data_format": customization.data_format,
        "datasets": {
            field: {
                "uri": datasets[field],
                "records": r.records,
                "problem_count": r.problem_count,
                "problems": [{"line": p.line, "rule": p.rule, "message": p.message} for p in r.problems],
            }
            for field, r in reports.items()
        },
    }
    report_uri = f"s3://{settings.BUCKET_NAME}/{prefix}validation-report.json"
    store.put_json(report_uri, report)
    invalid = [r.describe(f"{field} ({datasets[field]})") for field, r in reports.items() if not r.valid]
    if invalid:
        raise DatasetInvalidError(" | ".join(invalid) + f" (report: {report_uri})")

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
        hyperparameters=resolve_hyperparameters(request.hyperparameters, customization.hyperparameters),
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
        records={field: r.records for field, r in reports.items()},
    )
    return run, report
