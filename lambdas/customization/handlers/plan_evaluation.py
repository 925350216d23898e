from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_store
from customization.evaluation.plan import plan_evaluation
from customization.models.steps import StepInput
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    plan = plan_evaluation(StepInput.model_validate(event).run, store=get_store())
    logger.info("evaluation planned", samples=plan.samples, shards=len(plan.shards), sharded=plan.sharded)
    return plan.model_dump(mode="json")
