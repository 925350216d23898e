"""EventBridge target: an execution of the state machine ended ABORTED, TIMED_OUT or FAILED.
Such an execution may not have run Tear Down (no Catch runs on those paths), so the same
cleanup runs again from the ledger; on a run Tear Down already cleaned, it finds nothing."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger, get_notifier
from customization.core.notify import notify_cleanup
from customization.core.teardown import clean_up_after
from customization.models.events import ExecutionStatusChange
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="detail.executionArn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = ExecutionStatusChange.model_validate(event)
    outcome = clean_up_after(change.detail.name, ledger=get_ledger(), bedrock=get_bedrock())
    if outcome is not None:
        notify_cleanup(change.detail.name, change.detail.status, outcome.deleted, outcome.stopped, notifier=get_notifier())
    logger.info("cleanup after execution ended", status=change.detail.status,
                deleted=outcome.deleted if outcome else [], stopped=outcome.stopped if outcome else [])
    return {"execution": change.detail.name, "status": change.detail.status,
            "cleanup": outcome.model_dump(mode="json") if outcome else None}
