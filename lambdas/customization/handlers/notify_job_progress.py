"""EventBridge target: Bedrock reports a customization job's state change."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_notifier
from customization.core.notify import notify_job_progress
from customization.models.events import JobStateChange
from customization.observability import logger, tracer
from customization.settings import get_settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = JobStateChange.model_validate(event).detail
    sent = notify_job_progress(
        change.job_name, change.job_arn, change.job_status, change.failure_message,
        stack_name=get_settings().STACK_NAME, tags=get_bedrock().tags(change.job_arn), notifier=get_notifier(),
    )
    logger.info("job progress", job=change.job_name, status=change.job_status, notified=sent)
    return {"job": change.job_name, "status": change.job_status, "notified": sent}
