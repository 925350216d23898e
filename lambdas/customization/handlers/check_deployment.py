from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock
from customization.core.deployments import check_deployment
from customization.models.steps import StepInput
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    deployment = check_deployment(state.run, state.require_deployment(), bedrock=get_bedrock(), now=datetime.now(UTC))
    logger.info("deployment status", status=deployment.status, ready=deployment.ready)
    return deployment.model_dump(mode="json")
