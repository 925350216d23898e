from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_store
from customization.evaluation.report import report_evaluation
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer
from customization.settings import get_settings


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    summary = report_evaluation(
        state.run, state.require_deployment(), state.job, store=get_store(), now=datetime.now(UTC),
        simulated=get_settings().SIMULATED_BEDROCK, evaluation_job=state.evaluation_job, experiment=state.experiment,
    )
    logger.info("evaluation reported", promoted=summary.promoted, why=summary.why)
    metrics.add_metric(name="RunsPromoted", unit=MetricUnit.Count, value=int(summary.promoted))
    return summary.model_dump(mode="json")
