from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_model_versions, get_store
from customization.core.versions import register_version
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    outcome = register_version(state, store=get_store(), versions=get_model_versions(), now=datetime.now(UTC))
    logger.info("model version", registered=outcome.registered, why=outcome.why)
    metrics.add_metric(name="VersionsRegistered", unit=MetricUnit.Count, value=int(outcome.registered))
    return outcome.model_dump(mode="json")
