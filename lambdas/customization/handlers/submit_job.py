from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger, get_store
from customization.core.jobs import submit_job
from customization.models.resources import JobNetwork
from customization.models.steps import StepInput
from customization.observability import logger, metrics, tracer
from customization.settings import get_settings


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    settings = get_settings()
    job = submit_job(state.active_run(), role_arn=settings.BEDROCK_ROLE_ARN, bedrock=get_bedrock(), ledger=get_ledger(),
                     store=get_store(), custom_model_key=settings.DATA_KEY_ARN,
                     network=JobNetwork(settings.job_subnets, settings.job_security_groups) if settings.job_subnets else None)
    logger.info("customization job submitted", job_arn=job.job_arn)
    metrics.add_metric(name="JobsSubmitted", unit=MetricUnit.Count, value=1)
    return job.model_dump(mode="json")
