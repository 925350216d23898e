"""The janitor: a scheduled sweep that deletes this stack's deployments whose run is no
longer running, or whose time limit has passed. It never touches a resource without this
stack's tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from customization.errors import ResourceNotFoundError
from customization.vocabulary import EXPIRY_FORMAT, TAG_EXECUTION, TAG_EXPIRES, TAG_STACK, ResourceKind

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.executions import Executions
    from customization.adapters.ledger import RunLedger


@dataclass
class SweepReport:
    deleted: list[dict[str, str]] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)
    untouched_foreign: int = 0


def _expired(tags: dict[str, str], now: datetime) -> bool:
    stamp = tags.get(TAG_EXPIRES)
    if not stamp:
        return False
    try:
        deadline = datetime.strptime(stamp, EXPIRY_FORMAT).replace(tzinfo=now.tzinfo)
    except ValueError:
        return False
    return now >= deadline


def sweep(
    *, stack_name: str, bedrock: BedrockControl, executions: Executions, ledger: RunLedger, now: datetime
) -> SweepReport:
    report = SweepReport()
    for serving in bedrock.list_serving():
        tags = bedrock.tags(serving.arn)
        if tags.get(TAG_STACK) != stack_name:
            report.untouched_foreign += 1
            continue
        execution = tags.get(TAG_EXECUTION, "")
        status = executions.status(execution) if execution else None
        item = {"type": serving.kind, "id": serving.name, "execution": execution}
        if status == "RUNNING" and not _expired(tags, now):
            report.kept.append(item)
            continue
        reason = "its time limit passed" if status == "RUNNING" else f"its run is {status or 'unknown'}"
        try:
            if serving.kind == ResourceKind.PROVISIONED_THROUGHPUT:
                bedrock.delete_provisioned_throughput(serving.arn)
            else:
                bedrock.delete_deployment(serving.arn)
        except ResourceNotFoundError:
            continue
        if execution:
            ledger.mark(execution, serving.kind, serving.name, "deleted", serving.arn)
        report.deleted.append({**item, "reason": reason})
    return report
