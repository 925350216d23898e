"""Notices when a run ends: promoted or not and the metric delta with the report's location,
or the failed state and the cause."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from customization.vocabulary import TAG_EXECUTION, TAG_STACK

if TYPE_CHECKING:
    from customization.adapters.executions import Executions
    from customization.adapters.notifier import Notifier


def run_notice(name: str, status: str, description: dict[str, Any], failed_state: str | None) -> tuple[str, str]:
    if status == "SUCCEEDED":
        output = json.loads(description.get("output") or "{}")
        evaluation = output.get("evaluation") or {}
        estimate = (output.get("run") or {}).get("cost_estimate") or {}
        total = estimate.get("total_usd")
        cost = f"Estimated cost before the run: ${total:,.2f} (list prices).\n" if total is not None else ""
        if not evaluation:
            return f"Run {name} succeeded", f"{name} succeeded without an evaluation (no deployment was requested).\n{cost}"
        decision = "PROMOTED" if evaluation.get("promoted") else "NOT PROMOTED"
        return (
            f"Run {name} succeeded: {decision}",
            f"{name} succeeded.\n\n{decision}: {evaluation.get('why')}\n{evaluation.get('verdict')}\n"
            f"Report: {evaluation.get('report_html_uri')}\n{cost}",
        )
    cause = description.get("cause") or "(no cause recorded: the execution was stopped or timed out)"
    where = f" in {failed_state}" if failed_state else ""
    return (
        f"Run {name} {status}",
        f"{name} ended {status}{where}.\n\n{description.get('error', status)}: {cause}\n\n"
        "Cleanup from the run ledger follows automatically; see the runbook in the README.",
    )


def notify_run_end(execution_arn: str, name: str, status: str, *, executions: Executions, notifier: Notifier) -> str:
    description = executions.describe(execution_arn)
    failed_state = executions.failed_state(execution_arn) if status == "FAILED" else None
    subject, message = run_notice(name, status, description, failed_state)
    notifier.publish(subject, message)
    return subject


def notify_cleanup(execution: str, status: str, deleted: list[dict[str, str]], stopped: list[dict[str, str]],
                   *, notifier: Notifier) -> bool:
    """A notice when the cleanup after an aborted, timed-out or failed run removed something."""
    if not deleted and not stopped:
        return False
    lines = [f"- deleted {r['type']} {r['id']}" for r in deleted] + [f"- stopped {r['type']} {r['id']}" for r in stopped]
    notifier.publish(f"Cleanup after run {execution} ({status})", "\n".join([f"{execution} ended {status}.", *lines]))
    return True


def notify_janitor(deleted: list[dict[str, str]], *, notifier: Notifier) -> bool:
    """A notice when the janitor deleted deployments: each one outlived its run or its limit."""
    if not deleted:
        return False
    lines = [f"- {r['type']} {r['id']} of run {r['execution'] or '(unknown)'}: {r['reason']}" for r in deleted]
    notifier.publish(f"Janitor deleted {len(deleted)} deployment(s)", "\n".join(lines))
    return True


def notify_job_progress(
    job_name: str, job_arn: str, status: str, failure: str | None, *, stack_name: str, tags: dict[str, str],
    notifier: Notifier,
) -> bool:
    """A notice for each state change of this stack's customization jobs (Bedrock's events are
    best effort: the state machine polls anyway, so these are for people, not for control)."""
    if tags.get(TAG_STACK) != stack_name:
        return False
    run = tags.get(TAG_EXECUTION, "(unknown run)")
    detail = f": {failure}" if failure else ""
    notifier.publish(f"Job {job_name} is {status}", f"Customization job {job_arn} of run {run} is {status}{detail}.")
    return True
