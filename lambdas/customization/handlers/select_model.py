from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger, get_store
from customization.core.experiments import select_model
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    document = select_model(state, bedrock=get_bedrock(), ledger=get_ledger(), store=get_store())
    experiment = document["experiment"]
    logger.info("experiment", next=experiment["next"], evaluating=experiment.get("evaluating"), selected=experiment.get("selected"))
    if experiment.get("done"):
        metrics.add_metric(name="ModelsSelected", unit=MetricUnit.Count, value=1)
    return document
