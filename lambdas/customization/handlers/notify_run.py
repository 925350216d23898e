"""EventBridge target: an execution ended; tell the people who run the pipeline."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_executions, get_notifier
from customization.core.notify import notify_run_end
from customization.models.events import ExecutionStatusChange
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="detail.executionArn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = ExecutionStatusChange.model_validate(event)
    subject = notify_run_end(change.detail.execution_arn, change.detail.name, change.detail.status,
                             executions=get_executions(), notifier=get_notifier())
    logger.info("run notice sent", subject=subject)
    return {"subject": subject}
