"""Submit Job and Check Job."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from customization.core.durations import duration
from customization.core.graders import job_data
from customization.core.hyperparameters import typed_values
from customization.errors import JobFailedError, JobStoppedError, JobTimeoutError
from customization.models.resources import JobNetwork, JobRequest
from customization.models.steps import JobState, RunContext
from customization.registry import load_registry
from customization.vocabulary import ResourceKind

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.ledger import RunLedger
    from customization.adapters.storage import ObjectStore
    from customization.models.request import InvocationLogsSettings

JOB, CUSTOM_MODEL = ResourceKind.CUSTOMIZATION_JOB, ResourceKind.CUSTOM_MODEL


def invocation_logs_config(settings: InvocationLogsSettings) -> dict[str, Any]:
    """The request's invocation_logs as Bedrock's invocationLogsConfig (requestMetadataFilters
    is a union: equals, notEquals, andAll or orAll)."""
    config: dict[str, Any] = {"invocationLogSource": {"s3Uri": settings.source}, "usePromptResponse": settings.use_responses}
    rule = settings.metadata
    if rule is not None:
        def base(condition: Any) -> dict[str, Any]:
            return {key: value for key, value in (("equals", condition.equals), ("notEquals", condition.not_equals)) if value}

        if rule.all_of is not None:
            config["requestMetadataFilters"] = {"andAll": [base(c) for c in rule.all_of]}
        elif rule.any_of is not None:
            config["requestMetadataFilters"] = {"orAll": [base(c) for c in rule.any_of]}
        else:
            config["requestMetadataFilters"] = base(rule)
    return config


def submit_job(
    run: RunContext, *, role_arn: str, bedrock: BedrockControl, ledger: RunLedger, store: ObjectStore,
    custom_model_key: str | None = None, network: JobNetwork | None = None,
) -> JobState:
    training_uri, validation_uri = job_data(run, store=store)
    hyperparameters, rft_hyperparameters = run.hyperparameters, None
    if run.reinforcement is not None:  # typed, inside rftConfig
        specs = load_registry().resolve(run.base_model_id).customization(run.customization_type).hyperparameters
        hyperparameters, rft_hyperparameters = {}, typed_values(run.hyperparameters, specs)
    ledger.intend(run.execution_name, JOB, run.names.job_name)
    job_arn = bedrock.create_job(
        JobRequest(
            job_name=run.names.job_name,
            custom_model_name=run.names.custom_model_name,
            role_arn=role_arn,
            base_model_id=run.base_custom_model_arn or run.base_model_id,
            customization_type=run.customization_type,
            hyperparameters=hyperparameters,
            training_uri=training_uri,
            validation_uri=validation_uri,
            output_uri=run.output_uri,
            token=run.names.job_token,
            tags=run.tags(),
            teacher_id=run.teacher_invocation_id,
            teacher_max_response_length=run.teacher_max_response_length,
            grader_arn=run.grader_arn,
            rft_hyperparameters=rft_hyperparameters,
            invocation_logs=invocation_logs_config(run.invocation_logs) if run.invocation_logs else None,
            custom_model_key=custom_model_key,
            network=network,
        )
    )
    ledger.mark(run.execution_name, JOB, run.names.job_name, "created", job_arn)
    return JobState(job_arn=job_arn, job_name=run.names.job_name, status="InProgress")


def check_job(run: RunContext, job: JobState, *, bedrock: BedrockControl, ledger: RunLedger, now: datetime) -> JobState:
    status = bedrock.get_job(job.job_arn)
    if status.status == "Failed":
        raise JobFailedError(
            f"customization job {job.job_name} failed: {status.failure_message or 'Bedrock gave no failureMessage'}"
        )
    if status.status == "Stopped":
        raise JobStoppedError(f"customization job {job.job_name} was stopped before it completed")
    if status.status == "Completed" and status.custom_model_arn:
        ledger.mark(run.execution_name, CUSTOM_MODEL, run.names.custom_model_name, "created", status.custom_model_arn)
    elif status.status == "InProgress" and status.created is not None:
        elapsed = (now - status.created).total_seconds()
        if elapsed > run.timeouts.job_hours * 3600:
            bedrock.stop_job(status.job_arn)
            ledger.mark(run.execution_name, JOB, job.job_name, "stopped", status.job_arn)
            raise JobTimeoutError(
                f"customization job {job.job_name} ran {duration(elapsed)}, past the request's limit of "
                f"{duration(run.timeouts.job_hours * 3600)}; it has been stopped"
            )
    minutes = None
    if status.status == "Completed" and status.created is not None:
        minutes = round((now - status.created).total_seconds() / 60, 2)
    return JobState(
        job_arn=status.job_arn, job_name=job.job_name, status=status.status, custom_model_arn=status.custom_model_arn,
        duration_minutes=minutes,
    )
