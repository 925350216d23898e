"""Tear Down and the cleanup of runs that skipped it: delete what the ledger says a run
created, whatever point it reached.

"Not found" counts as already deleted, so every path is safe to run twice. The same function
serves the Tear Down state (with the state payload) and the cleanup that an execution's
ABORTED, TIMED_OUT or FAILED event triggers (with only the execution's name)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from customization.errors import ResourceNotFoundError
from customization.models.steps import RunFailure, StepInput, TeardownOutcome
from customization.vocabulary import SERVING_KINDS, ResourceKind

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.ledger import RunLedger
    from customization.models.resources import LedgerEntry

ACTIVE_JOB_STATES = {"InProgress", "Stopping"}


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


def clean_up_run(
    execution: str, *, delete_custom_model: bool, ledger: RunLedger, bedrock: BedrockControl
) -> TeardownOutcome:
    outcome = TeardownOutcome(deleted=[], already_gone=[], stopped=[], retained=[])
    entries = ledger.entries(execution)
    # Serving resources first: they bill by the hour.
    for entry in sorted(entries, key=lambda e: e.kind not in SERVING_KINDS):
        if not entry.open:
            continue
        if entry.kind in SERVING_KINDS:
            _delete(entry, ledger, bedrock, outcome)
        elif entry.kind == ResourceKind.CUSTOMIZATION_JOB:
            _stop_job(entry, ledger, bedrock, outcome)
        elif entry.kind == ResourceKind.EVALUATION_JOB:
            _stop_evaluation_job(entry, ledger, bedrock, outcome)
        elif entry.kind == ResourceKind.CUSTOM_MODEL:
            if delete_custom_model:
                _delete(entry, ledger, bedrock, outcome)
            else:
                outcome.retained.append({"type": entry.kind, "id": entry.name})
    return outcome


def delete_resource(execution: str, kind: str, name: str, identifier: str, *, ledger: RunLedger, bedrock: BedrockControl) -> bool:
    """Delete one throughput, deployment or custom model of the run and record it in the ledger;
    False when it was already gone. Tear Down and Select Model both delete through here."""
    delete = {
        ResourceKind.PROVISIONED_THROUGHPUT: bedrock.delete_provisioned_throughput,
        ResourceKind.CUSTOM_MODEL_DEPLOYMENT: bedrock.delete_deployment,
        ResourceKind.CUSTOM_MODEL: bedrock.delete_custom_model,
    }[ResourceKind(kind)]
    try:
        delete(identifier)
    except ResourceNotFoundError:
        ledger.mark(execution, kind, name, "gone")
        return False
    ledger.mark(execution, kind, name, "deleted")
    return True


def _delete(entry: LedgerEntry, ledger: RunLedger, bedrock: BedrockControl, outcome: TeardownOutcome) -> None:
    resource = {"type": entry.kind, "id": entry.name}
    if not delete_resource(entry.execution, entry.kind, entry.name, entry.arn or entry.name, ledger=ledger, bedrock=bedrock):
        if entry.status == "created":
            outcome.already_gone.append(resource)
        return
    outcome.deleted.append(resource)
    if entry.kind in SERVING_KINDS and entry.updated_at:  # the entry last changed when the resource was created
        lived = datetime.now(UTC) - datetime.fromisoformat(entry.updated_at)
        outcome.deployment_hours = round(outcome.deployment_hours + lived.total_seconds() / 3600, 4)


def _stop_evaluation_job(entry: LedgerEntry, ledger: RunLedger, bedrock: BedrockControl, outcome: TeardownOutcome) -> None:
    def describe(identifier: str) -> tuple[str, str]:
        job = bedrock.get_evaluation_job(identifier)
        return job.arn, job.status

    _stop_if_running(entry, ledger, outcome, describe=describe, stop=bedrock.stop_evaluation_job)


def _stop_job(entry: LedgerEntry, ledger: RunLedger, bedrock: BedrockControl, outcome: TeardownOutcome) -> None:
    def describe(identifier: str) -> tuple[str, str]:
        job = bedrock.get_job(identifier)
        return job.job_arn, job.status

    _stop_if_running(entry, ledger, outcome, describe=describe, stop=bedrock.stop_job)


def _stop_if_running(
    entry: LedgerEntry, ledger: RunLedger, outcome: TeardownOutcome, *,
    describe: Callable[[str], tuple[str, str]], stop: Callable[[str], None],
) -> None:
    """Stop a job the run started if it still runs; record what became of it either way."""
    try:
        arn, status = describe(entry.arn or entry.name)
    except ResourceNotFoundError:
        ledger.mark(entry.execution, entry.kind, entry.name, "gone")
        return
    if status in ACTIVE_JOB_STATES:
        if status == "InProgress":
            stop(arn)
        ledger.mark(entry.execution, entry.kind, entry.name, "stopped", arn)
        outcome.stopped.append({"type": entry.kind, "id": entry.name})
    else:
        ledger.mark(entry.execution, entry.kind, entry.name, "finished", arn)


def tear_down(state: StepInput, *, ledger: RunLedger, bedrock: BedrockControl) -> TeardownOutcome:
    """The Tear Down state: clean up from the ledger, and turn a caught error into the
    readable failure the final state reports."""
    rejected = state.evaluation is not None and not state.evaluation.promoted
    delete_model = state.run.teardown.delete_custom_model or (rejected and state.run.teardown.delete_rejected_model)
    outcome = clean_up_run(state.run.execution_name, delete_custom_model=delete_model, ledger=ledger, bedrock=bedrock)
    if state.error:
        outcome.failure = readable_failure(state.error)
    return outcome


def clean_up_after(execution_name: str, *, ledger: RunLedger, bedrock: BedrockControl) -> TeardownOutcome | None:
    """For an execution that ended ABORTED, TIMED_OUT or FAILED (possibly without running
    Tear Down): None when the run never got past validation (nothing was recorded)."""
    settings = ledger.run_settings(execution_name)
    if settings is None:
        return None
    return clean_up_run(
        execution_name, delete_custom_model=bool(settings.get("delete_custom_model")), ledger=ledger, bedrock=bedrock
    )
