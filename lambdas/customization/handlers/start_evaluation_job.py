from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger, get_store
from customization.evaluation.second_engine import start_evaluation_job
from customization.models.steps import StepInput
from customization.observability import logger, tracer
from customization.settings import get_settings


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    job = start_evaluation_job(
        state.run, state.require_deployment(), role_arn=get_settings().BEDROCK_ROLE_ARN, bedrock=get_bedrock(),
        ledger=get_ledger(), store=get_store(),
    )
    logger.info("bedrock evaluation job", requested=job.requested, arn=job.arn)
    return job.model_dump(mode="json")
