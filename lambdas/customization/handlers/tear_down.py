from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger
from customization.core.teardown import tear_down
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = tear_down(StepInput.model_validate(event), ledger=get_ledger(), bedrock=get_bedrock())
    logger.info("tear down finished", deleted=outcome.deleted, stopped=outcome.stopped, retained=outcome.retained)
    metrics.add_metric(name="DeploymentHours", unit=MetricUnit.Count, value=outcome.deployment_hours)
    return outcome.model_dump(mode="json")
