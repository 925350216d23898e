from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock
from customization.core.deployments import check_deployment
from customization.errors import RequestInvalidError
from customization.models.steps import StepInput
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    if state.deployment is None:
        raise RequestInvalidError("Check Deployment needs the deployment that Deploy Model recorded")
    deployment = check_deployment(state.deployment, bedrock=get_bedrock())
    logger.info("deployment status", status=deployment.status, ready=deployment.ready)
    return deployment.model_dump(mode="json")
