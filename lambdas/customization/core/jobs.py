"""Submit Job and Check Job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from customization.adapters.bedrock import JobRequest
from customization.core.prepare import run_tags
from customization.errors import JobFailedError, JobStoppedError
from customization.models.steps import JobState, RunContext

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl


def submit_job(run: RunContext, *, role_arn: str, bedrock: BedrockControl) -> JobState:
    job_arn = bedrock.create_job(
        JobRequest(
            job_name=run.names.job_name,
            custom_model_name=run.names.custom_model_name,
            role_arn=role_arn,
            base_model_id=run.base_model_id,
            customization_type=run.customization_type,
            hyperparameters=run.hyperparameters,
            training_uri=run.training_data,
            validation_uri=run.validation_data,
            output_uri=run.output_uri,
            token=run.names.job_token,
            tags=run_tags(run),
        )
    )
    return JobState(job_arn=job_arn, job_name=run.names.job_name, status="InProgress")


def check_job(job: JobState, *, bedrock: BedrockControl) -> JobState:
    status = bedrock.get_job(job.job_arn)
    if status.status == "Failed":
        raise JobFailedError(
            f"customization job {job.job_name} failed: {status.failure_message or 'Bedrock gave no failureMessage'}"
        )
    if status.status == "Stopped":
        raise JobStoppedError(f"customization job {job.job_name} was stopped before it completed")
    return JobState(
        job_arn=status.job_arn, job_name=job.job_name, status=status.status, custom_model_arn=status.custom_model_arn
    )
