"""EventBridge target: a request file was written under requests/ in the pipeline bucket."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_executions, get_notifier, get_store
from customization.core.triggers import start_from_request_file
from customization.models.events import ObjectCreated
from customization.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    created = ObjectCreated.model_validate(event)
    outcome = start_from_request_file(
        created.detail.bucket.name, created.detail.object.key, created.detail.object.version_id,
        store=get_store(), executions=get_executions(), notifier=get_notifier(),
    )
    logger.info("request file", key=outcome.key, execution=outcome.execution_name, started=outcome.started,
                duplicate=outcome.duplicate, rejected=outcome.rejected)
    return {"key": outcome.key, "execution_name": outcome.execution_name, "started": outcome.started,
            "duplicate": outcome.duplicate, "rejected": outcome.rejected, "execution_arn": outcome.execution_arn}
