"""Deploy Model and Check Deployment: a no-commitment provisioned throughput, or an
on-demand custom model deployment where the request asks and the model supports it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from customization.core.durations import duration
from customization.errors import DeploymentFailedError, DeploymentTimeoutError
from customization.models.steps import DeploymentState, JobState, RunContext
from customization.vocabulary import EXPIRY_FORMAT, NO_DEPLOYMENT, TAG_EXPIRES, ResourceKind

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.ledger import RunLedger
    from customization.models.resources import DeploymentStatus

READY = {ResourceKind.PROVISIONED_THROUGHPUT: "InService", ResourceKind.CUSTOM_MODEL_DEPLOYMENT: "Active"}


def deploy_model(
    run: RunContext, job: JobState, *, bedrock: BedrockControl, ledger: RunLedger, now: datetime
) -> DeploymentState:
    if run.deployment.mode == NO_DEPLOYMENT:
        return DeploymentState(kind=NO_DEPLOYMENT, status="NotRequested")
    if not job.custom_model_arn:
        raise DeploymentFailedError(f"customization job {job.job_name} completed without an output model ARN")
    # The janitor deletes the deployment after this instant, whatever happens to the run.
    tags = {**run.tags(), TAG_EXPIRES: (now + timedelta(hours=run.deployment.max_hours)).strftime(EXPIRY_FORMAT)}
    if run.deployment.mode == "on_demand":
        kind, name = ResourceKind.CUSTOM_MODEL_DEPLOYMENT, run.names.deployment_name
        ledger.intend(run.execution_name, kind, name)
        arn = bedrock.create_deployment(name=name, model_arn=job.custom_model_arn, token=run.names.deployment_token, tags=tags)
    else:
        kind, name = ResourceKind.PROVISIONED_THROUGHPUT, run.names.provisioned_model_name
        ledger.intend(run.execution_name, kind, name)
        arn = bedrock.create_provisioned_throughput(
            name=name, model_arn=job.custom_model_arn, model_units=run.deployment.model_units,
            token=run.names.provisioned_token, tags=tags,
        )
    ledger.mark(run.execution_name, kind, name, "created", arn)
    return DeploymentState(kind=kind, arn=arn, name=name, status="Creating", created_at=now)


def check_deployment(
    run: RunContext, deployment: DeploymentState, *, bedrock: BedrockControl, now: datetime
) -> DeploymentState:
    if deployment.kind == NO_DEPLOYMENT or not deployment.arn:
        return deployment
    status: DeploymentStatus
    if deployment.kind == ResourceKind.PROVISIONED_THROUGHPUT:
        status = bedrock.get_provisioned_throughput(deployment.arn)
    else:
        status = bedrock.get_deployment(deployment.arn)
    label = f"{deployment.kind.replace('_', ' ')} {deployment.name}"
    if status.status == "Failed":
        raise DeploymentFailedError(f"{label} failed: {status.failure_message or 'no reason given'}")
    ready = status.status == READY[deployment.kind]
    if not ready and status.created is not None:
        elapsed = (now - status.created).total_seconds()
        if elapsed > run.timeouts.deployment_ready_minutes * 60:
            raise DeploymentTimeoutError(
                f"{label} was not ready after {duration(elapsed)} (limit {duration(run.timeouts.deployment_ready_minutes * 60)}); "
                "it is deleted by Tear Down"
            )
    created = status.created or deployment.created_at
    return deployment.model_copy(update={"status": status.status, "ready": ready, "created_at": created})
