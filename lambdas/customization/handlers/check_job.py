from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger
from customization.core.jobs import check_job
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    metrics.add_metric(name="JobPolls", unit=MetricUnit.Count, value=1)
    job = check_job(state.active_run(), state.require_job(), bedrock=get_bedrock(), ledger=get_ledger(), now=datetime.now(UTC))
    logger.info("customization job status", status=job.status)
    if job.duration_minutes is not None:  # once, when the job completes
        metrics.add_metric(name="JobDurationSeconds", unit=MetricUnit.Seconds, value=job.duration_minutes * 60)
    return job.model_dump(mode="json")
