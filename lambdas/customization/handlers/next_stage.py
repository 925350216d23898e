from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_store
from customization.core.experiments import next_stage
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    document = next_stage(state, store=get_store())
    logger.info("stage trained", stages_trained=len(document["experiment"]["results"]), next=document["experiment"]["next"])
    return document
