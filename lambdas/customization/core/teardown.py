"""Tear Down: delete what the run created, whatever point it reached.

Resource names are derived from the execution name, so Tear Down finds a deployment or job
even when the step that created it crashed before reporting it. "Not found" counts as
already deleted, which makes Tear Down safe to run twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from customization.errors import ResourceNotFoundError
from customization.models.steps import RunFailure, StepInput, TeardownOutcome

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl

ACTIVE_JOB_STATES = {"InProgress"}


def readable_failure(error: dict[str, Any]) -> RunFailure:
    """Step Functions hands a caught Lambda error over as {"Error", "Cause"}, where Cause is
    the Lambda's JSON error document; keep the error name and the message a person reads."""
    name = str(error.get("Error", "UnknownError"))
    cause = str(error.get("Cause", ""))
    try:
        document = json.loads(cause)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("errorMessage"):
        cause = str(document["errorMessage"])
    return RunFailure(error=name, cause=cause or name)


def tear_down(state: StepInput, *, bedrock: BedrockControl) -> TeardownOutcome:
    run = state.run
    outcome = TeardownOutcome(deleted=[], already_gone=[], stopped=[])

    def delete(kind: str, identifier: str, action: Callable[[str], None], *, known: bool) -> None:
        try:
            action(identifier)
        except ResourceNotFoundError:
            if known:
                outcome.already_gone.append({"type": kind, "id": identifier})
            return
        outcome.deleted.append({"type": kind, "id": identifier})

    known_deployment = state.deployment is not None and state.deployment.arn is not None
    if run.deployment.mode == "provisioned":
        delete("provisioned_throughput", run.names.provisioned_model_name,
               bedrock.delete_provisioned_throughput, known=known_deployment)
    elif run.deployment.mode == "on_demand":
        delete("custom_model_deployment", run.names.deployment_name, bedrock.delete_deployment, known=known_deployment)

    try:
        job = bedrock.get_job(run.names.job_name)
    except ResourceNotFoundError:
        job = None
    if job is not None and job.status in ACTIVE_JOB_STATES:
        bedrock.stop_job(run.names.job_name)
        outcome.stopped.append({"type": "customization_job", "id": run.names.job_name})

    if run.teardown.delete_custom_model:
        delete("custom_model", run.names.custom_model_name, bedrock.delete_custom_model,
               known=state.job is not None and state.job.custom_model_arn is not None)

    if state.error:
        outcome.failure = readable_failure(state.error)
    return outcome
