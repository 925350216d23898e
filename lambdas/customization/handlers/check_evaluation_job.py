from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_ledger
from customization.evaluation.second_engine import check_evaluation_job
from customization.models.steps import StepInput
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    job = check_evaluation_job(state.run, state.require_evaluation_job(), bedrock=get_bedrock(), ledger=get_ledger())
    logger.info("bedrock evaluation job status", status=job.status)
    return job.model_dump(mode="json")
