"""Deploy Model and Check Deployment: a no-commitment provisioned throughput, or an
on-demand custom model deployment where the request asks and the model supports it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from customization.core.prepare import run_tags
from customization.errors import DeploymentFailedError
from customization.models.steps import DeploymentState, JobState, RunContext

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl, DeploymentStatus

READY = {"provisioned_throughput": "InService", "custom_model_deployment": "Active"}


def deploy_model(run: RunContext, job: JobState, *, bedrock: BedrockControl) -> DeploymentState:
    if run.deployment.mode == "none":
        return DeploymentState(kind="none", status="NotRequested")
    if not job.custom_model_arn:
        raise DeploymentFailedError(f"customization job {job.job_name} completed without an output model ARN")
    if run.deployment.mode == "on_demand":
        arn = bedrock.create_deployment(
            name=run.names.deployment_name,
            model_arn=job.custom_model_arn,
            token=run.names.deployment_token,
            tags=run_tags(run),
        )
        return DeploymentState(kind="custom_model_deployment", arn=arn, name=run.names.deployment_name, status="Creating")
    arn = bedrock.create_provisioned_throughput(
        name=run.names.provisioned_model_name,
        model_arn=job.custom_model_arn,
        model_units=run.deployment.model_units,
        token=run.names.provisioned_token,
        tags=run_tags(run),
    )
    return DeploymentState(kind="provisioned_throughput", arn=arn, name=run.names.provisioned_model_name, status="Creating")


def check_deployment(deployment: DeploymentState, *, bedrock: BedrockControl) -> DeploymentState:
    if deployment.kind == "none" or not deployment.arn:
        return deployment
    status: DeploymentStatus
    if deployment.kind == "provisioned_throughput":
        status = bedrock.get_provisioned_throughput(deployment.arn)
    else:
        status = bedrock.get_deployment(deployment.arn)
    if status.status == "Failed":
        raise DeploymentFailedError(
            f"{deployment.kind.replace('_', ' ')} {deployment.name} failed: {status.failure_message or 'no reason given'}"
        )
    return deployment.model_copy(update={"status": status.status, "ready": status.status == READY[deployment.kind]})
